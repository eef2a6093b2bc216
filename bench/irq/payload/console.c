// SPDX-License-Identifier: GPL-2.0
// PL011 output and a small printf for the payload's result lines.

#include <stdarg.h>

#include "console.h"
#include "platform.h"

#define UART_DR	     0x00
#define UART_FR	     0x18
#define UART_FR_TXFF BIT(5)
/* Bounded so a wedged UART cannot hang the payload. */
#define UART_POLL_MAX 1000000

static void con_putc(char c)
{
	for (unsigned int i = 0; i < UART_POLL_MAX; i++)
		if (!(mmio_read32(UART_BASE + UART_FR) & UART_FR_TXFF))
			break;
	mmio_write32(UART_BASE + UART_DR, (u8)c);
}

static void con_puts(const char *s)
{
	while (*s) {
		if (*s == '\n')
			con_putc('\r');
		con_putc(*s++);
	}
}

static void con_putu(u64 v, unsigned int base, int negative)
{
	char buf[24];
	int i = sizeof(buf) - 1;

	buf[i] = 0;
	do {
		unsigned int d = v % base;

		buf[--i] = d < 10 ? '0' + d : 'a' + d - 10;
		v /= base;
	} while (v);
	if (negative)
		buf[--i] = '-';
	con_puts(&buf[i]);
}

void con_printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	for (; *fmt; fmt++) {
		int is_long = 0;

		if (*fmt != '%') {
			char s[2] = { *fmt, 0 };

			con_puts(s);
			continue;
		}
		fmt++;
		if (*fmt == 'l') {
			is_long = 1;
			fmt++;
		}
		switch (*fmt) {
		case 's':
			con_puts(va_arg(ap, const char *));
			break;
		case 'c':
			con_putc((char)va_arg(ap, int));
			break;
		case 'd': {
			long v = is_long ? va_arg(ap, long) : va_arg(ap, int);

			con_putu(v < 0 ? -(u64)v : (u64)v, 10, v < 0);
			break;
		}
		case 'u':
			con_putu(is_long ? va_arg(ap, u64) : va_arg(ap, u32),
				 10, 0);
			break;
		case 'x':
			con_putu(is_long ? va_arg(ap, u64) : va_arg(ap, u32),
				 16, 0);
			break;
		case '%':
			con_putc('%');
			break;
		case 0:
			va_end(ap);
			return;
		default:
			con_putc('?');
			break;
		}
	}
	va_end(ap);
}

/* ticks * 1e9 / freq without overflowing for any realistic count. */
u64 ticks_to_ns(u64 ticks, u64 freq)
{
	if (!freq)
		return 0;
	return ticks / freq * 1000000000UL + ticks % freq * 1000000000UL / freq;
}
