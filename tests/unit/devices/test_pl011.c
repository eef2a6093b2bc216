// SPDX-License-Identifier: GPL-2.0
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "devices/pl011.h"

struct host {
	char out[256];
	int nout;
	bool irq;
	int irq_changes;
	int rx_ready;
};

static void h_tx(void *o, uint8_t b)
{
	struct host *h = o;

	h->out[h->nout++] = b;
}

static void h_irq(void *o, bool level)
{
	struct host *h = o;

	h->irq = level;
	h->irq_changes++;
}

static void h_ready(void *o)
{
	((struct host *)o)->rx_ready++;
}

static struct pl011 u;
static struct host h;

static void setup(void)
{
	const struct pl011_backend be = { h_tx, h_irq, h_ready, &h };

	memset(&h, 0, sizeof(h));
	pl011_init(&u, &be);
}

static uint32_t rd(uint64_t off)
{
	return pl011_mmio_ops.read(&u, off, 4);
}

static void wr(uint64_t off, uint32_t v)
{
	pl011_mmio_ops.write(&u, off, v, 4);
}

TestSuite(pl011, .init = setup);

Test(pl011, primecell_ids)
{
	static const uint8_t id[8] = { 0x11, 0x10, 0x14, 0x00,
				       0x0d, 0xf0, 0x05, 0xb1 };

	for (int i = 0; i < 8; i++)
		cr_assert_eq(rd(PL011_PERIPH_ID0 + 4 * i), id[i], "id %d", i);
}

Test(pl011, transmit_goes_to_the_host)
{
	wr(PL011_DR, 'h');
	wr(PL011_DR, 0x169); /* only bits 7:0 are data */
	cr_assert_eq(h.nout, 2);
	cr_assert_eq(h.out[0], 'h');
	cr_assert_eq(h.out[1], 'i');
	cr_assert(rd(PL011_FR) & PL011_FR_TXFE);
	cr_assert_not(rd(PL011_FR) & PL011_FR_TXFF);
}

Test(pl011, transmit_needs_uart_and_tx_enabled)
{
	wr(PL011_CR, PL011_CR_TXE | PL011_CR_RXE); /* UARTEN clear */
	wr(PL011_DR, 'x');
	wr(PL011_CR, PL011_CR_UARTEN | PL011_CR_RXE); /* TXE clear */
	wr(PL011_DR, 'y');
	cr_assert_eq(h.nout, 0);
}

Test(pl011, receive_fifo_order_and_flags)
{
	cr_assert(rd(PL011_FR) & PL011_FR_RXFE);
	wr(PL011_LCR_H, PL011_LCR_H_FEN);
	cr_assert_eq(pl011_receive(&u, (const uint8_t *)"abc", 3), 3);
	cr_assert_not(rd(PL011_FR) & PL011_FR_RXFE);
	cr_assert_eq(rd(PL011_DR), 'a');
	cr_assert_eq(rd(PL011_DR), 'b');
	cr_assert_eq(rd(PL011_DR), 'c');
	cr_assert(rd(PL011_FR) & PL011_FR_RXFE);
	cr_assert_eq(rd(PL011_DR), 0, "empty FIFO reads 0");
}

Test(pl011, fifo_full_applies_back_pressure)
{
	uint8_t buf[100];

	memset(buf, 'q', sizeof(buf));
	wr(PL011_LCR_H, PL011_LCR_H_FEN);
	cr_assert_eq(pl011_receive(&u, buf, sizeof(buf)), PL011_FIFO_DEPTH);
	cr_assert(rd(PL011_FR) & PL011_FR_RXFF);
	cr_assert_eq(pl011_rx_space(&u), 0);
	cr_assert_eq(pl011_receive(&u, buf, 1), 0);
	for (int i = 0; i < PL011_FIFO_DEPTH - 1; i++)
		rd(PL011_DR);
	cr_assert_eq(h.rx_ready, 0, "ready only once drained");
	rd(PL011_DR);
	cr_assert_eq(h.rx_ready, 1);
}

Test(pl011, fifo_disabled_holds_one_character)
{
	cr_assert_eq(pl011_receive(&u, (const uint8_t *)"xy", 2), 1);
	cr_assert(rd(PL011_FR) & PL011_FR_RXFF);
	cr_assert_eq(rd(PL011_DR), 'x');
	cr_assert_eq(h.rx_ready, 1);
}

Test(pl011, rx_and_timeout_interrupts)
{
	wr(PL011_LCR_H, PL011_LCR_H_FEN);
	wr(PL011_IMSC, PL011_INT_RX | PL011_INT_RT);
	cr_assert_not(h.irq);
	pl011_receive(&u, (const uint8_t *)"a", 1);
	/* Below the 1/2 trigger: only the receive timeout is raised. */
	cr_assert(h.irq);
	cr_assert_eq(rd(PL011_MIS), PL011_INT_RT);
	rd(PL011_DR);
	cr_assert_not(h.irq, "draining clears the line");

	uint8_t buf[16];
	memset(buf, 'z', sizeof(buf));
	pl011_receive(&u, buf, 16); /* 16 = 1/2 of 32 */
	cr_assert(rd(PL011_RIS) & PL011_INT_RX);
	wr(PL011_ICR, PL011_INT_RT);
	cr_assert(h.irq, "RX stays while the FIFO is at the trigger level");
	rd(PL011_DR);
	cr_assert_not(rd(PL011_RIS) & PL011_INT_RX);
	cr_assert_not(h.irq);
}

Test(pl011, trigger_level_follows_ifls)
{
	uint8_t buf[4] = "abcd";

	wr(PL011_LCR_H, PL011_LCR_H_FEN);
	wr(PL011_IFLS, 0 << 3); /* RX at 1/8 = 4 */
	wr(PL011_IMSC, PL011_INT_RX);
	pl011_receive(&u, buf, 3);
	cr_assert_not(h.irq);
	pl011_receive(&u, buf, 1);
	cr_assert(h.irq);
	wr(PL011_IFLS, 7 << 3); /* reserved encoding: treated as 1/2 */
	cr_assert_not(h.irq);
}

Test(pl011, tx_interrupt_clears_and_rearms)
{
	wr(PL011_IMSC, PL011_INT_TX);
	cr_assert(h.irq, "an empty TX FIFO raises TX at once");
	wr(PL011_ICR, PL011_INT_TX);
	cr_assert_not(h.irq);
	wr(PL011_DR, 'a');
	cr_assert(h.irq);
	wr(PL011_IMSC, 0);
	cr_assert_not(h.irq);
}

Test(pl011, registers_keep_only_their_bits)
{
	wr(PL011_IBRD, 0xffffffff);
	cr_assert_eq(rd(PL011_IBRD), 0xffff);
	wr(PL011_FBRD, 0xffffffff);
	cr_assert_eq(rd(PL011_FBRD), 0x3f);
	wr(PL011_IMSC, 0xffffffff);
	cr_assert_eq(rd(PL011_IMSC), PL011_INT_ALL);
	wr(PL011_RIS, 0); /* read-only */
	wr(PL011_FR, 0);
	cr_assert(rd(PL011_FR) & PL011_FR_TXFE);
}

Test(pl011, hostile_offsets_are_harmless)
{
	for (uint64_t off = 0; off < PL011_REGION_SIZE; off += 1) {
		pl011_mmio_ops.write(&u, off, 0xffffffffffffffffULL, 1);
		(void)pl011_mmio_ops.read(&u, off, 8);
	}
	cr_assert(atomic_load(&u.warned_bad_access));
	/* The device still works afterwards. */
	pl011_reset(&u);
	wr(PL011_DR, 'k');
	cr_assert_eq(h.out[h.nout - 1], 'k');
}

Test(pl011, changing_fen_flushes_rx)
{
	wr(PL011_LCR_H, PL011_LCR_H_FEN);
	pl011_receive(&u, (const uint8_t *)"abc", 3);
	wr(PL011_LCR_H, 0);
	cr_assert(rd(PL011_FR) & PL011_FR_RXFE);
}
