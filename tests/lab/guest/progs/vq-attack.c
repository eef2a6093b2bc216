// SPDX-License-Identifier: GPL-2.0
/*
 * A hostile guest program: take over a virtio-pci device through its BAR
 * (nestbox's layout: everything in BAR 4), reset it, put queue 0 in pages
 * of our own (their guest physical addresses from /proc/self/pagemap),
 * drive it like a driver up to DRIVER_OK, then publish a descriptor chain
 * that loops (0 -> 1 -> 0) and kick. The device must answer with
 * DEVICE_NEEDS_RESET (status bit 64) and nothing else may break.
 *
 * usage: vq-attack PCI_DEVICE_ID (0x1042 is virtio-blk)
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "virtio-pci-regs.h"

#define BAR_SIZE VBAR_SIZE
#define NOTIFY VBAR_NOTIFY
#define QSIZE 16

static volatile uint8_t *bar;

static void w8(unsigned int off, uint8_t v) { *(volatile uint8_t *)(bar + off) = v; }
static void w16(unsigned int off, uint16_t v) { *(volatile uint16_t *)(bar + off) = v; }
static void w32(unsigned int off, uint32_t v) { *(volatile uint32_t *)(bar + off) = v; }
static uint8_t r8(unsigned int off) { return *(volatile uint8_t *)(bar + off); }

static void w64(unsigned int off, uint64_t v)
{
	w32(off, (uint32_t)v);
	w32(off + 4, v >> 32);
}

static int find_device(unsigned long want, char *out, size_t len)
{
	DIR *d = opendir("/sys/bus/pci/devices");
	struct dirent *e;

	while (d && (e = readdir(d))) {
		char p[512], buf[32] = "";
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "/sys/bus/pci/devices/%.64s/device", e->d_name);
		f = fopen(p, "r");
		if (f && fgets(buf, sizeof(buf), f) && strtoul(buf, NULL, 16) == want) {
			fclose(f);
			snprintf(out, len, "/sys/bus/pci/devices/%.64s", e->d_name);
			closedir(d);
			return 0;
		}
		if (f)
			fclose(f);
	}
	if (d)
		closedir(d);
	return -1;
}

/* Guest physical address of a locked user page. */
static uint64_t phys_of(void *va)
{
	long pg = sysconf(_SC_PAGESIZE);
	uint64_t entry = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY);

	if (fd < 0 || pread(fd, &entry, 8, (uintptr_t)va / pg * 8) != 8)
		return 0;
	close(fd);
	if (!(entry & (1ULL << 63)) || !(entry & ((1ULL << 55) - 1)))
		return 0; /* not present, or PFNs hidden */
	return (entry & ((1ULL << 55) - 1)) * pg + (uintptr_t)va % pg;
}

int main(int argc, char **argv)
{
	unsigned long want = argc > 1 ? strtoul(argv[1], NULL, 0) : 0x1042;
	char dev[600], res[700];
	uint8_t *pages;
	uint64_t desc_pa, avail_pa, used_pa, buf_pa;
	volatile uint64_t *desc;
	volatile uint16_t *avail;
	int fd;

	if (find_device(want, dev, sizeof(dev))) {
		printf("NBL2: vq-attack: no device 0x%lx\n", want);
		return 1;
	}
	snprintf(res, sizeof(res), "%s/resource4", dev);
	fd = open(res, O_RDWR | O_SYNC);
	bar = fd < 0 ? MAP_FAILED :
		       mmap(NULL, BAR_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	pages = mmap(NULL, 4 * 4096, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE | MAP_LOCKED, -1, 0);
	if (bar == MAP_FAILED || pages == MAP_FAILED) {
		perror("vq-attack: mmap");
		return 1;
	}
	memset(pages, 0, 4 * 4096);
	desc_pa = phys_of(pages);
	avail_pa = phys_of(pages + 4096);
	used_pa = phys_of(pages + 2 * 4096);
	buf_pa = phys_of(pages + 3 * 4096);
	if (!desc_pa || !avail_pa || !used_pa || !buf_pa) {
		printf("NBL2: vq-attack: no physical addresses\n");
		return 1;
	}

	/* Take the device over from the guest's own driver. */
	w8(C_STATUS, 0);
	while (r8(C_STATUS))
		;
	w8(C_STATUS, S_ACK | S_DRIVER);
	w32(C_GFSELECT, 1);
	w32(C_GF, 1); /* VIRTIO_F_VERSION_1 */
	w32(C_GFSELECT, 0);
	w32(C_GF, 0);
	w8(C_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
	w16(C_Q_SELECT, 0);
	w16(C_Q_SIZE, QSIZE);
	w64(C_Q_DESC, desc_pa);
	w64(C_Q_AVAIL, avail_pa);
	w64(C_Q_USED, used_pa);
	w16(C_Q_ENABLE, 1);
	w8(C_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
	printf("NBL2: vq-attack: %s driven by us, status 0x%x\n", dev, r8(C_STATUS));

	/* 2.7.5 descriptors {le64 addr, le32 len, le16 flags, le16 next}: a loop. */
	desc = (volatile uint64_t *)pages;
	desc[0] = buf_pa;
	desc[1] = 16 | (uint64_t)F_NEXT << 32 | (uint64_t)1 << 48;
	desc[2] = buf_pa + 16;
	desc[3] = 16 | (uint64_t)F_NEXT << 32 | (uint64_t)0 << 48;
	avail = (volatile uint16_t *)(pages + 4096);
	avail[2] = 0; /* ring[0] = head 0 */
	__sync_synchronize();
	avail[1] = 1; /* idx */
	__sync_synchronize();
	w16(NOTIFY, 0);
	usleep(300000);
	printf("NBL2: vq-attack: after a looping chain, status 0x%x\n", r8(C_STATUS));
	return (r8(C_STATUS) & S_NEEDS_RESET) ? 0 : 2;
}
