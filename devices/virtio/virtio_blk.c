// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-blk (virtio 1.2, section 5.2) over io_uring.
 *
 * Every request gets a slot: a preallocated struct blk_req that holds the
 * popped chain (its iovecs point into guest memory) and is the io_uring
 * user_data. A slot is busy from virtq_pop() until its last completion
 * arrives, even if a reset orphaned the request meanwhile: the kernel may
 * still be using it. A reset bumps the device's generation; completions of
 * an older generation are dropped without touching guest memory (the rings
 * may belong to a new driver by then).
 *
 * All of it runs with vdev->lock held: queue_notify and the completions on
 * the event loop, reset on a vCPU thread.
 */
#include "virtio_blk.h"
#include "dev_opts.h"

#include <ctype.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../vmm/log.h"
#include "iov.h"

#define BLK_SECTOR_SHIFT 9

/* A request's header and status byte take two of the element's segments. */
#define BLK_SEG_MAX (VIRTQ_ELEM_MAX_IOV - 2)

/*
 * One DISCARD / WRITE_ZEROES segment per request, of at most 2 GiB - 512:
 * one fallocate() each, never a huge one.
 */
#define BLK_MAX_DISCARD_SEG	     1
#define BLK_MAX_WRITE_ZEROES_SEG     1
#define BLK_MAX_DISCARD_SECTORS	     (INT32_MAX >> BLK_SECTOR_SHIFT)
#define BLK_MAX_WRITE_ZEROES_SECTORS BLK_MAX_DISCARD_SECTORS
#define BLK_DISCARD_KNOWN_FLAGS	     0
#define BLK_WRITE_ZEROES_KNOWN_FLAGS VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP

/* Physical block sizes we report in the topology: 512 B .. 64 KiB. */
#define BLK_PHYS_BLOCK_MIN 512
#define BLK_PHYS_BLOCK_MAX 65536

#define BLK_PUNCH_HOLE (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE)
#define BLK_ZERO_RANGE (FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE)

/* blk_prep_*(): the request goes to the host (else: a VIRTIO_BLK_S_*). */
#define BLK_SUBMIT (-1)

_Static_assert(sizeof(struct virtio_blk_req_hdr) == 16, "5.2.6 header");
_Static_assert(sizeof(struct virtio_blk_discard_write_zeroes) == 16,
	       "5.2.6 segment");
_Static_assert(offsetof(struct virtio_blk_config, blk_size) == 20, "5.2.4");
_Static_assert(offsetof(struct virtio_blk_config, num_queues) == 34, "5.2.4");
_Static_assert(offsetof(struct virtio_blk_config, max_discard_sectors) == 36,
	       "5.2.4");
_Static_assert(offsetof(struct virtio_blk_config, write_zeroes_may_unmap) == 56,
	       "5.2.4");
_Static_assert(sizeof(struct virtio_blk_config) == 60, "5.2.4");
_Static_assert(BLK_SEG_MAX > 0, "VIRTQ_ELEM_MAX_IOV leaves no data segment");

/* The host operation a request is waiting for. */
enum blk_io {
	BLK_IO_READ,
	BLK_IO_WRITE,
	BLK_IO_SYNC,
	BLK_IO_FALLOCATE,
};

struct blk_queue;

struct blk_req {
	struct evloop_op op; /* first: the completion comes back here */
	struct blk_queue *bq;
	struct blk_req *next; /* on the free list or the SQE backlog */
	unsigned int generation;
	uint32_t type;
	enum blk_io io;
	uint64_t offset, len; /* bytes of the image */
	int fallocate_mode;
	bool dsync;	    /* write-through: FLUSH was not negotiated */
	bool sync_after;    /* likewise, for a WRITE_ZEROES */
	struct iovec *data; /* within elem.iov */
	unsigned int data_num;
	uint8_t *status;   /* the chain's last device-writable byte */
	uint32_t used_len; /* bytes written to the driver when all goes well */
	struct virtq_elem elem;
};

struct blk_queue {
	struct virtio_blk *blk;
	unsigned int index;
	struct blk_req *slots; /* VIRTQ_SIZE_MAX, first used in order */
	unsigned int slots_touched;
	struct blk_req *free;
	unsigned int inflight; /* busy slots, orphaned ones included */
	bool stalled;	       /* stopped popping with buffers maybe left */
	bool need_notify;      /* pushed without virtio_queue_done() yet */
};

struct virtio_blk {
	struct virtio_dev vdev;
	struct virtio_dev_ops ops;
	struct virtio_blk_config config;
	struct evloop *loop;
	int fd;
	bool readonly;
	uint64_t capacity; /* sectors */
	char serial[VIRTIO_BLK_ID_BYTES];
	char label[96];
	unsigned int generation;
	bool no_zero_range; /* the backend refused FALLOC_FL_ZERO_RANGE */
	/* Requests waiting for an SQE, oldest first. */
	struct blk_req *backlog, **backlog_tail;
	atomic_bool io_warned, req_warned;
	struct blk_queue queues[VIRTIO_MAX_QUEUES];
};

static void blk_req_done(struct evloop_op *op, int res, unsigned int flags);

static struct blk_req *blk_req_alloc(struct blk_queue *bq)
{
	struct blk_req *req = bq->free;

	if (req) {
		bq->free = req->next;
	} else {
		/* Callers check inflight < queue size <= VIRTQ_SIZE_MAX. */
		req = &bq->slots[bq->slots_touched++];
		req->op.cb = blk_req_done;
		req->bq = bq;
	}
	req->next = NULL;
	bq->inflight++;
	return req;
}

static void blk_req_free(struct blk_req *req)
{
	struct blk_queue *bq = req->bq;

	req->next = bq->free;
	bq->free = req;
	bq->inflight--;
}

/* Write the status byte and hand the chain back; the caller notifies. */
static void blk_req_complete(struct virtio_blk *blk, struct blk_req *req,
			     uint8_t status)
{
	*req->status = status;
	virtq_push(&blk->vdev.vqs[req->bq->index], &req->elem,
		   status == VIRTIO_BLK_S_OK ? req->used_len : 1);
	blk_req_free(req);
}

static bool blk_req_submit(struct virtio_blk *blk, struct blk_req *req)
{
	struct io_uring_sqe *sqe = evloop_sqe(blk->loop, &req->op);

	if (!sqe)
		return false;
	switch (req->io) {
	case BLK_IO_READ:
		io_uring_prep_readv(sqe, blk->fd, req->data, req->data_num,
				    req->offset);
		break;
	case BLK_IO_WRITE:
		io_uring_prep_writev2(sqe, blk->fd, req->data, req->data_num,
				      req->offset, req->dsync ? RWF_DSYNC : 0);
		break;
	case BLK_IO_SYNC:
		io_uring_prep_fsync(sqe, blk->fd, IORING_FSYNC_DATASYNC);
		break;
	case BLK_IO_FALLOCATE:
		io_uring_prep_fallocate(sqe, blk->fd, req->fallocate_mode,
					(off_t)req->offset, (off_t)req->len);
		break;
	}
	return true;
}

/*
 * Submit, or keep the request until an SQE frees up (the ring is shared):
 * nothing overtakes what already waits.
 */
static void blk_req_queue(struct virtio_blk *blk, struct blk_req *req)
{
	if (!blk->backlog && blk_req_submit(blk, req))
		return;
	req->next = NULL;
	*blk->backlog_tail = req;
	blk->backlog_tail = &req->next;
}

static void blk_submit_backlog(struct virtio_blk *blk)
{
	struct blk_req *req;

	while ((req = blk->backlog) && blk_req_submit(blk, req)) {
		blk->backlog = req->next;
		if (!blk->backlog)
			blk->backlog_tail = &blk->backlog;
	}
}

/*
 * 5.2.6: a range of sectors must lie within the capacity. The capacity
 * comes from the image size, so sector * 512 cannot overflow once this
 * holds.
 */
static bool blk_range_ok(const struct virtio_blk *blk, uint64_t sector,
			 uint64_t num_sectors)
{
	return sector <= blk->capacity && num_sectors <= blk->capacity - sector;
}

/* Checks common to IN and OUT; a bad request fails alone (IOERR). */
static bool blk_rw_ok(struct virtio_blk *blk, const struct blk_req *req,
		      uint64_t sector, uint64_t len)
{
	if (len % VIRTIO_BLK_SECTOR_SIZE) {
		pr_warn_once(
			blk->req_warned,
			"%s: %s of %llu bytes is not a multiple of %u (logged once)",
			blk->vdev.label,
			req->type == VIRTIO_BLK_T_IN ? "read" : "write",
			(unsigned long long)len, VIRTIO_BLK_SECTOR_SIZE);
		return false;
	}
	if (!blk_range_ok(blk, sector, len >> BLK_SECTOR_SHIFT)) {
		pr_warn_once(
			blk->req_warned,
			"%s: %s of %llu bytes at sector %llu is beyond the capacity of %llu sectors (logged once)",
			blk->vdev.label,
			req->type == VIRTIO_BLK_T_IN ? "read" : "write",
			(unsigned long long)len, (unsigned long long)sector,
			(unsigned long long)blk->capacity);
		return false;
	}
	return true;
}

static int blk_prep_read(struct virtio_blk *blk, struct blk_req *req,
			 uint64_t sector)
{
	struct virtq_elem *e = &req->elem;
	uint64_t len = e->in_len - 1;
	unsigned int num = e->in_num;

	/* The data is the writable part but its last byte, the status. */
	req->data = &e->iov[e->out_num];
	if (!--req->data[num - 1].iov_len)
		num--;
	req->data_num = num;
	if (!blk_rw_ok(blk, req, sector, len))
		return VIRTIO_BLK_S_IOERR;
	req->used_len = (uint32_t)len + 1;
	if (!len)
		return VIRTIO_BLK_S_OK;
	req->io = BLK_IO_READ;
	req->offset = sector << BLK_SECTOR_SHIFT;
	req->len = len;
	return BLK_SUBMIT;
}

static int blk_prep_write(struct virtio_blk *blk, struct blk_req *req,
			  uint64_t sector)
{
	struct virtq_elem *e = &req->elem;
	uint64_t len = e->out_len - sizeof(struct virtio_blk_req_hdr);
	unsigned int num = e->out_num;

	/* 5.2.6.2: with RO offered, IOERR and no data written. */
	if (blk->readonly)
		return VIRTIO_BLK_S_IOERR;
	/* The data is the readable part after the header. */
	req->data = iov_skip(e->iov, &num, sizeof(struct virtio_blk_req_hdr));
	req->data_num = num;
	if (!blk_rw_ok(blk, req, sector, len))
		return VIRTIO_BLK_S_IOERR;
	if (!len)
		return VIRTIO_BLK_S_OK;
	req->io = BLK_IO_WRITE;
	req->offset = sector << BLK_SECTOR_SHIFT;
	req->len = len;
	/*
	 * 5.2.6.2: FLUSH offered but not negotiated means writes are stable
	 * when they complete.
	 */
	req->dsync = !virtio_has_feature(&blk->vdev, VIRTIO_BLK_F_FLUSH);
	return BLK_SUBMIT;
}

static int blk_prep_flush(struct virtio_blk *blk, struct blk_req *req)
{
	if (blk->readonly)
		return VIRTIO_BLK_S_OK; /* nothing of ours to make stable */
	req->io = BLK_IO_SYNC;
	return BLK_SUBMIT;
}

/* 5.2.6: the ID string, NUL-padded to 20 bytes, not NUL-terminated. */
static int blk_get_id(struct virtio_blk *blk, struct blk_req *req)
{
	struct virtq_elem *e = &req->elem;
	struct iovec *iov = &e->iov[e->out_num];
	unsigned int num = e->in_num;
	size_t n;

	if (!--iov[num - 1].iov_len)
		num--;
	n = iov_from_buf(iov, num, blk->serial, sizeof(blk->serial));
	req->used_len = (uint32_t)n + 1;
	return VIRTIO_BLK_S_OK;
}

static int blk_prep_discard_write_zeroes(struct virtio_blk *blk,
					 struct blk_req *req)
{
	bool discard = req->type == VIRTIO_BLK_T_DISCARD;
	struct virtq_elem *e = &req->elem;
	struct virtio_blk_discard_write_zeroes seg;
	uint64_t sector;
	uint32_t num_sectors, flags, known, max;

	if (!virtio_has_feature(&blk->vdev,
				discard ? VIRTIO_BLK_F_DISCARD
					: VIRTIO_BLK_F_WRITE_ZEROES))
		return VIRTIO_BLK_S_UNSUPP;
	if (blk->readonly)
		return VIRTIO_BLK_S_IOERR;
	/* max_discard_seg = max_write_zeroes_seg = 1: exactly one segment. */
	if (e->out_len - sizeof(struct virtio_blk_req_hdr) != sizeof(seg)) {
		pr_warn_once(
			blk->req_warned,
			"%s: %s carries %llu bytes of segments, not one %zu-byte segment (logged once)",
			blk->vdev.label, discard ? "discard" : "write zeroes",
			(unsigned long long)(e->out_len -
					     sizeof(struct virtio_blk_req_hdr)),
			sizeof(seg));
		return VIRTIO_BLK_S_IOERR;
	}
	iov_to_buf(e->iov, e->out_num, sizeof(struct virtio_blk_req_hdr), &seg,
		   sizeof(seg));
	sector = le64toh(seg.sector);
	num_sectors = le32toh(seg.num_sectors);
	flags = le32toh(seg.flags);

	/* 5.2.6.2: unknown flags, and UNMAP on a discard, are UNSUPP. */
	known = discard ? BLK_DISCARD_KNOWN_FLAGS
			: BLK_WRITE_ZEROES_KNOWN_FLAGS;
	if (flags & ~known)
		return VIRTIO_BLK_S_UNSUPP;
	max = discard ? BLK_MAX_DISCARD_SECTORS : BLK_MAX_WRITE_ZEROES_SECTORS;
	if (num_sectors > max || !blk_range_ok(blk, sector, num_sectors)) {
		pr_warn_once(
			blk->req_warned,
			"%s: %s of %u sectors at sector %llu exceeds the limit of %u or the capacity of %llu (logged once)",
			blk->vdev.label, discard ? "discard" : "write zeroes",
			num_sectors, (unsigned long long)sector, max,
			(unsigned long long)blk->capacity);
		return VIRTIO_BLK_S_IOERR;
	}
	if (!num_sectors)
		return VIRTIO_BLK_S_OK;
	req->io = BLK_IO_FALLOCATE;
	req->offset = sector << BLK_SECTOR_SHIFT;
	req->len = (uint64_t)num_sectors << BLK_SECTOR_SHIFT;
	/* A hole reads back as zeroes: fine for WRITE_ZEROES with UNMAP. */
	if (discard || (flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP) ||
	    blk->no_zero_range)
		req->fallocate_mode = BLK_PUNCH_HOLE;
	else
		req->fallocate_mode = BLK_ZERO_RANGE;
	/* Zeroes are written data: stable on completion without FLUSH. */
	req->sync_after =
		!discard && !virtio_has_feature(&blk->vdev, VIRTIO_BLK_F_FLUSH);
	return BLK_SUBMIT;
}

/*
 * Start a popped request: validate, then complete it at once or send it to
 * the host. A chain that cannot be a request at all is the driver breaking
 * the device (5.2.6: header first, status byte last).
 */
static void blk_req_start(struct virtio_blk *blk, struct blk_req *req)
{
	struct virtio_dev *vdev = &blk->vdev;
	struct virtq_elem *e = &req->elem;
	struct virtio_blk_req_hdr hdr;
	struct iovec *last;
	uint64_t sector;
	int status;

	if (!e->in_len) {
		virtio_device_error(
			vdev,
			"queue %u: request at head %u has no device-writable status byte",
			req->bq->index, e->head);
		blk_req_free(req);
		return;
	}
	if (e->out_len < sizeof(hdr)) {
		virtio_device_error(
			vdev,
			"queue %u: request at head %u has a %llu-byte header, not %zu",
			req->bq->index, e->head, (unsigned long long)e->out_len,
			sizeof(hdr));
		blk_req_free(req);
		return;
	}
	/* Mapped iovecs are never empty, so the last one holds the status. */
	last = &e->iov[e->out_num + e->in_num - 1];
	req->status = (uint8_t *)last->iov_base + last->iov_len - 1;
	/* The header may span descriptors; copied once, then only the copy. */
	iov_to_buf(e->iov, e->out_num, 0, &hdr, sizeof(hdr));
	req->type = le32toh(hdr.type);
	sector = le64toh(hdr.sector);
	req->generation = blk->generation;
	req->used_len = 1;
	req->dsync = false;
	req->sync_after = false;

	switch (req->type) {
	case VIRTIO_BLK_T_IN:
		status = blk_prep_read(blk, req, sector);
		break;
	case VIRTIO_BLK_T_OUT:
		status = blk_prep_write(blk, req, sector);
		break;
	case VIRTIO_BLK_T_FLUSH:
		status = blk_prep_flush(blk, req);
		break;
	case VIRTIO_BLK_T_GET_ID:
		status = blk_get_id(blk, req);
		break;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		status = blk_prep_discard_write_zeroes(blk, req);
		break;
	default:
		status = VIRTIO_BLK_S_UNSUPP;
		break;
	}
	if (status == BLK_SUBMIT) {
		blk_req_queue(blk, req);
		return;
	}
	blk_req_complete(blk, req, (uint8_t)status);
	req->bq->need_notify = true;
}

/*
 * Pop and start requests until the ring is empty, the queue has as many
 * requests in flight as it has entries, or the loop's ring is out of SQEs.
 * In the last two cases a completion resumes (blk_resume()).
 */
static void blk_process_queue(struct virtio_blk *blk, struct blk_queue *bq)
{
	struct virtio_dev *vdev = &blk->vdev;
	struct virtq *vq = &vdev->vqs[bq->index];

	bq->stalled = false;
	for (;;) {
		virtq_disable_notify(vq);
		for (;;) {
			struct blk_req *req;
			int r;

			if (blk->backlog || bq->inflight >= vq->size) {
				bq->stalled = true;
				/* Kicks meanwhile retry the backlog. */
				virtq_enable_notify(vq);
				goto out;
			}
			req = blk_req_alloc(bq);
			r = virtio_queue_pop(vdev, bq->index, &req->elem);
			if (r <= 0) {
				blk_req_free(req);
				if (!r)
					break;
				virtio_device_error(
					vdev,
					"queue %u: malformed available ring or descriptor chain",
					bq->index);
				goto out;
			}
			blk_req_start(blk, req);
			if (atomic_load(&vdev->broken))
				goto out;
		}
		/* Buffers that came in before re-enabling: go round again. */
		if (!virtq_enable_notify(vq))
			break;
	}
out:
	if (bq->need_notify) {
		bq->need_notify = false;
		virtio_queue_done(vdev, bq->index);
	}
}

static bool blk_live(struct virtio_blk *blk)
{
	return (blk->vdev.status & VIRTIO_STATUS_DRIVER_OK) &&
	       !atomic_load(&blk->vdev.broken);
}

/* After a completion: SQEs or a slot may have freed up. */
static void blk_resume(struct virtio_blk *blk)
{
	blk_submit_backlog(blk);
	if (blk->backlog || !blk_live(blk))
		return;
	for (unsigned int q = 0; q < blk->ops.num_queues; q++) {
		struct blk_queue *bq = &blk->queues[q];

		if (bq->stalled && blk->vdev.vqs[q].enabled)
			blk_process_queue(blk, bq);
	}
}

/* The final status of a host operation's result. */
static uint8_t blk_io_status(struct virtio_blk *blk, struct blk_req *req,
			     int res)
{
	uint64_t expected = 0;

	if (req->io == BLK_IO_READ || req->io == BLK_IO_WRITE)
		expected = req->len;
	if (res < 0) {
		pr_warn_once(
			blk->io_warned,
			"%s: host I/O error at byte %llu (+%llu): %s (logged once)",
			blk->vdev.label, (unsigned long long)req->offset,
			(unsigned long long)req->len, strerror(-res));
		return VIRTIO_BLK_S_IOERR;
	}
	/* Short: past the end of a shrunk image, or a full host disk. */
	if ((uint64_t)res != expected) {
		pr_warn_once(
			blk->io_warned,
			"%s: short %s at byte %llu: %d of %llu bytes (logged once)",
			blk->vdev.label,
			req->io == BLK_IO_READ ? "read" : "write",
			(unsigned long long)req->offset, res,
			(unsigned long long)expected);
		return VIRTIO_BLK_S_IOERR;
	}
	return VIRTIO_BLK_S_OK;
}

static void blk_req_done(struct evloop_op *op, int res, unsigned int flags)
{
	struct blk_req *req = (struct blk_req *)op;
	struct blk_queue *bq = req->bq;
	struct virtio_blk *blk = bq->blk;
	struct virtio_dev *vdev = &blk->vdev;

	pthread_mutex_lock(&vdev->lock);
	/* Reset (or broken) since submission: leave guest memory alone. */
	if (req->generation != blk->generation || atomic_load(&vdev->broken)) {
		blk_req_free(req);
		goto out;
	}
	if (req->io == BLK_IO_FALLOCATE && res == -EOPNOTSUPP) {
		if (req->type == VIRTIO_BLK_T_DISCARD) {
			/* 5.2.6.2: the device MAY deallocate; it need not. */
			res = 0;
		} else if (req->fallocate_mode != BLK_PUNCH_HOLE) {
			/* No ZERO_RANGE (tmpfs): a hole reads as zeroes. */
			blk->no_zero_range = true;
			req->fallocate_mode = BLK_PUNCH_HOLE;
			blk_req_queue(blk, req);
			goto out;
		}
	}
	if (!res && req->sync_after) {
		req->sync_after = false;
		req->io = BLK_IO_SYNC;
		blk_req_queue(blk, req);
		goto out;
	}
	blk_req_complete(blk, req, blk_io_status(blk, req, res));
	virtio_queue_done(vdev, bq->index);
out:
	blk_resume(blk);
	pthread_mutex_unlock(&vdev->lock);
}

static void blk_queue_notify(struct virtio_dev *vdev, unsigned int q)
{
	struct virtio_blk *blk = vdev->priv;

	blk_submit_backlog(blk);
	blk_process_queue(blk, &blk->queues[q]);
}

static void blk_reset(struct virtio_dev *vdev)
{
	struct virtio_blk *blk = vdev->priv;
	struct blk_req *req;

	/* What io_uring still holds completes into the void (generation). */
	blk->generation++;
	/* What never got an SQE was never seen by the kernel: drop it. */
	while ((req = blk->backlog)) {
		blk->backlog = req->next;
		blk_req_free(req);
	}
	blk->backlog_tail = &blk->backlog;
	for (unsigned int q = 0; q < VIRTIO_MAX_QUEUES; q++) {
		blk->queues[q].stalled = false;
		blk->queues[q].need_notify = false;
	}
}

enum {
	BLK_OPT_READONLY = 1,
	BLK_OPT_SERIAL = 2,
	BLK_OPT_QUEUES = 4,
	BLK_OPT_TRANSPORT = 8,
};

#define BLK_OPTS_HELP "readonly, serial=S, queues=N, transport=pci|mmio"

/* The value of option @bit (already known and not repeated). */
static int blk_parse_option(unsigned int bit, const char *val, size_t vlen,
			    struct virtio_blk_opts *o, char *err, size_t errlen)
{
	unsigned long n = 0;
	size_t i;

	switch (bit) {
	case BLK_OPT_READONLY:
		o->readonly = true;
		return 0;
	case BLK_OPT_SERIAL:
		if (vlen > VIRTIO_BLK_ID_BYTES) {
			format_err(err, errlen,
				   "disk serial '%.*s' is longer than %d bytes",
				   (int)vlen, val, VIRTIO_BLK_ID_BYTES);
			return -EINVAL;
		}
		for (i = 0; i < vlen; i++) {
			if (!isprint((unsigned char)val[i])) {
				format_err(
					err, errlen,
					"disk serial must be printable ASCII");
				return -EINVAL;
			}
		}
		memcpy(o->serial, val, vlen);
		return 0;
	case BLK_OPT_QUEUES:
		/* At most two digits are meaningful; a third catches "100". */
		for (i = 0; i < vlen && i < 3 && isdigit((unsigned char)val[i]);
		     i++)
			n = n * 10 + (val[i] - '0');
		if (!vlen || i != vlen || n < 1 || n > VIRTIO_MAX_QUEUES) {
			format_err(
				err, errlen,
				"disk queues=%.*s: expected a number from 1 to %d",
				(int)vlen, val, VIRTIO_MAX_QUEUES);
			return -EINVAL;
		}
		o->queues = n;
		return 0;
	case BLK_OPT_TRANSPORT:
		if (opt_key_is(val, vlen, "pci")) {
			o->transport = VIRTIO_TRANSPORT_PCI;
		} else if (opt_key_is(val, vlen, "mmio")) {
			o->transport = VIRTIO_TRANSPORT_MMIO;
		} else {
			format_err(err, errlen,
				   "disk transport=%.*s: expected pci or mmio",
				   (int)vlen, val);
			return -EINVAL;
		}
		return 0;
	}
	return -EINVAL;
}

int virtio_blk_parse(const char *arg, struct virtio_blk_opts *o, char *err,
		     size_t errlen)
{
	const char *end = strchrnul(arg, ',');
	unsigned int seen = 0;

	memset(o, 0, sizeof(*o));
	o->queues = 1;
	o->transport = VIRTIO_TRANSPORT_PCI;
	if (end == arg) {
		format_err(err, errlen,
			   "disk '%s' has no image path before its options",
			   arg);
		return -EINVAL;
	}
	if ((size_t)(end - arg) >= sizeof(o->path)) {
		format_err(err, errlen,
			   "disk image path is longer than %zu bytes",
			   sizeof(o->path) - 1);
		return -EINVAL;
	}
	memcpy(o->path, arg, end - arg);

	while (*end) {
		static const char *const names[] = { "readonly", "serial",
						     "queues", "transport" };
		struct dev_opt d;

		end = dev_opt_take("disk", arg, end + 1, names, 4,
				   BLK_OPTS_HELP, &seen, &d, err, errlen);
		if (!end)
			return -EINVAL;
		if ((d.bit == BLK_OPT_READONLY) != !d.val) {
			format_err(err, errlen, "disk option '%.*s' %s",
				   (int)d.len, d.item,
				   d.val ? "takes no value" : "needs a value");
			return -EINVAL;
		}
		if (blk_parse_option(d.bit, d.val, d.vlen, o, err, errlen))
			return -EINVAL;
	}
	return 0;
}

/* Size in bytes and physical block size of a regular file or block device. */
static int blk_probe(int fd, const char *path, uint64_t *size,
		     unsigned int *phys, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st) < 0) {
		int e = errno;

		format_err(err, errlen, "cannot stat disk image '%s': %s", path,
			   strerror(e));
		return -e;
	}
	if (S_ISREG(st.st_mode)) {
		*size = st.st_size;
		*phys = st.st_blksize;
	} else if (S_ISBLK(st.st_mode)) {
		unsigned int pbs = 0;

		if (ioctl(fd, BLKGETSIZE64, size) < 0) {
			int e = errno;

			format_err(
				err, errlen,
				"cannot get the size of block device '%s': %s",
				path, strerror(e));
			return -e;
		}
		if (ioctl(fd, BLKPBSZGET, &pbs) < 0)
			pbs = 0;
		*phys = pbs;
	} else {
		format_err(
			err, errlen,
			"disk image '%s' is not a regular file or a block device",
			path);
		return -EINVAL;
	}
	if (*size % VIRTIO_BLK_SECTOR_SIZE) {
		format_err(
			err, errlen,
			"disk image '%s' is %llu bytes, not a multiple of the %u-byte sector size",
			path, (unsigned long long)*size,
			VIRTIO_BLK_SECTOR_SIZE);
		return -EINVAL;
	}
	/* Only a hint to the driver: keep it a sane power of two. */
	if (*phys < BLK_PHYS_BLOCK_MIN || *phys > BLK_PHYS_BLOCK_MAX ||
	    (*phys & (*phys - 1)))
		*phys = BLK_PHYS_BLOCK_MIN;
	return 0;
}

static void blk_build_config(struct virtio_blk *blk, unsigned int queues,
			     unsigned int phys)
{
	struct virtio_blk_config *c = &blk->config;
	unsigned int per_phys = phys / VIRTIO_BLK_SECTOR_SIZE;

	memset(c, 0, sizeof(*c));
	c->capacity = htole64(blk->capacity);
	c->seg_max = htole32(BLK_SEG_MAX);
	c->blk_size = htole32(VIRTIO_BLK_SECTOR_SIZE);
	c->topology.physical_block_exp = __builtin_ctz(per_phys);
	c->topology.min_io_size = htole16(per_phys);
	c->num_queues = htole16(queues);
	c->max_discard_sectors = htole32(BLK_MAX_DISCARD_SECTORS);
	c->max_discard_seg = htole32(BLK_MAX_DISCARD_SEG);
	c->discard_sector_alignment = htole32(per_phys);
	c->max_write_zeroes_sectors = htole32(BLK_MAX_WRITE_ZEROES_SECTORS);
	c->max_write_zeroes_seg = htole32(BLK_MAX_WRITE_ZEROES_SEG);
	c->write_zeroes_may_unmap = 1;
}

static uint64_t blk_features(bool readonly, unsigned int queues)
{
	uint64_t f =
		(1ULL << VIRTIO_BLK_F_SEG_MAX) |
		(1ULL << VIRTIO_BLK_F_BLK_SIZE) | (1ULL << VIRTIO_BLK_F_FLUSH) |
		(1ULL << VIRTIO_BLK_F_TOPOLOGY) |
		(1ULL << VIRTIO_BLK_F_DISCARD) |
		(1ULL << VIRTIO_BLK_F_WRITE_ZEROES) |
		(1ULL << VIRTIO_F_INDIRECT_DESC) | (1ULL << VIRTIO_F_EVENT_IDX);

	if (readonly)
		f |= 1ULL << VIRTIO_BLK_F_RO;
	if (queues > 1)
		f |= 1ULL << VIRTIO_BLK_F_MQ;
	return f;
}

int virtio_blk_create(struct virtio_blk **out, const struct virtio_blk_opts *o,
		      const struct guest_mem *mem, struct evloop *loop,
		      char *err, size_t errlen)
{
	unsigned int queues = o->queues ? o->queues : 1, phys = 0;
	struct virtio_blk *blk;
	uint64_t size = 0;
	int fd, r;

	*out = NULL;
	if (queues > VIRTIO_MAX_QUEUES) {
		format_err(err, errlen, "disk '%s': %u queues, at most %d",
			   o->path, queues, VIRTIO_MAX_QUEUES);
		return -EINVAL;
	}
	if (strnlen(o->serial, sizeof(o->serial)) > VIRTIO_BLK_ID_BYTES) {
		format_err(err, errlen,
			   "disk '%s': serial longer than %d bytes", o->path,
			   VIRTIO_BLK_ID_BYTES);
		return -EINVAL;
	}
	fd = open(o->path, (o->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		bool hint = !o->readonly &&
			    (e == EROFS || e == EACCES || e == EPERM);

		format_err(err, errlen, "cannot open disk image '%s'%s: %s%s",
			   o->path, o->readonly ? "" : " read-write",
			   strerror(e), hint ? " (add ,readonly?)" : "");
		return -e;
	}
	r = blk_probe(fd, o->path, &size, &phys, err, errlen);
	if (r) {
		close(fd);
		return r;
	}

	blk = calloc(1, sizeof(*blk));
	if (!blk)
		goto nomem;
	for (unsigned int q = 0; q < queues; q++) {
		blk->queues[q].blk = blk;
		blk->queues[q].index = q;
		blk->queues[q].slots =
			calloc(VIRTQ_SIZE_MAX, sizeof(struct blk_req));
		if (!blk->queues[q].slots)
			goto nomem;
	}
	blk->fd = fd;
	blk->loop = loop;
	blk->readonly = o->readonly;
	blk->capacity = size / VIRTIO_BLK_SECTOR_SIZE;
	memcpy(blk->serial, o->serial, strnlen(o->serial, sizeof(o->serial)));
	blk->backlog_tail = &blk->backlog;
	snprintf(blk->label, sizeof(blk->label), "virtio-blk %.80s", o->path);
	blk_build_config(blk, queues, phys);

	blk->ops = (struct virtio_dev_ops){
		.name = "virtio-blk",
		.device_id = VIRTIO_ID_BLOCK,
		.num_queues = queues,
		.features = blk_features(o->readonly, queues),
		.config_size = sizeof(blk->config),
		.reset = blk_reset,
		.queue_notify = blk_queue_notify,
	};
	virtio_dev_init(&blk->vdev, &blk->ops, blk, (uint8_t *)&blk->config,
			mem);
	blk->vdev.label = blk->label;
	pr_info("%s: %llu sectors%s, %u queue%s", blk->label,
		(unsigned long long)blk->capacity,
		o->readonly ? ", read-only" : "", queues,
		queues > 1 ? "s" : "");
	*out = blk;
	return 0;

nomem:
	if (blk) {
		for (unsigned int q = 0; q < queues; q++)
			free(blk->queues[q].slots);
		free(blk);
	}
	close(fd);
	format_err(err, errlen, "disk '%s': out of memory", o->path);
	return -ENOMEM;
}

struct virtio_dev *virtio_blk_vdev(struct virtio_blk *b)
{
	return &b->vdev;
}

unsigned int virtio_blk_inflight(struct virtio_blk *b)
{
	unsigned int n = 0;

	pthread_mutex_lock(&b->vdev.lock);
	for (unsigned int q = 0; q < b->ops.num_queues; q++)
		n += b->queues[q].inflight;
	pthread_mutex_unlock(&b->vdev.lock);
	return n;
}

void virtio_blk_destroy(struct virtio_blk *b)
{
	if (!b)
		return;
	for (unsigned int q = 0; q < b->ops.num_queues; q++) {
		/* virtio_setup_kicks() made them; virtio.h has no undo. */
		if (b->vdev.qcfg[q].kick_fd >= 0)
			close(b->vdev.qcfg[q].kick_fd);
		free(b->queues[q].slots);
	}
	close(b->fd);
	pthread_mutex_destroy(&b->vdev.lock);
	free(b);
}
