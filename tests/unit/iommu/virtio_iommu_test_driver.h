/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest driver's side of a virtio-iommu over virtio-mmio (virtio 1.2,
 * 5.13.6): its requestq and eventq, ATTACH, DETACH, MAP and UNMAP
 * requests, event buffers and the fault records they receive. Shared by
 * the tests of the device itself and of the devices it translates.
 *
 * One test file includes it, after defining RAM_BASE, QSIZE, static
 * uint8_t ram[] (1 MiB: the driver uses RAM_BASE + [0x10000, 0x43000)),
 * static struct guest_mem mem and static struct evloop loop. It brings
 * the device (viommu), its MMIO window (m), its rings (rq, eq) and a fake
 * host whose interrupts stop the loop while the test pumps it.
 */
#ifndef NESTBOX_VIRTIO_IOMMU_TEST_DRIVER_H
#define NESTBOX_VIRTIO_IOMMU_TEST_DRIVER_H

#include <criterion/criterion.h>
#include <string.h>

#include "iommu/virtio_iommu.h"
#include "vmm/evloop.h"

#include "../devices/virtio_test_ring.h"

#define REQ_OUT (RAM_BASE + 0x40000) /* device-readable request */
#define REQ_IN	(RAM_BASE + 0x41000) /* device-writable part */
#define EVT_BUF (RAM_BASE + 0x42000) /* eventq buffers, 64 bytes apart */

/* Wire layouts written out again here so the test checks the device's. */
struct t_attach {
	uint8_t type, rsv[3];
	uint32_t domain, endpoint, flags;
	uint8_t reserved[4];
} __attribute__((packed));
struct t_detach {
	uint8_t type, rsv[3];
	uint32_t domain, endpoint;
	uint8_t reserved[8];
} __attribute__((packed));
struct t_map {
	uint8_t type, rsv[3];
	uint32_t domain;
	uint64_t virt_start, virt_end, phys_start;
	uint32_t flags;
} __attribute__((packed));
struct t_unmap {
	uint8_t type, rsv[3];
	uint32_t domain;
	uint64_t virt_start, virt_end;
	uint8_t reserved[4];
} __attribute__((packed));
struct t_probe {
	uint8_t type, rsv[3];
	uint32_t endpoint;
	uint8_t reserved[64];
} __attribute__((packed));

static struct virtio_iommu viommu;
static struct virtio_mmio m;
static struct ring rq, eq;
static bool pumping;
static int raises;

static inline void fake_set_spi(void *o, unsigned int spi, bool level)
{
	(void)o;
	(void)spi;
	if (level)
		raises++;
	/* A fault posted by a direct translate() is outside any pump. */
	if (level && pumping)
		evloop_stop(&loop);
}

static const struct host_ops host = {
	.set_spi = fake_set_spi,
	.loop = &loop,
};

#define ALL_FEATURES                                                          \
	(1u << VIRTIO_IOMMU_F_INPUT_RANGE |                                   \
	 1u << VIRTIO_IOMMU_F_DOMAIN_RANGE | 1u << VIRTIO_IOMMU_F_MAP_UNMAP | \
	 1u << VIRTIO_IOMMU_F_PROBE | 1u << VIRTIO_IOMMU_F_MMIO |             \
	 1u << VIRTIO_IOMMU_F_BYPASS_CONFIG)

static inline void driver_init(uint32_t features)
{
	cr_assert(mmio_negotiate(&m, 1ULL << VIRTIO_F_VERSION_1 | features));
	/* A re-initialising driver starts from clean rings. */
	memset(gpa(RAM_BASE + 0x10000), 0, 0x14000);
	rq = ring_at(RAM_BASE + 0x10000);
	eq = ring_at(RAM_BASE + 0x20000);
	mmio_setup_queue(&m, VIRTIO_IOMMU_REQUESTQ, rq.desc, rq.avail, rq.used);
	mmio_setup_queue(&m, VIRTIO_IOMMU_EVENTQ, eq.desc, eq.avail, eq.used);
	cr_assert(mmio_driver_ok(&m) & VIRTIO_STATUS_DRIVER_OK);
}

/*
 * Send one request: @out_len readable bytes of @req, @in_len writable
 * bytes (either may be 0: that part is left out of the chain). Returns
 * the used length; the status is the last writable byte group.
 */
static inline uint32_t submit_raw(const void *req, uint32_t out_len,
				  uint32_t in_len)
{
	uint16_t before = used_idx(&rq), d = 0;
	uint16_t head = rq.avail_idx % 8 * 2; /* 8 two-descriptor slots */

	if (out_len)
		memcpy(gpa(REQ_OUT), req, out_len);
	memset(gpa(REQ_IN), 0xee, 0x1000);
	if (out_len) {
		add_buf(&rq, head, REQ_OUT, out_len,
			in_len ? VIRTQ_DESC_F_NEXT : 0, head + 1);
		d = 1;
	}
	if (in_len)
		add_buf(&rq, head + d, REQ_IN, in_len, VIRTQ_DESC_F_WRITE, 0);
	publish(&rq, head);
	mwr(&m, VIRTIO_MMIO_QUEUE_NOTIFY, VIRTIO_IOMMU_REQUESTQ);
	pumping = true;
	evloop_run(&loop);
	pumping = false;
	mwr(&m, VIRTIO_MMIO_INTERRUPT_ACK, 3);
	cr_assert_eq(used_idx(&rq), (uint16_t)(before + 1), "request used");
	return ((uint32_t *)gpa(rq.used))[2 + 2 * (before % QSIZE)];
}

static inline uint8_t submit(const void *req, uint32_t out_len)
{
	uint32_t len = submit_raw(req, out_len, 4);

	cr_assert_eq(len, 4);
	return *(uint8_t *)gpa(REQ_IN);
}

static inline uint8_t attach_flags(uint32_t domain, uint32_t ep, uint32_t flags)
{
	struct t_attach r = { .type = VIRTIO_IOMMU_T_ATTACH,
			      .domain = domain,
			      .endpoint = ep,
			      .flags = flags };

	return submit(&r, sizeof(r));
}

static inline uint8_t attach(uint32_t domain, uint32_t ep)
{
	return attach_flags(domain, ep, 0);
}

static inline uint8_t detach(uint32_t domain, uint32_t ep)
{
	struct t_detach r = { .type = VIRTIO_IOMMU_T_DETACH,
			      .domain = domain,
			      .endpoint = ep };

	return submit(&r, sizeof(r));
}

static inline uint8_t map(uint32_t domain, uint64_t start, uint64_t end,
			  uint64_t phys, uint32_t flags)
{
	struct t_map r = { .type = VIRTIO_IOMMU_T_MAP,
			   .domain = domain,
			   .virt_start = start,
			   .virt_end = end,
			   .phys_start = phys,
			   .flags = flags };

	return submit(&r, sizeof(r));
}

static inline uint8_t unmap(uint32_t domain, uint64_t start, uint64_t end)
{
	struct t_unmap r = { .type = VIRTIO_IOMMU_T_UNMAP,
			     .domain = domain,
			     .virt_start = start,
			     .virt_end = end };

	return submit(&r, sizeof(r));
}

#define RW (VIRTIO_IOMMU_MAP_F_READ | VIRTIO_IOMMU_MAP_F_WRITE)

/* Post @n 64-byte event buffers on the eventq. */
static inline void post_events(unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		uint16_t di = eq.avail_idx % QSIZE;

		add_buf(&eq, di, EVT_BUF + 64 * di, 64, VIRTQ_DESC_F_WRITE, 0);
		publish(&eq, di);
	}
}

static inline const struct virtio_iommu_fault *event(unsigned int i)
{
	return gpa(EVT_BUF + 64 * i);
}

static inline struct dma_space dma_of(uint32_t ep)
{
	struct dma_space as;

	cr_assert_eq(virtio_iommu_endpoint_dma(&viommu, ep, &as), 0);
	return as;
}

#endif /* NESTBOX_VIRTIO_IOMMU_TEST_DRIVER_H */
