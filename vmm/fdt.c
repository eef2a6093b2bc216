// SPDX-License-Identifier: GPL-2.0
#include "fdt.h"

#include "layout.h"

#include <errno.h>
#include <libfdt.h>
#include <stdio.h>

/* Helpers return libfdt error codes; fdt_build() turns them into errno. */
#define TRY(x)                      \
	do {                        \
		int __r = (x);      \
		if (__r < 0)        \
			return __r; \
	} while (0)

static int prop_reg(void *fdt, const uint64_t *pairs, int n)
{
	fdt64_t cells[8];

	for (int i = 0; i < n * 2; i++)
		cells[i] = cpu_to_fdt64(pairs[i]);
	return fdt_property(fdt, "reg", cells, n * 2 * sizeof(fdt64_t));
}

static int prop_irqs(void *fdt, const uint32_t *triples, int n)
{
	fdt32_t cells[12];

	for (int i = 0; i < n * 3; i++)
		cells[i] = cpu_to_fdt32(triples[i]);
	return fdt_property(fdt, "interrupts", cells, n * 3 * sizeof(fdt32_t));
}

static int add_cpus(void *fdt, const struct fdt_params *p)
{
	char name[32];

	TRY(fdt_begin_node(fdt, "cpus"));
	TRY(fdt_property_u32(fdt, "#address-cells", 2));
	TRY(fdt_property_u32(fdt, "#size-cells", 0));
	for (unsigned int i = 0; i < p->ncpus; i++) {
		/* reg: Aff3 in the high cell, Aff2..Aff0 in the low one. */
		uint64_t mpidr = p->mpidr[i];
		uint64_t reg =
			((mpidr >> 32) & 0xff) << 32 | (mpidr & 0xffffff);

		snprintf(name, sizeof(name), "cpu@%llx",
			 (unsigned long long)reg);
		TRY(fdt_begin_node(fdt, name));
		TRY(fdt_property_string(fdt, "device_type", "cpu"));
		TRY(fdt_property_string(fdt, "compatible", "arm,armv8"));
		TRY(fdt_property_string(fdt, "enable-method", "psci"));
		TRY(fdt_property_u64(fdt, "reg", reg));
		TRY(fdt_end_node(fdt));
	}
	return fdt_end_node(fdt);
}

static int add_gic(void *fdt, const struct fdt_params *p)
{
	const uint64_t gic_reg[] = { p->gicd_base, p->gicd_size, p->gicr_base,
				     p->gicr_size };
	const uint64_t its_reg[] = { p->its_base, p->its_size };
	char name[48];

	snprintf(name, sizeof(name), "intc@%llx",
		 (unsigned long long)p->gicd_base);
	TRY(fdt_begin_node(fdt, name));
	TRY(fdt_property_string(fdt, "compatible", "arm,gic-v3"));
	TRY(fdt_property_u32(fdt, "#interrupt-cells", 3));
	TRY(fdt_property(fdt, "interrupt-controller", NULL, 0));
	TRY(fdt_property_u32(fdt, "#address-cells", 2));
	TRY(fdt_property_u32(fdt, "#size-cells", 2));
	TRY(fdt_property(fdt, "ranges", NULL, 0));
	TRY(prop_reg(fdt, gic_reg, 2));
	TRY(fdt_property_u32(fdt, "phandle", FDT_PHANDLE_GIC));

	snprintf(name, sizeof(name), "msi-controller@%llx",
		 (unsigned long long)p->its_base);
	TRY(fdt_begin_node(fdt, name));
	TRY(fdt_property_string(fdt, "compatible", "arm,gic-v3-its"));
	TRY(fdt_property(fdt, "msi-controller", NULL, 0));
	TRY(fdt_property_u32(fdt, "#msi-cells", 1));
	TRY(prop_reg(fdt, its_reg, 1));
	TRY(fdt_property_u32(fdt, "phandle", FDT_PHANDLE_ITS));
	TRY(fdt_end_node(fdt));

	return fdt_end_node(fdt);
}

static int add_uart(void *fdt, const struct fdt_params *p, char *path,
		    size_t pathlen)
{
	static const char compat[] = "arm,pl011\0arm,primecell";
	static const char clock_names[] = "uartclk\0apb_pclk";
	const uint64_t reg[] = { p->uart_base, p->uart_size };
	const uint32_t irq[] = { FDT_GIC_SPI, p->uart_spi, FDT_IRQ_LEVEL_HIGH };
	const fdt32_t clocks[] = { cpu_to_fdt32(FDT_PHANDLE_APB_CLK),
				   cpu_to_fdt32(FDT_PHANDLE_APB_CLK) };

	TRY(fdt_begin_node(fdt, "apb-pclk"));
	TRY(fdt_property_string(fdt, "compatible", "fixed-clock"));
	TRY(fdt_property_u32(fdt, "#clock-cells", 0));
	TRY(fdt_property_u32(fdt, "clock-frequency", p->uart_clock_hz));
	TRY(fdt_property_string(fdt, "clock-output-names", "clk24mhz"));
	TRY(fdt_property_u32(fdt, "phandle", FDT_PHANDLE_APB_CLK));
	TRY(fdt_end_node(fdt));

	snprintf(path, pathlen, "/pl011@%llx",
		 (unsigned long long)p->uart_base);
	TRY(fdt_begin_node(fdt, path + 1));
	TRY(fdt_property(fdt, "compatible", compat, sizeof(compat)));
	TRY(prop_reg(fdt, reg, 1));
	TRY(prop_irqs(fdt, irq, 1));
	TRY(fdt_property(fdt, "clocks", clocks, sizeof(clocks)));
	TRY(fdt_property(fdt, "clock-names", clock_names, sizeof(clock_names)));
	return fdt_end_node(fdt);
}

/*
 * INTx: interrupt-map entries for slot (mod 4) x pin, swizzled as a PCI
 * bridge would: pin P of slot S is SPI base + (P - 1 + S) % 4 (Open
 * Firmware PCI binding, "interrupt-map" and "interrupt-map-mask").
 */
static int add_pci_intx(void *fdt, const struct fdt_params *p)
{
	const fdt32_t mask[] = { cpu_to_fdt32(0x1800), 0, 0, cpu_to_fdt32(7) };
	fdt32_t map[4 * 4 * 10];
	int n = 0;

	for (unsigned int slot = 0; slot < 4; slot++) {
		for (unsigned int pin = 1; pin <= 4; pin++) {
			map[n++] =
				cpu_to_fdt32(slot << 11); /* phys.hi: device */
			map[n++] = 0;
			map[n++] = 0;
			map[n++] = cpu_to_fdt32(pin);
			map[n++] = cpu_to_fdt32(FDT_PHANDLE_GIC);
			map[n++] = 0; /* GIC unit address, 2 cells */
			map[n++] = 0;
			map[n++] = cpu_to_fdt32(FDT_GIC_SPI);
			map[n++] = cpu_to_fdt32(p->pci_intx_spi_base +
						(pin - 1 + slot) % 4);
			map[n++] = cpu_to_fdt32(FDT_IRQ_LEVEL_HIGH);
		}
	}
	TRY(fdt_property_u32(fdt, "#interrupt-cells", 1));
	TRY(fdt_property(fdt, "interrupt-map-mask", mask, sizeof(mask)));
	return fdt_property(fdt, "interrupt-map", map, sizeof(map));
}

/* pci/pci-iommu.yaml: <rid-base iommu-phandle iommu-base length>... */
static int add_pci_iommu_map(void *fdt, const struct fdt_params *p)
{
	fdt32_t map[4 * FDT_IOMMU_MAP_MAX];

	if (p->viommu == FDT_VIOMMU_NONE || !p->nr_pci_iommu_map)
		return 0;
	if (p->nr_pci_iommu_map > FDT_IOMMU_MAP_MAX)
		return -FDT_ERR_BADVALUE;
	for (unsigned int i = 0; i < p->nr_pci_iommu_map; i++) {
		const struct fdt_iommu_map *m = &p->pci_iommu_map[i];

		map[4 * i] = cpu_to_fdt32(m->rid_base);
		map[4 * i + 1] = cpu_to_fdt32(FDT_PHANDLE_VIOMMU);
		map[4 * i + 2] = cpu_to_fdt32(m->id_base);
		map[4 * i + 3] = cpu_to_fdt32(m->len);
	}
	return fdt_property(fdt, "iommu-map", map,
			    p->nr_pci_iommu_map * 4 * sizeof(*map));
}

/*
 * virtio/pci-iommu.yaml: the virtio-iommu on PCI is a child of its host
 * bridge, named and addressed by device and function, so that endpoints
 * can point at it before PCI is probed.
 */
static int add_pci_viommu(void *fdt, const struct fdt_params *p)
{
	static const char compat[] = "virtio,pci-iommu\0pci1af4,1057";
	const fdt32_t reg[] = { cpu_to_fdt32(p->viommu_devfn << 8), 0, 0, 0,
				0 };
	char name[32];

	snprintf(name, sizeof(name), "iommu@%x,%x", p->viommu_devfn >> 3,
		 p->viommu_devfn & 7);
	TRY(fdt_begin_node(fdt, name));
	TRY(fdt_property(fdt, "compatible", compat, sizeof(compat)));
	TRY(fdt_property(fdt, "reg", reg, sizeof(reg)));
	TRY(fdt_property_u32(fdt, "#iommu-cells", 1));
	TRY(fdt_property_u32(fdt, "phandle", FDT_PHANDLE_VIOMMU));
	return fdt_end_node(fdt);
}

/*
 * iommu/arm,smmu-v3.yaml: edge-triggered wired interrupts for the event
 * queue and global errors (no PRI queue, no separate CMD_SYNC line), and
 * msi-parent so the driver can use MSIs instead.
 */
static int add_smmuv3(void *fdt, const struct fdt_params *p)
{
	static const char names[] = "eventq\0gerror";
	const uint64_t reg[] = { p->smmu_base, p->smmu_size };
	const uint32_t irqs[] = { FDT_GIC_SPI, p->smmu_spi_evtq,
				  FDT_IRQ_EDGE_RISING, FDT_GIC_SPI,
				  p->smmu_spi_gerror, FDT_IRQ_EDGE_RISING };
	const fdt32_t msi[] = { cpu_to_fdt32(FDT_PHANDLE_ITS),
				cpu_to_fdt32(p->smmu_msi_devid) };
	char name[48];

	snprintf(name, sizeof(name), "iommu@%llx",
		 (unsigned long long)p->smmu_base);
	TRY(fdt_begin_node(fdt, name));
	TRY(fdt_property_string(fdt, "compatible", "arm,smmu-v3"));
	TRY(prop_reg(fdt, reg, 1));
	TRY(prop_irqs(fdt, irqs, 2));
	TRY(fdt_property(fdt, "interrupt-names", names, sizeof(names)));
	TRY(fdt_property(fdt, "dma-coherent", NULL, 0));
	if (p->smmu_msi_devid)
		TRY(fdt_property(fdt, "msi-parent", msi, sizeof(msi)));
	TRY(fdt_property_u32(fdt, "#iommu-cells", 1));
	TRY(fdt_property_u32(fdt, "phandle", FDT_PHANDLE_VIOMMU));
	return fdt_end_node(fdt);
}

/*
 * The MSI window as a root-bus function addresses it for DMA, in the host
 * bridge's cells (pci/pci-bus-common.yaml: <phys.hi phys.mid phys.lo size.hi
 * size.lo>). The host bridge has no dma-ranges, so Linux's
 * of_translate_dma_address() takes mid/lo 1:1 as the IOVA; phys.hi only
 * names memory space, which any dma-ranges entry would have to match.
 */
static void msi_window_pci_cells(const struct fdt_params *p, fdt32_t c[5])
{
	uint64_t end = p->msi_window_base + p->msi_window_size;

	c[0] = cpu_to_fdt32(end <= (1ULL << 32) ? FDT_PCI_SPACE_MEM32
						: FDT_PCI_SPACE_MEM64);
	c[1] = cpu_to_fdt32(p->msi_window_base >> 32);
	c[2] = cpu_to_fdt32((uint32_t)p->msi_window_base);
	c[3] = cpu_to_fdt32(p->msi_window_size >> 32);
	c[4] = cpu_to_fdt32((uint32_t)p->msi_window_size);
}

static bool is_pci_fn_phandle(uint32_t v)
{
	return v >= FDT_PHANDLE_PCI_FN_BASE &&
	       v < FDT_PHANDLE_PCI_FN_BASE + FDT_PCI_DEVFN_MAX;
}

static int check_msi_window(const struct fdt_params *p)
{
	bool seen[FDT_PCI_DEVFN_MAX] = { false };
	uint64_t b = p->msi_window_base, s = p->msi_window_size;
	fdt32_t c[5];

	if (!p->nr_pci_msi_window)
		return 0;
	if (!p->pci_ecam_size || p->nr_pci_msi_window > FDT_PCI_DEVFN_MAX ||
	    !s || b + s < b || b % FDT_MSI_WINDOW_ALIGN ||
	    s % FDT_MSI_WINDOW_ALIGN)
		return -FDT_ERR_BADVALUE;
	for (unsigned int i = 0; i < p->nr_pci_msi_window; i++) {
		uint8_t devfn = p->pci_msi_window_devfn[i];

		/* Nor the virtio-iommu's devfn: it is not behind itself. */
		if (seen[devfn] ||
		    (p->viommu == FDT_VIOMMU_PCI && p->viommu_devfn == devfn))
			return -FDT_ERR_BADVALUE;
		seen[devfn] = true;
	}
	/*
	 * Linux (drivers/iommu/of_iommu.c, of_iommu_get_resv_regions(), 7.3)
	 * steps one cell, not one entry, past an iommu-addresses phandle that
	 * is not the device's: an address or size cell that equals a
	 * function's phandle would be taken for that function's entry.
	 */
	msi_window_pci_cells(p, c);
	for (int i = 1; i < 5; i++)
		if (is_pci_fn_phandle(fdt32_to_cpu(c[i])))
			return -FDT_ERR_BADVALUE;
	return 0;
}

/*
 * reserved-memory.yaml: one region, the MSI window, with "reg" (so Linux
 * makes it IOMMU_RESV_DIRECT: iommu_resv_region_get_type() wants the IOVA
 * range to equal reg) and one iommu-addresses entry per function. One
 * shared node rather than one per function: of_reserved_mem reports
 * overlapping regions as an error. No "no-map": the window is not RAM,
 * so there is no linear mapping to keep it out of.
 */
static int add_reserved_memory(void *fdt, const struct fdt_params *p)
{
	fdt32_t addrs[6 * FDT_PCI_DEVFN_MAX];
	const uint64_t reg[] = { p->msi_window_base, p->msi_window_size };
	fdt32_t win[5];
	char name[48];
	int n = 0;

	msi_window_pci_cells(p, win);
	for (unsigned int i = 0; i < p->nr_pci_msi_window; i++) {
		addrs[n++] = cpu_to_fdt32(
			FDT_PHANDLE_PCI_FN(p->pci_msi_window_devfn[i]));
		for (int c = 0; c < 5; c++)
			addrs[n++] = win[c];
	}

	/* of_reserved_mem: cells as the root's, and "ranges" present */
	TRY(fdt_begin_node(fdt, "reserved-memory"));
	TRY(fdt_property_u32(fdt, "#address-cells", 2));
	TRY(fdt_property_u32(fdt, "#size-cells", 2));
	TRY(fdt_property(fdt, "ranges", NULL, 0));
	snprintf(name, sizeof(name), "msi-window@%llx",
		 (unsigned long long)p->msi_window_base);
	TRY(fdt_begin_node(fdt, name));
	TRY(prop_reg(fdt, reg, 1));
	TRY(fdt_property(fdt, "iommu-addresses", addrs, n * sizeof(*addrs)));
	TRY(fdt_property_u32(fdt, "phandle", FDT_PHANDLE_MSI_WINDOW));
	TRY(fdt_end_node(fdt));
	return fdt_end_node(fdt);
}

/*
 * A node per function that needs the MSI window, so that Linux gives the
 * pci_dev an of_node (drivers/pci/of.c, pci_set_of_node(): matched by the
 * devfn in reg's phys.hi) from which memory-region is read. The phandle is
 * what the window's iommu-addresses entry names.
 */
static int add_pci_msi_window_users(void *fdt, const struct fdt_params *p)
{
	for (unsigned int i = 0; i < p->nr_pci_msi_window; i++) {
		uint8_t devfn = p->pci_msi_window_devfn[i];
		const fdt32_t reg[] = { cpu_to_fdt32((uint32_t)devfn << 8), 0,
					0, 0, 0 };
		char name[32];

		/* Unit address "dev" or "dev,fn" (IEEE 1275 PCI binding) */
		if (devfn & 7)
			snprintf(name, sizeof(name), "function@%x,%x",
				 devfn >> 3, devfn & 7);
		else
			snprintf(name, sizeof(name), "function@%x", devfn >> 3);
		TRY(fdt_begin_node(fdt, name));
		TRY(fdt_property(fdt, "reg", reg, sizeof(reg)));
		TRY(fdt_property_u32(fdt, "memory-region",
				     FDT_PHANDLE_MSI_WINDOW));
		TRY(fdt_property_u32(fdt, "phandle",
				     FDT_PHANDLE_PCI_FN(devfn)));
		TRY(fdt_end_node(fdt));
	}
	return 0;
}

static int add_pci(void *fdt, const struct fdt_params *p)
{
	const uint64_t reg[] = { p->pci_ecam_base, p->pci_ecam_size };
	const uint32_t bus_range[] = {
		cpu_to_fdt32(0), cpu_to_fdt32(p->pci_ecam_size / SZ_1M - 1)
	};
	/* msi-map: requester ID r -> ITS device ID r, for all 2^16 IDs. */
	const fdt32_t msi_map[] = { cpu_to_fdt32(0),
				    cpu_to_fdt32(FDT_PHANDLE_ITS),
				    cpu_to_fdt32(0), cpu_to_fdt32(0x10000) };
	fdt32_t ranges[14];
	char name[48];
	int n = 0;

	/* <pci.hi pci.mid pci.lo  cpu.hi cpu.lo  size.hi size.lo>: identity */
	ranges[n++] = cpu_to_fdt32(FDT_PCI_SPACE_MEM32);
	ranges[n++] = cpu_to_fdt32(p->pci_mmio32_base >> 32);
	ranges[n++] = cpu_to_fdt32((uint32_t)p->pci_mmio32_base);
	ranges[n++] = cpu_to_fdt32(p->pci_mmio32_base >> 32);
	ranges[n++] = cpu_to_fdt32((uint32_t)p->pci_mmio32_base);
	ranges[n++] = cpu_to_fdt32(p->pci_mmio32_size >> 32);
	ranges[n++] = cpu_to_fdt32((uint32_t)p->pci_mmio32_size);
	if (p->pci_mmio64_size) {
		ranges[n++] = cpu_to_fdt32(FDT_PCI_SPACE_MEM64);
		ranges[n++] = cpu_to_fdt32(p->pci_mmio64_base >> 32);
		ranges[n++] = cpu_to_fdt32((uint32_t)p->pci_mmio64_base);
		ranges[n++] = cpu_to_fdt32(p->pci_mmio64_base >> 32);
		ranges[n++] = cpu_to_fdt32((uint32_t)p->pci_mmio64_base);
		ranges[n++] = cpu_to_fdt32(p->pci_mmio64_size >> 32);
		ranges[n++] = cpu_to_fdt32((uint32_t)p->pci_mmio64_size);
	}

	snprintf(name, sizeof(name), "pcie@%llx",
		 (unsigned long long)p->pci_ecam_base);
	TRY(fdt_begin_node(fdt, name));
	TRY(fdt_property_string(fdt, "compatible", "pci-host-ecam-generic"));
	TRY(fdt_property_string(fdt, "device_type", "pci"));
	TRY(prop_reg(fdt, reg, 1));
	TRY(fdt_property(fdt, "bus-range", bus_range, sizeof(bus_range)));
	TRY(fdt_property_u32(fdt, "#address-cells", 3));
	TRY(fdt_property_u32(fdt, "#size-cells", 2));
	TRY(fdt_property(fdt, "ranges", ranges, n * sizeof(fdt32_t)));
	TRY(fdt_property(fdt, "msi-map", msi_map, sizeof(msi_map)));
	TRY(add_pci_iommu_map(fdt, p));
	TRY(add_pci_intx(fdt, p));
	TRY(fdt_property(fdt, "dma-coherent", NULL, 0));
	TRY(fdt_property_u32(fdt, "linux,pci-domain", 0));
	if (p->viommu == FDT_VIOMMU_PCI)
		TRY(add_pci_viommu(fdt, p));
	TRY(add_pci_msi_window_users(fdt, p));
	return fdt_end_node(fdt);
}

static int add_virtio_mmio(void *fdt, const struct fdt_mmio_dev *d,
			   bool is_viommu)
{
	const uint64_t reg[] = { d->base, d->size };
	const uint32_t irq[] = { FDT_GIC_SPI, d->spi, FDT_IRQ_LEVEL_HIGH };
	char name[48];

	snprintf(name, sizeof(name), "virtio_mmio@%llx",
		 (unsigned long long)d->base);
	TRY(fdt_begin_node(fdt, name));
	TRY(fdt_property_string(fdt, "compatible", "virtio,mmio"));
	TRY(prop_reg(fdt, reg, 1));
	TRY(prop_irqs(fdt, irq, 1));
	TRY(fdt_property(fdt, "dma-coherent", NULL, 0));
	/* virtio/mmio.yaml */
	if (is_viommu) {
		TRY(fdt_property_u32(fdt, "#iommu-cells", 1));
		TRY(fdt_property_u32(fdt, "phandle", FDT_PHANDLE_VIOMMU));
	} else if (d->iommu) {
		const fdt32_t iommus[] = { cpu_to_fdt32(FDT_PHANDLE_VIOMMU),
					   cpu_to_fdt32(d->iommu_id) };

		TRY(fdt_property(fdt, "iommus", iommus, sizeof(iommus)));
	}
	return fdt_end_node(fdt);
}

static int add_chosen(void *fdt, const struct fdt_params *p,
		      const char *stdout_path)
{
	TRY(fdt_begin_node(fdt, "chosen"));
	TRY(fdt_property_string(fdt, "bootargs",
				p->bootargs ? p->bootargs : ""));
	TRY(fdt_property_string(fdt, "stdout-path", stdout_path));
	if (p->initrd_end > p->initrd_start) {
		TRY(fdt_property_u64(fdt, "linux,initrd-start",
				     p->initrd_start));
		TRY(fdt_property_u64(fdt, "linux,initrd-end", p->initrd_end));
	}
	if (p->rng_seed_len)
		TRY(fdt_property(fdt, "rng-seed", p->rng_seed,
				 p->rng_seed_len));
	return fdt_end_node(fdt);
}

static int build_tree(const struct fdt_params *p, void *buf, size_t bufsize)
{
	static const char psci_compat[] = "arm,psci-1.0\0arm,psci-0.2";
	const uint32_t timer_irqs[] = {
		FDT_GIC_PPI, FDT_PPI_TIMER_SEC_PHYS, FDT_IRQ_LEVEL_HIGH,
		FDT_GIC_PPI, FDT_PPI_TIMER_PHYS,     FDT_IRQ_LEVEL_HIGH,
		FDT_GIC_PPI, FDT_PPI_TIMER_VIRT,     FDT_IRQ_LEVEL_HIGH,
		FDT_GIC_PPI, FDT_PPI_TIMER_HYP,	     FDT_IRQ_LEVEL_HIGH,
	};
	const uint32_t pmu_irq[] = { FDT_GIC_PPI, FDT_PPI_PMU,
				     FDT_IRQ_LEVEL_HIGH };
	const uint64_t mem_reg[] = { p->ram_base, p->ram_size };
	char uart_path[48], mem_name[48];

	TRY(fdt_create(buf, bufsize));
	TRY(fdt_finish_reservemap(buf));
	TRY(fdt_begin_node(buf, ""));
	TRY(fdt_property_string(buf, "compatible", "linux,dummy-virt"));
	TRY(fdt_property_string(buf, "model", "nestbox"));
	TRY(fdt_property_u32(buf, "#address-cells", 2));
	TRY(fdt_property_u32(buf, "#size-cells", 2));
	TRY(fdt_property_u32(buf, "interrupt-parent", FDT_PHANDLE_GIC));

	TRY(add_cpus(buf, p));

	snprintf(mem_name, sizeof(mem_name), "memory@%llx",
		 (unsigned long long)p->ram_base);
	TRY(fdt_begin_node(buf, mem_name));
	TRY(fdt_property_string(buf, "device_type", "memory"));
	TRY(prop_reg(buf, mem_reg, 1));
	TRY(fdt_end_node(buf));

	if (p->nr_pci_msi_window)
		TRY(add_reserved_memory(buf, p));

	TRY(fdt_begin_node(buf, "psci"));
	TRY(fdt_property(buf, "compatible", psci_compat, sizeof(psci_compat)));
	TRY(fdt_property_string(buf, "method", "hvc"));
	TRY(fdt_end_node(buf));

	TRY(add_gic(buf, p));

	TRY(fdt_begin_node(buf, "timer"));
	TRY(fdt_property_string(buf, "compatible", "arm,armv8-timer"));
	TRY(prop_irqs(buf, timer_irqs, 4));
	TRY(fdt_property(buf, "always-on", NULL, 0));
	TRY(fdt_end_node(buf));

	if (p->pmu) {
		TRY(fdt_begin_node(buf, "pmu"));
		TRY(fdt_property_string(buf, "compatible", "arm,armv8-pmuv3"));
		TRY(prop_irqs(buf, pmu_irq, 1));
		TRY(fdt_end_node(buf));
	}

	TRY(add_uart(buf, p, uart_path, sizeof(uart_path)));
	if (p->viommu == FDT_VIOMMU_SMMUV3)
		TRY(add_smmuv3(buf, p));

	if (p->pci_ecam_size)
		TRY(add_pci(buf, p));
	for (unsigned int i = 0; i < p->nr_virtio_mmio; i++)
		TRY(add_virtio_mmio(buf, &p->virtio_mmio[i],
				    p->viommu == FDT_VIOMMU_MMIO &&
					    p->viommu_mmio == i));

	TRY(fdt_begin_node(buf, "aliases"));
	TRY(fdt_property_string(buf, "serial0", uart_path));
	TRY(fdt_end_node(buf));

	TRY(add_chosen(buf, p, uart_path));

	TRY(fdt_end_node(buf));
	return fdt_finish(buf);
}

int fdt_build(const struct fdt_params *p, void *buf, size_t bufsize)
{
	int r;

	if (!p->ncpus || !p->mpidr || check_msi_window(p))
		return -EINVAL;
	r = build_tree(p, buf, bufsize);
	if (r < 0)
		return r == -FDT_ERR_NOSPACE ? -ENOSPC : -EINVAL;
	return (int)fdt_totalsize(buf);
}
