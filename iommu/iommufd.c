// SPDX-License-Identifier: GPL-2.0
/*
 * Host iommufd backend: IOAS allocation, mapping and the allowed-IOVA
 * query over /dev/iommu, and the SMMUv3 nesting objects
 * (include/uapi/linux/iommufd.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "iommu/iommufd.h"
#include "iommu/uapi_iommufd.h"
#include "vmm/log.h"

/* Times iommufd_ioas_iova_ranges() re-asks when the set grows meanwhile. */
#define IOMMUFD_IOVA_RANGES_TRIES 3

static int iommufd_host_ioctl(void *opaque, int fd, unsigned long req,
			      void *arg)
{
	return ioctl(fd, req, arg) < 0 ? -errno : 0;
}

static const struct iommufd_ops iommufd_host_ops = {
	.ioctl = iommufd_host_ioctl,
};

static int iommufd_call(struct iommufd *ifd, unsigned long req, void *arg)
{
	if (!ifd->ops)
		return -EBADF;
	return ifd->ops->ioctl(ifd->opaque, ifd->fd, req, arg);
}

int iommufd_open_path(struct iommufd *ifd, const char *path, char *err,
		      size_t errlen)
{
	int fd, e;

	*ifd = (struct iommufd){ .fd = -1 };
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		if (!err || !errlen)
			return -e;
		switch (e) {
		case ENOENT:
			snprintf(err, errlen,
				 "no %s: the host kernel has no iommufd "
				 "(CONFIG_IOMMUFD)",
				 path);
			break;
		case EACCES:
		case EPERM:
			snprintf(err, errlen,
				 "%s: permission denied (needs root or access "
				 "to %s)",
				 path, path);
			break;
		case ENXIO:
		case ENODEV:
			snprintf(err, errlen,
				 "%s: no iommufd driver behind the node "
				 "(is the iommufd module loaded?)",
				 path);
			break;
		default:
			snprintf(err, errlen, "%s: %s", path, strerror(e));
			break;
		}
		return -e;
	}
	ifd->fd = fd;
	ifd->ops = &iommufd_host_ops;
	return 0;
}

int iommufd_open(struct iommufd *ifd, char *err, size_t errlen)
{
	return iommufd_open_path(ifd, IOMMUFD_DEV_PATH, err, errlen);
}

void iommufd_init_fake(struct iommufd *ifd, const struct iommufd_ops *ops,
		       void *opaque)
{
	*ifd = (struct iommufd){ .fd = -1, .ops = ops, .opaque = opaque };
}

void iommufd_close(struct iommufd *ifd)
{
	if (ifd->fd >= 0 && ifd->ops == &iommufd_host_ops)
		close(ifd->fd);
	ifd->fd = -1;
	ifd->ops = NULL;
}

int iommufd_ioas_alloc(struct iommufd *ifd, uint32_t *ioas_id)
{
	struct iommu_ioas_alloc cmd = { .size = sizeof(cmd) };
	int rc;

	rc = iommufd_call(ifd, IOMMU_IOAS_ALLOC, &cmd);
	if (rc)
		return rc;
	*ioas_id = cmd.out_ioas_id;
	return 0;
}

int iommufd_destroy(struct iommufd *ifd, uint32_t id)
{
	struct iommu_destroy cmd = { .size = sizeof(cmd), .id = id };

	return iommufd_call(ifd, IOMMU_DESTROY, &cmd);
}

static bool iommufd_aligned(uint64_t v)
{
	return (v & (IOMMUFD_MAP_ALIGN - 1)) == 0;
}

/*
 * A nonempty aligned window whose last byte does not wrap: the kernel
 * computes iova + length - 1 with an overflow check, so a window ending
 * exactly at 2^64 - 1 is valid.
 */
static bool iommufd_window_ok(uint64_t start, uint64_t len)
{
	return len && iommufd_aligned(start) && iommufd_aligned(len) &&
	       start + (len - 1) >= start;
}

static int iommufd_map_va(struct iommufd *ifd, uint32_t ioas, uint64_t iova,
			  uint64_t len, void *va, uint32_t flags)
{
	struct iommu_ioas_map cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.ioas_id = ioas,
		.user_va = (uintptr_t)va,
		.length = len,
		.iova = iova,
	};

	return iommufd_call(ifd, IOMMU_IOAS_MAP, &cmd);
}

static int iommufd_map_file(struct iommufd *ifd, uint32_t ioas, uint64_t iova,
			    uint64_t len, int memfd, uint64_t file_off,
			    uint32_t flags)
{
	struct iommu_ioas_map_file cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.ioas_id = ioas,
		.fd = memfd,
		.start = file_off,
		.length = len,
		.iova = iova,
	};

	return iommufd_call(ifd, IOMMU_IOAS_MAP_FILE, &cmd);
}

/*
 * What a kernel without IOMMU_IOAS_MAP_FILE answers (iommufd.h, "General
 * ioctl format"): ENOTTY for an unknown ioctl number; EOPNOTSUPP or EINVAL
 * from kernels or drivers that know the number but not memfd mappings.
 */
static bool iommufd_map_file_missing(int rc)
{
	return rc == -ENOTTY || rc == -EOPNOTSUPP || rc == -EINVAL;
}

int iommufd_ioas_map(struct iommufd *ifd, uint32_t ioas, uint64_t iova,
		     uint64_t len, void *va, int memfd, uint64_t file_off,
		     bool writable)
{
	uint32_t flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE;
	bool have_va = va != NULL && iommufd_aligned((uintptr_t)va) &&
		       (uintptr_t)va + (len - 1) >= (uintptr_t)va;
	bool have_file = memfd >= 0 && iommufd_aligned(file_off) &&
			 file_off + (len - 1) >= file_off;
	int rc;

	if (!iommufd_window_ok(iova, len))
		return -EINVAL;
	if ((va && !have_va) || (memfd >= 0 && !have_file))
		return -EINVAL;
	if (writable)
		flags |= IOMMU_IOAS_MAP_WRITEABLE;

	if (!have_file || ifd->map_mode == IOMMUFD_MAP_VA)
		return have_va ? iommufd_map_va(ifd, ioas, iova, len, va, flags)
			       : -EINVAL;

	rc = iommufd_map_file(ifd, ioas, iova, len, memfd, file_off, flags);
	if (rc == 0) {
		ifd->map_mode = IOMMUFD_MAP_FILE;
		return 0;
	}
	/* Once MAP_FILE has worked, its errors are about the arguments. */
	if (ifd->map_mode != IOMMUFD_MAP_PROBE ||
	    !iommufd_map_file_missing(rc) || !have_va)
		return rc;

	/* A VA map that works too tells MAP_FILE is missing, not the args. */
	if (iommufd_map_va(ifd, ioas, iova, len, va, flags))
		return rc;
	ifd->map_mode = IOMMUFD_MAP_VA;
	pr_info("iommufd: IOMMU_IOAS_MAP_FILE refused (%s): mapping guest "
		"memory by user address",
		strerror(-rc));
	return 0;
}

int iommufd_ioas_unmap(struct iommufd *ifd, uint32_t ioas, uint64_t iova,
		       uint64_t len)
{
	struct iommu_ioas_unmap cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas,
		.iova = iova,
		.length = len,
	};

	if (!iommufd_window_ok(iova, len))
		return -EINVAL;
	return iommufd_call(ifd, IOMMU_IOAS_UNMAP, &cmd);
}

/* Sort by start (insertion sort: a handful of ranges). */
static void iommufd_sort_ranges(struct iommufd_range *r, unsigned int n)
{
	for (unsigned int i = 1; i < n; i++) {
		struct iommufd_range key = r[i];
		unsigned int j = i;

		for (; j > 0 && r[j - 1].start > key.start; j--)
			r[j] = r[j - 1];
		r[j] = key;
	}
}

int iommufd_ioas_iova_ranges(struct iommufd *ifd, uint32_t ioas,
			     struct iommufd_range *out, unsigned int max,
			     unsigned int *n)
{
	struct iommu_iova_range *buf = NULL;
	unsigned int cap =
		max < IOMMUFD_MAX_IOVA_RANGES ? max : IOMMUFD_MAX_IOVA_RANGES;
	unsigned int total = 0, i;
	int rc = -EMSGSIZE;

	*n = 0;
	/*
	 * iommufd.h, IOMMU_IOAS_IOVA_RANGES: the kernel fills what fits,
	 * writes the total to num_iovas and fails EMSGSIZE when that is more;
	 * then ask again with room for the total.
	 */
	for (int tries = 0; tries < IOMMUFD_IOVA_RANGES_TRIES; tries++) {
		struct iommu_ioas_iova_ranges cmd = {
			.size = sizeof(cmd),
			.ioas_id = ioas,
			.num_iovas = cap,
		};

		free(buf);
		buf = cap ? calloc(cap, sizeof(*buf)) : NULL;
		if (cap && !buf)
			return -ENOMEM;
		cmd.allowed_iovas = (uintptr_t)buf;
		rc = iommufd_call(ifd, IOMMU_IOAS_IOVA_RANGES, &cmd);
		total = cmd.num_iovas;
		ifd->iova_alignment = cmd.out_iova_alignment;
		if (rc != -EMSGSIZE)
			break;
		if (total <= cap || total > IOMMUFD_MAX_IOVA_RANGES) {
			pr_err("iommufd: IOAS %u: IOMMU_IOAS_IOVA_RANGES wants "
			       "%u ranges (room for %u, limit %u)",
			       ioas, total, cap, IOMMUFD_MAX_IOVA_RANGES);
			rc = total > IOMMUFD_MAX_IOVA_RANGES ? -E2BIG : -EIO;
			break;
		}
		cap = total;
	}
	if (rc) {
		free(buf);
		return rc;
	}
	if (total > cap) {
		/* Success with more ranges than buffer: a kernel bug. */
		free(buf);
		return -EIO;
	}
	for (i = 0; i < total && i < max; i++)
		out[i] = (struct iommufd_range){ buf[i].start, buf[i].last };
	free(buf);
	iommufd_sort_ranges(out, i);
	*n = total > max ? total : i;
	return total > max ? -ENOSPC : 0;
}

/* The allowed range holding @addr, or NULL. */
static const struct iommufd_range *
iommufd_range_holding(const struct iommufd_range *allowed, unsigned int n,
		      uint64_t addr)
{
	for (unsigned int i = 0; i < n; i++)
		if (allowed[i].start <= addr && addr <= allowed[i].last)
			return &allowed[i];
	return NULL;
}

bool iommufd_ranges_cover(const struct iommufd_range *allowed, unsigned int n,
			  uint64_t base, uint64_t size, uint64_t *hole_start,
			  uint64_t *hole_last)
{
	uint64_t end, pos = base, gap_last = UINT64_MAX;
	const struct iommufd_range *r;

	if (size == 0)
		return true;
	end = base + (size - 1);
	if (end < base) {
		if (hole_start)
			*hole_start = base;
		if (hole_last)
			*hole_last = UINT64_MAX;
		return false;
	}
	/* Walk up from @base through touching or overlapping ranges. */
	while ((r = iommufd_range_holding(allowed, n, pos))) {
		if (r->last >= end)
			return true;
		pos = r->last + 1;
	}
	/* @pos is reserved: the hole runs up to the next allowed range. */
	for (unsigned int i = 0; i < n; i++)
		if (allowed[i].start > pos && allowed[i].start - 1 < gap_last)
			gap_last = allowed[i].start - 1;
	if (hole_start)
		*hole_start = pos;
	if (hole_last)
		*hole_last = gap_last;
	return false;
}

/* ---- Nesting ---- */

/*
 * The uapi's STE, commands and event records are little-endian; nestbox
 * hands the kernel the guest's words as they are, so only on a LE host.
 */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "iommufd nesting passes little-endian SMMUv3 words unswapped");

int iommufd_get_hw_info_smmuv3(struct iommufd *ifd, uint32_t dev_id,
			       struct iommufd_smmuv3_info *info, uint32_t *type)
{
	struct iommu_hw_info_arm_smmuv3 data = { 0 };
	/* flags 0: the device's default type, which an SMMUv3 reports. */
	struct iommu_hw_info cmd = {
		.size = sizeof(cmd),
		.dev_id = dev_id,
		.data_len = sizeof(data),
		.data_uptr = (uintptr_t)&data,
	};
	int rc;

	if (!info)
		return -EINVAL;
	rc = iommufd_call(ifd, IOMMU_GET_HW_INFO, &cmd);
	if (rc)
		return rc;
	if (type)
		*type = cmd.out_data_type;
	if (cmd.out_data_type != IOMMU_HW_INFO_TYPE_ARM_SMMUV3) {
		pr_err("iommufd: device %u: IOMMU hardware info type %u, not "
		       "an SMMUv3: no nesting",
		       dev_id, cmd.out_data_type);
		return -EOPNOTSUPP;
	}
	*info = (struct iommufd_smmuv3_info){
		.flags = data.flags,
		.iidr = data.iidr,
		.aidr = data.aidr,
		.capabilities = cmd.out_capabilities,
	};
	memcpy(info->idr, data.idr, sizeof(info->idr));
	return 0;
}

int iommufd_hwpt_alloc(struct iommufd *ifd, uint32_t dev_id, uint32_t pt_id,
		       uint32_t flags, uint32_t data_type, const void *data,
		       uint32_t data_len, uint32_t *hwpt_id)
{
	struct iommu_hwpt_alloc cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.dev_id = dev_id,
		.pt_id = pt_id,
		.data_type = data_type,
		.data_len = data_len,
		.data_uptr = (uintptr_t)data,
	};
	int rc;

	if (!hwpt_id ||
	    (flags & ~(IOMMUFD_HWPT_NEST_PARENT | IOMMUFD_HWPT_DIRTY_TRACKING)))
		return -EINVAL;
	/* iommufd.h, IOMMU_HWPT_ALLOC: no data for NONE, both fields else. */
	if (data_type == IOMMU_HWPT_DATA_NONE) {
		if (data || data_len)
			return -EINVAL;
	} else if (!data || !data_len || data_len > IOMMUFD_HWPT_DATA_MAX) {
		return -EINVAL;
	}
	rc = iommufd_call(ifd, IOMMU_HWPT_ALLOC, &cmd);
	if (rc)
		return rc;
	*hwpt_id = cmd.out_hwpt_id;
	return 0;
}

int iommufd_hwpt_alloc_nest_parent(struct iommufd *ifd, uint32_t dev_id,
				   uint32_t ioas_id, uint32_t *hwpt_id)
{
	return iommufd_hwpt_alloc(ifd, dev_id, ioas_id,
				  IOMMUFD_HWPT_NEST_PARENT,
				  IOMMU_HWPT_DATA_NONE, NULL, 0, hwpt_id);
}

int iommufd_hwpt_alloc_nested_smmuv3(struct iommufd *ifd, uint32_t dev_id,
				     uint32_t viommu_id, const uint64_t ste[2],
				     uint32_t *hwpt_id)
{
	struct iommu_hwpt_arm_smmuv3 data;

	if (!ste)
		return -EINVAL;
	data.ste[0] = ste[0];
	data.ste[1] = ste[1];
	return iommufd_hwpt_alloc(ifd, dev_id, viommu_id, 0,
				  IOMMU_HWPT_DATA_ARM_SMMUV3, &data,
				  sizeof(data), hwpt_id);
}

int iommufd_viommu_alloc_smmuv3(struct iommufd *ifd, uint32_t dev_id,
				uint32_t parent_hwpt_id, uint32_t *viommu_id)
{
	struct iommu_viommu_alloc cmd = {
		.size = sizeof(cmd),
		.type = IOMMU_VIOMMU_TYPE_ARM_SMMUV3,
		.dev_id = dev_id,
		.hwpt_id = parent_hwpt_id,
	};
	int rc;

	if (!viommu_id)
		return -EINVAL;
	rc = iommufd_call(ifd, IOMMU_VIOMMU_ALLOC, &cmd);
	if (rc)
		return rc;
	*viommu_id = cmd.out_viommu_id;
	return 0;
}

int iommufd_vdevice_alloc(struct iommufd *ifd, uint32_t viommu_id,
			  uint32_t dev_id, uint64_t virt_id,
			  uint32_t *vdevice_id)
{
	struct iommu_vdevice_alloc cmd = {
		.size = sizeof(cmd),
		.viommu_id = viommu_id,
		.dev_id = dev_id,
		.virt_id = virt_id,
	};
	int rc;

	if (!vdevice_id)
		return -EINVAL;
	rc = iommufd_call(ifd, IOMMU_VDEVICE_ALLOC, &cmd);
	if (rc)
		return rc;
	*vdevice_id = cmd.out_vdevice_id;
	return 0;
}

int iommufd_viommu_invalidate_smmuv3(struct iommufd *ifd, uint32_t viommu_id,
				     const uint64_t (*cmds)[2], unsigned int n,
				     unsigned int *done)
{
	unsigned int sent = 0;
	int rc = 0;

	_Static_assert(
		sizeof(*cmds) ==
			sizeof(struct iommu_viommu_arm_smmuv3_invalidate),
		"a guest command is one uapi invalidation entry");
	if (done)
		*done = 0;
	if (n && !cmds)
		return -EINVAL;
	do {
		unsigned int chunk = n - sent < IOMMUFD_INVALIDATE_BATCH
					     ? n - sent
					     : IOMMUFD_INVALIDATE_BATCH;
		struct iommu_hwpt_invalidate cmd = {
			.size = sizeof(cmd),
			.hwpt_id = viommu_id,
			.data_uptr = chunk ? (uintptr_t)cmds[sent] : 0,
			.data_type = IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3,
			.entry_len = sizeof(*cmds),
			.entry_num = chunk,
		};

		rc = iommufd_call(ifd, IOMMU_HWPT_INVALIDATE, &cmd);
		/*
		 * entry_num comes back as the entries handled, on failure
		 * too; a lookup failure may leave it untouched, so never
		 * trust more than was sent.
		 */
		if (rc) {
			if (cmd.entry_num < chunk)
				sent += cmd.entry_num;
			break;
		}
		if (cmd.entry_num != chunk) {
			pr_err("iommufd: vIOMMU %u: IOMMU_HWPT_INVALIDATE "
			       "handled %u of %u commands without an error",
			       viommu_id, cmd.entry_num, chunk);
			if (cmd.entry_num < chunk)
				sent += cmd.entry_num;
			rc = -EIO;
			break;
		}
		sent += chunk;
	} while (sent < n);
	if (done)
		*done = sent;
	return rc;
}

int iommufd_veventq_alloc_smmuv3(struct iommufd *ifd, uint32_t viommu_id,
				 uint32_t depth, uint32_t *veventq_id,
				 int *event_fd)
{
	struct iommu_veventq_alloc cmd = {
		.size = sizeof(cmd),
		.viommu_id = viommu_id,
		.type = IOMMU_VEVENTQ_TYPE_ARM_SMMUV3,
		.veventq_depth = depth,
	};
	int rc;

	if (!veventq_id || !event_fd || depth == 0 ||
	    depth > IOMMUFD_VEVENTQ_MAX_DEPTH)
		return -EINVAL;
	rc = iommufd_call(ifd, IOMMU_VEVENTQ_ALLOC, &cmd);
	if (rc)
		return rc;
	if (cmd.out_veventq_fd > INT_MAX) {
		/* Not a file descriptor: a kernel bug; nothing to close. */
		iommufd_destroy(ifd, cmd.out_veventq_id);
		return -EIO;
	}
	*veventq_id = cmd.out_veventq_id;
	*event_fd = (int)cmd.out_veventq_fd;
	return 0;
}

/* Sequence numbers run over [0, INT_MAX]: differences are modulo 2^31. */
static uint32_t iommufd_vevent_seq_delta(uint32_t from, uint32_t to)
{
	return (to - from) & (uint32_t)INT_MAX;
}

int iommufd_vevents_parse(struct iommufd_vevents *st, const void *buf,
			  size_t len, iommufd_vevent_fn fn, void *opaque,
			  unsigned int *delivered)
{
	const uint8_t *p = buf;
	unsigned int n = 0;
	size_t off = 0;
	int rc = 0;

	_Static_assert(sizeof(struct iommufd_vevent_header) ==
			       IOMMUFD_VEVENT_HEADER_BYTES,
		       "vEVENT header size");
	_Static_assert(sizeof(struct iommufd_vevent_header) +
				       sizeof(struct iommu_vevent_arm_smmuv3) ==
			       IOMMUFD_VEVENT_SMMUV3_BYTES,
		       "SMMUv3 vEVENT size");
	if (!st || (len && !p) || !fn) {
		rc = -EINVAL;
		goto out;
	}
	while (off < len) {
		struct iommufd_vevent_header hdr;
		uint64_t evt[4];
		uint32_t gap;

		if (len - off < sizeof(hdr)) {
			rc = -EMSGSIZE;
			break;
		}
		/* read() gives no alignment promise for our buffer. */
		memcpy(&hdr, p + off, sizeof(hdr));
		if ((hdr.flags & ~(uint32_t)IOMMU_VEVENTQ_FLAG_LOST_EVENTS) ||
		    hdr.sequence > (uint32_t)INT_MAX) {
			pr_err("iommufd: vEVENT header at byte %zu: flags 0x%x "
			       "sequence %u",
			       off, hdr.flags, hdr.sequence);
			rc = -EPROTO;
			break;
		}
		if (hdr.flags & IOMMU_VEVENTQ_FLAG_LOST_EVENTS) {
			/*
			 * No data follows (uapi struct iommufd_vevent_header).
			 * Each dropped event took a sequence number and this
			 * header holds the last one's (iommufd driver.c,
			 * iommufd_viommu_report_event()). With no earlier
			 * sequence, at least one was lost.
			 */
			gap = 1;
			if (st->have_seq)
				gap = iommufd_vevent_seq_delta(st->last_seq,
							       hdr.sequence);
			st->lost += gap ? gap : 1;
			st->have_seq = true;
			st->last_seq = hdr.sequence;
			off += sizeof(hdr);
			continue;
		}
		if (len - off - sizeof(hdr) < sizeof(evt)) {
			rc = -EMSGSIZE;
			break;
		}
		/* A jump of more than one: the events in between were lost. */
		if (st->have_seq) {
			gap = iommufd_vevent_seq_delta(st->last_seq,
						       hdr.sequence);
			st->lost += gap ? gap - 1 : 0;
		}
		st->have_seq = true;
		st->last_seq = hdr.sequence;
		memcpy(evt, p + off + sizeof(hdr), sizeof(evt));
		off += sizeof(hdr) + sizeof(evt);
		fn(opaque, evt);
		n++;
	}
out:
	if (delivered)
		*delivered = n;
	return rc;
}
