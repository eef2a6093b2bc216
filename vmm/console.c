// SPDX-License-Identifier: GPL-2.0
#include "console.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"

/*
 * The one piece of process-wide state: a fatal signal handler has no
 * context to find the console in, and must still give the user their
 * terminal back.
 */
static struct termios crash_termios;
static volatile sig_atomic_t crash_termios_fd = -1;

static void crash_restore_handler(int sig)
{
	if (crash_termios_fd >= 0)
		tcsetattr(crash_termios_fd, TCSANOW, &crash_termios);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void install_crash_restore(const struct termios *t, int fd)
{
	static const int fatal[] = { SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL };
	struct sigaction sa = { .sa_handler = crash_restore_handler };

	crash_termios = *t;
	crash_termios_fd = fd;
	sa.sa_flags = SA_RESETHAND;
	for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
		sigaction(fatal[i], &sa, NULL);
}

int console_open(struct console *c, enum console_kind kind, const char *path,
		 char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	c->in_fd = c->out_fd = c->ready_fd = -1;

	switch (kind) {
	case CONSOLE_STDIO:
		c->in_fd = STDIN_FILENO;
		c->out_fd = STDOUT_FILENO;
		c->interactive = isatty(STDIN_FILENO);
		break;
	case CONSOLE_NONE:
		break;
	case CONSOLE_FILE:
		c->out_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
				 0644);
		if (c->out_fd < 0) {
			int e = errno;

			snprintf(err, errlen, "--console file:%s: %s", path,
				 strerror(e));
			return -e;
		}
		c->out_owned = true;
		break;
	}
	return 0;
}

int console_enter_raw(struct console *c)
{
	struct termios t;

	if (!c->interactive || c->raw)
		return 0;
	if (tcgetattr(c->in_fd, &c->saved) < 0)
		return -errno;
	t = c->saved;
	t.c_iflag &= ~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR |
		       ICRNL | IXON);
	t.c_lflag &= ~(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
	t.c_cflag &= ~(CSIZE | PARENB);
	t.c_cflag |= CS8;
	/* OPOST stays: our own messages keep their carriage returns. */
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	install_crash_restore(&c->saved, c->in_fd);
	if (tcsetattr(c->in_fd, TCSANOW, &t) < 0)
		return -errno;
	c->raw = true;
	return 0;
}

void console_restore(struct console *c)
{
	if (!c->raw)
		return;
	tcsetattr(c->in_fd, TCSANOW, &c->saved);
	c->raw = false;
	crash_termios_fd = -1;
}

void console_close(struct console *c)
{
	console_restore(c);
	if (c->out_owned && c->out_fd >= 0)
		close(c->out_fd);
	if (c->ready_fd >= 0)
		close(c->ready_fd);
	c->out_fd = c->ready_fd = -1;
}

void console_tx(void *opaque, uint8_t byte)
{
	console_write(opaque, &byte, 1);
}

void console_write(void *opaque, const uint8_t *buf, size_t len)
{
	struct console *c = opaque;

	if (c->out_fd < 0)
		return;
	while (len) {
		ssize_t r = write(c->out_fd, buf, len);

		if (r > 0) {
			buf += r;
			len -= r;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN) {
			struct pollfd p = { .fd = c->out_fd,
					    .events = POLLOUT };

			poll(&p, 1, -1);
			continue;
		}
		pr_warn_once(
			c->warned_write,
			"console output failed (%s); guest output is dropped",
			r < 0 ? strerror(errno) : "short write");
		return;
	}
}

void console_rx_ready(void *opaque)
{
	struct console *c = opaque;
	uint64_t one = 1;
	ssize_t r;

	if (c->ready_fd < 0)
		return;
	r = write(c->ready_fd, &one, sizeof(one));
	(void)r;
}

size_t console_filter_input(struct console *c, uint8_t *buf, size_t len,
			    bool *quit)
{
	size_t out = 0;

	*quit = false;
	for (size_t i = 0; i < len; i++) {
		uint8_t ch = buf[i];

		if (c->escape_seen) {
			c->escape_seen = false;
			if (ch == CONSOLE_QUIT_CHAR) {
				*quit = true;
				return out;
			}
			if (ch != CONSOLE_ESCAPE_CHAR)
				buf[out++] = CONSOLE_ESCAPE_CHAR;
			buf[out++] = ch;
		} else if (ch == CONSOLE_ESCAPE_CHAR) {
			c->escape_seen = true;
		} else {
			buf[out++] = ch;
		}
	}
	return out;
}

/* Push buffered input to the UART; true when all of it went. */
static bool flush_pending(struct console *c)
{
	while (c->pending_off < c->pending_len) {
		size_t n = c->sink.receive(c->sink.dev,
					   c->pending + c->pending_off,
					   c->pending_len - c->pending_off);

		if (!n)
			return false;
		c->pending_off += n;
	}
	c->pending_off = c->pending_len = 0;
	return true;
}

static void console_input_cb(struct evloop_source *src, int res)
{
	struct console *c = src->opaque;
	bool quit = false;
	ssize_t n;

	if (res < 0) {
		pr_warn("console input: poll failed: %s", strerror(-res));
		return;
	}
	n = read(c->in_fd, c->pending, sizeof(c->pending));
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		/* End of input (e.g. stdin was a file): the guest goes on. */
		pr_info("console input closed");
		evloop_remove(src);
		return;
	}
	if (n < 0) {
		evloop_rearm(src);
		return;
	}
	c->pending_off = 0;
	c->pending_len = n;
	if (c->interactive)
		c->pending_len = console_filter_input(c, c->pending, n, &quit);
	if (quit) {
		c->pending_len = 0;
		if (c->quit)
			c->quit(c->quit_opaque);
		return;
	}
	/* Back-pressure: read no more until the guest drains the FIFO. */
	if (flush_pending(c))
		evloop_rearm(src);
}

static void console_ready_cb(struct evloop_source *src, int res)
{
	struct console *c = src->opaque;

	(void)res;
	evloop_drain_eventfd(c->ready_fd);
	if (flush_pending(c) && !c->in_src.removed)
		evloop_rearm(&c->in_src);
}

int console_attach(struct console *c, struct evloop *l,
		   const struct console_sink *sink, void (*quit)(void *opaque),
		   void *quit_opaque)
{
	int ret;

	c->sink = *sink;
	c->quit = quit;
	c->quit_opaque = quit_opaque;
	if (c->in_fd < 0)
		return 0;
	c->ready_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->ready_fd < 0)
		return -errno;
	ret = evloop_add(l, &c->ready_src, c->ready_fd, POLLIN, true,
			 console_ready_cb, c);
	if (ret < 0)
		return ret;
	return evloop_add(l, &c->in_src, c->in_fd, POLLIN, false,
			  console_input_cb, c);
}
