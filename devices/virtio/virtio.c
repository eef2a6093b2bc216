// SPDX-License-Identifier: GPL-2.0
#include "virtio.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>

#include "../../vmm/log.h"

void virtio_dev_init(struct virtio_dev *vdev, const struct virtio_dev_ops *ops,
		     void *priv, uint8_t *config, const struct guest_mem *mem)
{
	memset(vdev, 0, sizeof(*vdev));
	vdev->ops = ops;
	vdev->priv = priv;
	vdev->config = config;
	vdev->label = ops->name;
	/* Modern devices only: VERSION_1 is always offered. */
	vdev->device_features = ops->features | (1ULL << VIRTIO_F_VERSION_1);
	pthread_mutex_init(&vdev->lock, NULL);
	dma_space_init_identity(&vdev->dma, mem);
	for (unsigned int q = 0; q < VIRTIO_MAX_QUEUES; q++) {
		vdev->qcfg[q].size = VIRTQ_SIZE_MAX;
		vdev->qcfg[q].kick_fd = -1;
		vdev->qcfg[q].vdev = vdev;
	}
}

void virtio_dev_set_dma(struct virtio_dev *vdev, const struct dma_space *dma)
{
	vdev->dma = *dma;
	vdev->platform_dma = true;
	vdev->device_features |= 1ULL << VIRTIO_F_ACCESS_PLATFORM;
}

int virtio_queue_pop(struct virtio_dev *vdev, unsigned int q,
		     struct virtq_elem *elem)
{
	int r;

	while ((r = virtq_pop(&vdev->vqs[q], elem)) == -EFAULT) {
		atomic_fetch_add(&vdev->dma_faults, 1);
		virtio_queue_done(vdev, q);
	}
	return r;
}

static void kick_cb(struct evloop_source *src, int res)
{
	struct virtio_queue_cfg *qc = src->opaque;
	struct virtio_dev *vdev = qc->vdev;
	unsigned int q = qc - vdev->qcfg;

	(void)res;
	evloop_drain_eventfd(qc->kick_fd);
	pthread_mutex_lock(&vdev->lock);
	if ((vdev->status & VIRTIO_STATUS_DRIVER_OK) &&
	    !atomic_load(&vdev->broken) && vdev->vqs[q].enabled)
		vdev->ops->queue_notify(vdev, q);
	pthread_mutex_unlock(&vdev->lock);
}

int virtio_setup_kicks(struct virtio_dev *vdev, struct evloop *loop)
{
	for (unsigned int q = 0; q < vdev->ops->num_queues; q++) {
		struct virtio_queue_cfg *qc = &vdev->qcfg[q];
		int r;

		qc->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (qc->kick_fd < 0)
			return -errno;
		r = evloop_add(loop, &qc->kick_src, qc->kick_fd, POLLIN, true,
			       kick_cb, qc);
		if (r)
			return r;
	}
	return 0;
}

void virtio_kick(struct virtio_dev *vdev, unsigned int q)
{
	uint64_t one = 1;

	if (q < vdev->ops->num_queues && vdev->qcfg[q].kick_fd >= 0) {
		ssize_t r = write(vdev->qcfg[q].kick_fd, &one, sizeof(one));

		(void)r;
	}
}

uint32_t virtio_device_features(struct virtio_dev *vdev, unsigned int sel)
{
	if (sel > 1)
		return 0;
	return (uint32_t)(vdev->device_features >> (32 * sel));
}

void virtio_set_driver_features(struct virtio_dev *vdev, unsigned int sel,
				uint32_t value)
{
	uint64_t mask;

	if (sel > 1)
		return;
	pthread_mutex_lock(&vdev->lock);
	/* 3.1.1: features are fixed once FEATURES_OK is set. */
	if (!(vdev->status & VIRTIO_STATUS_FEATURES_OK)) {
		mask = 0xffffffffULL << (32 * sel);
		vdev->driver_features = (vdev->driver_features & ~mask) |
					((uint64_t)value << (32 * sel));
	}
	pthread_mutex_unlock(&vdev->lock);
}

uint8_t virtio_get_status(struct virtio_dev *vdev)
{
	uint8_t s;

	pthread_mutex_lock(&vdev->lock);
	s = vdev->status;
	pthread_mutex_unlock(&vdev->lock);
	return s;
}

static void reset_locked(struct virtio_dev *vdev)
{
	if (vdev->ops->reset)
		vdev->ops->reset(vdev);
	for (unsigned int q = 0; q < VIRTIO_MAX_QUEUES; q++) {
		virtq_disable(&vdev->vqs[q]);
		memset(&vdev->vqs[q], 0, sizeof(vdev->vqs[q]));
		vdev->qcfg[q].size = VIRTQ_SIZE_MAX;
		vdev->qcfg[q].ready = false;
	}
	vdev->status = 0;
	vdev->config_generation++;
	vdev->driver_features = 0;
	atomic_store(&vdev->broken, false);
}

static int activate_locked(struct virtio_dev *vdev)
{
	for (unsigned int q = 0; q < vdev->ops->num_queues; q++) {
		struct virtq *vq = &vdev->vqs[q];

		if (!vdev->qcfg[q].ready)
			continue;
		vq->size = vdev->qcfg[q].size;
		if (virtq_enable(vq, &vdev->dma, vdev->driver_features)) {
			pr_warn_once(
				vdev->warned,
				"%s: queue %u has a bad size or ring address (logged once)",
				vdev->label, q);
			return -1;
		}
	}
	return vdev->ops->activate ? vdev->ops->activate(vdev) : 0;
}

void virtio_set_status(struct virtio_dev *vdev, uint8_t status)
{
	uint8_t old;
	bool raise_config = false;

	pthread_mutex_lock(&vdev->lock);
	old = vdev->status;
	if (status == 0) {
		reset_locked(vdev);
		pthread_mutex_unlock(&vdev->lock);
		return;
	}
	/* NEEDS_RESET is the device's to set; the driver cannot clear it. */
	status = (status & ~VIRTIO_STATUS_DEVICE_NEEDS_RESET) |
		 (old & VIRTIO_STATUS_DEVICE_NEEDS_RESET);

	if ((status & VIRTIO_STATUS_FEATURES_OK) &&
	    !(old & VIRTIO_STATUS_FEATURES_OK)) {
		/* 3.1.1: refuse features we never offered, and legacy drivers.
		 */
		if ((vdev->driver_features & ~vdev->device_features) ||
		    !(vdev->driver_features & (1ULL << VIRTIO_F_VERSION_1)))
			status &= ~VIRTIO_STATUS_FEATURES_OK;
		if (vdev->platform_dma &&
		    !(vdev->driver_features &
		      (1ULL << VIRTIO_F_ACCESS_PLATFORM))) {
			pr_warn_once(
				vdev->warned,
				"%s: the driver refused VIRTIO_F_ACCESS_PLATFORM; the device sits behind the vIOMMU and will not start (logged once)",
				vdev->label);
			status &= ~VIRTIO_STATUS_FEATURES_OK;
		}
	}
	if ((status & VIRTIO_STATUS_DRIVER_OK) &&
	    !(old & VIRTIO_STATUS_DRIVER_OK)) {
		if (!(status & VIRTIO_STATUS_FEATURES_OK)) {
			status &= ~VIRTIO_STATUS_DRIVER_OK;
		} else if (activate_locked(vdev)) {
			status |= VIRTIO_STATUS_DEVICE_NEEDS_RESET;
			atomic_store(&vdev->broken, true);
			raise_config = true;
		}
	}
	vdev->status = status;
	if (raise_config && vdev->tops && vdev->tops->notify_config)
		vdev->tops->notify_config(vdev);
	pthread_mutex_unlock(&vdev->lock);
}

void virtio_config_read(struct virtio_dev *vdev, uint32_t off, void *buf,
			uint32_t len)
{
	memset(buf, 0, len);
	if (!vdev->config || off >= vdev->ops->config_size ||
	    len > vdev->ops->config_size - off)
		return;
	pthread_mutex_lock(&vdev->lock);
	memcpy(buf, vdev->config + off, len);
	pthread_mutex_unlock(&vdev->lock);
}

void virtio_config_write(struct virtio_dev *vdev, uint32_t off, const void *buf,
			 uint32_t len)
{
	if (!vdev->ops->config_write || off >= vdev->ops->config_size ||
	    len > vdev->ops->config_size - off)
		return;
	pthread_mutex_lock(&vdev->lock);
	vdev->ops->config_write(vdev, off, buf, len);
	pthread_mutex_unlock(&vdev->lock);
}

bool virtio_queue_configurable(struct virtio_dev *vdev, unsigned int q)
{
	return q < vdev->ops->num_queues && !vdev->qcfg[q].ready &&
	       !(vdev->status & VIRTIO_STATUS_DRIVER_OK);
}

void virtio_device_error(struct virtio_dev *vdev, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	bool first;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	first = !atomic_exchange(&vdev->broken, true);
	/* 2.1.2: only a live driver is told; it must reset the device. */
	if (vdev->status & VIRTIO_STATUS_DRIVER_OK)
		vdev->status |= VIRTIO_STATUS_DEVICE_NEEDS_RESET;
	if (!first)
		return;
	pr_warn_once(vdev->warned, "%s: %s; device needs reset (logged once)",
		     vdev->label, msg);
	if (vdev->tops && vdev->tops->notify_config)
		vdev->tops->notify_config(vdev);
}

void virtio_queue_done(struct virtio_dev *vdev, unsigned int q)
{
	if (virtq_should_notify(&vdev->vqs[q]) && vdev->tops &&
	    vdev->tops->notify_queue)
		vdev->tops->notify_queue(vdev, q);
}
