/* SPDX-License-Identifier: GPL-2.0 */
/* virtio over MMIO, version 2 (virtio 1.2, section 4.2). */
#ifndef NESTBOX_VIRTIO_MMIO_H
#define NESTBOX_VIRTIO_MMIO_H

#include <stdbool.h>
#include <stdint.h>

#include "../host_ops.h"
#include "../mmio_bus.h"
#include "virtio.h"

#define VIRTIO_MMIO_SIZE 0x200

/* Register offsets (4.2.2) */
#define VIRTIO_MMIO_MAGIC_VALUE		0x000
#define VIRTIO_MMIO_VERSION		0x004
#define VIRTIO_MMIO_DEVICE_ID		0x008
#define VIRTIO_MMIO_VENDOR_ID		0x00c
#define VIRTIO_MMIO_DEVICE_FEATURES	0x010
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL 0x014
#define VIRTIO_MMIO_DRIVER_FEATURES	0x020
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL 0x024
#define VIRTIO_MMIO_QUEUE_SEL		0x030
#define VIRTIO_MMIO_QUEUE_NUM_MAX	0x034
#define VIRTIO_MMIO_QUEUE_NUM		0x038
#define VIRTIO_MMIO_QUEUE_READY		0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY	0x050
#define VIRTIO_MMIO_INTERRUPT_STATUS	0x060
#define VIRTIO_MMIO_INTERRUPT_ACK	0x064
#define VIRTIO_MMIO_STATUS		0x070
#define VIRTIO_MMIO_QUEUE_DESC_LOW	0x080
#define VIRTIO_MMIO_QUEUE_DESC_HIGH	0x084
#define VIRTIO_MMIO_QUEUE_DRIVER_LOW	0x090
#define VIRTIO_MMIO_QUEUE_DRIVER_HIGH	0x094
#define VIRTIO_MMIO_QUEUE_DEVICE_LOW	0x0a0
#define VIRTIO_MMIO_QUEUE_DEVICE_HIGH	0x0a4
#define VIRTIO_MMIO_SHM_SEL		0x0ac
#define VIRTIO_MMIO_SHM_LEN_LOW		0x0b0
#define VIRTIO_MMIO_SHM_LEN_HIGH	0x0b4
#define VIRTIO_MMIO_SHM_BASE_LOW	0x0b8
#define VIRTIO_MMIO_SHM_BASE_HIGH	0x0bc
#define VIRTIO_MMIO_QUEUE_RESET		0x0c0
#define VIRTIO_MMIO_CONFIG_GENERATION	0x0fc
#define VIRTIO_MMIO_CONFIG		0x100

#define VIRTIO_MMIO_MAGIC  0x74726976 /* "virt" */
#define VIRTIO_MMIO_VENDOR 0x4e425842 /* "NBXB" */

#define VIRTIO_MMIO_INT_VRING  1
#define VIRTIO_MMIO_INT_CONFIG 2

struct virtio_mmio {
	struct virtio_dev *vdev;
	const struct host_ops *host;
	uint64_t base;
	unsigned int spi;

	/* Interrupts through an irqfd (with resample) when the host offers it.
	 */
	int irq_fd, resample_fd;
	struct evloop_source resample_src;

	/* Under vdev->lock. */
	uint32_t device_features_sel, driver_features_sel, queue_sel;
	uint32_t interrupt_status;
	atomic_bool warned;
};

extern const struct mmio_ops virtio_mmio_ops;

/*
 * Attach @vdev behind an MMIO window at @base raising SPI @spi: sets up the
 * kick eventfds on host->loop and an ioeventfd on QueueNotify.
 */
int virtio_mmio_init(struct virtio_mmio *vm, struct virtio_dev *vdev,
		     const struct host_ops *host, uint64_t base,
		     unsigned int spi);

#endif
