/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The VMM's event loop: one thread, one io_uring. File descriptors are
 * watched with poll requests (multishot for eventfds and signalfds, one-shot
 * where the consumer needs back-pressure, e.g. console input).
 *
 * Only the loop thread touches the ring. Other threads talk to the loop
 * through eventfds (evloop_stop() is one).
 */
#ifndef NESTBOX_EVLOOP_H
#define NESTBOX_EVLOOP_H

#include <liburing.h>
#include <stdbool.h>

struct evloop;
struct evloop_source;
struct evloop_op;

/* @res is the poll result (revents mask) or -errno. */
typedef void (*evloop_cb)(struct evloop_source *src, int res);
/* Completion of an operation: the CQE's res and flags. */
typedef void (*evloop_op_cb)(struct evloop_op *op, int res, unsigned int flags);

/* Every submission's user_data points at one of these. */
struct evloop_op {
	evloop_op_cb cb;
};

struct evloop_source {
	struct evloop_op op; /* first: poll completions come back here */
	int fd;
	unsigned int events; /* POLLIN, ... */
	bool multishot;
	bool armed;
	bool removed;
	evloop_cb cb;
	void *opaque;
	struct evloop *loop;
};

struct evloop {
	struct io_uring ring;
	int stop_fd;
	bool stopping;
	unsigned int pending; /* submitted poll requests not yet completed */
	struct evloop_source stop_src;
};

int evloop_init(struct evloop *l, unsigned int entries);
void evloop_destroy(struct evloop *l);

/* Start watching @src->fd. From the loop thread (or before it runs). */
int evloop_add(struct evloop *l, struct evloop_source *src, int fd,
	       unsigned int events, bool multishot, evloop_cb cb, void *opaque);
/* Re-arm a one-shot source after its callback ran. */
int evloop_rearm(struct evloop_source *src);
/* Stop watching; the callback will not run again. */
void evloop_remove(struct evloop_source *src);

/*
 * An SQE for any io_uring operation (read, write, fsync, ...) whose
 * completion calls @op->cb on the loop. Loop thread only; NULL when the
 * submission queue stays full. The caller preps the SQE (io_uring_prep_*())
 * after this call, then must not touch it again.
 */
struct io_uring_sqe *evloop_sqe(struct evloop *l, struct evloop_op *op);

/* Run until evloop_stop(). Returns 0 or -errno from io_uring. */
int evloop_run(struct evloop *l);
/* Thread- and async-signal-safe. */
void evloop_stop(struct evloop *l);

/* Read and discard an eventfd's counter (for callbacks). */
void evloop_drain_eventfd(int fd);

#endif
