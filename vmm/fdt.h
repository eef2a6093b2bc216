/* SPDX-License-Identifier: GPL-2.0 */
#ifndef NESTBOX_FDT_H
#define NESTBOX_FDT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fdt_mmio_dev {
	uint64_t base, size;
	unsigned int spi;
	bool iommu;	   /* behind the virtio-iommu, as endpoint iommu_id */
	uint32_t iommu_id;
};

/* Where the virtio-iommu sits (virtio 1.2, 5.13; DT virtio/pci-iommu.yaml). */
enum fdt_viommu_kind {
	FDT_VIOMMU_NONE,
	FDT_VIOMMU_PCI,
	FDT_VIOMMU_MMIO,
	FDT_VIOMMU_SMMUV3, /* iommu/arm,smmu-v3.yaml: a platform device */
};

/* One iommu-map entry: requester IDs [rid_base, +len) -> [id_base, +len). */
struct fdt_iommu_map {
	uint32_t rid_base, id_base, len;
};
#define FDT_IOMMU_MAP_MAX 64

/* Everything the guest's device tree describes; no KVM state. */
struct fdt_params {
	uint64_t ram_base, ram_size;

	unsigned int ncpus;
	const uint64_t *mpidr; /* MPIDR_EL1 of each vCPU, as KVM set it */

	uint64_t gicd_base, gicd_size;
	uint64_t gicr_base, gicr_size;
	uint64_t its_base, its_size;

	uint64_t uart_base, uart_size;
	unsigned int uart_spi;
	uint32_t uart_clock_hz;

	bool pmu;

	/* PCIe host bridge (ecam_size 0: none) */
	uint64_t pci_ecam_base, pci_ecam_size;
	uint64_t pci_mmio32_base, pci_mmio32_size;
	uint64_t pci_mmio64_base, pci_mmio64_size;
	unsigned int pci_intx_spi_base; /* INTA of slot 0; swizzled by slot */

	/* virtio-mmio devices */
	unsigned int nr_virtio_mmio;
	const struct fdt_mmio_dev *virtio_mmio;

	/*
	 * The virtio-iommu: on the root PCI bus at viommu_devfn (a child node
	 * of the host bridge), or virtio_mmio[viommu_mmio]. PCI functions
	 * reach it through the host bridge's iommu-map, which must leave out
	 * the IOMMU's own requester ID (nr_pci_iommu_map 0: none behind it).
	 */
	enum fdt_viommu_kind viommu;
	unsigned int viommu_devfn;
	unsigned int viommu_mmio;
	const struct fdt_iommu_map *pci_iommu_map;
	unsigned int nr_pci_iommu_map;
	/* FDT_VIOMMU_SMMUV3: registers, wired SPIs, ITS device ID (0: none) */
	uint64_t smmu_base, smmu_size;
	unsigned int smmu_spi_evtq, smmu_spi_gerror;
	uint32_t smmu_msi_devid;

	/*
	 * Root-bus PCI functions (devfn) whose IOMMU stage 1 must map
	 * [msi_window_base, +msi_window_size) 1:1: with a nested SMMU the
	 * host's MSI doorbell sits there in the stage-2 parent (DESIGN.md).
	 * Described as one /reserved-memory region with iommu-addresses, and
	 * a host bridge child node per function pointing at it through
	 * memory-region (reserved-memory.yaml). nr_pci_msi_window 0: none.
	 */
	const uint8_t *pci_msi_window_devfn;
	unsigned int nr_pci_msi_window;
	uint64_t msi_window_base, msi_window_size;

	const char *bootargs;
	uint64_t initrd_start, initrd_end; /* both 0: no initrd */
	const uint8_t *rng_seed;
	size_t rng_seed_len;
};

/* devicetree bindings: interrupt-controller/arm,gic-v3.yaml */
#define FDT_GIC_SPI	    0
#define FDT_GIC_PPI	    1
#define FDT_IRQ_EDGE_RISING 1
#define FDT_IRQ_LEVEL_HIGH  4

/* Arch timer and PMU PPIs (INTID - 16), as KVM wires them by default. */
#define FDT_PPI_TIMER_SEC_PHYS 13
#define FDT_PPI_TIMER_PHYS     14
#define FDT_PPI_TIMER_VIRT     11
#define FDT_PPI_TIMER_HYP      10
#define FDT_PPI_PMU	       7

#define FDT_PHANDLE_GIC	       1
#define FDT_PHANDLE_ITS	       2
#define FDT_PHANDLE_APB_CLK    3
#define FDT_PHANDLE_VIOMMU     4
#define FDT_PHANDLE_MSI_WINDOW 5
/* The host bridge child node of root-bus function devfn: base + devfn */
#define FDT_PHANDLE_PCI_FN_BASE	  0x100
#define FDT_PHANDLE_PCI_FN(devfn) (FDT_PHANDLE_PCI_FN_BASE + (devfn))

/* Root-bus devfns: 5-bit device, 3-bit function. */
#define FDT_PCI_DEVFN_MAX 256
/* The MSI window is mapped by IOMMU pages: the smallest granule, 4 KiB. */
#define FDT_MSI_WINDOW_ALIGN 0x1000ULL

/* PCI address space codes of the "ranges" phys.hi cell (IEEE 1275 PCI) */
#define FDT_PCI_SPACE_MEM32 0x02000000
#define FDT_PCI_SPACE_MEM64 0x03000000

/* Build the blob into @buf. Returns its size, or -errno (-ENOSPC: too small).
 */
int fdt_build(const struct fdt_params *p, void *buf, size_t bufsize);

#endif
