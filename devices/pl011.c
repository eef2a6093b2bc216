// SPDX-License-Identifier: GPL-2.0
#include "pl011.h"

#include <string.h>

#include "../vmm/log.h"

/* PeriphID0-3 (part 0x011, designer Arm, revision r1p5) and PCellID0-3. */
static const uint8_t pl011_id[8] = { 0x11, 0x10, 0x14, 0x00,
				     0x0d, 0xf0, 0x05, 0xb1 };

/* IFLS RX trigger levels in eighths of the FIFO: 1/8, 1/4, 1/2, 3/4, 7/8. */
static const unsigned int pl011_rx_trigger_eighths[] = { 1, 2, 4, 6, 7 };

#define PL011_IFLS_RX_SHIFT 3
#define PL011_IFLS_MASK	    0x3f
#define PL011_DR_DATA_MASK  0xff

static unsigned int fifo_depth(const struct pl011 *u)
{
	return (u->lcr_h & PL011_LCR_H_FEN) ? PL011_FIFO_DEPTH : 1;
}

static unsigned int rx_trigger(const struct pl011 *u)
{
	unsigned int sel = (u->ifls >> PL011_IFLS_RX_SHIFT) & 7;

	if (!(u->lcr_h & PL011_LCR_H_FEN))
		return 1;
	if (sel >= sizeof(pl011_rx_trigger_eighths) / sizeof(unsigned int))
		sel = 2; /* reserved encodings: use the reset value */
	return PL011_FIFO_DEPTH * pl011_rx_trigger_eighths[sel] / 8;
}

/* Recompute the line from RIS & IMSC; call with the lock held. */
static void update_irq(struct pl011 *u)
{
	bool level;

	if (u->rx_count >= rx_trigger(u))
		u->ris |= PL011_INT_RX;
	else
		u->ris &= ~PL011_INT_RX;
	/*
	 * The receive timeout fires 32 bit periods after the last character
	 * when the FIFO holds data below the trigger level. Host input
	 * arrives in bursts, so raise it as soon as data waits.
	 */
	if (!u->rx_count)
		u->ris &= ~PL011_INT_RT;

	level = (u->ris & u->imsc) != 0;
	if (level != u->irq_level) {
		u->irq_level = level;
		if (u->be.set_irq)
			u->be.set_irq(u->be.opaque, level);
	}
}

static void reset_locked(struct pl011 *u)
{
	u->rx_head = u->rx_count = 0;
	u->rsr = u->ilpr = u->ibrd = u->fbrd = u->lcr_h = u->imsc = 0;
	u->dmacr = 0;
	/*
	 * The hardware resets to 0x300 (disabled); nestbox plays the firmware
	 * that enabled the console, so earlycon output is not lost.
	 */
	u->cr = PL011_CR_UARTEN | PL011_CR_TXE | PL011_CR_RXE;
	u->ifls = 0x12; /* 1/2 full for RX and TX */
	/* The TX FIFO is empty, so its "at or below level" interrupt is raised.
	 */
	u->ris = PL011_INT_TX;
	update_irq(u);
}

void pl011_init(struct pl011 *u, const struct pl011_backend *be)
{
	memset(u, 0, sizeof(*u));
	pthread_mutex_init(&u->lock, NULL);
	if (be)
		u->be = *be;
	reset_locked(u);
}

void pl011_reset(struct pl011 *u)
{
	pthread_mutex_lock(&u->lock);
	reset_locked(u);
	pthread_mutex_unlock(&u->lock);
}

void pl011_destroy(struct pl011 *u)
{
	pthread_mutex_destroy(&u->lock);
}

static uint32_t read_dr(struct pl011 *u)
{
	uint32_t v;
	bool notify;

	if (!u->rx_count)
		return 0;
	v = u->rx_fifo[u->rx_head];
	u->rx_head = (u->rx_head + 1) % PL011_FIFO_DEPTH;
	u->rx_count--;
	u->rsr = (v >> 8) & 0xf;
	notify = u->rx_blocked && !u->rx_count;
	if (notify) {
		u->rx_blocked = false;
		if (u->be.rx_ready)
			u->be.rx_ready(u->be.opaque);
	}
	update_irq(u);
	return v;
}

static uint32_t read_fr(const struct pl011 *u)
{
	uint32_t fr = PL011_FR_TXFE;

	if (!u->rx_count)
		fr |= PL011_FR_RXFE;
	if (u->rx_count >= fifo_depth(u))
		fr |= PL011_FR_RXFF;
	return fr;
}

static uint64_t pl011_read(void *dev, uint64_t off, unsigned int len)
{
	struct pl011 *u = dev;
	uint32_t v = 0;

	(void)len;
	pthread_mutex_lock(&u->lock);
	switch (off) {
	case PL011_DR:
		v = read_dr(u);
		break;
	case PL011_RSR:
		v = u->rsr;
		break;
	case PL011_FR:
		v = read_fr(u);
		break;
	case PL011_ILPR:
		v = u->ilpr;
		break;
	case PL011_IBRD:
		v = u->ibrd;
		break;
	case PL011_FBRD:
		v = u->fbrd;
		break;
	case PL011_LCR_H:
		v = u->lcr_h;
		break;
	case PL011_CR:
		v = u->cr;
		break;
	case PL011_IFLS:
		v = u->ifls;
		break;
	case PL011_IMSC:
		v = u->imsc;
		break;
	case PL011_RIS:
		v = u->ris;
		break;
	case PL011_MIS:
		v = u->ris & u->imsc;
		break;
	case PL011_DMACR:
		v = u->dmacr;
		break;
	default:
		if (off >= PL011_PERIPH_ID0 && off < PL011_REGION_SIZE &&
		    !(off & 3))
			v = pl011_id[(off - PL011_PERIPH_ID0) / 4];
		else
			pr_warn_once(
				u->warned_bad_access,
				"pl011: guest read of unknown register 0x%llx",
				(unsigned long long)off);
		break;
	}
	pthread_mutex_unlock(&u->lock);
	return v;
}

static void write_dr(struct pl011 *u, uint32_t v)
{
	/* DDI 0183 3.3.1: data is sent only while UARTEN and TXE are set. */
	if ((u->cr & (PL011_CR_UARTEN | PL011_CR_TXE)) ==
		    (PL011_CR_UARTEN | PL011_CR_TXE) &&
	    u->be.tx)
		u->be.tx(u->be.opaque, v & PL011_DR_DATA_MASK);
	/* The byte left the FIFO at once: it is empty again. */
	u->ris |= PL011_INT_TX;
}

static void pl011_write(void *dev, uint64_t off, uint64_t value,
			unsigned int len)
{
	struct pl011 *u = dev;
	uint32_t v = (uint32_t)value;

	(void)len;
	pthread_mutex_lock(&u->lock);
	switch (off) {
	case PL011_DR:
		write_dr(u, v);
		break;
	case PL011_RSR: /* ECR: any write clears the error flags */
		u->rsr = 0;
		break;
	case PL011_ILPR:
		u->ilpr = v & 0xff;
		break;
	case PL011_IBRD:
		u->ibrd = v & 0xffff;
		break;
	case PL011_FBRD:
		u->fbrd = v & 0x3f;
		break;
	case PL011_LCR_H:
		/* Changing FEN flushes the FIFOs (DDI 0183 3.3.7). */
		if ((u->lcr_h ^ v) & PL011_LCR_H_FEN)
			u->rx_count = u->rx_head = 0;
		u->lcr_h = v & 0xff;
		break;
	case PL011_CR:
		u->cr = v & 0xff87;
		break;
	case PL011_IFLS:
		u->ifls = v & PL011_IFLS_MASK;
		break;
	case PL011_IMSC:
		u->imsc = v & PL011_INT_ALL;
		break;
	case PL011_ICR:
		u->ris &= ~(v & PL011_INT_ALL);
		break;
	case PL011_DMACR:
		u->dmacr = v & 0x7;
		break;
	case PL011_FR:
	case PL011_RIS:
	case PL011_MIS:
		break; /* read-only */
	default:
		pr_warn_once(u->warned_bad_access,
			     "pl011: guest write of unknown register 0x%llx",
			     (unsigned long long)off);
		break;
	}
	update_irq(u);
	if (u->rx_blocked && u->rx_count < fifo_depth(u)) {
		/* e.g. a FIFO flush made room */
		u->rx_blocked = false;
		if (u->be.rx_ready)
			u->be.rx_ready(u->be.opaque);
	}
	pthread_mutex_unlock(&u->lock);
}

const struct mmio_ops pl011_mmio_ops = {
	.read = pl011_read,
	.write = pl011_write,
};

size_t pl011_rx_space(struct pl011 *u)
{
	size_t space;

	pthread_mutex_lock(&u->lock);
	space = fifo_depth(u) - u->rx_count;
	if (!space)
		u->rx_blocked = true;
	pthread_mutex_unlock(&u->lock);
	return space;
}

size_t pl011_receive(struct pl011 *u, const uint8_t *buf, size_t len)
{
	size_t n = 0;

	pthread_mutex_lock(&u->lock);
	while (n < len && u->rx_count < fifo_depth(u)) {
		unsigned int tail =
			(u->rx_head + u->rx_count) % PL011_FIFO_DEPTH;

		u->rx_fifo[tail] = buf[n++];
		u->rx_count++;
	}
	if (n < len)
		u->rx_blocked = true;
	if (n)
		u->ris |= PL011_INT_RT;
	update_irq(u);
	pthread_mutex_unlock(&u->lock);
	return n;
}
