// SPDX-License-Identifier: GPL-2.0
#include "image.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static uint64_t get_le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

#define ALIGN_UP(x, a)	 (((x) + (a)-1) & ~((a)-1))
#define ALIGN_DOWN(x, a) ((x) & ~((a)-1))

int arm64_image_parse(const void *buf, size_t len, uint64_t file_size,
		      struct arm64_image *img, char *err, size_t errlen)
{
	const uint8_t *h = buf;
	uint64_t text_offset, image_size, flags;

	if (len >= 2 && h[0] == 0x1f && h[1] == 0x8b) {
		snprintf(
			err, errlen,
			"is gzip-compressed; decompress it first (gunzip -c IMAGE > Image)");
		return -ENOEXEC;
	}
	/* EFI zboot: a PE file whose header says "zimg"
	 * (efi/libstub/zboot-header.S). */
	if (len >= 8 && h[0] == 'M' && h[1] == 'Z' &&
	    !memcmp(h + 4, "zimg", 4)) {
		snprintf(
			err, errlen,
			"is an EFI zboot compressed image; boot the uncompressed Image instead");
		return -ENOEXEC;
	}
	if (len < ARM64_IMAGE_HEADER_SIZE ||
	    file_size < ARM64_IMAGE_HEADER_SIZE) {
		snprintf(err, errlen,
			 "is too short (%llu bytes) to be an arm64 Linux Image",
			 (unsigned long long)file_size);
		return -ENOEXEC;
	}
	if (get_le32(h + ARM64_IMAGE_MAGIC_OFFSET) != ARM64_IMAGE_MAGIC) {
		snprintf(
			err, errlen,
			"is not an arm64 Linux Image (no \"ARM\\x64\" magic at offset 56)");
		return -ENOEXEC;
	}

	text_offset = get_le64(h + 8);
	image_size = get_le64(h + 16);
	flags = get_le64(h + 24);

	if (image_size == 0) {
		/* Pre-3.17 header: text_offset is implied, size unknown. */
		text_offset = ARM64_IMAGE_LEGACY_TEXT_OFFSET;
		image_size = file_size;
		flags = 0;
	}
	if (flags & ARM64_IMAGE_FLAG_BE) {
		snprintf(
			err, errlen,
			"is a big-endian kernel; nestbox boots little-endian guests only");
		return -ENOEXEC;
	}
	if (text_offset >= ARM64_IMAGE_BASE_ALIGN || text_offset % 4096) {
		snprintf(
			err, errlen,
			"has a corrupt header (text_offset 0x%llx is not a page offset below 2 MiB)",
			(unsigned long long)text_offset);
		return -ENOEXEC;
	}
	if (image_size < file_size) {
		snprintf(
			err, errlen,
			"has a corrupt header (image_size %llu is smaller than the file, %llu bytes)",
			(unsigned long long)image_size,
			(unsigned long long)file_size);
		return -ENOEXEC;
	}
	/* A real kernel is well below 1 GiB; anything bigger is garbage. */
	if (image_size > (1ULL << 30)) {
		snprintf(err, errlen,
			 "has a corrupt header (image_size %llu bytes)",
			 (unsigned long long)image_size);
		return -ENOEXEC;
	}

	img->text_offset = text_offset;
	img->image_size = image_size;
	img->flags = flags;
	switch ((flags & ARM64_IMAGE_FLAG_PAGE_SIZE_MASK) >>
		ARM64_IMAGE_FLAG_PAGE_SIZE_SHIFT) {
	case 1:
		img->page_size = 4096;
		break;
	case 2:
		img->page_size = 16384;
		break;
	case 3:
		img->page_size = 65536;
		break;
	default:
		img->page_size = 0;
		break;
	}
	return 0;
}

int arm64_boot_layout(const struct arm64_image *img, uint64_t kernel_file_size,
		      uint64_t initrd_size, uint64_t ram_base,
		      uint64_t ram_size, struct boot_layout *out, char *err,
		      size_t errlen)
{
	uint64_t base = ALIGN_UP(ram_base, ARM64_IMAGE_BASE_ALIGN);
	uint64_t ram_end = ram_base + ram_size;
	uint64_t footprint, top;

	if (ram_end < ram_base) {
		snprintf(err, errlen, "RAM range overflows");
		return -ENOSPC;
	}
	footprint = img->image_size > kernel_file_size ? img->image_size
						       : kernel_file_size;
	out->kernel_gpa = base + img->text_offset;
	out->kernel_end = ALIGN_UP(out->kernel_gpa + footprint, 4096);

	/* DTB at the start of the top 2 MiB: 8-byte aligned, <= 2 MiB. */
	if (ram_size < ARM64_DTB_MAX_SIZE) {
		snprintf(err, errlen, "no room for the device tree");
		return -ENOSPC;
	}
	out->dtb_gpa = ALIGN_DOWN(ram_end - ARM64_DTB_MAX_SIZE, 4096);
	top = out->dtb_gpa;

	if (initrd_size) {
		if (initrd_size > top - ram_base) {
			snprintf(
				err, errlen,
				"the initrd (%llu bytes) does not fit in guest RAM",
				(unsigned long long)initrd_size);
			return -ENOSPC;
		}
		out->initrd_gpa = ALIGN_DOWN(top - initrd_size, 4096);
		top = out->initrd_gpa;
	} else {
		out->initrd_gpa = 0;
	}
	if (out->kernel_end > top || out->kernel_end < out->kernel_gpa) {
		snprintf(
			err, errlen,
			"kernel (%llu bytes in memory)%s and device tree do not fit in guest RAM",
			(unsigned long long)footprint,
			initrd_size ? ", initrd" : "");
		return -ENOSPC;
	}
	return 0;
}
