/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The mappings of one virtio-iommu domain: inclusive IOVA ranges
 * [start, end] (end up to 2^64 - 1) to guest physical addresses, kept in a
 * sorted array searched by bisection, plus a one-entry cache of the last
 * lookup. Pure data structure: no locking, no guest memory, unit-testable.
 */
#ifndef NESTBOX_IOVA_TREE_H
#define NESTBOX_IOVA_TREE_H

#include <stdint.h>

/* Most mappings one domain may hold: a guest asking for more gets NOMEM. */
#define IOVA_TREE_MAX_MAPPINGS 65536

/* Mapping flags: the virtio-iommu MAP flags (virtio 1.2, 5.13.6.5). */
#define IOVA_MAP_READ  1u
#define IOVA_MAP_WRITE 2u
#define IOVA_MAP_MMIO  4u

struct iova_mapping {
	uint64_t start, end; /* inclusive */
	uint64_t phys;	     /* guest physical address of @start */
	uint32_t flags;
};

struct iova_tree {
	struct iova_mapping *map; /* sorted by start, never overlapping */
	unsigned int count, capacity;
	unsigned int limit;		   /* at most IOVA_TREE_MAX_MAPPINGS */
	const struct iova_mapping *cached; /* last lookup hit, or NULL */
};

/* @limit: most mappings (0 means IOVA_TREE_MAX_MAPPINGS). */
void iova_tree_init(struct iova_tree *t, unsigned int limit);
void iova_tree_destroy(struct iova_tree *t);

/*
 * Add [start, end] -> phys. Returns 0, -EINVAL when end < start, -EEXIST
 * when it overlaps a mapping, -ENOSPC at the limit, -ENOMEM.
 */
int iova_tree_insert(struct iova_tree *t, uint64_t start, uint64_t end,
		     uint64_t phys, uint32_t flags);

/*
 * Remove every mapping inside [start, end] (virtio 1.2, 5.13.6.6: UNMAP
 * never splits a mapping). Returns the number removed, -ERANGE (and
 * removes nothing) when a mapping straddles either boundary, -EINVAL when
 * end < start.
 */
int iova_tree_remove(struct iova_tree *t, uint64_t start, uint64_t end);

/* Drop all mappings. */
void iova_tree_clear(struct iova_tree *t);

/* The mapping holding @iova, or NULL. Valid until the next change. */
const struct iova_mapping *iova_tree_lookup(struct iova_tree *t, uint64_t iova);

#endif
