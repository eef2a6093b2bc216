// SPDX-License-Identifier: GPL-2.0
#include "guest_mem.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int gmem_alloc(struct guest_mem *gm, uint64_t base, uint64_t size)
{
	void *p;
	int fd;

	memset(gm, 0, sizeof(*gm));
	gm->fd = -1;
	if (!size || base + size < base)
		return -EINVAL;
	fd = memfd_create("nestbox-ram", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	/* MAP_NORESERVE: the guest touches what it uses; nothing is prefaulted.
	 */
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE,
		 fd, 0);
	if (p == MAP_FAILED) {
		int e = -errno;

		close(fd);
		return e;
	}
	madvise(p, size, MADV_HUGEPAGE);
	gm->base = base;
	gm->size = size;
	gm->hva = p;
	gm->fd = fd;
	return 0;
}

void gmem_wrap(struct guest_mem *gm, uint64_t base, void *hva, uint64_t size)
{
	gm->base = base;
	gm->size = size;
	gm->hva = hva;
	gm->fd = -1;
}

void gmem_free(struct guest_mem *gm)
{
	if (gm->fd >= 0) {
		munmap(gm->hva, gm->size);
		close(gm->fd);
	}
	memset(gm, 0, sizeof(*gm));
	gm->fd = -1;
}
