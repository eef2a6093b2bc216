// SPDX-License-Identifier: GPL-2.0
/*
 * VMSAv8-64 stage-1 translation table walk (Arm ARM D8, "The AArch64
 * Virtual Memory System Architecture"), as an SMMUv3 performs it for a CD
 * with AA64 = 1 (SMMUv3 5.4).
 *
 * Checked against: Arm SMMUv3 architecture specification (IHI 0070: 5.4
 * CD fields T0SZ, IPS, AFFD, WXN, UWXN, PAN, HAD0, TTB0; 8 PRI; GATOS
 * PnU/InD); Arm ARM DDI 0487 D8 (descriptor formats, Table D8-61 stage 1
 * permissions, Table D8-65 direct permissions, APTable, and the
 * AArch64.NextTableBase / AArch64.LeafBase pseudocode); QEMU
 * hw/arm/smmu-common.c smmu_ptw_64_s1() and hw/arm/smmuv3.c decode_cd();
 * Linux drivers/iommu/io-pgtable-arm.c and the arm-smmu "treat all device
 * transactions as unprivileged" change.
 *
 * What those say, and this file does:
 * - Start level: the fewest levels of (granule - 3)-bit strides covering
 *   IAS - granule bits; stage 1 never concatenates, the start table is
 *   just smaller (4K: 48->L0, 39->L1, 30->L2; 16K: 48->L0 with 2
 *   entries, 47->L1, 36->L2, 25->L3; 64K: 48->L1, 42->L2, 29->L3).
 * - T0SZ outside 16..39 (no STT, no 52-bit VA) is an ILLEGAL CD.
 * - TTB0 bits below the start table's size are treated as zero (the SMMU
 *   aligns it); a TTB0 outside the effective IPS is an ILLEGAL CD, not a
 *   fault. Next-level table addresses ignore bits below the granule
 *   (NextTableBase takes descriptor[47:granule]); block and page output
 *   addresses ignore bits below the mapping size (LeafBase aligns).
 * - Blocks: 4K at levels 1 and 2, 16K and 64K at level 2 only (level 1
 *   needs 52-bit addresses); 0b01 anywhere else, level 3 included, is a
 *   Translation fault.
 * - Next-level table and output addresses with bits set at or above the
 *   effective IPS are a stage 1 Address Size fault at that level.
 * - AF == 0 without HTTU is an Access flag fault unless CD.AFFD.
 * - Per lookup the order is: walk external abort, Translation, Address
 *   Size, Access flag, then Permission once the walk is done (QEMU: "An
 *   Access flag fault takes priority over a Permission fault").
 * - Permissions: AP[2] removes writes, AP[1] grants EL0 (unprivileged)
 *   read and, without AP[2], write; APTable[0] removes unprivileged
 *   access, APTable[1] all writes; PXN/UXN and their table forms remove
 *   execution; EL0-writable memory is PXN; CD.WXN removes execution from
 *   writable memory, CD.PAN privileged data access from EL0-accessible
 *   memory. An instruction fetch is checked against execute permission.
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
#define PT_TABLE_UXN	  (1ull << 60)
#define PT_TABLE_AP_NOEL0 (1ull << 61) /* APTable[0]: no EL0 access */
#define PT_TABLE_AP_RO	  (1ull << 62) /* APTable[1]: no write access */

#define PT_DESC_BYTES	  8u
#define PT_DESC_SHIFT	  3u
#define SMMU_PT_4K_SHIFT  12u
#define SMMU_PT_16K_SHIFT 14u
#define SMMU_PT_64K_SHIFT 16u

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

/* Restrictions collected from the table descriptors on the way down. */
struct pt_table_attrs {
	bool ro, noel0, pxn, uxn;
};

/*
 * Arm ARM Table D8-65 for the EL1&0 regime, then APTable, PXNTable and
 * UXNTable, then CD.WXN and CD.PAN (SMMUv3 5.4).
 */
static void leaf_permissions(const struct smmu_pt_cfg *cfg, uint64_t desc,
			     const struct pt_table_attrs *t,
			     struct smmu_pt_result *out)
{
	bool ro = (desc & PT_DESC_AP2) || t->ro;
	bool el0 = (desc & PT_DESC_AP1) && !t->noel0;

	out->readable = true;
	out->writable = !ro;
	out->user = el0;
	out->user_writable = el0 && !ro;
	out->user_exec = !(desc & PT_DESC_UXN) && !t->uxn;
	/* VMSAv8-64: memory writable at EL0 is always privileged XN. */
	out->exec = !(desc & PT_DESC_PXN) && !t->pxn && !out->user_writable;
	if (cfg->wxn) {
		out->exec = out->exec && !out->writable;
		out->user_exec = out->user_exec && !out->user_writable;
	}
	if (cfg->pan && (out->user || out->user_writable)) {
		out->readable = false;
		out->writable = false;
	}
}

static bool access_permitted(const struct smmu_pt_result *r,
			     unsigned int access)
{
	bool priv = access & SMMU_PT_ACCESS_PRIV;

	if (access & DMA_READ) {
		bool ok;

		if (access & SMMU_PT_ACCESS_INSTR)
			ok = priv ? r->exec : r->user_exec;
		else
			ok = priv ? r->readable : r->user;
		if (!ok)
			return false;
	}
	if (access & DMA_WRITE)
		return priv ? r->writable : r->user_writable;
	return true;
}

int smmu_pt_walk(const struct smmu_pt_cfg *cfg, uint64_t iova,
		 unsigned int access, smmu_pt_read_fn read, void *opaque,
		 struct smmu_pt_result *out)
{
	const unsigned int known = DMA_READ | DMA_WRITE | SMMU_PT_ACCESS_PRIV |
				   SMMU_PT_ACCESS_INSTR;
	int shift = granule_shift(cfg->granule);
	unsigned int pg_shift, stride, level, start, idx_bits;
	uint64_t table, oa_limit;
	struct pt_table_attrs attrs = { 0 };

	*out = (struct smmu_pt_result){ .fault = SMMU_PT_TRANSLATION };
	if (shift < 0 || !cfg->aarch64 || cfg->ias < SMMU_PT_MIN_IAS ||
	    cfg->ias > SMMU_PT_MAX_IAS || !oas_valid(cfg->oas) ||
	    (access & ~known))
		return -EINVAL;
	pg_shift = (unsigned int)shift;
	stride = pg_shift - PT_DESC_SHIFT;
	oa_limit = 1ull << cfg->oas;
	/* SMMUv3 5.4 CD.TTB0: outside the effective IPS is ILLEGAL. */
	if (cfg->ttbr >= oa_limit)
		return -EINVAL;

	/* Start at the fewest levels whose entries cover the IAS. */
	start = SMMU_PT_MAX_LEVEL + 1 -
		(cfg->ias - pg_shift + stride - 1) / stride;
	idx_bits = cfg->ias - level_shift(pg_shift, start);
	/*
	 * TTB0 bits below the start table's size are treated as zero. The
	 * smallest table (2 entries) is 16 bytes, which also drops TTB0[3:0]
	 * that the CD field does not hold.
	 */
	table = cfg->ttbr & ~(((uint64_t)PT_DESC_BYTES << idx_bits) - 1);

	/* Outside the TTB0 range: no lookup is made, reported at level 0. */
	if (iova >> cfg->ias) {
		set_fault(out, SMMU_PT_TRANSLATION, 0);
		return 0;
	}

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
			/*
			 * With 16K/64K granules bits [granule-1:12] are
			 * ignored (64K: OA[51:48] only with 52-bit PAs).
			 */
			uint64_t next = desc & SMMU_PT_GENMASK(PT_DESC_ADDR_HI,
							       pg_shift);

			if (next >= oa_limit) {
				set_fault(out, SMMU_PT_ADDR_SIZE, level);
				return 0;
			}
			if (!cfg->had) {
				attrs.ro |= !!(desc & PT_TABLE_AP_RO);
				attrs.noel0 |= !!(desc & PT_TABLE_AP_NOEL0);
				attrs.pxn |= !!(desc & PT_TABLE_PXN);
				attrs.uxn |= !!(desc & PT_TABLE_UXN);
			}
			table = next;
			continue;
		}

		/* 0b01 where no block may be, including level 3: reserved. */
		if (level < SMMU_PT_MAX_LEVEL &&
		    !block_allowed(pg_shift, level)) {
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
		if (!(desc & PT_DESC_AF) && !cfg->affd) {
			set_fault(out, SMMU_PT_ACCESS, level);
			return 0;
		}

		out->pa = oa | (iova & (size - 1));
		out->size = size;
		out->level = level;
		leaf_permissions(cfg, desc, &attrs, out);
		out->fault = access_permitted(out, access) ? SMMU_PT_OK
							   : SMMU_PT_PERMISSION;
		return 0;
	}
	/* Not reached: level 3 always returns. */
	set_fault(out, SMMU_PT_TRANSLATION, SMMU_PT_MAX_LEVEL);
	return 0;
}
