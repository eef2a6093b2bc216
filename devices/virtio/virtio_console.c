// SPDX-License-Identifier: GPL-2.0
/*
 * virtio console, one port, no MULTIPORT (virtio 1.2, section 5.3).
 *
 * transmitq0 is served when the driver kicks it: every chain goes to the
 * backend and back with length 0. receiveq0 is the other way round: the
 * driver posts empty buffers and they wait in the ring until the host has
 * input, which virtio_console_receive() copies in. When input finds no
 * buffer, the device asks the driver to kick receiveq0 when it posts one
 * and the backend hears rx_ready then; that is the PL011's "FIFO drained".
 *
 * Everything runs under vdev->lock (see virtio.h): kicks on the event loop,
 * host input on the event loop, activation on a vCPU thread.
 */
#include "virtio_console.h"

#include <endian.h>
#include <pthread.h>
#include <stddef.h>
#include <string.h>

#include "iov.h"

/*
 * Chains served per kick or per virtio_console_receive() call: a driver
 * that keeps refilling a ring must not hold the event loop. Past it the
 * device kicks itself and carries on in a later callback, after whatever
 * else the loop has pending.
 */
#define VIRTIO_CONSOLE_BUDGET VIRTQ_SIZE_MAX

_Static_assert(offsetof(struct virtio_console_config, rows) == 2, "5.3.4");
_Static_assert(offsetof(struct virtio_console_config, max_nr_ports) == 4,
	       "5.3.4");
_Static_assert(offsetof(struct virtio_console_config, emerg_wr) == 8, "5.3.4");
_Static_assert(sizeof(struct virtio_console_config) == 12, "5.3.4");

static bool console_rx_live(struct virtio_console *c)
{
	struct virtio_dev *vdev = &c->vdev;

	return (vdev->status & VIRTIO_STATUS_DRIVER_OK) &&
	       !atomic_load(&vdev->broken) &&
	       vdev->vqs[VIRTIO_CONSOLE_RX_QUEUE].enabled;
}

/* Input was refused earlier and may go now: tell the host side. */
static void console_wake_rx(struct virtio_console *c)
{
	if (!c->rx_blocked)
		return;
	c->rx_blocked = false;
	if (c->be.rx_ready)
		c->be.rx_ready(c->be.opaque);
}

static void console_tx_chain(struct virtio_console *c,
			     const struct virtq_elem *e)
{
	for (unsigned int i = 0; i < e->out_num; i++) {
		if (c->be.tx)
			c->be.tx(c->be.opaque, e->iov[i].iov_base,
				 e->iov[i].iov_len);
		c->bytes_transmitted += e->iov[i].iov_len;
	}
}

static void console_transmit(struct virtio_console *c)
{
	struct virtio_dev *vdev = &c->vdev;
	struct virtq *vq = &vdev->vqs[VIRTIO_CONSOLE_TX_QUEUE];
	struct virtq_elem *e = &c->elem;
	unsigned int served = 0;
	int r;

	do {
		virtq_disable_notify(vq);
		while ((r = virtio_queue_pop(vdev, VIRTIO_CONSOLE_TX_QUEUE, e)) > 0) {
			/* 5.3.6.1: transmit buffers are device-readable. */
			if (e->in_num) {
				virtio_device_error(
					vdev,
					"transmitq0 chain at head %u has %llu device-writable bytes",
					e->head, (unsigned long long)e->in_len);
				return;
			}
			console_tx_chain(c, e);
			virtq_push(vq, e, 0);
			if (++served == VIRTIO_CONSOLE_BUDGET) {
				/* Notifications stay off: the kick is ours. */
				virtio_kick(vdev, VIRTIO_CONSOLE_TX_QUEUE);
				goto done;
			}
		}
		if (r < 0) {
			virtio_device_error(vdev, "malformed transmitq0");
			return;
		}
	} while (virtq_enable_notify(vq));
done:
	virtio_queue_done(vdev, VIRTIO_CONSOLE_TX_QUEUE);
}

static void console_queue_notify(struct virtio_dev *vdev, unsigned int q)
{
	struct virtio_console *c = vdev->priv;

	if (q == VIRTIO_CONSOLE_TX_QUEUE) {
		console_transmit(c);
		return;
	}
	/*
	 * receiveq0: the driver posted buffers, which wait in the ring for
	 * input. Further kicks are only wanted once input is refused again
	 * (virtio_console_receive() re-enables them).
	 */
	virtq_disable_notify(&vdev->vqs[VIRTIO_CONSOLE_RX_QUEUE]);
	console_wake_rx(c);
}

/*
 * DRIVER_OK. The driver may have posted receive buffers before it, and
 * 3.1.1 forbids it to notify then: a host waiting since before DRIVER_OK
 * (or since before a reset, which keeps rx_blocked for this reason) must
 * retry now or it might never hear.
 */
static int console_activate(struct virtio_dev *vdev)
{
	console_wake_rx(vdev->priv);
	return 0;
}

static const struct virtio_dev_ops console_ops = {
	.name = "virtio-console",
	.device_id = VIRTIO_ID_CONSOLE,
	.num_queues = VIRTIO_CONSOLE_NUM_QUEUES,
	.features = 1ULL << VIRTIO_CONSOLE_F_SIZE |
		    1ULL << VIRTIO_F_INDIRECT_DESC | 1ULL << VIRTIO_F_EVENT_IDX,
	.config_size = sizeof(struct virtio_console_config),
	.activate = console_activate,
	.queue_notify = console_queue_notify,
};

void virtio_console_init(struct virtio_console *c, const struct guest_mem *mem,
			 const struct virtio_console_backend *be)
{
	memset(c, 0, sizeof(*c));
	if (be)
		c->be = *be;
	c->config.cols = htole16(VIRTIO_CONSOLE_DEFAULT_COLS);
	c->config.rows = htole16(VIRTIO_CONSOLE_DEFAULT_ROWS);
	c->config.max_nr_ports = htole32(1);
	virtio_dev_init(&c->vdev, &console_ops, c, (uint8_t *)&c->config, mem);
}

struct virtio_dev *virtio_console_vdev(struct virtio_console *c)
{
	return &c->vdev;
}

/* Copy input into a receive chain's device-writable part. */
static uint32_t console_fill(const struct virtq_elem *e, const uint8_t *buf,
			     size_t len)
{
	/* <= in_len, which fits in 32 bits (virtq.h) */
	return iov_from_buf(&e->iov[e->out_num], e->in_num, buf, len);
}

size_t virtio_console_receive(struct virtio_console *c, const uint8_t *buf,
			      size_t len)
{
	struct virtio_dev *vdev = &c->vdev;
	struct virtq *vq = &vdev->vqs[VIRTIO_CONSOLE_RX_QUEUE];
	struct virtq_elem *e = &c->elem;
	unsigned int served = 0;
	bool pushed = false;
	size_t n = 0;
	uint32_t done;
	int r;

	if (!len)
		return 0;
	pthread_mutex_lock(&vdev->lock);
	if (!console_rx_live(c))
		goto out;
	while (n < len) {
		if (served == VIRTIO_CONSOLE_BUDGET) {
			/* Our own kick brings rx_ready on the loop. */
			virtio_kick(vdev, VIRTIO_CONSOLE_RX_QUEUE);
			break;
		}
		r = virtio_queue_pop(vdev, VIRTIO_CONSOLE_RX_QUEUE, e);
		if (r == 0) {
			/*
			 * Out of buffers: ask for a kick when the driver
			 * posts more, unless some arrived meanwhile.
			 */
			if (virtq_enable_notify(vq))
				continue;
			break;
		}
		if (r < 0) {
			virtio_device_error(vdev, "malformed receiveq0");
			break;
		}
		served++;
		/* 5.3.6.1: receive buffers are device-writable. */
		if (e->out_num) {
			virtio_device_error(
				vdev,
				"receiveq0 chain at head %u has %llu device-readable bytes",
				e->head, (unsigned long long)e->out_len);
			break;
		}
		done = console_fill(e, buf + n, len - n);

		virtq_push(vq, e, done);
		pushed = true;
		n += done;
	}
	if (pushed && !atomic_load(&vdev->broken))
		virtio_queue_done(vdev, VIRTIO_CONSOLE_RX_QUEUE);
out:
	if (n < len)
		c->rx_blocked = true;
	c->bytes_received += n;
	pthread_mutex_unlock(&vdev->lock);
	return n;
}

void virtio_console_set_size(struct virtio_console *c, uint16_t cols,
			     uint16_t rows)
{
	struct virtio_dev *vdev = &c->vdev;

	pthread_mutex_lock(&vdev->lock);
	if (le16toh(c->config.cols) != cols ||
	    le16toh(c->config.rows) != rows) {
		c->config.cols = htole16(cols);
		c->config.rows = htole16(rows);
		/* 2.5.1: a driver reading mid-change must notice. */
		vdev->config_generation++;
		/* 5.3.6: the driver resizes the console on this interrupt. */
		if ((vdev->status & VIRTIO_STATUS_DRIVER_OK) &&
		    virtio_has_feature(vdev, VIRTIO_CONSOLE_F_SIZE) &&
		    vdev->tops && vdev->tops->notify_config)
			vdev->tops->notify_config(vdev);
	}
	pthread_mutex_unlock(&vdev->lock);
}
