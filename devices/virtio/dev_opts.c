// SPDX-License-Identifier: GPL-2.0
#include "dev_opts.h"

#include <string.h>

#include "../../vmm/log.h"

bool opt_key_is(const char *key, size_t klen, const char *name)
{
	return strlen(name) == klen && !memcmp(key, name, klen);
}

const char *dev_opt_take(const char *what, const char *arg, const char *opt,
			 const char *const *names, unsigned int n,
			 const char *help, unsigned int *seen,
			 struct dev_opt *out, char *err, size_t errlen)
{
	const char *end = strchrnul(opt, ','), *eq;
	unsigned int i;

	out->item = opt;
	out->len = end - opt;
	eq = memchr(opt, '=', out->len);
	out->klen = eq ? (size_t)(eq - opt) : out->len;
	out->val = eq ? eq + 1 : NULL;
	out->vlen = eq ? (size_t)(end - out->val) : 0;
	if (!out->len) {
		format_err(err, errlen, "%s '%s' has an empty option", what,
			   arg);
		return NULL;
	}
	for (i = 0; i < n && !opt_key_is(opt, out->klen, names[i]); i++)
		;
	if (i == n) {
		format_err(err, errlen,
			   "unknown %s option '%.*s' (expected %s)", what,
			   (int)out->len, opt, help);
		return NULL;
	}
	out->bit = 1u << i;
	if (*seen & out->bit) {
		format_err(err, errlen, "%s option '%.*s' is given twice", what,
			   (int)out->klen, opt);
		return NULL;
	}
	*seen |= out->bit;
	return end;
}
