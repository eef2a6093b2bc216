// SPDX-License-Identifier: GPL-2.0
/* iovec stream helpers for the virtio devices; see iov.h. */
#include "iov.h"

#include <string.h>

size_t iov_to_buf(const struct iovec *iov, unsigned int num, size_t offset,
		  void *buf, size_t len)
{
	size_t done = 0;

	for (unsigned int i = 0; i < num && done < len; i++) {
		size_t n;

		if (offset >= iov[i].iov_len) {
			offset -= iov[i].iov_len;
			continue;
		}
		n = iov[i].iov_len - offset;
		if (n > len - done)
			n = len - done;
		memcpy((char *)buf + done, (char *)iov[i].iov_base + offset, n);
		done += n;
		offset = 0;
	}
	return done;
}

size_t iov_from_buf(const struct iovec *iov, unsigned int num, const void *buf,
		    size_t len)
{
	size_t done = 0;

	for (unsigned int i = 0; i < num && done < len; i++) {
		size_t n = iov[i].iov_len;

		/* A zero-length entry may carry a NULL base: memcpy() it not.
		 */
		if (!n)
			continue;
		if (n > len - done)
			n = len - done;
		memcpy(iov[i].iov_base, (const char *)buf + done, n);
		done += n;
	}
	return done;
}

struct iovec *iov_skip(struct iovec *iov, unsigned int *num, uint64_t skip)
{
	while (*num && skip >= iov->iov_len) {
		skip -= iov->iov_len;
		iov++;
		(*num)--;
	}
	if (*num) {
		iov->iov_base = (char *)iov->iov_base + skip;
		iov->iov_len -= skip;
	}
	return iov;
}
