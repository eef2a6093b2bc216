// SPDX-License-Identifier: GPL-2.0
/*
 * VMSAv8-64 stage-1 translation table walk (Arm ARM D8, "The AArch64
 * Virtual Memory System Architecture"), as an SMMUv3 performs it for a CD
 * with AA64 = 1 (SMMUv3 5.4). Faults are checked in the
 * architectural priority order: translation, address size, access flag,
 * permission.
 */
#include "smmu_pt.h"

#include <errno.h>

#include "dma.h"

#define SMMU_PT_GENMASK(hi, lo) ((~0ull >> (63 - (hi))) & (~0ull << (lo)))

/* Descriptor bits [1:0] (Arm ARM D8.3). */
#define PT_DESC_VALID	  (1ull << 0)
#define PT_DESC_TYPE_MASK 3ull
#define PT_DESC_BLOCK	  1ull /* at levels 0..2 */
#define PT_DESC_TABLE	  3ull /* at levels 0..2 */
#define PT_DESC_PAGE	  3ull /* at level 3 */

/* Output/next-level address field without the 52-bit forms: [47:shift]. */
#define PT_DESC_ADDR_HI 47

/* Block and page descriptor attributes (stage 1, EL1&0 regime). */
#define PT_DESC_AP1 (1ull << 6)	 /* AP[1]: EL0 access allowed */
#define PT_DESC_AP2 (1ull << 7)	 /* AP[2]: read-only */
#define PT_DESC_AF  (1ull << 10) /* Access flag */
#define PT_DESC_PXN (1ull << 53)
#define PT_DESC_UXN (1ull << 54)

/* Table descriptor hierarchical attributes, applying to all lower levels. */
#define PT_TABLE_PXN	  (1ull << 59)
#define PT_TABLE_UXN	  (1ull << 60) /* EL0 fetches only: not reported */
#define PT_TABLE_AP_NOEL0 (1ull << 61) /* APTable[0]: no EL0 access */
#define PT_TABLE_AP_RO	  (1ull << 62) /* APTable[1]: no write access */

#define PT_DESC_BYTES	   8u
#define PT_DESC_SHIFT	   3u
#define PT_MIN_TABLE_ALIGN 64u /* TTB smaller tables still align to 64 B */
#define SMMU_PT_MIN_OAS	   32u
#define SMMU_PT_MAX_OAS	   48u
#define SMMU_PT_4K_SHIFT   12u
#define SMMU_PT_16K_SHIFT  14u
#define SMMU_PT_64K_SHIFT  16u

static int granule_shift(unsigned int granule)
{
	switch (granule) {
	case 1u << SMMU_PT_4K_SHIFT:
		return SMMU_PT_4K_SHIFT;
	case 1u << SMMU_PT_16K_SHIFT:
		return SMMU_PT_16K_SHIFT;
	case 1u << SMMU_PT_64K_SHIFT:
		return SMMU_PT_64K_SHIFT;
	default:
		return -EINVAL;
	}
}

/* CD.IPS encodings without the 52-bit one (SMMUv3 5.4, Arm ARM TCR.IPS). */
static bool oas_valid(unsigned int oas)
{
	switch (oas) {
	case 32:
	case 36:
	case 40:
	case 42:
	case 44:
	case 48:
		return true;
	default:
		return false;
	}
}

/* Input address bits resolved below @level: the shift of its entries. */
static unsigned int level_shift(unsigned int pg_shift, unsigned int level)
{
	return pg_shift +
	       (SMMU_PT_MAX_LEVEL - level) * (pg_shift - PT_DESC_SHIFT);
}

/*
 * Which levels may hold a block (Arm ARM D8.3, without FEAT_LPA2 and
 * 52-bit output): 4K at levels 1 (1 GiB) and 2 (2 MiB), 16K and 64K at
 * level 2 only (32 MiB, 512 MiB). Never at level 0.
 */
static bool block_allowed(unsigned int pg_shift, unsigned int level)
{
	if (pg_shift == SMMU_PT_4K_SHIFT)
		return level == 1 || level == 2;
	return level == 2;
}

static void set_fault(struct smmu_pt_result *out, enum smmu_pt_fault fault,
		      unsigned int level)
{
	out->fault = fault;
	out->level = level;
}

int smmu_pt_walk(const struct smmu_pt_cfg *cfg, uint64_t iova,
		 unsigned int access, smmu_pt_read_fn read, void *opaque,
		 struct smmu_pt_result *out)
{
	int shift = granule_shift(cfg->granule);
	unsigned int pg_shift, stride, level, start, idx_bits;
	uint64_t table, table_size, oa_limit;
	bool table_ro = false, table_noel0 = false, table_pxn = false;

	*out = (struct smmu_pt_result){ .fault = SMMU_PT_TRANSLATION };
	if (shift < 0 || !cfg->aarch64 || cfg->ias < SMMU_PT_MIN_IAS ||
	    cfg->ias > SMMU_PT_MAX_IAS || !oas_valid(cfg->oas) ||
	    (access & ~(unsigned int)(DMA_READ | DMA_WRITE)))
		return -EINVAL;
	pg_shift = (unsigned int)shift;
	stride = pg_shift - PT_DESC_SHIFT;

	/* Start at the fewest levels whose entries cover the IAS. */
	start = SMMU_PT_MAX_LEVEL + 1 -
		(cfg->ias - pg_shift + stride - 1) / stride;
	idx_bits = cfg->ias - level_shift(pg_shift, start);
	table_size = (uint64_t)PT_DESC_BYTES << idx_bits;
	if (table_size < PT_MIN_TABLE_ALIGN)
		table_size = PT_MIN_TABLE_ALIGN;
	/* A TTB0 not aligned to its table is a broken CD, not a fault. */
	if (cfg->ttbr & (table_size - 1))
		return -EINVAL;

	oa_limit = 1ull << cfg->oas;
	/* Outside the TTB0 range: no lookup is made, reported at level 0. */
	if (iova >> cfg->ias) {
		set_fault(out, SMMU_PT_TRANSLATION, 0);
		return 0;
	}
	if (cfg->ttbr >= oa_limit) {
		set_fault(out, SMMU_PT_ADDR_SIZE, start);
		return 0;
	}

	table = cfg->ttbr;
	/* Every step goes one level deeper: a table loop still ends at 3. */
	for (level = start; level <= SMMU_PT_MAX_LEVEL; level++) {
		unsigned int lshift = level_shift(pg_shift, level);
		unsigned int bits = level == start ? idx_bits : stride;
		uint64_t index = (iova >> lshift) & ((1ull << bits) - 1);
		uint64_t desc, type, oa, size;

		if (read(opaque, table + index * PT_DESC_BYTES, &desc) < 0) {
			set_fault(out, SMMU_PT_WALK_EABT, level);
			return 0;
		}
		if (!(desc & PT_DESC_VALID)) {
			set_fault(out, SMMU_PT_TRANSLATION, level);
			return 0;
		}
		type = desc & PT_DESC_TYPE_MASK;

		if (level < SMMU_PT_MAX_LEVEL && type == PT_DESC_TABLE) {
			uint64_t next =
				desc & SMMU_PT_GENMASK(PT_DESC_ADDR_HI,
						       SMMU_PT_4K_SHIFT);

			/*
			 * With 16K/64K granules bits [shift-1:12] of the
			 * next-level address are RES0: a table that is not
			 * granule aligned is refused rather than masked.
			 */
			if (next & ((1ull << pg_shift) - 1)) {
				set_fault(out, SMMU_PT_TRANSLATION, level);
				return 0;
			}
			if (next >= oa_limit) {
				set_fault(out, SMMU_PT_ADDR_SIZE, level);
				return 0;
			}
			table_ro |= !!(desc & PT_TABLE_AP_RO);
			table_noel0 |= !!(desc & PT_TABLE_AP_NOEL0);
			table_pxn |= !!(desc & PT_TABLE_PXN);
			table = next;
			continue;
		}

		/* 0b01 where no block may be, including level 3: reserved. */
		if (level < SMMU_PT_MAX_LEVEL &&
		    (type != PT_DESC_BLOCK ||
		     !block_allowed(pg_shift, level))) {
			set_fault(out, SMMU_PT_TRANSLATION, level);
			return 0;
		}
		if (level == SMMU_PT_MAX_LEVEL && type != PT_DESC_PAGE) {
			set_fault(out, SMMU_PT_TRANSLATION, level);
			return 0;
		}

		oa = desc & SMMU_PT_GENMASK(PT_DESC_ADDR_HI, lshift);
		size = 1ull << lshift;
		if (oa >= oa_limit) {
			set_fault(out, SMMU_PT_ADDR_SIZE, level);
			return 0;
		}
		if (!(desc & PT_DESC_AF)) {
			set_fault(out, SMMU_PT_ACCESS, level);
			return 0;
		}

		out->pa = oa | (iova & (size - 1));
		out->size = size;
		out->level = level;
		/* Stage 1 at EL1 has no encoding without read permission. */
		out->readable = true;
		out->writable = !(desc & PT_DESC_AP2) && !table_ro;
		out->user = (desc & PT_DESC_AP1) && !table_noel0;
		/* Stage 1 EL1&0: memory writable at EL0 is treated as PXN. */
		out->exec = !(desc & PT_DESC_PXN) && !table_pxn &&
			    !(out->user && out->writable);
		out->fault = (access & DMA_WRITE) && !out->writable
				     ? SMMU_PT_PERMISSION
				     : SMMU_PT_OK;
		return 0;
	}
	/* Not reached: level 3 always returns. */
	set_fault(out, SMMU_PT_TRANSLATION, SMMU_PT_MAX_LEVEL);
	return 0;
}
