// SPDX-License-Identifier: GPL-2.0
/* The SMMUv3 stage-1 walker over hand-built tables in a fake RAM: start
 * levels per granule and IAS, pages and blocks, every fault kind and their
 * priority, permissions for unprivileged (the default) and privileged data
 * and instruction accesses, table attribute inheritance, and a table loop
 * that cannot outlast level 3. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "iommu/dma.h"
#include "iommu/smmu_pt.h"

#define RAM_BASE 0x40000000ull
#define RAM_SIZE (4ull << 20)

#define SZ_4K	0x1000ull
#define SZ_16K	0x4000ull
#define SZ_64K	0x10000ull
#define SZ_2M	(2ull << 20)
#define SZ_32M	(32ull << 20)
#define SZ_512M (512ull << 20)
#define SZ_1G	(1ull << 30)

#define D_TABLE 3ull
#define D_PAGE	3ull
#define D_BLOCK 1ull
#define D_AP1	(1ull << 6)
#define D_AP2	(1ull << 7)
#define D_AF	(1ull << 10)
#define D_PXN	(1ull << 53)
#define D_UXN	(1ull << 54)
#define T_PXN	(1ull << 59)
#define T_UXN	(1ull << 60)
#define T_NOEL0 (1ull << 61)
#define T_RO	(1ull << 62)

/*
 * What Linux io-pgtable writes for IOMMU_READ | IOMMU_WRITE without
 * IOMMU_PRIV: AF and AP[1] (EL0 accessible), so a device's default
 * unprivileged data accesses may use it.
 */
#define PAGE  (D_PAGE | D_AF | D_AP1)
#define BLOCK (D_BLOCK | D_AF | D_AP1)

#define PRIV  SMMU_PT_ACCESS_PRIV
#define INSTR SMMU_PT_ACCESS_INSTR

static uint64_t ram[RAM_SIZE / 8];
static unsigned int reads;
static uint64_t fail_pa = UINT64_MAX; /* a read here fails */

static int ram_read(void *opaque, uint64_t pa, uint64_t *desc)
{
	cr_assert_eq(opaque, ram);
	reads++;
	if (pa == fail_pa || pa & 7 || pa < RAM_BASE ||
	    pa - RAM_BASE >= RAM_SIZE)
		return -EFAULT;
	*desc = ram[(pa - RAM_BASE) / 8];
	return 0;
}

static void setup(void)
{
	memset(ram, 0, sizeof(ram));
	reads = 0;
	fail_pa = UINT64_MAX;
}

TestSuite(smmu_pt, .init = setup);

/* Table number @n of size @gran in the fake RAM. */
static uint64_t tbl(unsigned int n, uint64_t gran)
{
	return RAM_BASE + n * gran;
}

static void put(uint64_t table, uint64_t index, uint64_t desc)
{
	ram[(table - RAM_BASE) / 8 + index] = desc;
}

static struct smmu_pt_cfg cfg(unsigned int granule, unsigned int ias,
			      uint64_t ttbr)
{
	return (struct smmu_pt_cfg){ .granule = granule,
				     .ias = ias,
				     .oas = 48,
				     .ttbr = ttbr,
				     .aarch64 = true };
}

static struct smmu_pt_result walk(const struct smmu_pt_cfg *c, uint64_t iova,
				  unsigned int access)
{
	struct smmu_pt_result r;

	reads = 0;
	cr_assert_eq(smmu_pt_walk(c, iova, access, ram_read, ram, &r), 0);
	return r;
}

/* 4K: level n resolves bits [12 + 9 * (3 - n) + 8 : 12 + 9 * (3 - n)]. */
#define IOVA_4K(i0, i1, i2, i3, off)                       \
	(((uint64_t)(i0) << 39) | ((uint64_t)(i1) << 30) | \
	 ((uint64_t)(i2) << 21) | ((uint64_t)(i3) << 12) | (off))

/* Four 4K tables chained at indices 3/5/7/9 ending in @leaf at level 3. */
static void build_4k_chain(uint64_t leaf)
{
	put(tbl(0, SZ_4K), 3, tbl(1, SZ_4K) | D_TABLE);
	put(tbl(1, SZ_4K), 5, tbl(2, SZ_4K) | D_TABLE);
	put(tbl(2, SZ_4K), 7, tbl(3, SZ_4K) | D_TABLE);
	put(tbl(3, SZ_4K), 9, leaf);
}

Test(smmu_pt, granule_4k_ias48_walks_four_levels_to_a_page)
{
	struct smmu_pt_cfg c = cfg(4096, 48, tbl(0, SZ_4K));
	struct smmu_pt_result r;

	build_4k_chain(0x12345000ull | PAGE);
	r = walk(&c, IOVA_4K(3, 5, 7, 9, 0xabc), DMA_READ | DMA_WRITE);
	cr_assert_eq(r.fault, SMMU_PT_OK);
	cr_assert_eq(r.pa, 0x12345abcull);
	cr_assert_eq(r.size, SZ_4K);
	cr_assert_eq(r.level, 3);
	cr_assert_eq(reads, 4);
	/* EL0 read/write, so privileged execute-never */
	cr_assert(r.readable && r.writable && r.user && r.user_writable);
	cr_assert(r.user_exec && !r.exec);
}

Test(smmu_pt, granule_4k_ias39_starts_at_level1)
{
	struct smmu_pt_cfg c = cfg(4096, 39, tbl(1, SZ_4K));
	struct smmu_pt_result r;

	build_4k_chain(0x7000ull | PAGE);
	/* Bit 39 would be level 0: with IAS 39 it is out of range. */
	r = walk(&c, IOVA_4K(0, 5, 7, 9, 0x10), DMA_READ);
	cr_assert_eq(r.fault, SMMU_PT_OK);
	cr_assert_eq(r.pa, 0x7010ull);
	cr_assert_eq(reads, 3);
	/* a different level-1 slot, left empty */
	cr_assert_eq(walk(&c, IOVA_4K(0, 511, 7, 9, 0), DMA_READ).fault,
		     SMMU_PT_TRANSLATION);
}

Test(smmu_pt, granule_4k_ias30_starts_at_level2)
{
	struct smmu_pt_cfg c = cfg(4096, 30, tbl(2, SZ_4K));
	struct smmu_pt_result r;

	build_4k_chain(0x9000ull | PAGE);
	r = walk(&c, IOVA_4K(0, 0, 7, 9, 0x8), DMA_READ);
	cr_assert_eq(r.fault, SMMU_PT_OK);
	cr_assert_eq(r.pa, 0x9008ull);
	cr_assert_eq(reads, 2);
}

Test(smmu_pt, granule_16k_ias48_walks_four_levels_with_a_two_entry_level0)
{
	uint64_t t0 = tbl(0, SZ_16K), t1 = tbl(1, SZ_16K);
	uint64_t t2 = tbl(2, SZ_16K), t3 = tbl(3, SZ_16K);
	struct smmu_pt_cfg c = cfg(16384, 48, t0);
	/* 16K: L0 bit 47, L1 [46:36], L2 [35:25], L3 [24:14]. */
	uint64_t iova = (1ull << 47) | (2ull << 36) | (3ull << 25) |
			(4ull << 14) | 0x1234;
	struct smmu_pt_result r;

	put(t0, 1, t1 | D_TABLE);
	put(t1, 2, t2 | D_TABLE);
	put(t2, 3, t3 | D_TABLE);
	put(t3, 4, 0x88888000ull | PAGE);
	r = walk(&c, iova, DMA_READ);
	cr_assert_eq(r.fault, SMMU_PT_OK);
	cr_assert_eq(r.pa, 0x88889234ull);
	cr_assert_eq(r.size, SZ_16K);
	cr_assert_eq(reads, 4);
}

Test(smmu_pt, granule_16k_ias47_and_ias36_start_lower)
{
	uint64_t t1 = tbl(1, SZ_16K), t2 = tbl(2, SZ_16K);
	uint64_t t3 = tbl(3, SZ_16K);
	struct smmu_pt_cfg c = cfg(16384, 47, t1);
	uint64_t iova = (2ull << 36) | (3ull << 25) | (4ull << 14) | 0x10;
	struct smmu_pt_result r;

	put(t1, 2, t2 | D_TABLE);
	put(t2, 3, t3 | D_TABLE);
	put(t3, 4, 0x4000ull | PAGE);
	r = walk(&c, iova, DMA_READ);
	cr_assert_eq(r.fault, SMMU_PT_OK);
	cr_assert_eq(r.pa, 0x4010ull);
	cr_assert_eq(reads, 3);

	c = cfg(16384, 36, t2);
	r = walk(&c, iova & ((1ull << 36) - 1), DMA_READ);
	cr_assert_eq(r.fault, SMMU_PT_OK);
	cr_assert_eq(r.pa, 0x4010ull);
	cr_assert_eq(reads, 2);
}

Test(smmu_pt, granule_64k_ias48_starts_at_level1_ias42_at_level2)
{
	uint64_t t1 = tbl(1, SZ_64K), t2 = tbl(2, SZ_64K);
	uint64_t t3 = tbl(3, SZ_64K);
	struct smmu_pt_cfg c = cfg(65536, 48, t1);
	/* 64K: L1 [47:42] (6 bits), L2 [41:29], L3 [28:16]. */
	uint64_t iova =
		(33ull << 42) | (8000ull << 29) | (4097ull << 16) | 0xfedc;
	struct smmu_pt_result r;

	put(t1, 33, t2 | D_TABLE);
	put(t2, 8000, t3 | D_TABLE);
	put(t3, 4097, 0xabc0000ull | PAGE);
	r = walk(&c, iova, DMA_READ);
	cr_assert_eq(r.fault, SMMU_PT_OK);
	cr_assert_eq(r.pa, 0xabcfedcull);
	cr_assert_eq(r.size, SZ_64K);
	cr_assert_eq(r.level, 3);
	cr_assert_eq(reads, 3);

	c = cfg(65536, 42, t2);
	r = walk(&c, iova & ((1ull << 42) - 1), DMA_READ);
	cr_assert_eq(r.fault, SMMU_PT_OK);
	cr_assert_eq(r.pa, 0xabcfedcull);
	cr_assert_eq(reads, 2);
}

Test(smmu_pt, block_2m_at_level2_with_4k)
{
	struct smmu_pt_cfg c = cfg(4096, 48, tbl(0, SZ_4K));
	struct smmu_pt_result r;

	build_4k_chain(0);
	put(tbl(2, SZ_4K), 7, 0x80200000ull | BLOCK);
	r = walk(&c, IOVA_4K(3, 5, 7, 9, 0x123), DMA_READ);
	cr_assert_eq(r.fault, SMMU_PT_OK);
	cr_assert_eq(r.pa, 0x80200000ull + (9ull << 12) + 0x123);
	cr_assert_eq(r.size, SZ_2M);
	cr_assert_eq(r.level, 2);
	cr_assert_eq(reads, 3);
}

Test(smmu_pt, block_1g_at_level1_with_4k)
{
	struct smmu_pt_cfg c = cfg(4096, 48, tbl(0, SZ_4K));
	struct smmu_pt_result r;

	build_4k_chain(0);
	put(tbl(1, SZ_4K), 5, 0x40000000ull * 7 | BLOCK);
	r = walk(&c, IOVA_4K(3, 5, 7, 9, 0x123), DMA_READ);
	cr_assert_eq(r.fault, SMMU_PT_OK);
	cr_assert_eq(r.pa, SZ_1G * 7 + (7ull << 21) + (9ull << 12) + 0x123);
	cr_assert_eq(r.size, SZ_1G);
	cr_assert_eq(r.level, 1);
}

Test(smmu_pt, block_32m_at_level2_with_16k)
{
	uint64_t t2 = tbl(2, SZ_16K);
	struct smmu_pt_cfg c = cfg(16384, 36, t2);
	uint64_t iova = (3ull << 25) | 0x1abcdef;
	struct smmu_pt_result r;

	put(t2, 3, 0x6000000ull | BLOCK);
	r = walk(&c, iova, DMA_READ);
	cr_assert_eq(r.fault, SMMU_PT_OK);
	cr_assert_eq(r.pa, 0x6000000ull + 0x1abcdef);
	cr_assert_eq(r.size, SZ_32M);
	cr_assert_eq(r.level, 2);
}

Test(smmu_pt, block_512m_at_level2_with_64k)
{
	uint64_t t2 = tbl(2, SZ_64K);
	struct smmu_pt_cfg c = cfg(65536, 42, t2);
	uint64_t iova = (5ull << 29) | 0x1234567;
	struct smmu_pt_result r;

	put(t2, 5, 0x60000000ull | BLOCK);
	r = walk(&c, iova, DMA_READ);
	cr_assert_eq(r.fault, SMMU_PT_OK);
	cr_assert_eq(r.pa, 0x60000000ull + 0x1234567);
	cr_assert_eq(r.size, SZ_512M);
	cr_assert_eq(r.level, 2);
}

Test(smmu_pt, invalid_descriptor_at_each_level_is_a_translation_fault)
{
	struct smmu_pt_cfg c = cfg(4096, 48, tbl(0, SZ_4K));
	static const uint64_t slot[4] = { 3, 5, 7, 9 };

	for (unsigned int level = 0; level < 4; level++) {
		struct smmu_pt_result r;

		setup();
		build_4k_chain(0x5000ull | PAGE);
		/* bit 0 clear, everything else looks like a table or page */
		put(tbl(level, SZ_4K), slot[level],
		    (tbl(level + 1, SZ_4K) | D_AF | 2) & ~1ull);
		r = walk(&c, IOVA_4K(3, 5, 7, 9, 0), DMA_READ);
		cr_assert_eq(r.fault, SMMU_PT_TRANSLATION, "level %u", level);
		cr_assert_eq(r.level, level);
		cr_assert_eq(reads, level + 1);
	}
}

Test(smmu_pt, blocks_where_the_architecture_has_none_are_translation_faults)
{
	struct smmu_pt_cfg c = cfg(4096, 48, tbl(0, SZ_4K));
	struct smmu_pt_result r;

	/* 4K level 0 block */
	put(tbl(0, SZ_4K), 3, BLOCK);
	r = walk(&c, IOVA_4K(3, 5, 7, 9, 0), DMA_READ);
	cr_assert_eq(r.fault, SMMU_PT_TRANSLATION);
	cr_assert_eq(r.level, 0);

	/* 0b01 at level 3 is reserved */
	build_4k_chain(0x5000ull | BLOCK);
	r = walk(&c, IOVA_4K(3, 5, 7, 9, 0), DMA_READ);
	cr_assert_eq(r.fault, SMMU_PT_TRANSLATION);
	cr_assert_eq(r.level, 3);

	/* 16K: no block at level 0 or 1 without 52-bit addresses */
	setup();
	c = cfg(16384, 48, tbl(0, SZ_16K));
	put(tbl(0, SZ_16K), 0, BLOCK);
	r = walk(&c, 0x1000, DMA_READ);
	cr_assert_eq(r.fault, SMMU_PT_TRANSLATION);
	cr_assert_eq(r.level, 0);

	setup();
	c = cfg(16384, 47, tbl(1, SZ_16K));
	put(tbl(1, SZ_16K), 0, BLOCK);
	r = walk(&c, 0x1000, DMA_READ);
	cr_assert_eq(r.fault, SMMU_PT_TRANSLATION);
	cr_assert_eq(r.level, 1);

	/* 64K: none at level 1 either */
	setup();
	c = cfg(65536, 48, tbl(1, SZ_64K));
	put(tbl(1, SZ_64K), 0, BLOCK);
	r = walk(&c, 0x1000, DMA_READ);
	cr_assert_eq(r.fault, SMMU_PT_TRANSLATION);
	cr_assert_eq(r.level, 1);

	/* and 0b01 at level 3 is reserved with 16K and 64K too */
	setup();
	c = cfg(16384, 25, tbl(0, SZ_16K));
	put(tbl(0, SZ_16K), 1, 0x8000ull | BLOCK);
	r = walk(&c, 1ull << 14, DMA_READ);
	cr_assert_eq(r.fault, SMMU_PT_TRANSLATION);
	cr_assert_eq(r.level, 3);
	c = cfg(65536, 29, tbl(0, SZ_64K));
	put(tbl(0, SZ_64K), 1, 0x10000ull | BLOCK);
	r = walk(&c, 1ull << 16, DMA_READ);
	cr_assert_eq(r.fault, SMMU_PT_TRANSLATION);
	cr_assert_eq(r.level, 3);
}

Test(smmu_pt, granule_4k_ias25_starts_at_level2_with_16_entries)
{
	struct smmu_pt_cfg c = cfg(4096, 25, tbl(2, SZ_4K));
	struct smmu_pt_result r;

	build_4k_chain(0x9000ull | PAGE);
	put(tbl(2, SZ_4K), 15, tbl(3, SZ_4K) | D_TABLE);
	r = walk(&c, IOVA_4K(0, 0, 15, 9, 0x8), DMA_READ);
	cr_assert_eq(r.fault, SMMU_PT_OK);
	cr_assert_eq(r.pa, 0x9008ull);
	cr_assert_eq(reads, 2);
	/* bit 25 is beyond the IAS */
	r = walk(&c, IOVA_4K(0, 0, 16 + 7, 9, 0), DMA_READ);
	cr_assert_eq(r.fault, SMMU_PT_TRANSLATION);
	cr_assert_eq(reads, 0);
}

Test(smmu_pt, output_address_beyond_oas_is_an_address_size_fault)
{
	struct smmu_pt_cfg c = cfg(4096, 48, tbl(0, SZ_4K));
	struct smmu_pt_result r;

	build_4k_chain((1ull << 40) | PAGE);
	c.oas = 40;
	r = walk(&c, IOVA_4K(3, 5, 7, 9, 0), DMA_READ);
	cr_assert_eq(r.fault, SMMU_PT_ADDR_SIZE);
	cr_assert_eq(r.level, 3);
	c.oas = 44;
	r = walk(&c, IOVA_4K(3, 5, 7, 9, 0x4), DMA_READ);
	cr_assert_eq(r.fault, SMMU_PT_OK);
	cr_assert_eq(r.pa, (1ull << 40) | 4);

	/* a 2 MiB block beyond a 32-bit OAS */
	put(tbl(2, SZ_4K), 7, (1ull << 32) | BLOCK);
	c.oas = 32;
	r = walk(&c, IOVA_4K(3, 5, 7, 9, 0), DMA_READ);
	cr_assert_eq(r.fault, SMMU_PT_ADDR_SIZE);
	cr_assert_eq(r.level, 2);

	/* a 64K page beyond a 36-bit OAS */
	setup();
	c = cfg(65536, 29, tbl(0, SZ_64K));
	c.oas = 36;
	put(tbl(0, SZ_64K), 2, (1ull << 36) | PAGE);
	r = walk(&c, 2ull << 16, DMA_READ);
	cr_assert_eq(r.fault, SMMU_PT_ADDR_SIZE);
	cr_assert_eq(r.level, 3);
}

Test(smmu_pt, table_beyond_oas_is_an_address_size_fault_without_a_read)
{
	struct smmu_pt_cfg c = cfg(4096, 48, tbl(0, SZ_4K));
	struct smmu_pt_result r;

	put(tbl(0, SZ_4K), 3, (1ull << 36) | D_TABLE);
	c.oas = 36;
	r = walk(&c, IOVA_4K(3, 5, 7, 9, 0), DMA_READ);
	cr_assert_eq(r.fault, SMMU_PT_ADDR_SIZE);
	cr_assert_eq(r.level, 0);
	cr_assert_eq(reads, 1);

	/* 16K, level 2 table beyond a 40-bit OAS */
	setup();
	c = cfg(16384, 36, tbl(0, SZ_16K));
	c.oas = 40;
	put(tbl(0, SZ_16K), 0, (1ull << 40) | D_TABLE);
	r = walk(&c, 0, DMA_READ);
	cr_assert_eq(r.fault, SMMU_PT_ADDR_SIZE);
	cr_assert_eq(r.level, 2);
}

Test(smmu_pt, ttb0_beyond_oas_is_an_illegal_cd)
{
	struct smmu_pt_cfg c = cfg(4096, 48, 1ull << 32);
	struct smmu_pt_result r;

	/* SMMUv3 5.4: C_BAD_CD, not a stage 1 Address Size fault */
	c.oas = 32;
	reads = 0;
	cr_assert_eq(smmu_pt_walk(&c, 0, DMA_READ, ram_read, ram, &r), -EINVAL);
	cr_assert_eq(reads, 0);
	c.oas = 36;
	cr_assert_eq(smmu_pt_walk(&c, 0, DMA_READ, ram_read, ram, &r), 0);
	cr_assert_eq(r.fault, SMMU_PT_WALK_EABT); /* outside the fake RAM */
}

Test(smmu_pt, input_beyond_ias_faults_before_the_walk)
{
	struct smmu_pt_cfg c = cfg(4096, 39, tbl(1, SZ_4K));
	struct smmu_pt_result r;

	/* would translate if bit 39 were ignored */
	build_4k_chain(0x7000ull | PAGE);
	r = walk(&c, (1ull << 39) | IOVA_4K(0, 5, 7, 9, 0), DMA_READ);
	cr_assert_eq(r.fault, SMMU_PT_TRANSLATION);
	cr_assert_eq(r.level, 0);
	cr_assert_eq(reads, 0);
	r = walk(&c, UINT64_MAX, DMA_READ);
	cr_assert_eq(r.fault, SMMU_PT_TRANSLATION);
	cr_assert_eq(reads, 0);
}

Test(smmu_pt, access_flag_clear_is_an_access_fault_unless_affd)
{
	struct smmu_pt_cfg c = cfg(4096, 48, tbl(0, SZ_4K));
	struct smmu_pt_result r;

	build_4k_chain(0x5000ull | D_PAGE | D_AP1);
	r = walk(&c, IOVA_4K(3, 5, 7, 9, 0), DMA_READ);
	cr_assert_eq(r.fault, SMMU_PT_ACCESS);
	cr_assert_eq(r.level, 3);

	put(tbl(2, SZ_4K), 7, 0x200000ull | D_BLOCK | D_AP1);
	r = walk(&c, IOVA_4K(3, 5, 7, 9, 0), DMA_READ);
	cr_assert_eq(r.fault, SMMU_PT_ACCESS);
	cr_assert_eq(r.level, 2);

	/* 16K and 64K pages */
	setup();
	c = cfg(16384, 25, tbl(0, SZ_16K));
	put(tbl(0, SZ_16K), 3, 0xc000ull | D_PAGE | D_AP1);
	cr_assert_eq(walk(&c, 3ull << 14, DMA_READ).fault, SMMU_PT_ACCESS);
	c = cfg(65536, 29, tbl(0, SZ_64K));
	put(tbl(0, SZ_64K), 3, 0x30000ull | D_PAGE | D_AP1);
	cr_assert_eq(walk(&c, 3ull << 16, DMA_READ).fault, SMMU_PT_ACCESS);

	/* CD.AFFD: AF is taken as 1 */
	c.affd = true;
	r = walk(&c, (3ull << 16) | 0x10, DMA_READ);
	cr_assert_eq(r.fault, SMMU_PT_OK);
	cr_assert_eq(r.pa, 0x30010ull);
}

Test(smmu_pt, fault_priority_within_a_lookup)
{
	struct smmu_pt_cfg c = cfg(4096, 48, tbl(0, SZ_4K));

	/* beyond the OAS and AF clear: Address Size first */
	build_4k_chain((1ull << 40) | D_PAGE | D_AP1);
	c.oas = 40;
	cr_assert_eq(walk(&c, IOVA_4K(3, 5, 7, 9, 0), DMA_READ).fault,
		     SMMU_PT_ADDR_SIZE);
	/* AF clear on a read-only page written: Access flag first */
	put(tbl(3, SZ_4K), 9, 0x5000ull | D_PAGE | D_AP1 | D_AP2);
	cr_assert_eq(walk(&c, IOVA_4K(3, 5, 7, 9, 0), DMA_WRITE).fault,
		     SMMU_PT_ACCESS);
	/* a 0b01 at level 3 beyond the OAS: Translation first */
	put(tbl(3, SZ_4K), 9, (1ull << 40) | BLOCK);
	cr_assert_eq(walk(&c, IOVA_4K(3, 5, 7, 9, 0), DMA_READ).fault,
		     SMMU_PT_TRANSLATION);
	/* an external abort on the level 2 read hides the leaf */
	put(tbl(3, SZ_4K), 9, 0x5000ull | D_PAGE);
	fail_pa = tbl(2, SZ_4K) + 7 * 8;
	cr_assert_eq(walk(&c, IOVA_4K(3, 5, 7, 9, 0), DMA_READ).fault,
		     SMMU_PT_WALK_EABT);
}

/* Walk one 4K page with @leaf attributes for @access. */
static enum smmu_pt_fault leaf_fault(const struct smmu_pt_cfg *c, uint64_t leaf,
				     unsigned int access)
{
	put(tbl(3, SZ_4K), 9, 0x5000ull | D_PAGE | D_AF | leaf);
	return walk(c, IOVA_4K(3, 5, 7, 9, 0), access).fault;
}

Test(smmu_pt, ap_bits_for_unprivileged_and_privileged_data_access)
{
	struct smmu_pt_cfg c = cfg(4096, 48, tbl(0, SZ_4K));
	const unsigned int rd = DMA_READ, wr = DMA_WRITE;

	build_4k_chain(0);
	/* AP[2:1] = 00: privileged read/write only */
	cr_assert_eq(leaf_fault(&c, 0, rd), SMMU_PT_PERMISSION);
	cr_assert_eq(leaf_fault(&c, 0, wr), SMMU_PT_PERMISSION);
	cr_assert_eq(leaf_fault(&c, 0, rd | wr | PRIV), SMMU_PT_OK);
	/* 01: read/write at both */
	cr_assert_eq(leaf_fault(&c, D_AP1, rd | wr), SMMU_PT_OK);
	cr_assert_eq(leaf_fault(&c, D_AP1, rd | wr | PRIV), SMMU_PT_OK);
	/* 10: privileged read-only */
	cr_assert_eq(leaf_fault(&c, D_AP2, rd), SMMU_PT_PERMISSION);
	cr_assert_eq(leaf_fault(&c, D_AP2, rd | PRIV), SMMU_PT_OK);
	cr_assert_eq(leaf_fault(&c, D_AP2, wr | PRIV), SMMU_PT_PERMISSION);
	/* 11: read-only at both */
	cr_assert_eq(leaf_fault(&c, D_AP2 | D_AP1, rd), SMMU_PT_OK);
	cr_assert_eq(leaf_fault(&c, D_AP2 | D_AP1, rd | PRIV), SMMU_PT_OK);
	cr_assert_eq(leaf_fault(&c, D_AP2 | D_AP1, wr), SMMU_PT_PERMISSION);
	cr_assert_eq(leaf_fault(&c, D_AP2 | D_AP1, rd | wr),
		     SMMU_PT_PERMISSION);
	cr_assert_eq(leaf_fault(&c, D_AP2 | D_AP1, wr | PRIV),
		     SMMU_PT_PERMISSION);
}

Test(smmu_pt, permission_fault_reports_the_level_and_the_mapping)
{
	struct smmu_pt_cfg c = cfg(4096, 48, tbl(0, SZ_4K));
	struct smmu_pt_result r;

	build_4k_chain(0);
	put(tbl(1, SZ_4K), 5, 0x80000000ull | D_BLOCK | D_AF | D_AP2);
	r = walk(&c, IOVA_4K(3, 5, 7, 9, 0x10), DMA_WRITE | PRIV);
	cr_assert_eq(r.fault, SMMU_PT_PERMISSION);
	cr_assert_eq(r.level, 1);
	cr_assert_eq(r.size, SZ_1G);
	cr_assert(r.readable && !r.writable && !r.user && !r.user_writable);
}

Test(smmu_pt, aptable_restrictions_apply_to_every_lower_level)
{
	struct smmu_pt_cfg c = cfg(4096, 48, tbl(0, SZ_4K));
	struct smmu_pt_result r;

	build_4k_chain(0x5000ull | PAGE);
	r = walk(&c, IOVA_4K(3, 5, 7, 9, 0), DMA_WRITE);
	cr_assert_eq(r.fault, SMMU_PT_OK);
	cr_assert(r.writable && r.user && r.user_writable);

	/* APTable[1] at level 1 reaches the level 3 page two levels down */
	put(tbl(1, SZ_4K), 5, tbl(2, SZ_4K) | D_TABLE | T_RO);
	r = walk(&c, IOVA_4K(3, 5, 7, 9, 0), DMA_WRITE);
	cr_assert_eq(r.fault, SMMU_PT_PERMISSION);
	r = walk(&c, IOVA_4K(3, 5, 7, 9, 0), DMA_WRITE | PRIV);
	cr_assert_eq(r.fault, SMMU_PT_PERMISSION);
	r = walk(&c, IOVA_4K(3, 5, 7, 9, 0), DMA_READ);
	cr_assert_eq(r.fault, SMMU_PT_OK);
	cr_assert_not(r.writable || r.user_writable);
	cr_assert(r.user);

	/* APTable[0] takes unprivileged access away, not privileged */
	put(tbl(1, SZ_4K), 5, tbl(2, SZ_4K) | D_TABLE);
	put(tbl(0, SZ_4K), 3, tbl(1, SZ_4K) | D_TABLE | T_NOEL0);
	r = walk(&c, IOVA_4K(3, 5, 7, 9, 0), DMA_READ);
	cr_assert_eq(r.fault, SMMU_PT_PERMISSION);
	cr_assert_not(r.user || r.user_writable);
	r = walk(&c, IOVA_4K(3, 5, 7, 9, 0), DMA_READ | DMA_WRITE | PRIV);
	cr_assert_eq(r.fault, SMMU_PT_OK);

	/* CD.HAD0: the table bits are ignored */
	c.had = true;
	put(tbl(1, SZ_4K), 5, tbl(2, SZ_4K) | D_TABLE | T_RO | T_PXN | T_UXN);
	r = walk(&c, IOVA_4K(3, 5, 7, 9, 0), DMA_READ | DMA_WRITE);
	cr_assert_eq(r.fault, SMMU_PT_OK);
	cr_assert(r.user_exec);
}

Test(smmu_pt, instruction_fetch_needs_execute_permission)
{
	struct smmu_pt_cfg c = cfg(4096, 48, tbl(0, SZ_4K));
	const unsigned int ifetch = DMA_READ | INSTR;
	struct smmu_pt_result r;

	build_4k_chain(0);
	/* read-only at both levels: executable at both */
	cr_assert_eq(leaf_fault(&c, D_AP2 | D_AP1, ifetch), SMMU_PT_OK);
	cr_assert_eq(leaf_fault(&c, D_AP2 | D_AP1, ifetch | PRIV), SMMU_PT_OK);
	/* PXN stops privileged fetches only, UXN unprivileged only */
	cr_assert_eq(leaf_fault(&c, D_AP2 | D_PXN, ifetch | PRIV),
		     SMMU_PT_PERMISSION);
	cr_assert_eq(leaf_fault(&c, D_AP2 | D_PXN, ifetch), SMMU_PT_OK);
	cr_assert_eq(leaf_fault(&c, D_AP2 | D_UXN, ifetch), SMMU_PT_PERMISSION);
	cr_assert_eq(leaf_fault(&c, D_AP2 | D_UXN, ifetch | PRIV), SMMU_PT_OK);
	/* EL0-writable memory is privileged execute-never */
	cr_assert_eq(leaf_fault(&c, D_AP1, ifetch | PRIV), SMMU_PT_PERMISSION);
	cr_assert_eq(leaf_fault(&c, D_AP1, ifetch), SMMU_PT_OK);
	/* a write is data whatever InD says */
	cr_assert_eq(leaf_fault(&c, D_AP1 | D_UXN | D_PXN, DMA_WRITE | INSTR),
		     SMMU_PT_OK);

	/* PXNTable and UXNTable two levels up */
	put(tbl(3, SZ_4K), 9, 0x5000ull | D_PAGE | D_AF | D_AP2);
	put(tbl(1, SZ_4K), 5, tbl(2, SZ_4K) | D_TABLE | T_PXN);
	r = walk(&c, IOVA_4K(3, 5, 7, 9, 0), ifetch | PRIV);
	cr_assert_eq(r.fault, SMMU_PT_PERMISSION);
	cr_assert_not(r.exec);
	put(tbl(1, SZ_4K), 5, tbl(2, SZ_4K) | D_TABLE | T_UXN);
	cr_assert_eq(walk(&c, IOVA_4K(3, 5, 7, 9, 0), ifetch | PRIV).fault,
		     SMMU_PT_OK);
	cr_assert_eq(walk(&c, IOVA_4K(3, 5, 7, 9, 0), ifetch).fault,
		     SMMU_PT_PERMISSION);
}

Test(smmu_pt, cd_wxn_and_pan)
{
	struct smmu_pt_cfg c = cfg(4096, 48, tbl(0, SZ_4K));

	build_4k_chain(0);
	/* WXN: privileged-writable memory is not privileged-executable */
	c.wxn = true;
	cr_assert_eq(leaf_fault(&c, 0, DMA_READ | INSTR | PRIV),
		     SMMU_PT_PERMISSION);
	cr_assert_eq(leaf_fault(&c, D_AP2, DMA_READ | INSTR | PRIV),
		     SMMU_PT_OK);
	/* ... and EL0-writable memory not EL0-executable */
	cr_assert_eq(leaf_fault(&c, D_AP1, DMA_READ | INSTR),
		     SMMU_PT_PERMISSION);
	cr_assert_eq(leaf_fault(&c, D_AP1 | D_AP2, DMA_READ | INSTR),
		     SMMU_PT_OK);
	c.wxn = false;

	/* PAN: no privileged data access to EL0-accessible memory */
	c.pan = true;
	cr_assert_eq(leaf_fault(&c, D_AP1, DMA_READ | PRIV),
		     SMMU_PT_PERMISSION);
	cr_assert_eq(leaf_fault(&c, D_AP1 | D_AP2, DMA_READ | PRIV),
		     SMMU_PT_PERMISSION);
	cr_assert_eq(leaf_fault(&c, D_AP1, DMA_READ | DMA_WRITE), SMMU_PT_OK);
	cr_assert_eq(leaf_fault(&c, 0, DMA_READ | DMA_WRITE | PRIV),
		     SMMU_PT_OK);
	/* instruction fetches are not data accesses */
	cr_assert_eq(leaf_fault(&c, D_AP1 | D_AP2, DMA_READ | INSTR | PRIV),
		     SMMU_PT_OK);
}

Test(smmu_pt, failed_read_is_a_walk_external_abort)
{
	struct smmu_pt_cfg c = cfg(4096, 48, tbl(0, SZ_4K));
	struct smmu_pt_result r;

	build_4k_chain(0x5000ull | PAGE);
	fail_pa = tbl(2, SZ_4K) + 7 * 8;
	r = walk(&c, IOVA_4K(3, 5, 7, 9, 0), DMA_READ);
	cr_assert_eq(r.fault, SMMU_PT_WALK_EABT);
	cr_assert_eq(r.level, 2);
	cr_assert_eq(reads, 3);

	/* a table outside guest RAM */
	fail_pa = UINT64_MAX;
	put(tbl(0, SZ_4K), 3, 0x1000ull | D_TABLE);
	r = walk(&c, IOVA_4K(3, 5, 7, 9, 0), DMA_READ);
	cr_assert_eq(r.fault, SMMU_PT_WALK_EABT);
	cr_assert_eq(r.level, 1);
}

Test(smmu_pt, address_bits_below_the_alignment_are_ignored)
{
	struct smmu_pt_cfg c = cfg(16384, 47, tbl(1, SZ_16K));
	struct smmu_pt_result r;

	/* 16K: next-level bits [13:12] set */
	put(tbl(1, SZ_16K), 0, (tbl(2, SZ_16K) + SZ_4K) | D_TABLE);
	put(tbl(2, SZ_16K), 1, tbl(3, SZ_16K) | D_TABLE);
	/* unmasked, the walk would read the empty entry 1 + 512 */
	put(tbl(3, SZ_16K), 0, 0x8000ull | PAGE);
	r = walk(&c, 0x2000000, DMA_READ);
	cr_assert_eq(r.fault, SMMU_PT_OK);
	cr_assert_eq(r.pa, 0x8000ull);

	/* 64K: bits [15:12] of a table address (no 52-bit PAs) */
	setup();
	c = cfg(65536, 42, tbl(0, SZ_64K));
	put(tbl(0, SZ_64K), 0, (tbl(1, SZ_64K) + 0xf000) | D_TABLE);
	put(tbl(1, SZ_64K), 1, 0x30000ull | PAGE);
	r = walk(&c, (1ull << 16) | 0x44, DMA_READ);
	cr_assert_eq(r.fault, SMMU_PT_OK);
	cr_assert_eq(r.pa, 0x30044ull);

	/* a 2 MiB block's output address bits [20:12] */
	setup();
	c = cfg(4096, 30, tbl(0, SZ_4K));
	put(tbl(0, SZ_4K), 1, 0x80000000ull | 0x1ff000 | BLOCK);
	r = walk(&c, (1ull << 21) | 0x1234, DMA_READ);
	cr_assert_eq(r.fault, SMMU_PT_OK);
	cr_assert_eq(r.pa, 0x80001234ull);

	/* TTB0 below the start table size: 512 entries at IAS 48 */
	setup();
	c = cfg(4096, 48, tbl(0, SZ_4K) + 0x800);
	build_4k_chain(0x5000ull | PAGE);
	r = walk(&c, IOVA_4K(3, 5, 7, 9, 0), DMA_READ);
	cr_assert_eq(r.fault, SMMU_PT_OK);
	cr_assert_eq(r.pa, 0x5000ull);
	/* IAS 40 with 4K: a 2-entry, 16-byte level 0 table */
	c = cfg(4096, 40, tbl(0, SZ_4K) + 0x20);
	put(tbl(0, SZ_4K), 4 + 1, tbl(1, SZ_4K) | D_TABLE);
	r = walk(&c, IOVA_4K(1, 5, 7, 9, 0), DMA_READ);
	cr_assert_eq(r.fault, SMMU_PT_OK);
	cr_assert_eq(r.pa, 0x5000ull);
	c.ttbr = tbl(0, SZ_4K) + 0x2f;
	r = walk(&c, IOVA_4K(1, 5, 7, 9, 0), DMA_READ);
	cr_assert_eq(r.fault, SMMU_PT_OK);
}

Test(smmu_pt, a_table_loop_ends_at_level3)
{
	uint64_t t0 = tbl(0, SZ_4K);
	struct smmu_pt_cfg c = cfg(4096, 48, t0);
	struct smmu_pt_result r;

	/* entry 0 points at its own table; AF, AP[1] so level 3 maps it */
	put(t0, 0, t0 | D_TABLE | D_AF | D_AP1);
	r = walk(&c, 0x18, DMA_READ);
	cr_assert_eq(reads, 4);
	cr_assert_eq(r.level, 3);
	cr_assert_eq(r.fault, SMMU_PT_OK);
	cr_assert_eq(r.pa, t0 + 0x18);
}

Test(smmu_pt, unsupported_configurations_are_refused)
{
	struct smmu_pt_cfg good = cfg(4096, 48, tbl(0, SZ_4K)), c;
	struct smmu_pt_result r;

	cr_assert_eq(smmu_pt_walk(&good, 0, DMA_READ, ram_read, ram, &r), 0);
	c = good, c.granule = 8192;
	cr_assert_eq(smmu_pt_walk(&c, 0, DMA_READ, ram_read, ram, &r), -EINVAL);
	c = good, c.ias = 24;
	cr_assert_eq(smmu_pt_walk(&c, 0, DMA_READ, ram_read, ram, &r), -EINVAL);
	c = good, c.ias = 49;
	cr_assert_eq(smmu_pt_walk(&c, 0, DMA_READ, ram_read, ram, &r), -EINVAL);
	c = good, c.oas = 47;
	cr_assert_eq(smmu_pt_walk(&c, 0, DMA_READ, ram_read, ram, &r), -EINVAL);
	c = good, c.aarch64 = false;
	cr_assert_eq(smmu_pt_walk(&c, 0, DMA_READ, ram_read, ram, &r), -EINVAL);
	cr_assert_eq(smmu_pt_walk(&good, 0, 4, ram_read, ram, &r), -EINVAL);
}

Test(smmu_pt, smallest_ias_starts_at_level3_for_16k_and_64k)
{
	struct smmu_pt_cfg c = cfg(65536, 25, tbl(3, SZ_64K));
	struct smmu_pt_result r;

	/* 64K, IAS 25: one level-3 table of 512 entries */
	put(tbl(3, SZ_64K), 300, 0x30000ull | PAGE);
	r = walk(&c, (300ull << 16) | 0x42, DMA_READ);
	cr_assert_eq(r.fault, SMMU_PT_OK);
	cr_assert_eq(r.pa, 0x30042ull);
	cr_assert_eq(reads, 1);

	c = cfg(16384, 25, tbl(3, SZ_64K));
	put(tbl(3, SZ_64K), 1000, 0x8000ull | PAGE);
	r = walk(&c, (1000ull << 14) | 0x42, DMA_READ);
	cr_assert_eq(r.fault, SMMU_PT_OK);
	cr_assert_eq(r.pa, 0x8042ull);
	cr_assert_eq(reads, 1);
}
