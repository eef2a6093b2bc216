/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest physical (IPA) memory map of an arm64 nestbox guest.
 *
 *   0x0000_0000 - 0x07ff_ffff  unused
 *   0x0800_0000 - 0x080f_ffff  kept empty: with a nested SMMUv3 the host maps
 *                              its MSI doorbell here (DESIGN.md)
 *   0x0900_0000 - 0x0900_0fff  PL011 UART
 *   0x0a00_0000 - 0x0a00_ffff  GICv3 distributor
 *   0x0a01_0000 - 0x0a02_ffff  GICv3 ITS (128 KiB)
 *   0x0b00_0000 - 0x0b00_3fff  virtio-mmio slots (0x200 each, SPI 16 + n)
 *   0x0c00_0000 - 0x0c01_ffff  SMMUv3 (--iommu smmuv3; SPIs 96 and 97)
 *   0x1000_0000 - 0x13ff_ffff  GICv3 redistributors (128 KiB per vCPU)
 *   0x3000_0000 - 0x3fff_ffff  PCIe ECAM (buses 0-255)
 *   0x4000_0000 - 0x7fff_ffff  32-bit PCI MMIO window
 *   0x8000_0000 -              RAM
 *   above RAM, 64 GiB aligned  64-bit PCI MMIO window (64 GiB, >= 256 GiB)
 */
#ifndef NESTBOX_LAYOUT_H
#define NESTBOX_LAYOUT_H

#define SZ_4K	0x1000ULL
#define SZ_64K	0x10000ULL
#define SZ_128K 0x20000ULL
#define SZ_1M	0x100000ULL
#define SZ_2M	0x200000ULL
#define SZ_1G	0x40000000ULL

#define LAYOUT_MSI_HOLE_BASE 0x08000000ULL
#define LAYOUT_MSI_HOLE_SIZE SZ_1M

#define LAYOUT_UART_BASE 0x09000000ULL
#define LAYOUT_UART_SIZE SZ_4K
#define LAYOUT_UART_SPI	 1 /* GIC SPI number (INTID 33) */

#define LAYOUT_GICD_BASE   0x0a000000ULL
#define LAYOUT_GICD_SIZE   SZ_64K
#define LAYOUT_GITS_BASE   0x0a010000ULL
#define LAYOUT_GITS_SIZE   SZ_128K
/* The ITS translation frame, which holds GITS_TRANSLATER (the doorbell) */
#define LAYOUT_GITS_TRANSLATER_PAGE	 SZ_64K
#define LAYOUT_GITS_TRANSLATER_PAGE_SIZE SZ_64K
#define LAYOUT_GICR_BASE   0x10000000ULL
#define LAYOUT_GICR_STRIDE SZ_128K /* RD_base + SGI_base frames */
#define LAYOUT_GICR_SIZE   (64 * SZ_1M)
#define LAYOUT_MAX_VCPUS   (LAYOUT_GICR_SIZE / LAYOUT_GICR_STRIDE) /* 512 */

#define LAYOUT_VIRTIO_MMIO_BASE	    0x0b000000ULL
#define LAYOUT_VIRTIO_MMIO_STRIDE   0x200ULL
#define LAYOUT_VIRTIO_MMIO_SLOTS    32
#define LAYOUT_VIRTIO_MMIO_SPI_BASE 16

#define LAYOUT_SMMU_BASE	0x0c000000ULL
#define LAYOUT_SMMU_SIZE	SZ_128K
#define LAYOUT_SMMU_SPI_EVTQ	96
#define LAYOUT_SMMU_SPI_GERROR	97
/*
 * The SMMU's own MSIs come from this ITS device ID: a requester ID on bus
 * 255, which nestbox never populates (one root bus, at most one bridge).
 */
#define LAYOUT_SMMU_ITS_DEVID	0xff00
/* GITS_TRANSLATER inside the ITS translation frame */
#define LAYOUT_GITS_TRANSLATER_OFFSET 0x40

#define LAYOUT_PCI_ECAM_BASE   0x30000000ULL
#define LAYOUT_PCI_INTX_SPI_BASE 64 /* INTA-INTD, swizzled by slot */
#define LAYOUT_PCI_ECAM_SIZE   0x10000000ULL
#define LAYOUT_PCI_MMIO32_BASE 0x40000000ULL
#define LAYOUT_PCI_MMIO32_SIZE 0x40000000ULL
#define LAYOUT_PCI_MMIO64_SIZE (64 * SZ_1G)
#define LAYOUT_PCI_MMIO64_MIN  (256 * SZ_1G)

#define LAYOUT_RAM_BASE 0x80000000ULL

/* The 64-bit PCI window sits above RAM, aligned to its size. */
static inline unsigned long long
layout_pci_mmio64_base(unsigned long long ram_end)
{
	unsigned long long b = ram_end > LAYOUT_PCI_MMIO64_MIN
				       ? ram_end
				       : LAYOUT_PCI_MMIO64_MIN;

	return (b + LAYOUT_PCI_MMIO64_SIZE - 1) & ~(LAYOUT_PCI_MMIO64_SIZE - 1);
}

/* Smallest guest that can hold a kernel, its initrd and the DTB. */
#define LAYOUT_RAM_MIN (32 * SZ_1M)
/* KVM's IPA size when the VM type does not ask for another. */
#define LAYOUT_IPA_BITS_DEFAULT 40

#endif
