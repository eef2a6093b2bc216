// SPDX-License-Identifier: GPL-2.0
#include "log.h"

#include <stdarg.h>
#include <stdio.h>

static atomic_int verbosity;

void log_set_verbosity(int v)
{
	atomic_store(&verbosity, v);
}

int log_verbosity(void)
{
	return atomic_load(&verbosity);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	static const char *const prefix[] = {
		[LOG_ERROR] = "error: ",
		[LOG_WARN] = "warning: ",
		[LOG_INFO] = "",
		[LOG_DEBUG] = "debug: ",
	};
	char line[1024];
	va_list ap;
	int n;

	if (level == LOG_INFO && atomic_load(&verbosity) < 1)
		return;
	if (level == LOG_DEBUG && atomic_load(&verbosity) < 2)
		return;

	/* One write per line so lines from vCPU threads never interleave. */
	n = snprintf(line, sizeof(line), "nestbox: %s", prefix[level]);
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - n - 2, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	fwrite(line, 1, n, stderr);
}

void format_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}
