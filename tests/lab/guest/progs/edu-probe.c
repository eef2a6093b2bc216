// SPDX-License-Identifier: GPL-2.0
/*
 * Talk to QEMU's edu device (docs/specs/edu.rst in QEMU) through its BAR 0,
 * mapped from sysfs (resource0), with no kernel driver: identification,
 * the liveness register (reads back the inverse of what was written) and
 * the factorial unit (the device computes in its own thread). In the lab
 * the edu sits in the emulated host and is assigned to L2 by nestbox, so
 * this proves BAR 0 is mapped into L2 and reaches the real device.
 *
 * With --dma-fault IOVA it then turns bus mastering on and starts one DMA
 * from IOVA into the device: with no kernel driver nothing is mapped there
 * in the function's IOMMU domain, so the IOMMU must fault it (the caller
 * looks for the fault in the kernel log).
 *
 * usage: edu-probe [--dma-fault IOVA] [BDF]
 *        (default: the first 1234:11e8 function)
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define EDU_ID	      0x00
#define EDU_LIVENESS  0x04
#define EDU_FACTORIAL 0x08
#define EDU_STATUS    0x20
#define EDU_STATUS_COMPUTING 0x1
#define EDU_DMA_SRC   0x80
#define EDU_DMA_DST   0x88
#define EDU_DMA_COUNT 0x90
#define EDU_DMA_CMD   0x98
#define EDU_DMA_START 0x1
#define EDU_BUFFER    0x40000 /* the device's own 4 KiB buffer */

static int read_hex(const char *dir, const char *file, unsigned int *v)
{
	char path[512];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "r");
	if (!f)
		return -1;
	ok = fscanf(f, "%x", v) == 1;
	fclose(f);
	return ok ? 0 : -1;
}

static int find_edu(char *bdf, size_t len)
{
	DIR *d = opendir("/sys/bus/pci/devices");
	struct dirent *e;
	int found = -1;

	if (!d)
		return -1;
	while ((e = readdir(d))) {
		char dir[512];
		unsigned int ven, dev;

		if (e->d_name[0] == '.')
			continue;
		snprintf(dir, sizeof(dir), "/sys/bus/pci/devices/%s", e->d_name);
		if (!read_hex(dir, "vendor", &ven) &&
		    !read_hex(dir, "device", &dev) && ven == 0x1234 &&
		    dev == 0x11e8) {
			snprintf(bdf, len, "%s", e->d_name);
			found = 0;
			break;
		}
	}
	closedir(d);
	return found;
}

static uint32_t rd(volatile uint8_t *b, unsigned int off)
{
	return *(volatile uint32_t *)(b + off);
}

static void wr(volatile uint8_t *b, unsigned int off, uint32_t v)
{
	*(volatile uint32_t *)(b + off) = v;
}

/* Command register: memory decoding and bus mastering on. */
static int enable_master(const char *bdf)
{
	char path[512];
	uint16_t cmd;
	int fd;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", bdf);
	fd = open(path, O_RDWR);
	if (fd < 0 || pread(fd, &cmd, 2, 4) != 2)
		return -1;
	cmd |= 0x6;
	if (pwrite(fd, &cmd, 2, 4) != 2)
		return -1;
	close(fd);
	return 0;
}

static int dma_fault(volatile uint8_t *bar, const char *bdf, uint64_t iova)
{
	int i;

	if (enable_master(bdf)) {
		printf("edu-probe: FAIL cannot enable bus mastering\n");
		return 1;
	}
	*(volatile uint64_t *)(bar + EDU_DMA_SRC) = iova;
	*(volatile uint64_t *)(bar + EDU_DMA_DST) = EDU_BUFFER;
	*(volatile uint64_t *)(bar + EDU_DMA_COUNT) = 64;
	*(volatile uint64_t *)(bar + EDU_DMA_CMD) = EDU_DMA_START;
	for (i = 0; i < 5000 && (rd(bar, EDU_DMA_CMD) & EDU_DMA_START); i++)
		usleep(1000);
	printf("edu-probe: dma from unmapped IOVA 0x%llx issued (%s)\n",
	       (unsigned long long)iova,
	       rd(bar, EDU_DMA_CMD) & EDU_DMA_START ? "still running"
						    : "finished");
	return 0;
}

int main(int argc, char **argv)
{
	char bdf[256], path[512];
	volatile uint8_t *bar;
	uint64_t fault_iova = 0;
	bool fault = false;
	uint32_t id, v;
	int fd, i;

	if (argc > 2 && !strcmp(argv[1], "--dma-fault")) {
		fault = true;
		fault_iova = strtoull(argv[2], NULL, 0);
		argv += 2;
		argc -= 2;
	}
	if (argc > 1)
		snprintf(bdf, sizeof(bdf), "%s", argv[1]);
	else if (find_edu(bdf, sizeof(bdf))) {
		printf("edu-probe: FAIL no edu device (1234:11e8)\n");
		return 1;
	}
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/enable", bdf);
	fd = open(path, O_WRONLY);
	if (fd >= 0) {
		/* Memory decoding on, as a driver's pci_enable_device would. */
		if (write(fd, "1", 1) != 1)
			perror("enable");
		close(fd);
	}
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource0", bdf);
	fd = open(path, O_RDWR | O_SYNC);
	if (fd < 0) {
		printf("edu-probe: FAIL open %s\n", path);
		return 1;
	}
	bar = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (bar == MAP_FAILED) {
		printf("edu-probe: FAIL mmap %s\n", path);
		return 1;
	}
	id = rd(bar, EDU_ID);
	printf("edu-probe: %s id 0x%08x\n", bdf, id);
	if ((id & 0xff) != 0xed) {
		printf("edu-probe: FAIL not an edu identification\n");
		return 1;
	}
	for (i = 0; i < 3; i++) {
		uint32_t x = 0x12345678u * (i + 1);

		wr(bar, EDU_LIVENESS, x);
		v = rd(bar, EDU_LIVENESS);
		if (v != ~x) {
			printf("edu-probe: FAIL liveness 0x%08x -> 0x%08x\n", x,
			       v);
			return 1;
		}
	}
	printf("edu-probe: liveness ok\n");
	wr(bar, EDU_FACTORIAL, 10);
	for (i = 0; i < 5000 && (rd(bar, EDU_STATUS) & EDU_STATUS_COMPUTING);
	     i++)
		usleep(1000);
	v = rd(bar, EDU_FACTORIAL);
	printf("edu-probe: factorial(10) = %u\n", v);
	if (v != 3628800) {
		printf("edu-probe: FAIL factorial\n");
		return 1;
	}
	if (fault && dma_fault(bar, bdf, fault_iova))
		return 1;
	printf("edu-probe: ok\n");
	return 0;
}
