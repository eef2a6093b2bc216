/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The host side of the guest console: where the UART's output goes and
 * where its input comes from. On a terminal, stdin is put in raw mode
 * (restored on every exit path) and Ctrl-A x quits.
 */
#ifndef NESTBOX_CONSOLE_H
#define NESTBOX_CONSOLE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <termios.h>

#include "cli.h"
#include "evloop.h"

/*
 * Where host input goes: a device that accepts what it has room for and
 * later calls console_rx_ready() (the PL011, or virtio-console).
 */
struct console_sink {
	size_t (*receive)(void *dev, const uint8_t *buf, size_t len);
	void *dev;
};

#define CONSOLE_ESCAPE_CHAR 0x01 /* Ctrl-A */
#define CONSOLE_QUIT_CHAR   'x'
#define CONSOLE_INBUF	    256

struct console {
	int in_fd;  /* -1: no input */
	int out_fd; /* -1: output discarded */
	bool out_owned;
	bool interactive; /* stdin is a terminal: raw mode + escapes */
	bool raw;
	struct termios saved;
	bool escape_seen;
	atomic_bool warned_write;

	struct console_sink sink;
	void (*quit)(void *opaque);
	void *quit_opaque;

	struct evloop_source in_src, ready_src;
	int ready_fd; /* eventfd: the UART has room for input again */
	uint8_t pending[CONSOLE_INBUF];
	size_t pending_off, pending_len;
};

/* Open the console's host files. Returns 0 or -errno with @err set. */
int console_open(struct console *c, enum console_kind kind, const char *path,
		 char *err, size_t errlen);

/* Put a terminal stdin into raw mode (and arrange its restore on crashes). */
int console_enter_raw(struct console *c);
/* Restore the terminal; idempotent. */
void console_restore(struct console *c);
void console_close(struct console *c);

/* Feed host input to @sink from the event loop. */
int console_attach(struct console *c, struct evloop *l,
		   const struct console_sink *sink, void (*quit)(void *opaque),
		   void *quit_opaque);

/* Device backend callbacks; @opaque is the console. */
void console_tx(void *opaque, uint8_t byte);
void console_write(void *opaque, const uint8_t *buf, size_t len);
void console_rx_ready(void *opaque);

/*
 * Interpret escapes in host input, in place: Ctrl-A x sets *quit and drops
 * the rest; Ctrl-A Ctrl-A yields one Ctrl-A; Ctrl-A then anything else is
 * passed through unchanged. Returns the new length.
 */
size_t console_filter_input(struct console *c, uint8_t *buf, size_t len,
			    bool *quit);

#endif
