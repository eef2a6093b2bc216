/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest driver's side of the emulated SMMUv3, written after Linux's
 * arm-smmu-v3: register accesses, guest RAM words, the 2-level stream
 * table, the command queue and the event queue. Shared by the tests of
 * the SMMU model and of the host nesting backend behind it.
 *
 * One test file includes it, after defining the guest RAM layout: L1TAB
 * (level-1 stream table), L2TAB (the level-2 table of StreamIDs 0-255),
 * CMDQ and CMDQ_LOG2, EVTQ and EVTQ_LOG2. It brings the SMMU (smmu), the
 * guest RAM it is given (mem) and the command queue's producer index
 * (cmd_prod, zeroed by the test's set-up).
 */
#ifndef NESTBOX_SMMU_GUEST_H
#define NESTBOX_SMMU_GUEST_H

#include <criterion/criterion.h>
#include <stddef.h>
#include <string.h>

#include "iommu/smmuv3.h"

#if !defined(L1TAB) || !defined(L2TAB) || !defined(CMDQ) || \
	!defined(CMDQ_LOG2) || !defined(EVTQ) || !defined(EVTQ_LOG2)
#error "define the guest RAM layout before including smmu_guest.h"
#endif

static struct guest_mem mem;
static struct smmuv3 smmu;
static uint32_t cmd_prod;

static inline void w32(uint64_t off, uint32_t v)
{
	smmuv3_mmio_ops.write(&smmu, off, v, 4);
}

static inline void w64(uint64_t off, uint64_t v)
{
	smmuv3_mmio_ops.write(&smmu, off, v, 8);
}

static inline uint32_t r32(uint64_t off)
{
	return smmuv3_mmio_ops.read(&smmu, off, 4);
}

static inline uint64_t *g64(uint64_t gpa)
{
	uint64_t *p = gmem_ptr(&mem, gpa, 8);

	cr_assert(p);
	return p;
}

/*
 * Linux's arm_smmu_device_reset(), in order: StreamIDs 0-255 in one L2
 * table, the command then the event queue, each CR0 write acknowledged.
 * @irqs, when not NULL, programs the interrupt registers where Linux does
 * (arm_smmu_setup_irqs(), before SMMUEN).
 */
static inline void smmu_guest_enable(void (*irqs)(void))
{
	*g64(L1TAB) = L2TAB | 9; /* span 9: 256 StreamIDs */
	w64(SMMU_STRTAB_BASE, L1TAB | (1ull << 62));
	w32(SMMU_STRTAB_BASE_CFG, (1u << 16) | (8u << 6) | 17u);
	w64(SMMU_CMDQ_BASE, CMDQ | CMDQ_LOG2);
	w32(SMMU_CMDQ_PROD, 0);
	w32(SMMU_CMDQ_CONS, 0);
	w32(SMMU_CR0, CR0_CMDQEN);
	cr_assert_eq(r32(SMMU_CR0ACK), CR0_CMDQEN);
	w64(SMMU_EVENTQ_BASE, EVTQ | EVTQ_LOG2);
	w32(SMMU_EVENTQ_PROD, 0);
	w32(SMMU_EVENTQ_CONS, 0);
	w32(SMMU_CR0, CR0_CMDQEN | CR0_EVTQEN);
	if (irqs)
		irqs();
	w32(SMMU_CR0, CR0_CMDQEN | CR0_EVTQEN | CR0_SMMUEN);
	cr_assert_eq(r32(SMMU_CR0ACK), CR0_CMDQEN | CR0_EVTQEN | CR0_SMMUEN);
}

/* Queue a command without telling the SMMU (no PROD write). */
static inline void put_cmd(uint64_t c0, uint64_t c1)
{
	uint64_t *e = g64(CMDQ + (cmd_prod & ((1u << CMDQ_LOG2) - 1)) * 16);

	e[0] = c0;
	e[1] = c1;
	cmd_prod = (cmd_prod + 1) & ((2u << CMDQ_LOG2) - 1);
}

/* The 64-byte STE of @sid in the level-2 table. */
static inline uint64_t *ste(uint32_t sid)
{
	return g64(L2TAB + sid * 64ull);
}

/* Records on the event queue the guest has not consumed yet. */
static inline unsigned int events(void)
{
	uint32_t m = (2u << EVTQ_LOG2) - 1;

	return ((r32(SMMU_EVENTQ_PROD) & m) - (r32(SMMU_EVENTQ_CONS) & m)) & m;
}

/* The 32-byte event record at queue index @i (wrap bit ignored). */
static inline uint64_t *event(unsigned int i)
{
	return g64(EVTQ + (i & ((1u << EVTQ_LOG2) - 1)) * 32ull);
}

#endif
