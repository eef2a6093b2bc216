/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the lab's userspace VFIO drivers (viommu-dma.c, edu-vfio.c) share:
 * handing a PCI function to vfio-pci through sysfs, finding its VFIO cdev,
 * binding it to an iommufd IOAS, IOAS map/unmap, VFIO region access and the
 * kernel log after a fault. Every program in this directory is built alone
 * (one static binary per .c), so this is a header of static functions.
 *
 * The includer defines PROG (the prefix of every line printed) first.
 * Failures end the program: one line on stderr naming the call, exit 1.
 */
#ifndef NESTBOX_LAB_VFIO_LIB_H
#define NESTBOX_LAB_VFIO_LIB_H

#ifndef PROG
#error "define PROG before including vfio-lib.h"
#endif
#ifndef _GNU_SOURCE
#error "define _GNU_SOURCE before the first #include (strcasestr)"
#endif

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>
#include <linux/types.h>
#include <linux/vfio.h>

/*
 * The cross toolchain ships Linux 6.1 uapi headers: no iommufd.h and no
 * VFIO cdev ioctls. nestbox's own compat header has their ABI facts.
 */
#include "../../../../iommu/uapi_iommufd.h"

#define VFIO_LIB_PAGE		 4096UL
#define VFIO_LIB_MAX_RANGES	 32
#define VFIO_LIB_BIND_TIMEOUT_MS 2000
#define VFIO_LIB_DMESG_LINES	 5

/* PCI 3.0 configuration header */
#define PCI_CFG_COMMAND	    0x04
#define PCI_CMD_MEMORY	    (1 << 1)
#define PCI_CMD_BUS_MASTER  (1 << 2)
#define PCI_CFG_STATUS	    0x06
#define PCI_STATUS_CAP_LIST (1 << 4)
#define PCI_CFG_CAP_PTR	    0x34

/* An iommufd with one IOAS and the IOVA ranges it allows. */
struct iommufd_ioas {
	int fd;
	uint32_t id;
	struct iommu_iova_range ranges[VFIO_LIB_MAX_RANGES];
	unsigned int nr_ranges;
};

static inline void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static inline void die_errno(const char *what)
{
	die("%s: %s", what, strerror(errno));
}

static inline void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static inline double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- sysfs: hand the device to vfio-pci ---- */

static inline int sysfs_write(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	close(fd);
	return n < 0 ? -errno : 0;
}

static inline int sysfs_read(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	return 0;
}

static inline unsigned long sysfs_read_hex(const char *dev, const char *attr)
{
	char path[512], buf[32];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", dev, attr);
	if (sysfs_read(path, buf, sizeof(buf)))
		return ~0UL;
	return strtoul(buf, NULL, 16);
}

/* The first PCI function with this vendor:device; 0 when found. */
static inline int pci_find_device(unsigned int vendor, unsigned int device,
				  char *bdf, size_t len)
{
	DIR *d = opendir("/sys/bus/pci/devices");
	struct dirent *e;
	int found = 0;

	if (!d)
		die_errno("opendir /sys/bus/pci/devices");
	while (!found && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (sysfs_read_hex(e->d_name, "vendor") == vendor &&
		    sysfs_read_hex(e->d_name, "device") == device) {
			snprintf(bdf, len, "%.63s", e->d_name);
			found = 1;
		}
	}
	closedir(d);
	return found ? 0 : -1;
}

static inline void bind_vfio_pci(const char *bdf)
{
	char path[512], link[512];
	ssize_t n;
	int err;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n > 0) {
		link[n] = 0;
		if (strstr(link, "/vfio-pci"))
			return;
		printf(PROG ": %s: unbinding from %s\n", bdf,
		       strrchr(link, '/') + 1);
	}
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override",
		 bdf);
	err = sysfs_write(path, "vfio-pci");
	if (err)
		die("write %s: %s", path, strerror(-err));
	if (n > 0) {
		snprintf(path, sizeof(path),
			 "/sys/bus/pci/devices/%s/driver/unbind", bdf);
		err = sysfs_write(path, bdf);
		if (err)
			die("write %s: %s", path, strerror(-err));
	}
	err = sysfs_write("/sys/bus/pci/drivers_probe", bdf);
	if (err)
		die("write /sys/bus/pci/drivers_probe: %s", strerror(-err));
}

/* /sys/bus/pci/devices/BDF/vfio-dev/vfioN -> /dev/vfio/devices/vfioN */
static inline void find_cdev(const char *bdf, char *node, size_t len)
{
	char path[512], buf[32];
	struct dirent *e;
	unsigned int maj, min;
	int waited;
	DIR *d = NULL;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vfio-dev", bdf);
	for (waited = 0; !(d = opendir(path)); waited += 10) {
		if (waited >= VFIO_LIB_BIND_TIMEOUT_MS)
			die("%s: no vfio-dev after binding to vfio-pci "
			    "(CONFIG_VFIO_DEVICE_CDEV?)",
			    bdf);
		sleep_ms(10);
	}
	node[0] = 0;
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, "vfio", 4)) {
			snprintf(node, len, "/dev/vfio/devices/%.200s",
				 e->d_name);
			snprintf(path, sizeof(path),
				 "/sys/bus/pci/devices/%s/vfio-dev/%s/dev", bdf,
				 e->d_name);
			break;
		}
	closedir(d);
	if (!node[0])
		die("%s: vfio-dev has no vfioN", bdf);
	if (access(node, F_OK) == 0)
		return;
	/* No devtmpfs: make the node from the sysfs dev file. */
	if (sysfs_read(path, buf, sizeof(buf)) ||
	    sscanf(buf, "%u:%u", &maj, &min) != 2)
		die("cannot read %s", path);
	mkdir("/dev/vfio", 0755);
	mkdir("/dev/vfio/devices", 0755);
	if (mknod(node, S_IFCHR | 0600, makedev(maj, min)))
		die_errno(node);
}

/* ---- VFIO region access (little-endian, as PCI is) ---- */

static inline uint32_t region_read(int fd, uint64_t off, unsigned int width,
				   const char *what)
{
	uint8_t b[4];

	if (pread(fd, b, width, off) != (ssize_t)width)
		die("pread %s at 0x%llx: %s", what, (unsigned long long)off,
		    strerror(errno));
	switch (width) {
	case 1:
		return b[0];
	case 2:
		return b[0] | b[1] << 8;
	default:
		return b[0] | b[1] << 8 | b[2] << 16 | (uint32_t)b[3] << 24;
	}
}

static inline void region_write(int fd, uint64_t off, unsigned int width,
				uint32_t val, const char *what)
{
	uint8_t b[4] = { val, val >> 8, val >> 16, val >> 24 };

	if (pwrite(fd, b, width, off) != (ssize_t)width)
		die("pwrite %s at 0x%llx: %s", what, (unsigned long long)off,
		    strerror(errno));
}

static inline void region_info(int fd, unsigned int index, uint64_t *offset,
			       uint64_t *size)
{
	struct vfio_region_info ri = { .argsz = sizeof(ri), .index = index };

	if (ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, &ri))
		die_errno("VFIO_DEVICE_GET_REGION_INFO");
	*offset = ri.offset;
	*size = ri.size;
}

/* ---- iommufd ---- */

/*
 * Open the cdev, bind it to a new iommufd, allocate an IOAS and attach the
 * device to it. Returns the device fd.
 */
static inline int vfio_cdev_attach_ioas(const char *node,
					struct iommufd_ioas *ioas)
{
	int fd;

	ioas->fd = open("/dev/iommu", O_RDWR);
	if (ioas->fd < 0)
		die_errno("open /dev/iommu");
	fd = open(node, O_RDWR);
	if (fd < 0)
		die_errno(node);
	struct vfio_device_bind_iommufd bind = {
		.argsz = sizeof(bind),
		.iommufd = ioas->fd,
	};
	if (ioctl(fd, VFIO_DEVICE_BIND_IOMMUFD, &bind))
		die_errno("VFIO_DEVICE_BIND_IOMMUFD");
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	if (ioctl(ioas->fd, IOMMU_IOAS_ALLOC, &alloc))
		die_errno("IOMMU_IOAS_ALLOC");
	ioas->id = alloc.out_ioas_id;
	struct vfio_device_attach_iommufd_pt attach = {
		.argsz = sizeof(attach),
		.pt_id = ioas->id,
	};
	if (ioctl(fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach))
		die_errno("VFIO_DEVICE_ATTACH_IOMMUFD_PT");
	printf(PROG ": bound: devid %u, IOAS %u, attached pt %u\n",
	       bind.out_devid, ioas->id, attach.pt_id);
	return fd;
}

static inline int iova_allowed(const struct iommufd_ioas *ioas, uint64_t iova,
			       uint64_t len)
{
	unsigned int i;

	for (i = 0; i < ioas->nr_ranges; i++)
		if (iova >= ioas->ranges[i].start &&
		    iova + len - 1 <= ioas->ranges[i].last)
			return 1;
	return 0;
}

static inline void ioas_map(const struct iommufd_ioas *ioas, void *va,
			    uint64_t len, uint64_t iova)
{
	struct iommu_ioas_map map = {
		.size = sizeof(map),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = ioas->id,
		.user_va = (uintptr_t)va,
		.length = len,
		.iova = iova,
	};

	if (ioctl(ioas->fd, IOMMU_IOAS_MAP, &map))
		die_errno("IOMMU_IOAS_MAP");
}

static inline void ioas_unmap(const struct iommufd_ioas *ioas, uint64_t iova,
			      uint64_t len)
{
	struct iommu_ioas_unmap unmap = {
		.size = sizeof(unmap),
		.ioas_id = ioas->id,
		.iova = iova,
		.length = len,
	};

	if (ioctl(ioas->fd, IOMMU_IOAS_UNMAP, &unmap))
		die_errno("IOMMU_IOAS_UNMAP");
	if (unmap.length != len)
		die("IOMMU_IOAS_UNMAP: unmapped 0x%llx bytes, expected 0x%llx",
		    (unsigned long long)unmap.length, (unsigned long long)len);
}

/* Read the IOAS's allowed IOVA ranges into ioas->ranges and print them. */
static inline void ioas_print_iova_ranges(struct iommufd_ioas *ioas)
{
	struct iommu_ioas_iova_ranges r = {
		.size = sizeof(r),
		.ioas_id = ioas->id,
		.num_iovas = VFIO_LIB_MAX_RANGES,
		.allowed_iovas = (uintptr_t)ioas->ranges,
	};
	unsigned int i;

	if (ioctl(ioas->fd, IOMMU_IOAS_IOVA_RANGES, &r))
		die_errno("IOMMU_IOAS_IOVA_RANGES");
	ioas->nr_ranges = r.num_iovas;
	printf(PROG ": IOAS %u: %u allowed IOVA range(s), alignment 0x%llx\n",
	       ioas->id, ioas->nr_ranges,
	       (unsigned long long)r.out_iova_alignment);
	for (i = 0; i < ioas->nr_ranges; i++)
		printf(PROG ":   0x%016llx-0x%016llx\n",
		       (unsigned long long)ioas->ranges[i].start,
		       (unsigned long long)ioas->ranges[i].last);
}

static inline void *alloc_pages(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die_errno("mmap");
	memset(p, 0, len); /* fault the pages in before they are pinned */
	return p;
}

/* ---- after a fault: what the kernel said ---- */

/* The last kernel log lines that mention a fault or an event. */
static inline void print_fault_log(void)
{
	static char lines[VFIO_LIB_DMESG_LINES][512];
	unsigned int count = 0, i;
	char rec[8192];
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);

	if (fd < 0) {
		printf(PROG ": cannot open /dev/kmsg: %s\n", strerror(errno));
		return;
	}
	for (;;) {
		ssize_t n = read(fd, rec, sizeof(rec) - 1);
		char *msg, *end;

		if (n < 0 && errno == EPIPE)
			continue; /* a record was overwritten: go on */
		if (n <= 0)
			break;
		rec[n] = 0;
		msg = strchr(rec, ';');
		if (!msg)
			continue;
		msg++;
		end = strchr(msg, '\n');
		if (end)
			*end = 0;
		if (!strcasestr(msg, "fault") && !strcasestr(msg, "event"))
			continue;
		snprintf(lines[count % VFIO_LIB_DMESG_LINES], sizeof(lines[0]),
			 "%s", msg);
		count++;
	}
	close(fd);
	if (!count)
		printf(PROG ": dmesg: no line with \"fault\" or \"event\"\n");
	for (i = count > VFIO_LIB_DMESG_LINES ? count - VFIO_LIB_DMESG_LINES
					      : 0;
	     i < count; i++)
		printf(PROG ": dmesg: %s\n", lines[i % VFIO_LIB_DMESG_LINES]);
}

#endif /* NESTBOX_LAB_VFIO_LIB_H */
