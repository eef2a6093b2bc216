/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Split virtqueues (virtio 1.2, section 2.7), device side. Everything read
 * from the rings is guest-controlled and validated: a malformed ring makes
 * virtq_pop() fail with -EINVAL and the device must enter DEVICE_NEEDS_RESET
 * (virtio 1.2, 2.1.2); nothing outside the DMA space is ever touched.
 *
 * Threading: one virtqueue is processed by one thread at a time.
 */
#ifndef NESTBOX_VIRTQ_H
#define NESTBOX_VIRTQ_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "../../iommu/dma.h"

/* Largest queue nestbox offers (QueueNumMax); power of two. */
#define VIRTQ_SIZE_MAX 256
/* Most host segments one element can map to (chains are <= queue size). */
#define VIRTQ_ELEM_MAX_IOV 256
/* Most pieces a vIOMMU may split one indirect table into (4 KiB pages). */
#define VIRTQ_INDIRECT_MAX_SEGS (VIRTQ_SIZE_MAX * 16 / 4096 + 1)

/* Descriptor flags (2.7.5) */
#define VIRTQ_DESC_F_NEXT     1
#define VIRTQ_DESC_F_WRITE    2
#define VIRTQ_DESC_F_INDIRECT 4
/* Ring flags (2.7.6, 2.7.8) */
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY	   1

/* Feature bits the virtqueue code itself implements. */
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX     29

struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
} __attribute__((packed));

struct virtq_elem {
	uint16_t head;	      /* index of the chain's first descriptor */
	unsigned int out_num; /* iov[0..out_num): device-readable */
	unsigned int in_num; /* iov[out_num..out_num+in_num): device-writable */
	uint64_t out_len, in_len; /* bytes in each part */
	struct iovec iov[VIRTQ_ELEM_MAX_IOV];
};

struct virtq {
	/* Set by the transport from the driver's registers. */
	uint16_t size;
	uint64_t desc_addr, avail_addr, used_addr;

	/* Private to virtq.c once enabled. */
	bool enabled;
	bool event_idx, indirect;
	struct dma_space *dma;
	volatile struct virtq_desc *desc;
	volatile uint16_t *avail; /* flags, idx, ring[size], used_event */
	volatile uint16_t
		*used; /* flags, idx, {u32 id, u32 len}[size], avail_event */
	uint16_t last_avail_idx;
	uint16_t used_idx;
	uint16_t signalled_used;
	bool signalled_used_valid;
	/* dma_generation() when the rings were translated; rings_lost: a
	 * later translation failed, the queue is dead until reset. */
	uint64_t ring_gen;
	bool rings_lost;
};

/*
 * Map the rings (addresses and size as set by the driver) with the
 * negotiated @features. Returns 0, or -EINVAL for a bad size, misaligned
 * or unmappable ring (the device must then report NEEDS_RESET).
 */
int virtq_enable(struct virtq *vq, struct dma_space *dma, uint64_t features);
void virtq_disable(struct virtq *vq);

/*
 * Take the next available chain. Returns 1 with @elem filled, 0 when none
 * is available, -EINVAL when the ring or chain is malformed (index out of
 * range, loop, chain longer than the queue, readable after writable,
 * indirect misuse, address outside the DMA space, length overflow).
 *
 * Behind a vIOMMU (dma->ops set) a buffer the IOMMU refuses (no mapping,
 * wrong permission, more host segments than an element holds) is the
 * driver's business, not a broken ring: the IOMMU reported the fault, the
 * chain is returned to the driver with length 0 and virtq_pop() returns
 * -EFAULT. The caller interrupts the driver (virtio_queue_done()) and goes
 * on; virtio_queue_pop() does exactly that.
 */
int virtq_pop(struct virtq *vq, struct virtq_elem *elem);

/* Return a chain with @len bytes written into its device-writable part. */
void virtq_push(struct virtq *vq, const struct virtq_elem *elem, uint32_t len);

/* After pushing: must the driver be interrupted (flags or used_event)? */
bool virtq_should_notify(struct virtq *vq);

/*
 * Ask the driver not to kick (the device is polling) or to kick again.
 * virtq_enable_notify() returns true if buffers arrived meanwhile, so the
 * caller must pop again instead of sleeping.
 */
void virtq_disable_notify(struct virtq *vq);
bool virtq_enable_notify(struct virtq *vq);

#endif
