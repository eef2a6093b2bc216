// SPDX-License-Identifier: GPL-2.0
#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "vmm/evloop.h"

static void kick(int fd)
{
	uint64_t one = 1;

	cr_assert_eq(write(fd, &one, 8), 8);
}

struct counter {
	int hits;
	int stop_after;
	struct evloop *loop;
};

/* Drains, then kicks itself again: only a still-armed poll sees the kick. */
static void rekick_cb(struct evloop_source *src, int res)
{
	struct counter *c = src->opaque;

	cr_assert_gt(res, 0);
	cr_assert(res & POLLIN);
	evloop_drain_eventfd(src->fd);
	if (++c->hits == c->stop_after)
		evloop_stop(c->loop);
	else
		kick(src->fd);
}

Test(evloop, multishot_stays_armed)
{
	struct evloop l;
	struct evloop_source src;
	struct counter c = { .stop_after = 5, .loop = &l };
	int efd = eventfd(0, EFD_NONBLOCK);

	cr_assert_eq(evloop_init(&l, 16), 0);
	cr_assert_eq(evloop_add(&l, &src, efd, POLLIN, true, rekick_cb, &c), 0);
	kick(efd);
	cr_assert_eq(evloop_run(&l), 0);
	cr_assert_eq(c.hits, 5);
	cr_assert(src.armed);
	evloop_destroy(&l);
	close(efd);
}

static void oneshot_cb(struct evloop_source *src, int res)
{
	struct counter *c = src->opaque;

	(void)res;
	c->hits++;
	/* Not drained and not re-armed: it must not fire again by itself. */
	evloop_stop(c->loop);
}

Test(evloop, oneshot_fires_once_until_rearmed)
{
	struct evloop l;
	struct evloop_source src;
	struct counter c = { .loop = &l };
	int efd = eventfd(0, EFD_NONBLOCK);

	cr_assert_eq(evloop_init(&l, 16), 0);
	cr_assert_eq(evloop_add(&l, &src, efd, POLLIN, false, oneshot_cb, &c),
		     0);
	kick(efd);
	cr_assert_eq(evloop_run(&l), 0);
	cr_assert_eq(c.hits, 1);
	cr_assert_not(src.armed);

	/* Still readable, but not armed: a second run sees only the stop. */
	evloop_stop(&l);
	cr_assert_eq(evloop_run(&l), 0);
	cr_assert_eq(c.hits, 1);

	cr_assert_eq(evloop_rearm(&src), 0);
	cr_assert_eq(evloop_run(&l), 0);
	cr_assert_eq(c.hits, 2);
	evloop_destroy(&l);
	close(efd);
}

static void must_not_run(struct evloop_source *src, int res)
{
	(void)src;
	(void)res;
	cr_assert_fail("callback of a removed source ran");
}

Test(evloop, removed_source_is_silent)
{
	struct evloop l;
	struct evloop_source src;
	int efd = eventfd(0, EFD_NONBLOCK);

	cr_assert_eq(evloop_init(&l, 16), 0);
	cr_assert_eq(
		evloop_add(&l, &src, efd, POLLIN, true, must_not_run, NULL), 0);
	evloop_remove(&src);
	kick(efd);
	evloop_stop(&l);
	cr_assert_eq(evloop_run(&l), 0);
	evloop_destroy(&l);
	close(efd);
}

static void *stop_later(void *arg)
{
	usleep(20000);
	evloop_stop(arg);
	return NULL;
}

Test(evloop, stop_from_another_thread)
{
	struct evloop l;
	pthread_t t;

	cr_assert_eq(evloop_init(&l, 8), 0);
	pthread_create(&t, NULL, stop_later, &l);
	cr_assert_eq(evloop_run(&l), 0);
	pthread_join(t, NULL);
	evloop_destroy(&l);
}

struct fan {
	int hits[4];
	int total;
	struct evloop *loop;
	struct evloop_source src[4];
};

static void fan_cb(struct evloop_source *src, int res)
{
	struct fan *f = src->opaque;

	(void)res;
	evloop_drain_eventfd(src->fd);
	f->hits[src - f->src]++;
	if (++f->total == 4)
		evloop_stop(f->loop);
}

Test(evloop, many_sources_each_get_their_event)
{
	struct evloop l;
	struct fan f = { .loop = &l };
	int efd[4];

	cr_assert_eq(evloop_init(&l, 4), 0); /* fewer SQEs than sources+stop */
	for (int i = 0; i < 4; i++) {
		efd[i] = eventfd(0, EFD_NONBLOCK);
		cr_assert_eq(evloop_add(&l, &f.src[i], efd[i], POLLIN, true,
					fan_cb, &f),
			     0);
	}
	for (int i = 0; i < 4; i++)
		kick(efd[i]);
	cr_assert_eq(evloop_run(&l), 0);
	for (int i = 0; i < 4; i++) {
		cr_assert_eq(f.hits[i], 1, "source %d", i);
		close(efd[i]);
	}
	evloop_destroy(&l);
}

struct read_op {
	struct evloop_op op;
	int res;
	char buf[16];
	struct evloop *loop;
};

static void read_done(struct evloop_op *op, int res, unsigned int flags)
{
	struct read_op *r = (struct read_op *)op;

	(void)flags;
	r->res = res;
	evloop_stop(r->loop);
}

Test(evloop, generic_operations_complete_on_the_loop)
{
	struct evloop l;
	struct read_op r = { .op.cb = read_done, .loop = &l };
	struct io_uring_sqe *sqe;
	int fds[2];

	cr_assert_eq(pipe(fds), 0);
	cr_assert_eq(write(fds[1], "hello", 5), 5);
	cr_assert_eq(evloop_init(&l, 8), 0);
	sqe = evloop_sqe(&l, &r.op);
	cr_assert_not_null(sqe);
	io_uring_prep_read(sqe, fds[0], r.buf, sizeof(r.buf), 0);
	cr_assert_eq(evloop_run(&l), 0);
	cr_assert_eq(r.res, 5);
	cr_assert_eq(memcmp(r.buf, "hello", 5), 0);
	evloop_destroy(&l);
	close(fds[0]);
	close(fds[1]);
}
