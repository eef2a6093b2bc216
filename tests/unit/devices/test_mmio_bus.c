// SPDX-License-Identifier: GPL-2.0
#include <criterion/criterion.h>
#include <errno.h>
#include <errno.h>

#include "devices/mmio_bus.h"

struct fake {
	uint64_t last_off, last_val;
	unsigned int last_len;
	int writes;
};

static uint64_t fake_read(void *dev, uint64_t off, unsigned int len)
{
	(void)dev;
	(void)len;
	return 0x1122334455667788ULL + off;
}

static void fake_write(void *dev, uint64_t off, uint64_t v, unsigned int len)
{
	struct fake *f = dev;

	f->last_off = off;
	f->last_val = v;
	f->last_len = len;
	f->writes++;
}

static const struct mmio_ops fake_ops = { fake_read, fake_write };

Test(mmio_bus, refuses_overlaps_and_keeps_order)
{
	struct mmio_bus bus;
	struct fake a = { 0 };

	mmio_bus_init(&bus);
	cr_assert_eq(mmio_bus_add(&bus, 0x3000, 0x1000, &fake_ops, &a, "c"), 0);
	cr_assert_eq(mmio_bus_add(&bus, 0x1000, 0x1000, &fake_ops, &a, "a"), 0);
	cr_assert_eq(mmio_bus_add(&bus, 0x2000, 0x1000, &fake_ops, &a, "b"), 0);
	cr_assert_eq(mmio_bus_add(&bus, 0x2fff, 2, &fake_ops, &a, "x"), -EBUSY);
	cr_assert_eq(mmio_bus_add(&bus, 0x0, 0x1001, &fake_ops, &a, "x"),
		     -EBUSY);
	cr_assert_eq(mmio_bus_add(&bus, 0x5000, 0, &fake_ops, &a, "x"),
		     -EINVAL);
	cr_assert_eq(mmio_bus_add(&bus, UINT64_MAX - 1, 4, &fake_ops, &a, "x"),
		     -EINVAL);
	cr_assert_eq(bus.nr, 3);
	cr_assert_str_eq(bus.regions[0].name, "a");
	cr_assert_str_eq(bus.regions[1].name, "b");
	cr_assert_str_eq(bus.regions[2].name, "c");
	struct mmio_region r;

	cr_assert(mmio_bus_find(&bus, 0x2abc, 4, &r));
	cr_assert_str_eq(r.name, "b");
	cr_assert_not(mmio_bus_find(&bus, 0x4000, 1, &r));
	cr_assert_not(mmio_bus_find(&bus, 0xfff, 1, &r));
}

Test(mmio_bus, regions_move_at_runtime)
{
	struct mmio_bus bus;
	struct fake a = { 0 }, b = { 0 };
	struct mmio_region r;

	mmio_bus_init(&bus);
	cr_assert_eq(mmio_bus_add(&bus, 0x1000, 0x1000, &fake_ops, &a, "a"), 0);
	cr_assert_eq(mmio_bus_add(&bus, 0x3000, 0x1000, &fake_ops, &b, "b"), 0);
	cr_assert_eq(mmio_bus_remove(&bus, 0x1000, &b), -ENOENT, "not b's");
	cr_assert_eq(mmio_bus_remove(&bus, 0x1000, &a), 0);
	cr_assert_not(mmio_bus_find(&bus, 0x1000, 4, &r));
	cr_assert_eq(mmio_bus_add(&bus, 0x5000, 0x1000, &fake_ops, &a, "a"), 0);
	cr_assert(mmio_bus_find(&bus, 0x5004, 4, &r));
	cr_assert_eq(r.dev, &a);
	cr_assert_eq(bus.nr, 2);
}

Test(mmio_bus, little_endian_data_and_offsets)
{
	struct mmio_bus bus;
	struct fake f = { 0 };
	uint8_t data[8] = { 0x78, 0x56, 0x34, 0x12 };

	mmio_bus_init(&bus);
	cr_assert_eq(mmio_bus_add(&bus, 0x9000000, 0x1000, &fake_ops, &f, "u"),
		     0);
	cr_assert_eq(mmio_bus_access(&bus, 0x9000010, data, 4, true), 0);
	cr_assert_eq(f.last_off, 0x10);
	cr_assert_eq(f.last_val, 0x12345678);
	cr_assert_eq(f.last_len, 4);
	cr_assert_eq(mmio_bus_access(&bus, 0x9000000, data, 2, false), 0);
	cr_assert_eq(data[0], 0x88);
	cr_assert_eq(data[1], 0x77);
}

Test(mmio_bus, hostile_accesses_are_refused)
{
	struct mmio_bus bus;
	struct fake f = { 0 };
	uint8_t data[8] = { 0 };

	mmio_bus_init(&bus);
	cr_assert_eq(mmio_bus_add(&bus, 0x1000, 0x1000, &fake_ops, &f, "u"), 0);
	cr_assert_eq(mmio_bus_access(&bus, 0x1ffc, data, 8, true), -ENOENT,
		     "straddling the end");
	cr_assert_eq(mmio_bus_access(&bus, 0x1000, data, 3, true), -EINVAL);
	cr_assert_eq(mmio_bus_access(&bus, 0x1000, data, 0, false), -EINVAL);
	cr_assert_eq(mmio_bus_access(&bus, 0x1000, data, 16, false), -EINVAL);
	cr_assert_eq(mmio_bus_access(&bus, 0x8000000, data, 4, false), -ENOENT);
	cr_assert_eq(mmio_bus_access(&bus, UINT64_MAX - 3, data, 4, false),
		     -ENOENT);
	cr_assert_eq(f.writes, 0);
}
