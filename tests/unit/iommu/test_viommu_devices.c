// SPDX-License-Identifier: GPL-2.0
/*
 * An emulated virtio device behind the virtio-iommu, end to end: a
 * virtio-rng over virtio-mmio whose driver accepted ACCESS_PLATFORM and
 * programs IOVAs, and the virtio-iommu's own driver attaching, mapping and
 * unmapping them. Buffers land at the translated address; a refused buffer
 * fails its request (used length 0), is reported on the eventq or counted
 * as dropped, and leaves the device working (virtio 1.2, 5.13.6.9 and 6).
 */
#include <criterion/criterion.h>
#include <poll.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "devices/virtio/virtio_rng.h"
#include "iommu/virtio_iommu.h"
#include "vmm/evloop.h"

#define RAM_BASE 0x80000000ULL
#define RAM_SIZE (1 << 20)
static uint8_t ram[RAM_SIZE] __attribute__((aligned(4096)));
static struct guest_mem mem;
static struct evloop loop;

#define QSIZE 16
#include "virtio_iommu_test_driver.h"

/*
 * The rng's memory. Its IOVAs are inside guest RAM too, so a device that
 * skipped the translation would write where the test can see it.
 */
#define RNG_EP	      0x10		   /* the rng's endpoint ID */
#define RNG_RING_GPA  (RAM_BASE + 0x30000) /* desc, avail, used: 3 pages */
#define RNG_RING_IOVA (RAM_BASE + 0x80000)
#define RNG_RING_SIZE 0x3000
#define DATA_GPA      (RAM_BASE + 0x60000)
#define DATA_GPA2     (RAM_BASE + 0x70000) /* where a second domain maps */
#define DATA_IOVA     (RAM_BASE + 0x90000)
#define DATA_LEN      64
#define PAGE	      0x1000
#define POISON	      0x5a /* IOVA-numbered pages: must stay as they are */
/* A kick that does nothing has had this long to do something. */
#define SETTLE_NS 20000000

#define FEATURES_PLATFORM \
	(1ULL << VIRTIO_F_VERSION_1 | 1ULL << VIRTIO_F_ACCESS_PLATFORM)

static struct virtio_rng rng;
static struct virtio_mmio rm;
static struct ring rr; /* the rng's rings, at their guest physical address */

static void setup_with(bool bypass)
{
	struct virtio_iommu_params p = { .bypass = bypass };
	struct dma_space as;

	memset(ram, 0, sizeof(ram));
	memset(gpa(DATA_IOVA), POISON, PAGE);
	memset(gpa(RNG_RING_IOVA), POISON, RNG_RING_SIZE);
	gmem_wrap(&mem, RAM_BASE, ram, RAM_SIZE);
	cr_assert_eq(evloop_init(&loop, 32), 0);
	cr_assert_eq(virtio_iommu_init(&viommu, &mem, &p), 0);
	cr_assert_eq(virtio_iommu_add_endpoint(&viommu, RNG_EP), 0);
	cr_assert_eq(virtio_mmio_init(&m, &viommu.vdev, &host, 0x0b000000, 16),
		     0);
	driver_init(ALL_FEATURES);

	virtio_rng_init(&rng, &mem);
	as = dma_of(RNG_EP);
	virtio_dev_set_dma(&rng.vdev, &as);
	cr_assert_eq(virtio_mmio_init(&rm, &rng.vdev, &host, 0x0b000200, 17),
		     0);
}

static void setup(void)
{
	setup_with(false);
}

static void setup_bypass(void)
{
	setup_with(true);
}

static void teardown(void)
{
	evloop_destroy(&loop);
	virtio_iommu_destroy(&viommu);
}

/* The rng's driver: ACCESS_PLATFORM, one queue at bus address @ring. */
static uint32_t rng_start(uint64_t ring)
{
	cr_assert(mmio_negotiate(&rm, FEATURES_PLATFORM));
	memset(gpa(RNG_RING_GPA), 0, RNG_RING_SIZE);
	rr = ring_at(RNG_RING_GPA);
	mmio_setup_queue(&rm, 0, ring, ring + PAGE, ring + 2 * PAGE);
	return mmio_driver_ok(&rm);
}

/* Translated rings: domain @domain maps them at RNG_RING_IOVA. */
static void rng_start_translated(uint32_t domain)
{
	uint32_t status;

	cr_assert_eq(attach(domain, RNG_EP), VIRTIO_IOMMU_S_OK);
	cr_assert_eq(map(domain, RNG_RING_IOVA,
			 RNG_RING_IOVA + RNG_RING_SIZE - 1, RNG_RING_GPA, RW),
		     VIRTIO_IOMMU_S_OK);
	status = rng_start(RNG_RING_IOVA);
	cr_assert(status & VIRTIO_STATUS_DRIVER_OK);
	cr_assert_not(status & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
}

static uint8_t map_data(uint32_t domain, uint64_t gpa_of_data)
{
	return map(domain, DATA_IOVA, DATA_IOVA + PAGE - 1, gpa_of_data, RW);
}

static void assert_device_live(void)
{
	uint32_t status = mrd(&rm, VIRTIO_MMIO_STATUS);

	cr_assert(status & VIRTIO_STATUS_DRIVER_OK);
	cr_assert_not(status & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	cr_assert_not(atomic_load(&rng.vdev.broken));
}

/*
 * Post one device-writable buffer of @len bytes at bus address @addr,
 * kick, and run the loop until the rng gives it back (the suite timeout
 * catches a device that never does). Returns the used length.
 */
static uint32_t rng_request(uint64_t addr, uint32_t len)
{
	uint16_t before = used_idx(&rr), di = rr.avail_idx % QSIZE;
	const uint32_t *used = gpa(rr.used);

	assert_device_live(); /* a broken device would never answer */
	add_buf(&rr, di, addr, len, VIRTQ_DESC_F_WRITE, 0);
	publish(&rr, di);
	mwr(&rm, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	pumping = true;
	while (used_idx(&rr) == before) {
		cr_assert_eq(evloop_run(&loop), 0);
		cr_assert_not(mrd(&rm, VIRTIO_MMIO_STATUS) &
				      VIRTIO_STATUS_DEVICE_NEEDS_RESET,
			      "the rng broke instead of answering");
	}
	pumping = false;
	cr_assert(mrd(&rm, VIRTIO_MMIO_INTERRUPT_STATUS) &
			  VIRTIO_MMIO_INT_VRING,
		  "the driver is interrupted");
	mwr(&rm, VIRTIO_MMIO_INTERRUPT_ACK, 3);
	mwr(&m, VIRTIO_MMIO_INTERRUPT_ACK, 3);
	cr_assert_eq(used_idx(&rr), (uint16_t)(before + 1), "one used");
	cr_assert_eq(used[1 + 2 * (before % QSIZE)], di, "used id");
	return used[2 + 2 * (before % QSIZE)];
}

static void settle_cb(struct evloop_source *src, int res)
{
	(void)res;
	*(bool *)src->opaque = true;
	evloop_stop(&loop);
}

/* Run the loop for SETTLE_NS: whatever a kick would do is done by then. */
static void settle(void)
{
	struct itimerspec its = { .it_value = { .tv_nsec = SETTLE_NS } };
	struct evloop_source src;
	bool fired = false;
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);

	cr_assert_geq(fd, 0);
	cr_assert_eq(timerfd_settime(fd, 0, &its, NULL), 0);
	cr_assert_eq(
		evloop_add(&loop, &src, fd, POLLIN, false, settle_cb, &fired),
		0);
	while (!fired)
		cr_assert_eq(evloop_run(&loop), 0);
	evloop_remove(&src);
	close(fd);
}

static bool all_bytes(uint64_t addr, uint64_t len, uint8_t v)
{
	const uint8_t *p = gpa(addr);

	for (uint64_t i = 0; i < len; i++)
		if (p[i] != v)
			return false;
	return true;
}

/* DATA_LEN random bytes at @at and not beyond; P(all zero) = 2^-512. */
static void assert_random_bytes_at(uint64_t at)
{
	cr_assert_not(all_bytes(at, DATA_LEN, 0), "random bytes at 0x%llx",
		      (unsigned long long)at);
	cr_assert(all_bytes(at + DATA_LEN, PAGE - DATA_LEN, 0),
		  "nothing past the buffer");
}

static void assert_no_identity_writes(void)
{
	cr_assert(all_bytes(DATA_IOVA, PAGE, POISON),
		  "the GPA numbered like the data IOVA is untouched");
	cr_assert(all_bytes(RNG_RING_IOVA, RNG_RING_SIZE, POISON),
		  "the GPAs numbered like the ring IOVAs are untouched");
}

static void assert_fault(unsigned int i, uint8_t reason, uint32_t flags,
			 uint64_t address)
{
	const uint32_t *used = gpa(eq.used);
	const struct virtio_iommu_fault *f = event(i);
	/* Every record nestbox posts carries the faulting address. */
	uint32_t got = f->flags;

	flags |= VIRTIO_IOMMU_FAULT_F_ADDRESS;
	cr_assert_eq(used[2 + 2 * i], sizeof(*f), "event %u used length", i);
	cr_assert_eq(f->reason, reason, "event %u reason", i);
	cr_assert_eq(got, flags, "event %u flags 0x%x", i, f->flags);
	cr_assert_eq(f->endpoint, RNG_EP, "event %u endpoint", i);
	cr_assert_eq(f->address, address, "event %u address", i);
}

TestSuite(viommu_devices, .init = setup, .fini = teardown, .timeout = 10);

Test(viommu_devices, a_mapped_buffer_gets_random_bytes_at_its_translated_gpa)
{
	rng_start_translated(1);
	cr_assert_eq(map_data(1, DATA_GPA), VIRTIO_IOMMU_S_OK);

	cr_assert_eq(rng_request(DATA_IOVA, DATA_LEN), DATA_LEN);
	assert_random_bytes_at(DATA_GPA);
	assert_no_identity_writes();
	cr_assert_eq(rng.bytes_served, DATA_LEN);
	cr_assert_eq(atomic_load(&rng.vdev.dma_faults), 0);
	cr_assert_eq(viommu.faults_reported, 0);
	cr_assert_eq(viommu.faults_dropped, 0);
	assert_device_live();
}

Test(viommu_devices, an_unmapped_buffer_comes_back_empty_with_a_fault_record)
{
	rng_start_translated(1);
	cr_assert_eq(map_data(1, DATA_GPA), VIRTIO_IOMMU_S_OK);
	cr_assert_eq(rng_request(DATA_IOVA, DATA_LEN), DATA_LEN);

	cr_assert_eq(unmap(1, DATA_IOVA, DATA_IOVA + PAGE - 1),
		     VIRTIO_IOMMU_S_OK);
	memset(gpa(DATA_GPA), 0, PAGE);
	post_events(1);
	cr_assert_eq(rng_request(DATA_IOVA, DATA_LEN), 0);
	cr_assert_eq(atomic_load(&rng.vdev.dma_faults), 1);
	cr_assert(all_bytes(DATA_GPA, PAGE, 0), "nothing written");
	cr_assert_eq(rng.bytes_served, DATA_LEN, "only the first request");
	cr_assert_eq(used_idx(&eq), 1);
	assert_fault(0, VIRTIO_IOMMU_FAULT_R_MAPPING,
		     VIRTIO_IOMMU_FAULT_F_WRITE | VIRTIO_IOMMU_FAULT_F_ADDRESS,
		     DATA_IOVA);
	cr_assert_eq(viommu.faults_reported, 1);
	cr_assert_eq(viommu.faults_dropped, 0);
	assert_device_live();

	/* The driver maps the page again: the same queue carries on. */
	cr_assert_eq(map_data(1, DATA_GPA), VIRTIO_IOMMU_S_OK);
	cr_assert_eq(rng_request(DATA_IOVA, DATA_LEN), DATA_LEN);
	assert_random_bytes_at(DATA_GPA);
	assert_no_identity_writes();
	cr_assert_eq(atomic_load(&rng.vdev.dma_faults), 1);
	assert_device_live();
}

Test(viommu_devices, a_full_eventq_drops_the_fault_and_the_request_completes)
{
	rng_start_translated(1);

	/* No event buffer posted, and the data page never mapped. */
	cr_assert_eq(rng_request(DATA_IOVA, DATA_LEN), 0);
	cr_assert_eq(viommu.faults_dropped, 1);
	cr_assert_eq(viommu.faults_reported, 0);
	cr_assert_eq(used_idx(&eq), 0);
	cr_assert_eq(atomic_load(&rng.vdev.dma_faults), 1);
	/* The device did not wait for an event buffer: the next one too. */
	cr_assert_eq(rng_request(DATA_IOVA, DATA_LEN), 0);
	cr_assert_eq(viommu.faults_dropped, 2);
	cr_assert_eq(atomic_load(&rng.vdev.dma_faults), 2);
	cr_assert_eq(rng.bytes_served, 0);
	assert_no_identity_writes();
	assert_device_live();
}

Test(viommu_devices, a_driver_refusing_access_platform_never_starts_the_device)
{
	uint32_t status;

	mwr(&rm, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	cr_assert(mrd(&rm, VIRTIO_MMIO_DEVICE_FEATURES) &
			  1u << (VIRTIO_F_ACCESS_PLATFORM - 32),
		  "ACCESS_PLATFORM offered");
	/*
	 * The rng's DMA would reach all of RAM (a bypass domain): only the
	 * refused negotiation keeps it away from the buffer.
	 */
	cr_assert_eq(attach_flags(3, RNG_EP, VIRTIO_IOMMU_ATTACH_F_BYPASS),
		     VIRTIO_IOMMU_S_OK);
	cr_assert_not(mmio_negotiate(&rm, 1ULL << VIRTIO_F_VERSION_1));
	status = mrd(&rm, VIRTIO_MMIO_STATUS);
	cr_assert_not(status & VIRTIO_STATUS_FEATURES_OK);

	/* A driver that carries on regardless: rings and a buffer at GPAs. */
	memset(gpa(RNG_RING_GPA), 0, RNG_RING_SIZE);
	rr = ring_at(RNG_RING_GPA);
	mmio_setup_queue(&rm, 0, rr.desc, rr.avail, rr.used);
	status = mmio_driver_ok(&rm);
	cr_assert_not(status & VIRTIO_STATUS_DRIVER_OK, "status 0x%x", status);
	add_buf(&rr, 0, DATA_GPA, DATA_LEN, VIRTQ_DESC_F_WRITE, 0);
	publish(&rr, 0);
	mwr(&rm, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	settle();
	cr_assert_eq(used_idx(&rr), 0);
	cr_assert(all_bytes(DATA_GPA, PAGE, 0), "nothing written");
	cr_assert_eq(rng.bytes_served, 0);

	/* The same device serves a driver that accepts the feature. */
	cr_assert(rng_start(RNG_RING_GPA) & VIRTIO_STATUS_DRIVER_OK);
	cr_assert_eq(rng_request(DATA_GPA, DATA_LEN), DATA_LEN);
	assert_random_bytes_at(DATA_GPA);
}

Test(viommu_devices, bypass_config_lets_an_unattached_endpoint_use_gpas,
     .init = setup_bypass, .fini = teardown)
{
	uint32_t status = rng_start(RNG_RING_GPA);

	cr_assert(status & VIRTIO_STATUS_DRIVER_OK);
	cr_assert_eq(rng_request(DATA_GPA, DATA_LEN), DATA_LEN);
	assert_random_bytes_at(DATA_GPA);
	cr_assert_eq(viommu.faults_reported + viommu.faults_dropped, 0);
	assert_device_live();
}

Test(viommu_devices, without_bypass_an_unattached_endpoint_faults_domain)
{
	uint32_t status;

	post_events(4);
	/* Not even the rings are reachable: the device cannot start. */
	status = rng_start(RNG_RING_GPA);
	cr_assert(status & VIRTIO_STATUS_DEVICE_NEEDS_RESET, "status 0x%x",
		  status);
	cr_assert_eq(used_idx(&eq), 3, "desc, avail and used rings");
	assert_fault(0, VIRTIO_IOMMU_FAULT_R_DOMAIN, VIRTIO_IOMMU_FAULT_F_READ,
		     rr.desc);
	assert_fault(1, VIRTIO_IOMMU_FAULT_R_DOMAIN, VIRTIO_IOMMU_FAULT_F_READ,
		     rr.avail);
	assert_fault(2, VIRTIO_IOMMU_FAULT_R_DOMAIN, VIRTIO_IOMMU_FAULT_F_WRITE,
		     rr.used);
	cr_assert(all_bytes(rr.used, PAGE, 0), "used ring untouched");
}

Test(viommu_devices, reattach_and_detach_drop_the_translations)
{
	post_events(2);
	rng_start_translated(1);
	cr_assert_eq(map_data(1, DATA_GPA), VIRTIO_IOMMU_S_OK);
	cr_assert_eq(rng_request(DATA_IOVA, DATA_LEN), DATA_LEN);
	assert_random_bytes_at(DATA_GPA);

	/*
	 * Moved to domain 2: domain 1 and its mappings are gone. Like Linux,
	 * the driver maps the rings in the new domain before more DMA.
	 */
	cr_assert_eq(attach(2, RNG_EP), VIRTIO_IOMMU_S_OK);
	cr_assert_eq(map(2, RNG_RING_IOVA, RNG_RING_IOVA + RNG_RING_SIZE - 1,
			 RNG_RING_GPA, RW),
		     VIRTIO_IOMMU_S_OK);
	memset(gpa(DATA_GPA), 0, PAGE);
	cr_assert_eq(rng_request(DATA_IOVA, DATA_LEN), 0);
	cr_assert(all_bytes(DATA_GPA, PAGE, 0), "old mapping not used");
	assert_fault(0, VIRTIO_IOMMU_FAULT_R_MAPPING,
		     VIRTIO_IOMMU_FAULT_F_WRITE | VIRTIO_IOMMU_FAULT_F_ADDRESS,
		     DATA_IOVA);

	/* Domain 2's own data mapping: the same IOVA lands elsewhere. */
	cr_assert_eq(map_data(2, DATA_GPA2), VIRTIO_IOMMU_S_OK);
	cr_assert_eq(rng_request(DATA_IOVA, DATA_LEN), DATA_LEN);
	assert_random_bytes_at(DATA_GPA2);
	cr_assert(all_bytes(DATA_GPA, PAGE, 0));
	cr_assert_eq(atomic_load(&rng.vdev.dma_faults), 1);
	assert_no_identity_writes();
	assert_device_live();
}

/*
 * Translations of the rings are not kept past an UNMAP or DETACH: the
 * device translates them again, and when they are gone it can no longer
 * work (NEEDS_RESET) instead of using memory the guest took back.
 */
Test(viommu_devices, detach_takes_the_rings_away_too)
{
	uint16_t idx_before;

	post_events(4);
	rng_start_translated(1);
	cr_assert_eq(map_data(1, DATA_GPA), VIRTIO_IOMMU_S_OK);
	cr_assert_eq(rng_request(DATA_IOVA, DATA_LEN), DATA_LEN);
	idx_before = used_idx(&rr);

	/* Detached, without config.bypass: no domain, no DMA at all. */
	cr_assert_eq(detach(1, RNG_EP), VIRTIO_IOMMU_S_OK);
	memset(gpa(DATA_GPA), 0, PAGE);
	add_buf(&rr, rr.avail_idx % QSIZE, DATA_IOVA, DATA_LEN,
		VIRTQ_DESC_F_WRITE, 0);
	publish(&rr, rr.avail_idx % QSIZE);
	mwr(&rm, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	pumping = true;
	while (!(mrd(&rm, VIRTIO_MMIO_STATUS) &
		 VIRTIO_STATUS_DEVICE_NEEDS_RESET))
		cr_assert_eq(evloop_run(&loop), 0);
	pumping = false;
	cr_assert_eq(used_idx(&rr), idx_before, "no completion written");
	cr_assert(all_bytes(DATA_GPA, PAGE, 0), "detached mapping not used");
	cr_assert_geq(used_idx(&eq), 1, "the ring fault was reported");
	cr_assert_eq(event(0)->reason, VIRTIO_IOMMU_FAULT_R_DOMAIN);
	assert_no_identity_writes();
}

Test(viommu_devices, a_bypass_domain_gives_the_device_identity_dma)
{
	uint32_t status;

	cr_assert_eq(attach_flags(3, RNG_EP, VIRTIO_IOMMU_ATTACH_F_BYPASS),
		     VIRTIO_IOMMU_S_OK);
	status = rng_start(RNG_RING_GPA);
	cr_assert(status & VIRTIO_STATUS_DRIVER_OK);
	cr_assert_eq(rng_request(DATA_GPA, DATA_LEN), DATA_LEN);
	assert_random_bytes_at(DATA_GPA);
	cr_assert_eq(viommu.faults_reported + viommu.faults_dropped, 0);
	cr_assert_eq(atomic_load(&rng.vdev.dma_faults), 0);
	assert_device_live();
}
