// SPDX-License-Identifier: GPL-2.0
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "devices/pl011.h"
#include "vmm/console.h"

Test(console, escape_sequences)
{
	struct console c = { 0 };
	uint8_t buf[16];
	bool quit;
	size_t n;

	memcpy(buf,
	       "ab\x01\x01"
	       "c\x01z",
	       7);
	n = console_filter_input(&c, buf, 7, &quit);
	cr_assert_not(quit);
	cr_assert_eq(n, 6);
	cr_assert_eq(memcmp(buf,
			    "ab\x01"
			    "c\x01z",
			    6),
		     0);

	memcpy(buf, "ls\x01xrest", 8);
	n = console_filter_input(&c, buf, 8, &quit);
	cr_assert(quit);
	cr_assert_eq(n, 2);
}

Test(console, escape_split_across_reads)
{
	struct console c = { 0 };
	uint8_t a[1] = { CONSOLE_ESCAPE_CHAR }, b[1] = { 'x' };
	bool quit;

	cr_assert_eq(console_filter_input(&c, a, 1, &quit), 0);
	cr_assert_not(quit);
	console_filter_input(&c, b, 1, &quit);
	cr_assert(quit);
}

Test(console, raw_mode_is_restored)
{
	struct console c;
	struct termios before, during, after;
	int master, slave, saved_stdin = dup(0);
	char err[128];

	cr_assert_eq(openpty(&master, &slave, NULL, NULL, NULL), 0);
	dup2(slave, 0);
	cr_assert_eq(console_open(&c, CONSOLE_STDIO, NULL, err, sizeof(err)),
		     0);
	cr_assert(c.interactive);
	tcgetattr(0, &before);
	cr_assert(before.c_lflag & ICANON);
	cr_assert_eq(console_enter_raw(&c), 0);
	tcgetattr(0, &during);
	cr_assert_not(during.c_lflag & (ICANON | ECHO | ISIG));
	cr_assert(during.c_oflag & OPOST, "our messages keep their CR");
	console_close(&c);
	tcgetattr(0, &after);
	cr_assert_eq(after.c_lflag, before.c_lflag);
	cr_assert_eq(after.c_iflag, before.c_iflag);
	console_restore(&c); /* idempotent */
	dup2(saved_stdin, 0);
	close(master);
	close(slave);
}

Test(console, file_console_errors_name_the_path)
{
	struct console c;
	char err[256];

	cr_assert_lt(console_open(&c, CONSOLE_FILE, "/nonexistent/dir/log", err,
				  sizeof(err)),
		     0);
	cr_assert(strstr(err, "/nonexistent/dir/log"), "%s", err);
}

struct loop_fixture {
	struct evloop loop;
	struct console con;
	struct pl011 uart;
	int quits;
};

static void on_quit(void *o)
{
	struct loop_fixture *f = o;

	f->quits++;
	evloop_stop(&f->loop);
}

static void fx_ready(void *o)
{
	console_rx_ready(&((struct loop_fixture *)o)->con);
}

static void stop_cb(struct evloop_source *src, int res)
{
	(void)res;
	evloop_stop(src->loop);
}

/* Pump the loop until it goes idle for a short while. */
static void pump(struct loop_fixture *f)
{
	struct evloop_source timer_src;
	int fds[2];

	cr_assert_eq(pipe(fds), 0);
	/* A pipe that becomes readable after a moment ends the run. */
	cr_assert_eq(evloop_add(&f->loop, &timer_src, fds[0], POLLIN, false,
				stop_cb, NULL),
		     0);
	if (fork() == 0) {
		usleep(50000);
		(void)!write(fds[1], "x", 1);
		_exit(0);
	}
	evloop_run(&f->loop);
	close(fds[0]);
	close(fds[1]);
}

Test(console, input_respects_uart_back_pressure)
{
	static struct loop_fixture f;
	const struct pl011_backend be = { NULL, NULL, fx_ready, &f };
	char err[128];
	uint8_t big[100];
	int fds[2], saved_stdin = dup(0);

	memset(big, 'w', sizeof(big));
	cr_assert_eq(pipe(fds), 0);
	dup2(fds[0], 0);
	cr_assert_eq(
		console_open(&f.con, CONSOLE_STDIO, NULL, err, sizeof(err)), 0);
	cr_assert_not(f.con.interactive);
	cr_assert_eq(evloop_init(&f.loop, 16), 0);
	pl011_init(&f.uart, &be);
	pl011_mmio_ops.write(&f.uart, PL011_LCR_H, PL011_LCR_H_FEN, 4);
	const struct console_sink sink = {
		(size_t(*)(void *, const uint8_t *, size_t))pl011_receive, &f.uart
	};
	cr_assert_eq(console_attach(&f.con, &f.loop, &sink, on_quit, &f), 0);

	cr_assert_eq(write(fds[1], big, sizeof(big)), (ssize_t)sizeof(big));
	pump(&f);
	cr_assert_eq(f.uart.rx_count, PL011_FIFO_DEPTH,
		     "FIFO full, rest held back");

	/* The guest reads everything it is given; nothing is lost. */
	int got = 0;
	for (int round = 0; round < 10 && got < 100; round++) {
		while (f.uart.rx_count) {
			cr_assert_eq(pl011_mmio_ops.read(&f.uart, PL011_DR, 4),
				     'w');
			got++;
		}
		pump(&f);
	}
	cr_assert_eq(got, 100);
	cr_assert_eq(f.quits, 0);
	console_close(&f.con);
	evloop_destroy(&f.loop);
	dup2(saved_stdin, 0);
	close(fds[1]);
}
