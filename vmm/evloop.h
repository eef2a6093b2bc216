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

/* @res is the poll result (revents mask) or -errno. */
typedef void (*evloop_cb)(struct evloop_source *src, int res);

struct evloop_source {
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

/* Run until evloop_stop(). Returns 0 or -errno from io_uring. */
int evloop_run(struct evloop *l);
/* Thread- and async-signal-safe. */
void evloop_stop(struct evloop *l);

/* Read and discard an eventfd's counter (for callbacks). */
void evloop_drain_eventfd(int fd);

#endif
