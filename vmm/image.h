/* SPDX-License-Identifier: GPL-2.0 */
/*
 * arm64 Linux Image header and boot placement
 * (Documentation/arch/arm64/booting.rst).
 */
#ifndef NESTBOX_IMAGE_H
#define NESTBOX_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARM64_IMAGE_HEADER_SIZE	 64
#define ARM64_IMAGE_MAGIC	 0x644d5241U /* "ARM\x64", little endian */
#define ARM64_IMAGE_MAGIC_OFFSET 56

#define ARM64_IMAGE_FLAG_BE		 (1ULL << 0)
#define ARM64_IMAGE_FLAG_PAGE_SIZE_SHIFT 1
#define ARM64_IMAGE_FLAG_PAGE_SIZE_MASK	 (3ULL << 1)
#define ARM64_IMAGE_FLAG_PHYS_ANYWHERE	 (1ULL << 3)

/* Kernels before 3.17 have image_size 0 and an implied text_offset. */
#define ARM64_IMAGE_LEGACY_TEXT_OFFSET 0x80000ULL
/* The kernel must sit text_offset bytes above a 2 MiB aligned base. */
#define ARM64_IMAGE_BASE_ALIGN 0x200000ULL
/* booting.rst: the DTB must not exceed 2 MiB and be 8-byte aligned. */
#define ARM64_DTB_MAX_SIZE 0x200000ULL

struct arm64_image {
	uint64_t text_offset;
	uint64_t image_size; /* bytes the kernel occupies, bss included */
	uint64_t flags;
	unsigned int page_size; /* 0 when the header does not say */
};

/*
 * Parse and validate the 64-byte header at @buf (@len bytes available,
 * @file_size the whole file). Returns 0, or -ENOEXEC with a one-line
 * reason in @err.
 */
int arm64_image_parse(const void *buf, size_t len, uint64_t file_size,
		      struct arm64_image *img, char *err, size_t errlen);

struct boot_layout {
	uint64_t kernel_gpa; /* where the Image file is loaded */
	uint64_t kernel_end; /* first byte after the kernel's footprint */
	uint64_t initrd_gpa; /* 0 when there is no initrd */
	uint64_t dtb_gpa;
};

/*
 * Place the kernel, initrd and DTB in RAM [ram_base, ram_base + ram_size):
 * the kernel at the bottom (2 MiB aligned base + text_offset), the DTB in
 * the top 2 MiB, the initrd page-aligned just below it. Returns 0, or
 * -ENOSPC with a reason when they do not fit.
 */
int arm64_boot_layout(const struct arm64_image *img, uint64_t kernel_file_size,
		      uint64_t initrd_size, uint64_t ram_base,
		      uint64_t ram_size, struct boot_layout *out, char *err,
		      size_t errlen);

#endif
