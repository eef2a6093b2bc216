// SPDX-License-Identifier: GPL-2.0
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "vmm/image.h"

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = v >> (8 * i);
}

static void make_header(uint8_t *h, uint64_t text_offset, uint64_t image_size,
			uint64_t flags)
{
	memset(h, 0, ARM64_IMAGE_HEADER_SIZE);
	h[0] = 0x4d; /* "MZ" of an EFI stub, as real kernels have */
	h[1] = 0x5a;
	put64(h + 8, text_offset);
	put64(h + 16, image_size);
	put64(h + 24, flags);
	memcpy(h + ARM64_IMAGE_MAGIC_OFFSET, "ARM\x64", 4);
}

Test(image, parses_a_modern_header)
{
	uint8_t h[64];
	struct arm64_image img;
	char err[200];

	make_header(h, 0, 0x2000000, 0xa); /* 4K pages, anywhere */
	cr_assert_eq(
		arm64_image_parse(h, 64, 0x1800000, &img, err, sizeof(err)), 0,
		"%s", err);
	cr_assert_eq(img.text_offset, 0);
	cr_assert_eq(img.image_size, 0x2000000);
	cr_assert_eq(img.page_size, 4096);
	cr_assert(img.flags & ARM64_IMAGE_FLAG_PHYS_ANYWHERE);
}

Test(image, legacy_header_implies_text_offset)
{
	uint8_t h[64];
	struct arm64_image img;
	char err[200];

	make_header(h, 0x1234, 0, 0);
	cr_assert_eq(arm64_image_parse(h, 64, 4 << 20, &img, err, sizeof(err)),
		     0);
	cr_assert_eq(img.text_offset, ARM64_IMAGE_LEGACY_TEXT_OFFSET);
	cr_assert_eq(img.image_size, 4 << 20);
}

Test(image, truncated_file_is_refused)
{
	uint8_t h[64];
	struct arm64_image img;
	char err[200];

	make_header(h, 0, 0x100000, 0);
	cr_assert_eq(arm64_image_parse(h, 40, 40, &img, err, sizeof(err)),
		     -ENOEXEC);
	cr_assert(strstr(err, "too short"), "%s", err);
	cr_assert_eq(arm64_image_parse(h, 0, 0, &img, err, sizeof(err)),
		     -ENOEXEC);
}

Test(image, wrong_magic_is_refused)
{
	uint8_t h[64];
	struct arm64_image img;
	char err[200];

	make_header(h, 0, 0x100000, 0);
	h[ARM64_IMAGE_MAGIC_OFFSET + 3] = 0x65;
	cr_assert_eq(arm64_image_parse(h, 64, 4096, &img, err, sizeof(err)),
		     -ENOEXEC);
	cr_assert(strstr(err, "not an arm64 Linux Image"), "%s", err);
}

Test(image, compressed_images_get_a_hint)
{
	uint8_t h[64] = { 0x1f, 0x8b, 0x08 };
	struct arm64_image img;
	char err[200];

	cr_assert_eq(arm64_image_parse(h, 64, 9999, &img, err, sizeof(err)),
		     -ENOEXEC);
	cr_assert(strstr(err, "gzip"), "%s", err);
	memset(h, 0, sizeof(h));
	memcpy(h, "MZ\0\0zimg", 8);
	cr_assert_eq(arm64_image_parse(h, 64, 9999, &img, err, sizeof(err)),
		     -ENOEXEC);
	cr_assert(strstr(err, "zboot"), "%s", err);
}

Test(image, corrupt_fields_are_refused)
{
	uint8_t h[64];
	struct arm64_image img;
	char err[200];

	make_header(h, 0, 0x100000, ARM64_IMAGE_FLAG_BE);
	cr_assert_eq(arm64_image_parse(h, 64, 4096, &img, err, sizeof(err)),
		     -ENOEXEC);
	cr_assert(strstr(err, "big-endian"), "%s", err);

	make_header(h, 0x200000, 0x100000, 0); /* text_offset >= 2 MiB */
	cr_assert_eq(arm64_image_parse(h, 64, 4096, &img, err, sizeof(err)),
		     -ENOEXEC);
	make_header(h, 0x80001, 0x100000, 0); /* not page aligned */
	cr_assert_eq(arm64_image_parse(h, 64, 4096, &img, err, sizeof(err)),
		     -ENOEXEC);

	make_header(h, 0, 4096, 0); /* image_size smaller than the file */
	cr_assert_eq(arm64_image_parse(h, 64, 8192, &img, err, sizeof(err)),
		     -ENOEXEC);

	make_header(h, 0, UINT64_MAX, 0);
	cr_assert_eq(arm64_image_parse(h, 64, 8192, &img, err, sizeof(err)),
		     -ENOEXEC);
}

static struct arm64_image img_of(uint64_t text_offset, uint64_t size)
{
	return (struct arm64_image){ .text_offset = text_offset,
				     .image_size = size };
}

Test(boot_layout, places_kernel_initrd_and_dtb)
{
	struct arm64_image img = img_of(0, 30 << 20);
	struct boot_layout bl;
	char err[200];
	uint64_t base = 0x80000000, size = 512 << 20;

	cr_assert_eq(arm64_boot_layout(&img, 20 << 20, 5 << 20, base, size, &bl,
				       err, sizeof(err)),
		     0, "%s", err);
	cr_assert_eq(bl.kernel_gpa, base);
	cr_assert_eq(bl.kernel_end, base + (30 << 20));
	cr_assert_eq(bl.dtb_gpa % 8, 0);
	cr_assert_leq(bl.dtb_gpa + ARM64_DTB_MAX_SIZE, base + size);
	cr_assert_eq(bl.initrd_gpa % 4096, 0);
	cr_assert_leq(bl.initrd_gpa + (5 << 20), bl.dtb_gpa);
	cr_assert_geq(bl.initrd_gpa, bl.kernel_end);
}

Test(boot_layout, honours_text_offset_above_2m_base)
{
	struct arm64_image img = img_of(0x80000, 8 << 20);
	struct boot_layout bl;
	char err[200];

	cr_assert_eq(arm64_boot_layout(&img, 8 << 20, 0, 0x80000000, 64 << 20,
				       &bl, err, sizeof(err)),
		     0);
	cr_assert_eq(bl.kernel_gpa, 0x80080000);
	cr_assert_eq(bl.initrd_gpa, 0);
}

Test(boot_layout, too_small_memory_is_refused)
{
	struct arm64_image img = img_of(0, 30 << 20);
	struct boot_layout bl;
	char err[200];

	cr_assert_eq(arm64_boot_layout(&img, 20 << 20, 0, 0x80000000, 31 << 20,
				       &bl, err, sizeof(err)),
		     -ENOSPC);
	cr_assert_eq(arm64_boot_layout(&img, 20 << 20, 100 << 20, 0x80000000,
				       128 << 20, &bl, err, sizeof(err)),
		     -ENOSPC);
	cr_assert(strstr(err, "initrd"), "%s", err);
	cr_assert_eq(arm64_boot_layout(&img, 20 << 20, 600 << 20, 0x80000000,
				       512 << 20, &bl, err, sizeof(err)),
		     -ENOSPC);
	cr_assert_eq(arm64_boot_layout(&img, 20 << 20, 0, 0x80000000, 4096, &bl,
				       err, sizeof(err)),
		     -ENOSPC);
}
