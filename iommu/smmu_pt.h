/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The stage-1 translation table walk of an emulated SMMUv3: the VMSAv8-64
 * AArch64 long-descriptor format a Context Descriptor points at (CD.TTB0,
 * CD.TG0, CD.T0SZ, CD.IPS). Pure function over a guest-memory read
 * callback: no KVM, no globals, no TLB, unit-testable. Only TTB0 (the
 * lower VA range) and 48-bit output addresses; no 52-bit forms, no HTTU
 * (the Access flag is never set by the walk).
 */
#ifndef NESTBOX_SMMU_PT_H
#define NESTBOX_SMMU_PT_H

#include <stdbool.h>
#include <stdint.h>

/* Input address sizes the walker accepts (64 - CD.T0SZ). */
#define SMMU_PT_MIN_IAS 25
#define SMMU_PT_MAX_IAS 48

/* Deepest lookup level: a walk reads at most SMMU_PT_MAX_LEVEL + 1 tables. */
#define SMMU_PT_MAX_LEVEL 3

struct smmu_pt_cfg {
	unsigned int granule; /* 4096, 16384 or 65536 (CD.TG0) */
	unsigned int ias;     /* input address bits: 64 - CD.T0SZ, 25..48 */
	unsigned int oas;     /* output address bits (CD.IPS): 32..48 */
	uint64_t ttbr;	      /* CD.TTB0, aligned to the start-level table */
	bool aarch64;	      /* CD.AA64: only the AArch64 format exists here */
};

/* The stage-1 faults the walk can end with (SMMUv3 F_TRANSLATION etc.). */
enum smmu_pt_fault {
	SMMU_PT_OK,
	SMMU_PT_TRANSLATION,
	SMMU_PT_ADDR_SIZE,
	SMMU_PT_ACCESS,
	SMMU_PT_PERMISSION,
	SMMU_PT_WALK_EABT, /* the read callback failed */
};

struct smmu_pt_result {
	uint64_t pa;   /* output address of the iova (valid when SMMU_PT_OK) */
	uint64_t size; /* of the block or page mapping holding it */
	bool writable, readable;
	bool exec; /* a privileged instruction fetch is allowed */
	bool user; /* EL0 (unprivileged) accesses are allowed */
	enum smmu_pt_fault fault;
	unsigned int level; /* of the last lookup made (or the faulting one) */
};

/* Read one little-endian 64-bit descriptor at @pa: 0 or -errno. */
typedef int (*smmu_pt_read_fn)(void *opaque, uint64_t pa, uint64_t *desc);

/*
 * Translate @iova for @access (DMA_READ and/or DMA_WRITE from iommu/dma.h).
 * Returns 0 with @out filled, the outcome in out->fault (a failed read is
 * SMMU_PT_WALK_EABT); -EINVAL with nothing walked when @cfg is not a
 * configuration the walker supports (granule, IAS, OAS, AArch32 format, a
 * TTB0 not aligned to its table) or @access has unknown bits.
 */
int smmu_pt_walk(const struct smmu_pt_cfg *cfg, uint64_t iova,
		 unsigned int access, smmu_pt_read_fn read, void *opaque,
		 struct smmu_pt_result *out);

#endif
