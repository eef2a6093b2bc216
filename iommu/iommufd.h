/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host iommufd backend (Linux 6.6+, /dev/iommu): IO address spaces (IOAS)
 * and their mappings of host memory, for VFIO cdev devices. Thin: one
 * function per ioctl, arguments checked before the kernel sees them, and
 * every ioctl goes through an ops table so unit tests can run on a fake.
 */
#ifndef NESTBOX_IOMMUFD_H
#define NESTBOX_IOMMUFD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The device node of the iommufd subsystem. */
#define IOMMUFD_DEV_PATH "/dev/iommu"

/*
 * Granule every IOVA, length, user VA and file offset must be aligned to:
 * the smallest host page size. The kernel may ask for more (its reported
 * out_iova_alignment, never above the host PAGE_SIZE).
 */
#define IOMMUFD_MAP_ALIGN 4096ull

/* Most allowed IOVA ranges iommufd_ioas_iova_ranges() asks the kernel for. */
#define IOMMUFD_MAX_IOVA_RANGES 1024u

/* The ioctl seam: returns 0 or -errno (never -1 with errno set). */
struct iommufd_ops {
	int (*ioctl)(void *opaque, int fd, unsigned long req, void *arg);
};

/* How iommufd_ioas_map() hands memory to the kernel. */
enum iommufd_map_mode {
	IOMMUFD_MAP_PROBE, /* not known yet: try MAP_FILE first */
	IOMMUFD_MAP_FILE,  /* IOMMU_IOAS_MAP_FILE worked */
	IOMMUFD_MAP_VA,	   /* the kernel has no MAP_FILE: user VA only */
};

struct iommufd {
	int fd;
	const struct iommufd_ops *ops;
	void *opaque;
	enum iommufd_map_mode map_mode;
	/* out_iova_alignment of the last IOMMU_IOAS_IOVA_RANGES */
	uint64_t iova_alignment;
};

struct iommufd_range {
	uint64_t start, last; /* inclusive */
};

/*
 * Open /dev/iommu. On failure fills @err with why, naming the cause:
 * missing (ENOENT) -> the host kernel has no iommufd (CONFIG_IOMMUFD);
 * EACCES/EPERM -> permissions. Returns 0 or -errno.
 */
int iommufd_open(struct iommufd *ifd, char *err, size_t errlen);
/* iommufd_open() on another path (tests, unusual hosts). */
int iommufd_open_path(struct iommufd *ifd, const char *path, char *err,
		      size_t errlen);
/* Tests: every ioctl goes to @ops with @opaque; no file is opened. */
void iommufd_init_fake(struct iommufd *ifd, const struct iommufd_ops *ops,
		       void *opaque);
/* Closes the file (which destroys every object in it). Idempotent. */
void iommufd_close(struct iommufd *ifd);

/* New empty IOAS. Returns 0 or -errno. */
int iommufd_ioas_alloc(struct iommufd *ifd, uint32_t *ioas_id);
/* Destroy any iommufd object (IOAS, HWPT, ...). Returns 0 or -errno. */
int iommufd_destroy(struct iommufd *ifd, uint32_t id);

/*
 * Map [iova, iova + len) of @ioas to host memory, readable and, with
 * @writable, writeable by DMA. From @memfd at @file_off with
 * IOMMU_IOAS_MAP_FILE (6.13) when @memfd >= 0 and the kernel has it, else
 * from the user VA @va with IOMMU_IOAS_MAP. The first MAP_FILE failing
 * ENOTTY/EOPNOTSUPP/EINVAL falls back to @va; if that works the kernel is
 * taken to lack MAP_FILE and every later map uses the VA.
 * Returns 0; -EINVAL for zero length, unaligned (IOMMUFD_MAP_ALIGN) or
 * wrapping arguments, or no usable source; or the kernel's -errno.
 */
int iommufd_ioas_map(struct iommufd *ifd, uint32_t ioas, uint64_t iova,
		     uint64_t len, void *va, int memfd, uint64_t file_off,
		     bool writable);
/*
 * Unmap every mapping inside [iova, iova + len); it must not split one.
 * Returns 0, -EINVAL for bad arguments as above, or the kernel's -errno
 * (-ENOENT: nothing mapped there).
 */
int iommufd_ioas_unmap(struct iommufd *ifd, uint32_t ioas, uint64_t iova,
		       uint64_t len);

/*
 * The IOVA ranges @ioas may map, sorted, into @out[0..max). The kernel
 * narrows them at each attach, so ask again after attaching a device.
 * Returns 0 with *n ranges stored; -ENOSPC when there are more than @max
 * (out holds the first @max, *n the total); -EMSGSIZE when the set kept
 * growing between calls; or the kernel's -errno.
 */
int iommufd_ioas_iova_ranges(struct iommufd *ifd, uint32_t ioas,
			     struct iommufd_range *out, unsigned int max,
			     unsigned int *n);

/*
 * Pure: is [base, base + size) entirely inside the @n allowed ranges (any
 * order, may touch or overlap)? If not, returns false and the first
 * conflicting reserved hole: the lowest uncovered address in the window
 * and the end of the gap there, [*hole_start, *hole_last] (either pointer
 * may be NULL). size 0 is covered; a window wrapping past 2^64 is not, and
 * reports [base, UINT64_MAX].
 */
bool iommufd_ranges_cover(const struct iommufd_range *allowed, unsigned int n,
			  uint64_t base, uint64_t size, uint64_t *hole_start,
			  uint64_t *hole_last);

#endif
