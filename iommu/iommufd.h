/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host iommufd backend (Linux 6.6+, /dev/iommu): IO address spaces (IOAS)
 * and their mappings of host memory, for VFIO cdev devices; and SMMUv3
 * nesting (6.13+, vEVENTQ 6.15+): nest-parent and nested HWPTs, vIOMMU,
 * vDEVICE, invalidation and the guest-visible event queue. Thin: one
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

/* ---- Nesting: SMMUv3 stage 1 owned by the guest (Linux 6.13+) ---- */

/* Flags of iommufd_hwpt_alloc() this backend passes on. */
#define IOMMUFD_HWPT_NEST_PARENT    (1u << 0)
#define IOMMUFD_HWPT_DIRTY_TRACKING (1u << 1)

/* Largest type-specific blob iommufd_hwpt_alloc() hands the kernel. */
#define IOMMUFD_HWPT_DATA_MAX 4096u

/*
 * Commands per IOMMU_HWPT_INVALIDATE: iommufd_viommu_invalidate_smmuv3()
 * splits longer batches. Newer kernels bound entry_num too; this stays
 * well inside a guest command queue's worth.
 */
#define IOMMUFD_INVALIDATE_BATCH 128u

/* Most events a vEVENTQ may hold before the kernel drops (and counts) them. */
#define IOMMUFD_VEVENTQ_MAX_DEPTH 4096u

/* Bytes of one SMMUv3 vEVENT in a read(): 8-byte header + 32-byte record. */
#define IOMMUFD_VEVENT_HEADER_BYTES 8u
#define IOMMUFD_VEVENT_SMMUV3_BYTES (IOMMUFD_VEVENT_HEADER_BYTES + 32u)

/* The host SMMU's ID registers (SMMUv3 6.3.1-6.3.6), for the vSMMU's. */
struct iommufd_smmuv3_info {
	uint32_t flags;
	uint32_t idr[6]; /* SMMU_IDR0..5 */
	uint32_t iidr;
	uint32_t aidr;
	uint64_t capabilities; /* iommu_hw_info out_capabilities */
};

/*
 * IOMMU_GET_HW_INFO for bound device @dev_id. *type (may be NULL) gets the
 * kernel's enum iommu_hw_info_type. Returns 0 with @info filled; -EOPNOTSUPP
 * when the device's IOMMU is not an SMMUv3; or the kernel's -errno.
 */
int iommufd_get_hw_info_smmuv3(struct iommufd *ifd, uint32_t dev_id,
			       struct iommufd_smmuv3_info *info,
			       uint32_t *type);

/*
 * IOMMU_HWPT_ALLOC: a HWPT for @dev_id on @pt_id (an IOAS, a parent HWPT or
 * a vIOMMU) with IOMMUFD_HWPT_* @flags. @data_type is the uapi's enum
 * iommu_hwpt_data_type: NONE takes no data (@data NULL, @data_len 0), any
 * other type needs 1..IOMMUFD_HWPT_DATA_MAX bytes. Returns 0 or -errno.
 */
int iommufd_hwpt_alloc(struct iommufd *ifd, uint32_t dev_id, uint32_t pt_id,
		       uint32_t flags, uint32_t data_type, const void *data,
		       uint32_t data_len, uint32_t *hwpt_id);
/* A kernel-managed stage-2 HWPT on @ioas_id that can parent nesting. */
int iommufd_hwpt_alloc_nest_parent(struct iommufd *ifd, uint32_t dev_id,
				   uint32_t ioas_id, uint32_t *hwpt_id);
/*
 * A nested HWPT under @viommu_id from the guest's STE words 0-1 (SMMUv3
 * 5.2; Cfg selects S1, bypass or abort). The kernel answers -EIO for an
 * illegal STE or a field it does not allow.
 */
int iommufd_hwpt_alloc_nested_smmuv3(struct iommufd *ifd, uint32_t dev_id,
				     uint32_t viommu_id, const uint64_t ste[2],
				     uint32_t *hwpt_id);

/*
 * IOMMU_VIOMMU_ALLOC of type ARM_SMMUV3 backed by @dev_id's SMMU, on the
 * nesting parent @parent_hwpt_id. Returns 0 or -errno.
 */
int iommufd_viommu_alloc_smmuv3(struct iommufd *ifd, uint32_t dev_id,
				uint32_t parent_hwpt_id, uint32_t *viommu_id);
/*
 * IOMMU_VDEVICE_ALLOC: @dev_id as the guest sees it on @viommu_id, with
 * @virt_id its virtual ID (SMMUv3: the guest StreamID). Destroy it before
 * the device is unbound. Returns 0 or -errno.
 */
int iommufd_vdevice_alloc(struct iommufd *ifd, uint32_t viommu_id,
			  uint32_t dev_id, uint64_t virt_id,
			  uint32_t *vdevice_id);

/*
 * IOMMU_HWPT_INVALIDATE on @viommu_id with @n guest SMMUv3 commands (two
 * 64-bit words each, as in the guest's queue): TLBI_NH_*, TLBI_NSNH_ALL,
 * ATC_INV, CFGI_CD(_ALL); the kernel fixes up VMID and StreamID. Batches
 * above IOMMUFD_INVALIDATE_BATCH go in several ioctls. *done (may be NULL)
 * gets how many the kernel handled: @n on success, else the index of the
 * first command not handled. @n 0 probes the kernel's support. Returns 0,
 * -EINVAL for missing commands, or the kernel's -errno (-EIO: a command it
 * does not accept).
 */
int iommufd_viommu_invalidate_smmuv3(struct iommufd *ifd, uint32_t viommu_id,
				     const uint64_t (*cmds)[2], unsigned int n,
				     unsigned int *done);

/*
 * IOMMU_VEVENTQ_ALLOC of type ARM_SMMUV3 on @viommu_id, holding up to
 * @depth (1..IOMMUFD_VEVENTQ_MAX_DEPTH) events. *event_fd is the file to
 * poll and read (iommufd_vevents_parse()); the caller closes it.
 * Returns 0 or -errno.
 */
int iommufd_veventq_alloc_smmuv3(struct iommufd *ifd, uint32_t viommu_id,
				 uint32_t depth, uint32_t *veventq_id,
				 int *event_fd);

/* Sequence tracking across read()s of one vEVENTQ; zero-initialise. */
struct iommufd_vevents {
	bool have_seq;
	uint32_t last_seq;
	uint64_t lost; /* events the kernel dropped, in total */
};

/*
 * One guest-visible SMMUv3 event record (SMMUv3 7.3), in host order, with
 * the virtual StreamID already substituted.
 */
typedef void (*iommufd_vevent_fn)(void *opaque, const uint64_t evt[4]);

/*
 * Pure: walk @len bytes read() from a vEVENTQ fd, calling @fn for each
 * SMMUv3 record in order and adding dropped events to @st->lost: the
 * LOST_EVENTS header, and gaps in the sequence (which wraps from INT_MAX
 * to 0). *@delivered (may be NULL) counts the records handed to @fn.
 * Returns 0; -EPROTO at a header with unknown flags or a sequence above
 * INT_MAX; -EMSGSIZE when the buffer ends inside a header or record (the
 * kernel never splits one). Records before the bad spot are delivered.
 */
int iommufd_vevents_parse(struct iommufd_vevents *st, const void *buf,
			  size_t len, iommufd_vevent_fn fn, void *opaque,
			  unsigned int *delivered);

#endif
