/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Copies between host buffers and the iovec lists a virtqueue element maps
 * to (virtq.h). Devices see a request as one byte stream split over guest
 * segments of any size, zero included; these helpers walk that stream so
 * no device has to. They never touch memory past the list: a list shorter
 * than the request just makes the copy short, and the count says so.
 */
#ifndef NESTBOX_IOV_H
#define NESTBOX_IOV_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/*
 * Copy up to @len bytes of the stream in @iov[0..@num), starting @offset
 * bytes in, to @buf. Returns the bytes copied: less than @len when the
 * stream ends first, 0 when @offset is at or past its end.
 */
size_t iov_to_buf(const struct iovec *iov, unsigned int num, size_t offset,
		  void *buf, size_t len);

/*
 * Copy up to @len bytes of @buf to the start of the stream in
 * @iov[0..@num). Returns the bytes copied: less than @len when the stream
 * is shorter.
 */
size_t iov_from_buf(const struct iovec *iov, unsigned int num, const void *buf,
		    size_t len);

/*
 * Drop the first @skip bytes of the stream in @iov[0..*@num), in place:
 * whole entries (and the zero-length ones met on the way) are stepped
 * over, the one @skip ends inside is trimmed at the front. Returns the new
 * first entry and stores the entries left in *@num; when @skip reaches the
 * end, *@num is 0 and the returned pointer must not be dereferenced.
 */
struct iovec *iov_skip(struct iovec *iov, unsigned int *num, uint64_t skip);

#endif
