/* SPDX-License-Identifier: GPL-2.0 */
#ifndef NESTBOX_FDT_H
#define NESTBOX_FDT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

#define FDT_PHANDLE_GIC	    1
#define FDT_PHANDLE_ITS	    2
#define FDT_PHANDLE_APB_CLK 3

/* Build the blob into @buf. Returns its size, or -errno (-ENOSPC: too small).
 */
int fdt_build(const struct fdt_params *p, void *buf, size_t bufsize);

#endif
