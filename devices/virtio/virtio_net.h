/* SPDX-License-Identifier: GPL-2.0 */
/*
 * virtio-net (virtio 1.2, section 5.1) backed by a Linux tap with its I/O on
 * the event loop's io_uring: frames go between the tap and the guest's
 * buffers without a copy. One receiveq and one transmitq, no control queue.
 */
#ifndef NESTBOX_VIRTIO_NET_H
#define NESTBOX_VIRTIO_NET_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../vmm/evloop.h"
#include "../../vmm/guest_mem.h"
#include "virtio.h"
#include "virtio_blk.h" /* enum virtio_blk_transport */

#define VIRTIO_ID_NET 1

/* Queues (5.1.2), without VIRTIO_NET_F_MQ or a control queue. */
#define VIRTIO_NET_RXQ 0
#define VIRTIO_NET_TXQ 1

/* Feature bits (5.1.3) */
#define VIRTIO_NET_F_CSUM	0
#define VIRTIO_NET_F_GUEST_CSUM 1
#define VIRTIO_NET_F_MAC	5
#define VIRTIO_NET_F_GUEST_TSO4 7
#define VIRTIO_NET_F_GUEST_TSO6 8
#define VIRTIO_NET_F_HOST_TSO4	11
#define VIRTIO_NET_F_HOST_TSO6	12
#define VIRTIO_NET_F_MRG_RXBUF	15
#define VIRTIO_NET_F_STATUS	16

/* Config status (5.1.4) */
#define VIRTIO_NET_S_LINK_UP 1

/* struct virtio_net_hdr flags and gso_type (5.1.6) */
#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1
#define VIRTIO_NET_HDR_F_DATA_VALID 2
#define VIRTIO_NET_HDR_GSO_NONE	    0
#define VIRTIO_NET_HDR_GSO_TCPV4    1
#define VIRTIO_NET_HDR_GSO_UDP	    3
#define VIRTIO_NET_HDR_GSO_TCPV6    4
#define VIRTIO_NET_HDR_GSO_ECN	    0x80

#define VIRTIO_NET_MAC_LEN 6

/*
 * 5.1.6: the header in front of every frame. With VERSION_1 it always has
 * num_buffers, so it is 12 bytes whether MRG_RXBUF is negotiated or not.
 * Little-endian.
 */
struct virtio_net_hdr_v1 {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;
} __attribute__((packed));

#define VIRTIO_NET_HDR_LEN 12

/* 5.1.4, up to the fields nestbox offers. Little-endian. */
struct virtio_net_config {
	uint8_t mac[VIRTIO_NET_MAC_LEN];
	uint16_t status;
	uint16_t max_virtqueue_pairs;
} __attribute__((packed));

struct virtio_net_opts {
	char tap[IFNAMSIZ]; /* may be a template such as "nb%d" */
	bool has_mac;	    /* else locally administered, from the name */
	uint8_t mac[VIRTIO_NET_MAC_LEN];
	enum virtio_blk_transport transport;
};

/*
 * Parse the value of --net:
 * "tap=NAME[,mac=xx:xx:xx:xx:xx:xx][,transport=pci|mmio]".
 * Returns 0, or -EINVAL with one line in @err.
 */
int virtio_net_parse(const char *arg, struct virtio_net_opts *o, char *err,
		     size_t errlen);

struct virtio_net;

/*
 * Attach to (or create) tap @o->tap with IFF_VNET_HDR and build the device
 * around it: @mem is what the device reaches by DMA, @loop where its I/O
 * runs. Returns 0, or -errno with one line in @err naming the tap.
 */
int virtio_net_create(struct virtio_net **out, const struct virtio_net_opts *o,
		      const struct guest_mem *mem, struct evloop *loop,
		      char *err, size_t errlen);

/* virtio_net_create_fd() flags: what the backend fd is. */
/* Each frame read or written starts with a struct virtio_net_hdr_v1. */
#define VIRTIO_NET_FD_VNET_HDR 1
/* A tap: offloads are switched with TUNSETOFFLOAD. */
#define VIRTIO_NET_FD_TAP 2

/*
 * The same over an fd that is already open and carries one frame per
 * read/write (a tap, or a SOCK_SEQPACKET socket in tests); @fd is made
 * non-blocking and belongs to the device from now on, even on failure.
 * @o->tap only names the device in logs (may be empty).
 */
int virtio_net_create_fd(struct virtio_net **out, int fd, unsigned int flags,
			 const struct virtio_net_opts *o,
			 const struct guest_mem *mem, struct evloop *loop,
			 char *err, size_t errlen);

/* The embedded virtio device, for the transport. */
struct virtio_dev *virtio_net_vdev(struct virtio_net *n);

/* The interface name the kernel gave the tap ("" for a plain fd). */
const char *virtio_net_ifname(struct virtio_net *n);

struct virtio_net_stats {
	uint64_t tx_frames, tx_dropped; /* dropped: refused or failed writes */
	uint64_t rx_frames, rx_dropped; /* dropped: no fitting buffer chain */
	unsigned int tap_offloads; /* TUN_F_* last set with TUNSETOFFLOAD */
};

void virtio_net_get_stats(struct virtio_net *n, struct virtio_net_stats *s);

/*
 * Operations the host still owns: writes and the read submitted to io_uring
 * (including those a reset orphaned, until their completion arrives) or
 * waiting for an SQE. Loop thread; for tests and orderly teardown.
 */
unsigned int virtio_net_inflight(struct virtio_net *n);

/*
 * Free the device, close the tap and the kick eventfds. Call it after
 * evloop_destroy() (or with virtio_net_inflight() 0 and the loop stopped
 * for good): in-flight I/O and the tap's poll point into the device.
 */
void virtio_net_destroy(struct virtio_net *n);

#endif
