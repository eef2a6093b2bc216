/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Arm PrimeCell UART (PL011), as described in the PL011 Technical Reference
 * Manual (ARM DDI 0183). Transmission is immediate (the TX FIFO is always
 * empty); the RX FIFO holds what the host typed until the guest reads it.
 */
#ifndef NESTBOX_PL011_H
#define NESTBOX_PL011_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmio_bus.h"

/* Register offsets (DDI 0183, 3.2 "Summary of registers"). */
#define PL011_DR	 0x000
#define PL011_RSR	 0x004 /* read: RSR, write: ECR */
#define PL011_FR	 0x018
#define PL011_ILPR	 0x020
#define PL011_IBRD	 0x024
#define PL011_FBRD	 0x028
#define PL011_LCR_H	 0x02c
#define PL011_CR	 0x030
#define PL011_IFLS	 0x034
#define PL011_IMSC	 0x038
#define PL011_RIS	 0x03c
#define PL011_MIS	 0x040
#define PL011_ICR	 0x044
#define PL011_DMACR	 0x048
#define PL011_PERIPH_ID0 0xfe0 /* 0xfe0..0xffc: PeriphID0-3, PCellID0-3 */

#define PL011_FR_BUSY (1u << 3)
#define PL011_FR_RXFE (1u << 4)
#define PL011_FR_TXFF (1u << 5)
#define PL011_FR_RXFF (1u << 6)
#define PL011_FR_TXFE (1u << 7)

#define PL011_LCR_H_FEN (1u << 4)

#define PL011_CR_UARTEN (1u << 0)
#define PL011_CR_TXE	(1u << 8)
#define PL011_CR_RXE	(1u << 9)

/* Interrupt bits of IMSC/RIS/MIS/ICR. */
#define PL011_INT_RX  (1u << 4)
#define PL011_INT_TX  (1u << 5)
#define PL011_INT_RT  (1u << 6)
#define PL011_INT_ALL 0x7ffu

#define PL011_FIFO_DEPTH  32
#define PL011_REGION_SIZE 0x1000

struct pl011_backend {
	/* A byte the guest transmitted. Called with the device lock held. */
	void (*tx)(void *opaque, uint8_t byte);
	/* The level of the interrupt line changed. */
	void (*set_irq)(void *opaque, bool level);
	/*
	 * The guest drained the RX FIFO after pl011_receive() refused input:
	 * the host side may offer more.
	 */
	void (*rx_ready)(void *opaque);
	void *opaque;
};

struct pl011 {
	pthread_mutex_t lock;
	struct pl011_backend be;

	uint16_t rx_fifo[PL011_FIFO_DEPTH];
	unsigned int rx_head, rx_count;
	bool rx_blocked; /* host input was refused; call rx_ready on drain */

	uint32_t rsr, ilpr, ibrd, fbrd, lcr_h, cr, ifls, imsc, ris, dmacr;
	bool irq_level;
	atomic_bool warned_bad_access;
};

extern const struct mmio_ops pl011_mmio_ops;

void pl011_init(struct pl011 *u, const struct pl011_backend *be);
void pl011_reset(struct pl011 *u);
void pl011_destroy(struct pl011 *u);

/* Free entries in the RX FIFO (depth 1 while the FIFO is disabled). */
size_t pl011_rx_space(struct pl011 *u);

/*
 * Host input. Returns how many bytes were accepted; the rest must be
 * offered again after the backend's rx_ready callback.
 */
size_t pl011_receive(struct pl011 *u, const uint8_t *buf, size_t len);

#endif
