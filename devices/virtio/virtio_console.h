/* SPDX-License-Identifier: GPL-2.0 */
/*
 * virtio console (virtio 1.2, section 5.3) with a single port: receiveq0
 * carries host input to the guest, transmitq0 guest output to the host. No
 * MULTIPORT, so no control queues. The host side mirrors the PL011's
 * (devices/pl011.h), so the host console can drive either: output comes
 * out of a tx callback, input goes in through virtio_console_receive(),
 * and refused input is offered again after the rx_ready callback.
 */
#ifndef NESTBOX_VIRTIO_CONSOLE_H
#define NESTBOX_VIRTIO_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtio.h"

#define VIRTIO_ID_CONSOLE 3

/* Feature bits (5.3.3) */
#define VIRTIO_CONSOLE_F_SIZE	     0
#define VIRTIO_CONSOLE_F_MULTIPORT   1
#define VIRTIO_CONSOLE_F_EMERG_WRITE 2

/* Virtqueues without MULTIPORT (5.3.2) */
#define VIRTIO_CONSOLE_RX_QUEUE	  0 /* receiveq0: device -> driver */
#define VIRTIO_CONSOLE_TX_QUEUE	  1 /* transmitq0: driver -> device */
#define VIRTIO_CONSOLE_NUM_QUEUES 2

/* What the console reports until told otherwise. */
#define VIRTIO_CONSOLE_DEFAULT_COLS 80
#define VIRTIO_CONSOLE_DEFAULT_ROWS 25

/* 5.3.4, little-endian. max_nr_ports and emerg_wr need features we lack. */
struct virtio_console_config {
	uint16_t cols;
	uint16_t rows;
	uint32_t max_nr_ports;
	uint32_t emerg_wr;
} __attribute__((packed));

struct virtio_console_backend {
	/*
	 * Bytes the guest transmitted, in order. Called on the event loop
	 * with the device lock held: must not call back into the device.
	 */
	void (*tx)(void *opaque, const uint8_t *buf, size_t len);
	/*
	 * The driver posted receive buffers (or came up) after
	 * virtio_console_receive() refused input: the host side may offer
	 * more. Any thread, device lock held: must not call back into the
	 * device (the console only signals an eventfd).
	 */
	void (*rx_ready)(void *opaque);
	void *opaque;
};

struct virtio_console {
	struct virtio_dev vdev;
	struct virtio_console_backend be;
	struct virtio_console_config config;

	/* Under vdev.lock. */
	bool rx_blocked; /* input was refused: call be.rx_ready when it can go
			  */
	struct virtq_elem elem;			    /* the chain being served */
	uint64_t bytes_transmitted, bytes_received; /* for tests and stats */
};

/* Build the device; @mem is what it reaches by DMA. */
void virtio_console_init(struct virtio_console *c, const struct guest_mem *mem,
			 const struct virtio_console_backend *be);

/* The embedded virtio device, for the transport. */
struct virtio_dev *virtio_console_vdev(struct virtio_console *c);

/*
 * Host input, from the event loop thread. Returns how many bytes went into
 * posted receive buffers (pushed, driver notified); the rest must be
 * offered again after the backend's rx_ready callback. Accepts nothing
 * before DRIVER_OK or while the device needs a reset.
 */
size_t virtio_console_receive(struct virtio_console *c, const uint8_t *buf,
			      size_t len);

/*
 * The host terminal's size changed (VIRTIO_CONSOLE_F_SIZE, 5.3.4): update
 * cols/rows and raise a configuration change interrupt if the driver is
 * live.
 */
void virtio_console_set_size(struct virtio_console *c, uint16_t cols,
			     uint16_t rows);

#endif
