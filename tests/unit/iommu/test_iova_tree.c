// SPDX-License-Identifier: GPL-2.0
/* The per-domain mapping structure: overlaps, UNMAP without splits,
 * full-range and 2^64 - 1 ends, the limit, the lookup cache. */
#include <criterion/criterion.h>
#include <errno.h>

#include "iommu/iova_tree.h"

static struct iova_tree t;

static void setup(void)
{
	iova_tree_init(&t, 0);
}

static void teardown(void)
{
	iova_tree_destroy(&t);
}

TestSuite(iova_tree, .init = setup, .fini = teardown);

Test(iova_tree, lookup_finds_the_mapping_and_its_edges)
{
	cr_assert_eq(iova_tree_insert(&t, 0x1000, 0x1fff, 0x80000000, 1), 0);
	cr_assert_null(iova_tree_lookup(&t, 0xfff));
	cr_assert_eq(iova_tree_lookup(&t, 0x1000)->phys, 0x80000000);
	cr_assert_eq(iova_tree_lookup(&t, 0x1fff)->end, 0x1fff);
	cr_assert_null(iova_tree_lookup(&t, 0x2000));
}

Test(iova_tree, adjacent_mappings_are_both_accepted)
{
	cr_assert_eq(iova_tree_insert(&t, 0x2000, 0x2fff, 0x2000, 1), 0);
	cr_assert_eq(iova_tree_insert(&t, 0x1000, 0x1fff, 0x9000, 1), 0);
	cr_assert_eq(iova_tree_insert(&t, 0x3000, 0x3fff, 0x5000, 2), 0);
	cr_assert_eq(iova_tree_lookup(&t, 0x1fff)->phys, 0x9000);
	cr_assert_eq(iova_tree_lookup(&t, 0x2000)->phys, 0x2000);
	cr_assert_eq(iova_tree_lookup(&t, 0x3000)->phys, 0x5000);
	cr_assert_eq(t.count, 3);
}

Test(iova_tree, overlaps_are_refused)
{
	cr_assert_eq(iova_tree_insert(&t, 0x2000, 0x3fff, 0, 1), 0);
	cr_assert_eq(iova_tree_insert(&t, 0x1000, 0x2000, 0, 1), -EEXIST);
	cr_assert_eq(iova_tree_insert(&t, 0x3fff, 0x4fff, 0, 1), -EEXIST);
	cr_assert_eq(iova_tree_insert(&t, 0x2800, 0x2fff, 0, 1), -EEXIST);
	cr_assert_eq(iova_tree_insert(&t, 0, UINT64_MAX, 0, 1), -EEXIST);
	cr_assert_eq(iova_tree_insert(&t, 0x5000, 0x4000, 0, 1), -EINVAL);
	cr_assert_eq(t.count, 1);
}

Test(iova_tree, full_range_mapping_and_top_of_space)
{
	cr_assert_eq(iova_tree_insert(&t, 0, UINT64_MAX, 0, 3), 0);
	cr_assert_not_null(iova_tree_lookup(&t, UINT64_MAX));
	cr_assert_not_null(iova_tree_lookup(&t, 0));
	cr_assert_eq(iova_tree_remove(&t, 0, UINT64_MAX - 1), -ERANGE);
	cr_assert_eq(iova_tree_remove(&t, 0, UINT64_MAX), 1);
	cr_assert_null(iova_tree_lookup(&t, 5));
	cr_assert_eq(iova_tree_insert(&t, UINT64_MAX - 0xfff, UINT64_MAX, 7, 1),
		     0);
	cr_assert_eq(iova_tree_lookup(&t, UINT64_MAX)->phys, 7);
}

Test(iova_tree, remove_takes_every_mapping_inside_the_range)
{
	cr_assert_eq(iova_tree_insert(&t, 0x1000, 0x1fff, 0, 1), 0);
	cr_assert_eq(iova_tree_insert(&t, 0x3000, 0x3fff, 0, 1), 0);
	cr_assert_eq(iova_tree_insert(&t, 0x8000, 0x8fff, 0, 1), 0);
	cr_assert_eq(iova_tree_remove(&t, 0x1000, 0x7fff), 2);
	cr_assert_eq(t.count, 1);
	cr_assert_eq(iova_tree_remove(&t, 0x1000, 0x7fff), 0);
	cr_assert_not_null(iova_tree_lookup(&t, 0x8000));
}

Test(iova_tree, remove_refuses_to_split_and_changes_nothing)
{
	cr_assert_eq(iova_tree_insert(&t, 0x1000, 0x1fff, 0, 1), 0);
	cr_assert_eq(iova_tree_insert(&t, 0x3000, 0x4fff, 0, 1), 0);
	/* Ends inside the second mapping. */
	cr_assert_eq(iova_tree_remove(&t, 0x0, 0x3fff), -ERANGE);
	/* Starts inside the first. */
	cr_assert_eq(iova_tree_remove(&t, 0x1800, 0x8fff), -ERANGE);
	/* Strictly inside one. */
	cr_assert_eq(iova_tree_remove(&t, 0x3800, 0x38ff), -ERANGE);
	cr_assert_eq(t.count, 2);
	cr_assert_not_null(iova_tree_lookup(&t, 0x1000));
	cr_assert_not_null(iova_tree_lookup(&t, 0x4fff));
}

Test(iova_tree, remove_invalidates_the_cached_lookup)
{
	cr_assert_eq(iova_tree_insert(&t, 0x1000, 0x1fff, 0x7000, 1), 0);
	cr_assert_not_null(iova_tree_lookup(&t, 0x1800));
	cr_assert_not_null(t.cached);
	cr_assert_eq(iova_tree_remove(&t, 0x1000, 0x1fff), 1);
	cr_assert_null(t.cached);
	cr_assert_null(iova_tree_lookup(&t, 0x1800));
	/* A new mapping in its place is seen, not the old one. */
	cr_assert_eq(iova_tree_insert(&t, 0x1000, 0x1fff, 0x9000, 1), 0);
	cr_assert_eq(iova_tree_lookup(&t, 0x1800)->phys, 0x9000);
}

Test(iova_tree, the_limit_is_enforced)
{
	struct iova_tree small;

	iova_tree_init(&small, 4);
	for (uint64_t i = 0; i < 4; i++)
		cr_assert_eq(iova_tree_insert(&small, i << 12,
					      (i << 12) + 0xfff, 0, 1),
			     0);
	cr_assert_eq(iova_tree_insert(&small, 4 << 12, (4 << 12) + 0xfff, 0, 1),
		     -ENOSPC);
	cr_assert_eq(iova_tree_remove(&small, 0, 0xfff), 1);
	cr_assert_eq(iova_tree_insert(&small, 4 << 12, (4 << 12) + 0xfff, 0, 1),
		     0);
	iova_tree_destroy(&small);
}

Test(iova_tree, many_mappings_stay_sorted)
{
	/* Inserted out of order: every other page, then the gaps. */
	for (uint64_t i = 0; i < 512; i += 2)
		cr_assert_eq(
			iova_tree_insert(&t, i << 12, (i << 12) + 0xfff, i, 1),
			0);
	for (uint64_t i = 1; i < 512; i += 2)
		cr_assert_eq(
			iova_tree_insert(&t, i << 12, (i << 12) + 0xfff, i, 1),
			0);
	for (uint64_t i = 0; i < 512; i++)
		cr_assert_eq(iova_tree_lookup(&t, (i << 12) + 5)->phys, i);
	cr_assert_eq(iova_tree_remove(&t, 0, UINT64_MAX), 512);
}
