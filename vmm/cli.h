/* SPDX-License-Identifier: GPL-2.0 */
#ifndef NESTBOX_CLI_H
#define NESTBOX_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum console_kind { CONSOLE_STDIO, CONSOLE_NONE, CONSOLE_FILE };
/* Where a virtio device sits: root PCIe bus, behind the PCIe-to-PCI bridge, MMIO. */
enum transport_kind { TRANSPORT_PCI, TRANSPORT_MMIO, TRANSPORT_PCI_BRIDGE };

/* The vIOMMU in front of the emulated devices (--iommu). */
enum iommu_kind { IOMMU_NONE, IOMMU_VIRTIO, IOMMU_SMMUV3 };

#define CLI_MAX_DISKS 16
#define CLI_MAX_NETS  8
#define CLI_MAX_VFIO  8

struct vm_config {
	const char *kernel;
	/* --payload: a flat binary started at payload_addr, DTB in x0 */
	const char *payload;
	uint64_t payload_addr; /* 0: the bottom of RAM */
	size_t payload_name_len; /* the file name is payload[0..len) */
	bool testdev;	       /* --testdev: the latency test device */
	const char *initrd;
	const char *cmdline;
	unsigned int cpus;
	uint64_t mem_size;
	enum console_kind console;
	const char *console_path; /* CONSOLE_FILE */
	const char *dump_dtb;	  /* write the generated DTB here */
	int verbose;
	bool rng;
	enum transport_kind rng_transport;
	const char
		*disks[CLI_MAX_DISKS]; /* --disk values, parsed by virtio-blk */
	unsigned int nr_disks;
	const char *nets[CLI_MAX_NETS]; /* --net values, parsed by virtio-net */
	unsigned int nr_nets;
	bool virtio_console; /* host console on virtio-console, not the UART */
	enum transport_kind virtio_console_transport;
	/* iommu= of --rng and --virtio-console: -1 unset, 0 off, 1 on */
	int rng_iommu, virtio_console_iommu;

	const char *vfio[CLI_MAX_VFIO]; /* --vfio values, parsed by vm.c */
	unsigned int nr_vfio;

	enum iommu_kind iommu;
	enum transport_kind iommu_transport; /* PCI (root bus) or MMIO */
	bool iommu_bypass; /* unattached endpoints bypass (default on) */
	bool smmu_wired;   /* smmuv3: wired SPIs only, no MSIs (irq=wired) */
};

enum cli_command { CLI_ERROR = -1, CLI_RUN, CLI_HELP, CLI_VERSION };

#define CLI_DEFAULT_CPUS 1
#define CLI_DEFAULT_MEM	 (512ULL << 20)
/* Longest kernel command line an arm64 Linux accepts (COMMAND_LINE_SIZE). */
#define CLI_CMDLINE_MAX 2048

/*
 * Parse argv. On CLI_ERROR, @err holds one line that says what was wrong.
 * Strings in @cfg point into argv.
 */
enum cli_command cli_parse(int argc, char **argv, struct vm_config *cfg,
			   char *err, size_t errlen);

/*
 * Parse a size such as "512M", "2G", "1536K" or "4096" (a bare number is
 * MiB, as QEMU reads it). Suffixes are binary (K = 1024) and may be followed
 * by "B" or "iB". Returns 0 or -EINVAL/-ERANGE.
 */
int cli_parse_size(const char *s, uint64_t *out);

/* Format a byte count for messages: "512M", "1.5G", "4096". */
void cli_format_size(uint64_t bytes, char *buf, size_t len);

extern const char cli_usage[];

#endif
