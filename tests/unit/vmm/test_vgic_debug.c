// SPDX-License-Identifier: GPL-2.0
#include <criterion/criterion.h>
#include <errno.h>

#include "irq/vgic_debug.h"

/* The shape of a 7.3 kernel's vgic-state (lab, GICv4 on). */
static const char sample[] =
	"Distributor\n===========\nvgic_model:\tGICv3\nnr_spis:\t224\n"
	"nr_lpis:\t3\nenabled:\t1\n\n"
	"P=pending_latch, L=line_level, A=active\n"
	"E=enabled, H=hw, C=config (level=1, edge=0)\nG=group\n\n"
	"VCPU 0 TYP   ID TGT_ID PLAEHCG     HWID   TARGET SRC PRI VCPU_ID\n"
	"----------------------------------------------------------------\n"
	"       SGI    0      0 0001001        0        0   0 160      -1 \n"
	"       PPI   27      0 0101100       27        0   0 160       0 \n"
	"       LPI 8192      0 0001101        0        0   0 192      -1 \n"
	"       LPI 8193      0 1001001        0        0   0 192      -1 \n"
	"       LPI 8194      0 0001101        0        0   0 192      -1 \n";

Test(vgic_debug, counts_lpis_and_the_hardware_backed_ones)
{
	struct vgic_lpi_count c;

	cr_assert_eq(vgic_state_count_lpis(sample, &c), 0);
	cr_assert_eq(c.lpis, 3);
	cr_assert_eq(c.hw, 2, "8193 is pending in software, not a vLPI");
}

Test(vgic_debug, no_header_is_an_error_not_a_guess)
{
	struct vgic_lpi_count c = { 7, 7 };

	cr_assert_eq(vgic_state_count_lpis("LPI 8192 0 0001101\n", &c),
		     -EINVAL);
	cr_assert_eq(c.lpis, 0);
}

Test(vgic_debug, malformed_lines_are_skipped)
{
	static const char text[] = "PLAEHCG\nLPI x\nLPI 1 0 00011\n"
				   "LPI 1 0 000x101\nLPI 9 0 0000100";
	struct vgic_lpi_count c;

	cr_assert_eq(vgic_state_count_lpis(text, &c), 0);
	cr_assert_eq(c.lpis, 1);
	cr_assert_eq(c.hw, 1);
}

Test(vgic_debug, a_missing_file_is_an_errno)
{
	struct vgic_lpi_count c;

	cr_assert_lt(vgic_state_read_lpis(0, 999999, &c), 0);
}
