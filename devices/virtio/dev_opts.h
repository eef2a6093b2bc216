/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The "key[=value],..." option strings of --disk and --net: one item at a
 * time, with the checks every device wants (empty item, unknown key, key
 * given twice) and one-line messages that name the device kind.
 */
#ifndef NESTBOX_DEV_OPTS_H
#define NESTBOX_DEV_OPTS_H

#include <stdbool.h>
#include <stddef.h>

struct dev_opt {
	const char *item; /* the whole "key[=value]" */
	size_t len;
	size_t klen;	 /* key: item[0..klen) */
	const char *val; /* NULL when there is no '=' */
	size_t vlen;
	unsigned int bit; /* 1 << index of the key in the names table */
};

/* Is the @klen bytes at @key exactly @name? */
bool opt_key_is(const char *key, size_t klen, const char *name);

/*
 * Take the item starting at @opt (up to the next ',' or the end of the
 * string) of device kind @what ("disk", "net") whose whole spec is @arg.
 * @names[i] is the key of bit 1 << i; @help lists them for the message of
 * an unknown key. A key already in *@seen is refused. Returns the ',' or
 * NUL after the item, or NULL with a message in @err.
 */
const char *dev_opt_take(const char *what, const char *arg, const char *opt,
			 const char *const *names, unsigned int n,
			 const char *help, unsigned int *seen,
			 struct dev_opt *out, char *err, size_t errlen);

#endif
