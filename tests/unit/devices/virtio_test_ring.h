/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest driver's side of one split virtqueue (virtio 1.2, 2.7) for the
 * tests that reach a device through its MMIO window (virtio-console,
 * virtio-rng over both transports): a ring at a fixed place in the fake
 * RAM, descriptors written by hand, MMIO register reads and writes.
 * Addresses here are guest physical, not offsets: gpa() takes RAM_BASE
 * and up. (virtio_test_driver.h is the variant for tests that drive a
 * struct virtio_dev directly.)
 *
 * One test file includes it, after defining RAM_BASE, QSIZE (the
 * driver's QueueNum) and static uint8_t ram[].
 */
#ifndef NESTBOX_VIRTIO_TEST_RING_H
#define NESTBOX_VIRTIO_TEST_RING_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/virtio/virtio_mmio.h"
#include "devices/virtio/virtq.h"

static inline void *gpa(uint64_t a)
{
	return ram + (a - RAM_BASE);
}

/* Descriptor table, avail and used rings, and a data page, 4 KiB apart. */
struct ring {
	uint64_t desc, avail, used, buf;
	uint16_t avail_idx;
};

static inline struct ring ring_at(uint64_t base)
{
	return (struct ring){ base, base + 0x1000, base + 0x2000, base + 0x3000,
			      0 };
}

static inline void set_desc(uint64_t table, uint16_t di, uint64_t addr,
			    uint32_t len, uint16_t flags, uint16_t next)
{
	struct virtq_desc *d = gpa(table + sizeof(*d) * di);

	d->addr = addr;
	d->len = len;
	d->flags = flags;
	d->next = next;
}

static inline void add_buf(struct ring *r, uint16_t di, uint64_t addr,
			   uint32_t len, uint16_t flags, uint16_t next)
{
	set_desc(r->desc, di, addr, len, flags, next);
}

static inline void publish(struct ring *r, uint16_t head)
{
	uint16_t *avail = gpa(r->avail);

	avail[2 + r->avail_idx % QSIZE] = head;
	__atomic_store_n(&avail[1], ++r->avail_idx, __ATOMIC_RELEASE);
}

static inline uint16_t used_idx(const struct ring *r)
{
	return ((uint16_t *)gpa(r->used))[1];
}

static inline uint32_t mrd(struct virtio_mmio *m, uint64_t off)
{
	return virtio_mmio_ops.read(m, off, 4);
}

static inline void mwr(struct virtio_mmio *m, uint64_t off, uint32_t v)
{
	virtio_mmio_ops.write(m, off, v, 4);
}

/*
 * Reset, then the driver's side of 3.1.1 up to FEATURES_OK with
 * @features. Returns whether the device kept FEATURES_OK.
 */
static inline bool mmio_negotiate(struct virtio_mmio *m, uint64_t features)
{
	uint32_t s = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;

	mwr(m, VIRTIO_MMIO_STATUS, 0);
	mwr(m, VIRTIO_MMIO_STATUS, s);
	mwr(m, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	mwr(m, VIRTIO_MMIO_DRIVER_FEATURES, features >> 32);
	mwr(m, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	mwr(m, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
	mwr(m, VIRTIO_MMIO_STATUS, s | VIRTIO_STATUS_FEATURES_OK);
	return mrd(m, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK;
}

/*
 * Queue @q, QSIZE entries, at the device's bus addresses: guest physical,
 * or IOVAs for a device behind an IOMMU.
 */
static inline void mmio_setup_queue(struct virtio_mmio *m, unsigned int q,
				    uint64_t desc, uint64_t avail,
				    uint64_t used)
{
	mwr(m, VIRTIO_MMIO_QUEUE_SEL, q);
	mwr(m, VIRTIO_MMIO_QUEUE_NUM, QSIZE);
	mwr(m, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)desc);
	mwr(m, VIRTIO_MMIO_QUEUE_DESC_HIGH, desc >> 32);
	mwr(m, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)avail);
	mwr(m, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, avail >> 32);
	mwr(m, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)used);
	mwr(m, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, used >> 32);
	mwr(m, VIRTIO_MMIO_QUEUE_READY, 1);
}

/* Add DRIVER_OK to the status; returns the status read back. */
static inline uint32_t mmio_driver_ok(struct virtio_mmio *m)
{
	mwr(m, VIRTIO_MMIO_STATUS,
	    mrd(m, VIRTIO_MMIO_STATUS) | VIRTIO_STATUS_DRIVER_OK);
	return mrd(m, VIRTIO_MMIO_STATUS);
}

#endif /* NESTBOX_VIRTIO_TEST_RING_H */
