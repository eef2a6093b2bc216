// SPDX-License-Identifier: GPL-2.0
/*
 * The iovec stream helpers the virtio devices share (devices/virtio/iov.h):
 * a request split over segments of any size, zero-length ones included,
 * reads and writes as one byte stream, and never past its end.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "devices/virtio/iov.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static char seg_a[3], seg_b[5];

/* "abc" | "" (NULL base) | "defgh" | "" */
static void stream_init(struct iovec iov[4])
{
	memcpy(seg_a, "abc", 3);
	memcpy(seg_b, "defgh", 5);
	iov[0] = (struct iovec){ seg_a, sizeof(seg_a) };
	iov[1] = (struct iovec){ NULL, 0 };
	iov[2] = (struct iovec){ seg_b, sizeof(seg_b) };
	iov[3] = (struct iovec){ seg_b + sizeof(seg_b), 0 };
}

Test(iov, to_buf_reads_across_entries_and_skips_zero_length_ones)
{
	struct iovec iov[4];
	char buf[16] = { 0 };

	stream_init(iov);
	cr_assert_eq(iov_to_buf(iov, 4, 0, buf, sizeof(buf)), 8);
	cr_assert_arr_eq(buf, "abcdefgh", 8);
}

Test(iov, to_buf_starts_at_an_offset_inside_a_later_entry)
{
	struct iovec iov[4];
	char buf[3] = { 0 };

	stream_init(iov);
	cr_assert_eq(iov_to_buf(iov, 4, 4, buf, sizeof(buf)), 3);
	cr_assert_arr_eq(buf, "efg", 3);
}

Test(iov, to_buf_offset_on_an_entry_boundary)
{
	struct iovec iov[4];
	char buf[2] = { 0 };

	stream_init(iov);
	cr_assert_eq(iov_to_buf(iov, 4, 3, buf, sizeof(buf)), 2);
	cr_assert_arr_eq(buf, "de", 2);
}

Test(iov, to_buf_offset_at_or_past_the_end_copies_nothing)
{
	struct iovec iov[4];
	char buf[4] = "xxxx";

	stream_init(iov);
	cr_assert_eq(iov_to_buf(iov, 4, 8, buf, sizeof(buf)), 0);
	cr_assert_eq(iov_to_buf(iov, 4, 1000, buf, sizeof(buf)), 0);
	cr_assert_arr_eq(buf, "xxxx", 4);
}

Test(iov, to_buf_partial_when_the_stream_is_short)
{
	struct iovec iov[4];
	char buf[8] = { 0 };

	stream_init(iov);
	cr_assert_eq(iov_to_buf(iov, 4, 6, buf, sizeof(buf)), 2);
	cr_assert_arr_eq(buf, "gh", 2);
	cr_assert_eq(iov_to_buf(iov, 0, 0, buf, sizeof(buf)), 0);
}

Test(iov, from_buf_fills_entries_in_order_and_stops_at_len)
{
	struct iovec iov[4];

	stream_init(iov);
	cr_assert_eq(iov_from_buf(iov, 4, "ABCD", 4), 4);
	cr_assert_arr_eq(seg_a, "ABC", 3);
	cr_assert_arr_eq(seg_b, "Defgh", 5);
}

Test(iov, from_buf_partial_when_the_stream_is_short)
{
	struct iovec iov[4];

	stream_init(iov);
	cr_assert_eq(iov_from_buf(iov, 4, "0123456789", 10), 8);
	cr_assert_arr_eq(seg_a, "012", 3);
	cr_assert_arr_eq(seg_b, "34567", 5);
	cr_assert_eq(iov_from_buf(iov, 0, "z", 1), 0);
	cr_assert_eq(iov_from_buf(iov, 4, "z", 0), 0);
	cr_assert_arr_eq(seg_a, "012", 3);
}

Test(iov, skip_trims_the_entry_it_ends_inside)
{
	struct iovec iov[4];
	unsigned int num = 4;
	struct iovec *rest;

	stream_init(iov);
	rest = iov_skip(iov, &num, 4);
	cr_assert_eq(rest, &iov[2]);
	cr_assert_eq(num, 2);
	cr_assert_eq(rest->iov_base, seg_b + 1);
	cr_assert_eq(rest->iov_len, 4);
}

Test(iov, skip_on_a_boundary_steps_over_zero_length_entries)
{
	struct iovec iov[4];
	unsigned int num = 4;
	struct iovec *rest;

	stream_init(iov);
	rest = iov_skip(iov, &num, 3);
	cr_assert_eq(rest, &iov[2]);
	cr_assert_eq(num, 2);
	cr_assert_eq(rest->iov_base, seg_b);
	cr_assert_eq(rest->iov_len, 5);
}

Test(iov, skip_zero_keeps_a_non_empty_head)
{
	struct iovec iov[4];
	unsigned int num = 4;

	stream_init(iov);
	cr_assert_eq(iov_skip(iov, &num, 0), &iov[0]);
	cr_assert_eq(num, 4);
	cr_assert_eq(iov[0].iov_len, 3);
}

Test(iov, skip_to_or_past_the_end_leaves_nothing)
{
	struct iovec iov[4];
	unsigned int num = 4;

	stream_init(iov);
	iov_skip(iov, &num, 8);
	cr_assert_eq(num, 0);

	stream_init(iov);
	num = ARRAY_LEN(iov);
	cr_assert_eq(iov_skip(iov, &num, 100), &iov[4]);
	cr_assert_eq(num, 0);
}
