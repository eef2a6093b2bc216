/* SPDX-License-Identifier: GPL-2.0 */
/* GICv3 distributor, redistributors, CPU interface and ITS, minimal. */
#ifndef IRQBENCH_GIC_H
#define IRQBENCH_GIC_H

#include "hw.h"

#define GIC_MAX_CPUS   2 /* the benchmark uses vCPU 0 and 1 */
#define GIC_MAX_RDISTS 512
#define LPI_BASE       8192
#define INTID_SPURIOUS 1020 /* 1020-1023 */

struct gic_rdist {
	uintptr_t base; /* RD_base; SGI_base is base + 64 KiB */
	u64 mpidr;	/* from GICR_TYPER.Affinity */
	u32 procnum;	/* GICR_TYPER.Processor_Number */
};

extern struct gic_rdist gic_rdists[GIC_MAX_CPUS];
extern unsigned int gic_nr_rdists; /* all frames found, up to Last */

int gic_dist_init(void);
int gic_find_rdists(void);
/* On the calling CPU: wake its redistributor, SGIs/PPIs, ICC_* regs. */
int gic_cpu_init(unsigned int cpu, u32 enable_mask);
void gic_send_sgi(u64 target_mpidr, unsigned int intid);

/* LPIs through the ITS. */
int gic_lpi_init(unsigned int nr_cpus);
int its_init(unsigned int nr_cpus);
int its_map_device(u32 devid, unsigned int nr_events, u32 first_lpi,
		   unsigned int icid);
int its_send_int(u32 devid, u32 event);
uintptr_t its_translater(void);

extern const char *gic_error; /* what failed, for the FAIL line */

#endif
