// SPDX-License-Identifier: GPL-2.0
#include "dma.h"

#include <errno.h>

static void *translate(struct dma_space *as, uint64_t addr, uint64_t len,
		       unsigned int access, uint64_t *chunk)
{
	void *p;

	if (as->ops)
		return as->ops->translate(as, addr, len, access, chunk);
	p = gmem_ptr(as->mem, addr, len);
	*chunk = len;
	return p;
}

int dma_map_sg(struct dma_space *as, uint64_t addr, uint64_t len,
	       unsigned int access, struct iovec *iov, int max)
{
	int n = 0;

	if (len && addr + len - 1 < addr)
		return -EFAULT;
	while (len) {
		uint64_t chunk = 0;
		void *p = translate(as, addr, len, access, &chunk);

		if (!p || !chunk || chunk > len)
			return -EFAULT;
		if (n == max)
			return -E2BIG;
		iov[n].iov_base = p;
		iov[n].iov_len = chunk;
		n++;
		addr += chunk;
		len -= chunk;
	}
	return n;
}

void *dma_map_contig(struct dma_space *as, uint64_t addr, uint64_t len,
		     unsigned int access)
{
	uint64_t chunk = 0;
	void *p;

	if (!len || addr + len - 1 < addr)
		return NULL;
	p = translate(as, addr, len, access, &chunk);
	return p && chunk == len ? p : NULL;
}
