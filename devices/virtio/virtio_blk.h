/* SPDX-License-Identifier: GPL-2.0 */
/*
 * virtio-blk (virtio 1.2, section 5.2) backed by a raw image file or a block
 * device, with its I/O on the event loop's io_uring. Requests are served out
 * of order; every guest-supplied header, length and sector is checked before
 * any host I/O.
 */
#ifndef NESTBOX_VIRTIO_BLK_H
#define NESTBOX_VIRTIO_BLK_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../vmm/evloop.h"
#include "../../vmm/guest_mem.h"
#include "virtio.h"

#define VIRTIO_ID_BLOCK 2

/* Feature bits (5.2.3) */
#define VIRTIO_BLK_F_SIZE_MAX	  1
#define VIRTIO_BLK_F_SEG_MAX	  2
#define VIRTIO_BLK_F_GEOMETRY	  4
#define VIRTIO_BLK_F_RO		  5
#define VIRTIO_BLK_F_BLK_SIZE	  6
#define VIRTIO_BLK_F_FLUSH	  9
#define VIRTIO_BLK_F_TOPOLOGY	  10
#define VIRTIO_BLK_F_CONFIG_WCE	  11
#define VIRTIO_BLK_F_MQ		  12
#define VIRTIO_BLK_F_DISCARD	  13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

/* Request types (5.2.6) */
#define VIRTIO_BLK_T_IN		  0
#define VIRTIO_BLK_T_OUT	  1
#define VIRTIO_BLK_T_FLUSH	  4
#define VIRTIO_BLK_T_GET_ID	  8
#define VIRTIO_BLK_T_GET_LIFETIME 10
#define VIRTIO_BLK_T_DISCARD	  11
#define VIRTIO_BLK_T_WRITE_ZEROES 13

/* Request status byte (5.2.6) */
#define VIRTIO_BLK_S_OK	    0
#define VIRTIO_BLK_S_IOERR  1
#define VIRTIO_BLK_S_UNSUPP 2

/* struct virtio_blk_discard_write_zeroes flags (5.2.6) */
#define VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP 1

/* The protocol's unit, whatever blk_size says (5.2.5). */
#define VIRTIO_BLK_SECTOR_SIZE 512
/* GET_ID: a NUL-padded ASCII string of up to 20 bytes (5.2.6). */
#define VIRTIO_BLK_ID_BYTES 20

/* 5.2.6: the header every request starts with, device-readable. */
struct virtio_blk_req_hdr {
	uint32_t type; /* le32 */
	uint32_t reserved;
	uint64_t sector; /* le64 */
} __attribute__((packed));

/* 5.2.6: one DISCARD / WRITE_ZEROES segment. */
struct virtio_blk_discard_write_zeroes {
	uint64_t sector;      /* le64 */
	uint32_t num_sectors; /* le32 */
	uint32_t flags;	      /* le32 */
} __attribute__((packed));

/*
 * 5.2.4, up to the fields nestbox offers (no secure erase, no zones).
 * Little-endian.
 */
struct virtio_blk_config {
	uint64_t capacity; /* in 512-byte sectors */
	uint32_t size_max;
	uint32_t seg_max;
	struct {
		uint16_t cylinders;
		uint8_t heads;
		uint8_t sectors;
	} __attribute__((packed)) geometry;
	uint32_t blk_size;
	struct {
		uint8_t physical_block_exp;
		uint8_t alignment_offset;
		uint16_t min_io_size;
		uint32_t opt_io_size;
	} __attribute__((packed)) topology;
	uint8_t writeback;
	uint8_t unused0;
	uint16_t num_queues;
	uint32_t max_discard_sectors;
	uint32_t max_discard_seg;
	uint32_t discard_sector_alignment;
	uint32_t max_write_zeroes_sectors;
	uint32_t max_write_zeroes_seg;
	uint8_t write_zeroes_may_unmap;
	uint8_t unused1[3];
} __attribute__((packed));

/* Which transport the disk sits behind; the caller builds it. */
enum virtio_blk_transport {
	VIRTIO_TRANSPORT_PCI,
	VIRTIO_TRANSPORT_MMIO,
};

struct virtio_blk_opts {
	char path[PATH_MAX];
	bool readonly;
	char serial[VIRTIO_BLK_ID_BYTES + 1]; /* "" when none */
	unsigned int queues; /* 1..VIRTIO_MAX_QUEUES; 0 means 1 */
	enum virtio_blk_transport transport;
};

/*
 * Parse the value of --disk:
 * "PATH[,readonly][,serial=S][,queues=N][,transport=pci|mmio]".
 * Returns 0, or -EINVAL with one line in @err.
 */
int virtio_blk_parse(const char *arg, struct virtio_blk_opts *o, char *err,
		     size_t errlen);

struct virtio_blk;

/*
 * Open the image (a regular file or a block device whose size is a
 * multiple of 512 bytes) and build the device around it: @mem is what the
 * device reaches by DMA, @loop where its I/O runs. Returns 0, or -errno with
 * one line in @err naming the path.
 */
int virtio_blk_create(struct virtio_blk **out, const struct virtio_blk_opts *o,
		      const struct guest_mem *mem, struct evloop *loop,
		      char *err, size_t errlen);

/* The embedded virtio device, for the transport. */
struct virtio_dev *virtio_blk_vdev(struct virtio_blk *b);

/*
 * Requests the host still owns: submitted to io_uring (including those a
 * reset orphaned, until their completion arrives) or waiting for an SQE.
 * Loop thread; for debugging, tests and orderly teardown.
 */
unsigned int virtio_blk_inflight(struct virtio_blk *b);

/*
 * Free the device and close the image and the kick eventfds. Requests in
 * flight point into the device: call it once virtio_blk_inflight() is 0,
 * or after evloop_destroy() so that no completion can arrive.
 */
void virtio_blk_destroy(struct virtio_blk *b);

#endif
