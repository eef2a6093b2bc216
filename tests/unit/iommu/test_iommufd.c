// SPDX-License-Identifier: GPL-2.0
/*
 * The iommufd backend against a fake kernel that checks every ioctl's
 * number, size and fields: IOAS alloc/destroy, MAP_FILE with the fallback
 * to VA maps, unmap, the EMSGSIZE two-call protocol of IOVA_RANGES, the
 * argument checks, the coverage check of allowed ranges, and the uapi
 * numbers and layouts themselves.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "iommu/iommufd.h"
#include "iommu/uapi_iommufd.h"

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
	};
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
		cr_assert_eq(c->destroy.size, sizeof(struct iommu_destroy));
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
