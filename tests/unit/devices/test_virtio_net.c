// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-net driven the way a guest driver would: rings in a fake guest
 * memory, a real event loop and io_uring, and a SOCK_SEQPACKET socketpair
 * standing in for the tap (one datagram per frame, header included). One
 * test uses a real tap when /dev/net/tun is there.
 */
#include <criterion/criterion.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "devices/virtio/virtio_net.h"
#include "vmm/evloop.h"
#include "vmm/guest_mem.h"

#define RAM_BASE 0x80000000ULL
#define RAM_SIZE (8u << 20)

/* Guest RAM layout (offsets from RAM_BASE). */
#define RING_AREA    0x000000 /* RING_STRIDE per (driver, queue) */
#define RING_STRIDE  0x4000
#define DESC_OFF     0x0000
#define AVAIL_OFF    0x1000
#define USED_OFF     0x2000
#define SCRATCH_AREA 0x100000 /* headers, indirect tables */
#define SCRATCH_END  0x200000
#define TX_AREA	     0x200000 /* frames the driver sends */
#define RX_AREA	     0x400000 /* buffers it receives into */

#define MAX_DRIVERS  4
#define NUM_QUEUES   2
#define RXQ	     VIRTIO_NET_RXQ
#define TXQ	     VIRTIO_NET_TXQ
#define HDR	     VIRTIO_NET_HDR_LEN
#define RX_BUF	     1526 /* what Linux posts without MRG_RXBUF: 12 + 1514 */
#define ALL_FEATURES (~0ULL)
#define WAIT_SECONDS 10
#define UNTOUCHED    0xaa

static uint8_t ram[RAM_SIZE] __attribute__((aligned(4096)));
static struct guest_mem mem;
static struct evloop loop;
static int tick_fd = -1;
static struct evloop_source tick_src;

#define DRV_QUEUES NUM_QUEUES
#define DRV_DEVICE_FIELDS       \
	struct virtio_net *net; \
	int peer; /* the other end of the backend socketpair, or -1 */
#include "virtio_test_driver.h"

static struct drv drivers[MAX_DRIVERS];
static unsigned int num_drivers;

static void setup(void)
{
	struct itimerspec its = {
		.it_interval = { .tv_nsec = 2000000 },
		.it_value = { .tv_nsec = 2000000 },
	};

	/* A write to a closed peer must fail, not kill the test. */
	signal(SIGPIPE, SIG_IGN);
	gmem_wrap(&mem, RAM_BASE, ram, RAM_SIZE);
	memset(ram, 0, RAM_SIZE);
	cr_assert_eq(evloop_init(&loop, 64), 0);
	tick_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	cr_assert_geq(tick_fd, 0);
	cr_assert_eq(timerfd_settime(tick_fd, 0, &its, NULL), 0);
	cr_assert_eq(evloop_add(&loop, &tick_src, tick_fd, POLLIN, true,
				tick_cb, NULL),
		     0);
}

static void teardown(void)
{
	/* First the ring: afterwards no completion can reach a device. */
	evloop_destroy(&loop);
	for (unsigned int i = 0; i < num_drivers; i++) {
		virtio_net_destroy(drivers[i].net);
		if (drivers[i].peer >= 0)
			close(drivers[i].peer);
	}
	close(tick_fd);
}

TestSuite(virtio_net, .init = setup, .fini = teardown, .timeout = 30);

static struct drv *drv_attach(struct virtio_net *net, int peer)
{
	struct drv *d = &drivers[num_drivers];

	memset(d, 0, sizeof(*d));
	d->index = num_drivers++;
	d->net = net;
	d->peer = peer;
	d->vdev = virtio_net_vdev(net);
	d->vdev->tops = &fake_tops;
	d->vdev->transport = d;
	cr_assert_eq(virtio_setup_kicks(d->vdev, &loop), 0);
	return d;
}

/* A device over a socketpair; the test holds the peer end. */
static struct drv *drv_new_flags(unsigned int flags, const char *mac)
{
	struct virtio_net_opts o;
	struct virtio_net *net;
	char err[256] = "", arg[64];
	int sv[2], r;

	cr_assert_lt(num_drivers, MAX_DRIVERS);
	snprintf(arg, sizeof(arg), "tap=sp%u%s%s", num_drivers,
		 mac ? ",mac=" : "", mac ? mac : "");
	cr_assert_eq(virtio_net_parse(arg, &o, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv),
		     0);
	r = virtio_net_create_fd(&net, sv[0], flags, &o, &mem, &loop, err,
				 sizeof(err));
	cr_assert_eq(r, 0, "create: %d %s", r, err);
	return drv_attach(net, sv[1]);
}

static struct drv *drv_new(void)
{
	return drv_new_flags(VIRTIO_NET_FD_VNET_HDR, NULL);
}

/* The driver side of 3.1.1, then DRIVER_OK with both queues of @size. */
static void drv_start(struct drv *d, uint64_t want, uint16_t size)
{
	drv_start_queues(d, want, NUM_QUEUES, size);
}

/* Run the loop for @ms milliseconds (the tick stops it every 2 ms). */
static void spin(unsigned int ms)
{
	double end = now() + ms / 1000.0;

	while (now() < end)
		cr_assert_eq(evloop_run(&loop), 0);
}

static void run_until_idle(struct drv *d)
{
	double deadline = now() + WAIT_SECONDS;

	while (virtio_net_inflight(d->net)) {
		cr_assert_lt(now(), deadline, "I/O never completed");
		cr_assert_eq(evloop_run(&loop), 0);
	}
}

static void wait_needs_reset(struct drv *d)
{
	double deadline = now() + WAIT_SECONDS;

	while (!(virtio_get_status(d->vdev) &
		 VIRTIO_STATUS_DEVICE_NEEDS_RESET)) {
		cr_assert_lt(now(), deadline, "device never asked for a reset");
		cr_assert_eq(evloop_run(&loop), 0);
	}
}

static void assert_live(struct drv *d)
{
	uint8_t s = virtio_get_status(d->vdev);

	cr_assert(s & VIRTIO_STATUS_DRIVER_OK);
	cr_assert_not(s & VIRTIO_STATUS_DEVICE_NEEDS_RESET, "status 0x%x", s);
}

static struct virtio_net_stats stats(struct drv *d)
{
	struct virtio_net_stats s;

	virtio_net_get_stats(d->net, &s);
	return s;
}

static void fill_pattern(uint8_t *p, size_t len, uint64_t seed)
{
	uint64_t x = seed | 1;

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (uint8_t)x;
	}
}

static struct virtio_net_hdr_v1 make_hdr(uint8_t flags, uint16_t csum_start,
					 uint16_t csum_offset)
{
	struct virtio_net_hdr_v1 h = {
		.flags = flags,
		.csum_start = htole16(csum_start),
		.csum_offset = htole16(csum_offset),
	};

	return h;
}

/* ---- the driver transmits ---- */

/* Header and frame at @off in guest memory, as @nsegs descriptors. */
static uint16_t submit_tx(struct drv *d, uint64_t off,
			  const struct virtio_net_hdr_v1 *h, uint32_t frame_len,
			  unsigned int nsegs, bool indirect)
{
	uint32_t total = HDR + frame_len, done = 0;
	struct seg segs[8];

	cr_assert_leq(nsegs, 8);
	memcpy(gpa(off), h, HDR);
	for (unsigned int i = 0; i < nsegs; i++) {
		/* Uneven pieces: the first ones cut through the header. */
		uint32_t piece = i + 1 == nsegs ? total - done : 5 + 7 * i;

		segs[i] = (struct seg){ off + done, piece, false };
		done += piece;
	}
	return indirect ? drv_add_indirect(d, TXQ, segs, nsegs)
			: drv_add(d, TXQ, segs, nsegs);
}

/* The next datagram on the peer end, or -errno. */
static ssize_t peer_recv(struct drv *d, void *buf, size_t len)
{
	ssize_t n = recv(d->peer, buf, len, MSG_DONTWAIT);

	return n < 0 ? -errno : n;
}

Test(virtio_net, tx_frames_arrive_intact)
{
	static const uint32_t lens[] = { 60, 1514, 333, 9000 };
	static const unsigned int nsegs[] = { 1, 4, 2, 6 };
	struct drv *d = drv_new();
	static uint8_t got[16384];
	uint16_t heads[4];
	uint64_t off[4];
	uint32_t id, len;

	drv_start(d, ALL_FEATURES, 64);
	cr_assert(d->features & (1ULL << VIRTIO_NET_F_CSUM));
	for (int i = 0; i < 4; i++) {
		struct virtio_net_hdr_v1 h = make_hdr(
			i == 1 ? VIRTIO_NET_HDR_F_NEEDS_CSUM : 0, 34, 16);

		off[i] = TX_AREA + 0x4000 * i;
		fill_pattern(gpa(off[i] + HDR), lens[i], 100 + i);
		heads[i] = submit_tx(d, off[i], &h, lens[i], nsegs[i], i == 3);
	}
	virtio_kick(d->vdev, TXQ);
	drv_wait(d, TXQ, 4);
	for (int i = 0; i < 4; i++) {
		drv_take_used(d, TXQ, &id, &len);
		cr_assert_eq(id, heads[i]);
		cr_assert_eq(len, 0);
	}
	/* One datagram per frame, in order, header included. */
	for (int i = 0; i < 4; i++) {
		ssize_t n = peer_recv(d, got, sizeof(got));

		cr_assert_eq(n, HDR + lens[i], "frame %d: %zd", i, n);
		cr_assert_eq(memcmp(got, gpa(off[i]), HDR + lens[i]), 0,
			     "frame %d differs", i);
	}
	cr_assert_eq(peer_recv(d, got, sizeof(got)), -EAGAIN);
	cr_assert_eq(stats(d).tx_frames, 4);
	cr_assert_eq(stats(d).tx_dropped, 0);
	cr_assert_geq(d->irqs, 1);
	assert_live(d);
}

Test(virtio_net, tx_header_is_sent_as_checked_not_as_rewritten)
{
	struct drv *d = drv_new();
	struct virtio_net_hdr_v1 h = make_hdr(0, 0, 0), *g;
	uint8_t got[256];
	uint32_t id, len;

	drv_start(d, ALL_FEATURES, 16);
	fill_pattern(gpa(TX_AREA + HDR), 100, 3);
	submit_tx(d, TX_AREA, &h, 100, 3, false);
	/* Popped and submitted; the driver then scribbles on the header. */
	pthread_mutex_lock(&d->vdev->lock);
	d->vdev->ops->queue_notify(d->vdev, TXQ);
	pthread_mutex_unlock(&d->vdev->lock);
	g = gpa(TX_AREA);
	g->gso_type = VIRTIO_NET_HDR_GSO_UDP;
	drv_wait(d, TXQ, 1);
	drv_take_used(d, TXQ, &id, &len);
	cr_assert_eq(peer_recv(d, got, sizeof(got)), HDR + 100);
	cr_assert_eq(got[1], VIRTIO_NET_HDR_GSO_NONE);
	cr_assert_eq(memcmp(got + HDR, gpa(TX_AREA + HDR), 100), 0);
}

Test(virtio_net, tx_offloads_not_negotiated_are_dropped_and_counted)
{
	struct drv *d = drv_new();
	uint64_t want = ALL_FEATURES & ~((1ULL << VIRTIO_NET_F_CSUM) |
					 (1ULL << VIRTIO_NET_F_HOST_TSO4) |
					 (1ULL << VIRTIO_NET_F_HOST_TSO6));
	struct virtio_net_hdr_v1 csum =
		make_hdr(VIRTIO_NET_HDR_F_NEEDS_CSUM, 34, 16);
	struct virtio_net_hdr_v1 plain = make_hdr(0, 0, 0);
	uint8_t got[256];
	uint32_t id, len;
	uint16_t h1, h2, h3;

	drv_start(d, want, 16);
	h1 = submit_tx(d, TX_AREA, &csum, 100, 2, false);
	h2 = submit_tx(d, TX_AREA + 0x1000, &plain, 10, 1, false); /* runt */
	h3 = submit_tx(d, TX_AREA + 0x2000, &plain, 100, 2, false);
	virtio_kick(d->vdev, TXQ);
	drv_wait(d, TXQ, 3);
	drv_take_used(d, TXQ, &id, &len);
	cr_assert_eq(id, h1);
	drv_take_used(d, TXQ, &id, &len);
	cr_assert_eq(id, h2);
	drv_take_used(d, TXQ, &id, &len);
	cr_assert_eq(id, h3);
	cr_assert_eq(peer_recv(d, got, sizeof(got)), HDR + 100);
	cr_assert_eq(peer_recv(d, got, sizeof(got)), -EAGAIN);
	cr_assert_eq(stats(d).tx_dropped, 2);
	cr_assert_eq(stats(d).tx_frames, 1);
	assert_live(d);
}

Test(virtio_net, tx_write_error_drops_but_completes)
{
	struct drv *d = drv_new();
	struct virtio_net_hdr_v1 h = make_hdr(0, 0, 0);
	uint32_t id, len;
	uint16_t head;

	drv_start(d, ALL_FEATURES, 16);
	/* The peer going away makes the write fail (EPIPE). */
	close(d->peer);
	d->peer = -1;
	head = submit_tx(d, TX_AREA, &h, 200, 2, false);
	virtio_kick(d->vdev, TXQ);
	drv_wait(d, TXQ, 1);
	drv_take_used(d, TXQ, &id, &len);
	cr_assert_eq(id, head);
	cr_assert_eq(len, 0);
	cr_assert_eq(stats(d).tx_dropped, 1);
	assert_live(d);
}

/* ---- the driver receives ---- */

/* One RX buffer of @len bytes at @off, as @nsegs descriptors. */
static uint16_t post_rx(struct drv *d, uint64_t off, uint32_t len,
			unsigned int nsegs)
{
	struct seg segs[8];
	uint32_t done = 0;

	cr_assert_leq(nsegs, 8);
	memset(gpa(off), UNTOUCHED, len);
	for (unsigned int i = 0; i < nsegs; i++) {
		uint32_t piece = i + 1 == nsegs ? len - done : 7 + 3 * i;

		segs[i] = (struct seg){ off + done, piece, true };
		done += piece;
	}
	return drv_add(d, RXQ, segs, nsegs);
}

/* A frame of @len bytes, pattern @seed, behind header @h, from the "tap". */
static void inject(struct drv *d, const struct virtio_net_hdr_v1 *h,
		   uint32_t len, uint64_t seed)
{
	static uint8_t buf[70000];

	memcpy(buf, h, HDR);
	fill_pattern(buf + HDR, len, seed);
	cr_assert_eq(send(d->peer, buf, HDR + len, 0), (ssize_t)(HDR + len));
}

static void check_rx(uint64_t off, uint32_t len, uint64_t seed)
{
	static uint8_t want[70000];
	const struct virtio_net_hdr_v1 *h = gpa(off);

	fill_pattern(want, len, seed);
	cr_assert_eq(le16toh(h->num_buffers), 1);
	cr_assert_eq(memcmp(gpa(off + HDR), want, len), 0);
}

Test(virtio_net, rx_frame_lands_in_a_posted_buffer)
{
	struct drv *d = drv_new();
	struct virtio_net_hdr_v1 h =
		make_hdr(VIRTIO_NET_HDR_F_DATA_VALID, 0, 0);
	uint32_t id, len;
	uint16_t b0, b1;

	drv_start(d, ALL_FEATURES, 64);
	cr_assert(d->features & (1ULL << VIRTIO_NET_F_GUEST_CSUM));
	b0 = post_rx(d, RX_AREA, RX_BUF, 1);
	b1 = post_rx(d, RX_AREA + 0x1000, RX_BUF, 3);
	virtio_kick(d->vdev, RXQ);
	inject(d, &h, 1514, 1);
	inject(d, &h, 60, 2);
	drv_wait(d, RXQ, 2);
	drv_take_used(d, RXQ, &id, &len);
	cr_assert_eq(id, b0);
	cr_assert_eq(len, HDR + 1514);
	check_rx(RX_AREA, 1514, 1);
	cr_assert_eq(ram[RX_AREA], VIRTIO_NET_HDR_F_DATA_VALID);
	drv_take_used(d, RXQ, &id, &len);
	cr_assert_eq(id, b1);
	cr_assert_eq(len, HDR + 60);
	check_rx(RX_AREA + 0x1000, 60, 2);
	/* Nothing past the frame was written. */
	cr_assert_eq(ram[RX_AREA + 0x1000 + HDR + 60], UNTOUCHED);
	cr_assert_eq(stats(d).rx_frames, 2);
	cr_assert_geq(d->irqs, 1);
	assert_live(d);
}

Test(virtio_net, rx_buffers_posted_before_driver_ok_are_used)
{
	struct drv *d = drv_new();
	struct virtio_net_hdr_v1 h = make_hdr(0, 0, 0);
	uint32_t id, len;

	/* drv_start() publishes nothing; post right after DRIVER_OK, no kick.
	 */
	drv_start(d, ALL_FEATURES, 16);
	post_rx(d, RX_AREA, RX_BUF, 2);
	inject(d, &h, 100, 9);
	drv_wait(d, RXQ, 1);
	drv_take_used(d, RXQ, &id, &len);
	cr_assert_eq(len, HDR + 100);
	check_rx(RX_AREA, 100, 9);
}

Test(virtio_net, rx_without_a_buffer_waits_for_one)
{
	struct drv *d = drv_new();
	struct virtio_net_hdr_v1 h = make_hdr(0, 0, 0);
	uint32_t id, len;
	uint16_t b;

	drv_start(d, ALL_FEATURES, 16);
	virtio_kick(d->vdev, RXQ);
	inject(d, &h, 700, 4);
	inject(d, &h, 800, 5);
	spin(30);
	cr_assert_eq(used_idx(d, RXQ), 0);
	cr_assert_eq(stats(d).rx_dropped, 0);

	b = post_rx(d, RX_AREA, RX_BUF, 1);
	virtio_kick(d->vdev, RXQ);
	drv_wait(d, RXQ, 1);
	drv_take_used(d, RXQ, &id, &len);
	cr_assert_eq(id, b);
	cr_assert_eq(len, HDR + 700);
	check_rx(RX_AREA, 700, 4);

	/* The second one is still queued in the backend, not lost. */
	spin(10);
	cr_assert_eq(used_idx(d, RXQ), 1);
	b = post_rx(d, RX_AREA + 0x1000, RX_BUF, 2);
	virtio_kick(d->vdev, RXQ);
	drv_wait(d, RXQ, 1);
	drv_take_used(d, RXQ, &id, &len);
	cr_assert_eq(id, b);
	cr_assert_eq(len, HDR + 800);
	check_rx(RX_AREA + 0x1000, 800, 5);
	cr_assert_eq(stats(d).rx_dropped, 0);
}

Test(virtio_net, rx_frame_larger_than_the_chain_is_dropped)
{
	struct drv *d = drv_new();
	struct virtio_net_hdr_v1 h = make_hdr(0, 0, 0);
	uint32_t id, len;
	uint16_t b;

	drv_start(d, ALL_FEATURES, 16);
	b = post_rx(d, RX_AREA, HDR + 100, 2);
	memset(gpa(RX_AREA + HDR + 100), UNTOUCHED, 64);
	virtio_kick(d->vdev, RXQ);
	inject(d, &h, 101, 6);	/* one byte too many */
	inject(d, &h, 9000, 7); /* a jumbo frame */
	inject(d, &h, 100, 8);	/* fits exactly */
	drv_wait(d, RXQ, 1);
	drv_take_used(d, RXQ, &id, &len);
	cr_assert_eq(id, b);
	cr_assert_eq(len, HDR + 100);
	check_rx(RX_AREA, 100, 8);
	/* Never a byte past the chain. */
	for (int i = 0; i < 64; i++)
		cr_assert_eq(ram[RX_AREA + HDR + 100 + i], UNTOUCHED);
	cr_assert_eq(stats(d).rx_dropped, 2);
	cr_assert_eq(stats(d).rx_frames, 1);
	assert_live(d);
}

Test(virtio_net, rx_checksum_flags_follow_the_negotiated_features)
{
	struct drv *d = drv_new();
	struct virtio_net_hdr_v1 valid =
		make_hdr(VIRTIO_NET_HDR_F_DATA_VALID, 0, 0);
	struct virtio_net_hdr_v1 partial =
		make_hdr(VIRTIO_NET_HDR_F_NEEDS_CSUM, 34, 16);
	uint32_t id, len;

	drv_start(d, ALL_FEATURES & ~(1ULL << VIRTIO_NET_F_GUEST_CSUM), 16);
	post_rx(d, RX_AREA, RX_BUF, 1);
	virtio_kick(d->vdev, RXQ);
	/* A partial checksum the driver could not finish: dropped. */
	inject(d, &partial, 200, 10);
	/* 5.1.6.4.1: flags are zero without GUEST_CSUM. */
	inject(d, &valid, 200, 11);
	drv_wait(d, RXQ, 1);
	drv_take_used(d, RXQ, &id, &len);
	cr_assert_eq(len, HDR + 200);
	check_rx(RX_AREA, 200, 11);
	cr_assert_eq(ram[RX_AREA], 0);
	cr_assert_eq(stats(d).rx_dropped, 1);
}

Test(virtio_net, backend_without_vnet_hdr)
{
	struct drv *d = drv_new_flags(0, NULL);
	struct virtio_net_hdr_v1 h = make_hdr(0, 0, 0);
	uint8_t got[2048];
	uint32_t id, len;

	/* No header on the wire: no offloads to offer. */
	cr_assert_not(offered_features(d) & (1ULL << VIRTIO_NET_F_CSUM));
	cr_assert_not(offered_features(d) & (1ULL << VIRTIO_NET_F_GUEST_CSUM));
	drv_start(d, ALL_FEATURES, 16);
	fill_pattern(gpa(TX_AREA + HDR), 300, 12);
	submit_tx(d, TX_AREA, &h, 300, 3, false);
	virtio_kick(d->vdev, TXQ);
	drv_wait(d, TXQ, 1);
	drv_take_used(d, TXQ, &id, &len);
	cr_assert_eq(peer_recv(d, got, sizeof(got)), 300);
	cr_assert_eq(memcmp(got, gpa(TX_AREA + HDR), 300), 0);

	post_rx(d, RX_AREA, RX_BUF, 2);
	virtio_kick(d->vdev, RXQ);
	fill_pattern(got, 500, 13);
	cr_assert_eq(send(d->peer, got, 500, 0), 500);
	drv_wait(d, RXQ, 1);
	drv_take_used(d, RXQ, &id, &len);
	cr_assert_eq(len, HDR + 500);
	check_rx(RX_AREA, 500, 13);
	for (int i = 0; i < 10; i++)
		cr_assert_eq(ram[RX_AREA + i], 0, "header byte %d", i);
}

Test(virtio_net, rx_burst_through_a_small_queue_loses_nothing)
{
	enum { FRAMES = 40, QSIZE = 4 };
	struct drv *d = drv_new();
	struct virtio_net_hdr_v1 h = make_hdr(0, 0, 0);
	uint16_t head_slot[QSIZE];
	uint32_t id, len;

	drv_start(d, ALL_FEATURES, QSIZE);
	for (int i = 0; i < FRAMES; i++)
		inject(d, &h, 64 + 31 * i, 200 + i);
	/* One descriptor per buffer, so buffer k is always descriptor k. */
	for (int k = 0; k < QSIZE; k++)
		head_slot[k] = post_rx(d, RX_AREA + 0x1000 * k, RX_BUF, 1);
	virtio_kick(d->vdev, RXQ);
	for (int i = 0; i < FRAMES; i++) {
		drv_wait(d, RXQ, 1);
		drv_take_used(d, RXQ, &id, &len);
		cr_assert_lt(id, QSIZE);
		cr_assert_eq(id, head_slot[i % QSIZE], "frame %d out of order",
			     i);
		cr_assert_eq(len, (uint32_t)(HDR + 64 + 31 * i), "frame %d", i);
		check_rx(RX_AREA + 0x1000 * id, 64 + 31 * i, 200 + i);
		/* Give the buffer back, as a driver refilling its ring. */
		cr_assert_eq(post_rx(d, RX_AREA + 0x1000 * id, RX_BUF, 1), id);
		virtio_kick(d->vdev, RXQ);
	}
	cr_assert_eq(stats(d).rx_frames, FRAMES);
	cr_assert_eq(stats(d).rx_dropped, 0);
	assert_live(d);
}

Test(virtio_net, rx_without_event_idx_or_indirect)
{
	struct drv *d = drv_new();
	struct virtio_net_hdr_v1 h = make_hdr(0, 0, 0);
	struct seg segs[2] = {
		{ RX_AREA, HDR, true },
		{ RX_AREA + 0x100, RX_BUF - HDR, true },
	};
	uint32_t id, len;

	drv_start(d,
		  ALL_FEATURES & ~((1ULL << VIRTIO_F_EVENT_IDX) |
				   (1ULL << VIRTIO_F_INDIRECT_DESC)),
		  8);
	/* The header in a descriptor of its own, as older drivers do. */
	drv_add(d, RXQ, segs, 2);
	virtio_kick(d->vdev, RXQ);
	inject(d, &h, 1000, 60);
	drv_wait(d, RXQ, 1);
	drv_take_used(d, RXQ, &id, &len);
	cr_assert_eq(len, HDR + 1000);
	cr_assert_eq(le16toh(((struct virtio_net_hdr_v1 *)gpa(RX_AREA))
				     ->num_buffers),
		     1);
	{
		static uint8_t want[1000];

		fill_pattern(want, sizeof(want), 60);
		cr_assert_eq(memcmp(gpa(RX_AREA + 0x100), want, 1000), 0);
	}
	cr_assert_geq(d->irqs, 1);
}

/* ---- a broken driver ---- */

static void check_still_works(struct drv *d)
{
	struct virtio_net_hdr_v1 h = make_hdr(0, 0, 0);
	uint64_t rx = RX_AREA + 0x10000 * (d->index + 1);
	uint8_t got[2048];
	uint32_t id, len;

	fill_pattern(gpa(TX_AREA + 0x20000 + HDR), 400, 20);
	submit_tx(d, TX_AREA + 0x20000, &h, 400, 2, false);
	virtio_kick(d->vdev, TXQ);
	drv_wait(d, TXQ, 1);
	drv_take_used(d, TXQ, &id, &len);
	cr_assert_eq(peer_recv(d, got, sizeof(got)), HDR + 400);

	post_rx(d, rx, RX_BUF, 1);
	virtio_kick(d->vdev, RXQ);
	inject(d, &h, 450, 21);
	drv_wait(d, RXQ, 1);
	drv_take_used(d, RXQ, &id, &len);
	cr_assert_eq(len, HDR + 450);
	check_rx(rx, 450, 21);
	assert_live(d);
}

static void expect_broken(struct drv *bad, struct drv *good)
{
	wait_needs_reset(bad);
	cr_assert_eq(bad->config_irqs, 1);
	check_still_works(good);
	cr_assert(virtio_get_status(bad->vdev) &
		  VIRTIO_STATUS_DEVICE_NEEDS_RESET);
}

Test(virtio_net, writable_descriptor_in_a_tx_chain_needs_reset)
{
	struct drv *bad = drv_new(), *good = drv_new();
	struct seg segs[2] = {
		{ TX_AREA, HDR + 60, false },
		{ TX_AREA + 0x1000, 64, true },
	};

	drv_start(bad, ALL_FEATURES, 16);
	drv_start(good, ALL_FEATURES, 16);
	drv_add(bad, TXQ, segs, 2);
	virtio_kick(bad->vdev, TXQ);
	expect_broken(bad, good);
	cr_assert_eq(used_idx(bad, TXQ), 0);
	cr_assert_eq(stats(bad).tx_frames + stats(bad).tx_dropped, 0);
}

Test(virtio_net, tx_chain_shorter_than_the_header_needs_reset)
{
	struct drv *bad = drv_new(), *good = drv_new();
	struct seg seg = { TX_AREA, HDR - 1, false };

	drv_start(bad, ALL_FEATURES, 16);
	drv_start(good, ALL_FEATURES, 16);
	drv_add(bad, TXQ, &seg, 1);
	virtio_kick(bad->vdev, TXQ);
	expect_broken(bad, good);
}

Test(virtio_net, readable_descriptor_in_an_rx_chain_needs_reset)
{
	struct drv *bad = drv_new(), *good = drv_new();
	struct virtio_net_hdr_v1 h = make_hdr(0, 0, 0);
	struct seg segs[2] = {
		{ RX_AREA, 16, false },
		{ RX_AREA + 16, RX_BUF, true },
	};

	drv_start(bad, ALL_FEATURES, 16);
	drv_start(good, ALL_FEATURES, 16);
	drv_add(bad, RXQ, segs, 2);
	virtio_kick(bad->vdev, RXQ);
	inject(bad, &h, 100, 30);
	expect_broken(bad, good);
	cr_assert_eq(used_idx(bad, RXQ), 0);
}

Test(virtio_net, rx_chain_shorter_than_the_header_needs_reset)
{
	struct drv *bad = drv_new(), *good = drv_new();
	struct virtio_net_hdr_v1 h = make_hdr(0, 0, 0);
	struct seg seg = { RX_AREA, HDR - 2, true };

	drv_start(bad, ALL_FEATURES, 16);
	drv_start(good, ALL_FEATURES, 16);
	drv_add(bad, RXQ, &seg, 1);
	virtio_kick(bad->vdev, RXQ);
	inject(bad, &h, 100, 31);
	expect_broken(bad, good);
	cr_assert_eq(ram[RX_AREA], 0);
}

Test(virtio_net, malformed_ring_needs_reset_and_a_reset_recovers)
{
	struct drv *bad = drv_new(), *good = drv_new();

	drv_start(bad, ALL_FEATURES, 16);
	drv_start(good, ALL_FEATURES, 16);
	drv_publish(bad, TXQ, 1000); /* a head beyond the queue */
	virtio_kick(bad->vdev, TXQ);
	expect_broken(bad, good);
	cr_assert_eq(virtio_net_inflight(bad->net), 0);

	virtio_set_status(bad->vdev, 0);
	cr_assert_eq(virtio_get_status(bad->vdev), 0);
	drv_start(bad, ALL_FEATURES, 16);
	check_still_works(bad);
}

/* ---- resets ---- */

Test(virtio_net, reset_with_tx_in_flight_leaves_guest_memory_alone)
{
	struct drv *d = drv_new();
	static uint8_t ring_copy[RING_STRIDE];
	struct virtio_net_hdr_v1 h = make_hdr(0, 0, 0);

	drv_start(d, ALL_FEATURES, 16);
	fill_pattern(gpa(TX_AREA + HDR), 1000, 40);
	submit_tx(d, TX_AREA, &h, 1000, 3, false);
	/* Popped and submitted; the kernel has not seen it yet. */
	pthread_mutex_lock(&d->vdev->lock);
	d->vdev->ops->queue_notify(d->vdev, TXQ);
	pthread_mutex_unlock(&d->vdev->lock);
	cr_assert_eq(virtio_net_inflight(d->net), 1);

	/* The driver resets and sets the device up again, same rings. */
	virtio_set_status(d->vdev, 0);
	drv_start(d, ALL_FEATURES, 16);
	memcpy(ring_copy, gpa(d->tq[TXQ].ring), RING_STRIDE);

	run_until_idle(d); /* the orphan's completion arrives */
	cr_assert_eq(memcmp(ring_copy, gpa(d->tq[TXQ].ring), RING_STRIDE), 0);
	cr_assert_eq(d->irqs, 0);
	cr_assert_eq(stats(d).tx_frames + stats(d).tx_dropped, 0);

	/* The orphan may have reached the wire; drain it, then carry on. */
	{
		uint8_t got[2048];

		while (peer_recv(d, got, sizeof(got)) > 0)
			;
	}
	check_still_works(d);
}

Test(virtio_net, reset_with_an_rx_buffer_held_forgets_it)
{
	struct drv *d = drv_new();
	struct virtio_net_hdr_v1 h = make_hdr(0, 0, 0);
	uint32_t id, len;
	uint16_t b;

	drv_start(d, ALL_FEATURES, 16);
	/* A buffer the device takes but cannot fill (frame too big). */
	post_rx(d, RX_AREA, HDR + 50, 1);
	virtio_kick(d->vdev, RXQ);
	inject(d, &h, 500, 50);
	{
		double deadline = now() + WAIT_SECONDS;

		while (!stats(d).rx_dropped) {
			cr_assert_lt(now(), deadline);
			cr_assert_eq(evloop_run(&loop), 0);
		}
	}
	virtio_set_status(d->vdev, 0);
	memset(gpa(RX_AREA), UNTOUCHED, HDR + 50);
	drv_start(d, ALL_FEATURES, 16);
	b = post_rx(d, RX_AREA + 0x1000, RX_BUF, 1);
	virtio_kick(d->vdev, RXQ);
	inject(d, &h, 60, 51);
	drv_wait(d, RXQ, 1);
	drv_take_used(d, RXQ, &id, &len);
	cr_assert_eq(id, b);
	cr_assert_eq(len, HDR + 60);
	check_rx(RX_AREA + 0x1000, 60, 51);
	/* The old driver's buffer was not written. */
	for (int i = 0; i < HDR + 50; i++)
		cr_assert_eq(ram[RX_AREA + i], UNTOUCHED);
}

Test(virtio_net, reset_with_an_rx_read_in_flight_leaves_the_rings_alone)
{
	struct drv *d = drv_new();
	struct virtio_net_hdr_v1 h = make_hdr(0, 0, 0);
	static uint8_t ring_copy[RING_STRIDE];
	uint32_t id, len;
	uint16_t b;

	drv_start(d, ALL_FEATURES, 16);
	post_rx(d, RX_AREA, RX_BUF, 1);
	virtio_kick(d->vdev, RXQ);
	inject(d, &h, 100, 70);
	drv_wait(d, RXQ, 1);
	drv_take_used(d, RXQ, &id, &len);

	/* The device reads on: the read is prepared, not yet submitted. */
	post_rx(d, RX_AREA + 0x1000, RX_BUF, 1);
	inject(d, &h, 200, 71);
	pthread_mutex_lock(&d->vdev->lock);
	d->vdev->ops->queue_notify(d->vdev, RXQ);
	pthread_mutex_unlock(&d->vdev->lock);
	cr_assert_eq(virtio_net_inflight(d->net), 1);

	virtio_set_status(d->vdev, 0);
	drv_start(d, ALL_FEATURES, 16);
	memcpy(ring_copy, gpa(d->tq[RXQ].ring), RING_STRIDE);
	d->irqs = 0;
	run_until_idle(d);
	cr_assert_eq(memcmp(ring_copy, gpa(d->tq[RXQ].ring), RING_STRIDE), 0);
	cr_assert_eq(d->irqs, 0);
	cr_assert_eq(stats(d).rx_frames, 1);

	/* The new driver's buffer gets the next frame. */
	b = post_rx(d, RX_AREA + 0x2000, RX_BUF, 1);
	virtio_kick(d->vdev, RXQ);
	inject(d, &h, 300, 72);
	drv_wait(d, RXQ, 1);
	drv_take_used(d, RXQ, &id, &len);
	cr_assert_eq(id, b);
	cr_assert_eq(len, HDR + 300);
	check_rx(RX_AREA + 0x2000, 300, 72);
}

/* ---- options, config space ---- */

Test(virtio_net, parse_accepts_every_option)
{
	struct virtio_net_opts o;
	char err[256] = "";
	static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef };

	cr_assert_eq(virtio_net_parse(
			     "tap=nbtap0,mac=52:54:00:AB:cd:ef,transport=mmio",
			     &o, err, sizeof(err)),
		     0, "%s", err);
	cr_assert_str_eq(o.tap, "nbtap0");
	cr_assert(o.has_mac);
	cr_assert_eq(memcmp(o.mac, mac, 6), 0);
	cr_assert_eq(o.transport, VIRTIO_TRANSPORT_MMIO);

	cr_assert_eq(virtio_net_parse("transport=pci,tap=nb%d", &o, err,
				      sizeof(err)),
		     0, "%s", err);
	cr_assert_str_eq(o.tap, "nb%d");
	cr_assert_not(o.has_mac);
	cr_assert_eq(o.transport, VIRTIO_TRANSPORT_PCI);

	cr_assert_eq(
		virtio_net_parse("tap=123456789012345", &o, err, sizeof(err)),
		0, "%s", err);
	cr_assert_eq(virtio_net_parse("tap=t", &o, err, sizeof(err)), 0);
	cr_assert_eq(o.transport, VIRTIO_TRANSPORT_PCI);
}

Test(virtio_net, parse_refuses_bad_options_with_a_clear_message)
{
	static const struct {
		const char *arg, *says;
	} bad[] = {
		{ "", "expected tap=NAME" },
		{ "nbtap0", "unknown net option 'nbtap0'" },
		{ "mac=02:00:00:00:00:01", "no tap=NAME" },
		{ "tap=", "1 to 15 characters" },
		{ "tap=1234567890123456", "1 to 15 characters" },
		{ "tap=a/b", "may not contain" },
		{ "tap=a b", "may not contain" },
		{ "tap=..", "not valid" },
		{ "tap", "'tap' needs a value" },
		{ "tap=a,tap=b", "'tap' is given twice" },
		{ "tap=a,bogus=1", "unknown net option 'bogus=1'" },
		{ "tap=a,mac=02:00:00:00:00", "expected xx:xx:xx:xx:xx:xx" },
		{ "tap=a,mac=02:00:00:00:00:0g", "expected xx:xx" },
		{ "tap=a,mac=02-00-00-00-00-01", "expected xx:xx" },
		{ "tap=a,mac=01:00:5e:00:00:01", "multicast" },
		{ "tap=a,mac=00:00:00:00:00:00", "all zeroes" },
		{ "tap=a,transport=usb", "expected pci or mmio" },
		{ "tap=a,,mac=02:00:00:00:00:01", "empty option" },
		{ "tap=a,", "empty option" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct virtio_net_opts o;
		char err[256] = "";

		cr_assert_eq(virtio_net_parse(bad[i].arg, &o, err, sizeof(err)),
			     -EINVAL, "'%s' accepted", bad[i].arg);
		cr_assert(strstr(err, bad[i].says), "'%s': got \"%s\"",
			  bad[i].arg, err);
		cr_assert_null(strchr(err, '\n'));
	}
}

Test(virtio_net, config_space_has_mac_and_link_up)
{
	struct drv *d =
		drv_new_flags(VIRTIO_NET_FD_VNET_HDR, "52:54:00:12:34:56");
	struct drv *e = drv_new(), *f = drv_new();
	struct virtio_net_config c;
	uint8_t mac2[6];
	uint64_t feat = offered_features(d);

	cr_assert_eq(d->vdev->ops->device_id, VIRTIO_ID_NET);
	cr_assert_eq(d->vdev->ops->num_queues, 2);
	cr_assert(feat & (1ULL << VIRTIO_NET_F_MAC));
	cr_assert(feat & (1ULL << VIRTIO_NET_F_STATUS));
	cr_assert(feat & (1ULL << VIRTIO_F_VERSION_1));
	cr_assert(feat & (1ULL << VIRTIO_F_INDIRECT_DESC));
	cr_assert(feat & (1ULL << VIRTIO_F_EVENT_IDX));
	cr_assert(feat & (1ULL << VIRTIO_NET_F_HOST_TSO4));
	cr_assert_not(feat & (1ULL << VIRTIO_NET_F_MRG_RXBUF));
	cr_assert_not(feat & (1ULL << VIRTIO_NET_F_GUEST_TSO4));

	virtio_config_read(d->vdev, 0, &c, sizeof(c));
	cr_assert_eq(memcmp(c.mac, "\x52\x54\x00\x12\x34\x56", 6), 0);
	cr_assert_eq(le16toh(c.status), VIRTIO_NET_S_LINK_UP);
	/* Byte-wise reads as a driver does them. */
	virtio_config_read(d->vdev, 5, &mac2[0], 1);
	cr_assert_eq(mac2[0], 0x56);

	/* Default: locally administered unicast, stable for a name. */
	virtio_config_read(e->vdev, 0, &c, sizeof(c));
	cr_assert_eq(c.mac[0], 0x02);
	virtio_config_read(f->vdev, 0, mac2, 6);
	cr_assert_eq(mac2[0], 0x02);
	cr_assert_neq(memcmp(c.mac, mac2, 6), 0, "two taps, one MAC");

	/* Writes are ignored: the MAC is read-only in virtio 1.x. */
	virtio_config_write(d->vdev, 0, "\x02\x02\x02\x02\x02\x02", 6);
	virtio_config_read(d->vdev, 0, &c, sizeof(c));
	cr_assert_eq(c.mac[0], 0x52);
}

Test(virtio_net, tso_without_csum_is_refused_at_driver_ok)
{
	struct drv *d = drv_new();
	struct virtio_dev *vdev = d->vdev;
	uint8_t s = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
		    VIRTIO_STATUS_FEATURES_OK;

	virtio_set_status(vdev, VIRTIO_STATUS_ACKNOWLEDGE);
	virtio_set_status(vdev,
			  VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	virtio_set_driver_features(vdev, 0, 1u << VIRTIO_NET_F_HOST_TSO4);
	virtio_set_driver_features(vdev, 1, 1u << (VIRTIO_F_VERSION_1 - 32));
	virtio_set_status(vdev, s);
	virtio_set_status(vdev, s | VIRTIO_STATUS_DRIVER_OK);
	cr_assert(virtio_get_status(vdev) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
}

/* ---- a real tap ---- */

/* The kernel's view: is TX checksum offload on for @ifname? */
static int tap_tx_csum(const char *ifname)
{
	struct ethtool_value ev = { .cmd = ETHTOOL_GTXCSUM };
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r;

	cr_assert_geq(s, 0);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&ev;
	r = ioctl(s, SIOCETHTOOL, &ifr);
	close(s);
	cr_assert_eq(r, 0, "SIOCETHTOOL on %s: %s", ifname, strerror(errno));
	return ev.data;
}

Test(virtio_net, real_tap_is_created_and_gets_its_offloads)
{
	struct virtio_net_opts o;
	struct virtio_net *net, *again;
	struct virtio_net_hdr_v1 h = make_hdr(0, 0, 0);
	char err[256] = "";
	struct drv *d;
	uint32_t id, len;
	int r;

	if (access("/dev/net/tun", F_OK))
		cr_skip_test("no /dev/net/tun");
	cr_assert_eq(virtio_net_parse("tap=nbtest%d", &o, err, sizeof(err)), 0);
	r = virtio_net_create(&net, &o, &mem, &loop, err, sizeof(err));
	if (r == -EPERM || r == -EACCES)
		cr_skip_test("no permission for taps: %s", err);
	cr_assert_eq(r, 0, "create: %d %s", r, err);
	d = drv_attach(net, -1);
	cr_assert_eq(strncmp(virtio_net_ifname(net), "nbtest", 6), 0, "%s",
		     virtio_net_ifname(net));
	cr_assert(offered_features(d) & (1ULL << VIRTIO_NET_F_GUEST_CSUM));
	cr_assert_eq(tap_tx_csum(virtio_net_ifname(net)), 0);

	/* The same tap twice: one clear line naming it. */
	snprintf(o.tap, sizeof(o.tap), "%s", virtio_net_ifname(net));
	r = virtio_net_create(&again, &o, &mem, &loop, err, sizeof(err));
	cr_assert_lt(r, 0);
	cr_assert(strstr(err, virtio_net_ifname(net)), "%s", err);
	cr_assert_null(strchr(err, '\n'));

	/* GUEST_CSUM negotiated: the tap may hand over partial checksums. */
	drv_start(d, ALL_FEATURES, 16);
	cr_assert_eq(stats(d).tap_offloads, TUN_F_CSUM);
	cr_assert_neq(tap_tx_csum(virtio_net_ifname(net)), 0);

	/* The interface is down: the write fails, the chain completes. */
	submit_tx(d, TX_AREA, &h, 60, 2, false);
	virtio_kick(d->vdev, TXQ);
	drv_wait(d, TXQ, 1);
	drv_take_used(d, TXQ, &id, &len);
	cr_assert_eq(len, 0);
	cr_assert_eq(stats(d).tx_frames + stats(d).tx_dropped, 1);

	/* A driver without GUEST_CSUM: offloads off again. */
	virtio_set_status(d->vdev, 0);
	drv_start(d, ALL_FEATURES & ~(1ULL << VIRTIO_NET_F_GUEST_CSUM), 16);
	cr_assert_eq(stats(d).tap_offloads, 0);
	cr_assert_eq(tap_tx_csum(virtio_net_ifname(net)), 0);
	assert_live(d);
}
