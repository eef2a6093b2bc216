// SPDX-License-Identifier: GPL-2.0
#include "iova_tree.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define IOVA_TREE_INITIAL_CAPACITY 16

void iova_tree_init(struct iova_tree *t, unsigned int limit)
{
	memset(t, 0, sizeof(*t));
	t->limit = limit && limit < IOVA_TREE_MAX_MAPPINGS
			   ? limit
			   : IOVA_TREE_MAX_MAPPINGS;
}

void iova_tree_destroy(struct iova_tree *t)
{
	free(t->map);
	t->map = NULL;
	t->count = t->capacity = 0;
	t->cached = NULL;
}

void iova_tree_clear(struct iova_tree *t)
{
	t->count = 0;
	t->cached = NULL;
}

/* Index of the first mapping whose end is >= @iova (count if none). */
static unsigned int first_ending_at_or_after(const struct iova_tree *t,
					     uint64_t iova)
{
	unsigned int lo = 0, hi = t->count;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (t->map[mid].end < iova)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int iova_tree_insert(struct iova_tree *t, uint64_t start, uint64_t end,
		     uint64_t phys, uint32_t flags)
{
	unsigned int i;

	if (end < start)
		return -EINVAL;
	i = first_ending_at_or_after(t, start);
	if (i < t->count && t->map[i].start <= end)
		return -EEXIST;
	if (t->count >= t->limit)
		return -ENOSPC;
	if (t->count == t->capacity) {
		unsigned int cap = t->capacity ? t->capacity * 2
					       : IOVA_TREE_INITIAL_CAPACITY;
		struct iova_mapping *m;

		if (cap > t->limit)
			cap = t->limit;
		m = realloc(t->map, sizeof(*m) * cap);
		if (!m)
			return -ENOMEM;
		t->map = m;
		t->capacity = cap;
	}
	memmove(&t->map[i + 1], &t->map[i], sizeof(*t->map) * (t->count - i));
	t->map[i] = (struct iova_mapping){ start, end, phys, flags };
	t->count++;
	/* The array moved under the cached pointer. */
	t->cached = NULL;
	return 0;
}

int iova_tree_remove(struct iova_tree *t, uint64_t start, uint64_t end)
{
	unsigned int first, last;

	if (end < start)
		return -EINVAL;
	/* Invalidate first: even a refused UNMAP leaves no stale hit. */
	t->cached = NULL;
	first = first_ending_at_or_after(t, start);
	if (first < t->count && t->map[first].start < start)
		return -ERANGE;
	last = first;
	while (last < t->count && t->map[last].start <= end) {
		if (t->map[last].end > end)
			return -ERANGE;
		last++;
	}
	memmove(&t->map[first], &t->map[last],
		sizeof(*t->map) * (t->count - last));
	t->count -= last - first;
	return last - first;
}

const struct iova_mapping *iova_tree_lookup(struct iova_tree *t, uint64_t iova)
{
	const struct iova_mapping *c = t->cached;
	unsigned int i;

	if (c && c->start <= iova && iova <= c->end)
		return c;
	i = first_ending_at_or_after(t, iova);
	if (i == t->count || t->map[i].start > iova)
		return NULL;
	t->cached = &t->map[i];
	return t->cached;
}
