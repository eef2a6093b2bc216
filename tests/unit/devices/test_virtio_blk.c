// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-blk driven the way a guest driver would: rings in a fake guest
 * memory, a real event loop and io_uring, a temporary image file.
 */
#include <criterion/criterion.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/statfs.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "devices/virtio/virtio_blk.h"
#include "vmm/evloop.h"
#include "vmm/guest_mem.h"

#define RAM_BASE      0x80000000ULL
#define RAM_SIZE      (16u << 20)
#define IMAGE_SIZE    (8u << 20)
#define IMAGE_SECTORS (IMAGE_SIZE / 512)

/* Guest RAM layout (offsets from RAM_BASE). */
#define RING_AREA    0x000000 /* RING_STRIDE per (driver, queue) */
#define RING_STRIDE  0x4000
#define DESC_OFF     0x0000
#define AVAIL_OFF    0x1000
#define USED_OFF     0x2000
#define SCRATCH_AREA 0x100000 /* headers, status bytes, indirect tables */
#define SCRATCH_END  0x200000
#define SRC_AREA     0x200000 /* 4 MiB the driver writes from */
#define DST_AREA     0x600000 /* 4 MiB it reads into */
#define BULK_SIZE    (4u << 20)

#define MAX_DRIVERS	 4
#define MAX_TEST_QUEUES	 4
#define STATUS_UNTOUCHED 0xaa
#define ALL_FEATURES	 (~0ULL)
#define WAIT_SECONDS	 10

static uint8_t ram[RAM_SIZE] __attribute__((aligned(4096)));
static struct guest_mem mem;
static struct evloop loop;
static char image[64];
static int tick_fd = -1;
static struct evloop_source tick_src;

#define DRV_QUEUES	  MAX_TEST_QUEUES
#define DRV_DEVICE_FIELDS struct virtio_blk *blk;
#include "virtio_test_driver.h"

static struct drv drivers[MAX_DRIVERS];
static unsigned int num_drivers;

static void make_image(const char *path_template, off_t size)
{
	int fd;

	snprintf(image, sizeof(image), "%s", path_template);
	fd = mkstemp(image);
	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, size), 0);
	close(fd);
}

static void setup(void)
{
	struct itimerspec its = {
		.it_interval = { .tv_nsec = 2000000 },
		.it_value = { .tv_nsec = 2000000 },
	};

	gmem_wrap(&mem, RAM_BASE, ram, RAM_SIZE);
	cr_assert_eq(evloop_init(&loop, 64), 0);
	make_image("/tmp/nestbox-blk-XXXXXX", IMAGE_SIZE);
	tick_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	cr_assert_geq(tick_fd, 0);
	cr_assert_eq(timerfd_settime(tick_fd, 0, &its, NULL), 0);
	cr_assert_eq(evloop_add(&loop, &tick_src, tick_fd, POLLIN, true,
				tick_cb, NULL),
		     0);
}

static void teardown(void)
{
	/* First the ring: afterwards no completion can reach a device. */
	evloop_destroy(&loop);
	for (unsigned int i = 0; i < num_drivers; i++)
		virtio_blk_destroy(drivers[i].blk);
	close(tick_fd);
	unlink(image);
}

TestSuite(virtio_blk, .init = setup, .fini = teardown);

static struct drv *drv_new_opts(const struct virtio_blk_opts *o)
{
	struct drv *d;
	char err[256];
	int r;

	cr_assert_lt(num_drivers, MAX_DRIVERS);
	d = &drivers[num_drivers];
	memset(d, 0, sizeof(*d));
	d->index = num_drivers;
	r = virtio_blk_create(&d->blk, o, &mem, &loop, err, sizeof(err));
	cr_assert_eq(r, 0, "create: %d %s", r, err);
	num_drivers++;
	d->vdev = virtio_blk_vdev(d->blk);
	d->vdev->tops = &fake_tops;
	d->vdev->transport = d;
	cr_assert_eq(virtio_setup_kicks(d->vdev, &loop), 0);
	return d;
}

static struct drv *drv_new(bool readonly, const char *serial,
			   unsigned int queues)
{
	struct virtio_blk_opts o = { .readonly = readonly, .queues = queues };

	snprintf(o.path, sizeof(o.path), "%s", image);
	snprintf(o.serial, sizeof(o.serial), "%s", serial);
	return drv_new_opts(&o);
}

static void run_until_idle(struct drv *d)
{
	double deadline = now() + WAIT_SECONDS;

	while (virtio_blk_inflight(d->blk)) {
		cr_assert_lt(now(), deadline, "requests never completed");
		cr_assert_eq(evloop_run(&loop), 0);
	}
}

static uint64_t put_hdr(uint32_t type, uint64_t sector)
{
	struct virtio_blk_req_hdr h = {
		.type = htole32(type),
		.sector = htole64(sector),
	};
	uint64_t off = scratch(sizeof(h));

	memcpy(gpa(off), &h, sizeof(h));
	return off;
}

static uint64_t new_status(void)
{
	uint64_t off = scratch(1);

	ram[off] = STATUS_UNTOUCHED;
	return off;
}

struct req {
	uint16_t head;
	uint64_t status;
};

/*
 * IN or OUT of @len bytes at guest @data, split into @nsegs descriptors of
 * uneven sizes (not sector multiples: only the total has to be).
 */
static struct req submit_rw(struct drv *d, unsigned int q, uint32_t type,
			    uint64_t sector, uint64_t data, uint32_t len,
			    unsigned int nsegs)
{
	bool to_driver = type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_GET_ID;
	struct seg segs[8];
	struct req r;
	unsigned int n = 0;
	uint32_t done = 0;

	cr_assert_leq(nsegs, 6);
	segs[n++] = (struct seg){ put_hdr(type, sector), 16, false };
	for (unsigned int i = 0; i < nsegs && len; i++) {
		uint32_t piece =
			i + 1 == nsegs ? len - done : len / nsegs + 3 * i + 1;

		segs[n++] = (struct seg){ data + done, piece, to_driver };
		done += piece;
	}
	r.status = new_status();
	segs[n++] = (struct seg){ r.status, 1, true };
	r.head = drv_add(d, q, segs, n);
	return r;
}

static struct req submit_segment(struct drv *d, uint32_t type, uint64_t sector,
				 uint32_t num_sectors, uint32_t flags)
{
	struct virtio_blk_discard_write_zeroes s = {
		.sector = htole64(sector),
		.num_sectors = htole32(num_sectors),
		.flags = htole32(flags),
	};
	uint64_t seg_off = scratch(sizeof(s));
	struct seg segs[3];
	struct req r;

	memcpy(gpa(seg_off), &s, sizeof(s));
	r.status = new_status();
	segs[0] = (struct seg){ put_hdr(type, 0), 16, false };
	segs[1] = (struct seg){ seg_off, sizeof(s), false };
	segs[2] = (struct seg){ r.status, 1, true };
	r.head = drv_add(d, 0, segs, 3);
	return r;
}

/* Kick, wait for one completion and check it is @r's; its status. */
static uint8_t finish(struct drv *d, unsigned int q, struct req r,
		      uint32_t *used_len)
{
	uint32_t id, len;

	virtio_kick(d->vdev, q);
	drv_wait(d, q, 1);
	drv_take_used(d, q, &id, &len);
	cr_assert_eq(id, r.head);
	if (used_len)
		*used_len = len;
	return ram[r.status];
}

static uint8_t do_rw(struct drv *d, uint32_t type, uint64_t sector,
		     uint64_t data, uint32_t len, unsigned int nsegs)
{
	return finish(d, 0, submit_rw(d, 0, type, sector, data, len, nsegs),
		      NULL);
}

static uint8_t do_segment(struct drv *d, uint32_t type, uint64_t sector,
			  uint32_t num_sectors, uint32_t flags)
{
	return finish(d, 0, submit_segment(d, type, sector, num_sectors, flags),
		      NULL);
}

static uint8_t do_simple(struct drv *d, uint32_t type, uint64_t sector)
{
	return do_rw(d, type, sector, 0, 0, 0);
}

static void fill_pattern(uint8_t *p, size_t len, uint64_t seed)
{
	uint64_t x = seed | 1;

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (uint8_t)x;
	}
}

static uint64_t fnv1a(const uint8_t *p, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

static bool all_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

static void pwrite_image(uint64_t off, const void *buf, size_t len)
{
	int fd = open(image, O_WRONLY);

	cr_assert_geq(fd, 0);
	cr_assert_eq(pwrite(fd, buf, len, off), (ssize_t)len);
	close(fd);
}

static void pread_image(uint64_t off, void *buf, size_t len)
{
	int fd = open(image, O_RDONLY);

	cr_assert_geq(fd, 0);
	cr_assert_eq(pread(fd, buf, len, off), (ssize_t)len);
	close(fd);
}

static void assert_live(struct drv *d)
{
	uint8_t s = virtio_get_status(d->vdev);

	cr_assert(s & VIRTIO_STATUS_DRIVER_OK);
	cr_assert_not(s & VIRTIO_STATUS_DEVICE_NEEDS_RESET, "status 0x%x", s);
}

/* ---- option parsing and creation ---- */

Test(virtio_blk, parse_accepts_every_option)
{
	struct virtio_blk_opts o;
	char err[256] = "";

	cr_assert_eq(
		virtio_blk_parse(
			"/img/disk.raw,readonly,serial=nb-0001,queues=4,transport=mmio",
			&o, err, sizeof(err)),
		0, "%s", err);
	cr_assert_str_eq(o.path, "/img/disk.raw");
	cr_assert(o.readonly);
	cr_assert_str_eq(o.serial, "nb-0001");
	cr_assert_eq(o.queues, 4);
	cr_assert_eq(o.transport, VIRTIO_TRANSPORT_MMIO);

	cr_assert_eq(virtio_blk_parse("disk.img,transport=pci,queues=16", &o,
				      err, sizeof(err)),
		     0, "%s", err);
	cr_assert_eq(o.transport, VIRTIO_TRANSPORT_PCI);
	cr_assert_eq(o.queues, 16);
}

Test(virtio_blk, parse_defaults)
{
	struct virtio_blk_opts o;
	char err[256] = "";

	cr_assert_eq(virtio_blk_parse("disk.img", &o, err, sizeof(err)), 0);
	cr_assert_str_eq(o.path, "disk.img");
	cr_assert_not(o.readonly);
	cr_assert_str_eq(o.serial, "");
	cr_assert_eq(o.queues, 1);
	cr_assert_eq(o.transport, VIRTIO_TRANSPORT_PCI);
}

Test(virtio_blk, parse_refuses_bad_options_with_a_clear_message)
{
	static const struct {
		const char *arg, *says;
	} bad[] = {
		{ "", "no image path" },
		{ ",readonly", "no image path" },
		{ "d.img,bogus", "unknown disk option 'bogus'" },
		{ "d.img,cache=none", "expected readonly, serial=S" },
		{ "d.img,queues=0", "from 1 to 16" },
		{ "d.img,queues=17", "from 1 to 16" },
		{ "d.img,queues=100", "from 1 to 16" },
		{ "d.img,queues=2x", "from 1 to 16" },
		{ "d.img,queues=", "from 1 to 16" },
		{ "d.img,queues", "'queues' needs a value" },
		{ "d.img,readonly=yes", "takes no value" },
		{ "d.img,transport=usb", "expected pci or mmio" },
		{ "d.img,serial=123456789012345678901", "longer than 20" },
		{ "d.img,serial=a\tb", "printable" },
		{ "d.img,queues=2,queues=2", "'queues' is given twice" },
		{ "d.img,readonly,readonly", "given twice" },
		{ "d.img,,readonly", "empty option" },
		{ "d.img,", "empty option" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct virtio_blk_opts o;
		char err[256] = "";

		cr_assert_eq(virtio_blk_parse(bad[i].arg, &o, err, sizeof(err)),
			     -EINVAL, "'%s' accepted", bad[i].arg);
		cr_assert(strstr(err, bad[i].says), "'%s': got \"%s\"",
			  bad[i].arg, err);
		cr_assert_null(strchr(err, '\n'));
	}
}

Test(virtio_blk, parse_accepts_a_serial_of_exactly_20_bytes)
{
	struct virtio_blk_opts o;
	char err[256] = "";

	cr_assert_eq(virtio_blk_parse("d.img,serial=12345678901234567890", &o,
				      err, sizeof(err)),
		     0, "%s", err);
	cr_assert_str_eq(o.serial, "12345678901234567890");
}

static int try_create(const char *path, bool readonly, char *err, size_t errlen)
{
	struct virtio_blk_opts o = { .readonly = readonly };
	struct virtio_blk *b = (struct virtio_blk *)(uintptr_t)1; /* cleared */
	int r;

	snprintf(o.path, sizeof(o.path), "%s", path);
	r = virtio_blk_create(&b, &o, &mem, &loop, err, errlen);
	if (!r)
		virtio_blk_destroy(b);
	else
		cr_assert_null(b);
	return r;
}

Test(virtio_blk, create_refuses_a_missing_file)
{
	char err[256] = "";

	cr_assert_eq(
		try_create("/nonexistent/nestbox.img", false, err, sizeof(err)),
		-ENOENT);
	cr_assert(strstr(err, "/nonexistent/nestbox.img"), "%s", err);
	cr_assert(strstr(err, "No such file"), "%s", err);
}

Test(virtio_blk, create_refuses_a_size_not_multiple_of_512)
{
	char err[256] = "";

	cr_assert_eq(truncate(image, 1000), 0);
	cr_assert_eq(try_create(image, false, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, image), "%s", err);
	cr_assert(
		strstr(err,
		       "1000 bytes, not a multiple of the 512-byte sector size"),
		"%s", err);
}

Test(virtio_blk, create_refuses_what_is_not_a_file_or_block_device)
{
	char err[256] = "";

	cr_assert_eq(try_create("/tmp", true, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "'/tmp' is not a regular file or a block device"),
		  "%s", err);
	cr_assert_eq(try_create("/dev/null", true, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "/dev/null"), "%s", err);
	cr_assert_eq(try_create("/tmp", false, err, sizeof(err)), -EISDIR);
	cr_assert(strstr(err, "cannot open disk image '/tmp' read-write"), "%s",
		  err);
}

Test(virtio_blk, config_space_and_features)
{
	struct drv *d = drv_new(false, "", 1);
	struct virtio_blk_config c;
	uint64_t f = offered_features(d), cap;

	cr_assert_eq(d->vdev->ops->device_id, VIRTIO_ID_BLOCK);
	cr_assert_eq(d->vdev->ops->num_queues, 1);
	cr_assert(f & (1ULL << VIRTIO_F_VERSION_1));
	cr_assert(f & (1ULL << VIRTIO_F_INDIRECT_DESC));
	cr_assert(f & (1ULL << VIRTIO_F_EVENT_IDX));
	cr_assert(f & (1ULL << VIRTIO_BLK_F_SEG_MAX));
	cr_assert(f & (1ULL << VIRTIO_BLK_F_BLK_SIZE));
	cr_assert(f & (1ULL << VIRTIO_BLK_F_FLUSH));
	cr_assert(f & (1ULL << VIRTIO_BLK_F_DISCARD));
	cr_assert(f & (1ULL << VIRTIO_BLK_F_WRITE_ZEROES));
	cr_assert_not(f & (1ULL << VIRTIO_BLK_F_RO));
	cr_assert_not(f & (1ULL << VIRTIO_BLK_F_MQ));
	cr_assert_not(f & (1ULL << VIRTIO_BLK_F_CONFIG_WCE));

	cr_assert_eq(d->vdev->ops->config_size, sizeof(c));
	virtio_config_read(d->vdev, 0, &c, sizeof(c));
	cr_assert_eq(le64toh(c.capacity), IMAGE_SECTORS);
	cr_assert_eq(le32toh(c.seg_max), VIRTQ_ELEM_MAX_IOV - 2);
	cr_assert_eq(le32toh(c.blk_size), 512);
	cr_assert_eq(le32toh(c.max_discard_seg), 1);
	cr_assert_eq(le32toh(c.max_write_zeroes_seg), 1);
	cr_assert_gt(le32toh(c.max_discard_sectors), 0);
	cr_assert_gt(le32toh(c.max_write_zeroes_sectors), 0);
	cr_assert_gt(le32toh(c.discard_sector_alignment), 0);
	cr_assert_eq(c.write_zeroes_may_unmap, 1);
	cr_assert_eq(c.unused0, 0);
	/* A driver reading capacity alone, as Linux does. */
	virtio_config_read(d->vdev, 0, &cap, sizeof(cap));
	cr_assert_eq(le64toh(cap), IMAGE_SECTORS);
}

Test(virtio_blk, readonly_multiqueue_config)
{
	struct drv *d = drv_new(true, "", 4);
	struct virtio_blk_config c;
	uint64_t f = offered_features(d);

	cr_assert(f & (1ULL << VIRTIO_BLK_F_RO));
	cr_assert(f & (1ULL << VIRTIO_BLK_F_MQ));
	cr_assert_eq(d->vdev->ops->num_queues, 4);
	virtio_config_read(d->vdev, 0, &c, sizeof(c));
	cr_assert_eq(le16toh(c.num_queues), 4);
}

/* ---- requests ---- */

Test(virtio_blk, write_then_read_back_several_mib)
{
	enum { CHUNK = 64 << 10, BATCH = 32, NREQ = BULK_SIZE / CHUNK };
	struct drv *d = drv_new(false, "", 1);
	static uint8_t file_copy[BULK_SIZE];
	uint64_t sum;

	drv_start_queues(d, ALL_FEATURES, 1, 256);
	fill_pattern(gpa(SRC_AREA), BULK_SIZE, 0x5eed);
	memset(gpa(DST_AREA), 0, BULK_SIZE);
	sum = fnv1a(gpa(SRC_AREA), BULK_SIZE);

	for (int pass = 0; pass < 2; pass++) {
		uint32_t type = pass ? VIRTIO_BLK_T_IN : VIRTIO_BLK_T_OUT;
		uint64_t area = pass ? DST_AREA : SRC_AREA;

		for (int b = 0; b < NREQ; b += BATCH) {
			struct req r[BATCH];

			for (int i = 0; i < BATCH; i++) {
				int n = b + i;

				r[i] = submit_rw(d, 0, type,
						 (uint64_t)n * (CHUNK / 512),
						 area + (uint64_t)n * CHUNK,
						 CHUNK, 1 + (n + pass) % 5);
			}
			virtio_kick(d->vdev, 0);
			drv_wait(d, 0, BATCH);
			for (int i = 0; i < BATCH; i++) {
				uint32_t id, len;

				drv_take_used(d, 0, &id, &len);
				cr_assert_eq(len, pass ? CHUNK + 1 : 1);
			}
			for (int i = 0; i < BATCH; i++)
				cr_assert_eq(ram[r[i].status], VIRTIO_BLK_S_OK,
					     "pass %d request %d", pass, b + i);
		}
		if (!pass)
			cr_assert_eq(do_simple(d, VIRTIO_BLK_T_FLUSH, 0),
				     VIRTIO_BLK_S_OK);
	}
	cr_assert_eq(fnv1a(gpa(DST_AREA), BULK_SIZE), sum);
	cr_assert_eq(memcmp(gpa(DST_AREA), gpa(SRC_AREA), BULK_SIZE), 0);
	pread_image(0, file_copy, BULK_SIZE);
	cr_assert_eq(fnv1a(file_copy, BULK_SIZE), sum);
	cr_assert_eq(virtio_blk_inflight(d->blk), 0);
	assert_live(d);
}

Test(virtio_blk, flush_completes_ok)
{
	struct drv *d = drv_new(false, "", 1);
	uint32_t len;

	drv_start_queues(d, ALL_FEATURES, 1, 64);
	cr_assert_eq(finish(d, 0,
			    submit_rw(d, 0, VIRTIO_BLK_T_FLUSH, 0, 0, 0, 0),
			    &len),
		     VIRTIO_BLK_S_OK);
	cr_assert_eq(len, 1);
}

static void check_get_id(struct drv *d, const char *want)
{
	uint64_t buf = scratch(32);
	uint8_t expect[VIRTIO_BLK_ID_BYTES] = { 0 };
	uint32_t len;

	memset(gpa(buf), 0xff, 32);
	memcpy(expect, want, strlen(want));
	cr_assert_eq(finish(d, 0,
			    submit_rw(d, 0, VIRTIO_BLK_T_GET_ID, 0, buf,
				      VIRTIO_BLK_ID_BYTES, 2),
			    &len),
		     VIRTIO_BLK_S_OK);
	cr_assert_eq(len, VIRTIO_BLK_ID_BYTES + 1);
	cr_assert_eq(memcmp(gpa(buf), expect, VIRTIO_BLK_ID_BYTES), 0);
	cr_assert_eq(ram[buf + VIRTIO_BLK_ID_BYTES], 0xff);
}

Test(virtio_blk, get_id_returns_the_serial_nul_padded)
{
	struct drv *d = drv_new(false, "nestbox-disk-7", 1);
	struct drv *full = drv_new(false, "ABCDEFGHIJKLMNOPQRST", 1);
	struct drv *none = drv_new(false, "", 1);

	drv_start_queues(d, ALL_FEATURES, 1, 64);
	drv_start_queues(full, ALL_FEATURES, 1, 64);
	drv_start_queues(none, ALL_FEATURES, 1, 64);
	check_get_id(d, "nestbox-disk-7");
	check_get_id(full, "ABCDEFGHIJKLMNOPQRST");
	check_get_id(none, "");
}

static void write_pattern(struct drv *d, uint64_t sector, uint32_t len,
			  uint64_t seed)
{
	fill_pattern(gpa(SRC_AREA), len, seed);
	cr_assert_eq(do_rw(d, VIRTIO_BLK_T_OUT, sector, SRC_AREA, len, 2),
		     VIRTIO_BLK_S_OK);
}

static void read_back(struct drv *d, uint64_t sector, uint32_t len)
{
	memset(gpa(DST_AREA), 0x77, len);
	cr_assert_eq(do_rw(d, VIRTIO_BLK_T_IN, sector, DST_AREA, len, 3),
		     VIRTIO_BLK_S_OK);
}

Test(virtio_blk, discard_zeroes_the_range)
{
	struct drv *d = drv_new(false, "", 1);
	uint8_t *src = gpa(SRC_AREA), *dst = gpa(DST_AREA);

	drv_start_queues(d, ALL_FEATURES, 1, 64);
	write_pattern(d, 64, 64 << 10, 1);
	/* 8 KiB from the 16th sector of the written range. */
	cr_assert_eq(do_segment(d, VIRTIO_BLK_T_DISCARD, 64 + 16, 16, 0),
		     VIRTIO_BLK_S_OK);
	read_back(d, 64, 64 << 10);
	cr_assert_eq(memcmp(dst, src, 8 << 10), 0);
	cr_assert(all_zero(dst + (8 << 10), 8 << 10));
	cr_assert_eq(memcmp(dst + (16 << 10), src + (16 << 10), 48 << 10), 0);
	assert_live(d);
}

Test(virtio_blk, write_zeroes_with_and_without_unmap)
{
	struct drv *d = drv_new(false, "", 1);
	uint8_t *src = gpa(SRC_AREA), *dst = gpa(DST_AREA);

	drv_start_queues(d, ALL_FEATURES, 1, 64);
	write_pattern(d, 0, 64 << 10, 2);
	cr_assert_eq(do_segment(d, VIRTIO_BLK_T_WRITE_ZEROES, 8, 8, 0),
		     VIRTIO_BLK_S_OK);
	cr_assert_eq(do_segment(d, VIRTIO_BLK_T_WRITE_ZEROES, 32, 3,
				VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP),
		     VIRTIO_BLK_S_OK);
	read_back(d, 0, 64 << 10);
	cr_assert_eq(memcmp(dst, src, 4096), 0);
	cr_assert(all_zero(dst + 4096, 4096));
	cr_assert_eq(memcmp(dst + 8192, src + 8192, 8192), 0);
	cr_assert(all_zero(dst + 16384, 3 * 512));
	cr_assert_eq(memcmp(dst + 16384 + 1536, src + 16384 + 1536,
			    (64 << 10) - 16384 - 1536),
		     0);
}

Test(virtio_blk, discard_and_write_zeroes_refuse_bad_segments)
{
	struct drv *d = drv_new(false, "", 1);
	struct virtio_blk_discard_write_zeroes two[2] = { 0 };
	uint64_t segs_off = scratch(sizeof(two));
	struct seg segs[3];
	struct req r;

	drv_start_queues(d, ALL_FEATURES, 1, 64);
	/* 5.2.6.2: UNMAP on a discard, or an unknown flag: UNSUPP. */
	cr_assert_eq(do_segment(d, VIRTIO_BLK_T_DISCARD, 0, 8,
				VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP),
		     VIRTIO_BLK_S_UNSUPP);
	cr_assert_eq(do_segment(d, VIRTIO_BLK_T_WRITE_ZEROES, 0, 8, 2),
		     VIRTIO_BLK_S_UNSUPP);
	cr_assert_eq(do_segment(d, VIRTIO_BLK_T_DISCARD, 0, 8, 1u << 31),
		     VIRTIO_BLK_S_UNSUPP);
	/* More sectors than max_discard_sectors. */
	cr_assert_eq(do_segment(d, VIRTIO_BLK_T_DISCARD, 0, UINT32_MAX, 0),
		     VIRTIO_BLK_S_IOERR);
	/* Two segments where max_discard_seg is 1. */
	memcpy(gpa(segs_off), two, sizeof(two));
	r.status = new_status();
	segs[0] = (struct seg){ put_hdr(VIRTIO_BLK_T_DISCARD, 0), 16, false };
	segs[1] = (struct seg){ segs_off, sizeof(two), false };
	segs[2] = (struct seg){ r.status, 1, true };
	r.head = drv_add(d, 0, segs, 3);
	cr_assert_eq(finish(d, 0, r, NULL), VIRTIO_BLK_S_IOERR);
	/* No segment at all. */
	cr_assert_eq(do_simple(d, VIRTIO_BLK_T_WRITE_ZEROES, 0),
		     VIRTIO_BLK_S_IOERR);
	assert_live(d);
}

Test(virtio_blk, readonly_refuses_writes_and_discards)
{
	static uint8_t before[64 << 10], after[64 << 10];
	struct drv *d;

	fill_pattern(before, sizeof(before), 3);
	pwrite_image(0, before, sizeof(before));
	d = drv_new(true, "", 1);
	drv_start_queues(d, ALL_FEATURES, 1, 64);
	cr_assert(d->features & (1ULL << VIRTIO_BLK_F_RO));

	fill_pattern(gpa(SRC_AREA), 4096, 4);
	cr_assert_eq(do_rw(d, VIRTIO_BLK_T_OUT, 0, SRC_AREA, 4096, 1),
		     VIRTIO_BLK_S_IOERR);
	cr_assert_eq(do_segment(d, VIRTIO_BLK_T_DISCARD, 0, 8, 0),
		     VIRTIO_BLK_S_IOERR);
	cr_assert_eq(do_segment(d, VIRTIO_BLK_T_WRITE_ZEROES, 16, 8, 0),
		     VIRTIO_BLK_S_IOERR);
	cr_assert_eq(do_simple(d, VIRTIO_BLK_T_FLUSH, 0), VIRTIO_BLK_S_OK);
	read_back(d, 0, sizeof(before));
	cr_assert_eq(memcmp(gpa(DST_AREA), before, sizeof(before)), 0);
	pread_image(0, after, sizeof(after));
	cr_assert_eq(memcmp(after, before, sizeof(before)), 0);
	assert_live(d);
}

Test(virtio_blk, out_of_range_and_overflowing_sectors_fail_alone)
{
	struct drv *d = drv_new(false, "", 1);

	drv_start_queues(d, ALL_FEATURES, 1, 64);
	cr_assert_eq(do_rw(d, VIRTIO_BLK_T_IN, IMAGE_SECTORS, DST_AREA, 512, 1),
		     VIRTIO_BLK_S_IOERR);
	cr_assert_eq(
		do_rw(d, VIRTIO_BLK_T_IN, IMAGE_SECTORS - 1, DST_AREA, 1024, 1),
		VIRTIO_BLK_S_IOERR);
	cr_assert_eq(do_rw(d, VIRTIO_BLK_T_IN, UINT64_MAX, DST_AREA, 512, 1),
		     VIRTIO_BLK_S_IOERR);
	/* sector * 512 wraps to 0 */
	cr_assert_eq(do_rw(d, VIRTIO_BLK_T_IN, 1ULL << 55, DST_AREA, 512, 1),
		     VIRTIO_BLK_S_IOERR);
	cr_assert_eq(do_rw(d, VIRTIO_BLK_T_OUT, UINT64_MAX / 512 + 1, SRC_AREA,
			   512, 1),
		     VIRTIO_BLK_S_IOERR);
	/* Not a multiple of 512. */
	cr_assert_eq(do_rw(d, VIRTIO_BLK_T_IN, 0, DST_AREA, 100, 1),
		     VIRTIO_BLK_S_IOERR);
	cr_assert_eq(do_rw(d, VIRTIO_BLK_T_OUT, 0, SRC_AREA, 513, 2),
		     VIRTIO_BLK_S_IOERR);
	cr_assert_eq(
		do_segment(d, VIRTIO_BLK_T_DISCARD, IMAGE_SECTORS - 8, 16, 0),
		VIRTIO_BLK_S_IOERR);
	cr_assert_eq(do_segment(d, VIRTIO_BLK_T_WRITE_ZEROES, UINT64_MAX, 1, 0),
		     VIRTIO_BLK_S_IOERR);
	/* The last sector itself is fine. */
	cr_assert_eq(
		do_rw(d, VIRTIO_BLK_T_IN, IMAGE_SECTORS - 1, DST_AREA, 512, 1),
		VIRTIO_BLK_S_OK);
	assert_live(d);
}

Test(virtio_blk, unknown_types_are_unsupported)
{
	struct drv *d = drv_new(false, "", 1);
	uint32_t len;

	drv_start_queues(d, ALL_FEATURES, 1, 64);
	cr_assert_eq(finish(d, 0, submit_rw(d, 0, 99, 0, 0, 0, 0), &len),
		     VIRTIO_BLK_S_UNSUPP);
	cr_assert_eq(len, 1);
	cr_assert_eq(do_simple(d, VIRTIO_BLK_T_GET_LIFETIME, 0),
		     VIRTIO_BLK_S_UNSUPP);
	cr_assert_eq(do_simple(d, 5 /* legacy FLUSH_OUT */, 0),
		     VIRTIO_BLK_S_UNSUPP);
	cr_assert_eq(do_simple(d, 0x80000000u /* legacy BARRIER */, 0),
		     VIRTIO_BLK_S_UNSUPP);
	assert_live(d);
}

Test(virtio_blk, features_the_driver_did_not_take)
{
	struct drv *d = drv_new(false, "", 1);
	struct drv *plain = drv_new(false, "", 1);
	uint64_t want = ALL_FEATURES & ~((1ULL << VIRTIO_BLK_F_FLUSH) |
					 (1ULL << VIRTIO_BLK_F_DISCARD) |
					 (1ULL << VIRTIO_F_EVENT_IDX) |
					 (1ULL << VIRTIO_F_INDIRECT_DESC));

	drv_start_queues(d, want, 1, 16);
	/* No FLUSH negotiated: writes are stable on completion, still work. */
	write_pattern(d, 8, 8192, 5);
	cr_assert_eq(do_segment(d, VIRTIO_BLK_T_WRITE_ZEROES, 10, 2, 0),
		     VIRTIO_BLK_S_OK);
	read_back(d, 8, 8192);
	cr_assert_eq(memcmp(gpa(DST_AREA), gpa(SRC_AREA), 1024), 0);
	cr_assert(all_zero(gpa(DST_AREA + 1024), 1024));
	cr_assert_eq(memcmp(gpa(DST_AREA + 2048), gpa(SRC_AREA + 2048), 6144),
		     0);
	cr_assert_eq(do_segment(d, VIRTIO_BLK_T_DISCARD, 0, 8, 0),
		     VIRTIO_BLK_S_UNSUPP);
	assert_live(d);

	drv_start_queues(plain, want & ~(1ULL << VIRTIO_BLK_F_WRITE_ZEROES), 1,
			 16);
	cr_assert_eq(do_segment(plain, VIRTIO_BLK_T_WRITE_ZEROES, 0, 8, 0),
		     VIRTIO_BLK_S_UNSUPP);
}

Test(virtio_blk, write_zeroes_falls_back_to_a_hole_without_zero_range)
{
	struct statfs sfs;
	struct drv *d;
	uint8_t *src = gpa(SRC_AREA), *dst = gpa(DST_AREA);

	/* tmpfs has PUNCH_HOLE but no ZERO_RANGE. */
	if (statfs("/dev/shm", &sfs) || sfs.f_type != TMPFS_MAGIC)
		cr_skip_test("no tmpfs at /dev/shm");
	unlink(image);
	make_image("/dev/shm/nestbox-blk-XXXXXX", IMAGE_SIZE);
	d = drv_new(false, "", 1);
	drv_start_queues(d, ALL_FEATURES, 1, 64);
	write_pattern(d, 0, 16384, 12);
	cr_assert_eq(do_segment(d, VIRTIO_BLK_T_WRITE_ZEROES, 8, 8, 0),
		     VIRTIO_BLK_S_OK);
	/* Second time the device goes straight to the hole. */
	cr_assert_eq(do_segment(d, VIRTIO_BLK_T_WRITE_ZEROES, 24, 4, 0),
		     VIRTIO_BLK_S_OK);
	read_back(d, 0, 16384);
	cr_assert_eq(memcmp(dst, src, 4096), 0);
	cr_assert(all_zero(dst + 4096, 4096));
	cr_assert_eq(memcmp(dst + 8192, src + 8192, 4096), 0);
	cr_assert(all_zero(dst + 12288, 2048));
	cr_assert_eq(memcmp(dst + 14336, src + 14336, 2048), 0);
}

Test(virtio_blk, header_split_across_descriptors)
{
	struct drv *d = drv_new(false, "", 1);
	uint64_t hdr = put_hdr(VIRTIO_BLK_T_OUT, 40);
	struct seg segs[5];
	struct req r;

	drv_start_queues(d, ALL_FEATURES, 1, 64);
	fill_pattern(gpa(SRC_AREA), 4096, 6);
	/* Write: header as 10 + 6 bytes. */
	r.status = new_status();
	segs[0] = (struct seg){ hdr, 10, false };
	segs[1] = (struct seg){ hdr + 10, 6, false };
	segs[2] = (struct seg){ SRC_AREA, 4096, false };
	segs[3] = (struct seg){ r.status, 1, true };
	r.head = drv_add(d, 0, segs, 4);
	cr_assert_eq(finish(d, 0, r, NULL), VIRTIO_BLK_S_OK);

	/* Read through an indirect table: header as 1 + 15 bytes. */
	hdr = put_hdr(VIRTIO_BLK_T_IN, 40);
	memset(gpa(DST_AREA), 0, 4096);
	r.status = new_status();
	segs[0] = (struct seg){ hdr, 1, false };
	segs[1] = (struct seg){ hdr + 1, 15, false };
	segs[2] = (struct seg){ DST_AREA, 1000, true };
	segs[3] = (struct seg){ DST_AREA + 1000, 3096, true };
	segs[4] = (struct seg){ r.status, 1, true };
	r.head = drv_add_indirect(d, 0, segs, 5);
	cr_assert_eq(finish(d, 0, r, NULL), VIRTIO_BLK_S_OK);
	cr_assert_eq(memcmp(gpa(DST_AREA), gpa(SRC_AREA), 4096), 0);

	/* The status byte may share the data's last descriptor. */
	memset(gpa(DST_AREA), 0, 4096);
	r.status = DST_AREA + 512;
	ram[r.status] = STATUS_UNTOUCHED;
	segs[0] = (struct seg){ put_hdr(VIRTIO_BLK_T_IN, 40), 16, false };
	segs[1] = (struct seg){ DST_AREA, 513, true };
	r.head = drv_add(d, 0, segs, 2);
	cr_assert_eq(finish(d, 0, r, NULL), VIRTIO_BLK_S_OK);
	cr_assert_eq(memcmp(gpa(DST_AREA), gpa(SRC_AREA), 512), 0);
}

Test(virtio_blk, multiqueue_serves_every_queue)
{
	struct drv *d = drv_new(false, "", 2);
	struct req r;

	drv_start_queues(d, ALL_FEATURES, 2, 32);
	cr_assert(d->features & (1ULL << VIRTIO_BLK_F_MQ));
	fill_pattern(gpa(SRC_AREA), 8192, 7);
	r = submit_rw(d, 1, VIRTIO_BLK_T_OUT, 100, SRC_AREA, 8192, 3);
	cr_assert_eq(finish(d, 1, r, NULL), VIRTIO_BLK_S_OK);
	r = submit_rw(d, 0, VIRTIO_BLK_T_IN, 100, DST_AREA, 8192, 2);
	cr_assert_eq(finish(d, 0, r, NULL), VIRTIO_BLK_S_OK);
	cr_assert_eq(memcmp(gpa(DST_AREA), gpa(SRC_AREA), 8192), 0);
}

Test(virtio_blk, short_host_read_is_ioerr)
{
	struct drv *d = drv_new(false, "", 1);

	drv_start_queues(d, ALL_FEATURES, 1, 64);
	/* The image shrinks behind the device's back. */
	cr_assert_eq(truncate(image, IMAGE_SIZE / 2), 0);
	cr_assert_eq(
		do_rw(d, VIRTIO_BLK_T_IN, IMAGE_SECTORS - 1, DST_AREA, 512, 1),
		VIRTIO_BLK_S_IOERR);
	/* Straddling the new end: a short read. */
	cr_assert_eq(do_rw(d, VIRTIO_BLK_T_IN, IMAGE_SECTORS / 2 - 4, DST_AREA,
			   4096, 2),
		     VIRTIO_BLK_S_IOERR);
	cr_assert_eq(do_rw(d, VIRTIO_BLK_T_IN, 0, DST_AREA, 4096, 2),
		     VIRTIO_BLK_S_OK);
	assert_live(d);
}

/* ---- a broken driver ---- */

static void wait_needs_reset(struct drv *d)
{
	double deadline = now() + WAIT_SECONDS;

	while (!(virtio_get_status(d->vdev) &
		 VIRTIO_STATUS_DEVICE_NEEDS_RESET)) {
		cr_assert_lt(now(), deadline, "device never asked for a reset");
		cr_assert_eq(evloop_run(&loop), 0);
	}
}

Test(virtio_blk, missing_status_byte_breaks_only_that_device)
{
	struct drv *bad = drv_new(false, "", 1);
	struct drv *good = drv_new(false, "", 1);
	struct seg seg = { put_hdr(VIRTIO_BLK_T_IN, 0), 16, false };
	struct req r;

	drv_start_queues(bad, ALL_FEATURES, 1, 64);
	drv_start_queues(good, ALL_FEATURES, 1, 64);
	drv_add(bad, 0, &seg, 1); /* header only: nowhere to put a status */
	virtio_kick(bad->vdev, 0);
	wait_needs_reset(bad);
	cr_assert_eq(virtio_get_status(bad->vdev) & 0xff,
		     0x0f | VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	cr_assert_eq(bad->config_irqs, 1);
	cr_assert_eq(used_idx(bad, 0), 0);

	/* Further kicks are ignored; the other device carries on. */
	r = submit_rw(bad, 0, VIRTIO_BLK_T_FLUSH, 0, 0, 0, 0);
	virtio_kick(bad->vdev, 0);
	fill_pattern(gpa(SRC_AREA), 4096, 8);
	cr_assert_eq(do_rw(good, VIRTIO_BLK_T_OUT, 0, SRC_AREA, 4096, 2),
		     VIRTIO_BLK_S_OK);
	cr_assert_eq(do_rw(good, VIRTIO_BLK_T_IN, 0, DST_AREA, 4096, 1),
		     VIRTIO_BLK_S_OK);
	cr_assert_eq(memcmp(gpa(DST_AREA), gpa(SRC_AREA), 4096), 0);
	assert_live(good);
	cr_assert_eq(used_idx(bad, 0), 0);
	cr_assert_eq(ram[r.status], STATUS_UNTOUCHED);

	/* A reset brings it back. */
	virtio_set_status(bad->vdev, 0);
	cr_assert_eq(virtio_get_status(bad->vdev), 0);
	drv_start_queues(bad, ALL_FEATURES, 1, 64);
	cr_assert_eq(do_simple(bad, VIRTIO_BLK_T_FLUSH, 0), VIRTIO_BLK_S_OK);
}

Test(virtio_blk, short_header_needs_reset)
{
	struct drv *d = drv_new(false, "", 1);
	struct seg segs[2] = {
		{ put_hdr(VIRTIO_BLK_T_IN, 0), 8, false },
		{ new_status(), 1, true },
	};

	drv_start_queues(d, ALL_FEATURES, 1, 64);
	drv_add(d, 0, segs, 2);
	virtio_kick(d->vdev, 0);
	wait_needs_reset(d);
	cr_assert_eq(ram[segs[1].off], STATUS_UNTOUCHED);
	cr_assert_eq(used_idx(d, 0), 0);
}

Test(virtio_blk, malformed_ring_needs_reset)
{
	struct drv *d = drv_new(false, "", 1);

	drv_start_queues(d, ALL_FEATURES, 1, 64);
	drv_publish(d, 0, 1000); /* a head beyond the queue */
	virtio_kick(d->vdev, 0);
	wait_needs_reset(d);
	cr_assert_eq(virtio_blk_inflight(d->blk), 0);
}

/* ---- resets, back-pressure ---- */

static void notify_now(struct drv *d, unsigned int q)
{
	/* What the kick path does, without running the loop. */
	pthread_mutex_lock(&d->vdev->lock);
	d->vdev->ops->queue_notify(d->vdev, q);
	pthread_mutex_unlock(&d->vdev->lock);
}

Test(virtio_blk, reset_with_request_in_flight_leaves_guest_memory_alone)
{
	struct drv *d = drv_new(false, "", 1);
	static uint8_t ring_copy[RING_STRIDE];
	struct req r;

	drv_start_queues(d, ALL_FEATURES, 1, 64);
	fill_pattern(gpa(SRC_AREA), 8192, 9);
	r = submit_rw(d, 0, VIRTIO_BLK_T_OUT, 0, SRC_AREA, 8192, 2);
	notify_now(d, 0); /* popped and prepared; the kernel has not seen it */
	cr_assert_eq(virtio_blk_inflight(d->blk), 1);

	/* The driver resets and sets the device up again, same rings. */
	virtio_set_status(d->vdev, 0);
	drv_start_queues(d, ALL_FEATURES, 1, 64);
	memcpy(ring_copy, gpa(d->tq[0].ring), RING_STRIDE);

	run_until_idle(d); /* the orphan's completion arrives */
	cr_assert_eq(ram[r.status], STATUS_UNTOUCHED);
	cr_assert_eq(memcmp(ring_copy, gpa(d->tq[0].ring), RING_STRIDE), 0);
	cr_assert_eq(d->irqs, 0);

	/* The new driver is served normally. */
	cr_assert_eq(do_simple(d, VIRTIO_BLK_T_FLUSH, 0), VIRTIO_BLK_S_OK);
	cr_assert_eq(used_idx(d, 0), 1);
	assert_live(d);
}

Test(virtio_blk, in_flight_requests_are_bounded_by_the_queue_size)
{
	struct drv *d = drv_new(false, "", 1);
	uint64_t status[2];
	uint32_t id, len;
	unsigned int seen[2] = { 0 };

	drv_start_queues(d, ALL_FEATURES, 1, 2);
	fill_pattern(gpa(SRC_AREA), 8192, 10);
	pwrite_image(0, gpa(SRC_AREA), 8192);
	for (int i = 0; i < 2; i++) {
		struct seg segs[3];

		status[i] = new_status();
		segs[0] = (struct seg){ put_hdr(VIRTIO_BLK_T_IN, 8 * i), 16,
					false };
		segs[1] = (struct seg){ DST_AREA + 4096 * i, 4096, true };
		segs[2] = (struct seg){ status[i], 1, true };
		cr_assert_eq(drv_add_indirect(d, 0, segs, 3), i);
	}
	notify_now(d, 0);
	cr_assert_eq(virtio_blk_inflight(d->blk), 2);
	/* A hostile driver makes the same heads available again. */
	drv_publish(d, 0, 0);
	drv_publish(d, 0, 1);
	notify_now(d, 0);
	cr_assert_eq(virtio_blk_inflight(d->blk), 2);

	/* Completions make room and the rest is served without a kick. */
	drv_wait(d, 0, 4);
	for (int i = 0; i < 4; i++) {
		drv_take_used(d, 0, &id, &len);
		cr_assert_lt(id, 2);
		cr_assert_eq(len, 4097);
		seen[id]++;
	}
	cr_assert_eq(seen[0], 2);
	cr_assert_eq(seen[1], 2);
	cr_assert_eq(ram[status[0]], VIRTIO_BLK_S_OK);
	cr_assert_eq(ram[status[1]], VIRTIO_BLK_S_OK);
	cr_assert_eq(memcmp(gpa(DST_AREA), gpa(SRC_AREA), 8192), 0);
	run_until_idle(d);
	assert_live(d);
}

static unsigned int nops_done;

static void nop_done(struct evloop_op *op, int res, unsigned int flags)
{
	nops_done++;
}

Test(virtio_blk, full_submission_queue_defers_and_never_drops)
{
	struct evloop_op nop = { .cb = nop_done };
	struct drv *d = drv_new(false, "", 1);
	struct io_uring_sqe *sqe;
	struct req a, b;
	unsigned int nops = 0;
	int enter_fd;
	uint32_t id, len;
	bool seen_a = false, seen_b = false;

	drv_start_queues(d, ALL_FEATURES, 1, 64);
	a = submit_rw(d, 0, VIRTIO_BLK_T_FLUSH, 0, 0, 0, 0);
	notify_now(d, 0);
	/* Other users fill the ring, and the kernel takes nothing for now. */
	while ((sqe = io_uring_get_sqe(&loop.ring))) {
		io_uring_prep_nop(sqe);
		io_uring_sqe_set_data(sqe, &nop);
		nops++;
	}
	enter_fd = loop.ring.enter_ring_fd;
	loop.ring.enter_ring_fd = -1;
	fill_pattern(gpa(SRC_AREA), 4096, 11);
	b = submit_rw(d, 0, VIRTIO_BLK_T_OUT, 0, SRC_AREA, 4096, 1);
	notify_now(d, 0);
	loop.ring.enter_ring_fd = enter_fd;
	cr_assert_eq(virtio_blk_inflight(d->blk), 2);
	cr_assert_eq(used_idx(d, 0), 0);

	/* a's completion retries b. */
	drv_wait(d, 0, 2);
	for (int i = 0; i < 2; i++) {
		drv_take_used(d, 0, &id, &len);
		seen_a |= id == a.head;
		seen_b |= id == b.head;
	}
	cr_assert(seen_a && seen_b);
	cr_assert_eq(ram[a.status], VIRTIO_BLK_S_OK);
	cr_assert_eq(ram[b.status], VIRTIO_BLK_S_OK);
	run_until_idle(d);
	while (nops_done < nops)
		cr_assert_eq(evloop_run(&loop), 0);
	cr_assert_eq(do_rw(d, VIRTIO_BLK_T_IN, 0, DST_AREA, 4096, 1),
		     VIRTIO_BLK_S_OK);
	cr_assert_eq(memcmp(gpa(DST_AREA), gpa(SRC_AREA), 4096), 0);
}

static atomic_bool loop_thread_done;

static void *loop_thread(void *arg)
{
	while (!atomic_load(&loop_thread_done))
		cr_assert_eq(evloop_run(&loop), 0);
	return NULL;
}

/* Poll the used ring from another thread than the loop's. */
static void wait_used_polling(struct drv *d, unsigned int q, uint16_t n)
{
	double deadline = now() + WAIT_SECONDS;

	while ((uint16_t)(used_idx(d, q) - d->tq[q].used_seen) < n) {
		cr_assert_lt(now(), deadline, "timed out waiting for %u used",
			     n);
		usleep(100);
	}
}

/* Requests of the last round the device had not used when reset returned. */
static void note_orphans(struct drv *d, const struct req *reqs, unsigned int n,
			 bool *orphan)
{
	uint16_t used = used_idx(d, 0);

	for (unsigned int i = 0; i < n; i++)
		orphan[i] = true;
	for (uint16_t k = 0; k < used; k++) {
		volatile uint32_t *elem =
			(volatile uint32_t *)&used_ring(d, 0)[2 + 4 * k];

		for (unsigned int i = 0; i < n; i++)
			if (reqs[i].head == le32toh(elem[0]))
				orphan[i] = false;
	}
}

Test(virtio_blk, resets_from_a_vcpu_race_completions_safely)
{
	enum { ROUNDS = 40, PER_ROUND = 16, LEN = BULK_SIZE / PER_ROUND };
	static struct req reqs[ROUNDS][PER_ROUND];
	static bool orphan[ROUNDS][PER_ROUND];
	struct drv *d = drv_new(false, "", 1);
	unsigned int orphans = 0;
	pthread_t t;
	struct req r;
	uint32_t id, len;

	fill_pattern(gpa(SRC_AREA), BULK_SIZE, 13);
	pwrite_image(0, gpa(SRC_AREA), BULK_SIZE);
	srand(1);
	pthread_create(&t, NULL, loop_thread, NULL);
	/* This thread plays the vCPU: kicks and resets at random moments. */
	for (int round = 0; round < ROUNDS; round++) {
		/* 16 requests of up to 6 descriptors fit 128. */
		drv_start_queues(d, ALL_FEATURES, 1, 128);
		for (int i = 0; i < PER_ROUND; i++) {
			reqs[round][i] = submit_rw(
				d, 0, VIRTIO_BLK_T_IN, i * (LEN / 512),
				DST_AREA + (uint64_t)i * LEN, LEN, 1 + i % 4);
			if (i % 4 == 3)
				virtio_kick(d->vdev, 0);
		}
		if (round % 2)
			usleep(rand() % 1000);
		virtio_set_status(d->vdev, 0);
		note_orphans(d, reqs[round], PER_ROUND, orphan[round]);
	}
	drv_start_queues(d, ALL_FEATURES, 1, 64);
	memset(gpa(DST_AREA), 0, LEN);
	r = submit_rw(d, 0, VIRTIO_BLK_T_IN, 0, DST_AREA, LEN, 3);
	virtio_kick(d->vdev, 0);
	wait_used_polling(d, 0, 1);
	drv_take_used(d, 0, &id, &len);
	cr_assert_eq(id, r.head);
	cr_assert_eq(ram[r.status], VIRTIO_BLK_S_OK);
	cr_assert_eq(memcmp(gpa(DST_AREA), gpa(SRC_AREA), LEN), 0);

	atomic_store(&loop_thread_done, true);
	evloop_stop(&loop);
	pthread_join(t, NULL);
	cr_assert_eq(d->config_irqs, 0, "the device saw a broken request");
	run_until_idle(d);
	assert_live(d);
	cr_assert_eq(used_idx(d, 0), 1);
	/* Whatever a reset orphaned never got a status. */
	for (int round = 0; round < ROUNDS; round++) {
		for (int i = 0; i < PER_ROUND; i++) {
			if (!orphan[round][i])
				continue;
			orphans++;
			cr_assert_eq(ram[reqs[round][i].status],
				     STATUS_UNTOUCHED, "round %d request %d",
				     round, i);
		}
	}
	cr_log_info("%u requests left unused by resets", orphans);
}
