// SPDX-License-Identifier: GPL-2.0
/*
 * The iommufd backend against a fake kernel that checks every ioctl's
 * number, size and fields: IOAS alloc/destroy, MAP_FILE with the fallback
 * to VA maps, unmap, the EMSGSIZE two-call protocol of IOVA_RANGES, the
 * argument checks, the coverage check of allowed ranges, and the uapi
 * numbers and layouts themselves; the nesting calls (hardware info, nest
 * parent and nested HWPTs, vIOMMU, vDEVICE, batched invalidation, vEVENTQ)
 * and the vEVENT read-buffer parser.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <string.h>

#include "iommu/iommufd.h"
#include "iommu/uapi_iommufd.h"

#include "fake_iommufd.h"

#define MAX_CALLS  16
#define MAX_RANGES 8

struct fake_call {
	unsigned long req;
	union {
		struct iommu_destroy destroy;
		struct iommu_ioas_alloc alloc;
		struct iommu_ioas_map map;
		struct iommu_ioas_map_file map_file;
		struct iommu_ioas_unmap unmap;
		struct iommu_ioas_iova_ranges ranges;
		struct iommu_hw_info hw_info;
		struct iommu_hwpt_alloc hwpt;
		struct iommu_viommu_alloc viommu;
		struct iommu_vdevice_alloc vdevice;
		struct iommu_hwpt_invalidate inv;
		struct iommu_veventq_alloc veventq;
	};
	/* What the data pointers pointed at during the call. */
	struct iommu_hwpt_arm_smmuv3 ste;
	uint64_t first_cmd[2];
};

struct fake_kernel {
	struct fake_call calls[MAX_CALLS];
	unsigned int ncalls;
	int map_file_err; /* -errno every IOMMU_IOAS_MAP_FILE returns */
	int map_err;	  /* -errno every IOMMU_IOAS_MAP returns */
	int ranges_err;	  /* -errno IOMMU_IOAS_IOVA_RANGES returns */
	struct iommu_iova_range ranges[MAX_RANGES];
	unsigned int nranges;
	uint32_t next_id;
	/* GET_HW_INFO: the out_data_type and the data it reports */
	uint32_t hw_info_type;
	struct iommu_hw_info_arm_smmuv3 smmu;
	int nest_err; /* -errno of the nesting ioctls */
	/* HWPT_INVALIDATE: inv_accept commands handled, then inv_err */
	unsigned int inv_accept;
	int inv_err;
	bool inv_keep_num;   /* fail without touching entry_num */
	uint32_t veventq_fd; /* out_veventq_fd */
};

static struct fake_kernel k;
static struct iommufd ifd;

static int fake_ioctl(void *opaque, int fd, unsigned long req, void *arg)
{
	struct fake_kernel *fk = opaque;
	struct fake_call *c;

	cr_assert_eq(fk, &k);
	cr_assert_eq(fd, -1);
	cr_assert_lt(fk->ncalls, MAX_CALLS);
	c = &fk->calls[fk->ncalls++];
	c->req = req;

	switch (req) {
	case IOMMU_DESTROY:
		c->destroy = *(struct iommu_destroy *)arg;
		fake_iommufd_check_destroy(&c->destroy);
		return 0;
	case IOMMU_IOAS_ALLOC: {
		struct iommu_ioas_alloc *a = arg;

		cr_assert_eq(a->size, sizeof(*a));
		cr_assert_eq(a->flags, 0);
		a->out_ioas_id = fk->next_id++;
		c->alloc = *a;
		return 0;
	}
	case IOMMU_IOAS_MAP:
		c->map = *(struct iommu_ioas_map *)arg;
		cr_assert_eq(c->map.size, sizeof(struct iommu_ioas_map));
		cr_assert_eq(c->map.__reserved, 0);
		return fk->map_err;
	case IOMMU_IOAS_MAP_FILE:
		c->map_file = *(struct iommu_ioas_map_file *)arg;
		cr_assert_eq(c->map_file.size,
			     sizeof(struct iommu_ioas_map_file));
		return fk->map_file_err;
	case IOMMU_IOAS_UNMAP:
		c->unmap = *(struct iommu_ioas_unmap *)arg;
		cr_assert_eq(c->unmap.size, sizeof(struct iommu_ioas_unmap));
		return 0;
	case IOMMU_IOAS_IOVA_RANGES: {
		struct iommu_ioas_iova_ranges *r = arg;
		struct iommu_iova_range *dst =
			(struct iommu_iova_range *)(uintptr_t)r->allowed_iovas;

		cr_assert_eq(r->size, sizeof(*r));
		cr_assert_eq(r->__reserved, 0);
		c->ranges = *r;
		if (fk->ranges_err)
			return fk->ranges_err;
		/* iommufd ioas.c: fill what fits, report the total. */
		for (unsigned int i = 0; i < fk->nranges && i < r->num_iovas;
		     i++)
			dst[i] = fk->ranges[i];
		r->out_iova_alignment = 4096;
		if (fk->nranges > r->num_iovas) {
			r->num_iovas = fk->nranges;
			return -EMSGSIZE;
		}
		r->num_iovas = fk->nranges;
		return 0;
	}
	case IOMMU_GET_HW_INFO: {
		struct iommu_hw_info *h = arg;

		fake_iommufd_check_hw_info(h);
		c->hw_info = *h;
		if (fk->nest_err)
			return fk->nest_err;
		fake_iommufd_hw_info_reply(h, &fk->smmu, fk->hw_info_type);
		h->out_capabilities = 0x6;
		return 0;
	}
	case IOMMU_HWPT_ALLOC: {
		struct iommu_hwpt_alloc *a = arg;

		fake_iommufd_check_hwpt_alloc(a);
		if (a->data_type == IOMMU_HWPT_DATA_ARM_SMMUV3) {
			memcpy(&c->ste, (void *)(uintptr_t)a->data_uptr,
			       sizeof(c->ste));
		}
		c->hwpt = *a;
		if (fk->nest_err)
			return fk->nest_err;
		a->out_hwpt_id = fk->next_id++;
		return 0;
	}
	case IOMMU_VIOMMU_ALLOC: {
		struct iommu_viommu_alloc *v = arg;

		fake_iommufd_check_viommu_alloc(v);
		c->viommu = *v;
		if (fk->nest_err)
			return fk->nest_err;
		v->out_viommu_id = fk->next_id++;
		return 0;
	}
	case IOMMU_VDEVICE_ALLOC: {
		struct iommu_vdevice_alloc *v = arg;

		cr_assert_eq(v->size, sizeof(*v));
		c->vdevice = *v;
		if (fk->nest_err)
			return fk->nest_err;
		v->out_vdevice_id = fk->next_id++;
		return 0;
	}
	case IOMMU_HWPT_INVALIDATE: {
		struct iommu_hwpt_invalidate *i = arg;
		unsigned int handled = i->entry_num;

		fake_iommufd_check_invalidate(i);
		if (i->entry_num)
			memcpy(c->first_cmd, (void *)(uintptr_t)i->data_uptr,
			       sizeof(c->first_cmd));
		c->inv = *i;
		if (fk->inv_err && handled > fk->inv_accept) {
			handled = fk->inv_accept;
			fk->inv_accept = 0;
			if (!fk->inv_keep_num)
				i->entry_num = handled;
			return fk->inv_err;
		}
		if (fk->inv_err)
			fk->inv_accept -= handled;
		i->entry_num = handled;
		return 0;
	}
	case IOMMU_VEVENTQ_ALLOC: {
		struct iommu_veventq_alloc *q = arg;

		fake_iommufd_check_veventq_alloc(q);
		c->veventq = *q;
		if (fk->nest_err)
			return fk->nest_err;
		q->out_veventq_id = fk->next_id++;
		q->out_veventq_fd = fk->veventq_fd;
		return 0;
	}
	default:
		cr_assert_fail("unexpected ioctl 0x%lx", req);
		return -ENOTTY;
	}
}

static const struct iommufd_ops fake_ops = { .ioctl = fake_ioctl };

static void setup(void)
{
	memset(&k, 0, sizeof(k));
	k.next_id = 7;
	iommufd_init_fake(&ifd, &fake_ops, &k);
}

static void teardown(void)
{
	iommufd_close(&ifd);
}

TestSuite(iommufd, .init = setup, .fini = teardown);

/* Page-aligned stand-in for guest RAM: only its address is used. */
static uint8_t ram[4 * 4096] __attribute__((aligned(4096)));
#define MEMFD 42

Test(iommufd, uapi_numbers_and_layouts_match_linux)
{
	/* _IO(';', nr): type 0x3b in bits 15:8, no size, no direction. */
	cr_assert_eq(IOMMU_DESTROY, 0x3b80);
	cr_assert_eq(IOMMU_IOAS_ALLOC, 0x3b81);
	cr_assert_eq(IOMMU_IOAS_IOVA_RANGES, 0x3b84);
	cr_assert_eq(IOMMU_IOAS_MAP, 0x3b85);
	cr_assert_eq(IOMMU_IOAS_UNMAP, 0x3b86);
	cr_assert_eq(IOMMU_HWPT_ALLOC, 0x3b89);
	cr_assert_eq(IOMMU_GET_HW_INFO, 0x3b8a);
	cr_assert_eq(IOMMU_IOAS_MAP_FILE, 0x3b8f);
	cr_assert_eq(IOMMU_HWPT_INVALIDATE, 0x3b8d);
	cr_assert_eq(IOMMU_VIOMMU_ALLOC, 0x3b90);
	cr_assert_eq(IOMMU_VDEVICE_ALLOC, 0x3b91);
	cr_assert_eq(IOMMU_VEVENTQ_ALLOC, 0x3b93);
	/* VFIO_TYPE is ';' too, VFIO_BASE 100. */
	cr_assert_eq(VFIO_DEVICE_BIND_IOMMUFD, 0x3b76);
	cr_assert_eq(VFIO_DEVICE_ATTACH_IOMMUFD_PT, 0x3b77);
	cr_assert_eq(VFIO_DEVICE_DETACH_IOMMUFD_PT, 0x3b78);
	cr_assert_eq(KVM_DEV_VFIO_FILE, KVM_DEV_VFIO_GROUP);
	cr_assert_eq(KVM_DEV_VFIO_FILE_ADD, KVM_DEV_VFIO_GROUP_ADD);
	cr_assert_eq(KVM_DEV_VFIO_FILE_DEL, KVM_DEV_VFIO_GROUP_DEL);

	cr_assert_eq(IOMMU_IOAS_MAP_FIXED_IOVA, 1);
	cr_assert_eq(IOMMU_IOAS_MAP_WRITEABLE, 2);
	cr_assert_eq(IOMMU_IOAS_MAP_READABLE, 4);
	cr_assert_eq(IOMMU_HWPT_ALLOC_NEST_PARENT, 1);
	cr_assert_eq(IOMMU_HWPT_DATA_ARM_SMMUV3, 2);
	cr_assert_eq(IOMMU_HW_INFO_TYPE_ARM_SMMUV3, 2);
	cr_assert_eq(IOMMU_VIOMMU_TYPE_ARM_SMMUV3, 1);
	cr_assert_eq(IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3, 1);
	cr_assert_eq(IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, 1);
	cr_assert_eq(IOMMU_VEVENTQ_FLAG_LOST_EVENTS, 1);

	cr_assert_eq(sizeof(struct iommu_destroy), 8);
	cr_assert_eq(sizeof(struct iommu_ioas_alloc), 12);
	cr_assert_eq(sizeof(struct iommu_iova_range), 16);
	cr_assert_eq(sizeof(struct iommu_ioas_iova_ranges), 32);
	cr_assert_eq(offsetof(struct iommu_ioas_iova_ranges, allowed_iovas),
		     16);
	cr_assert_eq(sizeof(struct iommu_ioas_map), 40);
	cr_assert_eq(offsetof(struct iommu_ioas_map, user_va), 16);
	cr_assert_eq(offsetof(struct iommu_ioas_map, iova), 32);
	cr_assert_eq(sizeof(struct iommu_ioas_map_file), 40);
	cr_assert_eq(offsetof(struct iommu_ioas_map_file, fd), 12);
	cr_assert_eq(offsetof(struct iommu_ioas_map_file, start), 16);
	cr_assert_eq(sizeof(struct iommu_ioas_unmap), 24);
	cr_assert_eq(offsetof(struct iommu_ioas_unmap, iova), 8);
	cr_assert_eq(sizeof(struct iommu_hw_info), 40);
	cr_assert_eq(offsetof(struct iommu_hw_info, out_data_type), 24);
	cr_assert_eq(offsetof(struct iommu_hw_info, out_capabilities), 32);
	cr_assert_eq(sizeof(struct iommu_hwpt_alloc), 48);
	cr_assert_eq(offsetof(struct iommu_hwpt_alloc, data_uptr), 32);
	cr_assert_eq(sizeof(struct iommu_hw_info_arm_smmuv3), 40);
	cr_assert_eq(offsetof(struct iommu_hw_info_arm_smmuv3, idr), 8);
	cr_assert_eq(offsetof(struct iommu_hw_info_arm_smmuv3, iidr), 32);
	cr_assert_eq(offsetof(struct iommu_hw_info_arm_smmuv3, aidr), 36);
	cr_assert_eq(sizeof(struct iommu_hwpt_arm_smmuv3), 16);
	cr_assert_eq(sizeof(struct iommu_viommu_arm_smmuv3_invalidate), 16);
	cr_assert_eq(sizeof(struct iommu_hwpt_invalidate), 32);
	cr_assert_eq(offsetof(struct iommu_hwpt_invalidate, data_uptr), 8);
	cr_assert_eq(offsetof(struct iommu_hwpt_invalidate, data_type), 16);
	cr_assert_eq(offsetof(struct iommu_hwpt_invalidate, entry_len), 20);
	cr_assert_eq(offsetof(struct iommu_hwpt_invalidate, entry_num), 24);
	cr_assert_eq(sizeof(struct iommu_viommu_alloc), 40);
	cr_assert_eq(offsetof(struct iommu_viommu_alloc, type), 8);
	cr_assert_eq(offsetof(struct iommu_viommu_alloc, hwpt_id), 16);
	cr_assert_eq(offsetof(struct iommu_viommu_alloc, out_viommu_id), 20);
	cr_assert_eq(offsetof(struct iommu_viommu_alloc, data_uptr), 32);
	cr_assert_eq(sizeof(struct iommu_vdevice_alloc), 24);
	cr_assert_eq(offsetof(struct iommu_vdevice_alloc, out_vdevice_id), 12);
	cr_assert_eq(offsetof(struct iommu_vdevice_alloc, virt_id), 16);
	cr_assert_eq(sizeof(struct iommufd_vevent_header), 8);
	cr_assert_eq(offsetof(struct iommufd_vevent_header, sequence), 4);
	cr_assert_eq(sizeof(struct iommu_vevent_arm_smmuv3), 32);
	cr_assert_eq(sizeof(struct iommu_veventq_alloc), 32);
	cr_assert_eq(offsetof(struct iommu_veventq_alloc, veventq_depth), 16);
	cr_assert_eq(offsetof(struct iommu_veventq_alloc, out_veventq_id), 20);
	cr_assert_eq(offsetof(struct iommu_veventq_alloc, out_veventq_fd), 24);
	cr_assert_eq(sizeof(struct vfio_device_bind_iommufd), 16);
	cr_assert_eq(sizeof(struct vfio_device_attach_iommufd_pt), 12);
	cr_assert_eq(sizeof(struct vfio_device_detach_iommufd_pt), 8);
	/* The public range type is filled from the uapi one field by field. */
	cr_assert_eq(sizeof(struct iommufd_range), 16);
}

Test(iommufd, ioas_alloc_returns_the_kernel_id_and_destroy_passes_it)
{
	uint32_t id = 0;

	cr_assert_eq(iommufd_ioas_alloc(&ifd, &id), 0);
	cr_assert_eq(id, 7);
	cr_assert_eq(iommufd_destroy(&ifd, id), 0);
	cr_assert_eq(k.ncalls, 2);
	cr_assert_eq(k.calls[0].req, IOMMU_IOAS_ALLOC);
	cr_assert_eq(k.calls[1].req, IOMMU_DESTROY);
	cr_assert_eq(k.calls[1].destroy.id, 7);
}

Test(iommufd, map_uses_map_file_with_a_fixed_iova)
{
	cr_assert_eq(iommufd_ioas_map(&ifd, 3, 0x40000000, 0x2000, ram, MEMFD,
				      0x10000, true),
		     0);
	cr_assert_eq(k.ncalls, 1);
	cr_assert_eq(k.calls[0].req, IOMMU_IOAS_MAP_FILE);
	cr_assert_eq(k.calls[0].map_file.flags,
		     IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			     IOMMU_IOAS_MAP_WRITEABLE);
	cr_assert_eq(k.calls[0].map_file.ioas_id, 3);
	cr_assert_eq(k.calls[0].map_file.fd, MEMFD);
	cr_assert_eq(k.calls[0].map_file.start, 0x10000);
	cr_assert_eq(k.calls[0].map_file.length, 0x2000);
	cr_assert_eq(k.calls[0].map_file.iova, 0x40000000);
	cr_assert_eq(ifd.map_mode, IOMMUFD_MAP_FILE);

	/* Read-only for DMA: no WRITEABLE. */
	cr_assert_eq(iommufd_ioas_map(&ifd, 3, 0x50000000, 0x1000, ram, MEMFD,
				      0, false),
		     0);
	cr_assert_eq(k.calls[1].map_file.flags,
		     IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE);
}

Test(iommufd, enotty_from_map_file_falls_back_to_va_and_stays_there)
{
	k.map_file_err = -ENOTTY;
	cr_assert_eq(iommufd_ioas_map(&ifd, 3, 0x40000000, 0x2000, ram, MEMFD,
				      0, true),
		     0);
	cr_assert_eq(k.ncalls, 2);
	cr_assert_eq(k.calls[0].req, IOMMU_IOAS_MAP_FILE);
	cr_assert_eq(k.calls[1].req, IOMMU_IOAS_MAP);
	cr_assert_eq(k.calls[1].map.flags, IOMMU_IOAS_MAP_FIXED_IOVA |
						   IOMMU_IOAS_MAP_READABLE |
						   IOMMU_IOAS_MAP_WRITEABLE);
	cr_assert_eq(k.calls[1].map.ioas_id, 3);
	cr_assert_eq(k.calls[1].map.user_va, (uintptr_t)ram);
	cr_assert_eq(k.calls[1].map.length, 0x2000);
	cr_assert_eq(k.calls[1].map.iova, 0x40000000);
	cr_assert_eq(ifd.map_mode, IOMMUFD_MAP_VA);

	/* The next map goes straight to the VA: one call. */
	cr_assert_eq(iommufd_ioas_map(&ifd, 3, 0x40002000, 0x1000, ram + 0x2000,
				      MEMFD, 0x2000, false),
		     0);
	cr_assert_eq(k.ncalls, 3);
	cr_assert_eq(k.calls[2].req, IOMMU_IOAS_MAP);
	cr_assert_eq(k.calls[2].map.user_va, (uintptr_t)(ram + 0x2000));
	cr_assert_eq(k.calls[2].map.flags,
		     IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE);
}

Test(iommufd, eopnotsupp_and_einval_also_fall_back)
{
	k.map_file_err = -EOPNOTSUPP;
	cr_assert_eq(iommufd_ioas_map(&ifd, 1, 0, 0x1000, ram, MEMFD, 0, true),
		     0);
	cr_assert_eq(ifd.map_mode, IOMMUFD_MAP_VA);

	setup();
	k.map_file_err = -EINVAL;
	cr_assert_eq(iommufd_ioas_map(&ifd, 1, 0, 0x1000, ram, MEMFD, 0, true),
		     0);
	cr_assert_eq(ifd.map_mode, IOMMUFD_MAP_VA);
}

Test(iommufd, fallback_does_not_stick_when_the_va_map_fails_too)
{
	k.map_file_err = -EINVAL;
	k.map_err = -EINVAL;
	cr_assert_eq(iommufd_ioas_map(&ifd, 1, 0, 0x1000, ram, MEMFD, 0, true),
		     -EINVAL);
	cr_assert_eq(k.ncalls, 2);
	cr_assert_eq(ifd.map_mode, IOMMUFD_MAP_PROBE);

	/* Fixed arguments: MAP_FILE is tried again. */
	k.map_file_err = 0;
	cr_assert_eq(iommufd_ioas_map(&ifd, 1, 0, 0x1000, ram, MEMFD, 0, true),
		     0);
	cr_assert_eq(k.calls[2].req, IOMMU_IOAS_MAP_FILE);
	cr_assert_eq(ifd.map_mode, IOMMUFD_MAP_FILE);
}

Test(iommufd, other_map_file_errors_are_returned_without_fallback)
{
	k.map_file_err = -ENOMEM;
	cr_assert_eq(iommufd_ioas_map(&ifd, 1, 0, 0x1000, ram, MEMFD, 0, true),
		     -ENOMEM);
	cr_assert_eq(k.ncalls, 1);

	/* Once MAP_FILE has worked, EINVAL is about the arguments. */
	k.map_file_err = 0;
	cr_assert_eq(iommufd_ioas_map(&ifd, 1, 0, 0x1000, ram, MEMFD, 0, true),
		     0);
	k.map_file_err = -EINVAL;
	cr_assert_eq(
		iommufd_ioas_map(&ifd, 1, 0x1000, 0x1000, ram, MEMFD, 0, true),
		-EINVAL);
	cr_assert_eq(k.ncalls, 3);
	cr_assert_eq(ifd.map_mode, IOMMUFD_MAP_FILE);
}

Test(iommufd, no_memfd_maps_by_va_without_probing)
{
	cr_assert_eq(
		iommufd_ioas_map(&ifd, 1, 0x8000, 0x1000, ram, -1, 0, true), 0);
	cr_assert_eq(k.ncalls, 1);
	cr_assert_eq(k.calls[0].req, IOMMU_IOAS_MAP);
	cr_assert_eq(ifd.map_mode, IOMMUFD_MAP_PROBE);

	/* A memfd only, once the kernel is known to lack MAP_FILE: nothing
	 * to map from. */
	ifd.map_mode = IOMMUFD_MAP_VA;
	cr_assert_eq(iommufd_ioas_map(&ifd, 1, 0, 0x1000, NULL, MEMFD, 0, true),
		     -EINVAL);
	cr_assert_eq(k.ncalls, 1);
}

Test(iommufd, unmap_passes_the_window)
{
	cr_assert_eq(iommufd_ioas_unmap(&ifd, 5, 0x40000000, 0x200000), 0);
	cr_assert_eq(k.ncalls, 1);
	cr_assert_eq(k.calls[0].req, IOMMU_IOAS_UNMAP);
	cr_assert_eq(k.calls[0].unmap.ioas_id, 5);
	cr_assert_eq(k.calls[0].unmap.iova, 0x40000000);
	cr_assert_eq(k.calls[0].unmap.length, 0x200000);
}

Test(iommufd, bad_arguments_never_reach_the_kernel)
{
	/* zero length */
	cr_assert_eq(iommufd_ioas_map(&ifd, 1, 0, 0, ram, MEMFD, 0, true),
		     -EINVAL);
	cr_assert_eq(iommufd_ioas_unmap(&ifd, 1, 0, 0), -EINVAL);
	/* unaligned iova, length, VA, file offset */
	cr_assert_eq(
		iommufd_ioas_map(&ifd, 1, 0x800, 0x1000, ram, MEMFD, 0, true),
		-EINVAL);
	cr_assert_eq(iommufd_ioas_map(&ifd, 1, 0, 0x1800, ram, MEMFD, 0, true),
		     -EINVAL);
	cr_assert_eq(
		iommufd_ioas_map(&ifd, 1, 0, 0x1000, ram + 8, MEMFD, 0, true),
		-EINVAL);
	cr_assert_eq(
		iommufd_ioas_map(&ifd, 1, 0, 0x1000, ram, MEMFD, 0x10, true),
		-EINVAL);
	cr_assert_eq(iommufd_ioas_unmap(&ifd, 1, 0x1001, 0x1000), -EINVAL);
	cr_assert_eq(iommufd_ioas_unmap(&ifd, 1, 0x1000, 0xfff), -EINVAL);
	/* iova + len wraps past 2^64 */
	cr_assert_eq(iommufd_ioas_map(&ifd, 1, 0xfffffffffffff000ull, 0x2000,
				      ram, MEMFD, 0, true),
		     -EINVAL);
	cr_assert_eq(iommufd_ioas_unmap(&ifd, 1, 0xfffffffffffff000ull, 0x2000),
		     -EINVAL);
	/* file offset + len wraps */
	cr_assert_eq(iommufd_ioas_map(&ifd, 1, 0, 0x2000, ram, MEMFD,
				      0xfffffffffffff000ull, true),
		     -EINVAL);
	/* nothing to map from */
	cr_assert_eq(iommufd_ioas_map(&ifd, 1, 0, 0x1000, NULL, -1, 0, true),
		     -EINVAL);
	cr_assert_eq(k.ncalls, 0);

	/* A window ending exactly at 2^64 - 1 is valid. */
	cr_assert_eq(iommufd_ioas_unmap(&ifd, 1, 0xfffffffffffff000ull, 0x1000),
		     0);
	cr_assert_eq(k.ncalls, 1);
}

Test(iommufd, iova_ranges_in_one_call_when_they_fit)
{
	struct iommufd_range out[4];
	unsigned int n = 99;

	k.ranges[0] = (struct iommu_iova_range){ 0, 0x7ffffff };
	k.ranges[1] = (struct iommu_iova_range){ 0x8100000, UINT64_MAX };
	k.nranges = 2;
	cr_assert_eq(iommufd_ioas_iova_ranges(&ifd, 9, out, 4, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert_eq(k.ncalls, 1);
	cr_assert_eq(k.calls[0].ranges.ioas_id, 9);
	cr_assert_eq(k.calls[0].ranges.num_iovas, 4);
	cr_assert_eq(out[0].start, 0);
	cr_assert_eq(out[0].last, 0x7ffffff);
	cr_assert_eq(out[1].start, 0x8100000);
	cr_assert_eq(out[1].last, UINT64_MAX);
}

Test(iommufd, iova_ranges_ask_again_after_emsgsize)
{
	struct iommufd_range out[MAX_RANGES];
	unsigned int n = 0;

	for (unsigned int i = 0; i < 5; i++)
		k.ranges[i] =
			(struct iommu_iova_range){ i * 0x100000,
						   i * 0x100000 + 0xfffff };
	k.nranges = 5;
	/* Room for 3 on the first call: EMSGSIZE with the total, then 5. */
	cr_assert_eq(iommufd_ioas_iova_ranges(&ifd, 1, out, 3, &n), -ENOSPC);
	cr_assert_eq(n, 5);
	cr_assert_eq(out[2].start, 0x200000);
	cr_assert_eq(k.ncalls, 2);
	cr_assert_eq(k.calls[0].ranges.num_iovas, 3);
	cr_assert_eq(k.calls[1].ranges.num_iovas, 5);

	/* Enough room: one call. */
	k.ncalls = 0;
	cr_assert_eq(iommufd_ioas_iova_ranges(&ifd, 1, out, MAX_RANGES, &n), 0);
	cr_assert_eq(n, 5);
	cr_assert_eq(k.ncalls, 1);
	cr_assert_eq(out[4].last, 0x4fffff);

	/* No room at all: the probe call carries num_iovas 0. */
	k.ncalls = 0;
	cr_assert_eq(iommufd_ioas_iova_ranges(&ifd, 1, NULL, 0, &n), -ENOSPC);
	cr_assert_eq(n, 5);
	cr_assert_eq(k.calls[0].ranges.num_iovas, 0);
	cr_assert_eq(k.calls[0].ranges.allowed_iovas, 0);
}

Test(iommufd, iova_ranges_pass_kernel_errors)
{
	struct iommufd_range out[2];
	unsigned int n = 3;

	k.ranges_err = -ENOENT;
	cr_assert_eq(iommufd_ioas_iova_ranges(&ifd, 77, out, 2, &n), -ENOENT);
	cr_assert_eq(n, 0);
}

static const struct iommufd_range split[] = {
	/* allowed [0, 0x7ffffff] and [0x8100000, 2^64 - 1]: the MSI hole */
	{ 0, 0x7ffffff },
	{ 0x8100000, UINT64_MAX },
};

Test(iommufd, ranges_cover_exact_and_inside)
{
	uint64_t hs = 1, hl = 1;

	cr_assert(iommufd_ranges_cover(split, 2, 0, 0x8000000, &hs, &hl));
	cr_assert(
		iommufd_ranges_cover(split, 2, 0x8100000, 0x1000, NULL, NULL));
	cr_assert(iommufd_ranges_cover(split, 2, 0x1000, 0x1000, &hs, &hl));
	/* untouched on success */
	cr_assert_eq(hs, 1);
	cr_assert_eq(hl, 1);
	/* nothing to cover */
	cr_assert(iommufd_ranges_cover(NULL, 0, 0x1000, 0, NULL, NULL));
}

Test(iommufd, ranges_cover_reports_a_hole_inside)
{
	uint64_t hs, hl;

	cr_assert_not(iommufd_ranges_cover(split, 2, 0, 0x40000000, &hs, &hl));
	cr_assert_eq(hs, 0x8000000);
	cr_assert_eq(hl, 0x80fffff);
}

Test(iommufd, ranges_cover_reports_holes_at_start_and_end)
{
	static const struct iommufd_range mid[] = { { 0x10000, 0x1ffff } };
	uint64_t hs, hl;

	/* window starts in the hole below */
	cr_assert_not(iommufd_ranges_cover(mid, 1, 0x8000, 0x10000, &hs, &hl));
	cr_assert_eq(hs, 0x8000);
	cr_assert_eq(hl, 0xffff);
	/* window runs past the last range: the hole is open to 2^64 - 1 */
	cr_assert_not(iommufd_ranges_cover(mid, 1, 0x18000, 0x10000, &hs, &hl));
	cr_assert_eq(hs, 0x20000);
	cr_assert_eq(hl, UINT64_MAX);
	/* window starting in the MSI hole */
	cr_assert_not(
		iommufd_ranges_cover(split, 2, 0x8000000, 0x1000, &hs, &hl));
	cr_assert_eq(hs, 0x8000000);
	cr_assert_eq(hl, 0x80fffff);
	/* no ranges: everything is a hole */
	cr_assert_not(iommufd_ranges_cover(NULL, 0, 0x5000, 0x1000, &hs, &hl));
	cr_assert_eq(hs, 0x5000);
	cr_assert_eq(hl, UINT64_MAX);
}

Test(iommufd, ranges_cover_the_top_of_the_address_space)
{
	static const struct iommufd_range low_only[] = {
		{ 0, 0xfffffffffffeffffull }
	};
	uint64_t hs, hl;

	/* last byte 2^64 - 1 */
	cr_assert(iommufd_ranges_cover(split, 2, 0xfffffffffffff000ull, 0x1000,
				       &hs, &hl));
	cr_assert(iommufd_ranges_cover(split, 2, 0x8100000, 0 - 0x8100000ull,
				       &hs, &hl));
	cr_assert_not(iommufd_ranges_cover(low_only, 1, 0xfffffffffffe0000ull,
					   0x20000, &hs, &hl));
	cr_assert_eq(hs, 0xffffffffffff0000ull);
	cr_assert_eq(hl, UINT64_MAX);
	/* a window wrapping past 2^64 is never covered */
	cr_assert_not(iommufd_ranges_cover(split, 2, 0xfffffffffffff000ull,
					   0x2000, &hs, &hl));
	cr_assert_eq(hs, 0xfffffffffffff000ull);
	cr_assert_eq(hl, UINT64_MAX);
}

Test(iommufd, ranges_cover_joins_touching_ranges_in_any_order)
{
	static const struct iommufd_range pieces[] = {
		{ 0x3000, 0x3fff },
		{ 0x1000, 0x1fff },
		{ 0x2000, 0x2fff },
		{ 0x2800, 0x37ff }, /* overlapping */
	};
	uint64_t hs, hl;

	cr_assert(iommufd_ranges_cover(pieces, 4, 0x1000, 0x3000, &hs, &hl));
	cr_assert_not(
		iommufd_ranges_cover(pieces, 4, 0x1000, 0x4000, &hs, &hl));
	cr_assert_eq(hs, 0x4000);
	cr_assert_eq(hl, UINT64_MAX);
	cr_assert_not(iommufd_ranges_cover(pieces, 4, 0, 0x2000, &hs, &hl));
	cr_assert_eq(hs, 0);
	cr_assert_eq(hl, 0xfff);
}

Test(iommufd, open_names_a_missing_iommufd)
{
	struct iommufd f;
	char err[160] = "";

	cr_assert_eq(iommufd_open_path(&f, "/nonexistent/nestbox-iommu", err,
				       sizeof(err)),
		     -ENOENT);
	cr_assert_str_eq(err, "no /nonexistent/nestbox-iommu: the host kernel "
			      "has no iommufd (CONFIG_IOMMUFD)");
	cr_assert_eq(f.fd, -1);
	/* Closing a file that never opened is harmless. */
	iommufd_close(&f);
}

Test(iommufd, open_and_close_a_real_node)
{
	struct iommufd f;
	char err[160] = "";

	/* Any openable node shows the real path: /dev/null stands in. */
	cr_assert_eq(iommufd_open_path(&f, "/dev/null", err, sizeof(err)), 0);
	cr_assert_geq(f.fd, 0);
	cr_assert_eq(f.map_mode, IOMMUFD_MAP_PROBE);
	/* The real ioctl path: /dev/null knows no iommufd ioctl. */
	uint32_t id;
	cr_assert_eq(iommufd_ioas_alloc(&f, &id), -ENOTTY);
	iommufd_close(&f);
	cr_assert_eq(f.fd, -1);
	iommufd_close(&f);
}

/* ---- Nesting ---- */

Test(iommufd, hw_info_returns_the_smmuv3_registers)
{
	struct iommufd_smmuv3_info info;
	uint32_t type = 0;

	k.hw_info_type = IOMMU_HW_INFO_TYPE_ARM_SMMUV3;
	k.smmu = (struct iommu_hw_info_arm_smmuv3){
		.flags = 0,
		.idr = { 0x0c0010bb, 0x27a00010, 0, 0x1c, 0, 0x75 },
		.iidr = 0x4b1,
		.aidr = 0x2,
	};
	cr_assert_eq(iommufd_get_hw_info_smmuv3(&ifd, 11, &info, &type), 0);
	cr_assert_eq(type, IOMMU_HW_INFO_TYPE_ARM_SMMUV3);
	cr_assert_eq(k.ncalls, 1);
	cr_assert_eq(k.calls[0].req, IOMMU_GET_HW_INFO);
	cr_assert_eq(k.calls[0].hw_info.dev_id, 11);
	cr_assert_eq(info.idr[0], 0x0c0010bb);
	cr_assert_eq(info.idr[1], 0x27a00010);
	cr_assert_eq(info.idr[3], 0x1c);
	cr_assert_eq(info.idr[5], 0x75);
	cr_assert_eq(info.iidr, 0x4b1);
	cr_assert_eq(info.aidr, 0x2);
	cr_assert_eq(info.capabilities, 0x6);
}

Test(iommufd, hw_info_refuses_an_iommu_that_is_not_an_smmuv3)
{
	struct iommufd_smmuv3_info info;
	uint32_t type = 99;

	k.hw_info_type = IOMMU_HW_INFO_TYPE_INTEL_VTD;
	cr_assert_eq(iommufd_get_hw_info_smmuv3(&ifd, 1, &info, &type),
		     -EOPNOTSUPP);
	cr_assert_eq(type, IOMMU_HW_INFO_TYPE_INTEL_VTD);
	/* No type is asked for: the default type NONE is no SMMUv3 either. */
	k.hw_info_type = IOMMU_HW_INFO_TYPE_NONE;
	cr_assert_eq(iommufd_get_hw_info_smmuv3(&ifd, 1, &info, NULL),
		     -EOPNOTSUPP);
	/* Kernel errors pass through. */
	k.nest_err = -ENOENT;
	cr_assert_eq(iommufd_get_hw_info_smmuv3(&ifd, 1, &info, &type),
		     -ENOENT);
	cr_assert_eq(iommufd_get_hw_info_smmuv3(&ifd, 1, NULL, &type), -EINVAL);
	cr_assert_eq(k.ncalls, 3);
}

Test(iommufd, nest_parent_hwpt_is_a_flagged_hwpt_on_the_ioas)
{
	uint32_t id = 0;

	cr_assert_eq(iommufd_hwpt_alloc_nest_parent(&ifd, 4, 2, &id), 0);
	cr_assert_eq(id, 7);
	cr_assert_eq(k.calls[0].req, IOMMU_HWPT_ALLOC);
	cr_assert_eq(k.calls[0].hwpt.flags, IOMMU_HWPT_ALLOC_NEST_PARENT);
	cr_assert_eq(k.calls[0].hwpt.dev_id, 4);
	cr_assert_eq(k.calls[0].hwpt.pt_id, 2);
	cr_assert_eq(k.calls[0].hwpt.data_type, IOMMU_HWPT_DATA_NONE);
	cr_assert_eq(k.calls[0].hwpt.data_len, 0);
	cr_assert_eq(k.calls[0].hwpt.data_uptr, 0);
}

Test(iommufd, nested_hwpt_carries_the_guest_ste_under_the_viommu)
{
	const uint64_t ste[2] = { 0x0000000080001005ull,
				  0x0000000000000001ull };
	uint32_t id = 0;

	cr_assert_eq(iommufd_hwpt_alloc_nested_smmuv3(&ifd, 4, 30, ste, &id),
		     0);
	cr_assert_eq(id, 7);
	cr_assert_eq(k.calls[0].hwpt.flags, 0);
	cr_assert_eq(k.calls[0].hwpt.dev_id, 4);
	cr_assert_eq(k.calls[0].hwpt.pt_id, 30);
	cr_assert_eq(k.calls[0].hwpt.data_type, IOMMU_HWPT_DATA_ARM_SMMUV3);
	cr_assert_eq(k.calls[0].hwpt.data_len, 16);
	cr_assert_eq(k.calls[0].ste.ste[0], ste[0]);
	cr_assert_eq(k.calls[0].ste.ste[1], ste[1]);

	/* An illegal STE: the kernel's -EIO comes back, no id. */
	k.nest_err = -EIO;
	id = 0;
	cr_assert_eq(iommufd_hwpt_alloc_nested_smmuv3(&ifd, 4, 30, ste, &id),
		     -EIO);
	cr_assert_eq(id, 0);
	cr_assert_eq(iommufd_hwpt_alloc_nested_smmuv3(&ifd, 4, 30, NULL, &id),
		     -EINVAL);
	cr_assert_eq(k.ncalls, 2);
}

Test(iommufd, hwpt_alloc_checks_data_against_its_type)
{
	uint8_t blob[32] = { 1 };
	uint32_t id;

	/* NONE with data, a type without data, too much data, no out id */
	cr_assert_eq(iommufd_hwpt_alloc(&ifd, 1, 2, 0, IOMMU_HWPT_DATA_NONE,
					blob, sizeof(blob), &id),
		     -EINVAL);
	cr_assert_eq(iommufd_hwpt_alloc(&ifd, 1, 2, 0, IOMMU_HWPT_DATA_NONE,
					NULL, 4, &id),
		     -EINVAL);
	cr_assert_eq(iommufd_hwpt_alloc(&ifd, 1, 2, 0,
					IOMMU_HWPT_DATA_ARM_SMMUV3, NULL, 0,
					&id),
		     -EINVAL);
	cr_assert_eq(iommufd_hwpt_alloc(&ifd, 1, 2, 0,
					IOMMU_HWPT_DATA_ARM_SMMUV3, blob, 0,
					&id),
		     -EINVAL);
	cr_assert_eq(iommufd_hwpt_alloc(&ifd, 1, 2, 0,
					IOMMU_HWPT_DATA_ARM_SMMUV3, blob,
					IOMMUFD_HWPT_DATA_MAX + 1, &id),
		     -EINVAL);
	cr_assert_eq(iommufd_hwpt_alloc(&ifd, 1, 2, 0, IOMMU_HWPT_DATA_NONE,
					NULL, 0, NULL),
		     -EINVAL);
	/* FAULT_ID_VALID would need a fault queue this backend never gives */
	cr_assert_eq(iommufd_hwpt_alloc(&ifd, 1, 2, IOMMU_HWPT_FAULT_ID_VALID,
					IOMMU_HWPT_DATA_NONE, NULL, 0, &id),
		     -EINVAL);
	cr_assert_eq(k.ncalls, 0);

	/* Dirty tracking passes through. */
	cr_assert_eq(iommufd_hwpt_alloc(&ifd, 1, 2,
					IOMMUFD_HWPT_NEST_PARENT |
						IOMMUFD_HWPT_DIRTY_TRACKING,
					IOMMU_HWPT_DATA_NONE, NULL, 0, &id),
		     0);
	cr_assert_eq(k.calls[0].hwpt.flags,
		     IOMMU_HWPT_ALLOC_NEST_PARENT |
			     IOMMU_HWPT_ALLOC_DIRTY_TRACKING);
}

Test(iommufd, viommu_and_vdevice_alloc_pass_their_ids)
{
	uint32_t viommu = 0, vdev = 0;

	cr_assert_eq(iommufd_viommu_alloc_smmuv3(&ifd, 4, 20, &viommu), 0);
	cr_assert_eq(viommu, 7);
	cr_assert_eq(k.calls[0].req, IOMMU_VIOMMU_ALLOC);
	cr_assert_eq(k.calls[0].viommu.type, IOMMU_VIOMMU_TYPE_ARM_SMMUV3);
	cr_assert_eq(k.calls[0].viommu.dev_id, 4);
	cr_assert_eq(k.calls[0].viommu.hwpt_id, 20);

	/* The guest's StreamID for the device is the virtual ID. */
	cr_assert_eq(iommufd_vdevice_alloc(&ifd, viommu, 4, 0x0108, &vdev), 0);
	cr_assert_eq(vdev, 8);
	cr_assert_eq(k.calls[1].req, IOMMU_VDEVICE_ALLOC);
	cr_assert_eq(k.calls[1].vdevice.viommu_id, 7);
	cr_assert_eq(k.calls[1].vdevice.dev_id, 4);
	cr_assert_eq(k.calls[1].vdevice.virt_id, 0x0108);

	/* Errors: the kernel's, and a missing out pointer. */
	k.nest_err = -EEXIST;
	cr_assert_eq(iommufd_vdevice_alloc(&ifd, viommu, 4, 0x0108, &vdev),
		     -EEXIST);
	k.nest_err = -EOPNOTSUPP;
	cr_assert_eq(iommufd_viommu_alloc_smmuv3(&ifd, 4, 20, &viommu),
		     -EOPNOTSUPP);
	cr_assert_eq(iommufd_viommu_alloc_smmuv3(&ifd, 4, 20, NULL), -EINVAL);
	cr_assert_eq(iommufd_vdevice_alloc(&ifd, 7, 4, 1, NULL), -EINVAL);
	cr_assert_eq(k.ncalls, 4);
}

/* A CMD_TLBI_NH_ASID (opcode 0x11) for ASID @asid, as the guest queued it. */
static void tlbi_asid(uint64_t cmd[2], uint16_t asid)
{
	cmd[0] = 0x11 | (uint64_t)asid << 48;
	cmd[1] = 0;
}

Test(iommufd, invalidate_sends_the_guest_commands_in_one_ioctl)
{
	uint64_t cmds[5][2];
	unsigned int done = 99;

	for (unsigned int i = 0; i < 5; i++)
		tlbi_asid(cmds[i], i + 1);
	cr_assert_eq(iommufd_viommu_invalidate_smmuv3(&ifd, 30, cmds, 5, &done),
		     0);
	cr_assert_eq(done, 5);
	cr_assert_eq(k.ncalls, 1);
	cr_assert_eq(k.calls[0].req, IOMMU_HWPT_INVALIDATE);
	cr_assert_eq(k.calls[0].inv.hwpt_id, 30);
	cr_assert_eq(k.calls[0].inv.data_type,
		     IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3);
	cr_assert_eq(k.calls[0].inv.entry_len, 16);
	cr_assert_eq(k.calls[0].inv.entry_num, 5);
	cr_assert_eq(k.calls[0].inv.data_uptr, (uintptr_t)cmds);
	cr_assert_eq(k.calls[0].first_cmd[0], cmds[0][0]);
}

Test(iommufd, invalidate_splits_long_batches)
{
	static uint64_t cmds[2 * IOMMUFD_INVALIDATE_BATCH + 3][2];
	unsigned int n = 2 * IOMMUFD_INVALIDATE_BATCH + 3, done = 0;

	for (unsigned int i = 0; i < n; i++)
		tlbi_asid(cmds[i], i);
	cr_assert_eq(iommufd_viommu_invalidate_smmuv3(&ifd, 30, cmds, n, &done),
		     0);
	cr_assert_eq(done, n);
	cr_assert_eq(k.ncalls, 3);
	cr_assert_eq(k.calls[0].inv.entry_num, IOMMUFD_INVALIDATE_BATCH);
	cr_assert_eq(k.calls[1].inv.entry_num, IOMMUFD_INVALIDATE_BATCH);
	cr_assert_eq(k.calls[1].inv.data_uptr,
		     (uintptr_t)cmds[IOMMUFD_INVALIDATE_BATCH]);
	cr_assert_eq(k.calls[2].inv.entry_num, 3);
	cr_assert_eq(k.calls[2].first_cmd[0],
		     cmds[2 * IOMMUFD_INVALIDATE_BATCH][0]);
}

Test(iommufd, invalidate_reports_the_first_command_not_handled)
{
	static uint64_t cmds[IOMMUFD_INVALIDATE_BATCH + 10][2];
	unsigned int n = IOMMUFD_INVALIDATE_BATCH + 10, done = 0;

	/* The kernel refuses command BATCH + 4 (e.g. a CFGI_STE). */
	k.inv_err = -EIO;
	k.inv_accept = IOMMUFD_INVALIDATE_BATCH + 4;
	cr_assert_eq(iommufd_viommu_invalidate_smmuv3(&ifd, 30, cmds, n, &done),
		     -EIO);
	cr_assert_eq(done, IOMMUFD_INVALIDATE_BATCH + 4);
	cr_assert_eq(k.ncalls, 2);

	/* A failure that leaves entry_num as sent counts nothing handled. */
	setup();
	k.inv_err = -ENOENT;
	k.inv_keep_num = true;
	cr_assert_eq(iommufd_viommu_invalidate_smmuv3(&ifd, 99, cmds, 3, &done),
		     -ENOENT);
	cr_assert_eq(done, 0);
}

Test(iommufd, invalidate_with_no_commands_probes_support)
{
	unsigned int done = 5;

	cr_assert_eq(iommufd_viommu_invalidate_smmuv3(&ifd, 30, NULL, 0, &done),
		     0);
	cr_assert_eq(done, 0);
	cr_assert_eq(k.ncalls, 1);
	cr_assert_eq(k.calls[0].inv.entry_num, 0);
	cr_assert_eq(k.calls[0].inv.data_uptr, 0);
	cr_assert_eq(k.calls[0].inv.data_type,
		     IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3);
	/* Commands promised but not given */
	cr_assert_eq(iommufd_viommu_invalidate_smmuv3(&ifd, 30, NULL, 2, &done),
		     -EINVAL);
	cr_assert_eq(k.ncalls, 1);
}

Test(iommufd, veventq_alloc_returns_id_and_fd)
{
	uint32_t id = 0;
	int fd = -1;

	k.veventq_fd = 17;
	cr_assert_eq(iommufd_veventq_alloc_smmuv3(&ifd, 30, 64, &id, &fd), 0);
	cr_assert_eq(id, 7);
	cr_assert_eq(fd, 17);
	cr_assert_eq(k.calls[0].req, IOMMU_VEVENTQ_ALLOC);
	cr_assert_eq(k.calls[0].veventq.viommu_id, 30);
	cr_assert_eq(k.calls[0].veventq.type, IOMMU_VEVENTQ_TYPE_ARM_SMMUV3);
	cr_assert_eq(k.calls[0].veventq.veventq_depth, 64);

	/* depth 0 or above the limit, missing out pointers */
	cr_assert_eq(iommufd_veventq_alloc_smmuv3(&ifd, 30, 0, &id, &fd),
		     -EINVAL);
	cr_assert_eq(iommufd_veventq_alloc_smmuv3(
			     &ifd, 30, IOMMUFD_VEVENTQ_MAX_DEPTH + 1, &id, &fd),
		     -EINVAL);
	cr_assert_eq(iommufd_veventq_alloc_smmuv3(&ifd, 30, 64, NULL, &fd),
		     -EINVAL);
	cr_assert_eq(iommufd_veventq_alloc_smmuv3(&ifd, 30, 64, &id, NULL),
		     -EINVAL);
	cr_assert_eq(k.ncalls, 1);

	/* The kernel's error (one vEVENTQ per type: EEXIST) */
	k.nest_err = -EEXIST;
	cr_assert_eq(iommufd_veventq_alloc_smmuv3(&ifd, 30, 64, &id, &fd),
		     -EEXIST);
	/* A reply that is no fd: the queue is destroyed again. */
	k.nest_err = 0;
	k.veventq_fd = 0x80000000u;
	cr_assert_eq(iommufd_veventq_alloc_smmuv3(&ifd, 30, 64, &id, &fd),
		     -EIO);
	cr_assert_eq(k.calls[k.ncalls - 1].req, IOMMU_DESTROY);
	cr_assert_eq(k.calls[k.ncalls - 1].destroy.id, 8);
}

/* ---- vEVENT read buffers ---- */

#define MAX_EVENTS 8

struct seen {
	uint64_t evt[MAX_EVENTS][4];
	unsigned int n;
};

static void collect(void *opaque, const uint64_t evt[4])
{
	struct seen *s = opaque;

	cr_assert_lt(s->n, MAX_EVENTS);
	memcpy(s->evt[s->n++], evt, sizeof(s->evt[0]));
}

/* Appends a header (and, unless lost, a record tagged @tag) at *@len. */
static void put_event(uint8_t *buf, size_t *len, uint32_t flags, uint32_t seq,
		      uint64_t tag)
{
	struct iommufd_vevent_header h = { .flags = flags, .sequence = seq };
	/* F_TRANSLATION (0x10) from vSID 0x108, @tag as the input address */
	uint64_t evt[4] = { 0x10 | 0x108ull << 32, 0, tag, 0 };

	memcpy(buf + *len, &h, sizeof(h));
	*len += sizeof(h);
	if (flags & IOMMU_VEVENTQ_FLAG_LOST_EVENTS)
		return;
	memcpy(buf + *len, evt, sizeof(evt));
	*len += sizeof(evt);
}

Test(iommufd, vevents_are_handed_over_in_order)
{
	uint8_t buf[4 * IOMMUFD_VEVENT_SMMUV3_BYTES];
	struct iommufd_vevents st = { 0 };
	struct seen s = { 0 };
	unsigned int got = 99;
	size_t len = 0;

	for (unsigned int i = 0; i < 3; i++)
		put_event(buf, &len, 0, i, 0x1000 * (i + 1));
	cr_assert_eq(len, 3 * IOMMUFD_VEVENT_SMMUV3_BYTES);
	cr_assert_eq(iommufd_vevents_parse(&st, buf, len, collect, &s, &got),
		     0);
	cr_assert_eq(got, 3);
	cr_assert_eq(s.n, 3);
	cr_assert_eq(s.evt[0][0], 0x10 | 0x108ull << 32);
	cr_assert_eq(s.evt[0][2], 0x1000);
	cr_assert_eq(s.evt[2][2], 0x3000);
	cr_assert_eq(st.lost, 0);
	cr_assert_eq(st.last_seq, 2);

	/* The next read continues the sequence: still nothing lost. */
	len = 0;
	put_event(buf, &len, 0, 3, 0x4000);
	cr_assert_eq(iommufd_vevents_parse(&st, buf, len, collect, &s, &got),
		     0);
	cr_assert_eq(got, 1);
	cr_assert_eq(st.lost, 0);

	/* An empty read is no error. */
	cr_assert_eq(iommufd_vevents_parse(&st, buf, 0, collect, &s, &got), 0);
	cr_assert_eq(got, 0);
}

Test(iommufd, vevents_count_a_sequence_gap_as_lost)
{
	uint8_t buf[4 * IOMMUFD_VEVENT_SMMUV3_BYTES];
	struct iommufd_vevents st = { 0 };
	struct seen s = { 0 };
	size_t len = 0;

	/* iommufd.h's example: 3 then 6, so 4 and 5 were lost. */
	put_event(buf, &len, 0, 3, 0x3000);
	put_event(buf, &len, 0, 6, 0x6000);
	cr_assert_eq(iommufd_vevents_parse(&st, buf, len, collect, &s, NULL),
		     0);
	cr_assert_eq(s.n, 2);
	cr_assert_eq(st.lost, 2);

	/* Across reads too: 6 then 9 loses 7 and 8. */
	len = 0;
	put_event(buf, &len, 0, 9, 0x9000);
	cr_assert_eq(iommufd_vevents_parse(&st, buf, len, collect, &s, NULL),
		     0);
	cr_assert_eq(st.lost, 4);
}

Test(iommufd, vevents_count_the_lost_events_header)
{
	uint8_t buf[4 * IOMMUFD_VEVENT_SMMUV3_BYTES];
	struct iommufd_vevents st = { 0 };
	struct seen s = { 0 };
	unsigned int got = 0;
	size_t len = 0;

	/*
	 * The queue overflowed after event 3: events 4 and 5 were dropped,
	 * and the tail header carries 5, with no record after it.
	 */
	put_event(buf, &len, 0, 3, 0x3000);
	put_event(buf, &len, IOMMU_VEVENTQ_FLAG_LOST_EVENTS, 5, 0);
	cr_assert_eq(len, IOMMUFD_VEVENT_SMMUV3_BYTES + 8);
	cr_assert_eq(iommufd_vevents_parse(&st, buf, len, collect, &s, &got),
		     0);
	cr_assert_eq(got, 1);
	cr_assert_eq(st.lost, 2);

	/* The next event follows the lost header's sequence: no new loss. */
	len = 0;
	put_event(buf, &len, 0, 6, 0x6000);
	cr_assert_eq(iommufd_vevents_parse(&st, buf, len, collect, &s, &got),
		     0);
	cr_assert_eq(got, 1);
	cr_assert_eq(st.lost, 2);

	/* A lost header first of all: at least one event is gone. */
	struct iommufd_vevents fresh = { 0 };

	len = 0;
	put_event(buf, &len, IOMMU_VEVENTQ_FLAG_LOST_EVENTS, 40, 0);
	cr_assert_eq(iommufd_vevents_parse(&fresh, buf, len, collect, &s, &got),
		     0);
	cr_assert_eq(got, 0);
	cr_assert_eq(fresh.lost, 1);
}

Test(iommufd, vevents_sequence_wraps_at_int_max)
{
	uint8_t buf[4 * IOMMUFD_VEVENT_SMMUV3_BYTES];
	struct iommufd_vevents st = { 0 };
	struct seen s = { 0 };
	size_t len = 0;

	/* INT_MAX is followed by 0: nothing lost. */
	put_event(buf, &len, 0, INT_MAX - 1, 1);
	put_event(buf, &len, 0, INT_MAX, 2);
	put_event(buf, &len, 0, 0, 3);
	put_event(buf, &len, 0, 1, 4);
	cr_assert_eq(iommufd_vevents_parse(&st, buf, len, collect, &s, NULL),
		     0);
	cr_assert_eq(s.n, 4);
	cr_assert_eq(st.lost, 0);

	/* INT_MAX - 1 then 1 across the wrap: INT_MAX and 0 were lost. */
	struct iommufd_vevents st2 = { 0 };

	len = 0;
	put_event(buf, &len, 0, INT_MAX - 1, 1);
	put_event(buf, &len, 0, 1, 2);
	cr_assert_eq(iommufd_vevents_parse(&st2, buf, len, collect, &s, NULL),
		     0);
	cr_assert_eq(st2.lost, 2);

	/* A lost header across the wrap: INT_MAX, 0 and 1 dropped. */
	struct iommufd_vevents st3 = { .have_seq = true,
				       .last_seq = INT_MAX - 1 };

	len = 0;
	put_event(buf, &len, IOMMU_VEVENTQ_FLAG_LOST_EVENTS, 1, 0);
	cr_assert_eq(iommufd_vevents_parse(&st3, buf, len, collect, &s, NULL),
		     0);
	cr_assert_eq(st3.lost, 3);
}

Test(iommufd, vevents_stop_at_a_truncated_buffer)
{
	uint8_t buf[4 * IOMMUFD_VEVENT_SMMUV3_BYTES];
	struct iommufd_vevents st = { 0 };
	struct seen s = { 0 };
	unsigned int got = 0;
	size_t len = 0;

	put_event(buf, &len, 0, 0, 0x1000);
	put_event(buf, &len, 0, 1, 0x2000);
	/* The second record cut short: the first still arrives. */
	cr_assert_eq(
		iommufd_vevents_parse(&st, buf, len - 1, collect, &s, &got),
		-EMSGSIZE);
	cr_assert_eq(got, 1);
	cr_assert_eq(s.n, 1);
	cr_assert_eq(s.evt[0][2], 0x1000);

	/* A header cut short */
	struct iommufd_vevents st2 = { 0 };

	s.n = 0;
	cr_assert_eq(iommufd_vevents_parse(&st2, buf,
					   IOMMUFD_VEVENT_SMMUV3_BYTES + 4,
					   collect, &s, &got),
		     -EMSGSIZE);
	cr_assert_eq(got, 1);
	/* A header with no record at all */
	s.n = 0;
	cr_assert_eq(iommufd_vevents_parse(&st2, buf, 8, collect, &s, &got),
		     -EMSGSIZE);
	cr_assert_eq(got, 0);
	cr_assert_eq(s.n, 0);
}

Test(iommufd, vevents_refuse_a_garbage_header)
{
	uint8_t buf[4 * IOMMUFD_VEVENT_SMMUV3_BYTES];
	struct iommufd_vevents st = { 0 };
	struct seen s = { 0 };
	unsigned int got = 0;
	size_t len = 0;

	put_event(buf, &len, 0, 0, 0x1000);
	put_event(buf, &len, 0x80, 1, 0x2000); /* unknown flag */
	put_event(buf, &len, 0, 2, 0x3000);
	cr_assert_eq(iommufd_vevents_parse(&st, buf, len, collect, &s, &got),
		     -EPROTO);
	cr_assert_eq(got, 1);
	cr_assert_eq(s.n, 1);

	/* A sequence above INT_MAX is no kernel's */
	len = 0;
	s.n = 0;
	put_event(buf, &len, 0, 0x80000000u, 0x1000);
	cr_assert_eq(iommufd_vevents_parse(&st, buf, len, collect, &s, &got),
		     -EPROTO);
	cr_assert_eq(got, 0);
	cr_assert_eq(s.n, 0);

	/* Missing state, buffer or callback */
	cr_assert_eq(iommufd_vevents_parse(NULL, buf, len, collect, &s, &got),
		     -EINVAL);
	cr_assert_eq(iommufd_vevents_parse(&st, NULL, 8, collect, &s, &got),
		     -EINVAL);
	cr_assert_eq(iommufd_vevents_parse(&st, buf, len, NULL, &s, &got),
		     -EINVAL);
}
