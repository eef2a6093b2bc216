// SPDX-License-Identifier: GPL-2.0
/*
 * Split virtqueue device side (virtio 1.2, 2.7). Each test plays the driver:
 * it lays out rings and descriptors by hand in a fake guest RAM and checks
 * what virtq_pop()/virtq_push() and the notification helpers make of them.
 *
 * TOCTOU: virtq.c reads each descriptor once, in virtq_desc_read(), and uses
 * only that copy afterwards (code review). The tests below that rewrite the
 * rings from inside a DMA translation (which runs in the middle of a walk)
 * check the consequence: what the driver changes mid-walk is not seen.
 */
#include <criterion/criterion.h>
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "devices/virtio/virtq.h"
#include "vmm/guest_mem.h"

#define RAM_BASE 0x80000000ULL
#define RAM_SIZE 0x100000ULL
#define RAM_END	 (RAM_BASE + RAM_SIZE)

/* Where the driver puts things; each area fits the largest queue. */
#define DESC_GPA      (RAM_BASE + 0x0000)
#define AVAIL_GPA     (RAM_BASE + 0x1000)
#define USED_GPA      (RAM_BASE + 0x2000)
#define INDIRECT_GPA  (RAM_BASE + 0x4000)
#define INDIRECT2_GPA (RAM_BASE + 0x6000)
#define DATA_GPA      (RAM_BASE + 0x10000)
#define HOLE_GPA      (RAM_BASE + RAM_SIZE + 0x1000) /* not RAM */

#define DESC_SIZE 16 /* sizeof(struct virtq_desc), 2.7.5 */
#define QSIZE	  8

#define F_INDIRECT  (1ULL << VIRTIO_F_INDIRECT_DESC)
#define F_EVENT_IDX (1ULL << VIRTIO_F_EVENT_IDX)

/* The fake IOMMU maps this window onto a dummy page never accessed. */
#define HUGE_GPA 0x100000000000ULL
#define HUGE_LEN (1ULL << 40)

static uint8_t ram[RAM_SIZE] __attribute__((aligned(4096)));
static struct guest_mem gm;
static struct dma_space dma;
static struct virtq vq;
static struct virtq_elem elem;
static uint16_t drv_avail_idx; /* the driver's next avail idx */

/* ---- driver side helpers ---- */

static void *gpa(uint64_t addr)
{
	return ram + (addr - RAM_BASE);
}

static void put16(uint64_t addr, uint16_t v)
{
	v = htole16(v);
	memcpy(gpa(addr), &v, sizeof(v));
}

static void put32(uint64_t addr, uint32_t v)
{
	v = htole32(v);
	memcpy(gpa(addr), &v, sizeof(v));
}

static void put64(uint64_t addr, uint64_t v)
{
	v = htole64(v);
	memcpy(gpa(addr), &v, sizeof(v));
}

static uint16_t get16(uint64_t addr)
{
	uint16_t v;

	memcpy(&v, gpa(addr), sizeof(v));
	return le16toh(v);
}

static uint32_t get32(uint64_t addr)
{
	uint32_t v;

	memcpy(&v, gpa(addr), sizeof(v));
	return le32toh(v);
}

static void set_desc_in(uint64_t table, unsigned int i, uint64_t addr,
			uint32_t len, uint16_t flags, uint16_t next)
{
	uint64_t d = table + (uint64_t)i * DESC_SIZE;

	put64(d, addr);
	put32(d + 8, len);
	put16(d + 12, flags);
	put16(d + 14, next);
}

static void set_desc(unsigned int i, uint64_t addr, uint32_t len,
		     uint16_t flags, uint16_t next)
{
	set_desc_in(DESC_GPA, i, addr, len, flags, next);
}

static void set_avail_idx(uint16_t idx)
{
	put16(AVAIL_GPA + 2, idx);
}

static void set_avail_flags(uint16_t flags)
{
	put16(AVAIL_GPA, flags);
}

/* Make the chain at @head available (2.7.13). */
static void avail_add(uint16_t head)
{
	put16(AVAIL_GPA + 4 + 2 * (drv_avail_idx % vq.size), head);
	set_avail_idx(++drv_avail_idx);
}

static void set_used_event(uint16_t v)
{
	put16(AVAIL_GPA + 4 + 2 * vq.size, v);
}

static uint16_t used_flags(void)
{
	return get16(USED_GPA);
}

static uint16_t used_idx(void)
{
	return get16(USED_GPA + 2);
}

static uint32_t used_id(unsigned int slot)
{
	return get32(USED_GPA + 4 + 8 * slot);
}

static uint32_t used_len(unsigned int slot)
{
	return get32(USED_GPA + 4 + 8 * slot + 4);
}

static uint16_t avail_event(void)
{
	return get16(USED_GPA + 4 + 8 * vq.size);
}

static int start(uint16_t size, uint64_t features)
{
	memset(&vq, 0, sizeof(vq));
	vq.size = size;
	vq.desc_addr = DESC_GPA;
	vq.avail_addr = AVAIL_GPA;
	vq.used_addr = USED_GPA;
	return virtq_enable(&vq, &dma, features);
}

static void start_ok(uint16_t size, uint64_t features)
{
	cr_assert_eq(start(size, features), 0);
}

static void assert_iov(unsigned int i, uint64_t addr, size_t len)
{
	cr_assert_eq(elem.iov[i].iov_base, gpa(addr), "iov[%u] base", i);
	cr_assert_eq(elem.iov[i].iov_len, len, "iov[%u] len", i);
}

/* A one-descriptor chain at @head, made available. */
static void add_simple(uint16_t head, uint32_t len, uint16_t flags)
{
	set_desc(head, DATA_GPA + 0x100 * head, len, flags, 0);
	avail_add(head);
}

/* Pop and push one single-descriptor buffer: moves all indices by one. */
static void cycle_one(void)
{
	add_simple(0, 16, VIRTQ_DESC_F_WRITE);
	cr_assert_eq(virtq_pop(&vq, &elem), 1);
	virtq_push(&vq, &elem, 16);
}

/* ---- fake IOMMU: splits, write-protection, huge window, hook ---- */

static struct {
	uint64_t granule;	      /* split translations here; 0: never */
	uint64_t ro_base, ro_len;     /* DMA_WRITE faults in this range */
	uint64_t skew_base, skew_len; /* host pointers here are off by... */
	unsigned int skew;	      /* ...this many bytes */
	void (*hook)(uint64_t addr);
	int translations;
} iommu;

static uint8_t huge_dummy[64];

static void *fake_translate(struct dma_space *as, uint64_t addr, uint64_t len,
			    unsigned int access, uint64_t *chunk)
{
	iommu.translations++;
	if (iommu.hook)
		iommu.hook(addr);
	if (addr >= HUGE_GPA && addr - HUGE_GPA < HUGE_LEN) {
		*chunk = len < HUGE_LEN - (addr - HUGE_GPA)
				 ? len
				 : HUGE_LEN - (addr - HUGE_GPA);
		return huge_dummy;
	}
	if ((access & DMA_WRITE) && addr >= iommu.ro_base &&
	    addr - iommu.ro_base < iommu.ro_len)
		return NULL;
	*chunk = len;
	if (iommu.granule && iommu.granule - addr % iommu.granule < len)
		*chunk = iommu.granule - addr % iommu.granule;
	if (addr >= iommu.skew_base && addr - iommu.skew_base < iommu.skew_len)
		return (uint8_t *)gmem_ptr(as->mem, addr, *chunk) + iommu.skew;
	return gmem_ptr(as->mem, addr, *chunk);
}

static const struct dma_space_ops fake_iommu_ops = {
	.translate = fake_translate,
};

static void use_iommu(void)
{
	dma.ops = &fake_iommu_ops;
}

static void setup(void)
{
	memset(ram, 0, sizeof(ram));
	memset(&iommu, 0, sizeof(iommu));
	memset(&elem, 0, sizeof(elem));
	gmem_wrap(&gm, RAM_BASE, ram, RAM_SIZE);
	dma_space_init_identity(&dma, &gm);
	drv_avail_idx = 0;
}

TestSuite(virtq_enable, .init = setup, .timeout = 30);
TestSuite(virtq_pop, .init = setup, .timeout = 30);
TestSuite(virtq_indirect, .init = setup, .timeout = 30);
TestSuite(virtq_push, .init = setup, .timeout = 30);
TestSuite(virtq_wrap, .init = setup, .timeout = 30);
TestSuite(virtq_notify, .init = setup, .timeout = 30);

/* ---- virtq_enable ---- */

Test(virtq_enable, maps_rings_of_every_valid_size)
{
	for (unsigned int size = 1; size <= VIRTQ_SIZE_MAX; size *= 2) {
		start_ok(size, 0);
		cr_assert(vq.enabled, "size %u", size);
		cr_assert_eq((void *)vq.desc, gpa(DESC_GPA));
		cr_assert_eq((void *)vq.avail, gpa(AVAIL_GPA));
		cr_assert_eq((void *)vq.used, gpa(USED_GPA));
	}
}

Test(virtq_enable, rejects_size_zero)
{
	cr_assert_eq(start(0, 0), -EINVAL);
	cr_assert_not(vq.enabled);
}

Test(virtq_enable, rejects_size_not_power_of_two)
{
	static const uint16_t bad[] = { 3, 6, 7, 12, 255, 0xffff };

	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(start(bad[i], 0), -EINVAL, "size %u", bad[i]);
		cr_assert_not(vq.enabled);
	}
}

Test(virtq_enable, rejects_size_above_max)
{
	cr_assert_eq(start(VIRTQ_SIZE_MAX * 2, 0), -EINVAL);
	cr_assert_eq(start(0x8000, 0), -EINVAL);
	cr_assert_not(vq.enabled);
}

Test(virtq_enable, rejects_misaligned_descriptor_table)
{
	for (unsigned int off = 1; off < 16; off++) {
		memset(&vq, 0, sizeof(vq));
		vq.size = QSIZE;
		vq.desc_addr = DESC_GPA + off;
		vq.avail_addr = AVAIL_GPA;
		vq.used_addr = USED_GPA;
		cr_assert_eq(virtq_enable(&vq, &dma, 0), -EINVAL, "off %u",
			     off);
	}
}

Test(virtq_enable, rejects_misaligned_avail_ring)
{
	memset(&vq, 0, sizeof(vq));
	vq.size = QSIZE;
	vq.desc_addr = DESC_GPA;
	vq.avail_addr = AVAIL_GPA + 1;
	vq.used_addr = USED_GPA;
	cr_assert_eq(virtq_enable(&vq, &dma, 0), -EINVAL);
	vq.avail_addr = AVAIL_GPA + 2; /* 2-byte alignment is enough */
	cr_assert_eq(virtq_enable(&vq, &dma, 0), 0);
}

Test(virtq_enable, rejects_misaligned_used_ring)
{
	memset(&vq, 0, sizeof(vq));
	vq.size = QSIZE;
	vq.desc_addr = DESC_GPA;
	vq.avail_addr = AVAIL_GPA;
	for (unsigned int off = 1; off < 4; off++) {
		vq.used_addr = USED_GPA + off;
		cr_assert_eq(virtq_enable(&vq, &dma, 0), -EINVAL, "off %u",
			     off);
	}
	vq.used_addr = USED_GPA + 4; /* 4-byte alignment is enough */
	cr_assert_eq(virtq_enable(&vq, &dma, 0), 0);
}

Test(virtq_enable, rejects_rings_outside_ram)
{
	const uint64_t bad[] = { RAM_BASE - 0x1000, RAM_END, 0,
				 0xfffffffffffffff0ULL };

	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&vq, 0, sizeof(vq));
		vq.size = QSIZE;
		vq.desc_addr = bad[i];
		vq.avail_addr = AVAIL_GPA;
		vq.used_addr = USED_GPA;
		cr_assert_eq(virtq_enable(&vq, &dma, 0), -EINVAL);
		vq.desc_addr = DESC_GPA;
		vq.avail_addr = bad[i];
		cr_assert_eq(virtq_enable(&vq, &dma, 0), -EINVAL);
		vq.avail_addr = AVAIL_GPA;
		vq.used_addr = bad[i];
		cr_assert_eq(virtq_enable(&vq, &dma, 0), -EINVAL);
		cr_assert_not(vq.enabled);
	}
}

/* 2.7 part sizes: 16 * size, 6 + 2 * size, 6 + 8 * size, event words included.
 */
Test(virtq_enable, maps_exact_part_sizes_up_to_the_end_of_ram)
{
	memset(&vq, 0, sizeof(vq));
	vq.size = QSIZE;
	vq.desc_addr = DESC_GPA;
	vq.avail_addr = AVAIL_GPA;
	vq.used_addr = USED_GPA;

	vq.desc_addr = RAM_END - 16 * QSIZE;
	cr_assert_eq(virtq_enable(&vq, &dma, 0), 0);
	vq.desc_addr = RAM_END - 16 * (QSIZE - 1);
	cr_assert_eq(virtq_enable(&vq, &dma, 0), -EINVAL);
	vq.desc_addr = DESC_GPA;

	vq.avail_addr = RAM_END - (6 + 2 * QSIZE);
	cr_assert_eq(virtq_enable(&vq, &dma, 0), 0);
	vq.avail_addr = RAM_END - (4 + 2 * QSIZE); /* no room for used_event */
	cr_assert_eq(virtq_enable(&vq, &dma, 0), -EINVAL);
	vq.avail_addr = AVAIL_GPA;

	vq.used_addr = RAM_END - 72; /* 6 + 8 * 8 = 70, rounded to 4 */
	cr_assert_eq(virtq_enable(&vq, &dma, 0), 0);
	vq.used_addr = RAM_END - 68; /* no room for avail_event */
	cr_assert_eq(virtq_enable(&vq, &dma, 0), -EINVAL);
}

Test(virtq_enable, rejects_rings_split_by_the_iommu)
{
	use_iommu();
	iommu.granule = 0x1000;
	memset(&vq, 0, sizeof(vq));
	vq.size = QSIZE;
	vq.desc_addr = DESC_GPA + 0x1000 - 64; /* 128 bytes across a page */
	vq.avail_addr = AVAIL_GPA;
	vq.used_addr = USED_GPA;
	cr_assert_eq(virtq_enable(&vq, &dma, 0), -EINVAL);
	vq.desc_addr = DESC_GPA;
	cr_assert_eq(virtq_enable(&vq, &dma, 0), 0);
}

Test(virtq_enable, rejects_rings_the_iommu_maps_to_misaligned_host_memory)
{
	use_iommu();
	iommu.skew_base = USED_GPA;
	iommu.skew_len = 0x1000;
	iommu.skew = 2;
	cr_assert_eq(start(QSIZE, 0), -EINVAL);
	iommu.skew_base = AVAIL_GPA;
	iommu.skew = 1;
	cr_assert_eq(start(QSIZE, 0), -EINVAL);
	iommu.skew = 2;
	cr_assert_eq(start(QSIZE, 0), 0);
}

Test(virtq_enable, rejects_used_ring_the_iommu_maps_read_only)
{
	use_iommu();
	iommu.ro_base = USED_GPA;
	iommu.ro_len = 0x1000;
	cr_assert_eq(start(QSIZE, 0), -EINVAL);
	cr_assert_not(vq.enabled);
}

Test(virtq_enable, failure_leaves_an_enabled_queue_disabled)
{
	start_ok(QSIZE, 0);
	add_simple(0, 16, 0);
	vq.size = 3;
	cr_assert_eq(virtq_enable(&vq, &dma, 0), -EINVAL);
	cr_assert_not(vq.enabled);
	cr_assert_eq(virtq_pop(&vq, &elem), 0);
	virtq_push(&vq, &elem, 0);
	cr_assert_eq(used_idx(), 0);
}

Test(virtq_enable, records_negotiated_ring_features)
{
	start_ok(QSIZE, 0);
	cr_assert_not(vq.event_idx);
	cr_assert_not(vq.indirect);
	start_ok(QSIZE, F_INDIRECT);
	cr_assert_not(vq.event_idx);
	cr_assert(vq.indirect);
	start_ok(QSIZE, F_EVENT_IDX | (1ULL << 32) | 1);
	cr_assert(vq.event_idx);
	cr_assert_not(vq.indirect);
}

Test(virtq_enable, starts_a_fresh_queue)
{
	start_ok(QSIZE, 0);
	cycle_one();
	cycle_one();
	virtq_disable(&vq);
	cr_assert_not(vq.enabled);

	/* The driver re-initializes its rings and enables the queue again. */
	memset(gpa(AVAIL_GPA), 0, 0x2000);
	drv_avail_idx = 0;
	cr_assert_eq(virtq_enable(&vq, &dma, 0), 0);
	add_simple(5, 8, 0);
	cr_assert_eq(virtq_pop(&vq, &elem), 1);
	cr_assert_eq(elem.head, 5);
	virtq_push(&vq, &elem, 0);
	cr_assert_eq(used_idx(), 1);
	cr_assert_eq(used_id(0), 5);
}

Test(virtq_enable, disabled_queue_does_nothing)
{
	start_ok(QSIZE, 0);
	add_simple(0, 16, 0);
	virtq_disable(&vq);
	cr_assert_eq(virtq_pop(&vq, &elem), 0);
	virtq_push(&vq, &elem, 0);
	cr_assert_eq(used_idx(), 0);
	cr_assert_not(virtq_should_notify(&vq));
	virtq_disable_notify(&vq);
	cr_assert_eq(used_flags(), 0);
	cr_assert_not(virtq_enable_notify(&vq));
}

/* ---- virtq_pop: direct chains ---- */

Test(virtq_pop, empty_ring_gives_nothing)
{
	start_ok(QSIZE, 0);
	cr_assert_eq(virtq_pop(&vq, &elem), 0);
	add_simple(0, 16, 0);
	cr_assert_eq(virtq_pop(&vq, &elem), 1);
	cr_assert_eq(virtq_pop(&vq, &elem), 0);
}

Test(virtq_pop, single_readable_descriptor)
{
	start_ok(QSIZE, 0);
	set_desc(3, DATA_GPA + 0x40, 100, 0, 0);
	avail_add(3);
	cr_assert_eq(virtq_pop(&vq, &elem), 1);
	cr_assert_eq(elem.head, 3);
	cr_assert_eq(elem.out_num, 1);
	cr_assert_eq(elem.in_num, 0);
	cr_assert_eq(elem.out_len, 100);
	cr_assert_eq(elem.in_len, 0);
	assert_iov(0, DATA_GPA + 0x40, 100);
}

Test(virtq_pop, single_writable_descriptor)
{
	start_ok(QSIZE, 0);
	set_desc(0, DATA_GPA, 512, VIRTQ_DESC_F_WRITE, 0);
	avail_add(0);
	cr_assert_eq(virtq_pop(&vq, &elem), 1);
	cr_assert_eq(elem.out_num, 0);
	cr_assert_eq(elem.in_num, 1);
	cr_assert_eq(elem.out_len, 0);
	cr_assert_eq(elem.in_len, 512);
	assert_iov(0, DATA_GPA, 512);
}

Test(virtq_pop, chain_of_readable_then_writable_parts)
{
	static const char hdr[] = "request header";
	static const char reply[] = "device reply";

	start_ok(QSIZE, 0);
	/* Scattered, out-of-order indices: 6 -> 2 -> 7 -> 0 -> 4 */
	set_desc(6, DATA_GPA + 0x000, sizeof(hdr), VIRTQ_DESC_F_NEXT, 2);
	set_desc(2, DATA_GPA + 0x100, 64, VIRTQ_DESC_F_NEXT, 7);
	set_desc(7, DATA_GPA + 0x300, 200, VIRTQ_DESC_F_NEXT, 0);
	set_desc(0, DATA_GPA + 0x800, 1000,
		 VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 4);
	set_desc(4, DATA_GPA + 0x1000, sizeof(reply), VIRTQ_DESC_F_WRITE, 0);
	memcpy(gpa(DATA_GPA), hdr, sizeof(hdr));
	avail_add(6);

	cr_assert_eq(virtq_pop(&vq, &elem), 1);
	cr_assert_eq(elem.head, 6);
	cr_assert_eq(elem.out_num, 3);
	cr_assert_eq(elem.in_num, 2);
	cr_assert_eq(elem.out_len, sizeof(hdr) + 64 + 200);
	cr_assert_eq(elem.in_len, 1000 + sizeof(reply));
	assert_iov(0, DATA_GPA + 0x000, sizeof(hdr));
	assert_iov(1, DATA_GPA + 0x100, 64);
	assert_iov(2, DATA_GPA + 0x300, 200);
	assert_iov(3, DATA_GPA + 0x800, 1000);
	assert_iov(4, DATA_GPA + 0x1000, sizeof(reply));

	/* The iovecs are the guest's memory: read the request, write back. */
	cr_assert_str_eq(elem.iov[0].iov_base, hdr);
	memcpy(elem.iov[4].iov_base, reply, sizeof(reply));
	cr_assert_str_eq(gpa(DATA_GPA + 0x1000), reply);
}

Test(virtq_pop, consecutive_chains_in_ring_order)
{
	start_ok(QSIZE, 0);
	add_simple(5, 10, 0);
	add_simple(1, 20, VIRTQ_DESC_F_WRITE);
	add_simple(3, 30, 0);
	cr_assert_eq(virtq_pop(&vq, &elem), 1);
	cr_assert_eq(elem.head, 5);
	cr_assert_eq(elem.out_len, 10);
	cr_assert_eq(virtq_pop(&vq, &elem), 1);
	cr_assert_eq(elem.head, 1);
	cr_assert_eq(elem.in_len, 20);
	cr_assert_eq(virtq_pop(&vq, &elem), 1);
	cr_assert_eq(elem.head, 3);
	cr_assert_eq(virtq_pop(&vq, &elem), 0);
}

Test(virtq_pop, zero_length_descriptors_produce_no_iovec)
{
	start_ok(QSIZE, 0);
	set_desc(0, DATA_GPA, 0, VIRTQ_DESC_F_NEXT, 1);
	set_desc(1, DATA_GPA + 0x100, 8, VIRTQ_DESC_F_NEXT, 2);
	set_desc(2, DATA_GPA + 0x200, 0, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT,
		 3);
	set_desc(3, DATA_GPA + 0x300, 4, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT,
		 4);
	set_desc(4, DATA_GPA + 0x400, 0, VIRTQ_DESC_F_WRITE, 0);
	avail_add(0);
	cr_assert_eq(virtq_pop(&vq, &elem), 1);
	cr_assert_eq(elem.out_num, 1);
	cr_assert_eq(elem.in_num, 1);
	cr_assert_eq(elem.out_len, 8);
	cr_assert_eq(elem.in_len, 4);
	assert_iov(0, DATA_GPA + 0x100, 8);
	assert_iov(1, DATA_GPA + 0x300, 4);
}

Test(virtq_pop, chain_of_only_zero_length_descriptors_is_empty)
{
	start_ok(QSIZE, 0);
	set_desc(0, DATA_GPA, 0, VIRTQ_DESC_F_NEXT, 1);
	/* Never accessed, so its address does not matter. */
	set_desc(1, 0xdead0000, 0, VIRTQ_DESC_F_WRITE, 0);
	avail_add(0);
	cr_assert_eq(virtq_pop(&vq, &elem), 1);
	cr_assert_eq(elem.out_num + elem.in_num, 0);
	cr_assert_eq(elem.out_len + elem.in_len, 0);
}

Test(virtq_pop, rejects_readable_after_writable)
{
	start_ok(QSIZE, 0);
	set_desc(0, DATA_GPA, 8, VIRTQ_DESC_F_NEXT, 1);
	set_desc(1, DATA_GPA + 0x100, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT,
		 2);
	set_desc(2, DATA_GPA + 0x200, 8, 0, 0);
	avail_add(0);
	cr_assert_eq(virtq_pop(&vq, &elem), -EINVAL);
}

Test(virtq_pop, rejects_zero_length_readable_after_writable)
{
	start_ok(QSIZE, 0);
	set_desc(0, DATA_GPA, 0, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	set_desc(1, DATA_GPA + 0x100, 0, 0, 0);
	avail_add(0);
	cr_assert_eq(virtq_pop(&vq, &elem), -EINVAL);
}

Test(virtq_pop, rejects_head_index_beyond_queue)
{
	start_ok(QSIZE, 0);
	avail_add(QSIZE);
	cr_assert_eq(virtq_pop(&vq, &elem), -EINVAL);
	setup();
	start_ok(QSIZE, 0);
	avail_add(0xffff);
	cr_assert_eq(virtq_pop(&vq, &elem), -EINVAL);
}

Test(virtq_pop, rejects_next_index_beyond_queue)
{
	start_ok(QSIZE, 0);
	set_desc(0, DATA_GPA, 8, VIRTQ_DESC_F_NEXT, QSIZE);
	avail_add(0);
	cr_assert_eq(virtq_pop(&vq, &elem), -EINVAL);
	set_desc(0, DATA_GPA, 8, VIRTQ_DESC_F_NEXT, 0xffff);
	cr_assert_eq(virtq_pop(&vq, &elem), -EINVAL);
}

Test(virtq_pop, ignores_next_field_without_next_flag)
{
	start_ok(QSIZE, 0);
	set_desc(0, DATA_GPA, 8, 0, 0xffff);
	avail_add(0);
	cr_assert_eq(virtq_pop(&vq, &elem), 1);
	cr_assert_eq(elem.out_num, 1);
}

Test(virtq_pop, rejects_self_loop)
{
	start_ok(QSIZE, 0);
	set_desc(2, DATA_GPA, 8, VIRTQ_DESC_F_NEXT, 2);
	avail_add(2);
	cr_assert_eq(virtq_pop(&vq, &elem), -EINVAL);
}

Test(virtq_pop, rejects_two_descriptor_loop)
{
	start_ok(QSIZE, 0);
	set_desc(0, DATA_GPA, 8, VIRTQ_DESC_F_NEXT, 1);
	set_desc(1, DATA_GPA + 0x100, 8, VIRTQ_DESC_F_NEXT, 0);
	avail_add(0);
	cr_assert_eq(virtq_pop(&vq, &elem), -EINVAL);
}

Test(virtq_pop, rejects_loop_of_zero_length_writable_descriptors)
{
	start_ok(QSIZE, 0);
	set_desc(0, DATA_GPA, 0, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	set_desc(1, DATA_GPA, 0, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 0);
	avail_add(1);
	cr_assert_eq(virtq_pop(&vq, &elem), -EINVAL);
}

Test(virtq_pop, accepts_chain_using_the_whole_queue)
{
	start_ok(QSIZE, 0);
	for (unsigned int i = 0; i < QSIZE; i++)
		set_desc(i, DATA_GPA + 0x100 * i, 1,
			 i < QSIZE - 1 ? VIRTQ_DESC_F_NEXT : 0, i + 1);
	avail_add(0);
	cr_assert_eq(virtq_pop(&vq, &elem), 1);
	cr_assert_eq(elem.out_num, QSIZE);
	cr_assert_eq(elem.out_len, QSIZE);
}

Test(virtq_pop, rejects_chain_longer_than_queue)
{
	start_ok(QSIZE, 0);
	/* Every descriptor once, then back to the head: QSIZE + 1 long. */
	for (unsigned int i = 0; i < QSIZE; i++)
		set_desc(i, DATA_GPA + 0x100 * i, 1, VIRTQ_DESC_F_NEXT,
			 (i + 1) % QSIZE);
	avail_add(0);
	cr_assert_eq(virtq_pop(&vq, &elem), -EINVAL);
}

Test(virtq_pop, huge_chain_of_max_queue_size)
{
	start_ok(VIRTQ_SIZE_MAX, 0);
	for (unsigned int i = 0; i < VIRTQ_SIZE_MAX; i++) {
		uint16_t flags =
			i < VIRTQ_SIZE_MAX / 2 ? 0 : VIRTQ_DESC_F_WRITE;

		if (i < VIRTQ_SIZE_MAX - 1)
			flags |= VIRTQ_DESC_F_NEXT;
		/* Walk the table backwards to use every index. */
		set_desc(VIRTQ_SIZE_MAX - 1 - i, DATA_GPA + 0x100 * i, i + 1,
			 flags, VIRTQ_SIZE_MAX - 2 - i);
	}
	avail_add(VIRTQ_SIZE_MAX - 1);
	cr_assert_eq(virtq_pop(&vq, &elem), 1);
	cr_assert_eq(elem.head, VIRTQ_SIZE_MAX - 1);
	cr_assert_eq(elem.out_num, VIRTQ_SIZE_MAX / 2);
	cr_assert_eq(elem.in_num, VIRTQ_SIZE_MAX / 2);
	/* sum(1..128) and sum(129..256) */
	cr_assert_eq(elem.out_len, 128 * 129 / 2);
	cr_assert_eq(elem.in_len, 256 * 257 / 2 - 128 * 129 / 2);
	for (unsigned int i = 0; i < VIRTQ_SIZE_MAX; i++)
		assert_iov(i, DATA_GPA + 0x100 * i, i + 1);
}

Test(virtq_pop, rejects_address_outside_ram)
{
	const uint64_t bad[] = { 0, RAM_BASE - 16, RAM_END, RAM_END + 0x1000,
				 HUGE_GPA };

	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setup();
		start_ok(QSIZE, 0);
		set_desc(0, bad[i], 16, 0, 0);
		avail_add(0);
		cr_assert_eq(virtq_pop(&vq, &elem), -EINVAL, "addr 0x%llx",
			     (unsigned long long)bad[i]);
	}
}

Test(virtq_pop, rejects_buffer_straddling_the_end_of_ram)
{
	start_ok(QSIZE, 0);
	set_desc(0, RAM_END - 8, 16, 0, 0);
	avail_add(0);
	cr_assert_eq(virtq_pop(&vq, &elem), -EINVAL);
	set_desc(0, RAM_END - 16, 16, 0, 0); /* the last bytes are fine */
	cr_assert_eq(virtq_pop(&vq, &elem), 1);
	assert_iov(0, RAM_END - 16, 16);
}

Test(virtq_pop, rejects_buffer_straddling_the_start_of_ram)
{
	start_ok(QSIZE, 0);
	set_desc(0, RAM_BASE - 8, 16, 0, 0);
	avail_add(0);
	cr_assert_eq(virtq_pop(&vq, &elem), -EINVAL);
}

Test(virtq_pop, rejects_address_plus_length_overflowing)
{
	start_ok(QSIZE, 0);
	set_desc(0, 0xfffffffffffffff8ULL, 16, VIRTQ_DESC_F_WRITE, 0);
	avail_add(0);
	cr_assert_eq(virtq_pop(&vq, &elem), -EINVAL);
	set_desc(0, 0xffffffffffffffffULL, 0xffffffff, 0, 0);
	cr_assert_eq(virtq_pop(&vq, &elem), -EINVAL);
}

Test(virtq_pop, rejects_bad_buffer_late_in_the_chain)
{
	start_ok(QSIZE, 0);
	set_desc(0, DATA_GPA, 8, VIRTQ_DESC_F_NEXT, 1);
	set_desc(1, DATA_GPA + 0x100, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT,
		 2);
	set_desc(2, RAM_END - 4, 8, VIRTQ_DESC_F_WRITE, 0);
	avail_add(0);
	cr_assert_eq(virtq_pop(&vq, &elem), -EINVAL);
}

Test(virtq_pop, rejects_avail_idx_more_than_size_ahead)
{
	start_ok(QSIZE, 0);
	set_avail_idx(QSIZE + 1);
	cr_assert_eq(virtq_pop(&vq, &elem), -EINVAL);
	set_avail_idx(0xffff); /* "behind" is also size + something ahead */
	cr_assert_eq(virtq_pop(&vq, &elem), -EINVAL);
}

Test(virtq_pop, accepts_avail_idx_exactly_size_ahead)
{
	start_ok(QSIZE, 0);
	for (unsigned int i = 0; i < QSIZE; i++)
		add_simple(i, 8, 0);
	for (unsigned int i = 0; i < QSIZE; i++) {
		cr_assert_eq(virtq_pop(&vq, &elem), 1);
		cr_assert_eq(elem.head, i);
	}
	cr_assert_eq(virtq_pop(&vq, &elem), 0);
}

Test(virtq_pop, failure_does_not_consume_the_buffer)
{
	start_ok(QSIZE, 0);
	set_desc(4, RAM_END, 8, 0, 0);
	avail_add(4);
	cr_assert_eq(virtq_pop(&vq, &elem), -EINVAL);
	cr_assert_eq(virtq_pop(&vq, &elem), -EINVAL);
	set_desc(4, DATA_GPA, 8, 0, 0);
	cr_assert_eq(virtq_pop(&vq, &elem), 1);
	cr_assert_eq(elem.head, 4);
	cr_assert_eq(virtq_pop(&vq, &elem), 0);
}

Test(virtq_pop, ignores_unknown_descriptor_flags)
{
	start_ok(QSIZE, 0);
	set_desc(0, DATA_GPA, 8, 0xfff8 | VIRTQ_DESC_F_NEXT, 1);
	set_desc(1, DATA_GPA + 0x100, 8, 0xfff8, 0);
	avail_add(0);
	cr_assert_eq(virtq_pop(&vq, &elem), 1);
	cr_assert_eq(elem.out_num, 2);
}

Test(virtq_pop, splits_buffers_the_iommu_maps_in_pieces)
{
	use_iommu();
	iommu.granule = 0x1000;
	start_ok(QSIZE, 0);
	set_desc(0, DATA_GPA + 0xf00, 0x1200, VIRTQ_DESC_F_NEXT, 1);
	set_desc(1, DATA_GPA + 0x3000, 0x10, VIRTQ_DESC_F_WRITE, 0);
	avail_add(0);
	cr_assert_eq(virtq_pop(&vq, &elem), 1);
	cr_assert_eq(elem.out_num, 3);
	cr_assert_eq(elem.in_num, 1);
	cr_assert_eq(elem.out_len, 0x1200);
	assert_iov(0, DATA_GPA + 0xf00, 0x100);
	assert_iov(1, DATA_GPA + 0x1000, 0x1000);
	assert_iov(2, DATA_GPA + 0x2000, 0x100);
	assert_iov(3, DATA_GPA + 0x3000, 0x10);
}

Test(virtq_pop, accepts_chain_filling_every_iovec)
{
	use_iommu();
	start_ok(QSIZE, 0);
	iommu.granule = 16; /* after enable: the rings must not be split */
	set_desc(0, DATA_GPA, 16 * VIRTQ_ELEM_MAX_IOV, 0, 0);
	avail_add(0);
	cr_assert_eq(virtq_pop(&vq, &elem), 1);
	cr_assert_eq(elem.out_num, VIRTQ_ELEM_MAX_IOV);
	assert_iov(VIRTQ_ELEM_MAX_IOV - 1,
		   DATA_GPA + 16 * (VIRTQ_ELEM_MAX_IOV - 1), 16);
}

Test(virtq_pop, rejects_chain_needing_more_iovecs_than_an_element)
{
	use_iommu();
	start_ok(QSIZE, 0);
	iommu.granule = 16; /* after enable: the rings must not be split */
	set_desc(0, DATA_GPA, 16 * VIRTQ_ELEM_MAX_IOV, VIRTQ_DESC_F_NEXT, 1);
	set_desc(1, DATA_GPA + 0x8000, 1, VIRTQ_DESC_F_WRITE, 0);
	avail_add(0);
	/* Behind an IOMMU that fails the request, not the device. */
	cr_assert_eq(virtq_pop(&vq, &elem), -EFAULT);
	cr_assert_eq(used_idx(), 1);
	cr_assert_eq(used_len(0), 0);
}

Test(virtq_pop, rejects_writable_buffer_the_iommu_maps_read_only)
{
	use_iommu();
	iommu.ro_base = DATA_GPA;
	iommu.ro_len = 0x1000;
	start_ok(QSIZE, 0);
	set_desc(0, DATA_GPA, 16, 0, 0); /* reading it is fine */
	avail_add(0);
	cr_assert_eq(virtq_pop(&vq, &elem), 1);
	set_desc(1, DATA_GPA, 16, VIRTQ_DESC_F_WRITE, 0);
	avail_add(1);
	/* The IOMMU's refusal fails this chain: used with length 0. */
	cr_assert_eq(virtq_pop(&vq, &elem), -EFAULT);
	cr_assert_eq(used_idx(), 1);
	cr_assert_eq(used_id(0), 1);
	cr_assert_eq(used_len(0), 0);
	/* and the queue goes on */
	set_desc(2, DATA_GPA + 0x2000, 16, VIRTQ_DESC_F_WRITE, 0);
	avail_add(2);
	cr_assert_eq(virtq_pop(&vq, &elem), 1);
	cr_assert_eq(elem.head, 2);
}

Test(virtq_pop, accepts_total_length_of_exactly_4gib_minus_1)
{
	use_iommu();
	start_ok(QSIZE, 0);
	set_desc(0, HUGE_GPA, 0xfffffff0, VIRTQ_DESC_F_NEXT, 1);
	set_desc(1, HUGE_GPA, 0xf, VIRTQ_DESC_F_WRITE, 0);
	avail_add(0);
	cr_assert_eq(virtq_pop(&vq, &elem), 1);
	cr_assert_eq(elem.out_len, 0xfffffff0);
	cr_assert_eq(elem.in_len, 0xf);
}

Test(virtq_pop, rejects_total_length_over_4gib)
{
	use_iommu();
	start_ok(QSIZE, 0);
	set_desc(0, HUGE_GPA, 0xffffffff, VIRTQ_DESC_F_NEXT, 1);
	set_desc(1, HUGE_GPA, 1, VIRTQ_DESC_F_WRITE, 0);
	avail_add(0);
	cr_assert_eq(virtq_pop(&vq, &elem), -EINVAL);
}

Test(virtq_pop, rejects_many_descriptors_adding_up_over_4gib)
{
	use_iommu();
	start_ok(QSIZE, 0);
	for (unsigned int i = 0; i < QSIZE; i++)
		set_desc(i, HUGE_GPA + (uint64_t)i * 0x80000000, 0x80000000,
			 i < QSIZE - 1 ? VIRTQ_DESC_F_NEXT : 0, i + 1);
	avail_add(0);
	cr_assert_eq(virtq_pop(&vq, &elem), -EINVAL);
}

static void rewrite_chain_hook(uint64_t addr)
{
	if (addr != DATA_GPA)
		return;
	/* The driver rewrites the descriptor being mapped and its ring slot. */
	set_desc(0, RAM_END, 0xffffffff, VIRTQ_DESC_F_NEXT, 0xffff);
	put16(AVAIL_GPA + 4, 0xffff);
}

Test(virtq_pop, uses_one_snapshot_of_each_descriptor)
{
	use_iommu();
	start_ok(QSIZE, 0);
	set_desc(0, DATA_GPA, 32, VIRTQ_DESC_F_NEXT, 1);
	set_desc(1, DATA_GPA + 0x100, 64, VIRTQ_DESC_F_WRITE, 0);
	avail_add(0);
	iommu.hook = rewrite_chain_hook;
	cr_assert_eq(virtq_pop(&vq, &elem), 1);
	cr_assert_eq(elem.head, 0);
	cr_assert_eq(elem.out_num, 1);
	cr_assert_eq(elem.in_num, 1);
	cr_assert_eq(elem.out_len, 32);
	cr_assert_eq(elem.in_len, 64);
	assert_iov(0, DATA_GPA, 32);
	assert_iov(1, DATA_GPA + 0x100, 64);
}

/* ---- indirect descriptors (2.7.5.3) ---- */

Test(virtq_indirect, chain_in_a_table_is_walked)
{
	start_ok(QSIZE, F_INDIRECT);
	set_desc_in(INDIRECT_GPA, 0, DATA_GPA, 10, VIRTQ_DESC_F_NEXT, 2);
	set_desc_in(INDIRECT_GPA, 2, DATA_GPA + 0x100, 20, VIRTQ_DESC_F_NEXT,
		    1);
	set_desc_in(INDIRECT_GPA, 1, DATA_GPA + 0x200, 30, VIRTQ_DESC_F_WRITE,
		    0);
	set_desc(5, INDIRECT_GPA, 3 * DESC_SIZE, VIRTQ_DESC_F_INDIRECT, 0);
	avail_add(5);
	cr_assert_eq(virtq_pop(&vq, &elem), 1);
	cr_assert_eq(elem.head, 5);
	cr_assert_eq(elem.out_num, 2);
	cr_assert_eq(elem.in_num, 1);
	cr_assert_eq(elem.out_len, 30);
	cr_assert_eq(elem.in_len, 30);
	assert_iov(0, DATA_GPA, 10);
	assert_iov(1, DATA_GPA + 0x100, 20);
	assert_iov(2, DATA_GPA + 0x200, 30);
}

Test(virtq_indirect, follows_direct_descriptors)
{
	start_ok(QSIZE, F_INDIRECT);
	set_desc(0, DATA_GPA, 4, VIRTQ_DESC_F_NEXT, 1);
	set_desc(1, INDIRECT_GPA, 2 * DESC_SIZE, VIRTQ_DESC_F_INDIRECT, 0);
	set_desc_in(INDIRECT_GPA, 0, DATA_GPA + 0x100, 8, VIRTQ_DESC_F_NEXT, 1);
	set_desc_in(INDIRECT_GPA, 1, DATA_GPA + 0x200, 16, VIRTQ_DESC_F_WRITE,
		    0);
	avail_add(0);
	cr_assert_eq(virtq_pop(&vq, &elem), 1);
	cr_assert_eq(elem.out_num, 2);
	cr_assert_eq(elem.in_num, 1);
	assert_iov(0, DATA_GPA, 4);
	assert_iov(1, DATA_GPA + 0x100, 8);
	assert_iov(2, DATA_GPA + 0x200, 16);
}

Test(virtq_indirect, write_flag_on_the_table_descriptor_is_ignored)
{
	start_ok(QSIZE, F_INDIRECT);
	set_desc(0, INDIRECT_GPA, DESC_SIZE,
		 VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_WRITE, 0);
	set_desc_in(INDIRECT_GPA, 0, DATA_GPA, 8, 0, 0);
	avail_add(0);
	cr_assert_eq(virtq_pop(&vq, &elem), 1);
	cr_assert_eq(elem.out_num, 1);
	cr_assert_eq(elem.in_num, 0);
}

Test(virtq_indirect, table_needs_no_alignment)
{
	start_ok(QSIZE, F_INDIRECT);
	set_desc(0, INDIRECT_GPA + 1, DESC_SIZE, VIRTQ_DESC_F_INDIRECT, 0);
	set_desc_in(INDIRECT_GPA + 1, 0, DATA_GPA, 8, VIRTQ_DESC_F_WRITE, 0);
	avail_add(0);
	cr_assert_eq(virtq_pop(&vq, &elem), 1);
	cr_assert_eq(elem.in_num, 1);
	assert_iov(0, DATA_GPA, 8);
}

Test(virtq_indirect, table_of_max_entries_is_accepted)
{
	start_ok(QSIZE, F_INDIRECT);
	for (unsigned int i = 0; i < VIRTQ_SIZE_MAX; i++)
		set_desc_in(INDIRECT_GPA, i, DATA_GPA + 0x10 * i, 0x10,
			    i < VIRTQ_SIZE_MAX - 1 ? VIRTQ_DESC_F_NEXT : 0,
			    i + 1);
	set_desc(0, INDIRECT_GPA, VIRTQ_SIZE_MAX * DESC_SIZE,
		 VIRTQ_DESC_F_INDIRECT, 0);
	avail_add(0);
	cr_assert_eq(virtq_pop(&vq, &elem), 1);
	cr_assert_eq(elem.out_num, VIRTQ_SIZE_MAX);
	cr_assert_eq(elem.out_len, 0x10 * VIRTQ_SIZE_MAX);
}

Test(virtq_indirect, rejected_when_not_negotiated)
{
	start_ok(QSIZE, 0);
	set_desc(0, INDIRECT_GPA, DESC_SIZE, VIRTQ_DESC_F_INDIRECT, 0);
	set_desc_in(INDIRECT_GPA, 0, DATA_GPA, 8, 0, 0);
	avail_add(0);
	cr_assert_eq(virtq_pop(&vq, &elem), -EINVAL);
}

Test(virtq_indirect, rejected_together_with_next)
{
	start_ok(QSIZE, F_INDIRECT);
	set_desc(0, INDIRECT_GPA, DESC_SIZE,
		 VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 1);
	set_desc(1, DATA_GPA + 0x100, 8, VIRTQ_DESC_F_WRITE, 0);
	set_desc_in(INDIRECT_GPA, 0, DATA_GPA, 8, 0, 0);
	avail_add(0);
	cr_assert_eq(virtq_pop(&vq, &elem), -EINVAL);
}

Test(virtq_indirect, rejects_table_length_zero)
{
	start_ok(QSIZE, F_INDIRECT);
	set_desc(0, INDIRECT_GPA, 0, VIRTQ_DESC_F_INDIRECT, 0);
	avail_add(0);
	cr_assert_eq(virtq_pop(&vq, &elem), -EINVAL);
}

Test(virtq_indirect, rejects_table_length_not_multiple_of_16)
{
	static const uint32_t bad[] = { 1, 8, 15, 17, 24, 2 * DESC_SIZE - 1 };

	start_ok(QSIZE, F_INDIRECT);
	set_desc_in(INDIRECT_GPA, 0, DATA_GPA, 8, 0, 0);
	set_desc_in(INDIRECT_GPA, 1, DATA_GPA, 8, 0, 0);
	avail_add(0);
	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		set_desc(0, INDIRECT_GPA, bad[i], VIRTQ_DESC_F_INDIRECT, 0);
		cr_assert_eq(virtq_pop(&vq, &elem), -EINVAL, "len %u", bad[i]);
	}
}

Test(virtq_indirect, rejects_table_of_more_than_max_entries)
{
	start_ok(QSIZE, F_INDIRECT);
	set_desc_in(INDIRECT_GPA, 0, DATA_GPA, 8, 0, 0);
	set_desc(0, INDIRECT_GPA, (VIRTQ_SIZE_MAX + 1) * DESC_SIZE,
		 VIRTQ_DESC_F_INDIRECT, 0);
	avail_add(0);
	cr_assert_eq(virtq_pop(&vq, &elem), -EINVAL);
	set_desc(0, INDIRECT_GPA, 0xfffffff0, VIRTQ_DESC_F_INDIRECT, 0);
	cr_assert_eq(virtq_pop(&vq, &elem), -EINVAL);
}

Test(virtq_indirect, rejects_nested_indirect)
{
	start_ok(QSIZE, F_INDIRECT);
	set_desc(0, INDIRECT_GPA, DESC_SIZE, VIRTQ_DESC_F_INDIRECT, 0);
	set_desc_in(INDIRECT_GPA, 0, INDIRECT2_GPA, DESC_SIZE,
		    VIRTQ_DESC_F_INDIRECT, 0);
	set_desc_in(INDIRECT2_GPA, 0, DATA_GPA, 8, 0, 0);
	avail_add(0);
	cr_assert_eq(virtq_pop(&vq, &elem), -EINVAL);
}

Test(virtq_indirect, rejects_table_outside_ram)
{
	const uint64_t bad[] = { RAM_END, RAM_END - DESC_SIZE, RAM_BASE - 8,
				 0xfffffffffffffff0ULL };

	start_ok(QSIZE, F_INDIRECT);
	avail_add(0);
	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* Two entries: the last one straddles or leaves RAM. */
		set_desc(0, bad[i], 2 * DESC_SIZE, VIRTQ_DESC_F_INDIRECT, 0);
		cr_assert_eq(virtq_pop(&vq, &elem), -EINVAL, "addr 0x%llx",
			     (unsigned long long)bad[i]);
	}
}

Test(virtq_indirect, rejects_table_the_iommu_splits)
{
	use_iommu();
	iommu.granule = 0x1000;
	start_ok(QSIZE, F_INDIRECT);
	set_desc_in(INDIRECT_GPA + 0x1000 - DESC_SIZE, 0, DATA_GPA, 8,
		    VIRTQ_DESC_F_NEXT, 1);
	set_desc_in(INDIRECT_GPA + 0x1000 - DESC_SIZE, 1, DATA_GPA, 8, 0, 0);
	set_desc(0, INDIRECT_GPA + 0x1000 - DESC_SIZE, 2 * DESC_SIZE,
		 VIRTQ_DESC_F_INDIRECT, 0);
	avail_add(0);
	/* Copied from both pieces and walked: two 8-byte buffers. */
	cr_assert_eq(virtq_pop(&vq, &elem), 1);
	cr_assert_eq(elem.out_num, 2);
	cr_assert_eq(elem.out_len, 16);
}

Test(virtq_indirect, fails_only_the_request_when_the_iommu_refuses_the_table)
{
	use_iommu();
	iommu.granule = 0x1000;
	start_ok(QSIZE, F_INDIRECT);
	set_desc(0, HOLE_GPA, 2 * DESC_SIZE, VIRTQ_DESC_F_INDIRECT, 0);
	avail_add(0);
	set_desc(1, DATA_GPA, 8, 0, 0);
	avail_add(1);
	cr_assert_eq(virtq_pop(&vq, &elem), -EFAULT);
	cr_assert_eq(used_idx(), 1);
	cr_assert_eq(used_id(0), 0);
	cr_assert_eq(used_len(0), 0);
	cr_assert_eq(virtq_pop(&vq, &elem), 1);
	cr_assert_eq(elem.head, 1);
}

Test(virtq_indirect, still_rejects_a_table_outside_ram_without_iommu)
{
	start_ok(QSIZE, F_INDIRECT);
	set_desc(0, HOLE_GPA, 2 * DESC_SIZE, VIRTQ_DESC_F_INDIRECT, 0);
	avail_add(0);
	cr_assert_eq(virtq_pop(&vq, &elem), -EINVAL);
}

Test(virtq_indirect, rejects_loop_in_the_table)
{
	start_ok(QSIZE, F_INDIRECT);
	set_desc_in(INDIRECT_GPA, 0, DATA_GPA, 8, VIRTQ_DESC_F_NEXT, 1);
	set_desc_in(INDIRECT_GPA, 1, DATA_GPA, 8, VIRTQ_DESC_F_NEXT, 2);
	set_desc_in(INDIRECT_GPA, 2, DATA_GPA, 8, VIRTQ_DESC_F_NEXT, 0);
	set_desc(0, INDIRECT_GPA, 3 * DESC_SIZE, VIRTQ_DESC_F_INDIRECT, 0);
	avail_add(0);
	cr_assert_eq(virtq_pop(&vq, &elem), -EINVAL);
}

Test(virtq_indirect, rejects_self_loop_in_a_one_entry_table)
{
	start_ok(QSIZE, F_INDIRECT);
	set_desc_in(INDIRECT_GPA, 0, DATA_GPA, 8, VIRTQ_DESC_F_NEXT, 0);
	set_desc(0, INDIRECT_GPA, DESC_SIZE, VIRTQ_DESC_F_INDIRECT, 0);
	avail_add(0);
	cr_assert_eq(virtq_pop(&vq, &elem), -EINVAL);
}

Test(virtq_indirect, rejects_next_beyond_the_table)
{
	start_ok(QSIZE, F_INDIRECT);
	/* 2 is inside the queue but outside the 2-entry table. */
	set_desc_in(INDIRECT_GPA, 0, DATA_GPA, 8, VIRTQ_DESC_F_NEXT, 2);
	set_desc_in(INDIRECT_GPA, 1, DATA_GPA, 8, 0, 0);
	set_desc_in(INDIRECT_GPA, 2, DATA_GPA, 8, 0, 0);
	set_desc(0, INDIRECT_GPA, 2 * DESC_SIZE, VIRTQ_DESC_F_INDIRECT, 0);
	avail_add(0);
	cr_assert_eq(virtq_pop(&vq, &elem), -EINVAL);
}

Test(virtq_indirect, rejects_readable_after_writable_direct_part)
{
	start_ok(QSIZE, F_INDIRECT);
	set_desc(0, DATA_GPA, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	set_desc(1, INDIRECT_GPA, DESC_SIZE, VIRTQ_DESC_F_INDIRECT, 0);
	set_desc_in(INDIRECT_GPA, 0, DATA_GPA + 0x100, 8, 0, 0);
	avail_add(0);
	cr_assert_eq(virtq_pop(&vq, &elem), -EINVAL);
}

Test(virtq_indirect, rejects_readable_after_writable_in_the_table)
{
	start_ok(QSIZE, F_INDIRECT);
	set_desc_in(INDIRECT_GPA, 0, DATA_GPA, 8,
		    VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	set_desc_in(INDIRECT_GPA, 1, DATA_GPA + 0x100, 8, 0, 0);
	set_desc(0, INDIRECT_GPA, 2 * DESC_SIZE, VIRTQ_DESC_F_INDIRECT, 0);
	avail_add(0);
	cr_assert_eq(virtq_pop(&vq, &elem), -EINVAL);
}

Test(virtq_indirect, rejects_buffer_outside_ram_in_the_table)
{
	start_ok(QSIZE, F_INDIRECT);
	set_desc_in(INDIRECT_GPA, 0, RAM_END - 4, 8, 0, 0);
	set_desc(0, INDIRECT_GPA, DESC_SIZE, VIRTQ_DESC_F_INDIRECT, 0);
	avail_add(0);
	cr_assert_eq(virtq_pop(&vq, &elem), -EINVAL);
}

static void rewrite_table_hook(uint64_t addr)
{
	if (addr == INDIRECT_GPA) {
		/* Grow the table and point it elsewhere after it is mapped. */
		set_desc(0, RAM_END, 0x1000, VIRTQ_DESC_F_INDIRECT, 0);
	} else if (addr == DATA_GPA) {
		/* Send entry 0's chain to an entry past the mapped table. */
		set_desc_in(INDIRECT_GPA, 0, DATA_GPA, 8, VIRTQ_DESC_F_NEXT,
			    200);
	}
}

Test(virtq_indirect, uses_one_snapshot_of_each_descriptor)
{
	use_iommu();
	start_ok(QSIZE, F_INDIRECT);
	set_desc(0, INDIRECT_GPA, 2 * DESC_SIZE, VIRTQ_DESC_F_INDIRECT, 0);
	set_desc_in(INDIRECT_GPA, 0, DATA_GPA, 8, VIRTQ_DESC_F_NEXT, 1);
	set_desc_in(INDIRECT_GPA, 1, DATA_GPA + 0x100, 8, VIRTQ_DESC_F_WRITE,
		    0);
	avail_add(0);
	iommu.hook = rewrite_table_hook;
	cr_assert_eq(virtq_pop(&vq, &elem), 1);
	cr_assert_eq(elem.out_num, 1);
	cr_assert_eq(elem.in_num, 1);
	assert_iov(0, DATA_GPA, 8);
	assert_iov(1, DATA_GPA + 0x100, 8);
}

/* ---- virtq_push ---- */

Test(virtq_push, writes_used_element_then_idx)
{
	start_ok(QSIZE, 0);
	add_simple(6, 64, VIRTQ_DESC_F_WRITE);
	cr_assert_eq(virtq_pop(&vq, &elem), 1);
	cr_assert_eq(used_idx(), 0, "nothing is used before the push");
	virtq_push(&vq, &elem, 40);
	cr_assert_eq(used_idx(), 1);
	cr_assert_eq(used_id(0), 6);
	cr_assert_eq(used_len(0), 40);
}

Test(virtq_push, completes_out_of_order)
{
	struct virtq_elem *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));

	cr_assert(a && b);
	start_ok(QSIZE, 0);
	add_simple(2, 64, VIRTQ_DESC_F_WRITE);
	add_simple(7, 64, VIRTQ_DESC_F_WRITE);
	cr_assert_eq(virtq_pop(&vq, a), 1);
	cr_assert_eq(virtq_pop(&vq, b), 1);
	virtq_push(&vq, b, 1);
	virtq_push(&vq, a, 2);
	cr_assert_eq(used_idx(), 2);
	cr_assert_eq(used_id(0), 7);
	cr_assert_eq(used_len(0), 1);
	cr_assert_eq(used_id(1), 2);
	cr_assert_eq(used_len(1), 2);
	free(a);
	free(b);
}

Test(virtq_push, reports_zero_for_a_readable_only_chain)
{
	start_ok(QSIZE, 0);
	add_simple(1, 64, 0);
	cr_assert_eq(virtq_pop(&vq, &elem), 1);
	virtq_push(&vq, &elem, 0);
	cr_assert_eq(used_idx(), 1);
	cr_assert_eq(used_id(0), 1);
	cr_assert_eq(used_len(0), 0);
}

Test(virtq_push, never_reports_more_than_the_writable_part)
{
	start_ok(QSIZE, 0);
	add_simple(1, 64, VIRTQ_DESC_F_WRITE);
	cr_assert_eq(virtq_pop(&vq, &elem), 1);
	virtq_push(&vq, &elem, 1000);
	cr_assert_eq(used_len(0), 64);
}

Test(virtq_push, fills_the_ring_slots_in_order)
{
	start_ok(QSIZE, 0);
	for (unsigned int round = 0; round < 3; round++) {
		for (unsigned int i = 0; i < QSIZE; i++)
			add_simple(i, 16, VIRTQ_DESC_F_WRITE);
		for (unsigned int i = 0; i < QSIZE; i++) {
			cr_assert_eq(virtq_pop(&vq, &elem), 1);
			virtq_push(&vq, &elem, round + i);
		}
		for (unsigned int i = 0; i < QSIZE; i++) {
			cr_assert_eq(used_id(i), i);
			cr_assert_eq(used_len(i), round + i);
		}
		cr_assert_eq(used_idx(), (round + 1) * QSIZE);
	}
}

/* ---- 16-bit index wrap-around ---- */

#define WRAP_QSIZE 4
#define NEAR_WRAP  65533 /* three short of 65536 */

Test(virtq_wrap, indices_cross_65535_to_0)
{
	start_ok(WRAP_QSIZE, 0);
	for (unsigned int i = 0; i < NEAR_WRAP; i++)
		cycle_one();
	cr_assert_eq(used_idx(), NEAR_WRAP);
	cr_assert_eq(drv_avail_idx, NEAR_WRAP);

	/* A full ring across the wrap: avail idx goes 65533 -> 1. */
	for (unsigned int i = 0; i < WRAP_QSIZE; i++) {
		set_desc(i, DATA_GPA + 0x100 * i, 8 + i, VIRTQ_DESC_F_WRITE, 0);
		avail_add(3 - i);
	}
	cr_assert_eq(drv_avail_idx, 1);
	for (unsigned int i = 0; i < WRAP_QSIZE; i++) {
		cr_assert_eq(virtq_pop(&vq, &elem), 1, "pop %u", i);
		cr_assert_eq(elem.head, 3 - i);
		cr_assert_eq(elem.in_len, 8 + (3 - i));
		virtq_push(&vq, &elem, elem.in_len);
	}
	cr_assert_eq(virtq_pop(&vq, &elem), 0);
	cr_assert_eq(used_idx(), 1);
	/* Slots (65533 + i) % 4 = 1, 2, 3, 0 */
	for (unsigned int i = 0; i < WRAP_QSIZE; i++) {
		unsigned int slot = (NEAR_WRAP + i) % WRAP_QSIZE;

		cr_assert_eq(used_id(slot), 3 - i);
		cr_assert_eq(used_len(slot), 8 + (3 - i));
	}
}

Test(virtq_wrap, avail_idx_limit_holds_across_the_wrap)
{
	start_ok(WRAP_QSIZE, 0);
	for (unsigned int i = 0; i < NEAR_WRAP; i++)
		cycle_one();
	set_desc(0, DATA_GPA, 8, 0, 0);
	for (unsigned int i = 0; i < WRAP_QSIZE; i++)
		put16(AVAIL_GPA + 4 + 2 * i, 0);
	set_avail_idx((uint16_t)(NEAR_WRAP + WRAP_QSIZE + 1));
	cr_assert_eq(virtq_pop(&vq, &elem), -EINVAL);
	set_avail_idx((uint16_t)(NEAR_WRAP + WRAP_QSIZE));
	for (unsigned int i = 0; i < WRAP_QSIZE; i++)
		cr_assert_eq(virtq_pop(&vq, &elem), 1);
	cr_assert_eq(virtq_pop(&vq, &elem), 0);
}

/* ---- notifications (2.7.7, 2.7.10) ---- */

Test(virtq_notify, honours_no_interrupt_without_event_idx)
{
	start_ok(QSIZE, 0);
	cycle_one();
	cr_assert(virtq_should_notify(&vq));
	set_avail_flags(VIRTQ_AVAIL_F_NO_INTERRUPT);
	cycle_one();
	cr_assert_not(virtq_should_notify(&vq));
	set_avail_flags(0);
	cycle_one();
	cr_assert(virtq_should_notify(&vq));
}

Test(virtq_notify, event_idx_first_decision_notifies)
{
	start_ok(QSIZE, F_EVENT_IDX);
	set_used_event(100); /* far away, but nothing was signalled yet */
	cycle_one();
	cr_assert(virtq_should_notify(&vq));
}

Test(virtq_notify, event_idx_ignores_no_interrupt_flag)
{
	/* 2.7.7.2: with EVENT_IDX the device ignores the avail flags. */
	start_ok(QSIZE, F_EVENT_IDX);
	set_avail_flags(VIRTQ_AVAIL_F_NO_INTERRUPT);
	cycle_one();
	cr_assert(virtq_should_notify(&vq));
	set_used_event(1); /* notify once used idx passes 1 */
	cycle_one();
	cr_assert(virtq_should_notify(&vq));
}

Test(virtq_notify, event_idx_notifies_only_when_used_event_is_passed)
{
	start_ok(QSIZE, F_EVENT_IDX);
	cycle_one(); /* used idx 1 */
	cr_assert(virtq_should_notify(&vq));
	set_used_event(2); /* "interrupt me when entry 2 is used" */
	cycle_one();	   /* used idx 2: entry 1 used */
	cr_assert_not(virtq_should_notify(&vq));
	cycle_one(); /* used idx 3: entry 2 used */
	cr_assert(virtq_should_notify(&vq));
	cycle_one(); /* used idx 4, already told */
	cr_assert_not(virtq_should_notify(&vq));
}

Test(virtq_notify, event_idx_notifies_when_a_batch_passes_used_event)
{
	start_ok(QSIZE, F_EVENT_IDX);
	cycle_one();
	cr_assert(virtq_should_notify(&vq));
	set_used_event(2);
	cycle_one();
	cycle_one();
	cycle_one(); /* used idx 1 -> 4 in one decision */
	cr_assert(virtq_should_notify(&vq));
}

Test(virtq_notify, event_idx_no_notification_without_new_buffers)
{
	start_ok(QSIZE, F_EVENT_IDX);
	cycle_one();
	cr_assert(virtq_should_notify(&vq));
	set_used_event(0);
	cr_assert_not(virtq_should_notify(&vq));
}

Test(virtq_notify, event_idx_across_the_wrap)
{
	start_ok(WRAP_QSIZE, F_EVENT_IDX);
	for (unsigned int i = 0; i < 65534; i++)
		cycle_one();
	cr_assert(virtq_should_notify(&vq)); /* signalled at 65534 */

	set_used_event(0); /* wants entry 0 (after the wrap) to be used */
	cycle_one();
	cycle_one(); /* used idx 65534 -> 0: entries 65534, 65535 */
	cr_assert_eq(used_idx(), 0);
	cr_assert_not(virtq_should_notify(&vq));
	cycle_one(); /* used idx 1: entry 0 used */
	cr_assert(virtq_should_notify(&vq));

	/* Again, with the event at 65535 and a batch crossing the wrap. */
	setup();
	start_ok(WRAP_QSIZE, F_EVENT_IDX);
	for (unsigned int i = 0; i < 65534; i++)
		cycle_one();
	cr_assert(virtq_should_notify(&vq));
	set_used_event(65535);
	cycle_one();
	cycle_one(); /* used idx 0: entry 65535 used */
	cr_assert(virtq_should_notify(&vq));
}

Test(virtq_notify, disable_sets_no_notify_and_enable_clears_it)
{
	start_ok(QSIZE, 0);
	virtq_disable_notify(&vq);
	cr_assert_eq(used_flags(), VIRTQ_USED_F_NO_NOTIFY);
	cr_assert_not(virtq_enable_notify(&vq));
	cr_assert_eq(used_flags(), 0);
}

Test(virtq_notify, event_idx_enable_writes_avail_event)
{
	start_ok(QSIZE, F_EVENT_IDX);
	cycle_one();
	cycle_one();
	virtq_disable_notify(&vq);
	cr_assert_eq(used_flags(), 0, "EVENT_IDX does not use the flag");
	cr_assert_not(virtq_enable_notify(&vq));
	cr_assert_eq(avail_event(), 2);
	cr_assert_eq(used_flags(), 0);
}

Test(virtq_notify, enable_reports_buffers_that_arrived_meanwhile)
{
	static const uint64_t features[] = { 0, F_EVENT_IDX };

	for (unsigned int i = 0; i < 2; i++) {
		setup();
		start_ok(QSIZE, features[i]);
		virtq_disable_notify(&vq);
		add_simple(0, 8, 0);
		cr_assert(virtq_enable_notify(&vq), "features %u", i);
		cr_assert_eq(virtq_pop(&vq, &elem), 1);
		cr_assert_not(virtq_enable_notify(&vq), "features %u", i);
		if (features[i])
			cr_assert_eq(avail_event(), 1);
	}
}

Test(virtq_notify, pop_and_push_leave_suppression_state_alone)
{
	start_ok(QSIZE, F_EVENT_IDX);
	put16(USED_GPA + 4 + 8 * QSIZE, 0x1234); /* avail_event */
	cycle_one();
	cycle_one();
	cr_assert_eq(avail_event(), 0x1234);
	cr_assert_eq(used_flags(), 0);

	setup();
	start_ok(QSIZE, 0);
	virtq_disable_notify(&vq);
	cycle_one();
	cr_assert_eq(used_flags(), VIRTQ_USED_F_NO_NOTIFY);
}
