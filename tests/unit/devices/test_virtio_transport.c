// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-rng driven like a guest driver over both transports: feature
 * negotiation, queue set-up, a request through the event loop, interrupts;
 * then a malicious ring puts one device in DEVICE_NEEDS_RESET while a
 * second device keeps working.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "devices/virtio/virtio_mmio.h"
#include "devices/virtio/virtio_pci.h"
#include "devices/virtio/virtio_rng.h"
#include "vmm/evloop.h"

#define RAM_BASE 0x80000000ULL
#define RAM_SIZE (1 << 20)
static uint8_t ram[RAM_SIZE] __attribute__((aligned(4096)));
static struct guest_mem mem;
static struct evloop loop;

#define QSIZE 16 /* the driver's QueueNum */
#include "virtio_test_ring.h"

struct irq_log {
	int spi_level;
	int spi_raises;
};
static struct irq_log irqs;

static void fake_set_spi(void *o, unsigned int spi, bool level)
{
	(void)o;
	(void)spi;
	if (level && !irqs.spi_level)
		irqs.spi_raises++;
	irqs.spi_level = level;
	evloop_stop(&loop); /* an interrupt ends a pump */
}

static const struct host_ops host = {
	.set_spi = fake_set_spi,
	.loop = &loop,
};

static void setup(void)
{
	memset(ram, 0, sizeof(ram));
	memset(&irqs, 0, sizeof(irqs));
	gmem_wrap(&mem, RAM_BASE, ram, RAM_SIZE);
	cr_assert_eq(evloop_init(&loop, 32), 0);
}

static void teardown(void)
{
	evloop_destroy(&loop);
}

/* Run the loop until something interrupts the driver (suite timeout). */
static void pump(void)
{
	evloop_run(&loop);
}

/* ---- MMIO ---- */

static void mmio_driver_init(struct virtio_mmio *m, struct ring *r)
{
	cr_assert_eq(mrd(m, VIRTIO_MMIO_MAGIC_VALUE), VIRTIO_MMIO_MAGIC);
	cr_assert_eq(mrd(m, VIRTIO_MMIO_VERSION), 2);
	cr_assert_eq(mrd(m, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_RNG);
	mwr(m, VIRTIO_MMIO_STATUS, 0);
	mwr(m, VIRTIO_MMIO_STATUS,
	    VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	mwr(m, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	cr_assert(mrd(m, VIRTIO_MMIO_DEVICE_FEATURES) & 1, "VERSION_1");
	mwr(m, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	mwr(m, VIRTIO_MMIO_DRIVER_FEATURES, 1);
	mwr(m, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	mwr(m, VIRTIO_MMIO_DRIVER_FEATURES, 0);
	mwr(m, VIRTIO_MMIO_STATUS,
	    VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
		    VIRTIO_STATUS_FEATURES_OK);
	cr_assert(mrd(m, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK);
	mwr(m, VIRTIO_MMIO_QUEUE_SEL, 0);
	cr_assert_eq(mrd(m, VIRTIO_MMIO_QUEUE_NUM_MAX), VIRTQ_SIZE_MAX);
	mwr(m, VIRTIO_MMIO_QUEUE_NUM, 16);
	mwr(m, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)r->desc);
	mwr(m, VIRTIO_MMIO_QUEUE_DESC_HIGH, r->desc >> 32);
	mwr(m, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)r->avail);
	mwr(m, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, r->avail >> 32);
	mwr(m, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)r->used);
	mwr(m, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, r->used >> 32);
	mwr(m, VIRTIO_MMIO_QUEUE_READY, 1);
	mwr(m, VIRTIO_MMIO_STATUS,
	    VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
		    VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	cr_assert(mrd(m, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DRIVER_OK);
}

TestSuite(virtio_mmio, .init = setup, .fini = teardown, .timeout = 20);

Test(virtio_mmio, rng_request_completes_with_an_interrupt)
{
	static struct virtio_rng rng;
	static struct virtio_mmio m;
	struct ring r = ring_at(RAM_BASE + 0x10000);

	virtio_rng_init(&rng, &mem);
	cr_assert_eq(virtio_mmio_init(&m, &rng.vdev, &host, 0x0b000000, 16), 0);
	mmio_driver_init(&m, &r);
	add_buf(&r, 0, r.buf, 64, VIRTQ_DESC_F_WRITE, 0);
	publish(&r, 0);
	mwr(&m, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	pump();
	cr_assert_eq(used_idx(&r), 1);
	cr_assert_eq(((uint32_t *)gpa(r.used))[2], 64, "used len");
	cr_assert(irqs.spi_level);
	cr_assert(mrd(&m, VIRTIO_MMIO_INTERRUPT_STATUS) &
		  VIRTIO_MMIO_INT_VRING);
	mwr(&m, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
	cr_assert_not(irqs.spi_level);
	cr_assert_eq(rng.bytes_served, 64);
}

Test(virtio_mmio, features_never_offered_are_refused)
{
	static struct virtio_rng rng;
	static struct virtio_mmio m;

	virtio_rng_init(&rng, &mem);
	cr_assert_eq(virtio_mmio_init(&m, &rng.vdev, NULL, 0x0b000000, 16), 0);
	mwr(&m, VIRTIO_MMIO_STATUS,
	    VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	mwr(&m, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	mwr(&m, VIRTIO_MMIO_DRIVER_FEATURES, 1 | 1 << 20); /* unknown bit 52 */
	mwr(&m, VIRTIO_MMIO_STATUS,
	    VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
		    VIRTIO_STATUS_FEATURES_OK);
	cr_assert_not(mrd(&m, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK);
	/* Legacy (no VERSION_1) drivers are refused too. */
	mwr(&m, VIRTIO_MMIO_STATUS, 0);
	mwr(&m, VIRTIO_MMIO_STATUS,
	    VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
		    VIRTIO_STATUS_FEATURES_OK);
	cr_assert_not(mrd(&m, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK);
}

Test(virtio_mmio, malicious_ring_needs_reset_and_others_keep_working)
{
	static struct virtio_rng bad, good;
	static struct virtio_mmio mb, mg;
	struct ring rb = ring_at(RAM_BASE + 0x10000);
	struct ring rg = ring_at(RAM_BASE + 0x20000);

	virtio_rng_init(&bad, &mem);
	virtio_rng_init(&good, &mem);
	cr_assert_eq(virtio_mmio_init(&mb, &bad.vdev, &host, 0x0b000000, 16),
		     0);
	cr_assert_eq(virtio_mmio_init(&mg, &good.vdev, &host, 0x0b000200, 17),
		     0);
	mmio_driver_init(&mb, &rb);
	mmio_driver_init(&mg, &rg);

	/* A descriptor loop: 0 -> 1 -> 0. */
	add_buf(&rb, 0, rb.buf, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	add_buf(&rb, 1, rb.buf, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 0);
	publish(&rb, 0);
	mwr(&mb, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	pump();
	cr_assert(mrd(&mb, VIRTIO_MMIO_STATUS) &
		  VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	cr_assert(mrd(&mb, VIRTIO_MMIO_INTERRUPT_STATUS) &
		  VIRTIO_MMIO_INT_CONFIG);
	cr_assert_eq(used_idx(&rb), 0);

	/* Further kicks are ignored until reset. */
	mwr(&mb, VIRTIO_MMIO_INTERRUPT_ACK, 3);
	mwr(&mb, VIRTIO_MMIO_QUEUE_NOTIFY, 0);

	/* The other device is untouched. */
	add_buf(&rg, 0, rg.buf, 32, VIRTQ_DESC_F_WRITE, 0);
	publish(&rg, 0);
	mwr(&mg, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	pump();
	cr_assert_eq(used_idx(&rg), 1);
	cr_assert_not(mrd(&mg, VIRTIO_MMIO_STATUS) &
		      VIRTIO_STATUS_DEVICE_NEEDS_RESET);

	/* A reset brings the broken one back. */
	mwr(&mb, VIRTIO_MMIO_STATUS, 0);
	cr_assert_eq(mrd(&mb, VIRTIO_MMIO_STATUS), 0);
	memset(gpa(rb.desc), 0, 0x3000);
	rb.avail_idx = 0;
	mmio_driver_init(&mb, &rb);
	add_buf(&rb, 0, rb.buf, 16, VIRTQ_DESC_F_WRITE, 0);
	publish(&rb, 0);
	mwr(&mb, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	pump();
	cr_assert_eq(used_idx(&rb), 1);
}

Test(virtio_mmio, ring_outside_ram_fails_driver_ok)
{
	static struct virtio_rng rng;
	static struct virtio_mmio m;
	struct ring r = ring_at(RAM_BASE + RAM_SIZE -
				0x1000); /* used ring beyond RAM */

	virtio_rng_init(&rng, &mem);
	cr_assert_eq(virtio_mmio_init(&m, &rng.vdev, &host, 0x0b000000, 16), 0);
	mwr(&m, VIRTIO_MMIO_STATUS, 0);
	mwr(&m, VIRTIO_MMIO_STATUS, 3);
	mwr(&m, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	mwr(&m, VIRTIO_MMIO_DRIVER_FEATURES, 1);
	mwr(&m, VIRTIO_MMIO_STATUS, 3 | VIRTIO_STATUS_FEATURES_OK);
	mwr(&m, VIRTIO_MMIO_QUEUE_NUM, 16);
	mwr(&m, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)r.desc);
	mwr(&m, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)r.avail);
	mwr(&m, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)r.used);
	mwr(&m, VIRTIO_MMIO_QUEUE_READY, 1);
	mwr(&m, VIRTIO_MMIO_STATUS,
	    3 | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	cr_assert(mrd(&m, VIRTIO_MMIO_STATUS) &
		  VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	/* Bad register widths are ignored, not fatal. */
	cr_assert_eq(virtio_mmio_ops.read(&m, VIRTIO_MMIO_STATUS, 2), 0);
}

/* ---- PCI ---- */

static uint64_t prd(struct virtio_pci *vp, uint64_t off, unsigned int len)
{
	return vp->pdev.bars[VIRTIO_PCI_BAR].ops->read(vp, off, len);
}

static void pwr(struct virtio_pci *vp, uint64_t off, uint64_t v,
		unsigned int len)
{
	vp->pdev.bars[VIRTIO_PCI_BAR].ops->write(vp, off, v, len);
}

TestSuite(virtio_pci, .init = setup, .fini = teardown, .timeout = 20);

Test(virtio_pci, capabilities_describe_the_bar)
{
	static struct virtio_rng rng;
	static struct virtio_pci vp;
	unsigned int types = 0;

	virtio_rng_init(&rng, &mem);
	cr_assert_eq(virtio_pci_init(&vp, &rng.vdev, 0xff0000, NULL, true), 0);
	cr_assert_eq(pci_cfg_get16(&vp.pdev, PCI_DEVICE_ID),
		     0x1040 + VIRTIO_ID_RNG);
	cr_assert_geq(vp.pdev.cfg[PCI_REVISION_ID], 1);
	for (unsigned int p = vp.pdev.cfg[PCI_CAPABILITY_LIST]; p;
	     p = vp.pdev.cfg[p + 1]) {
		if (vp.pdev.cfg[p] != PCI_CAP_ID_VNDR)
			continue;
		cr_assert_eq(vp.pdev.cfg[p + 4], VIRTIO_PCI_BAR);
		types |= 1u << vp.pdev.cfg[p + 3];
	}
	cr_assert_eq(types & 0x0e, 0x0e, "common, notify and ISR caps");
	cr_assert_not(types & (1u << VIRTIO_PCI_CAP_DEVICE_CFG),
		      "rng has no device config");
}

Test(virtio_pci, rng_over_pci_without_msix_uses_isr)
{
	static struct virtio_rng rng;
	static struct virtio_pci vp;
	const struct host_ops h = { .loop = &loop };
	struct ring r = ring_at(RAM_BASE + 0x10000);

	virtio_rng_init(&rng, &mem);
	cr_assert_eq(virtio_pci_init(&vp, &rng.vdev, 0xff0000, &h, true), 0);
	pwr(&vp, VIRTIO_PCI_COMMON_STATUS, 3, 1);
	pwr(&vp, VIRTIO_PCI_COMMON_DFSELECT, 1, 4);
	cr_assert(prd(&vp, VIRTIO_PCI_COMMON_DF, 4) & 1);
	pwr(&vp, VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
	pwr(&vp, VIRTIO_PCI_COMMON_GF, 1, 4);
	pwr(&vp, VIRTIO_PCI_COMMON_STATUS, 3 | VIRTIO_STATUS_FEATURES_OK, 1);
	cr_assert(prd(&vp, VIRTIO_PCI_COMMON_STATUS, 1) &
		  VIRTIO_STATUS_FEATURES_OK);
	cr_assert_eq(prd(&vp, VIRTIO_PCI_COMMON_NUMQ, 2), 1);
	pwr(&vp, VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
	pwr(&vp, VIRTIO_PCI_COMMON_Q_SIZE, 16, 2);
	pwr(&vp, VIRTIO_PCI_COMMON_Q_DESCLO, (uint32_t)r.desc, 4);
	pwr(&vp, VIRTIO_PCI_COMMON_Q_DESCHI, r.desc >> 32, 4);
	pwr(&vp, VIRTIO_PCI_COMMON_Q_AVAILLO, (uint32_t)r.avail, 4);
	pwr(&vp, VIRTIO_PCI_COMMON_Q_AVAILHI, 0, 4);
	pwr(&vp, VIRTIO_PCI_COMMON_Q_USEDLO, (uint32_t)r.used, 4);
	pwr(&vp, VIRTIO_PCI_COMMON_Q_USEDHI, 0, 4);
	/* A vector beyond the table reads back as NO_VECTOR. */
	pwr(&vp, VIRTIO_PCI_COMMON_Q_MSIX, 40, 2);
	cr_assert_eq(prd(&vp, VIRTIO_PCI_COMMON_Q_MSIX, 2),
		     VIRTIO_MSI_NO_VECTOR);
	pwr(&vp, VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
	pwr(&vp, VIRTIO_PCI_COMMON_STATUS,
	    3 | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK, 1);
	/* An enabled queue cannot be moved. */
	pwr(&vp, VIRTIO_PCI_COMMON_Q_DESCLO, 0x1000, 4);
	cr_assert_eq(prd(&vp, VIRTIO_PCI_COMMON_Q_DESCLO, 4), (uint32_t)r.desc);

	add_buf(&r, 0, r.buf, 100, VIRTQ_DESC_F_WRITE, 0);
	publish(&r, 0);
	pwr(&vp, VIRTIO_PCI_NOTIFY_OFF, 0, 2);
	/* No MSI-X: the ISR is the only trace; poll for completion. */
	for (int i = 0; i < 100 && used_idx(&r) != 1; i++) {
		evloop_stop(&loop);
		evloop_run(&loop);
		usleep(1000);
	}
	cr_assert_eq(used_idx(&r), 1);
	cr_assert_eq(prd(&vp, VIRTIO_PCI_ISR_OFF, 1), VIRTIO_PCI_ISR_QUEUE);
	cr_assert_eq(prd(&vp, VIRTIO_PCI_ISR_OFF, 1), 0,
		     "reading clears the ISR");
	/* Wrong access widths on the common config are ignored. */
	cr_assert_eq(prd(&vp, VIRTIO_PCI_COMMON_STATUS, 4), 0);
	msix_destroy(&vp.msix);
}

/* ---- MMIO interrupts through an irqfd with resample ---- */

static int irqfd_fd = -1, irqfd_resample = -1, irqfd_spi = -1;

static int fake_spi_irqfd(void *o, unsigned int spi, int fd, int resample_fd)
{
	(void)o;
	irqfd_spi = spi;
	irqfd_fd = fd;
	irqfd_resample = resample_fd;
	return 0;
}

static uint64_t drain(int fd)
{
	uint64_t v = 0;

	if (read(fd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

static void stop_loop_soon(void)
{
	uint64_t one = 1;

	/* The loop runs the resample callback, then stops. */
	cr_assert_eq(write(irqfd_resample, &one, 8), 8);
	evloop_stop(&loop);
	evloop_run(&loop);
}

Test(virtio_mmio, irqfd_asserts_and_resample_reasserts_while_pending)
{
	static struct virtio_rng rng;
	static struct virtio_mmio m;
	const struct host_ops h = { .spi_irqfd = fake_spi_irqfd,
				    .loop = &loop };
	struct ring r = ring_at(RAM_BASE + 0x10000);

	virtio_rng_init(&rng, &mem);
	cr_assert_eq(virtio_mmio_init(&m, &rng.vdev, &h, 0x0b000000, 21), 0);
	cr_assert_eq(irqfd_spi, 21);
	mmio_driver_init(&m, &r);
	add_buf(&r, 0, r.buf, 16, VIRTQ_DESC_F_WRITE, 0);
	publish(&r, 0);
	mwr(&m, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	for (int i = 0; i < 100 && used_idx(&r) != 1; i++) {
		evloop_stop(&loop);
		evloop_run(&loop);
		usleep(1000);
	}
	cr_assert_eq(used_idx(&r), 1);
	cr_assert_gt(drain(irqfd_fd), 0, "the used buffer asserted the line");

	/* EOI without an acknowledge: the line must come back. */
	stop_loop_soon();
	cr_assert_gt(drain(irqfd_fd), 0, "re-asserted on resample");

	/* Acknowledged, then EOI: it stays low. */
	mwr(&m, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
	stop_loop_soon();
	cr_assert_eq(drain(irqfd_fd), 0, "nothing pending, nothing asserted");
}
