/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest driver's side of split virtqueues (virtio 1.2, 2.7), played by
 * the device tests that drive a struct virtio_dev directly (virtio-blk,
 * virtio-net): rings and descriptors laid out by hand in a fake guest RAM,
 * a fake transport that counts interrupts and stops the event loop, waits
 * with a deadline.
 *
 * One test file includes it, after defining:
 *   RAM_BASE, RAM_SIZE, WAIT_SECONDS;
 *   the RAM layout RING_AREA, RING_STRIDE, DESC_OFF, AVAIL_OFF, USED_OFF,
 *   SCRATCH_AREA, SCRATCH_END (offsets from RAM_BASE);
 *   DRV_QUEUES, the queues each driver may set up, and DRV_DEVICE_FIELDS,
 *   the members struct drv adds for its device;
 *   static uint8_t ram[RAM_SIZE] and static struct evloop loop.
 * Helpers are static inline: a test that does not use one does not warn.
 */
#ifndef NESTBOX_VIRTIO_TEST_DRIVER_H
#define NESTBOX_VIRTIO_TEST_DRIVER_H

#include <criterion/criterion.h>
#include <endian.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "devices/virtio/virtio.h"
#include "devices/virtio/virtq.h"
#include "vmm/evloop.h"

/* The driver's view of one queue it set up. */
struct test_queue {
	uint64_t ring; /* offset of the descriptor table */
	uint16_t size, next_desc, avail_idx, used_seen;
};

/* One driver: a device the test set up and the queues it gave it. */
struct drv {
	DRV_DEVICE_FIELDS
	struct virtio_dev *vdev;
	unsigned int index;
	uint64_t features;
	unsigned int irqs, config_irqs;
	struct test_queue tq[DRV_QUEUES];
};

/* One buffer of a chain: @len bytes at RAM offset @off. */
struct seg {
	uint64_t off;
	uint32_t len;
	bool write;
};

static uint64_t scratch_next = SCRATCH_AREA;

static inline void *gpa(uint64_t off)
{
	cr_assert_lt(off, RAM_SIZE);
	return ram + off;
}

/* 64-byte aligned scratch, reused round-robin (tests finish in time). */
static inline uint64_t scratch(size_t len)
{
	uint64_t off;

	len = (len + 63) & ~(size_t)63;
	if (scratch_next + len > SCRATCH_END)
		scratch_next = SCRATCH_AREA;
	off = scratch_next;
	scratch_next += len;
	return off;
}

static inline void fake_notify_queue(struct virtio_dev *vdev, unsigned int q)
{
	struct drv *d = vdev->transport;

	d->irqs++;
	evloop_stop(&loop);
}

static inline void fake_notify_config(struct virtio_dev *vdev)
{
	struct drv *d = vdev->transport;

	d->config_irqs++;
	evloop_stop(&loop);
}

static const struct virtio_transport_ops fake_tops = {
	.notify_queue = fake_notify_queue,
	.notify_config = fake_notify_config,
};

/* Stops the loop every few ms so waits can check their condition. */
static inline void tick_cb(struct evloop_source *src, int res)
{
	evloop_drain_eventfd(src->fd);
	evloop_stop(&loop);
}

static inline uint64_t offered_features(struct drv *d)
{
	return virtio_device_features(d->vdev, 0) |
	       (uint64_t)virtio_device_features(d->vdev, 1) << 32;
}

/* The driver side of 3.1.1, then DRIVER_OK with @nq queues of @size. */
static inline void drv_start_queues(struct drv *d, uint64_t want,
				    unsigned int nq, uint16_t size)
{
	struct virtio_dev *vdev = d->vdev;
	uint8_t s = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;

	cr_assert_leq(nq, DRV_QUEUES);
	virtio_set_status(vdev, VIRTIO_STATUS_ACKNOWLEDGE);
	virtio_set_status(vdev, s);
	d->features = offered_features(d) & want;
	virtio_set_driver_features(vdev, 0, (uint32_t)d->features);
	virtio_set_driver_features(vdev, 1, (uint32_t)(d->features >> 32));
	s |= VIRTIO_STATUS_FEATURES_OK;
	virtio_set_status(vdev, s);
	cr_assert(virtio_get_status(vdev) & VIRTIO_STATUS_FEATURES_OK);

	for (unsigned int q = 0; q < nq; q++) {
		struct test_queue *t = &d->tq[q];

		memset(t, 0, sizeof(*t));
		t->ring = RING_AREA + (d->index * DRV_QUEUES + q) * RING_STRIDE;
		t->size = size;
		memset(gpa(t->ring), 0, RING_STRIDE);
		pthread_mutex_lock(&vdev->lock);
		vdev->vqs[q].desc_addr = RAM_BASE + t->ring + DESC_OFF;
		vdev->vqs[q].avail_addr = RAM_BASE + t->ring + AVAIL_OFF;
		vdev->vqs[q].used_addr = RAM_BASE + t->ring + USED_OFF;
		vdev->qcfg[q].size = size;
		vdev->qcfg[q].ready = true;
		pthread_mutex_unlock(&vdev->lock);
	}
	s |= VIRTIO_STATUS_DRIVER_OK;
	virtio_set_status(vdev, s);
	cr_assert_eq(virtio_get_status(vdev), s);
}

static inline volatile uint16_t *avail_ring(struct drv *d, unsigned int q)
{
	return gpa(d->tq[q].ring + AVAIL_OFF);
}

static inline volatile uint16_t *used_ring(struct drv *d, unsigned int q)
{
	return gpa(d->tq[q].ring + USED_OFF);
}

static inline uint16_t used_idx(struct drv *d, unsigned int q)
{
	return le16toh(__atomic_load_n(&used_ring(d, q)[1], __ATOMIC_ACQUIRE));
}

static inline void drv_publish(struct drv *d, unsigned int q, uint16_t head)
{
	struct test_queue *t = &d->tq[q];
	volatile uint16_t *avail = avail_ring(d, q);

	avail[2 + t->avail_idx % t->size] = htole16(head);
	t->avail_idx++;
	__atomic_store_n(&avail[1], htole16(t->avail_idx), __ATOMIC_RELEASE);
}

static inline void fill_desc(struct virtq_desc *table, uint16_t idx,
			     const struct seg *s, bool more, uint16_t next)
{
	table[idx].addr = htole64(RAM_BASE + s->off);
	table[idx].len = htole32(s->len);
	table[idx].flags = htole16((s->write ? VIRTQ_DESC_F_WRITE : 0) |
				   (more ? VIRTQ_DESC_F_NEXT : 0));
	table[idx].next = htole16(next);
}

/* A chain of @n descriptors in the table; returns its head. */
static inline uint16_t drv_add(struct drv *d, unsigned int q,
			       const struct seg *segs, unsigned int n)
{
	struct test_queue *t = &d->tq[q];
	struct virtq_desc *desc = gpa(t->ring + DESC_OFF);
	uint16_t head = t->next_desc % t->size;

	for (unsigned int i = 0; i < n; i++) {
		uint16_t idx = (t->next_desc + i) % t->size;

		fill_desc(desc, idx, &segs[i], i + 1 < n, (idx + 1) % t->size);
	}
	t->next_desc += n;
	drv_publish(d, q, head);
	return head;
}

/* One descriptor pointing at an indirect table of @n (2.7.5.3). */
static inline uint16_t drv_add_indirect(struct drv *d, unsigned int q,
					const struct seg *segs, unsigned int n)
{
	struct test_queue *t = &d->tq[q];
	struct virtq_desc *desc = gpa(t->ring + DESC_OFF);
	uint64_t table_off = scratch(n * sizeof(struct virtq_desc));
	struct virtq_desc *table = gpa(table_off);
	uint16_t head = t->next_desc++ % t->size;

	for (unsigned int i = 0; i < n; i++)
		fill_desc(table, i, &segs[i], i + 1 < n, i + 1);
	desc[head].addr = htole64(RAM_BASE + table_off);
	desc[head].len = htole32(n * sizeof(struct virtq_desc));
	desc[head].flags = htole16(VIRTQ_DESC_F_INDIRECT);
	desc[head].next = 0;
	drv_publish(d, q, head);
	return head;
}

static inline double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Run the loop until @n more used entries are on queue @q. */
static inline void drv_wait(struct drv *d, unsigned int q, uint16_t n)
{
	double deadline = now() + WAIT_SECONDS;

	while ((uint16_t)(used_idx(d, q) - d->tq[q].used_seen) < n) {
		cr_assert_lt(now(), deadline, "timed out waiting for %u used",
			     n);
		cr_assert_eq(evloop_run(&loop), 0);
	}
}

/* Take the next used entry, as a driver with EVENT_IDX would. */
static inline void drv_take_used(struct drv *d, unsigned int q, uint32_t *id,
				 uint32_t *len)
{
	struct test_queue *t = &d->tq[q];
	volatile uint32_t *elem = (volatile uint32_t *)&used_ring(
		d, q)[2 + 4 * (t->used_seen % t->size)];

	*id = le32toh(elem[0]);
	*len = le32toh(elem[1]);
	t->used_seen++;
	/* used_event: interrupt me on the next one. */
	avail_ring(d, q)[2 + t->size] = htole16(t->used_seen);
}

#endif /* NESTBOX_VIRTIO_TEST_DRIVER_H */
