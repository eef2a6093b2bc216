// SPDX-License-Identifier: GPL-2.0
/*
 * Read (after writing VALUE, if given) one 32-bit word of a PCI function's
 * BAR through sysfs (resourceN): bar-read BDF BAR OFFSET [VALUE]. The
 * function must have no driver holding its BARs.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char path[256];
	unsigned long off;
	volatile uint32_t *p;
	int fd;

	if (argc != 4 && argc != 5) {
		fprintf(stderr, "usage: bar-read BDF BAR OFFSET [VALUE]\n");
		return 2;
	}
	off = strtoul(argv[3], NULL, 0);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource%s",
		 argv[1], argv[2]);
	fd = open(path, (argc == 5 ? O_RDWR : O_RDONLY) | O_SYNC);
	if (fd < 0) {
		perror(path);
		return 1;
	}
	p = mmap(NULL, 4096, PROT_READ | (argc == 5 ? PROT_WRITE : 0),
		 MAP_SHARED, fd, off & ~4095UL);
	if (p == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	if (argc == 5)
		p[(off & 4095) / 4] = (uint32_t)strtoul(argv[4], NULL, 0);
	printf("0x%08X\n", p[(off & 4095) / 4]);
	return 0;
}
