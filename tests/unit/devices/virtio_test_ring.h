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

#endif /* NESTBOX_VIRTIO_TEST_RING_H */
