// SPDX-License-Identifier: GPL-2.0
#include "evloop.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* user_data of cancel requests: never a source pointer. */
#define EVLOOP_CANCEL_TAG 1

static void source_cqe(struct evloop_op *op, int res, unsigned int flags);

static struct io_uring_sqe *get_sqe(struct evloop *l)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&l->ring);

	if (!sqe) {
		io_uring_submit(&l->ring);
		sqe = io_uring_get_sqe(&l->ring);
	}
	return sqe;
}

struct io_uring_sqe *evloop_sqe(struct evloop *l, struct evloop_op *op)
{
	struct io_uring_sqe *sqe = get_sqe(l);

	/* liburing's io_uring_prep_*() leave user_data alone. */
	if (sqe)
		io_uring_sqe_set_data(sqe, op);
	return sqe;
}

static int submit_poll(struct evloop_source *src)
{
	struct io_uring_sqe *sqe = get_sqe(src->loop);

	if (!sqe)
		return -EBUSY;
	if (src->multishot)
		io_uring_prep_poll_multishot(sqe, src->fd, src->events);
	else
		io_uring_prep_poll_add(sqe, src->fd, src->events);
	io_uring_sqe_set_data(sqe, &src->op);
	src->armed = true;
	src->loop->pending++;
	return 0;
}

static void stop_cb(struct evloop_source *src, int res)
{
	(void)res;
	evloop_drain_eventfd(src->fd);
	src->loop->stopping = true;
}

int evloop_init(struct evloop *l, unsigned int entries)
{
	int ret;

	memset(l, 0, sizeof(*l));
	l->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (l->stop_fd < 0)
		return -errno;
	ret = io_uring_queue_init(entries, &l->ring, 0);
	if (ret < 0) {
		close(l->stop_fd);
		return ret;
	}
	ret = evloop_add(l, &l->stop_src, l->stop_fd, POLLIN, true, stop_cb,
			 NULL);
	if (ret < 0) {
		evloop_destroy(l);
		return ret;
	}
	return 0;
}

void evloop_destroy(struct evloop *l)
{
	io_uring_queue_exit(&l->ring);
	if (l->stop_fd >= 0)
		close(l->stop_fd);
	l->stop_fd = -1;
}

int evloop_add(struct evloop *l, struct evloop_source *src, int fd,
	       unsigned int events, bool multishot, evloop_cb cb, void *opaque)
{
	memset(src, 0, sizeof(*src));
	src->op.cb = source_cqe;
	src->fd = fd;
	src->events = events;
	src->multishot = multishot;
	src->cb = cb;
	src->opaque = opaque;
	src->loop = l;
	return submit_poll(src);
}

int evloop_rearm(struct evloop_source *src)
{
	if (src->armed || src->removed)
		return 0;
	return submit_poll(src);
}

void evloop_remove(struct evloop_source *src)
{
	struct io_uring_sqe *sqe;

	src->removed = true;
	if (!src->armed)
		return;
	sqe = io_uring_get_sqe(&src->loop->ring);
	if (!sqe) {
		io_uring_submit(&src->loop->ring);
		sqe = io_uring_get_sqe(&src->loop->ring);
	}
	if (sqe) {
		io_uring_prep_poll_remove(sqe, (__u64)(uintptr_t)src);
		io_uring_sqe_set_data64(sqe, EVLOOP_CANCEL_TAG);
	}
}

static void handle_cqe(struct io_uring_cqe *cqe)
{
	struct evloop_op *op;

	if (cqe->user_data == EVLOOP_CANCEL_TAG)
		return;
	op = io_uring_cqe_get_data(cqe);
	op->cb(op, cqe->res, cqe->flags);
}

static void source_cqe(struct evloop_op *op, int res, unsigned int flags)
{
	struct evloop_source *src = (struct evloop_source *)op;
	struct evloop *l = src->loop;

	/* A multishot poll stays armed while the kernel says F_MORE. */
	if (!(flags & IORING_CQE_F_MORE)) {
		src->armed = false;
		l->pending--;
	}
	if (src->removed || res == -ECANCELED)
		return;
	src->cb(src, res);
	/* A multishot poll the kernel ended (e.g. overflow) is restarted. */
	if (src->multishot && !src->armed && !src->removed && res >= 0)
		submit_poll(src);
}

/*
 * Completions handled before the loop looks at the ring again: callbacks
 * that keep producing completions (a guest kicking without pause) must not
 * starve evloop_stop() or hold one pass forever.
 */
#define EVLOOP_BATCH 64

int evloop_run(struct evloop *l)
{
	while (!l->stopping) {
		struct io_uring_cqe *cqes[EVLOOP_BATCH];
		unsigned int n;
		int ret;

		ret = io_uring_submit_and_wait(&l->ring, 1);
		if (ret < 0 && ret != -EINTR && ret != -EAGAIN)
			return ret;
		n = io_uring_peek_batch_cqe(&l->ring, cqes, EVLOOP_BATCH);
		for (unsigned int i = 0; i < n; i++)
			handle_cqe(cqes[i]);
		io_uring_cq_advance(&l->ring, n);
	}
	l->stopping = false;
	return 0;
}

void evloop_stop(struct evloop *l)
{
	uint64_t one = 1;
	ssize_t r = write(l->stop_fd, &one, sizeof(one));

	(void)r; /* counter saturation only means a stop is already queued */
}

void evloop_drain_eventfd(int fd)
{
	uint64_t v;
	ssize_t r = read(fd, &v, sizeof(v));

	(void)r;
}
