/* SPDX-License-Identifier: GPL-2.0 */
#ifndef NESTBOX_LOG_H
#define NESTBOX_LOG_H

#include <stdbool.h>
#include <stdatomic.h>
#include <stddef.h>

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* Process-wide verbosity (a setting, not VM state): 0 quiet, 1 -v, 2 -vv. */
void log_set_verbosity(int v);
int log_verbosity(void);
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * The one-line message of a user error, into the caller's @err buffer
 * (nothing when @err is NULL or @errlen 0).
 */
void format_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define pr_err(...)   log_msg(LOG_ERROR, __VA_ARGS__)
#define pr_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define pr_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

/*
 * Guest-triggered errors are logged once per instance: a hostile guest must
 * not be able to flood the host's log. @flag lives in the device state.
 */
#define pr_warn_once(flag, ...)                      \
	do {                                         \
		if (!atomic_exchange(&(flag), true)) \
			pr_warn(__VA_ARGS__);        \
	} while (0)

#endif
