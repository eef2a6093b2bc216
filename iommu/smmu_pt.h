/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The stage-1 translation table walk of an emulated SMMUv3: the VMSAv8-64
 * AArch64 long-descriptor format a Context Descriptor points at (CD.TTB0,
 * CD.TG0, CD.T0SZ, CD.IPS). Pure function over a guest-memory read
 * callback: no KVM, no globals, no TLB, unit-testable. Only TTB0 (the
 * lower VA range), 48-bit output addresses and an SMMU without STT; no
 * 52-bit forms, no TBI, no E0PD, no HTTU (the Access flag is never set by
 * the walk: CD.HA must be 0, CD.AFFD is honoured).
 */
#ifndef NESTBOX_SMMU_PT_H
#define NESTBOX_SMMU_PT_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Input address sizes the walker accepts (64 - CD.T0SZ). SMMUv3 5.4: with
 * SMMU_IDR3.STT == 0 and no 52-bit VAs, T0SZ is valid in 16..39 for every
 * granule; a CD outside that range is ILLEGAL (C_BAD_CD) from SMMUv3.1.
 */
#define SMMU_PT_MIN_IAS 25
#define SMMU_PT_MAX_IAS 48

/* Deepest lookup level: a walk reads at most SMMU_PT_MAX_LEVEL + 1 tables. */
#define SMMU_PT_MAX_LEVEL 3

/*
 * Transaction attributes (SMMUv3 PnU and InD) that may be or'd into the
 * @access of smmu_pt_walk() next to DMA_READ/DMA_WRITE, after the STE's
 * PRIVCFG/INSTCFG overrides are applied. Without them the access is an
 * unprivileged data access: what a PCIe function without a PASID prefix
 * issues through an STE left at "use incoming" (Linux programs no
 * override, and io-pgtable maps non-IOMMU_PRIV pages with AP[1] = 1).
 * InD only applies to reads: a write is always data (as SMMU_GATOS_ADDR
 * documents InD: IGNORED when RnW == 0).
 */
#define SMMU_PT_ACCESS_PRIV  (1u << 8) /* PnU = 1: privileged */
#define SMMU_PT_ACCESS_INSTR (1u << 9) /* InD = 1: instruction fetch */

struct smmu_pt_cfg {
	unsigned int granule; /* 4096, 16384 or 65536 (CD.TG0) */
	unsigned int ias;     /* input address bits: 64 - CD.T0SZ, 25..48 */
	unsigned int oas;     /* MIN(CD.IPS, SMMU_IDR5.OAS) in bits: 32..48 */
	uint64_t ttbr;	      /* CD.TTB0; bits below the table size ignored */
	bool aarch64;	      /* CD.AA64: only the AArch64 format exists here */
	/* The fields below are all 0 in a CD Linux writes. */
	bool affd; /* CD.AFFD: AF == 0 is treated as 1, no Access fault */
	bool wxn;  /* CD.WXN: writable memory is execute-never */
	bool pan;  /* CD.PAN: privileged data access to EL0 memory faults */
	bool had;  /* CD.HAD0: APTable/PXNTable/UXNTable are ignored */
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

/*
 * The stage-1 permissions of the mapping, all table restrictions and CD
 * controls applied; filled for SMMU_PT_OK and SMMU_PT_PERMISSION. The
 * requested access was checked against the privileged or the unprivileged
 * set as @access says; out->fault is the verdict.
 */
struct smmu_pt_result {
	uint64_t pa;		 /* output address of the iova */
	uint64_t size;		 /* of the block or page mapping holding it */
	bool writable, readable; /* privileged data write / read */
	bool exec;		 /* privileged instruction fetch */
	bool user;		 /* unprivileged data read */
	enum smmu_pt_fault fault;
	unsigned int level; /* of the last lookup made (or the faulting one) */
	bool user_writable; /* unprivileged data write */
	bool user_exec;	    /* unprivileged instruction fetch */
};

/* Read one little-endian 64-bit descriptor at @pa: 0 or -errno. */
typedef int (*smmu_pt_read_fn)(void *opaque, uint64_t pa, uint64_t *desc);

/*
 * Translate @iova for @access: DMA_READ and/or DMA_WRITE (iommu/dma.h),
 * optionally with SMMU_PT_ACCESS_PRIV / SMMU_PT_ACCESS_INSTR. Returns 0
 * with @out filled, the outcome in out->fault (a failed read is
 * SMMU_PT_WALK_EABT); -EINVAL with nothing walked when @cfg is not a
 * configuration the walker supports or an ILLEGAL CD (granule, IAS, OAS,
 * AArch32 format, a TTB0 outside the OAS) or @access has unknown bits.
 */
int smmu_pt_walk(const struct smmu_pt_cfg *cfg, uint64_t iova,
		 unsigned int access, smmu_pt_read_fn read, void *opaque,
		 struct smmu_pt_result *out);

#endif
