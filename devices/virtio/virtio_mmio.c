// SPDX-License-Identifier: GPL-2.0
#include "virtio_mmio.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "../../vmm/log.h"

static void update_irq_locked(struct virtio_mmio *vm)
{
	if (vm->irq_fd >= 0) {
		/*
		 * irqfd: assert while anything is pending; the guest's EOI
		 * lowers the line and the resample handler re-asserts if the
		 * driver has not acknowledged everything by then.
		 */
		if (vm->interrupt_status) {
			uint64_t one = 1;
			ssize_t r = write(vm->irq_fd, &one, sizeof(one));

			(void)r;
		}
		return;
	}
	if (vm->host && vm->host->set_spi)
		vm->host->set_spi(vm->host->opaque, vm->spi,
				  vm->interrupt_status != 0);
}

static void resample_cb(struct evloop_source *src, int res)
{
	struct virtio_mmio *vm = src->opaque;

	(void)res;
	evloop_drain_eventfd(vm->resample_fd);
	pthread_mutex_lock(&vm->vdev->lock);
	update_irq_locked(vm);
	pthread_mutex_unlock(&vm->vdev->lock);
}

static void mmio_notify_queue(struct virtio_dev *vdev, unsigned int q)
{
	struct virtio_mmio *vm = vdev->transport;

	(void)q;
	/* Called with vdev->lock held (queue processing). */
	vm->interrupt_status |= VIRTIO_MMIO_INT_VRING;
	update_irq_locked(vm);
}

static void mmio_notify_config(struct virtio_dev *vdev)
{
	struct virtio_mmio *vm = vdev->transport;

	vdev->config_generation++;
	vm->interrupt_status |= VIRTIO_MMIO_INT_CONFIG;
	update_irq_locked(vm);
}

static const struct virtio_transport_ops mmio_transport_ops = {
	.notify_queue = mmio_notify_queue,
	.notify_config = mmio_notify_config,
};

static uint32_t read_queue_reg(struct virtio_mmio *vm, uint64_t off)
{
	struct virtio_dev *vdev = vm->vdev;
	unsigned int q = vm->queue_sel;
	struct virtq *vq;

	if (q >= vdev->ops->num_queues)
		return 0; /* 4.2.2: QueueNumMax reads 0 for an absent queue */
	vq = &vdev->vqs[q];
	switch (off) {
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
		return VIRTQ_SIZE_MAX;
	case VIRTIO_MMIO_QUEUE_NUM:
		return vdev->qcfg[q].size;
	case VIRTIO_MMIO_QUEUE_READY:
		return vdev->qcfg[q].ready;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
		return (uint32_t)vq->desc_addr;
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
		return vq->desc_addr >> 32;
	case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
		return (uint32_t)vq->avail_addr;
	case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
		return vq->avail_addr >> 32;
	case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
		return (uint32_t)vq->used_addr;
	case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
		return vq->used_addr >> 32;
	}
	return 0;
}

static uint64_t virtio_mmio_read(void *dev, uint64_t off, unsigned int len)
{
	struct virtio_mmio *vm = dev;
	struct virtio_dev *vdev = vm->vdev;
	uint32_t v = 0;

	if (off >= VIRTIO_MMIO_CONFIG) {
		uint64_t val = 0;

		virtio_config_read(vdev, off - VIRTIO_MMIO_CONFIG, &val, len);
		return val;
	}
	/* 4.2.2.2: registers below the config space are 32-bit only. */
	if (len != 4 || (off & 3)) {
		pr_warn_once(
			vm->warned,
			"%s: %u-byte read of register 0x%llx ignored (logged once)",
			vdev->label, len, (unsigned long long)off);
		return 0;
	}
	pthread_mutex_lock(&vdev->lock);
	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE:
		v = VIRTIO_MMIO_MAGIC;
		break;
	case VIRTIO_MMIO_VERSION:
		v = 2;
		break;
	case VIRTIO_MMIO_DEVICE_ID:
		v = vdev->ops->device_id;
		break;
	case VIRTIO_MMIO_VENDOR_ID:
		v = VIRTIO_MMIO_VENDOR;
		break;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		v = virtio_device_features(vdev, vm->device_features_sel);
		break;
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		v = vm->interrupt_status;
		break;
	case VIRTIO_MMIO_STATUS:
		v = vdev->status;
		break;
	case VIRTIO_MMIO_CONFIG_GENERATION:
		v = vdev->config_generation;
		break;
	case VIRTIO_MMIO_SHM_LEN_LOW:
	case VIRTIO_MMIO_SHM_LEN_HIGH:
		v = 0xffffffff; /* 4.2.2: no shared memory region */
		break;
	default:
		v = read_queue_reg(vm, off);
		break;
	}
	pthread_mutex_unlock(&vdev->lock);
	return v;
}

/* Queue registers; called with vdev->lock held. */
static void write_queue_reg(struct virtio_mmio *vm, uint64_t off, uint32_t v)
{
	struct virtio_dev *vdev = vm->vdev;
	unsigned int q = vm->queue_sel;
	struct virtq *vq = &vdev->vqs[q < VIRTIO_MAX_QUEUES ? q : 0];

	if (!virtio_queue_configurable(vdev, q)) {
		/* QueueReady 0 on an enabled queue is a per-queue reset
		 * (4.2.3.4.2). */
		if (off == VIRTIO_MMIO_QUEUE_READY && !v &&
		    q < vdev->ops->num_queues)
			vdev->qcfg[q].ready = false;
		return;
	}
	switch (off) {
	case VIRTIO_MMIO_QUEUE_NUM:
		vdev->qcfg[q].size = v; /* validated by virtq_enable() */
		break;
	case VIRTIO_MMIO_QUEUE_READY:
		vdev->qcfg[q].ready = v & 1;
		break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
		virtio_set_addr_half(&vq->desc_addr,
				     off == VIRTIO_MMIO_QUEUE_DESC_HIGH, v);
		break;
	case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
	case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
		virtio_set_addr_half(&vq->avail_addr,
				     off == VIRTIO_MMIO_QUEUE_DRIVER_HIGH, v);
		break;
	case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
	case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
		virtio_set_addr_half(&vq->used_addr,
				     off == VIRTIO_MMIO_QUEUE_DEVICE_HIGH, v);
		break;
	}
}

static void virtio_mmio_write(void *dev, uint64_t off, uint64_t value,
			      unsigned int len)
{
	struct virtio_mmio *vm = dev;
	struct virtio_dev *vdev = vm->vdev;
	uint32_t v = (uint32_t)value;

	if (off >= VIRTIO_MMIO_CONFIG) {
		virtio_config_write(vdev, off - VIRTIO_MMIO_CONFIG, &value,
				    len);
		return;
	}
	if (len != 4 || (off & 3)) {
		pr_warn_once(
			vm->warned,
			"%s: %u-byte write of register 0x%llx ignored (logged once)",
			vdev->label, len, (unsigned long long)off);
		return;
	}
	switch (off) {
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		/* Only reached when no ioeventfd caught the write. */
		virtio_kick(vdev, v & 0xffff);
		return;
	case VIRTIO_MMIO_STATUS:
		virtio_set_status(vdev, v & 0xff);
		if (!v) {
			pthread_mutex_lock(&vdev->lock);
			vm->interrupt_status = 0;
			vm->queue_sel = vm->device_features_sel = 0;
			vm->driver_features_sel = 0;
			update_irq_locked(vm);
			pthread_mutex_unlock(&vdev->lock);
		}
		return;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		virtio_set_driver_features(vdev, vm->driver_features_sel, v);
		return;
	}
	pthread_mutex_lock(&vdev->lock);
	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		vm->device_features_sel = v;
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		vm->driver_features_sel = v;
		break;
	case VIRTIO_MMIO_QUEUE_SEL:
		vm->queue_sel = v;
		break;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		vm->interrupt_status &= ~v;
		update_irq_locked(vm);
		break;
	case VIRTIO_MMIO_SHM_SEL:
		break;
	default:
		write_queue_reg(vm, off, v);
		break;
	}
	pthread_mutex_unlock(&vdev->lock);
}

const struct mmio_ops virtio_mmio_ops = {
	.read = virtio_mmio_read,
	.write = virtio_mmio_write,
};

int virtio_mmio_init(struct virtio_mmio *vm, struct virtio_dev *vdev,
		     const struct host_ops *host, uint64_t base,
		     unsigned int spi)
{
	int r;

	memset(vm, 0, sizeof(*vm));
	vm->vdev = vdev;
	vm->host = host;
	vm->base = base;
	vm->spi = spi;
	vm->irq_fd = vm->resample_fd = -1;
	vdev->tops = &mmio_transport_ops;
	vdev->transport = vm;
	if (!host || !host->loop)
		return 0;
	r = virtio_setup_kicks(vdev, host->loop);
	if (r)
		return r;
	if (host->spi_irqfd) {
		vm->irq_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		vm->resample_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (vm->irq_fd < 0 || vm->resample_fd < 0)
			return -errno;
		r = host->spi_irqfd(host->opaque, spi, vm->irq_fd,
				    vm->resample_fd);
		if (r < 0)
			return r;
		r = evloop_add(host->loop, &vm->resample_src, vm->resample_fd,
			       POLLIN, true, resample_cb, vm);
		if (r)
			return r;
	}
	for (unsigned int q = 0; host->ioeventfd && q < vdev->ops->num_queues;
	     q++) {
		r = host->ioeventfd(host->opaque,
				    base + VIRTIO_MMIO_QUEUE_NOTIFY, 4, true, q,
				    vdev->qcfg[q].kick_fd, true);
		if (r)
			pr_info("%s: no ioeventfd for queue %u (%d); notifications trap",
				vdev->label, q, r);
	}
	return 0;
}
