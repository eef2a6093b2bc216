/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest physical addresses the payload uses. The default is nestbox's map
 * (vmm/layout.h); IRQBENCH_QEMU_VIRT selects QEMU's -M virt,highmem=off map,
 * only for a TCG sanity run of the GIC/ITS/timer code (no testdev there).
 */
#ifndef IRQBENCH_PLATFORM_H
#define IRQBENCH_PLATFORM_H

#define UART_BASE 0x09000000UL

#ifdef IRQBENCH_QEMU_VIRT
#define GICD_BASE	0x08000000UL
#define GITS_BASE	0x08080000UL
#define GICR_BASE	0x080a0000UL
#define GICR_SIZE	0x00f60000UL
#define PCI_ECAM_BASE	0x3f000000UL
#define PCI_ECAM_BUSES	16
#define PCI_MMIO32_BASE 0x10000000UL
#define PCI_MMIO32_SIZE 0x2eff0000UL
#define RAM_BASE	0x40000000UL
#else
#define GICD_BASE	0x0a000000UL
#define GITS_BASE	0x0a010000UL
#define GICR_BASE	0x10000000UL
#define GICR_SIZE	0x04000000UL
#define PCI_ECAM_BASE	0x30000000UL
#define PCI_ECAM_BUSES	256
#define PCI_MMIO32_BASE 0x40000000UL
#define PCI_MMIO32_SIZE 0x40000000UL
#define RAM_BASE	0x80000000UL
#endif

#define GICR_STRIDE 0x20000UL /* RD_base + SGI_base, 64 KiB each */

#endif
