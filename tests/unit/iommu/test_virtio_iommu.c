// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-iommu driven like a guest driver over virtio-mmio and a real
 * event loop: every request type and the statuses the spec asks for
 * (virtio 1.2, 5.13.6), then DMA translation through an endpoint's
 * dma_space, fault records on the eventq and the drop counter.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "iommu/virtio_iommu.h"
#include "vmm/evloop.h"

#define RAM_BASE 0x80000000ULL
#define RAM_SIZE (1 << 20)
static uint8_t ram[RAM_SIZE] __attribute__((aligned(4096)));
static struct guest_mem mem;
static struct evloop loop;

#define QSIZE 16
#include "virtio_iommu_test_driver.h"

#define DMA_TARGET   (RAM_BASE + 0x80000) /* what mappings point at */
#define ITS_DOORBELL 0x0a020000ULL
#define EP	     8 /* declared endpoints */
#define EP2	     9

static void setup_with(bool bypass)
{
	struct virtio_iommu_params p = {
		.bypass = bypass,
		.msi_start = ITS_DOORBELL,
		.msi_size = 0x1000,
	};

	memset(ram, 0, sizeof(ram));
	raises = 0;
	gmem_wrap(&mem, RAM_BASE, ram, RAM_SIZE);
	cr_assert_eq(evloop_init(&loop, 32), 0);
	cr_assert_eq(virtio_iommu_init(&viommu, &mem, &p), 0);
	cr_assert_eq(virtio_iommu_add_endpoint(&viommu, EP), 0);
	cr_assert_eq(virtio_iommu_add_endpoint(&viommu, EP2), 0);
	cr_assert_eq(virtio_iommu_add_endpoint(&viommu, EP), -EEXIST);
	cr_assert_eq(virtio_mmio_init(&m, &viommu.vdev, &host, 0x0b000000, 16),
		     0);
	driver_init(ALL_FEATURES);
}

/* Start again with a device built from @p (endpoint EP only). */
static void reinit(const struct virtio_iommu_params *p)
{
	virtio_iommu_destroy(&viommu);
	cr_assert_eq(virtio_iommu_init(&viommu, &mem, p), 0);
	cr_assert_eq(virtio_iommu_add_endpoint(&viommu, EP), 0);
	cr_assert_eq(virtio_mmio_init(&m, &viommu.vdev, &host, 0x0b000000, 16),
		     0);
	driver_init(ALL_FEATURES);
}

static void setup(void)
{
	setup_with(false);
}

static void teardown(void)
{
	virtio_iommu_destroy(&viommu);
	evloop_destroy(&loop);
}

TestSuite(virtio_iommu, .init = setup, .fini = teardown, .timeout = 30);

Test(virtio_iommu, config_and_features_describe_the_device)
{
	uint32_t lo;

	cr_assert_eq(mrd(&m, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_IOMMU);
	mwr(&m, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	lo = mrd(&m, VIRTIO_MMIO_DEVICE_FEATURES);
	cr_assert_eq(lo & 0xff, ALL_FEATURES);
	cr_assert_not(lo & 1u << VIRTIO_IOMMU_F_BYPASS, "no legacy BYPASS");
	cr_assert_eq(mrd(&m, VIRTIO_MMIO_CONFIG + 0), 0x1000);
	cr_assert_eq(mrd(&m, VIRTIO_MMIO_CONFIG + 4), 0);
	cr_assert_eq(mrd(&m, VIRTIO_MMIO_CONFIG + 8), 0);
	cr_assert_eq(mrd(&m, VIRTIO_MMIO_CONFIG + 16), 0xffffffff);
	cr_assert_eq(mrd(&m, VIRTIO_MMIO_CONFIG + 20), 0xffffffff);
	cr_assert_eq(mrd(&m, VIRTIO_MMIO_CONFIG + 24), 0);
	cr_assert_eq(mrd(&m, VIRTIO_MMIO_CONFIG + 28), 65535);
	cr_assert_eq(mrd(&m, VIRTIO_MMIO_CONFIG + 32), VIRTIO_IOMMU_PROBE_SIZE);
	cr_assert_eq(mrd(&m, VIRTIO_MMIO_CONFIG + 36) & 0xff, 0);
}

Test(virtio_iommu, attach_map_translate_then_unmap_faults)
{
	struct dma_space as = dma_of(EP);
	uint64_t chunk = 0;
	uint8_t *p;

	cr_assert_eq(attach(1, EP), VIRTIO_IOMMU_S_OK);
	cr_assert_eq(map(1, 0x10000, 0x1ffff, DMA_TARGET, RW),
		     VIRTIO_IOMMU_S_OK);
	p = as.ops->translate(&as, 0x10010, 0x100, DMA_WRITE, &chunk);
	cr_assert_eq(p, gpa(DMA_TARGET + 0x10));
	cr_assert_eq(chunk, 0x100);
	/* The chunk stops at the end of the mapping. */
	p = as.ops->translate(&as, 0x18000, 0x20000, DMA_READ, &chunk);
	cr_assert_eq(p, gpa(DMA_TARGET + 0x8000));
	cr_assert_eq(chunk, 0x8000);
	cr_assert_eq(dma_map_contig(&as, 0x1f000, 0x1000, DMA_READ),
		     gpa(DMA_TARGET + 0xf000));

	cr_assert_eq(unmap(1, 0x10000, 0x1ffff), VIRTIO_IOMMU_S_OK);
	/* The cached translation went with it. */
	cr_assert_null(
		as.ops->translate(&as, 0x10010, 0x100, DMA_READ, &chunk));
	cr_assert_eq(viommu.faults_dropped, 1, "no event buffer posted");
}

Test(virtio_iommu, attach_statuses)
{
	struct t_attach r = { .type = VIRTIO_IOMMU_T_ATTACH,
			      .domain = 1,
			      .endpoint = EP };

	cr_assert_eq(attach(1, 77), VIRTIO_IOMMU_S_NOENT, "unknown endpoint");
	cr_assert_eq(attach(65536, EP), VIRTIO_IOMMU_S_RANGE, "domain range");
	cr_assert_eq(attach_flags(1, EP, 2), VIRTIO_IOMMU_S_INVAL, "flags");
	r.reserved[2] = 1;
	cr_assert_eq(submit(&r, sizeof(r)), VIRTIO_IOMMU_S_INVAL, "reserved");
	cr_assert_eq(attach(1, EP), VIRTIO_IOMMU_S_OK);
	cr_assert_eq(attach(1, EP), VIRTIO_IOMMU_S_OK, "again is harmless");
	/* A domain is either bypass or translated, never both. */
	cr_assert_eq(attach_flags(1, EP2, VIRTIO_IOMMU_ATTACH_F_BYPASS),
		     VIRTIO_IOMMU_S_INVAL);
	cr_assert_eq(attach(1, EP2), VIRTIO_IOMMU_S_OK);
}

Test(virtio_iommu, an_endpoint_attached_elsewhere_moves)
{
	struct dma_space as = dma_of(EP);
	uint64_t chunk;

	cr_assert_eq(attach(1, EP), VIRTIO_IOMMU_S_OK);
	cr_assert_eq(map(1, 0, 0xfff, DMA_TARGET, RW), VIRTIO_IOMMU_S_OK);
	cr_assert_eq(attach(2, EP), VIRTIO_IOMMU_S_OK);
	/* Domain 1 lost its last endpoint: gone with its mappings. */
	cr_assert_eq(map(1, 0x1000, 0x1fff, DMA_TARGET, RW),
		     VIRTIO_IOMMU_S_NOENT);
	cr_assert_null(as.ops->translate(&as, 0, 8, DMA_READ, &chunk));
	cr_assert_eq(map(2, 0, 0xfff, DMA_TARGET + 0x1000, RW),
		     VIRTIO_IOMMU_S_OK);
	cr_assert_eq(as.ops->translate(&as, 0, 8, DMA_READ, &chunk),
		     gpa(DMA_TARGET + 0x1000));
}

Test(virtio_iommu, detach_statuses)
{
	struct t_detach r = { .type = VIRTIO_IOMMU_T_DETACH,
			      .domain = 1,
			      .endpoint = EP };

	cr_assert_eq(detach(1, EP), VIRTIO_IOMMU_S_INVAL, "not attached");
	cr_assert_eq(attach(1, EP), VIRTIO_IOMMU_S_OK);
	cr_assert_eq(attach(1, EP2), VIRTIO_IOMMU_S_OK);
	cr_assert_eq(detach(1, 77), VIRTIO_IOMMU_S_NOENT);
	cr_assert_eq(detach(2, EP), VIRTIO_IOMMU_S_INVAL, "other domain");
	r.reserved[7] = 1;
	cr_assert_eq(submit(&r, sizeof(r)), VIRTIO_IOMMU_S_OK,
		     "5.13.6.4: reserved is ignored");
	cr_assert_eq(map(1, 0, 0xfff, DMA_TARGET, RW), VIRTIO_IOMMU_S_OK,
		     "EP2 keeps the domain alive");
	cr_assert_eq(detach(1, EP2), VIRTIO_IOMMU_S_OK);
	cr_assert_eq(map(1, 0x1000, 0x1fff, DMA_TARGET, RW),
		     VIRTIO_IOMMU_S_NOENT, "empty domain destroyed");
}

Test(virtio_iommu, map_statuses)
{
	cr_assert_eq(map(1, 0, 0xfff, DMA_TARGET, RW), VIRTIO_IOMMU_S_NOENT);
	cr_assert_eq(attach(1, EP), VIRTIO_IOMMU_S_OK);
	cr_assert_eq(map(1, 0x2000, 0x3fff, DMA_TARGET, RW), VIRTIO_IOMMU_S_OK);
	/* 5.13.6.5: overlapping an existing mapping is INVAL. */
	cr_assert_eq(map(1, 0x3000, 0x4fff, DMA_TARGET, RW),
		     VIRTIO_IOMMU_S_INVAL);
	cr_assert_eq(map(1, 0x1000, 0x2fff, DMA_TARGET, RW),
		     VIRTIO_IOMMU_S_INVAL);
	cr_assert_eq(map(1, 0x5000, 0x4fff, DMA_TARGET, RW),
		     VIRTIO_IOMMU_S_INVAL, "end before start");
	cr_assert_eq(map(1, 0x5000, 0x5fff, DMA_TARGET, 8),
		     VIRTIO_IOMMU_S_INVAL, "unknown flag");
	/* Not on the 4 KiB granule of page_size_mask. */
	cr_assert_eq(map(1, 0x5800, 0x5fff, DMA_TARGET, RW),
		     VIRTIO_IOMMU_S_RANGE);
	cr_assert_eq(map(1, 0x5000, 0x57ff, DMA_TARGET, RW),
		     VIRTIO_IOMMU_S_RANGE);
	cr_assert_eq(map(1, 0x5000, 0x5fff, DMA_TARGET + 0x10, RW),
		     VIRTIO_IOMMU_S_RANGE);
	/* RAM mappings must land in guest RAM. */
	cr_assert_eq(map(1, 0x5000, 0x5fff, RAM_BASE - 0x1000, RW),
		     VIRTIO_IOMMU_S_FAULT);
	cr_assert_eq(map(1, 0x5000, 0x6fff, RAM_BASE + RAM_SIZE - 0x1000, RW),
		     VIRTIO_IOMMU_S_FAULT);
	/* RESV_MEM regions (the MSI doorbell) are not the guest's to map. */
	cr_assert_eq(map(1, ITS_DOORBELL - 0x1000, ITS_DOORBELL + 0xfff,
			 DMA_TARGET, RW),
		     VIRTIO_IOMMU_S_INVAL);
	/* ... MMIO ones (the ITS doorbell) need not. */
	cr_assert_eq(map(1, 0x8000000, 0x8000fff, ITS_DOORBELL,
			 VIRTIO_IOMMU_MAP_F_MMIO | VIRTIO_IOMMU_MAP_F_WRITE),
		     VIRTIO_IOMMU_S_OK);
}

Test(virtio_iommu, full_range_and_top_of_space_mappings)
{
	struct virtio_iommu_params no_resv = { 0 };

	/* The doorbell's RESV_MEM region would refuse a full-range MAP. */
	cr_assert_eq(attach(1, EP), VIRTIO_IOMMU_S_OK);
	cr_assert_eq(map(1, 0, UINT64_MAX, 0, VIRTIO_IOMMU_MAP_F_MMIO),
		     VIRTIO_IOMMU_S_INVAL);
	reinit(&no_resv);
	cr_assert_eq(attach(1, EP), VIRTIO_IOMMU_S_OK);
	cr_assert_eq(map(1, 0, UINT64_MAX, 0, VIRTIO_IOMMU_MAP_F_MMIO),
		     VIRTIO_IOMMU_S_OK);
	cr_assert_eq(map(1, 0x1000, 0x1fff, DMA_TARGET, RW),
		     VIRTIO_IOMMU_S_INVAL);
	cr_assert_eq(unmap(1, 0, UINT64_MAX - 0x1000), VIRTIO_IOMMU_S_RANGE);
	cr_assert_eq(unmap(1, 0, UINT64_MAX), VIRTIO_IOMMU_S_OK);
	/* A RAM-backed mapping whose end is 2^64 - 1. */
	cr_assert_eq(map(1, UINT64_MAX - 0xfff, UINT64_MAX, DMA_TARGET, RW),
		     VIRTIO_IOMMU_S_OK);

	struct dma_space as = dma_of(EP);
	uint64_t chunk;

	cr_assert_eq(
		as.ops->translate(&as, UINT64_MAX - 7, 8, DMA_READ, &chunk),
		gpa(DMA_TARGET + 0xff8));
	cr_assert_eq(chunk, 8);
}

Test(virtio_iommu, an_input_range_bounds_map)
{
	struct virtio_iommu_params p = { .input_start = 0x1000,
					 .input_end = 0xffffffff };

	reinit(&p);
	cr_assert_eq(attach(1, EP), VIRTIO_IOMMU_S_OK);
	cr_assert_eq(map(1, 0, 0xfff, DMA_TARGET, RW), VIRTIO_IOMMU_S_RANGE);
	cr_assert_eq(map(1, 0xfffff000, 0x100000fff, DMA_TARGET, RW),
		     VIRTIO_IOMMU_S_RANGE);
	cr_assert_eq(map(1, 0x1000, 0x1fff, DMA_TARGET, RW), VIRTIO_IOMMU_S_OK);
}

Test(virtio_iommu, unmap_never_splits_a_mapping)
{
	struct dma_space as = dma_of(EP);
	uint64_t chunk;

	cr_assert_eq(unmap(1, 0, 0xfff), VIRTIO_IOMMU_S_NOENT);
	cr_assert_eq(attach(1, EP), VIRTIO_IOMMU_S_OK);
	cr_assert_eq(map(1, 0x0000, 0x1fff, DMA_TARGET, RW), VIRTIO_IOMMU_S_OK);
	cr_assert_eq(map(1, 0x2000, 0x2fff, DMA_TARGET, RW), VIRTIO_IOMMU_S_OK);
	cr_assert_eq(unmap(1, 0x1000, 0x2fff), VIRTIO_IOMMU_S_RANGE);
	cr_assert_not_null(as.ops->translate(&as, 0x1000, 8, DMA_READ, &chunk),
			   "nothing was unmapped");
	cr_assert_not_null(as.ops->translate(&as, 0x2000, 8, DMA_READ, &chunk));
	cr_assert_eq(unmap(1, 0x5000, 0x8fff), VIRTIO_IOMMU_S_OK, "empty");
	cr_assert_eq(unmap(1, 0x2000, 0x1fff), VIRTIO_IOMMU_S_INVAL);
	/* 5.13.6.6 lets the device refuse a non-zero reserved field. */
	struct t_unmap r = { .type = VIRTIO_IOMMU_T_UNMAP,
			     .domain = 1,
			     .virt_end = 0x2fff,
			     .reserved = { 1 } };

	cr_assert_eq(submit(&r, sizeof(r)), VIRTIO_IOMMU_S_INVAL);
	cr_assert_not_null(as.ops->translate(&as, 0x2000, 8, DMA_READ, &chunk));
	cr_assert_eq(unmap(1, 0, 0x2fff), VIRTIO_IOMMU_S_OK);
	cr_assert_null(as.ops->translate(&as, 0x2000, 8, DMA_READ, &chunk));
}

Test(virtio_iommu, adjacent_mappings_translate_in_separate_chunks)
{
	struct dma_space as = dma_of(EP);
	struct iovec iov[4];

	cr_assert_eq(attach(1, EP), VIRTIO_IOMMU_S_OK);
	cr_assert_eq(map(1, 0x1000, 0x1fff, DMA_TARGET + 0x3000, RW),
		     VIRTIO_IOMMU_S_OK);
	cr_assert_eq(map(1, 0x2000, 0x2fff, DMA_TARGET, RW), VIRTIO_IOMMU_S_OK);
	cr_assert_eq(dma_map_sg(&as, 0x1800, 0x1000, DMA_READ, iov, 4), 2);
	cr_assert_eq(iov[0].iov_base, gpa(DMA_TARGET + 0x3800));
	cr_assert_eq(iov[0].iov_len, 0x800);
	cr_assert_eq(iov[1].iov_base, gpa(DMA_TARGET));
	cr_assert_eq(iov[1].iov_len, 0x800);
}

Test(virtio_iommu, too_many_mappings_is_nomem)
{
	struct virtio_iommu_domain *d;

	cr_assert_eq(attach(1, EP), VIRTIO_IOMMU_S_OK);
	d = &viommu.domains[0];
	cr_assert(d->in_use);
	/* Fill the domain behind the driver's back: 65535 requests would
	 * only slow the test down. */
	for (uint64_t i = 0; i < IOVA_TREE_MAX_MAPPINGS - 1; i++)
		cr_assert_eq(iova_tree_insert(&d->mappings, i << 12,
					      (i << 12) + 0xfff, DMA_TARGET,
					      RW),
			     0);
	cr_assert_eq(map(1, 0xffff000, 0xfffffff, DMA_TARGET, RW),
		     VIRTIO_IOMMU_S_OK, "the last one fits");
	cr_assert_eq(map(1, 0x10000000, 0x10000fff, DMA_TARGET, RW),
		     VIRTIO_IOMMU_S_NOMEM);
	cr_assert_eq(unmap(1, 0, 0xfff), VIRTIO_IOMMU_S_OK);
	cr_assert_eq(map(1, 0x10000000, 0x10000fff, DMA_TARGET, RW),
		     VIRTIO_IOMMU_S_OK);
}

Test(virtio_iommu, probe_reports_the_msi_doorbell_and_reserved_ranges)
{
	struct t_probe r = { .type = VIRTIO_IOMMU_T_PROBE, .endpoint = EP };
	uint32_t in = VIRTIO_IOMMU_PROBE_SIZE + 4;
	const uint8_t *p = gpa(REQ_IN);
	uint64_t v;

	cr_assert_eq(virtio_iommu_add_resv(&viommu, 0x8000000, 0x80fffff,
					   VIRTIO_IOMMU_RESV_MEM_T_RESERVED),
		     0);
	cr_assert_eq(submit_raw(&r, sizeof(r), in), in);
	cr_assert_eq(p[in - 4], VIRTIO_IOMMU_S_OK);
	/* type RESV_MEM, length 20, subtype MSI, [start, end] */
	cr_assert_eq(p[0] | p[1] << 8, VIRTIO_IOMMU_PROBE_T_RESV_MEM);
	cr_assert_eq(p[2] | p[3] << 8, 20);
	cr_assert_eq(p[4], VIRTIO_IOMMU_RESV_MEM_T_MSI);
	memcpy(&v, p + 8, 8);
	cr_assert_eq(v, ITS_DOORBELL);
	memcpy(&v, p + 16, 8);
	cr_assert_eq(v, ITS_DOORBELL + 0xfff);
	cr_assert_eq(p[24], VIRTIO_IOMMU_PROBE_T_RESV_MEM);
	cr_assert_eq(p[28], VIRTIO_IOMMU_RESV_MEM_T_RESERVED);
	memcpy(&v, p + 40, 8);
	cr_assert_eq(v, 0x80fffff);
	/* Then a NONE property: zeroes up to probe_size. */
	for (uint32_t i = 48; i < VIRTIO_IOMMU_PROBE_SIZE; i++)
		cr_assert_eq(p[i], 0, "byte %u", i);

	r.endpoint = 77;
	cr_assert_eq(submit_raw(&r, sizeof(r), in), in);
	cr_assert_eq(p[in - 4], VIRTIO_IOMMU_S_NOENT);
	r.endpoint = EP;
	cr_assert_eq(submit_raw(&r, sizeof(r), 64), 64);
	cr_assert_eq(p[60], VIRTIO_IOMMU_S_INVAL, "properties too small");
	cr_assert_eq(p[0], 0xee, "and no property written");
	/* reserved is ignored; a longer list is zero-filled to the tail. */
	r.reserved[63] = 1;
	cr_assert_eq(submit_raw(&r, sizeof(r), in + 600), in + 600);
	cr_assert_eq(p[in + 596], VIRTIO_IOMMU_S_OK);
	cr_assert_eq(p[24], VIRTIO_IOMMU_PROBE_T_RESV_MEM);
	for (uint32_t i = 48; i < in + 596; i++)
		cr_assert_eq(p[i], 0, "byte %u", i);
}

/* 5.13.6: a request the device cannot parse goes back unwritten. */
static void assert_returned_unwritten(uint32_t used, uint32_t in_len)
{
	cr_assert_eq(used, 0);
	for (uint32_t i = 0; i < in_len; i++)
		cr_assert_eq(((uint8_t *)gpa(REQ_IN))[i], 0xee);
}

Test(virtio_iommu, unparsable_requests_are_returned_unwritten)
{
	struct t_map r = { .type = VIRTIO_IOMMU_T_MAP, .domain = 1 };
	uint8_t junk[8] = { 0x42 };

	assert_returned_unwritten(submit_raw(junk, sizeof(junk), 4), 4);
	assert_returned_unwritten(submit_raw(&r, sizeof(r) - 1, 4), 4);
	assert_returned_unwritten(submit_raw(&r, 2, 4), 4);
	assert_returned_unwritten(submit_raw(NULL, 0, 4), 4);
	assert_returned_unwritten(submit_raw(&r, sizeof(r), 0), 0);
	assert_returned_unwritten(submit_raw(&r, sizeof(r), 3), 3);
	/* The tail is the last four writable bytes. */
	cr_assert_eq(submit_raw(&r, sizeof(r), 8), 8);
	cr_assert_eq(*(uint8_t *)gpa(REQ_IN + 4), VIRTIO_IOMMU_S_NOENT);
	/* None of it broke the device. */
	cr_assert_not(atomic_load(&viommu.vdev.broken));
	cr_assert_eq(attach(1, EP), VIRTIO_IOMMU_S_OK);
}

Test(virtio_iommu, features_not_negotiated_are_refused)
{
	struct t_probe r = { .type = VIRTIO_IOMMU_T_PROBE, .endpoint = EP };

	driver_init(1u << VIRTIO_IOMMU_F_INPUT_RANGE);
	cr_assert_eq(attach(1, EP), VIRTIO_IOMMU_S_OK);
	cr_assert_eq(map(1, 0, 0xfff, DMA_TARGET, RW), VIRTIO_IOMMU_S_UNSUPP);
	cr_assert_eq(unmap(1, 0, 0xfff), VIRTIO_IOMMU_S_UNSUPP);
	cr_assert_eq(submit_raw(&r, sizeof(r), VIRTIO_IOMMU_PROBE_SIZE + 4),
		     VIRTIO_IOMMU_PROBE_SIZE + 4);
	cr_assert_eq(*(uint8_t *)gpa(REQ_IN + VIRTIO_IOMMU_PROBE_SIZE),
		     VIRTIO_IOMMU_S_UNSUPP);
	cr_assert_eq(attach_flags(2, EP, VIRTIO_IOMMU_ATTACH_F_BYPASS),
		     VIRTIO_IOMMU_S_INVAL, "bypass needs BYPASS_CONFIG");

	driver_init(ALL_FEATURES & ~(1u << VIRTIO_IOMMU_F_MMIO));
	cr_assert_eq(attach(1, EP), VIRTIO_IOMMU_S_OK);
	cr_assert_eq(map(1, 0, 0xfff, ITS_DOORBELL, VIRTIO_IOMMU_MAP_F_MMIO),
		     VIRTIO_IOMMU_S_INVAL);
}

Test(virtio_iommu, permission_fault_reaches_the_eventq)
{
	struct dma_space as = dma_of(EP);
	const struct virtio_iommu_fault *f = event(0);
	uint64_t chunk;
	int before = raises;

	post_events(2);
	cr_assert_eq(attach(1, EP), VIRTIO_IOMMU_S_OK);
	cr_assert_eq(
		map(1, 0x4000, 0x4fff, DMA_TARGET, VIRTIO_IOMMU_MAP_F_READ),
		VIRTIO_IOMMU_S_OK);
	before = raises;
	cr_assert_not_null(as.ops->translate(&as, 0x4000, 8, DMA_READ, &chunk));
	cr_assert_null(as.ops->translate(&as, 0x4008, 8, DMA_WRITE, &chunk));
	cr_assert_eq(used_idx(&eq), 1);
	cr_assert_eq(((uint32_t *)gpa(eq.used))[2], sizeof(*f), "used len");
	cr_assert_eq(f->reason, VIRTIO_IOMMU_FAULT_R_MAPPING);
	cr_assert_eq(f->flags,
		     VIRTIO_IOMMU_FAULT_F_WRITE | VIRTIO_IOMMU_FAULT_F_ADDRESS);
	cr_assert_eq(f->endpoint, EP);
	cr_assert_eq(f->address, 0x4008);
	cr_assert_gt(raises, before, "eventq interrupt");
	/* An unmapped address: a second record. */
	cr_assert_null(as.ops->translate(&as, 0x9000, 8, DMA_READ, &chunk));
	cr_assert_eq(used_idx(&eq), 2);
	cr_assert_eq(event(1)->flags,
		     VIRTIO_IOMMU_FAULT_F_READ | VIRTIO_IOMMU_FAULT_F_ADDRESS);
	cr_assert_eq(viommu.faults_reported, 2);
	cr_assert_eq(viommu.faults_dropped, 0);
}

Test(virtio_iommu, a_full_eventq_drops_and_counts)
{
	struct dma_space as = dma_of(EP);
	uint64_t chunk;

	post_events(1);
	cr_assert_eq(attach(1, EP), VIRTIO_IOMMU_S_OK);
	for (int i = 0; i < 5; i++)
		cr_assert_null(
			as.ops->translate(&as, 0x1000, 8, DMA_READ, &chunk));
	cr_assert_eq(used_idx(&eq), 1);
	cr_assert_eq(viommu.faults_reported, 1);
	cr_assert_eq(viommu.faults_dropped, 4);
}

Test(virtio_iommu, unattached_endpoints_follow_config_bypass)
{
	struct dma_space as = dma_of(EP2);
	uint64_t chunk;
	uint8_t one = 1;

	post_events(1);
	cr_assert_null(as.ops->translate(&as, DMA_TARGET, 8, DMA_READ, &chunk));
	cr_assert_eq(event(0)->reason, VIRTIO_IOMMU_FAULT_R_DOMAIN);
	cr_assert_eq(event(0)->endpoint, EP2);
	/* The driver turns bypass on through the config space. */
	virtio_config_write(&viommu.vdev, 36, &one, 1);
	cr_assert_eq(mrd(&m, VIRTIO_MMIO_CONFIG + 36) & 0xff, 1);
	cr_assert_eq(as.ops->translate(&as, DMA_TARGET, 8, DMA_READ, &chunk),
		     gpa(DMA_TARGET));
	cr_assert_null(as.ops->translate(&as, 0x1000, 8, DMA_READ, &chunk),
		       "identity covers guest RAM only");
	/* 5.13.4: bypass survives a device reset. */
	driver_init(ALL_FEATURES);
	cr_assert_eq(mrd(&m, VIRTIO_MMIO_CONFIG + 36) & 0xff, 1);
	cr_assert_eq(virtio_iommu_endpoint_dma(&viommu, 77, &as), -ENOENT);
}

Test(virtio_iommu, a_bypass_domain_is_identity_and_takes_no_mappings)
{
	struct dma_space as = dma_of(EP);
	uint64_t chunk;

	cr_assert_eq(attach_flags(3, EP, VIRTIO_IOMMU_ATTACH_F_BYPASS),
		     VIRTIO_IOMMU_S_OK);
	cr_assert_eq(
		as.ops->translate(&as, DMA_TARGET, 0x100, DMA_WRITE, &chunk),
		gpa(DMA_TARGET));
	cr_assert_eq(chunk, 0x100);
	cr_assert_eq(map(3, 0, 0xfff, DMA_TARGET, RW), VIRTIO_IOMMU_S_INVAL);
	cr_assert_eq(unmap(3, 0, 0xfff), VIRTIO_IOMMU_S_INVAL);
	cr_assert_eq(attach(3, EP2), VIRTIO_IOMMU_S_INVAL);
}

Test(virtio_iommu, reset_destroys_every_domain)
{
	struct dma_space as = dma_of(EP);
	uint64_t chunk;

	cr_assert_eq(attach(1, EP), VIRTIO_IOMMU_S_OK);
	cr_assert_eq(map(1, 0, 0xfff, DMA_TARGET, RW), VIRTIO_IOMMU_S_OK);
	driver_init(ALL_FEATURES);
	cr_assert_null(as.ops->translate(&as, 0, 8, DMA_READ, &chunk));
	cr_assert_eq(map(1, 0, 0xfff, DMA_TARGET, RW), VIRTIO_IOMMU_S_NOENT);
}

static void setup_bypass(void)
{
	setup_with(true);
}

Test(virtio_iommu, bypass_default_lets_unattached_endpoints_through,
     .init = setup_bypass, .fini = teardown)
{
	struct dma_space as = dma_of(EP);
	uint64_t chunk;

	cr_assert_eq(mrd(&m, VIRTIO_MMIO_CONFIG + 36) & 0xff, 1);
	cr_assert_eq(as.ops->translate(&as, DMA_TARGET, 8, DMA_READ, &chunk),
		     gpa(DMA_TARGET));
	cr_assert_eq(attach(1, EP), VIRTIO_IOMMU_S_OK);
	cr_assert_null(as.ops->translate(&as, DMA_TARGET, 8, DMA_READ, &chunk),
		       "attached: translated");
}

/* ---- endpoints the VM lets the guest name, and per-translation IDs ---- */

#define DYN_EP 0x108 /* e.g. 01:01.0 once the guest numbered the bus 1 */

static bool accept_dyn(void *opaque, uint32_t id)
{
	return id == *(uint32_t *)opaque;
}

Test(virtio_iommu, the_vm_decides_which_undeclared_endpoints_exist)
{
	uint32_t ok_id = DYN_EP;

	cr_assert_eq(attach(1, DYN_EP), VIRTIO_IOMMU_S_NOENT,
		     "no check installed: only declared endpoints");
	virtio_iommu_set_endpoint_check(&viommu, accept_dyn, &ok_id);
	cr_assert_eq(attach(1, DYN_EP + 1), VIRTIO_IOMMU_S_NOENT);
	cr_assert_eq(attach(1, DYN_EP), VIRTIO_IOMMU_S_OK);
	cr_assert_eq(viommu.nr_endpoints, 3, "EP, EP2 and the new one");
	/* Attaching it again does not declare it twice. */
	cr_assert_eq(attach(2, DYN_EP), VIRTIO_IOMMU_S_OK);
	cr_assert_eq(viommu.nr_endpoints, 3);
	cr_assert_eq(detach(2, DYN_EP), VIRTIO_IOMMU_S_OK);
}

Test(virtio_iommu, the_endpoint_table_is_bounded)
{
	uint32_t ok_id;

	virtio_iommu_set_endpoint_check(&viommu, accept_dyn, &ok_id);
	for (uint32_t id = 0x1000;; id++) {
		ok_id = id;
		if (viommu.nr_endpoints == VIRTIO_IOMMU_MAX_ENDPOINTS) {
			cr_assert_eq(attach(1, id), VIRTIO_IOMMU_S_NOENT);
			break;
		}
		cr_assert_eq(attach(1, id), VIRTIO_IOMMU_S_OK, "id %u", id);
	}
}

static uint32_t current_rid;

static uint32_t rid_of(const void *ctx)
{
	cr_assert_eq(ctx, &current_rid);
	return current_rid;
}

Test(virtio_iommu, a_client_translates_with_the_id_it_has_now)
{
	struct dma_space as;
	uint64_t chunk = 0;

	cr_assert_eq(virtio_iommu_client_dma(&viommu, rid_of, &current_rid,
					     &as),
		     0);
	cr_assert_eq(attach(1, EP), VIRTIO_IOMMU_S_OK);
	cr_assert_eq(map(1, 0x10000, 0x1ffff, DMA_TARGET, RW),
		     VIRTIO_IOMMU_S_OK);
	cr_assert_eq(attach(2, EP2), VIRTIO_IOMMU_S_OK);
	cr_assert_eq(map(2, 0x10000, 0x1ffff, DMA_TARGET + 0x20000, RW),
		     VIRTIO_IOMMU_S_OK);
	current_rid = EP;
	cr_assert_eq(as.ops->translate(&as, 0x10000, 8, DMA_READ, &chunk),
		     gpa(DMA_TARGET));
	/* The guest renumbered the bus: the same device is now EP2. */
	current_rid = EP2;
	cr_assert_eq(as.ops->translate(&as, 0x10000, 8, DMA_READ, &chunk),
		     gpa(DMA_TARGET + 0x20000));
	/* An ID nobody attached: unattached, so (bypass off) a fault. */
	current_rid = 0x4242;
	post_events(1);
	cr_assert_null(as.ops->translate(&as, 0x10000, 8, DMA_READ, &chunk));
	cr_assert_eq(event(0)->reason, VIRTIO_IOMMU_FAULT_R_DOMAIN);
	cr_assert_eq(event(0)->endpoint, 0x4242);
	cr_assert_eq(event(0)->address, 0x10000);
	cr_assert(event(0)->flags & VIRTIO_IOMMU_FAULT_F_ADDRESS);
	cr_assert_eq(viommu.stats.translations, 3);
}
