/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest RAM: one contiguous range backed by a memfd (so it can later be
 * mapped into an IOAS or shared with another process). Every access from
 * the VMM goes through gmem_ptr(), which checks bounds and overflow.
 */
#ifndef NESTBOX_GUEST_MEM_H
#define NESTBOX_GUEST_MEM_H

#include <stddef.h>
#include <stdint.h>

struct guest_mem {
	uint64_t base;
	uint64_t size;
	uint8_t *hva;
	int fd;
};

/* Allocate @size bytes of RAM at guest physical @base. Returns 0 or -errno. */
int gmem_alloc(struct guest_mem *gm, uint64_t base, uint64_t size);

/*
 * Wrap existing host memory (unit tests' fake guest memory). The caller
 * keeps ownership of @hva; gmem_free() does not unmap it.
 */
void gmem_wrap(struct guest_mem *gm, uint64_t base, void *hva, uint64_t size);

void gmem_free(struct guest_mem *gm);

/*
 * Host pointer to [gpa, gpa + len) if that whole range is guest RAM, else
 * NULL. len 0 is allowed and still needs gpa inside RAM.
 */
static inline void *gmem_ptr(const struct guest_mem *gm, uint64_t gpa,
			     uint64_t len)
{
	uint64_t off;

	if (gpa < gm->base)
		return NULL;
	off = gpa - gm->base;
	if (off >= gm->size || len > gm->size - off)
		return NULL;
	return gm->hva + off;
}

#endif
