// SPDX-License-Identifier: GPL-2.0
/* Build the guest device tree, parse it back with libfdt, check each node. */
#include <criterion/criterion.h>
#include <errno.h>
#include <libfdt.h>
#include <stdio.h>
#include <string.h>

#include "vmm/fdt.h"
#include "vmm/layout.h"

static uint8_t blob[64 * 1024];
static const uint64_t mpidrs[4] = { 0x80000000, 0x80000001, 0x80000002,
				    0x80000003 };
static const uint8_t seed[64] = { 1, 2, 3 };

static struct fdt_params params(unsigned int ncpus)
{
	return (struct fdt_params){
		.ram_base = LAYOUT_RAM_BASE,
		.ram_size = 512ULL << 20,
		.ncpus = ncpus,
		.mpidr = mpidrs,
		.gicd_base = LAYOUT_GICD_BASE,
		.gicd_size = LAYOUT_GICD_SIZE,
		.gicr_base = LAYOUT_GICR_BASE,
		.gicr_size = ncpus * LAYOUT_GICR_STRIDE,
		.its_base = LAYOUT_GITS_BASE,
		.its_size = LAYOUT_GITS_SIZE,
		.uart_base = LAYOUT_UART_BASE,
		.uart_size = LAYOUT_UART_SIZE,
		.uart_spi = LAYOUT_UART_SPI,
		.uart_clock_hz = 24000000,
		.pmu = true,
		.bootargs = "console=ttyAMA0 quiet",
		.initrd_start = 0x9f000000,
		.initrd_end = 0x9f400000,
		.rng_seed = seed,
		.rng_seed_len = sizeof(seed),
	};
}

static int node(const char *path)
{
	int off = fdt_path_offset(blob, path);

	cr_assert_geq(off, 0, "node %s missing (%s)", path, fdt_strerror(off));
	return off;
}

static const void *prop(int off, const char *name, int *len)
{
	const void *p = fdt_getprop(blob, off, name, len);

	cr_assert_not_null(p, "property %s missing", name);
	return p;
}

/* Properties are only 4-byte aligned inside the blob. */
static uint32_t u32_at(const void *p, int i)
{
	fdt32_t v;

	memcpy(&v, (const uint8_t *)p + 4 * i, sizeof(v));
	return fdt32_to_cpu(v);
}

static uint64_t u64_at(const void *p, int i)
{
	fdt64_t v;

	memcpy(&v, (const uint8_t *)p + 8 * i, sizeof(v));
	return fdt64_to_cpu(v);
}

static bool compatible(int off, const char *c)
{
	return fdt_node_check_compatible(blob, off, c) == 0;
}

static void n_subnodes_is(int parent, int want)
{
	int off, n = 0;

	fdt_for_each_subnode (off, blob, parent)
		n++;
	cr_assert_eq(n, want);
}

static void build(const struct fdt_params *p)
{
	int r = fdt_build(p, blob, sizeof(blob));

	cr_assert_gt(r, 0, "fdt_build: %d", r);
	cr_assert_eq(fdt_check_header(blob), 0);
	cr_assert_eq((int)fdt_totalsize(blob), r);
}

static void with_pci(struct fdt_params *p)
{
	p->pci_ecam_base = LAYOUT_PCI_ECAM_BASE;
	p->pci_ecam_size = LAYOUT_PCI_ECAM_SIZE;
	p->pci_mmio32_base = LAYOUT_PCI_MMIO32_BASE;
	p->pci_mmio32_size = LAYOUT_PCI_MMIO32_SIZE;
}

static void with_msi_window(struct fdt_params *p, const uint8_t *devfn,
			    unsigned int n)
{
	with_pci(p);
	p->viommu = FDT_VIOMMU_SMMUV3;
	p->pci_msi_window_devfn = devfn;
	p->nr_pci_msi_window = n;
	p->msi_window_base = LAYOUT_MSI_HOLE_BASE;
	p->msi_window_size = LAYOUT_MSI_HOLE_SIZE;
}

Test(fdt, root_and_memory)
{
	struct fdt_params p = params(1);
	const void *v;
	int len, off;

	build(&p);
	off = node("/");
	cr_assert(compatible(off, "linux,dummy-virt"));
	cr_assert_eq(u32_at(prop(off, "#address-cells", &len), 0), 2);
	cr_assert_eq(u32_at(prop(off, "#size-cells", &len), 0), 2);
	cr_assert_eq(u32_at(prop(off, "interrupt-parent", &len), 0),
		     FDT_PHANDLE_GIC);

	off = node("/memory@80000000");
	cr_assert_str_eq(prop(off, "device_type", &len), "memory");
	v = prop(off, "reg", &len);
	cr_assert_eq(len, 16);
	cr_assert_eq(u64_at(v, 0), LAYOUT_RAM_BASE);
	cr_assert_eq(u64_at(v, 1), 512ULL << 20);
}

Test(fdt, one_cpu_node_per_vcpu_with_mpidr)
{
	struct fdt_params p = params(4);
	char path[32];
	int len, off, n = 0;

	build(&p);
	off = node("/cpus");
	cr_assert_eq(u32_at(prop(off, "#address-cells", &len), 0), 2);
	cr_assert_eq(u32_at(prop(off, "#size-cells", &len), 0), 0);
	fdt_for_each_subnode (off, blob, node("/cpus"))
		n++;
	cr_assert_eq(n, 4);
	for (int i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "/cpus/cpu@%d", i);
		off = node(path);
		cr_assert_str_eq(prop(off, "device_type", &len), "cpu");
		cr_assert_str_eq(prop(off, "enable-method", &len), "psci");
		cr_assert(compatible(off, "arm,armv8"));
		cr_assert_eq(u64_at(prop(off, "reg", &len), 0), (uint64_t)i,
			     "reg is the MPIDR affinity, without bit 31");
	}
}

Test(fdt, psci_uses_hvc)
{
	struct fdt_params p = params(1);
	int len, off;

	build(&p);
	off = node("/psci");
	cr_assert(compatible(off, "arm,psci-0.2"));
	cr_assert(compatible(off, "arm,psci-1.0"));
	cr_assert_str_eq(prop(off, "method", &len), "hvc");
}

Test(fdt, gic_and_its)
{
	struct fdt_params p = params(2);
	const void *v;
	int len, off;

	build(&p);
	off = node("/intc@a000000");
	cr_assert(compatible(off, "arm,gic-v3"));
	prop(off, "interrupt-controller", &len);
	cr_assert_eq(len, 0);
	cr_assert_eq(u32_at(prop(off, "#interrupt-cells", &len), 0), 3);
	cr_assert_eq(fdt_get_phandle(blob, off), FDT_PHANDLE_GIC);
	v = prop(off, "reg", &len);
	cr_assert_eq(len, 32);
	cr_assert_eq(u64_at(v, 0), LAYOUT_GICD_BASE);
	cr_assert_eq(u64_at(v, 1), LAYOUT_GICD_SIZE);
	cr_assert_eq(u64_at(v, 2), LAYOUT_GICR_BASE);
	cr_assert_eq(u64_at(v, 3), 2 * LAYOUT_GICR_STRIDE);

	off = node("/intc@a000000/msi-controller@a010000");
	cr_assert(compatible(off, "arm,gic-v3-its"));
	prop(off, "msi-controller", &len);
	cr_assert_eq(u32_at(prop(off, "#msi-cells", &len), 0), 1);
	cr_assert_eq(fdt_get_phandle(blob, off), FDT_PHANDLE_ITS);
	v = prop(off, "reg", &len);
	cr_assert_eq(u64_at(v, 0), LAYOUT_GITS_BASE);
	cr_assert_eq(u64_at(v, 1), LAYOUT_GITS_SIZE);
}

Test(fdt, timer_and_pmu_ppis)
{
	struct fdt_params p = params(1);
	const void *v;
	int len, off;

	build(&p);
	off = node("/timer");
	cr_assert(compatible(off, "arm,armv8-timer"));
	v = prop(off, "interrupts", &len);
	cr_assert_eq(len, 4 * 12);
	cr_assert_eq(u32_at(v, 0), FDT_GIC_PPI);
	cr_assert_eq(u32_at(v, 1), 13);
	cr_assert_eq(u32_at(v, 4), 14);
	cr_assert_eq(u32_at(v, 7), 11);
	cr_assert_eq(u32_at(v, 10), 10);

	off = node("/pmu");
	cr_assert(compatible(off, "arm,armv8-pmuv3"));
	v = prop(off, "interrupts", &len);
	cr_assert_eq(u32_at(v, 1), FDT_PPI_PMU);

	p.pmu = false;
	build(&p);
	cr_assert_lt(fdt_path_offset(blob, "/pmu"), 0,
		     "no PMU node without a PMU");
}

Test(fdt, uart_is_a_primecell_with_clocks)
{
	struct fdt_params p = params(1);
	const void *v;
	int len, off, clk;

	build(&p);
	off = node("/pl011@9000000");
	cr_assert(compatible(off, "arm,pl011"));
	cr_assert(compatible(off, "arm,primecell"));
	v = prop(off, "reg", &len);
	cr_assert_eq(u64_at(v, 0), LAYOUT_UART_BASE);
	v = prop(off, "interrupts", &len);
	cr_assert_eq(len, 12);
	cr_assert_eq(u32_at(v, 0), FDT_GIC_SPI);
	cr_assert_eq(u32_at(v, 1), LAYOUT_UART_SPI);
	cr_assert_eq(u32_at(v, 2), FDT_IRQ_LEVEL_HIGH);
	v = prop(off, "clocks", &len);
	cr_assert_eq(len, 8);
	clk = fdt_node_offset_by_phandle(blob, u32_at(v, 0));
	cr_assert_geq(clk, 0);
	cr_assert(fdt_node_check_compatible(blob, clk, "fixed-clock") == 0);
	cr_assert_eq(u32_at(prop(clk, "clock-frequency", &len), 0), 24000000);
	cr_assert_eq(
		fdt_stringlist_search(blob, off, "clock-names", "apb_pclk"), 1);

	off = node("/aliases");
	cr_assert_str_eq(prop(off, "serial0", &len), "/pl011@9000000");
}

Test(fdt, chosen_carries_bootargs_initrd_and_seed)
{
	struct fdt_params p = params(1);
	int len, off;

	build(&p);
	off = node("/chosen");
	cr_assert_str_eq(prop(off, "bootargs", &len), "console=ttyAMA0 quiet");
	cr_assert_str_eq(prop(off, "stdout-path", &len), "/pl011@9000000");
	cr_assert_eq(u64_at(prop(off, "linux,initrd-start", &len), 0),
		     0x9f000000);
	cr_assert_eq(u64_at(prop(off, "linux,initrd-end", &len), 0),
		     0x9f400000);
	prop(off, "rng-seed", &len);
	cr_assert_eq(len, 64);

	p.initrd_start = p.initrd_end = 0;
	build(&p);
	cr_assert_null(
		fdt_getprop(blob, node("/chosen"), "linux,initrd-start", &len));
}

Test(fdt, nothing_in_the_msi_hole)
{
	struct fdt_params p = params(4);
	const uint8_t devfn[1] = { 1 << 3 };
	int off, len;

	/* Its reserved-memory description is the one reg allowed there. */
	with_msi_window(&p, devfn, 1);
	build(&p);
	/* DESIGN.md: 0x08000000-0x080fffff stays empty. */
	for (off = fdt_next_node(blob, -1, NULL); off >= 0;
	     off = fdt_next_node(blob, off, NULL)) {
		const void *reg = fdt_getprop(blob, off, "reg", &len);
		int parent = fdt_parent_offset(blob, off);

		if (!reg || len < 16 ||
		    (parent >= 0 && (parent == node("/cpus") ||
				     parent == node("/reserved-memory") ||
				     parent == node("/pcie@30000000"))))
			continue;
		for (int i = 0; i + 16 <= len; i += 16) {
			uint64_t b = u64_at(reg, i / 8),
				 s = u64_at(reg, i / 8 + 1);

			cr_assert(b + s <= LAYOUT_MSI_HOLE_BASE ||
					  b >= LAYOUT_MSI_HOLE_BASE +
							  LAYOUT_MSI_HOLE_SIZE,
				  "%s overlaps the MSI hole",
				  fdt_get_name(blob, off, NULL));
		}
	}
}

Test(fdt, too_small_buffer_fails_cleanly)
{
	struct fdt_params p = params(4);

	cr_assert_eq(fdt_build(&p, blob, 256), -ENOSPC);
	p.ncpus = 0;
	cr_assert_eq(fdt_build(&p, blob, sizeof(blob)), -EINVAL);
}

Test(fdt, pcie_host_bridge_and_virtio_mmio)
{
	struct fdt_params p = params(1);
	const struct fdt_mmio_dev mm[2] = { { .base = 0x0b000000,
					      .size = 0x200,
					      .spi = 16 },
					    { .base = 0x0b000200,
					      .size = 0x200,
					      .spi = 17 } };
	const void *v;
	int len, off;

	p.pci_ecam_base = LAYOUT_PCI_ECAM_BASE;
	p.pci_ecam_size = LAYOUT_PCI_ECAM_SIZE;
	p.pci_mmio32_base = LAYOUT_PCI_MMIO32_BASE;
	p.pci_mmio32_size = LAYOUT_PCI_MMIO32_SIZE;
	p.pci_mmio64_base = 0x4000000000ULL;
	p.pci_mmio64_size = LAYOUT_PCI_MMIO64_SIZE;
	p.pci_intx_spi_base = 64;
	p.nr_virtio_mmio = 2;
	p.virtio_mmio = mm;
	build(&p);

	off = node("/pcie@30000000");
	cr_assert(compatible(off, "pci-host-ecam-generic"));
	cr_assert_str_eq(prop(off, "device_type", &len), "pci");
	v = prop(off, "bus-range", &len);
	cr_assert_eq(u32_at(v, 0), 0);
	cr_assert_eq(u32_at(v, 1), 255);
	cr_assert_eq(u32_at(prop(off, "#address-cells", &len), 0), 3);
	v = prop(off, "ranges", &len);
	cr_assert_eq(len, 2 * 7 * 4);
	cr_assert_eq(u32_at(v, 0), FDT_PCI_SPACE_MEM32);
	cr_assert_eq(u32_at(v, 2), LAYOUT_PCI_MMIO32_BASE);
	cr_assert_eq(u32_at(v, 4), LAYOUT_PCI_MMIO32_BASE, "identity mapped");
	cr_assert_eq(u32_at(v, 6), LAYOUT_PCI_MMIO32_SIZE);
	cr_assert_eq(u32_at(v, 7), FDT_PCI_SPACE_MEM64);
	cr_assert_eq(u32_at(v, 8), 0x40);
	cr_assert_eq(u32_at(v, 12), LAYOUT_PCI_MMIO64_SIZE >> 32);
	v = prop(off, "msi-map", &len);
	cr_assert_eq(len, 16);
	cr_assert_eq(u32_at(v, 1), FDT_PHANDLE_ITS, "MSIs go to the ITS");
	cr_assert_eq(u32_at(v, 3), 0x10000, "all requester IDs");

	/* INTx: 4 slots x 4 pins, swizzled; pin 2 of slot 3 -> SPI base + 0 */
	cr_assert_eq(u32_at(prop(off, "#interrupt-cells", &len), 0), 1);
	v = prop(off, "interrupt-map", &len);
	cr_assert_eq(len, 16 * 10 * 4);
	cr_assert_eq(u32_at(v, (3 * 4 + 1) * 10 + 0), 3 << 11);
	cr_assert_eq(u32_at(v, (3 * 4 + 1) * 10 + 3), 2);
	cr_assert_eq(u32_at(v, (3 * 4 + 1) * 10 + 4), FDT_PHANDLE_GIC);
	cr_assert_eq(u32_at(v, (3 * 4 + 1) * 10 + 8), 64 + 0);
	v = prop(off, "interrupt-map-mask", &len);
	cr_assert_eq(u32_at(v, 0), 0x1800);
	cr_assert_eq(u32_at(v, 3), 7);

	off = node("/virtio_mmio@b000200");
	cr_assert(compatible(off, "virtio,mmio"));
	v = prop(off, "interrupts", &len);
	cr_assert_eq(u32_at(v, 0), FDT_GIC_SPI);
	cr_assert_eq(u32_at(v, 1), 17);
	v = prop(off, "reg", &len);
	cr_assert_eq(u64_at(v, 1), 0x200);
}

Test(fdt, virtio_iommu_on_pci_is_a_child_of_the_host_bridge)
{
	struct fdt_params p = params(1);
	/* IOMMU at 00:01.0 (RID 8) left out of the map */
	const struct fdt_iommu_map map[2] = { { 0, 0, 8 },
					      { 9, 9, 0x10000 - 9 } };
	const struct fdt_mmio_dev mm[1] = { { .base = 0x0b000000,
					      .size = 0x200,
					      .spi = 16,
					      .iommu = true,
					      .iommu_id = 0x10000 } };
	const void *v;
	int len, off;

	with_pci(&p);
	p.viommu = FDT_VIOMMU_PCI;
	p.viommu_devfn = 1 << 3;
	p.pci_iommu_map = map;
	p.nr_pci_iommu_map = 2;
	p.nr_virtio_mmio = 1;
	p.virtio_mmio = mm;
	build(&p);

	off = node("/pcie@30000000/iommu@1,0");
	cr_assert(compatible(off, "virtio,pci-iommu"));
	cr_assert(compatible(off, "pci1af4,1057"));
	v = prop(off, "reg", &len);
	cr_assert_eq(len, 5 * 4);
	cr_assert_eq(u32_at(v, 0), 0x0800, "bus 0, device 1, function 0");
	cr_assert_eq(u32_at(prop(off, "#iommu-cells", &len), 0), 1);
	cr_assert_eq(u32_at(prop(off, "phandle", &len), 0),
		     FDT_PHANDLE_VIOMMU);

	off = node("/pcie@30000000");
	v = prop(off, "iommu-map", &len);
	cr_assert_eq(len, 2 * 4 * 4);
	cr_assert_eq(u32_at(v, 0), 0);
	cr_assert_eq(u32_at(v, 1), FDT_PHANDLE_VIOMMU);
	cr_assert_eq(u32_at(v, 2), 0);
	cr_assert_eq(u32_at(v, 3), 8);
	cr_assert_eq(u32_at(v, 4), 9, "the IOMMU's own RID is left out");
	cr_assert_eq(u32_at(v, 7), 0x10000 - 9);

	off = node("/virtio_mmio@b000000");
	v = prop(off, "iommus", &len);
	cr_assert_eq(len, 2 * 4);
	cr_assert_eq(u32_at(v, 0), FDT_PHANDLE_VIOMMU);
	cr_assert_eq(u32_at(v, 1), 0x10000);
}

Test(fdt, virtio_iommu_on_mmio_has_iommu_cells_and_others_point_at_it)
{
	struct fdt_params p = params(1);
	const struct fdt_mmio_dev mm[3] = {
		{ .base = 0x0b000000, .size = 0x200, .spi = 16 },
		{ .base = 0x0b000200,
		  .size = 0x200,
		  .spi = 17,
		  .iommu = true,
		  .iommu_id = 0x10001 },
		{ .base = 0x0b000400, .size = 0x200, .spi = 18 },
	};
	const struct fdt_iommu_map map[1] = { { 0, 0, 0x10000 } };
	const void *v;
	int len, off;

	with_pci(&p);
	p.viommu = FDT_VIOMMU_MMIO;
	p.viommu_mmio = 0;
	p.pci_iommu_map = map;
	p.nr_pci_iommu_map = 1;
	p.nr_virtio_mmio = 3;
	p.virtio_mmio = mm;
	build(&p);

	off = node("/virtio_mmio@b000000");
	cr_assert_eq(u32_at(prop(off, "#iommu-cells", &len), 0), 1);
	cr_assert_eq(u32_at(prop(off, "phandle", &len), 0),
		     FDT_PHANDLE_VIOMMU);
	cr_assert_null(fdt_getprop(blob, off, "iommus", &len));
	off = node("/virtio_mmio@b000200");
	v = prop(off, "iommus", &len);
	cr_assert_eq(u32_at(v, 1), 0x10001);
	off = node("/virtio_mmio@b000400");
	cr_assert_null(fdt_getprop(blob, off, "iommus", &len),
		       "an opted-out device has no iommus");
	cr_assert_null(fdt_getprop(blob, off, "#iommu-cells", &len));
	off = node("/pcie@30000000");
	v = prop(off, "iommu-map", &len);
	cr_assert_eq(len, 4 * 4);
	cr_assert_lt(fdt_path_offset(blob, "/pcie@30000000/iommu@0,0"), 0);
}

Test(fdt, no_iommu_no_iommu_properties)
{
	struct fdt_params p = params(1);
	const struct fdt_iommu_map map[1] = { { 0, 0, 0x10000 } };
	int len, off;

	with_pci(&p);
	p.pci_iommu_map = map; /* ignored without a viommu */
	p.nr_pci_iommu_map = 1;
	build(&p);
	off = node("/pcie@30000000");
	cr_assert_null(fdt_getprop(blob, off, "iommu-map", &len));
}

Test(fdt, too_many_iommu_map_entries_is_an_error)
{
	struct fdt_params p = params(1);
	static struct fdt_iommu_map map[FDT_IOMMU_MAP_MAX + 1];

	with_pci(&p);
	p.viommu = FDT_VIOMMU_PCI;
	p.pci_iommu_map = map;
	p.nr_pci_iommu_map = FDT_IOMMU_MAP_MAX + 1;
	cr_assert_eq(fdt_build(&p, blob, sizeof(blob)), -EINVAL);
}

Test(fdt, msi_window_is_one_reserved_region_with_an_iova_per_function)
{
	struct fdt_params p = params(1);
	const uint8_t devfn[2] = { 2 << 3, (3 << 3) | 1 };
	const void *v;
	int len, off;

	with_msi_window(&p, devfn, 2);
	build(&p);

	/* of_reserved_mem wants the root's cells and a "ranges" */
	off = node("/reserved-memory");
	cr_assert_eq(u32_at(prop(off, "#address-cells", &len), 0), 2);
	cr_assert_eq(u32_at(prop(off, "#size-cells", &len), 0), 2);
	prop(off, "ranges", &len);
	cr_assert_eq(len, 0, "ranges is empty: 1:1");
	n_subnodes_is(off, 1);

	off = node("/reserved-memory/msi-window@8000000");
	cr_assert_eq(u32_at(prop(off, "phandle", &len), 0),
		     FDT_PHANDLE_MSI_WINDOW);
	cr_assert_null(fdt_getprop(blob, off, "no-map", &len),
		       "not RAM: nothing to keep out of the linear map");
	v = prop(off, "reg", &len);
	cr_assert_eq(len, 16);
	cr_assert_eq(u64_at(v, 0), LAYOUT_MSI_HOLE_BASE);
	cr_assert_eq(u64_at(v, 1), LAYOUT_MSI_HOLE_SIZE);

	/* <phandle phys.hi phys.mid phys.lo size.hi size.lo> per function,
	 * the IOVA range equal to reg so that the region is a direct one. */
	v = prop(off, "iommu-addresses", &len);
	cr_assert_eq(len, 2 * 6 * 4);
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(u32_at(v, 6 * i), FDT_PHANDLE_PCI_FN(devfn[i]));
		cr_assert_eq(u32_at(v, 6 * i + 1), FDT_PCI_SPACE_MEM32);
		cr_assert_eq(u32_at(v, 6 * i + 2), 0);
		cr_assert_eq(u32_at(v, 6 * i + 3), LAYOUT_MSI_HOLE_BASE);
		cr_assert_eq(u32_at(v, 6 * i + 4), 0);
		cr_assert_eq(u32_at(v, 6 * i + 5), LAYOUT_MSI_HOLE_SIZE);
	}
}

Test(fdt, msi_window_functions_are_host_bridge_children_by_devfn)
{
	struct fdt_params p = params(1);
	const uint8_t devfn[2] = { 2 << 3, (3 << 3) | 1 };
	const char *const path[2] = { "/pcie@30000000/function@2",
				      "/pcie@30000000/function@3,1" };
	const void *v;
	int len, off;

	with_msi_window(&p, devfn, 2);
	build(&p);
	for (int i = 0; i < 2; i++) {
		off = node(path[i]);
		v = prop(off, "reg", &len);
		cr_assert_eq(len, 5 * 4, "the host bridge's 3 + 2 cells");
		cr_assert_eq(u32_at(v, 0), (uint32_t)devfn[i] << 8,
			     "phys.hi: bus 0, devfn");
		for (int c = 1; c < 5; c++)
			cr_assert_eq(u32_at(v, c), 0);
		cr_assert_eq(u32_at(prop(off, "phandle", &len), 0),
			     FDT_PHANDLE_PCI_FN(devfn[i]));
		v = prop(off, "memory-region", &len);
		cr_assert_eq(len, 4);
		cr_assert_eq(u32_at(v, 0), FDT_PHANDLE_MSI_WINDOW);
		cr_assert_eq(fdt_node_offset_by_phandle(
				     blob, FDT_PHANDLE_PCI_FN(devfn[i])),
			     off);
	}
	off = node("/pcie@30000000");
	cr_assert_null(fdt_getprop(blob, off, "dma-ranges", &len),
		       "no dma-ranges: the window's bus address is its IOVA");
	cr_assert_eq(u32_at(prop(off, "#address-cells", &len), 0), 3);
	cr_assert_eq(u32_at(prop(off, "#size-cells", &len), 0), 2);
	cr_assert_eq(fdt_node_offset_by_phandle(blob, FDT_PHANDLE_MSI_WINDOW),
		     node("/reserved-memory/msi-window@8000000"));
}

Test(fdt, msi_window_nodes_sit_beside_the_pci_virtio_iommu)
{
	struct fdt_params p = params(1);
	const struct fdt_iommu_map map[1] = { { 0, 0, 8 } };
	const uint8_t devfn[1] = { 2 << 3 };
	int len, off;

	with_msi_window(&p, devfn, 1);
	p.viommu = FDT_VIOMMU_PCI;
	p.viommu_devfn = 1 << 3;
	p.pci_iommu_map = map;
	p.nr_pci_iommu_map = 1;
	build(&p);
	off = node("/pcie@30000000/iommu@1,0");
	cr_assert_eq(u32_at(prop(off, "phandle", &len), 0),
		     FDT_PHANDLE_VIOMMU);
	node("/pcie@30000000/function@2");

	/* The virtio-iommu is not behind itself. */
	p.viommu_devfn = 2 << 3;
	cr_assert_eq(fdt_build(&p, blob, sizeof(blob)), -EINVAL);
}

Test(fdt, no_msi_window_functions_no_reserved_memory)
{
	struct fdt_params p = params(1);

	with_pci(&p);
	p.viommu = FDT_VIOMMU_SMMUV3;
	p.msi_window_base = LAYOUT_MSI_HOLE_BASE; /* ignored: no functions */
	p.msi_window_size = LAYOUT_MSI_HOLE_SIZE;
	build(&p);
	cr_assert_lt(fdt_path_offset(blob, "/reserved-memory"), 0);
	n_subnodes_is(node("/pcie@30000000"), 0);
}

Test(fdt, bad_msi_window_params_are_errors)
{
	struct fdt_params p = params(1);
	const uint8_t devfn[2] = { 2 << 3, 2 << 3 };

	with_msi_window(&p, devfn, 2);
	cr_assert_eq(fdt_build(&p, blob, sizeof(blob)), -EINVAL,
		     "a devfn twice");
	with_msi_window(&p, devfn, 1);
	p.msi_window_size = 0;
	cr_assert_eq(fdt_build(&p, blob, sizeof(blob)), -EINVAL, "empty");
	p.msi_window_size = LAYOUT_MSI_HOLE_SIZE + 0x10;
	cr_assert_eq(fdt_build(&p, blob, sizeof(blob)), -EINVAL,
		     "not page aligned");
	p.msi_window_size = LAYOUT_MSI_HOLE_SIZE;
	p.msi_window_base = ~0ULL & ~(FDT_MSI_WINDOW_ALIGN - 1);
	cr_assert_eq(fdt_build(&p, blob, sizeof(blob)), -EINVAL, "wraps");
	/* Linux would read the address cell 0x102 as devfn 2's phandle. */
	p.msi_window_base = (uint64_t)FDT_PHANDLE_PCI_FN(2) << 32;
	cr_assert_eq(fdt_build(&p, blob, sizeof(blob)), -EINVAL,
		     "a cell that reads as a function's phandle");
	p.msi_window_base = LAYOUT_MSI_HOLE_BASE;
	p.pci_ecam_size = 0;
	cr_assert_eq(fdt_build(&p, blob, sizeof(blob)), -EINVAL,
		     "functions but no host bridge");
}

Test(fdt, msi_window_above_4g_is_64bit_memory_space)
{
	struct fdt_params p = params(1);
	const uint8_t devfn[1] = { 0 };
	const void *v;
	int len;

	with_msi_window(&p, devfn, 1);
	p.msi_window_base = 0x800000000ULL;
	build(&p);
	v = prop(node("/reserved-memory/msi-window@800000000"),
		 "iommu-addresses", &len);
	cr_assert_eq(u32_at(v, 0), FDT_PHANDLE_PCI_FN(0));
	cr_assert_eq(u32_at(v, 1), FDT_PCI_SPACE_MEM64);
	cr_assert_eq(u32_at(v, 2), 8);
	cr_assert_eq(u32_at(v, 3), 0);
	node("/pcie@30000000/function@0");
}
