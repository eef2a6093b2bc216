// SPDX-License-Identifier: GPL-2.0
/*
 * Split virtqueues, device side (virtio 1.2, section 2.7).
 *
 * The rings live in guest memory and the driver may rewrite them at any
 * time, including while we walk a chain. So every descriptor is copied out
 * of guest memory exactly once (virtq_desc_read()) and only that copy is
 * validated and used; every ring index is read once per decision. Guest
 * memory is reached only through the pointers dma_map_*() returned, and
 * only within the lengths they were mapped with.
 */
#include "virtq.h"

#include <endian.h>
#include <errno.h>
#include <string.h>

#include "../../vmm/log.h"

/* virtio 1.2, 2.7 "Virtqueue alignment": the driver's addresses must obey. */
#define VIRTQ_DESC_ALIGN  16
#define VIRTQ_AVAIL_ALIGN 2
#define VIRTQ_USED_ALIGN  4

/*
 * Both rings are arrays of le16 words (2.7.6, 2.7.8): flags, idx, ring[size]
 * and the event word after the ring (used_event in the available ring,
 * avail_event in the used ring; only meaningful with VIRTIO_F_EVENT_IDX).
 */
#define VIRTQ_RING_FLAGS 0
#define VIRTQ_RING_IDX	 1
#define VIRTQ_RING_HDR	 2 /* words before ring[0] */

/* 2.7.8: struct virtq_used_elem { le32 id; le32 len; } */
struct virtq_used_elem {
	uint32_t id;
	uint32_t len;
};

#define VIRTQ_USED_ELEM_WORDS \
	(sizeof(struct virtq_used_elem) / sizeof(uint16_t))

/* Part sizes, 2.7 "Virtqueue Part Sizes" table. */
static uint64_t virtq_desc_bytes(uint16_t size)
{
	return (uint64_t)sizeof(struct virtq_desc) * size;
}

static uint64_t virtq_avail_bytes(uint16_t size)
{
	return sizeof(uint16_t) * (VIRTQ_RING_HDR + (uint64_t)size + 1);
}

static uint64_t virtq_used_bytes(uint16_t size)
{
	return sizeof(uint16_t) * (VIRTQ_RING_HDR + 1) +
	       (uint64_t)sizeof(struct virtq_used_elem) * size;
}

static bool virtq_size_valid(uint16_t size)
{
	/* 2.7: "Queue Size ... is a power of 2", at most what we offer. */
	return size && size <= VIRTQ_SIZE_MAX && !(size & (size - 1));
}

static uint16_t virtq_avail_read(const struct virtq *vq, unsigned int word)
{
	return le16toh(__atomic_load_n(&vq->avail[word], __ATOMIC_RELAXED));
}

/*
 * 2.7.13.3 (the driver's side): ring entries are written before idx with a
 * write barrier in between, so idx is read with acquire before the entries.
 */
static uint16_t virtq_avail_idx(const struct virtq *vq)
{
	return le16toh(
		__atomic_load_n(&vq->avail[VIRTQ_RING_IDX], __ATOMIC_ACQUIRE));
}

static void virtq_used_write(struct virtq *vq, unsigned int word, uint16_t val)
{
	__atomic_store_n(&vq->used[word], htole16(val), __ATOMIC_RELAXED);
}

/*
 * The used ring entry for @idx: {le32 id, le32 len}. The host pointer is
 * 4-byte aligned (checked by virtq_enable()), hence the cast.
 */
static volatile uint32_t *virtq_used_slot(struct virtq *vq, uint16_t idx)
{
	unsigned int slot = idx & (vq->size - 1); /* size is a power of 2 */
	volatile uint16_t *ent =
		vq->used + VIRTQ_RING_HDR + VIRTQ_USED_ELEM_WORDS * slot;

	return (volatile uint32_t *)(volatile void *)ent;
}

/* used_event sits after the available ring, avail_event after the used. */
static unsigned int virtq_used_event_word(const struct virtq *vq)
{
	return VIRTQ_RING_HDR + vq->size;
}

static unsigned int virtq_avail_event_word(const struct virtq *vq)
{
	return VIRTQ_RING_HDR + VIRTQ_USED_ELEM_WORDS * vq->size;
}

/*
 * Translate the three rings through vq->dma. Behind a vIOMMU this is done
 * again whenever its generation moved (an unmap or detach may have taken
 * them away), so the device never keeps using memory the guest revoked.
 */
static int virtq_map_rings(struct virtq *vq)
{
	void *desc, *avail, *used;

	vq->ring_gen = dma_generation(vq->dma);
	desc = dma_map_contig(vq->dma, vq->desc_addr,
			      virtq_desc_bytes(vq->size), DMA_READ);
	avail = dma_map_contig(vq->dma, vq->avail_addr,
			       virtq_avail_bytes(vq->size), DMA_READ);
	used = dma_map_contig(vq->dma, vq->used_addr,
			      virtq_used_bytes(vq->size), DMA_WRITE);
	if (!desc || !avail || !used) {
		pr_debug(
			"virtq: rings desc 0x%llx avail 0x%llx used 0x%llx (size %u) are not mappable",
			(unsigned long long)vq->desc_addr,
			(unsigned long long)vq->avail_addr,
			(unsigned long long)vq->used_addr, vq->size);
		return -EINVAL;
	}
	/*
	 * Ring words are accessed natively and atomically: the host pointers
	 * need the alignment too, which a vIOMMU translation might not give.
	 */
	if ((uintptr_t)avail % VIRTQ_AVAIL_ALIGN ||
	    (uintptr_t)used % VIRTQ_USED_ALIGN) {
		pr_debug("virtq: rings map to misaligned host memory");
		return -EINVAL;
	}
	vq->desc = desc;
	vq->avail = avail;
	vq->used = used;
	return 0;
}

/* false when the rings are gone (and stay gone until the next reset). */
static bool virtq_rings_valid(struct virtq *vq)
{
	if (vq->rings_lost)
		return false;
	if (vq->ring_gen == dma_generation(vq->dma))
		return true;
	if (!virtq_map_rings(vq))
		return true;
	vq->rings_lost = true;
	return false;
}

int virtq_enable(struct virtq *vq, struct dma_space *dma, uint64_t features)
{
	virtq_disable(vq);
	if (!virtq_size_valid(vq->size)) {
		pr_debug("virtq: queue size %u is not a power of two in 1..%u",
			 vq->size, VIRTQ_SIZE_MAX);
		return -EINVAL;
	}
	if (vq->desc_addr % VIRTQ_DESC_ALIGN ||
	    vq->avail_addr % VIRTQ_AVAIL_ALIGN ||
	    vq->used_addr % VIRTQ_USED_ALIGN) {
		pr_debug(
			"virtq: misaligned rings desc 0x%llx avail 0x%llx used 0x%llx",
			(unsigned long long)vq->desc_addr,
			(unsigned long long)vq->avail_addr,
			(unsigned long long)vq->used_addr);
		return -EINVAL;
	}
	vq->dma = dma;
	if (virtq_map_rings(vq))
		return -EINVAL;
	vq->event_idx = features & (1ULL << VIRTIO_F_EVENT_IDX);
	vq->indirect = features & (1ULL << VIRTIO_F_INDIRECT_DESC);
	vq->last_avail_idx = 0;
	vq->used_idx = 0;
	vq->signalled_used = 0;
	vq->signalled_used_valid = false;
	vq->enabled = true;
	return 0;
}

void virtq_disable(struct virtq *vq)
{
	vq->enabled = false;
	vq->rings_lost = false;
	vq->dma = NULL;
	vq->desc = NULL;
	vq->avail = NULL;
	vq->used = NULL;
}

/* The chain being collected into an element by virtq_pop(). */
struct virtq_chain {
	struct virtq_elem *elem;
	unsigned int num_iov;
	bool seen_writable;
};

/* The one read of a descriptor: later checks and uses see only the copy. */
static void virtq_desc_read(const volatile struct virtq_desc *src,
			    struct virtq_desc *d)
{
	d->addr = le64toh(src->addr);
	d->len = le32toh(src->len);
	d->flags = le16toh(src->flags);
	d->next = le16toh(src->next);
}

static int virtq_map_buffer(struct virtq *vq, struct virtq_chain *chain,
			    const struct virtq_desc *d)
{
	struct virtq_elem *elem = chain->elem;
	bool writable = d->flags & VIRTQ_DESC_F_WRITE;
	int n;

	/* 2.7.4.2: device-readable descriptors come before writable ones. */
	if (!writable && chain->seen_writable) {
		pr_debug(
			"virtq: readable descriptor after a writable one (head %u)",
			elem->head);
		return -EINVAL;
	}
	/* Lengths are reported to the driver as le32 (2.7.8). */
	if (elem->out_len + elem->in_len + d->len > UINT32_MAX) {
		pr_debug("virtq: chain at head %u is longer than 4 GiB",
			 elem->head);
		return -EINVAL;
	}
	n = dma_map_sg(vq->dma, d->addr, d->len,
		       writable ? DMA_WRITE : DMA_READ,
		       &elem->iov[chain->num_iov],
		       VIRTQ_ELEM_MAX_IOV - chain->num_iov);
	if (n < 0) {
		pr_debug(
			"virtq: buffer 0x%llx+0x%x (head %u) is not mappable: %d",
			(unsigned long long)d->addr, d->len, elem->head, n);
		/* Translated: the IOMMU said no; that fails this request. */
		return vq->dma->ops ? -EFAULT : -EINVAL;
	}
	chain->num_iov += n;
	if (writable) {
		chain->seen_writable = true;
		elem->in_num += n;
		elem->in_len += d->len;
	} else {
		elem->out_num += n;
		elem->out_len += d->len;
	}
	return 0;
}

static int virtq_walk_indirect(struct virtq *vq, struct virtq_chain *chain,
			       const struct virtq_desc *d, unsigned int idx,
			       bool in_indirect);

/*
 * Follow a chain from @first through @table of @num descriptors: the
 * descriptor table itself, or an indirect table (@in_indirect). A chain
 * can visit at most @num descriptors; one more means a loop.
 */
static int virtq_walk(struct virtq *vq, struct virtq_chain *chain,
		      const volatile struct virtq_desc *table, unsigned int num,
		      unsigned int first, bool in_indirect)
{
	unsigned int idx = first, count = 0;
	struct virtq_desc d;
	int ret;

	for (;;) {
		if (++count > num) {
			pr_debug(
				"virtq: %s chain at head %u loops or is longer than %u",
				in_indirect ? "indirect" : "descriptor",
				chain->elem->head, num);
			return -EINVAL;
		}
		virtq_desc_read(&table[idx], &d);
		if (d.flags & VIRTQ_DESC_F_INDIRECT)
			return virtq_walk_indirect(vq, chain, &d, idx,
						   in_indirect);
		ret = virtq_map_buffer(vq, chain, &d);
		if (ret)
			return ret;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		if (d.next >= num) {
			pr_debug(
				"virtq: descriptor %u: next %u is beyond %u (head %u)",
				idx, d.next, num, chain->elem->head);
			return -EINVAL;
		}
		idx = d.next;
	}
}

/*
 * An indirect table that a vIOMMU maps onto pieces of guest memory that
 * are not adjacent (legal: only its IOVA range is contiguous). Copy it
 * once into a bounce table and walk the copy, which also keeps the walk
 * safe from the driver rewriting the table meanwhile.
 */
static int virtq_walk_indirect_split(struct virtq *vq,
				     struct virtq_chain *chain,
				     const struct virtq_desc *d,
				     unsigned int num)
{
	struct virtq_desc bounce[VIRTQ_SIZE_MAX];
	struct iovec seg[VIRTQ_INDIRECT_MAX_SEGS];
	uint8_t *dst = (uint8_t *)bounce;
	int n;

	n = dma_map_sg(vq->dma, d->addr, d->len, DMA_READ, seg,
		       VIRTQ_INDIRECT_MAX_SEGS);
	if (n < 0) {
		pr_debug(
			"virtq: indirect table 0x%llx+0x%x is not mappable (head %u)",
			(unsigned long long)d->addr, d->len, chain->elem->head);
		return -EFAULT;
	}
	for (int i = 0; i < n; i++) {
		memcpy(dst, seg[i].iov_base, seg[i].iov_len);
		dst += seg[i].iov_len;
	}
	return virtq_walk(vq, chain, bounce, num, 0, true);
}

/*
 * 2.7.5.3.2: the table's chain starts at its entry 0; the WRITE flag of the
 * descriptor pointing to the table is ignored.
 */
static int virtq_walk_indirect(struct virtq *vq, struct virtq_chain *chain,
			       const struct virtq_desc *d, unsigned int idx,
			       bool in_indirect)
{
	const volatile struct virtq_desc *table;
	unsigned int num = d->len / sizeof(struct virtq_desc);
	const char *bad = NULL;

	/*
	 * 2.7.5.3.1: only when negotiated, one table per chain (never within
	 * an indirect table), and never with NEXT: the table ends the chain.
	 */
	if (!vq->indirect)
		bad = "VIRTIO_F_INDIRECT_DESC not negotiated";
	else if (in_indirect)
		bad = "inside an indirect table";
	else if (d->flags & VIRTQ_DESC_F_NEXT)
		bad = "with VIRTQ_DESC_F_NEXT";
	if (bad) {
		pr_debug("virtq: indirect descriptor %u %s (head %u)", idx, bad,
			 chain->elem->head);
		return -EINVAL;
	}
	if (!d->len || d->len % sizeof(struct virtq_desc) ||
	    num > VIRTQ_SIZE_MAX) {
		pr_debug(
			"virtq: indirect table of %u bytes is not 1..%u descriptors (head %u)",
			d->len, VIRTQ_SIZE_MAX, chain->elem->head);
		return -EINVAL;
	}
	table = dma_map_contig(vq->dma, d->addr, d->len, DMA_READ);
	if (!table && vq->dma->ops)
		return virtq_walk_indirect_split(vq, chain, d, num);
	if (!table) {
		pr_debug(
			"virtq: indirect table 0x%llx+0x%x is not mappable (head %u)",
			(unsigned long long)d->addr, d->len, chain->elem->head);
		return -EINVAL;
	}
	return virtq_walk(vq, chain, table, num, 0, true);
}

int virtq_pop(struct virtq *vq, struct virtq_elem *elem)
{
	struct virtq_chain chain = { .elem = elem };
	uint16_t avail_idx, pending, head;
	int ret;

	if (!vq->enabled)
		return 0;
	if (!virtq_rings_valid(vq)) {
		pr_debug("virtq: the rings are no longer mapped");
		return -EINVAL;
	}
	avail_idx = virtq_avail_idx(vq);
	pending = avail_idx - vq->last_avail_idx;
	if (!pending)
		return 0;
	/* 2.7.6: the driver cannot make more than size buffers available. */
	if (pending > vq->size) {
		pr_debug("virtq: avail idx %u is %u ahead of %u (size %u)",
			 avail_idx, pending, vq->last_avail_idx, vq->size);
		return -EINVAL;
	}
	/* Size is a power of two, so this is idx % size across the wrap. */
	head = virtq_avail_read(
		vq, VIRTQ_RING_HDR + (vq->last_avail_idx & (vq->size - 1)));
	if (head >= vq->size) {
		pr_debug("virtq: avail ring[%u] head %u is beyond size %u",
			 vq->last_avail_idx & (vq->size - 1), head, vq->size);
		return -EINVAL;
	}

	elem->head = head;
	elem->out_num = 0;
	elem->in_num = 0;
	elem->out_len = 0;
	elem->in_len = 0;
	ret = virtq_walk(vq, &chain, vq->desc, vq->size, head, false);
	if (ret == -EFAULT) {
		/* Consume the chain; nothing was written into it. */
		vq->last_avail_idx++;
		elem->in_len = 0;
		virtq_push(vq, elem, 0);
		return -EFAULT;
	}
	if (ret)
		return ret;
	vq->last_avail_idx++;
	return 1;
}

void virtq_push(struct virtq *vq, const struct virtq_elem *elem, uint32_t len)
{
	volatile uint32_t *ent;

	if (!vq->enabled || !virtq_rings_valid(vq))
		return;
	/*
	 * 2.7.8.2: len is what the device wrote; never claim more than the
	 * chain's writable part (in_len fits in 32 bits, see
	 * virtq_map_buffer()).
	 */
	if (len > elem->in_len)
		len = elem->in_len;
	ent = virtq_used_slot(vq, vq->used_idx);
	__atomic_store_n(&ent[0], htole32(elem->head), __ATOMIC_RELAXED);
	__atomic_store_n(&ent[1], htole32(len), __ATOMIC_RELAXED);
	vq->used_idx++;
	/* 2.7.8.2: the element must be visible before the new used idx. */
	__atomic_store_n(&vq->used[VIRTQ_RING_IDX], htole16(vq->used_idx),
			 __ATOMIC_RELEASE);
}

bool virtq_should_notify(struct virtq *vq)
{
	uint16_t old, new, event;
	bool valid;

	if (!vq->enabled || !virtq_rings_valid(vq))
		return false;
	/*
	 * Order our used idx store before reading the driver's suppression
	 * state, which the driver updates before re-checking used idx.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!vq->event_idx)
		return !(virtq_avail_read(vq, VIRTQ_RING_FLAGS) &
			 VIRTQ_AVAIL_F_NO_INTERRUPT);

	valid = vq->signalled_used_valid;
	old = vq->signalled_used;
	new = vq->used_idx;
	vq->signalled_used = new;
	vq->signalled_used_valid = true;
	if (!valid)
		return true;
	event = virtq_avail_read(vq, virtq_used_event_word(vq));
	/* 2.7.10: vring_need_event(used_event, new, old) */
	return (uint16_t)(new - event - 1) < (uint16_t)(new - old);
}

void virtq_disable_notify(struct virtq *vq)
{
	if (!vq->enabled || !virtq_rings_valid(vq))
		return;
	/*
	 * 2.7.10: with EVENT_IDX the driver kicks only when avail idx passes
	 * avail_event; leaving avail_event behind already suppresses kicks.
	 */
	if (!vq->event_idx)
		virtq_used_write(vq, VIRTQ_RING_FLAGS, VIRTQ_USED_F_NO_NOTIFY);
}

bool virtq_enable_notify(struct virtq *vq)
{
	if (!vq->enabled || !virtq_rings_valid(vq))
		return false;
	if (vq->event_idx)
		virtq_used_write(vq, virtq_avail_event_word(vq),
				 vq->last_avail_idx);
	else
		virtq_used_write(vq, VIRTQ_RING_FLAGS, 0);
	/*
	 * Publish the request before looking for buffers: a buffer added
	 * before the driver saw it would otherwise come with no kick.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return virtq_avail_idx(vq) != vq->last_avail_idx;
}
