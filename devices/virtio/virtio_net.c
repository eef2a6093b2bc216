// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-net (virtio 1.2, section 5.1) over a tap and io_uring.
 *
 * TX: every popped chain gets a slot (struct net_req) that is the io_uring
 * user_data of one IORING_OP_WRITEV. The frame goes from the chain's iovecs
 * straight to the tap; only the 12-byte header is copied (checked once, and
 * the copy is what the tap sees).
 *
 * RX: one chain at a time. A one-shot poll on the tap says a frame is
 * queued; then one chain is popped and one IORING_OP_READV (RWF_NOWAIT)
 * lands the frame (header first) in its writable iovecs, and the device
 * reads on until the tap is empty (-EAGAIN), then polls again. A one-byte
 * sentinel after the iovecs tells a frame that did not fit: it is dropped
 * and the chain reused. With no RX buffer the device stops reading (the
 * kernel queues, then drops) until the next RX kick.
 *
 * Like virtio-blk, a reset bumps the generation: completions of an older
 * generation are dropped without touching guest memory. All of it runs with
 * vdev->lock held: queue_notify, poll and I/O completions on the event
 * loop; activate and reset on a vCPU thread (which never touches the ring).
 */
#include "virtio_net.h"
#include "dev_opts.h"

#include <ctype.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <netinet/ip.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <unistd.h>

#include "../../vmm/log.h"
#include "iov.h"

#define NET_TUN_PATH "/dev/net/tun"

#define NET_ETH_HLEN  14
#define NET_VLAN_HLEN 4
/* The largest frame a tap takes: a 64 KiB GSO packet, VLAN-tagged. */
#define NET_FRAME_MAX (NET_ETH_HLEN + NET_VLAN_HLEN + IP_MAXPACKET)

/* 5.1.6.4.2: without MRG_RXBUF every frame is in one buffer. */
#define NET_RX_NUM_BUFFERS 1

/* 5.1.3.1: offloads that only make sense with a checksum offload. */
#define NET_HOST_TSO_MASK \
	((1ULL << VIRTIO_NET_F_HOST_TSO4) | (1ULL << VIRTIO_NET_F_HOST_TSO6))

_Static_assert(sizeof(struct virtio_net_hdr_v1) == VIRTIO_NET_HDR_LEN,
	       "5.1.6 header");
_Static_assert(sizeof(struct virtio_net_config) == 10, "5.1.4");

enum net_io {
	NET_IO_TX,
	NET_IO_RX,
};

struct virtio_net;

struct net_req {
	struct evloop_op op; /* first: the completion comes back here */
	struct virtio_net *net;
	struct net_req *next; /* on the free list or the SQE backlog */
	enum net_io io;
	unsigned int generation;
	struct iovec *iov; /* what io_uring reads or writes */
	unsigned int iov_num;
	uint64_t len; /* bytes expected (TX) or room before the sentinel */
	struct virtio_net_hdr_v1 hdr; /* TX: the header the tap gets */
	struct virtq_elem elem;
};

struct net_rx {
	struct net_req req;
	struct iovec iov[VIRTQ_ELEM_MAX_IOV + 1]; /* + the sentinel */
	struct evloop_source poll;
	bool poll_added;
	bool held;     /* req.elem is a chain of the current driver */
	bool busy;     /* the readv is with io_uring or on the backlog */
	bool stalled;  /* no RX buffer: wait for a kick */
	bool stopped;  /* the backend failed: no reads until a reset */
	bool readable; /* the last poll or read saw a frame */
	/*
	 * Reads carry RWF_NOWAIT: without it io_uring parks a read of an empty
	 * tap in the kernel, pointing into guest memory, where a reset (on a
	 * vCPU thread, away from the ring) could not take it back. Cleared if
	 * the backend refuses it; then the device only reads after POLLIN.
	 */
	bool nowait;
};

struct virtio_net {
	struct virtio_dev vdev;
	struct virtio_dev_ops ops;
	struct virtio_net_config config;
	struct evloop *loop;
	int fd;
	bool vnet_hdr;
	bool is_tap;
	char ifname[IFNAMSIZ];
	char label[64];
	unsigned int generation;
	unsigned int tap_offloads;

	/* TX slots: VIRTQ_SIZE_MAX, first used in order. */
	struct net_req *tx_slots;
	unsigned int tx_touched;
	struct net_req *tx_free;
	unsigned int tx_inflight; /* busy slots, orphaned ones included */
	bool tx_stalled;
	bool tx_need_notify;

	struct net_rx rx;
	uint8_t rx_sentinel; /* the byte a frame too big for its chain hits */

	/* Requests waiting for an SQE, oldest first. */
	struct net_req *backlog, **backlog_tail;

	struct virtio_net_stats stats;
	atomic_bool tx_warned, rx_warned, cfg_warned;
};

static void net_req_done(struct evloop_op *op, int res, unsigned int flags);
static void net_rx_resume(struct virtio_net *net);

static bool net_live(struct virtio_net *net)
{
	return (net->vdev.status & VIRTIO_STATUS_DRIVER_OK) &&
	       !atomic_load(&net->vdev.broken);
}

/* ---- submission ---- */

static bool net_req_submit(struct virtio_net *net, struct net_req *req)
{
	struct io_uring_sqe *sqe = evloop_sqe(net->loop, &req->op);

	if (!sqe)
		return false;
	if (req->io == NET_IO_TX)
		io_uring_prep_writev(sqe, net->fd, req->iov, req->iov_num, 0);
	else
		io_uring_prep_readv2(sqe, net->fd, req->iov, req->iov_num, 0,
				     net->rx.nowait ? RWF_NOWAIT : 0);
	return true;
}

/* Submit, or keep the request until an SQE frees up; nothing overtakes. */
static void net_req_queue(struct virtio_net *net, struct net_req *req)
{
	if (!net->backlog && net_req_submit(net, req))
		return;
	req->next = NULL;
	*net->backlog_tail = req;
	net->backlog_tail = &req->next;
}

static void net_submit_backlog(struct virtio_net *net)
{
	struct net_req *req;

	while ((req = net->backlog) && net_req_submit(net, req)) {
		net->backlog = req->next;
		if (!net->backlog)
			net->backlog_tail = &net->backlog;
	}
}

/* ---- TX ---- */

static struct net_req *net_tx_alloc(struct virtio_net *net)
{
	struct net_req *req = net->tx_free;

	if (req) {
		net->tx_free = req->next;
	} else {
		/* Callers check tx_inflight < queue size <= VIRTQ_SIZE_MAX. */
		req = &net->tx_slots[net->tx_touched++];
		req->op.cb = net_req_done;
		req->net = net;
		req->io = NET_IO_TX;
	}
	req->next = NULL;
	net->tx_inflight++;
	return req;
}

static void net_tx_free(struct net_req *req)
{
	struct virtio_net *net = req->net;

	req->next = net->tx_free;
	net->tx_free = req;
	net->tx_inflight--;
}

/* Hand a TX chain back (nothing written to it); the caller notifies. */
static void net_tx_complete(struct virtio_net *net, struct net_req *req,
			    bool sent)
{
	if (sent)
		net->stats.tx_frames++;
	else
		net->stats.tx_dropped++;
	virtq_push(&net->vdev.vqs[VIRTIO_NET_TXQ], &req->elem, 0);
	net_tx_free(req);
}

/*
 * 5.1.6.2: offloads the driver asks for in a header must have been
 * negotiated. NULL when the header is fine, else why not.
 */
static const char *net_tx_hdr_refused(struct virtio_net *net,
				      const struct virtio_net_hdr_v1 *h)
{
	struct virtio_dev *vdev = &net->vdev;

	if ((h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
	    !virtio_has_feature(vdev, VIRTIO_NET_F_CSUM))
		return "NEEDS_CSUM without VIRTIO_NET_F_CSUM";
	/* HOST_ECN is not offered. */
	if (h->gso_type & VIRTIO_NET_HDR_GSO_ECN)
		return "GSO_ECN without VIRTIO_NET_F_HOST_ECN";
	switch (h->gso_type) {
	case VIRTIO_NET_HDR_GSO_NONE:
		return NULL;
	case VIRTIO_NET_HDR_GSO_TCPV4:
		if (virtio_has_feature(vdev, VIRTIO_NET_F_HOST_TSO4))
			return NULL;
		return "GSO_TCPV4 without VIRTIO_NET_F_HOST_TSO4";
	case VIRTIO_NET_HDR_GSO_TCPV6:
		if (virtio_has_feature(vdev, VIRTIO_NET_F_HOST_TSO6))
			return NULL;
		return "GSO_TCPV6 without VIRTIO_NET_F_HOST_TSO6";
	default:
		return "an unsupported gso_type";
	}
}

/* Check a popped TX chain and send it; the chain ends up used either way. */
static void net_tx_start(struct virtio_net *net, struct net_req *req)
{
	struct virtio_dev *vdev = &net->vdev;
	struct virtq_elem *e = &req->elem;
	uint64_t frame_len;
	unsigned int num = e->out_num, skipped;
	struct iovec *data;
	const char *why;

	/* 5.1.6.2: TX buffers are device-readable only. */
	if (e->in_num) {
		virtio_device_error(
			vdev,
			"transmitq chain at head %u has %u writable bytes",
			e->head, (unsigned int)e->in_len);
		net_tx_free(req);
		return;
	}
	if (e->out_len < VIRTIO_NET_HDR_LEN) {
		virtio_device_error(
			vdev,
			"transmitq chain at head %u has %llu bytes, less than the %u-byte header",
			e->head, (unsigned long long)e->out_len,
			VIRTIO_NET_HDR_LEN);
		net_tx_free(req);
		return;
	}
	req->generation = net->generation;
	/* The header may span descriptors; copied once, then only the copy. */
	iov_to_buf(e->iov, e->out_num, 0, &req->hdr, sizeof(req->hdr));
	frame_len = e->out_len - VIRTIO_NET_HDR_LEN;
	why = net_tx_hdr_refused(net, &req->hdr);
	if (!why && frame_len < NET_ETH_HLEN)
		why = "a frame shorter than an Ethernet header";
	if (!why && frame_len > NET_FRAME_MAX)
		why = "a frame longer than a tap takes";
	data = iov_skip(e->iov, &num, VIRTIO_NET_HDR_LEN);
	skipped = data - e->iov;
	if (!why && net->vnet_hdr && !skipped && num == VIRTQ_ELEM_MAX_IOV)
		why = "no room for the header segment";
	if (why) {
		pr_warn_once(
			net->tx_warned,
			"%s: dropped a %llu-byte frame with %s (logged once)",
			net->label, (unsigned long long)frame_len, why);
		net_tx_complete(net, req, false);
		net->tx_need_notify = true;
		return;
	}
	if (net->vnet_hdr) {
		/* The checked copy goes in front, never the guest's bytes. */
		if (!skipped) {
			memmove(&e->iov[1], &e->iov[0],
				num * sizeof(e->iov[0]));
			data = &e->iov[1];
		}
		data[-1].iov_base = &req->hdr;
		data[-1].iov_len = sizeof(req->hdr);
		data--;
		num++;
	}
	req->iov = data;
	req->iov_num = num;
	req->len = frame_len + (net->vnet_hdr ? VIRTIO_NET_HDR_LEN : 0);
	net_req_queue(net, req);
}

/*
 * Pop and send frames until the ring is empty, as many are in flight as the
 * queue has entries, or the loop's ring is out of SQEs; a completion
 * resumes in the last two cases.
 */
static void net_tx_process(struct virtio_net *net)
{
	struct virtio_dev *vdev = &net->vdev;
	struct virtq *vq = &vdev->vqs[VIRTIO_NET_TXQ];

	net->tx_stalled = false;
	for (;;) {
		virtq_disable_notify(vq);
		for (;;) {
			struct net_req *req;
			int r;

			if (net->backlog || net->tx_inflight >= vq->size) {
				net->tx_stalled = true;
				virtq_enable_notify(vq);
				goto out;
			}
			req = net_tx_alloc(net);
			r = virtio_queue_pop(vdev, VIRTIO_NET_TXQ, &req->elem);
			if (r <= 0) {
				net_tx_free(req);
				if (!r)
					break;
				virtio_device_error(
					vdev,
					"transmitq: malformed available ring or descriptor chain");
				goto out;
			}
			net_tx_start(net, req);
			if (atomic_load(&vdev->broken))
				goto out;
		}
		if (!virtq_enable_notify(vq))
			break;
	}
out:
	if (net->tx_need_notify) {
		net->tx_need_notify = false;
		virtio_queue_done(vdev, VIRTIO_NET_TXQ);
	}
}

static void net_tx_done(struct virtio_net *net, struct net_req *req, int res)
{
	if (req->generation != net->generation ||
	    atomic_load(&net->vdev.broken)) {
		net_tx_free(req);
		return;
	}
	if (res < 0 || (uint64_t)res != req->len)
		pr_warn_once(net->tx_warned,
			     "%s: tap write of %llu bytes: %s (logged once)",
			     net->label, (unsigned long long)req->len,
			     res < 0 ? strerror(-res) : "short write");
	net_tx_complete(net, req, res >= 0 && (uint64_t)res == req->len);
	virtio_queue_done(&net->vdev, VIRTIO_NET_TXQ);
}

/* ---- RX ---- */

static void net_rx_stop(struct virtio_net *net, const char *why)
{
	net->rx.stopped = true;
	pr_warn_once(net->rx_warned, "%s: receive stopped: %s (logged once)",
		     net->label, why);
}

/* 1: a chain is held, 0: none available, -1: device error. */
static int net_rx_take_chain(struct virtio_net *net)
{
	struct virtio_dev *vdev = &net->vdev;
	struct virtq *vq = &vdev->vqs[VIRTIO_NET_RXQ];
	struct virtq_elem *e = &net->rx.req.elem;
	int r;

	for (;;) {
		virtq_disable_notify(vq);
		r = virtio_queue_pop(vdev, VIRTIO_NET_RXQ, e);
		if (r)
			break;
		/* Buffers that came in before re-enabling: pop again. */
		if (!virtq_enable_notify(vq))
			return 0;
	}
	virtq_enable_notify(vq);
	if (r < 0) {
		virtio_device_error(
			vdev,
			"receiveq: malformed available ring or descriptor chain");
		return -1;
	}
	/* 5.1.6.3: RX buffers are device-writable only. */
	if (e->out_num) {
		virtio_device_error(
			vdev, "receiveq chain at head %u has %u readable bytes",
			e->head, (unsigned int)e->out_len);
		return -1;
	}
	if (e->in_len < VIRTIO_NET_HDR_LEN) {
		virtio_device_error(
			vdev,
			"receiveq chain at head %u has %llu bytes, less than the %u-byte header",
			e->head, (unsigned long long)e->in_len,
			VIRTIO_NET_HDR_LEN);
		return -1;
	}
	net->rx.held = true;
	return 1;
}

/* The held chain's iovecs (less the header without vnet_hdr) + sentinel. */
static void net_rx_prepare(struct virtio_net *net)
{
	struct net_rx *rx = &net->rx;
	struct virtq_elem *e = &rx->req.elem;
	unsigned int num = e->in_num;
	struct iovec *src;

	memcpy(rx->iov, e->iov, num * sizeof(e->iov[0]));
	src = rx->iov;
	rx->req.len = e->in_len;
	if (!net->vnet_hdr) {
		src = iov_skip(rx->iov, &num, VIRTIO_NET_HDR_LEN);
		rx->req.len -= VIRTIO_NET_HDR_LEN;
	}
	src[num].iov_base = &net->rx_sentinel;
	src[num].iov_len = sizeof(net->rx_sentinel);
	rx->req.iov = src;
	rx->req.iov_num = num + 1;
	rx->req.generation = net->generation;
}

static bool net_rx_can_read(struct virtio_net *net)
{
	struct net_rx *rx = &net->rx;

	return net_live(net) && net->vdev.vqs[VIRTIO_NET_RXQ].enabled &&
	       !rx->busy && !rx->stalled && !rx->stopped;
}

/* A frame is (probably) queued: read it into a chain, if there is one. */
static void net_rx_start(struct virtio_net *net)
{
	struct net_rx *rx = &net->rx;

	if (!rx->held) {
		int r = net_rx_take_chain(net);

		if (r <= 0) {
			/* Back-pressure: the next RX kick resumes. */
			rx->stalled = !r;
			return;
		}
	}
	net_rx_prepare(net);
	rx->busy = true;
	net_req_queue(net, &rx->req);
}

static void net_rx_poll_cb(struct evloop_source *src, int res)
{
	struct virtio_net *net = src->opaque;

	pthread_mutex_lock(&net->vdev.lock);
	if (res < 0 || !(res & POLLIN)) {
		if (res < 0 || (res & (POLLERR | POLLHUP | POLLNVAL)))
			net_rx_stop(net,
				    res < 0 ? strerror(-res)
					    : "the backend reports an error");
		else
			net_rx_resume(net);
	} else {
		net->rx.readable = true;
		if (net_rx_can_read(net))
			net_rx_start(net);
	}
	pthread_mutex_unlock(&net->vdev.lock);
}

/*
 * Read on if the last read found a frame (RWF_NOWAIT makes a read of an
 * empty tap fail at once), else watch the tap.
 */
static void net_rx_resume(struct virtio_net *net)
{
	struct net_rx *rx = &net->rx;

	if (!net_rx_can_read(net))
		return;
	if (rx->readable && rx->nowait) {
		net_rx_start(net);
		return;
	}
	if (!rx->poll_added) {
		if (evloop_add(net->loop, &rx->poll, net->fd, POLLIN, false,
			       net_rx_poll_cb, net))
			return; /* no SQE now: the next completion retries */
		rx->poll_added = true;
		return;
	}
	evloop_rearm(&rx->poll);
}

/*
 * 5.1.6.4.1: fix up the header the tap wrote. Returns false when the frame
 * cannot be given to this driver.
 */
static bool net_rx_fix_hdr(struct virtio_net *net, struct virtq_elem *e)
{
	struct virtio_dev *vdev = &net->vdev;
	struct virtio_net_hdr_v1 h = { 0 };

	if (net->vnet_hdr)
		iov_to_buf(&e->iov[0], e->in_num, 0, &h, sizeof(h));
	/* No GUEST_TSO* is offered: a GSO frame has no buffer to go to. */
	if (h.gso_type != VIRTIO_NET_HDR_GSO_NONE)
		return false;
	if (!virtio_has_feature(vdev, VIRTIO_NET_F_GUEST_CSUM)) {
		/* A partial checksum the driver cannot complete. */
		if (h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
			return false;
		h.flags = 0;
	}
	/* 5.1.6.4.2: 1 without MRG_RXBUF (tun leaves the field alone). */
	h.num_buffers = htole16(NET_RX_NUM_BUFFERS);
	iov_from_buf(&e->iov[0], e->in_num, &h, sizeof(h));
	return true;
}

static void net_rx_done(struct virtio_net *net, int res)
{
	struct net_rx *rx = &net->rx;
	struct virtq_elem *e = &rx->req.elem;
	uint64_t len;

	rx->busy = false;
	if (rx->req.generation != net->generation ||
	    atomic_load(&net->vdev.broken)) {
		rx->held = false;
		return;
	}
	if (res == -EOPNOTSUPP && rx->nowait) {
		rx->nowait = false; /* from now on only after POLLIN */
		rx->readable = false;
		return;
	}
	if (res == -EAGAIN || res == -EINTR) {
		rx->readable = false; /* keep the chain, wait for POLLIN */
		return;
	}
	if (res < 0) {
		net_rx_stop(net, strerror(-res));
		return;
	}
	if (res == 0) {
		net_rx_stop(net, "the backend was closed");
		return;
	}
	/* Into the sentinel: the frame was bigger than the chain. */
	if ((uint64_t)res > rx->req.len) {
		net->stats.rx_dropped++;
		return;
	}
	len = res + (net->vnet_hdr ? 0 : VIRTIO_NET_HDR_LEN);
	if (len < VIRTIO_NET_HDR_LEN || !net_rx_fix_hdr(net, e)) {
		net->stats.rx_dropped++;
		return;
	}
	virtq_push(&net->vdev.vqs[VIRTIO_NET_RXQ], e, (uint32_t)len);
	rx->held = false;
	net->stats.rx_frames++;
	virtio_queue_done(&net->vdev, VIRTIO_NET_RXQ);
}

/* ---- completions, kicks, reset ---- */

static void net_req_done(struct evloop_op *op, int res, unsigned int flags)
{
	struct net_req *req = (struct net_req *)op;
	struct virtio_net *net = req->net;

	pthread_mutex_lock(&net->vdev.lock);
	if (req->io == NET_IO_TX)
		net_tx_done(net, req, res);
	else
		net_rx_done(net, res);
	/* SQEs or a slot may have freed up. */
	net_submit_backlog(net);
	if (!net->backlog && net_live(net)) {
		if (net->tx_stalled && net->vdev.vqs[VIRTIO_NET_TXQ].enabled)
			net_tx_process(net);
		net_rx_resume(net);
	}
	pthread_mutex_unlock(&net->vdev.lock);
}

static void net_queue_notify(struct virtio_dev *vdev, unsigned int q)
{
	struct virtio_net *net = vdev->priv;

	net_submit_backlog(net);
	if (q == VIRTIO_NET_TXQ) {
		net_tx_process(net);
	} else if (q == VIRTIO_NET_RXQ) {
		net->rx.stalled = false;
		net_rx_resume(net);
	}
}

static int net_set_offload(struct virtio_net *net, unsigned int offloads)
{
	if (!net->is_tap)
		return 0;
	if (ioctl(net->fd, TUNSETOFFLOAD, offloads) < 0)
		return -errno;
	net->tap_offloads = offloads;
	return 0;
}

static int net_activate(struct virtio_dev *vdev)
{
	struct virtio_net *net = vdev->priv;
	unsigned int offloads = 0;
	int r;

	/* 5.1.3.1: TSO needs the checksum offload it builds on. */
	if ((vdev->driver_features & NET_HOST_TSO_MASK) &&
	    !virtio_has_feature(vdev, VIRTIO_NET_F_CSUM)) {
		pr_warn_once(
			net->cfg_warned,
			"%s: driver took HOST_TSO without CSUM (logged once)",
			net->label);
		return -EINVAL;
	}
	/* What the tap may hand us is what the driver can take. */
	if (virtio_has_feature(vdev, VIRTIO_NET_F_GUEST_CSUM))
		offloads |= TUN_F_CSUM;
	r = net_set_offload(net, offloads);
	if (r) {
		pr_warn_once(net->cfg_warned,
			     "%s: TUNSETOFFLOAD 0x%x: %s (logged once)",
			     net->label, offloads, strerror(-r));
		return r;
	}
	/* Buffers posted before DRIVER_OK: start receiving on the loop. */
	virtio_kick(vdev, VIRTIO_NET_RXQ);
	return 0;
}

static void net_reset(struct virtio_dev *vdev)
{
	struct virtio_net *net = vdev->priv;
	struct net_req *req;

	/* What io_uring still holds completes into the void (generation). */
	net->generation++;
	/* What never got an SQE was never seen by the kernel: drop it. */
	while ((req = net->backlog)) {
		net->backlog = req->next;
		if (req->io == NET_IO_TX)
			net_tx_free(req);
		else
			net->rx.busy = false;
	}
	net->backlog_tail = &net->backlog;
	net->rx.held = false;
	net->rx.stalled = false;
	net->rx.stopped = false;
	net->tx_stalled = false;
	net->tx_need_notify = false;
}

/* ---- options ---- */

enum {
	NET_OPT_TAP = 1,
	NET_OPT_MAC = 2,
	NET_OPT_TRANSPORT = 4,
};

#define NET_OPTS_HELP "tap=NAME, mac=xx:xx:xx:xx:xx:xx, transport=pci|mmio"

static int net_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int net_parse_mac(const char *val, size_t vlen, uint8_t *mac, char *err,
			 size_t errlen)
{
	static const uint8_t zero[VIRTIO_NET_MAC_LEN];

	/* "xx:xx:xx:xx:xx:xx": 6 pairs and 5 colons. */
	if (vlen != 3 * VIRTIO_NET_MAC_LEN - 1)
		goto bad;
	for (unsigned int i = 0; i < VIRTIO_NET_MAC_LEN; i++) {
		int hi = net_hex(val[3 * i]), lo = net_hex(val[3 * i + 1]);

		if (hi < 0 || lo < 0 ||
		    (i + 1 < VIRTIO_NET_MAC_LEN && val[3 * i + 2] != ':'))
			goto bad;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	if (mac[0] & 1) {
		format_err(
			err, errlen,
			"net mac=%.*s is a multicast address (first byte odd)",
			(int)vlen, val);
		return -EINVAL;
	}
	if (!memcmp(mac, zero, sizeof(zero))) {
		format_err(err, errlen, "net mac=%.*s is all zeroes", (int)vlen,
			   val);
		return -EINVAL;
	}
	return 0;
bad:
	format_err(err, errlen,
		   "net mac=%.*s: expected xx:xx:xx:xx:xx:xx in hex", (int)vlen,
		   val);
	return -EINVAL;
}

static int net_parse_tap(const char *val, size_t vlen, char *tap, char *err,
			 size_t errlen)
{
	if (!vlen || vlen >= IFNAMSIZ) {
		format_err(err, errlen,
			   "net tap name '%.*s' must be 1 to %d characters",
			   (int)vlen, val, IFNAMSIZ - 1);
		return -EINVAL;
	}
	/* What dev_valid_name() in the kernel refuses. */
	if (opt_key_is(val, vlen, ".") || opt_key_is(val, vlen, "..")) {
		format_err(err, errlen, "net tap name '%.*s' is not valid",
			   (int)vlen, val);
		return -EINVAL;
	}
	for (size_t i = 0; i < vlen; i++) {
		unsigned char c = (unsigned char)val[i];

		if (c == '/' || c == ':' || isspace(c) || !isprint(c)) {
			format_err(
				err, errlen,
				"net tap name '%.*s' may not contain '/', ':' or blanks",
				(int)vlen, val);
			return -EINVAL;
		}
	}
	memcpy(tap, val, vlen);
	tap[vlen] = '\0';
	return 0;
}

static int net_parse_option(unsigned int bit, const char *val, size_t vlen,
			    struct virtio_net_opts *o, char *err, size_t errlen)
{
	switch (bit) {
	case NET_OPT_TAP:
		return net_parse_tap(val, vlen, o->tap, err, errlen);
	case NET_OPT_MAC:
		o->has_mac = true;
		return net_parse_mac(val, vlen, o->mac, err, errlen);
	case NET_OPT_TRANSPORT:
		if (opt_key_is(val, vlen, "pci")) {
			o->transport = VIRTIO_TRANSPORT_PCI;
		} else if (opt_key_is(val, vlen, "mmio")) {
			o->transport = VIRTIO_TRANSPORT_MMIO;
		} else {
			format_err(err, errlen,
				   "net transport=%.*s: expected pci or mmio",
				   (int)vlen, val);
			return -EINVAL;
		}
		return 0;
	}
	return -EINVAL;
}

int virtio_net_parse(const char *arg, struct virtio_net_opts *o, char *err,
		     size_t errlen)
{
	const char *end = arg - 1;
	unsigned int seen = 0;

	memset(o, 0, sizeof(*o));
	o->transport = VIRTIO_TRANSPORT_PCI;
	if (!*arg) {
		format_err(err, errlen,
			   "net option is empty (expected tap=NAME)");
		return -EINVAL;
	}
	do {
		static const char *const names[] = { "tap", "mac",
						     "transport" };
		struct dev_opt d;

		end = dev_opt_take("net", arg, end + 1, names, 3, NET_OPTS_HELP,
				   &seen, &d, err, errlen);
		if (!end)
			return -EINVAL;
		if (!d.val) {
			format_err(err, errlen,
				   "net option '%.*s' needs a value",
				   (int)d.len, d.item);
			return -EINVAL;
		}
		if (net_parse_option(d.bit, d.val, d.vlen, o, err, errlen))
			return -EINVAL;
	} while (*end);
	if (!(seen & NET_OPT_TAP)) {
		format_err(err, errlen, "net '%s' has no tap=NAME", arg);
		return -EINVAL;
	}
	return 0;
}

/* ---- creation ---- */

/* 02:xx:..: locally administered, unicast; stable for a tap name. */
static void net_default_mac(const char *name, uint8_t *mac)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */

	if (name[0]) {
		for (const char *p = name; *p; p++)
			h = (h ^ (uint8_t)*p) * 0x100000001b3ULL;
	} else if (getrandom(&h, sizeof(h), 0) != sizeof(h)) {
		h ^= (uint64_t)getpid() << 16;
	}
	mac[0] = 0x02;
	for (unsigned int i = 1; i < VIRTIO_NET_MAC_LEN; i++)
		mac[i] = (uint8_t)(h >> (8 * i));
}

static bool net_probe_offloads(int fd)
{
	unsigned int all = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
	bool ok = ioctl(fd, TUNSETOFFLOAD, all) == 0;

	/* Nothing until the driver says what it takes (activate). */
	if (ioctl(fd, TUNSETOFFLOAD, 0) < 0)
		ok = false;
	return ok;
}

static uint64_t net_features(bool vnet_hdr, bool guest_csum)
{
	uint64_t f =
		(1ULL << VIRTIO_NET_F_MAC) | (1ULL << VIRTIO_NET_F_STATUS) |
		(1ULL << VIRTIO_F_INDIRECT_DESC) | (1ULL << VIRTIO_F_EVENT_IDX);

	/* The header carries the offloads: without it, none. */
	if (vnet_hdr)
		f |= (1ULL << VIRTIO_NET_F_CSUM) | NET_HOST_TSO_MASK;
	if (vnet_hdr && guest_csum)
		f |= 1ULL << VIRTIO_NET_F_GUEST_CSUM;
	return f;
}

int virtio_net_create_fd(struct virtio_net **out, int fd, unsigned int flags,
			 const struct virtio_net_opts *o,
			 const struct guest_mem *mem, struct evloop *loop,
			 char *err, size_t errlen)
{
	const char *name = o->tap[0] ? o->tap : "(fd)";
	struct virtio_net *net;
	bool guest_csum = true;
	int fl;

	*out = NULL;
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		int e = errno;

		format_err(err, errlen,
			   "net '%s': cannot make it non-blocking: %s", name,
			   strerror(e));
		close(fd);
		return -e;
	}
	if (flags & VIRTIO_NET_FD_TAP)
		guest_csum = net_probe_offloads(fd);

	net = calloc(1, sizeof(*net));
	if (net)
		net->tx_slots = calloc(VIRTQ_SIZE_MAX, sizeof(struct net_req));
	if (!net || !net->tx_slots) {
		free(net);
		close(fd);
		format_err(err, errlen, "net '%s': out of memory", name);
		return -ENOMEM;
	}
	net->fd = fd;
	net->loop = loop;
	net->vnet_hdr = flags & VIRTIO_NET_FD_VNET_HDR;
	net->is_tap = flags & VIRTIO_NET_FD_TAP;
	snprintf(net->ifname, sizeof(net->ifname), "%s", o->tap);
	snprintf(net->label, sizeof(net->label), "virtio-net %s", name);
	net->backlog_tail = &net->backlog;
	net->rx.req.op.cb = net_req_done;
	net->rx.req.net = net;
	net->rx.req.io = NET_IO_RX;
	net->rx.nowait = true;

	if (o->has_mac)
		memcpy(net->config.mac, o->mac, VIRTIO_NET_MAC_LEN);
	else
		net_default_mac(o->tap, net->config.mac);
	/* No link state to track on a tap: always up. */
	net->config.status = htole16(VIRTIO_NET_S_LINK_UP);
	net->config.max_virtqueue_pairs = htole16(1);

	net->ops = (struct virtio_dev_ops){
		.name = "virtio-net",
		.device_id = VIRTIO_ID_NET,
		.num_queues = 2,
		.features = net_features(net->vnet_hdr, guest_csum),
		.config_size = sizeof(net->config),
		.activate = net_activate,
		.reset = net_reset,
		.queue_notify = net_queue_notify,
	};
	virtio_dev_init(&net->vdev, &net->ops, net, (uint8_t *)&net->config,
			mem);
	net->vdev.label = net->label;
	pr_info("%s: mac %02x:%02x:%02x:%02x:%02x:%02x%s", net->label,
		net->config.mac[0], net->config.mac[1], net->config.mac[2],
		net->config.mac[3], net->config.mac[4], net->config.mac[5],
		guest_csum ? "" : ", no receive checksum offload");
	*out = net;
	return 0;
}

int virtio_net_create(struct virtio_net **out, const struct virtio_net_opts *o,
		      const struct guest_mem *mem, struct evloop *loop,
		      char *err, size_t errlen)
{
	struct virtio_net_opts named = *o;
	int hdr_len = VIRTIO_NET_HDR_LEN;
	struct ifreq ifr;
	int fd, e;

	*out = NULL;
	fd = open(NET_TUN_PATH, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		format_err(err, errlen,
			   "cannot open " NET_TUN_PATH " for tap '%s': %s%s",
			   o->tap, strerror(e),
			   e == ENOENT ? " (no tun driver: modprobe tun?)"
				       : "");
		return -e;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", o->tap);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		e = errno;
		format_err(
			err, errlen, "cannot attach to tap '%s': %s%s", o->tap,
			strerror(e),
			e == EPERM
				? " (needs CAP_NET_ADMIN, or a tap owned by this user)"
			: e == EBUSY ? " (in use by another process?)"
			: e == EINVAL
				? " (is it a tun device, or without vnet_hdr?)"
				: "");
		close(fd);
		return -e;
	}
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr_len) < 0) {
		e = errno;
		format_err(err, errlen, "tap '%s': TUNSETVNETHDRSZ %d: %s",
			   ifr.ifr_name, hdr_len, strerror(e));
		close(fd);
		return -e;
	}
	/* A template such as "nb%d" is now a real name. */
	snprintf(named.tap, sizeof(named.tap), "%s", ifr.ifr_name);
	return virtio_net_create_fd(out, fd,
				    VIRTIO_NET_FD_VNET_HDR | VIRTIO_NET_FD_TAP,
				    &named, mem, loop, err, errlen);
}

struct virtio_dev *virtio_net_vdev(struct virtio_net *n)
{
	return &n->vdev;
}

const char *virtio_net_ifname(struct virtio_net *n)
{
	return n->ifname;
}

void virtio_net_get_stats(struct virtio_net *n, struct virtio_net_stats *s)
{
	pthread_mutex_lock(&n->vdev.lock);
	*s = n->stats;
	s->tap_offloads = n->tap_offloads;
	pthread_mutex_unlock(&n->vdev.lock);
}

unsigned int virtio_net_inflight(struct virtio_net *n)
{
	unsigned int r;

	pthread_mutex_lock(&n->vdev.lock);
	r = n->tx_inflight + n->rx.busy;
	pthread_mutex_unlock(&n->vdev.lock);
	return r;
}

void virtio_net_destroy(struct virtio_net *n)
{
	if (!n)
		return;
	for (unsigned int q = 0; q < n->ops.num_queues; q++) {
		/* virtio_setup_kicks() made them; virtio.h has no undo. */
		if (n->vdev.qcfg[q].kick_fd >= 0)
			close(n->vdev.qcfg[q].kick_fd);
	}
	free(n->tx_slots);
	close(n->fd);
	pthread_mutex_destroy(&n->vdev.lock);
	free(n);
}
