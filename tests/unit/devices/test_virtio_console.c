// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-console driven like a guest driver over the MMIO transport and a
 * real event loop: guest output reaches the backend in order, host input
 * lands in posted receive buffers, refused input is offered again after
 * rx_ready, and a malformed ring breaks only its own device.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "devices/virtio/virtio_console.h"
#include "devices/virtio/virtio_mmio.h"
#include "vmm/evloop.h"

#define RAM_BASE 0x80000000ULL
#define RAM_SIZE (1 << 20)
static uint8_t ram[RAM_SIZE] __attribute__((aligned(4096)));
static struct guest_mem mem;
static struct evloop loop;

#define QSIZE 16 /* the driver's QueueNum */
#include "virtio_test_ring.h"

/* Stops come only from inside a pump: none is left over for the next. */
static bool pumping;
static int spi_level[64];
static int spi_raises[64];
static int spi_asserts[64]; /* calls with level high, raised or not */

static void fake_set_spi(void *o, unsigned int spi, bool level)
{
	(void)o;
	if (level && !spi_level[spi])
		spi_raises[spi]++;
	if (level)
		spi_asserts[spi]++;
	spi_level[spi] = level;
	if (pumping)
		evloop_stop(&loop); /* an interrupt ends a pump */
}

static const struct host_ops host = {
	.set_spi = fake_set_spi,
	.loop = &loop,
};

/* What one console's backend saw. */
struct be_log {
	uint8_t out[4096];
	size_t out_len;
	unsigned int tx_calls;
	unsigned int rx_ready;
	void (*on_tx)(struct be_log *l); /* a test's hook, may be NULL */
};

static void be_tx(void *opaque, const uint8_t *buf, size_t len)
{
	struct be_log *l = opaque;

	cr_assert_leq(l->out_len + len, sizeof(l->out));
	memcpy(l->out + l->out_len, buf, len);
	l->out_len += len;
	l->tx_calls++;
	if (l->on_tx)
		l->on_tx(l);
}

static void be_rx_ready(void *opaque)
{
	struct be_log *l = opaque;

	l->rx_ready++;
	if (pumping)
		evloop_stop(&loop);
}

static void setup(void)
{
	memset(ram, 0, sizeof(ram));
	memset(spi_level, 0, sizeof(spi_level));
	memset(spi_raises, 0, sizeof(spi_raises));
	memset(spi_asserts, 0, sizeof(spi_asserts));
	gmem_wrap(&mem, RAM_BASE, ram, RAM_SIZE);
	cr_assert_eq(evloop_init(&loop, 32), 0);
}

static void teardown(void)
{
	evloop_destroy(&loop);
}

/* Run the loop until an interrupt or rx_ready (suite timeout otherwise). */
static void pump(void)
{
	pumping = true;
	evloop_run(&loop);
	pumping = false;
}

/* ---- the driver's side of one split virtqueue ---- */

static uint16_t used_flags(const struct ring *r)
{
	return ((uint16_t *)gpa(r->used))[0];
}

/* used ring: flags, idx, {le32 id, le32 len}[QSIZE], avail_event */
static uint32_t used_id(const struct ring *r, uint16_t i)
{
	return ((uint32_t *)gpa(r->used + 4))[2 * (i % QSIZE)];
}

static uint32_t used_len(const struct ring *r, uint16_t i)
{
	return ((uint32_t *)gpa(r->used + 4))[2 * (i % QSIZE) + 1];
}

static uint16_t avail_event(const struct ring *r)
{
	return *(uint16_t *)gpa(r->used + 4 + 8 * QSIZE);
}

static uint64_t put_text(uint64_t addr, const char *s)
{
	memcpy(gpa(addr), s, strlen(s));
	return addr;
}

/* ---- MMIO ---- */

static uint16_t cfg16(struct virtio_mmio *m, uint64_t off)
{
	return virtio_mmio_ops.read(m, VIRTIO_MMIO_CONFIG + off, 2);
}

#define STATUS_UP                                           \
	(VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | \
	 VIRTIO_STATUS_FEATURES_OK)

#define DRV_FEATURES_DEFAULT (1u << VIRTIO_CONSOLE_F_SIZE)
#define DRV_FEATURES_RINGS                                     \
	(DRV_FEATURES_DEFAULT | 1u << VIRTIO_F_INDIRECT_DESC | \
	 1u << VIRTIO_F_EVENT_IDX)

static void mmio_queue_setup(struct virtio_mmio *m, unsigned int q,
			     const struct ring *r)
{
	mwr(m, VIRTIO_MMIO_QUEUE_SEL, q);
	cr_assert_eq(mrd(m, VIRTIO_MMIO_QUEUE_NUM_MAX), VIRTQ_SIZE_MAX);
	mwr(m, VIRTIO_MMIO_QUEUE_NUM, QSIZE);
	mwr(m, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)r->desc);
	mwr(m, VIRTIO_MMIO_QUEUE_DESC_HIGH, r->desc >> 32);
	mwr(m, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)r->avail);
	mwr(m, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, r->avail >> 32);
	mwr(m, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)r->used);
	mwr(m, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, r->used >> 32);
	mwr(m, VIRTIO_MMIO_QUEUE_READY, 1);
}

/* 3.1.1 up to (not including) DRIVER_OK, with both queues set up. */
static void driver_setup(struct virtio_mmio *m, const struct ring *rx,
			 const struct ring *tx, uint32_t features)
{
	cr_assert_eq(mrd(m, VIRTIO_MMIO_MAGIC_VALUE), VIRTIO_MMIO_MAGIC);
	cr_assert_eq(mrd(m, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_CONSOLE);
	mwr(m, VIRTIO_MMIO_STATUS, 0);
	mwr(m, VIRTIO_MMIO_STATUS,
	    VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	mwr(m, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	mwr(m, VIRTIO_MMIO_DRIVER_FEATURES, 1); /* VERSION_1 */
	mwr(m, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	mwr(m, VIRTIO_MMIO_DRIVER_FEATURES, features);
	mwr(m, VIRTIO_MMIO_STATUS, STATUS_UP);
	cr_assert(mrd(m, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK);
	mmio_queue_setup(m, VIRTIO_CONSOLE_RX_QUEUE, rx);
	mmio_queue_setup(m, VIRTIO_CONSOLE_TX_QUEUE, tx);
}

static void driver_ok(struct virtio_mmio *m)
{
	mwr(m, VIRTIO_MMIO_STATUS, STATUS_UP | VIRTIO_STATUS_DRIVER_OK);
	cr_assert(mrd(m, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DRIVER_OK);
}

/* One console behind one MMIO window, its rings at @base. */
struct rig {
	struct virtio_console con;
	struct virtio_mmio m;
	struct be_log log;
	struct ring rx, tx;
	unsigned int spi;
};

static void rig_init(struct rig *g, uint64_t base, unsigned int spi)
{
	const struct virtio_console_backend be = {
		.tx = be_tx,
		.rx_ready = be_rx_ready,
		.opaque = &g->log,
	};

	memset(&g->log, 0, sizeof(g->log));
	g->rx = ring_at(base);
	g->tx = ring_at(base + 0x4000);
	g->spi = spi;
	virtio_console_init(&g->con, &mem, &be);
	cr_assert_eq(virtio_mmio_init(&g->m, virtio_console_vdev(&g->con),
				      &host, 0x0b000000 + 0x200 * spi, spi),
		     0);
}

static void rig_up(struct rig *g, uint32_t features)
{
	driver_setup(&g->m, &g->rx, &g->tx, features);
	driver_ok(&g->m);
}

static void kick(struct rig *g, unsigned int q)
{
	mwr(&g->m, VIRTIO_MMIO_QUEUE_NOTIFY, q);
}

static size_t receive(struct rig *g, const char *s)
{
	return virtio_console_receive(&g->con, (const uint8_t *)s, strlen(s));
}

static void ack_all(struct rig *g)
{
	mwr(&g->m, VIRTIO_MMIO_INTERRUPT_ACK,
	    VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG);
}

TestSuite(virtio_console, .init = setup, .fini = teardown, .timeout = 20);

Test(virtio_console, identifies_as_a_single_port_console_with_a_size)
{
	static struct rig g;
	uint32_t f;

	rig_init(&g, RAM_BASE + 0x10000, 16);
	cr_assert_eq(mrd(&g.m, VIRTIO_MMIO_DEVICE_ID), 3);
	mwr(&g.m, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	f = mrd(&g.m, VIRTIO_MMIO_DEVICE_FEATURES);

	cr_assert(f & 1u << VIRTIO_CONSOLE_F_SIZE);
	cr_assert_not(f & 1u << VIRTIO_CONSOLE_F_MULTIPORT);
	cr_assert_not(f & 1u << VIRTIO_CONSOLE_F_EMERG_WRITE);
	cr_assert(f & 1u << VIRTIO_F_INDIRECT_DESC);
	cr_assert(f & 1u << VIRTIO_F_EVENT_IDX);
	cr_assert_eq(cfg16(&g.m, 0), 80, "cols");
	cr_assert_eq(cfg16(&g.m, 2), 25, "rows");
	/* Two queues only: no control queues without MULTIPORT. */
	mwr(&g.m, VIRTIO_MMIO_QUEUE_SEL, 2);
	cr_assert_eq(mrd(&g.m, VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
	/* emerg_wr is not writable without EMERG_WRITE. */
	virtio_mmio_ops.write(&g.m, VIRTIO_MMIO_CONFIG + 8, 'x', 4);
	cr_assert_eq(virtio_mmio_ops.read(&g.m, VIRTIO_MMIO_CONFIG + 8, 4), 0);
}

Test(virtio_console, resize_raises_a_config_interrupt)
{
	static struct rig g;
	uint32_t gen;

	rig_init(&g, RAM_BASE + 0x10000, 16);
	rig_up(&g, DRV_FEATURES_DEFAULT);
	gen = mrd(&g.m, VIRTIO_MMIO_CONFIG_GENERATION);
	virtio_console_set_size(&g.con, 132, 43);
	cr_assert_eq(cfg16(&g.m, 0), 132);
	cr_assert_eq(cfg16(&g.m, 2), 43);
	cr_assert_neq(mrd(&g.m, VIRTIO_MMIO_CONFIG_GENERATION), gen);
	cr_assert(spi_level[g.spi]);
	cr_assert(mrd(&g.m, VIRTIO_MMIO_INTERRUPT_STATUS) &
		  VIRTIO_MMIO_INT_CONFIG);
	/* The same size again is no change. */
	ack_all(&g);
	virtio_console_set_size(&g.con, 132, 43);
	cr_assert_not(spi_level[g.spi]);
}

Test(virtio_console, guest_output_split_over_descriptors_reaches_tx_in_order)
{
	static struct rig g;
	struct ring *t = &g.tx;

	rig_init(&g, RAM_BASE + 0x10000, 16);
	rig_up(&g, DRV_FEATURES_DEFAULT);

	/* One chain of three pieces, out of address order, then another. */
	add_buf(t, 0, put_text(t->buf + 0x800, "Hello, "), 7, VIRTQ_DESC_F_NEXT,
		5);
	add_buf(t, 5, put_text(t->buf + 0x100, "virtio "), 7, VIRTQ_DESC_F_NEXT,
		2);
	add_buf(t, 2, put_text(t->buf + 0x400, "console\n"), 8, 0, 0);
	add_buf(t, 7, put_text(t->buf + 0xc00, "second\n"), 7, 0, 0);
	publish(t, 0);
	publish(t, 7);
	kick(&g, VIRTIO_CONSOLE_TX_QUEUE);
	pump();

	cr_assert_eq(g.log.out_len, 29);
	cr_assert_arr_eq(g.log.out, "Hello, virtio console\nsecond\n", 29);
	cr_assert_eq(g.log.tx_calls, 4, "one call per buffer");
	cr_assert_eq(used_idx(t), 2);
	cr_assert_eq(used_id(t, 0), 0);
	cr_assert_eq(used_len(t, 0), 0, "nothing written by the device");
	cr_assert_eq(used_id(t, 1), 7);
	cr_assert_eq(used_len(t, 1), 0);
	cr_assert(mrd(&g.m, VIRTIO_MMIO_INTERRUPT_STATUS) &
		  VIRTIO_MMIO_INT_VRING);
	cr_assert_eq(g.con.bytes_transmitted, 29);
}

Test(virtio_console, guest_output_through_an_indirect_table_with_event_idx)
{
	static struct rig g;
	struct ring *t = &g.tx;
	uint64_t table;

	rig_init(&g, RAM_BASE + 0x10000, 16);
	table = t->buf + 0xe00;
	rig_up(&g, DRV_FEATURES_RINGS);
	set_desc(table, 0, put_text(t->buf, "ab"), 2, VIRTQ_DESC_F_NEXT, 1);
	set_desc(table, 1, put_text(t->buf + 0x10, "cd"), 2, 0, 0);
	add_buf(t, 3, table, 2 * sizeof(struct virtq_desc),
		VIRTQ_DESC_F_INDIRECT, 0);
	publish(t, 3);
	kick(&g, VIRTIO_CONSOLE_TX_QUEUE);
	pump();
	cr_assert_eq(g.log.out_len, 4);
	cr_assert_arr_eq(g.log.out, "abcd", 4);
	cr_assert_eq(used_idx(t), 1);
	cr_assert_eq(used_id(t, 0), 3);
	/* The device asks for a kick on the next buffer (2.7.10). */
	cr_assert_eq(avail_event(t), 1);
}

/*
 * A driver that refills transmitq while it is served: without a budget the
 * device would serve all of it in one go, holding the loop.
 */
#define REFILL_CHAINS (2 * VIRTQ_SIZE_MAX + 10)
static struct rig *refill_rig;

static void refill_tx(struct be_log *l)
{
	if (l->tx_calls < REFILL_CHAINS)
		publish(&refill_rig->tx, 0);
}

Test(virtio_console, a_driver_refilling_transmitq_cannot_hold_the_loop)
{
	static struct rig g;

	rig_init(&g, RAM_BASE + 0x10000, 16);
	rig_up(&g, DRV_FEATURES_DEFAULT);
	refill_rig = &g;
	g.log.on_tx = refill_tx;
	add_buf(&g.tx, 0, put_text(g.tx.buf, "y"), 1, 0, 0);
	publish(&g.tx, 0);
	kick(&g, VIRTIO_CONSOLE_TX_QUEUE);
	/* Each interrupt stops a pump: the work spans several loop passes. */
	for (int i = 0; i < 10 && used_idx(&g.tx) != REFILL_CHAINS; i++)
		pump();
	cr_assert_eq(g.log.tx_calls, REFILL_CHAINS);
	cr_assert_eq(used_idx(&g.tx), REFILL_CHAINS);
	/* Served in three loop callbacks, each ending with an interrupt. */
	cr_assert_eq(spi_asserts[g.spi], 3);
	cr_assert_not(mrd(&g.m, VIRTIO_MMIO_STATUS) &
		      VIRTIO_STATUS_DEVICE_NEEDS_RESET);
}

Test(virtio_console, host_input_lands_in_posted_buffers_with_used_length)
{
	static struct rig g;
	struct ring *r = &g.rx;

	rig_init(&g, RAM_BASE + 0x10000, 16);
	rig_up(&g, DRV_FEATURES_DEFAULT);
	/* Buffer 0: one descriptor; buffer 1: two of 4 bytes each. */
	add_buf(r, 0, r->buf, 16, VIRTQ_DESC_F_WRITE, 0);
	add_buf(r, 1, r->buf + 0x100, 4, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT,
		2);
	add_buf(r, 2, r->buf + 0x200, 4, VIRTQ_DESC_F_WRITE, 0);
	publish(r, 0);
	publish(r, 1);
	kick(&g, VIRTIO_CONSOLE_RX_QUEUE);

	cr_assert_eq(receive(&g, "ls -l\r"), 6);
	cr_assert_eq(used_idx(r), 1);
	cr_assert_eq(used_id(r, 0), 0);
	cr_assert_eq(used_len(r, 0), 6);
	cr_assert_arr_eq(gpa(r->buf), "ls -l\r", 6);
	cr_assert(spi_level[g.spi], "the driver is interrupted");
	cr_assert(mrd(&g.m, VIRTIO_MMIO_INTERRUPT_STATUS) &
		  VIRTIO_MMIO_INT_VRING);
	ack_all(&g);

	cr_assert_eq(receive(&g, "pwd\r\n"), 5);
	cr_assert_eq(used_idx(r), 2);
	cr_assert_eq(used_id(r, 1), 1);
	cr_assert_eq(used_len(r, 1), 5);
	cr_assert_arr_eq(gpa(r->buf + 0x100), "pwd\r", 4);
	cr_assert_arr_eq(gpa(r->buf + 0x200), "\n", 1);
	cr_assert(spi_level[g.spi]);
	cr_assert_eq(g.log.rx_ready, 0, "nothing was refused");
	cr_assert_eq(g.con.bytes_received, 11);
}

Test(virtio_console, input_without_a_buffer_waits_for_rx_ready)
{
	static struct rig g;
	struct ring *r = &g.rx;

	rig_init(&g, RAM_BASE + 0x10000, 16);
	rig_up(&g, DRV_FEATURES_DEFAULT);
	cr_assert_eq(receive(&g, "q"), 0);
	cr_assert_eq(g.log.rx_ready, 0);
	cr_assert_not(spi_level[g.spi]);
	/* The device wants to hear about the next buffer. */
	cr_assert_eq(used_flags(r) & VIRTQ_USED_F_NO_NOTIFY, 0);

	add_buf(r, 0, r->buf, 8, VIRTQ_DESC_F_WRITE, 0);
	publish(r, 0);
	kick(&g, VIRTIO_CONSOLE_RX_QUEUE);
	pump(); /* ends on rx_ready */
	cr_assert_eq(g.log.rx_ready, 1);
	cr_assert_eq(receive(&g, "q"), 1);
	cr_assert_eq(used_idx(r), 1);
	cr_assert_eq(used_len(r, 0), 1);
	cr_assert_eq(*(uint8_t *)gpa(r->buf), 'q');
	/* Not refused since: later buffers need no kick. */
	cr_assert(used_flags(r) & VIRTQ_USED_F_NO_NOTIFY);
}

Test(virtio_console, input_beyond_the_posted_buffers_is_accepted_partially)
{
	static struct rig g;
	struct ring *r = &g.rx;

	rig_init(&g, RAM_BASE + 0x10000, 16);
	rig_up(&g, DRV_FEATURES_RINGS);
	add_buf(r, 0, r->buf, 4, VIRTQ_DESC_F_WRITE, 0);
	add_buf(r, 1, r->buf + 0x100, 3, VIRTQ_DESC_F_WRITE, 0);
	publish(r, 0);
	publish(r, 1);
	kick(&g, VIRTIO_CONSOLE_RX_QUEUE);

	cr_assert_eq(receive(&g, "0123456789"), 7);
	cr_assert_eq(used_idx(r), 2);
	cr_assert_eq(used_len(r, 0), 4);
	cr_assert_eq(used_len(r, 1), 3);
	cr_assert_arr_eq(gpa(r->buf), "0123", 4);
	cr_assert_arr_eq(gpa(r->buf + 0x100), "456", 3);
	/* EVENT_IDX: kick me when avail idx passes 2 (2.7.10). */
	cr_assert_eq(avail_event(r), 2);
	cr_assert_eq(g.log.rx_ready, 0);

	/* The rest is offered again once the driver posts more. */
	add_buf(r, 2, r->buf + 0x200, 8, VIRTQ_DESC_F_WRITE, 0);
	publish(r, 2);
	kick(&g, VIRTIO_CONSOLE_RX_QUEUE);
	pump();
	cr_assert_eq(g.log.rx_ready, 1);
	cr_assert_eq(receive(&g, "789"), 3);
	cr_assert_eq(used_idx(r), 3);
	cr_assert_eq(used_len(r, 2), 3);
	cr_assert_arr_eq(gpa(r->buf + 0x200), "789", 3);
}

Test(virtio_console, receive_before_driver_ok_accepts_nothing)
{
	static struct rig g;
	struct ring *r = &g.rx;

	rig_init(&g, RAM_BASE + 0x10000, 16);
	cr_assert_eq(receive(&g, "early"), 0, "no driver at all");
	driver_setup(&g.m, &g.rx, &g.tx, DRV_FEATURES_DEFAULT);
	/* Buffers may be posted before DRIVER_OK, with no kick (3.1.1). */
	add_buf(r, 0, r->buf, 8, VIRTQ_DESC_F_WRITE, 0);
	publish(r, 0);
	cr_assert_eq(receive(&g, "early"), 0, "queues set up, no DRIVER_OK");
	cr_assert_eq(used_idx(r), 0);
	cr_assert_eq(g.log.rx_ready, 0);

	driver_ok(&g.m);
	cr_assert_eq(g.log.rx_ready, 1, "DRIVER_OK lets the host retry");
	cr_assert_eq(receive(&g, "early"), 5);
	cr_assert_eq(used_idx(r), 1);
	cr_assert_arr_eq(gpa(r->buf), "early", 5);
}

Test(virtio_console, reset_keeps_refused_input_waiting_for_the_next_driver)
{
	static struct rig g;
	struct ring *r = &g.rx;

	rig_init(&g, RAM_BASE + 0x10000, 16);
	rig_up(&g, DRV_FEATURES_DEFAULT);
	add_buf(r, 0, r->buf, 2, VIRTQ_DESC_F_WRITE, 0);
	publish(r, 0);
	cr_assert_eq(receive(&g, "abc"), 2);

	/* The driver goes away: nothing is accepted, nothing is woken. */
	mwr(&g.m, VIRTIO_MMIO_STATUS, 0);
	cr_assert_eq(receive(&g, "c"), 0);
	cr_assert_eq(g.log.rx_ready, 0);

	/* A new driver with fresh rings hears the waiting host. */
	memset(gpa(r->desc), 0, 0x3000);
	r->avail_idx = 0;
	driver_setup(&g.m, &g.rx, &g.tx, DRV_FEATURES_DEFAULT);
	add_buf(r, 0, r->buf + 0x100, 4, VIRTQ_DESC_F_WRITE, 0);
	publish(r, 0);
	driver_ok(&g.m);
	cr_assert_eq(g.log.rx_ready, 1);
	cr_assert_eq(receive(&g, "c"), 1);
	cr_assert_eq(used_idx(r), 1);
	cr_assert_eq(used_len(r, 0), 1);
	cr_assert_eq(*(uint8_t *)gpa(r->buf + 0x100), 'c');
}

Test(virtio_console, malformed_tx_ring_needs_reset_while_another_console_works)
{
	static struct rig bad, good;
	struct ring *t = &bad.tx;

	rig_init(&bad, RAM_BASE + 0x10000, 16);
	rig_init(&good, RAM_BASE + 0x20000, 17);
	rig_up(&bad, DRV_FEATURES_DEFAULT);
	rig_up(&good, DRV_FEATURES_DEFAULT);

	/* A descriptor loop: 0 -> 1 -> 0. */
	add_buf(t, 0, t->buf, 8, VIRTQ_DESC_F_NEXT, 1);
	add_buf(t, 1, t->buf, 8, VIRTQ_DESC_F_NEXT, 0);
	publish(t, 0);
	kick(&bad, VIRTIO_CONSOLE_TX_QUEUE);
	pump();
	cr_assert(mrd(&bad.m, VIRTIO_MMIO_STATUS) &
		  VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	cr_assert(mrd(&bad.m, VIRTIO_MMIO_INTERRUPT_STATUS) &
		  VIRTIO_MMIO_INT_CONFIG);
	cr_assert_eq(used_idx(t), 0);
	cr_assert_eq(bad.log.tx_calls, 0);

	/* Broken: host input is refused even into a posted buffer. */
	add_buf(&bad.rx, 0, bad.rx.buf, 8, VIRTQ_DESC_F_WRITE, 0);
	publish(&bad.rx, 0);
	cr_assert_eq(receive(&bad, "x"), 0);
	cr_assert_eq(used_idx(&bad.rx), 0);

	/* The other console is untouched, both ways. */
	add_buf(&good.tx, 0, put_text(good.tx.buf, "ok\n"), 3, 0, 0);
	publish(&good.tx, 0);
	kick(&good, VIRTIO_CONSOLE_TX_QUEUE);
	pump();
	cr_assert_eq(good.log.out_len, 3);
	cr_assert_arr_eq(good.log.out, "ok\n", 3);
	add_buf(&good.rx, 0, good.rx.buf, 8, VIRTQ_DESC_F_WRITE, 0);
	publish(&good.rx, 0);
	cr_assert_eq(receive(&good, "y"), 1);
	cr_assert_eq(used_idx(&good.rx), 1);
	cr_assert_not(mrd(&good.m, VIRTIO_MMIO_STATUS) &
		      VIRTIO_STATUS_DEVICE_NEEDS_RESET);

	/* A reset brings the broken one back, and its input with it. */
	mwr(&bad.m, VIRTIO_MMIO_STATUS, 0);
	cr_assert_eq(mrd(&bad.m, VIRTIO_MMIO_STATUS), 0);
	memset(gpa(bad.rx.desc), 0, 0x3000);
	memset(gpa(t->desc), 0, 0x3000);
	bad.rx.avail_idx = t->avail_idx = 0;
	driver_setup(&bad.m, &bad.rx, t, DRV_FEATURES_DEFAULT);
	add_buf(&bad.rx, 0, bad.rx.buf, 8, VIRTQ_DESC_F_WRITE, 0);
	publish(&bad.rx, 0);
	driver_ok(&bad.m);
	cr_assert_eq(bad.log.rx_ready, 1);
	cr_assert_eq(receive(&bad, "x"), 1);
	add_buf(t, 0, put_text(t->buf, "back\n"), 5, 0, 0);
	publish(t, 0);
	kick(&bad, VIRTIO_CONSOLE_TX_QUEUE);
	pump();
	cr_assert_eq(used_idx(t), 1);
	cr_assert_arr_eq(bad.log.out, "back\n", 5);
}

Test(virtio_console, writable_buffer_in_transmitq_needs_reset)
{
	static struct rig g;
	struct ring *t = &g.tx;

	rig_init(&g, RAM_BASE + 0x10000, 16);
	rig_up(&g, DRV_FEATURES_DEFAULT);
	add_buf(t, 0, put_text(t->buf, "hi"), 2, VIRTQ_DESC_F_NEXT, 1);
	add_buf(t, 1, t->buf + 0x100, 8, VIRTQ_DESC_F_WRITE, 0);
	publish(t, 0);
	kick(&g, VIRTIO_CONSOLE_TX_QUEUE);
	pump();
	cr_assert(mrd(&g.m, VIRTIO_MMIO_STATUS) &
		  VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	cr_assert_eq(g.log.tx_calls, 0, "nothing of a bad chain goes out");
	cr_assert_eq(used_idx(t), 0);
}

Test(virtio_console, readable_buffer_in_receiveq_needs_reset)
{
	static struct rig g;
	struct ring *r = &g.rx;

	rig_init(&g, RAM_BASE + 0x10000, 16);
	rig_up(&g, DRV_FEATURES_DEFAULT);
	add_buf(r, 0, r->buf, 8, 0, 0);
	publish(r, 0);
	cr_assert_eq(receive(&g, "z"), 0);
	cr_assert(mrd(&g.m, VIRTIO_MMIO_STATUS) &
		  VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	cr_assert(mrd(&g.m, VIRTIO_MMIO_INTERRUPT_STATUS) &
		  VIRTIO_MMIO_INT_CONFIG);
	cr_assert_eq(used_idx(r), 0);
	cr_assert_eq(*(uint8_t *)gpa(r->buf), 0, "not written");
}

Test(virtio_console, malformed_receiveq_needs_reset_on_input)
{
	static struct rig g;
	struct ring *r = &g.rx;

	rig_init(&g, RAM_BASE + 0x10000, 16);
	rig_up(&g, DRV_FEATURES_DEFAULT);
	/* A receive buffer running off the end of guest RAM. */
	add_buf(r, 0, RAM_BASE + RAM_SIZE - 4, 64, VIRTQ_DESC_F_WRITE, 0);
	publish(r, 0);
	cr_assert_eq(receive(&g, "z"), 0);
	cr_assert(mrd(&g.m, VIRTIO_MMIO_STATUS) &
		  VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	cr_assert_eq(used_idx(r), 0);
	cr_assert_eq(receive(&g, "z"), 0, "stays broken");
}
