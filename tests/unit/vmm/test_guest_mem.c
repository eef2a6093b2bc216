// SPDX-License-Identifier: GPL-2.0
#include <criterion/criterion.h>
#include <errno.h>

#include "vmm/guest_mem.h"

Test(guest_mem, bounds_and_overflow)
{
	static uint8_t ram[8192];
	struct guest_mem gm;

	gmem_wrap(&gm, 0x80000000, ram, sizeof(ram));
	cr_assert_eq(gmem_ptr(&gm, 0x80000000, 8192), ram);
	cr_assert_eq(gmem_ptr(&gm, 0x80001fff, 1), ram + 8191);
	cr_assert_eq(gmem_ptr(&gm, 0x80002000, 0), NULL, "one past the end");
	cr_assert_null(gmem_ptr(&gm, 0x80001fff, 2));
	cr_assert_null(gmem_ptr(&gm, 0x7fffffff, 1));
	cr_assert_null(gmem_ptr(&gm, 0x80000010, UINT64_MAX));
	cr_assert_null(gmem_ptr(&gm, UINT64_MAX, 2));
	cr_assert_null(gmem_ptr(&gm, 0, 0x80000001));
}

Test(guest_mem, memfd_backed_allocation)
{
	struct guest_mem gm;

	cr_assert_eq(gmem_alloc(&gm, 0x80000000, 64 << 20), 0);
	cr_assert_geq(gm.fd, 0);
	((uint8_t *)gmem_ptr(&gm, 0x80000000 + (64 << 20) - 1, 1))[0] = 0x5a;
	gmem_free(&gm);
	cr_assert_eq(gm.fd, -1);
	cr_assert_neq(gmem_alloc(&gm, UINT64_MAX - 10, 4096), 0);
	cr_assert_neq(gmem_alloc(&gm, 0, 0), 0);
}
