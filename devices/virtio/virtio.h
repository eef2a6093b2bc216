/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Transport-independent virtio 1.x device core: status state machine,
 * feature negotiation, queues, device error state. Device models (blk, net,
 * rng, ...) fill struct virtio_dev_ops; transports (PCI, MMIO) call the
 * virtio_*() accessors from vCPU threads and get interrupts back through
 * struct virtio_transport_ops. Queue processing runs on the event loop.
 */
#ifndef NESTBOX_VIRTIO_H
#define NESTBOX_VIRTIO_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "../../iommu/dma.h"
#include "../../vmm/evloop.h"
#include "virtq.h"

/* Device status bits (virtio 1.2, 2.1) */
#define VIRTIO_STATUS_ACKNOWLEDGE	 1
#define VIRTIO_STATUS_DRIVER		 2
#define VIRTIO_STATUS_DRIVER_OK		 4
#define VIRTIO_STATUS_FEATURES_OK	 8
#define VIRTIO_STATUS_DEVICE_NEEDS_RESET 64
#define VIRTIO_STATUS_FAILED		 128

/* Reserved feature bits (6) */
#define VIRTIO_F_VERSION_1	 32
#define VIRTIO_F_ACCESS_PLATFORM 33

#define VIRTIO_MAX_QUEUES 16

struct virtio_dev;

struct virtio_dev_ops {
	const char *name;
	uint32_t device_id;
	unsigned int num_queues;
	uint64_t features; /* offered device-specific and ring features */
	uint32_t config_size;
	/* Config space reads/writes, already bounds-checked; may be NULL. */
	void (*config_write)(struct virtio_dev *vdev, uint32_t off,
			     const void *buf, uint32_t len);
	/* DRIVER_OK with all enabled queues mapped. Nonzero: device error. */
	int (*activate)(struct virtio_dev *vdev);
	/* Driver reset: drop in-flight work, return to the initial state. */
	void (*reset)(struct virtio_dev *vdev);
	/*
	 * The driver kicked queue @q. Event loop thread, vdev->lock held, the
	 * device live (DRIVER_OK, not broken, queue enabled).
	 */
	void (*queue_notify)(struct virtio_dev *vdev, unsigned int q);
};

/* Both are called with vdev->lock held. */
struct virtio_transport_ops {
	/* Raise the used-buffer interrupt of queue @q. */
	void (*notify_queue)(struct virtio_dev *vdev, unsigned int q);
	/* Raise the configuration-change interrupt. */
	void (*notify_config)(struct virtio_dev *vdev);
};

struct virtio_queue_cfg {
	uint16_t size; /* driver's QueueNum */
	bool ready;
	int kick_fd; /* eventfd the driver's notifications land on */
	struct evloop_source kick_src;
	struct virtio_dev *vdev;
};

struct virtio_dev {
	const struct virtio_dev_ops *ops;
	void *priv;
	const struct virtio_transport_ops *tops;
	void *transport;
	const char *label; /* for log lines, e.g. "virtio-blk 0000:00:01.0" */

	/* Guards status, features and queue set-up against vCPU threads. */
	pthread_mutex_t lock;
	uint8_t status;
	uint8_t config_generation;
	uint64_t device_features;
	uint64_t driver_features;
	uint8_t *config; /* ops->config_size bytes, owned by the device */

	struct virtq vqs[VIRTIO_MAX_QUEUES];
	struct virtio_queue_cfg qcfg[VIRTIO_MAX_QUEUES];
	struct dma_space dma;
	/* Behind a vIOMMU: ACCESS_PLATFORM offered, and required. */
	bool platform_dma;
	/* Chains failed by the vIOMMU (virtq_pop() -EFAULT). */
	atomic_uint_fast64_t dma_faults;

	/* Set by virtio_device_error(); queue processing stops. */
	atomic_bool broken;
	atomic_bool warned;
};

void virtio_dev_init(struct virtio_dev *vdev, const struct virtio_dev_ops *ops,
		     void *priv, uint8_t *config, const struct guest_mem *mem);

/*
 * Put the device behind a vIOMMU: its DMA goes through @dma (copied), and
 * it offers VIRTIO_F_ACCESS_PLATFORM. A driver that does not accept that
 * feature would give the device physical addresses, around the IOMMU it
 * was promised; FEATURES_OK is refused then (virtio 1.2, 6: the device
 * may fail to operate). Before the driver starts only.
 */
void virtio_dev_set_dma(struct virtio_dev *vdev, const struct dma_space *dma);

/*
 * virtq_pop() for device models: a chain the vIOMMU refused (-EFAULT) has
 * already gone back to the driver with length 0; interrupt the driver for
 * it and take the next. Returns 1, 0 or -EINVAL like virtq_pop(). vdev->lock
 * held.
 */
int virtio_queue_pop(struct virtio_dev *vdev, unsigned int q,
		     struct virtq_elem *elem);

/*
 * Create one kick eventfd per queue and watch them on @loop: a kick runs
 * ops->queue_notify there. Returns 0 or -errno.
 */
int virtio_setup_kicks(struct virtio_dev *vdev, struct evloop *loop);
/* A trapped notification (no ioeventfd): forward it to the loop. */
void virtio_kick(struct virtio_dev *vdev, unsigned int q);

/* Accessors for transports (vCPU threads). */
uint32_t virtio_device_features(struct virtio_dev *vdev, unsigned int sel);
void virtio_set_driver_features(struct virtio_dev *vdev, unsigned int sel,
				uint32_t value);
uint8_t virtio_get_status(struct virtio_dev *vdev);
void virtio_set_status(struct virtio_dev *vdev, uint8_t status);
void virtio_config_read(struct virtio_dev *vdev, uint32_t off, void *buf,
			uint32_t len);
void virtio_config_write(struct virtio_dev *vdev, uint32_t off, const void *buf,
			 uint32_t len);
/* Queue set-up is only accepted before the queue is enabled. */
bool virtio_queue_configurable(struct virtio_dev *vdev, unsigned int q);

/*
 * The guest broke the device's contract: set DEVICE_NEEDS_RESET, raise a
 * config interrupt and log once. Other devices are unaffected. Called with
 * vdev->lock held, as all device-side work is.
 */
void virtio_device_error(struct virtio_dev *vdev, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* After pushing used buffers on @q (lock held): interrupt the driver if it
 * wants. */
void virtio_queue_done(struct virtio_dev *vdev, unsigned int q);

/* Transports expose 64-bit ring addresses as two 32-bit registers. */
static inline void virtio_set_addr_half(uint64_t *addr, bool high, uint32_t v)
{
	if (high)
		*addr = (*addr & 0xffffffffULL) | (uint64_t)v << 32;
	else
		*addr = (*addr & ~0xffffffffULL) | v;
}

static inline bool virtio_has_feature(const struct virtio_dev *vdev,
				      unsigned int bit)
{
	return vdev->driver_features & (1ULL << bit);
}

#endif
