/* SPDX-License-Identifier: GPL-2.0 */
/*
 * DMA address spaces: how a device model reaches guest memory. Every device
 * DMA goes through dma_map_sg(); without a vIOMMU the space is the identity
 * over guest RAM, with one (issue: virtio-iommu, SMMUv3) ops->translate does
 * the lookup and may split a range into several host chunks.
 */
#ifndef NESTBOX_DMA_H
#define NESTBOX_DMA_H

#include <stdint.h>
#include <sys/uio.h>

#include "../vmm/guest_mem.h"

enum dma_access {
	DMA_READ = 1,  /* the device reads guest memory */
	DMA_WRITE = 2, /* the device writes guest memory */
};

struct dma_space;

struct dma_space_ops {
	/*
	 * Translate [addr, addr + len): return a host pointer to the longest
	 * contiguous prefix and its length in *chunk, or NULL on a fault (no
	 * mapping, or one without @access).
	 */
	void *(*translate)(struct dma_space *as, uint64_t addr, uint64_t len,
			   unsigned int access, uint64_t *chunk);
	/*
	 * A number that changes whenever a translation given earlier may
	 * have become invalid (unmap, detach, ...). Users that keep host
	 * pointers (ring mappings) translate again when it moved. May be
	 * NULL: translations never go stale.
	 */
	uint64_t (*generation)(struct dma_space *as);
};

struct dma_space {
	const struct dma_space_ops *ops; /* NULL: identity over @mem */
	const struct guest_mem *mem;
	void *opaque;
};

static inline void dma_space_init_identity(struct dma_space *as,
					   const struct guest_mem *mem)
{
	as->ops = NULL;
	as->mem = mem;
	as->opaque = NULL;
}

static inline uint64_t dma_generation(struct dma_space *as)
{
	return as->ops && as->ops->generation ? as->ops->generation(as) : 0;
}

/*
 * Map [addr, addr + len) for @access into at most @max iovecs appended at
 * @iov. Returns the number used, -EFAULT when some part is not accessible,
 * -E2BIG when it needs more than @max. len 0 maps to 0 iovecs.
 */
int dma_map_sg(struct dma_space *as, uint64_t addr, uint64_t len,
	       unsigned int access, struct iovec *iov, int max);

/*
 * Host pointer to a range that must be contiguous in host memory (ring
 * structures). NULL on fault or when the range is split.
 */
void *dma_map_contig(struct dma_space *as, uint64_t addr, uint64_t len,
		     unsigned int access);

#endif
