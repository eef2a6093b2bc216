/* SPDX-License-Identifier: GPL-2.0 */
#ifndef IRQBENCH_CONSOLE_H
#define IRQBENCH_CONSOLE_H

#include "hw.h"

/* %s %c %d %u %x %lu %lx %ld and %%; nothing else. */
void con_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
u64 ticks_to_ns(u64 ticks, u64 freq);

#endif
