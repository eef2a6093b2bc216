// SPDX-License-Identifier: GPL-2.0
/*
 * Drive a modern virtio-rng PCI device from userspace through VFIO cdev +
 * iommufd, so that every DMA the device does goes through the IOMMU of the
 * machine this runs in: QEMU's SMMUv3 in the lab's L1 host (the reference),
 * nestbox's virtio-iommu in an L2 guest.
 *
 *   viommu-dma [--bdf DDDD:BB:DD.F] [--bench N] [--fault]
 *
 * Steps: bind the device to vfio-pci, bind its cdev to an iommufd IOAS, map
 * the rings and a data page at fixed IOVAs, initialise the device like a
 * driver (virtio 1.2, 3.1.1), read 4 KiB of entropy. --fault then unmaps the
 * data page and posts it again (the device's DMA must fault); --bench N
 * measures IOAS_MAP/IOAS_UNMAP throughput. Exit 0 when the read worked, 1 on
 * any failure (one line on stderr naming the call), 2 on a usage error.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <endian.h>
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
 * VFIO cdev ioctls. These are copied from the Linux uapi
 * (include/uapi/linux/iommufd.h and vfio.h); the numbers are ABI.
 */
#ifndef IOMMUFD_TYPE
#define IOMMUFD_TYPE (';')
#endif
#define IOMMUFD_CMD_IOAS_ALLOC	     0x81
#define IOMMUFD_CMD_IOAS_IOVA_RANGES 0x84
#define IOMMUFD_CMD_IOAS_MAP	     0x85
#define IOMMUFD_CMD_IOAS_UNMAP	     0x86

#ifndef IOMMU_IOAS_ALLOC
struct iommu_ioas_alloc {
	__u32 size;
	__u32 flags;
	__u32 out_ioas_id;
};
#define IOMMU_IOAS_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_ALLOC)
#endif

#ifndef IOMMU_IOAS_IOVA_RANGES
struct iommu_iova_range {
	__aligned_u64 start;
	__aligned_u64 last; /* inclusive */
};

struct iommu_ioas_iova_ranges {
	__u32 size;
	__u32 ioas_id;
	__u32 num_iovas;
	__u32 __reserved;
	__aligned_u64 allowed_iovas;
	__aligned_u64 out_iova_alignment;
};
#define IOMMU_IOAS_IOVA_RANGES _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_IOVA_RANGES)
#endif

#ifndef IOMMU_IOAS_MAP
enum iommufd_ioas_map_flags {
	IOMMU_IOAS_MAP_FIXED_IOVA = 1 << 0,
	IOMMU_IOAS_MAP_WRITEABLE = 1 << 1,
	IOMMU_IOAS_MAP_READABLE = 1 << 2,
};

struct iommu_ioas_map {
	__u32 size;
	__u32 flags;
	__u32 ioas_id;
	__u32 __reserved;
	__aligned_u64 user_va;
	__aligned_u64 length;
	__aligned_u64 iova;
};
#define IOMMU_IOAS_MAP _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_MAP)
#endif

#ifndef IOMMU_IOAS_UNMAP
struct iommu_ioas_unmap {
	__u32 size;
	__u32 ioas_id;
	__aligned_u64 iova;
	__aligned_u64 length;
};
#define IOMMU_IOAS_UNMAP _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_UNMAP)
#endif

#ifndef VFIO_DEVICE_BIND_IOMMUFD
/* token_uuid_ptr came later; the kernel's minimum size ends at out_devid. */
struct vfio_device_bind_iommufd {
	__u32 argsz;
	__u32 flags;
	__s32 iommufd;
	__u32 out_devid;
};
#define VFIO_DEVICE_BIND_IOMMUFD _IO(VFIO_TYPE, VFIO_BASE + 18)
#endif

#ifndef VFIO_DEVICE_ATTACH_IOMMUFD_PT
/* pasid came later; the kernel's minimum size ends at pt_id. */
struct vfio_device_attach_iommufd_pt {
	__u32 argsz;
	__u32 flags;
	__u32 pt_id;
};
#define VFIO_DEVICE_ATTACH_IOMMUFD_PT _IO(VFIO_TYPE, VFIO_BASE + 19)
#endif

#define PROG "viommu-dma"

#define VIRTIO_VENDOR_ID  0x1af4
#define VIRTIO_RNG_PCI_ID 0x1044 /* virtio 1.2, 4.1.2.1: 0x1040 + 4 */

#define PAGE 4096UL

/* IOVAs of our choice, below the SMMU's software MSI window (0x8000000). */
#define IOVA_RINGS	  0x100000UL
#define IOVA_DATA	  0x200000UL
#define IOVA_BENCH_SINGLE 0x1000000UL
#define IOVA_BENCH_BATCH  0x2000000UL
#define BENCH_BATCH_PAGES 64

/* PCI 3.0 configuration header */
#define PCI_CFG_COMMAND	    0x04
#define PCI_CMD_MEMORY	    (1 << 1)
#define PCI_CMD_BUS_MASTER  (1 << 2)
#define PCI_CFG_STATUS	    0x06
#define PCI_STATUS_CAP_LIST (1 << 4)
#define PCI_CFG_CAP_PTR	    0x34
#define PCI_CAP_ID_VENDOR   0x09
#define PCI_CAP_WALK_LIMIT  48 /* 192 bytes of capabilities, 4 each at least */

/* virtio 1.2, 4.1.4: struct virtio_pci_cap and its cfg_type values */
#define VPCI_CAP_CFG_TYPE    0x03
#define VPCI_CAP_BAR	     0x04
#define VPCI_CAP_OFFSET	     0x08
#define VPCI_CAP_LENGTH	     0x0c
#define VPCI_CAP_NOTIFY_MULT 0x10 /* 4.1.4.4: virtio_pci_notify_cap */
#define VPCI_CAP_COMMON	     1
#define VPCI_CAP_NOTIFY	     2
#define VPCI_CAP_ISR	     3
#define VPCI_CAP_DEVICE	     4
#define VPCI_BAR_COUNT	     6

/* virtio 1.2, 4.1.4.3: struct virtio_pci_common_cfg */
#define COMMON_DFSELECT	  0x00
#define COMMON_DF	  0x04
#define COMMON_GFSELECT	  0x08
#define COMMON_GF	  0x0c
#define COMMON_NUM_QUEUES 0x12
#define COMMON_STATUS	  0x14
#define COMMON_Q_SELECT	  0x16
#define COMMON_Q_SIZE	  0x18
#define COMMON_Q_ENABLE	  0x1c
#define COMMON_Q_NOFF	  0x1e
#define COMMON_Q_DESC	  0x20
#define COMMON_Q_DRIVER	  0x28
#define COMMON_Q_DEVICE	  0x30
#define COMMON_MIN_LEN	  0x38

/* virtio 1.2, 2.1: device status bits */
#define STATUS_ACK	   1
#define STATUS_DRIVER	   2
#define STATUS_DRIVER_OK   4
#define STATUS_FEATURES_OK 8

/* virtio 1.2, 6: reserved feature bits we require and accept */
#define F_VERSION_1	  (1ULL << 32)
#define F_ACCESS_PLATFORM (1ULL << 33)

/* virtio 1.2, 2.7: split virtqueue */
#define QUEUE_MAX	     16
#define DESC_F_WRITE	     2
#define AVAIL_F_NO_INTERRUPT 1
#define RING_DESC_OFF	     0x000 /* 16 bytes x 16 */
#define RING_AVAIL_OFF	     0x100 /* 6 + 2 x 16 bytes */
#define RING_USED_OFF	     0x200 /* 6 + 8 x 16 bytes */

#define RESET_TIMEOUT_MS 1000
#define READ_TIMEOUT_MS	 5000
#define FAULT_TIMEOUT_MS 2000
#define BIND_TIMEOUT_MS	 2000
#define DMESG_LINES	 5

struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct virtio_region {
	int present;
	unsigned int bar;
	uint32_t offset;
	uint32_t length;
};

struct vfio_dev {
	int fd;
	uint64_t config_offset;
	uint64_t bar_offset[VPCI_BAR_COUNT];
	uint64_t bar_size[VPCI_BAR_COUNT];
	struct virtio_region common, notify, isr, device;
	uint32_t notify_multiplier;
};

static int iommufd = -1;
static uint32_t ioas_id;
static struct iommu_iova_range ranges[32];
static unsigned int nr_ranges;

static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void die_errno(const char *what)
{
	die("%s: %s", what, strerror(errno));
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- sysfs: hand the device to vfio-pci ---- */

static int sysfs_write(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	close(fd);
	return n < 0 ? -errno : 0;
}

static int sysfs_read(const char *path, char *buf, size_t len)
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

static unsigned long sysfs_read_hex(const char *dev, const char *attr)
{
	char path[512], buf[32];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", dev, attr);
	if (sysfs_read(path, buf, sizeof(buf)))
		return ~0UL;
	return strtoul(buf, NULL, 16);
}

static int find_rng(char *bdf, size_t len)
{
	DIR *d = opendir("/sys/bus/pci/devices");
	struct dirent *e;
	int found = 0;

	if (!d)
		die_errno("opendir /sys/bus/pci/devices");
	while (!found && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (sysfs_read_hex(e->d_name, "vendor") == VIRTIO_VENDOR_ID &&
		    sysfs_read_hex(e->d_name, "device") == VIRTIO_RNG_PCI_ID) {
			snprintf(bdf, len, "%.63s", e->d_name);
			found = 1;
		}
	}
	closedir(d);
	return found ? 0 : -1;
}

static void bind_vfio_pci(const char *bdf)
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
static void find_cdev(const char *bdf, char *node, size_t len)
{
	char path[512], buf[32];
	struct dirent *e;
	unsigned int maj, min;
	int waited;
	DIR *d = NULL;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vfio-dev", bdf);
	for (waited = 0; !(d = opendir(path)); waited += 10) {
		if (waited >= BIND_TIMEOUT_MS)
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

/* ---- VFIO region access ---- */

static uint32_t region_read(int fd, uint64_t off, unsigned int width,
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

static void region_write(int fd, uint64_t off, unsigned int width, uint32_t val,
			 const char *what)
{
	uint8_t b[4] = { val, val >> 8, val >> 16, val >> 24 };

	if (pwrite(fd, b, width, off) != (ssize_t)width)
		die("pwrite %s at 0x%llx: %s", what, (unsigned long long)off,
		    strerror(errno));
}

static uint32_t cfg_read(struct vfio_dev *vd, unsigned int off,
			 unsigned int width)
{
	return region_read(vd->fd, vd->config_offset + off, width,
			   "config space");
}

static uint64_t virtio_addr(struct vfio_dev *vd, struct virtio_region *r,
			    unsigned int off)
{
	return vd->bar_offset[r->bar] + r->offset + off;
}

static uint32_t common_read(struct vfio_dev *vd, unsigned int off,
			    unsigned int width)
{
	return region_read(vd->fd, virtio_addr(vd, &vd->common, off), width,
			   "common cfg");
}

static void common_write(struct vfio_dev *vd, unsigned int off,
			 unsigned int width, uint32_t val)
{
	region_write(vd->fd, virtio_addr(vd, &vd->common, off), width, val,
		     "common cfg");
}

/* virtio 1.2, 4.1.3.1: 64-bit fields may be written as two 32-bit halves */
static void common_write64(struct vfio_dev *vd, unsigned int off, uint64_t val)
{
	common_write(vd, off, 4, (uint32_t)val);
	common_write(vd, off + 4, 4, val >> 32);
}

static void region_info(struct vfio_dev *vd, unsigned int index,
			uint64_t *offset, uint64_t *size)
{
	struct vfio_region_info ri = { .argsz = sizeof(ri), .index = index };

	if (ioctl(vd->fd, VFIO_DEVICE_GET_REGION_INFO, &ri))
		die_errno("VFIO_DEVICE_GET_REGION_INFO");
	*offset = ri.offset;
	*size = ri.size;
}

static const char *cap_name(unsigned int type)
{
	switch (type) {
	case VPCI_CAP_COMMON:
		return "common";
	case VPCI_CAP_NOTIFY:
		return "notify";
	case VPCI_CAP_ISR:
		return "isr";
	case VPCI_CAP_DEVICE:
		return "device";
	}
	return "?";
}

/* virtio 1.2, 4.1.4: walk the capability list for the virtio structures. */
static void find_virtio_caps(struct vfio_dev *vd)
{
	uint64_t cfg_size;
	unsigned int pos, i;

	region_info(vd, VFIO_PCI_CONFIG_REGION_INDEX, &vd->config_offset,
		    &cfg_size);
	if (!(cfg_read(vd, PCI_CFG_STATUS, 2) & PCI_STATUS_CAP_LIST))
		die("device has no capability list");
	pos = cfg_read(vd, PCI_CFG_CAP_PTR, 1) & ~3u;
	for (i = 0; pos && i < PCI_CAP_WALK_LIMIT; i++) {
		unsigned int id = cfg_read(vd, pos, 1);
		unsigned int next = cfg_read(vd, pos + 1, 1) & ~3u;
		struct virtio_region *r = NULL;
		unsigned int type;

		if (pos + VPCI_CAP_LENGTH + 4 > cfg_size)
			die("capability at 0x%x runs past config space", pos);
		if (id != PCI_CAP_ID_VENDOR)
			goto next;
		type = cfg_read(vd, pos + VPCI_CAP_CFG_TYPE, 1);
		switch (type) {
		case VPCI_CAP_COMMON:
			r = &vd->common;
			break;
		case VPCI_CAP_NOTIFY:
			r = &vd->notify;
			vd->notify_multiplier =
				cfg_read(vd, pos + VPCI_CAP_NOTIFY_MULT, 4);
			break;
		case VPCI_CAP_ISR:
			r = &vd->isr;
			break;
		case VPCI_CAP_DEVICE:
			r = &vd->device;
			break;
		}
		/* 4.1.4: the driver uses the first of each type it can use */
		if (!r || r->present)
			goto next;
		r->bar = cfg_read(vd, pos + VPCI_CAP_BAR, 1);
		if (r->bar >= VPCI_BAR_COUNT)
			goto next; /* reserved BAR values: skip, as 4.1.4 asks
				    */
		r->offset = cfg_read(vd, pos + VPCI_CAP_OFFSET, 4);
		r->length = cfg_read(vd, pos + VPCI_CAP_LENGTH, 4);
		r->present = 1;
		printf(PROG ": cap %-6s bar=%u offset=0x%x length=0x%x",
		       cap_name(type), r->bar, r->offset, r->length);
		if (type == VPCI_CAP_NOTIFY)
			printf(" notify_off_multiplier=%u",
			       vd->notify_multiplier);
		printf("\n");
	next:
		pos = next;
	}
	if (!vd->common.present || !vd->notify.present)
		die("no virtio common or notify capability: not a modern virtio device");
	if (vd->common.length < COMMON_MIN_LEN)
		die("common cfg too short (0x%x)", vd->common.length);

	for (i = 0; i < VPCI_BAR_COUNT; i++)
		region_info(vd, VFIO_PCI_BAR0_REGION_INDEX + i,
			    &vd->bar_offset[i], &vd->bar_size[i]);
	struct virtio_region *all[] = { &vd->common, &vd->notify, &vd->isr,
					&vd->device };
	for (i = 0; i < 4; i++)
		if (all[i]->present &&
		    (uint64_t)all[i]->offset + all[i]->length >
			    vd->bar_size[all[i]->bar])
			die("virtio structure at bar %u 0x%x+0x%x lies outside the BAR (0x%llx)",
			    all[i]->bar, all[i]->offset, all[i]->length,
			    (unsigned long long)vd->bar_size[all[i]->bar]);
}

/* ---- iommufd ---- */

static int iova_allowed(uint64_t iova, uint64_t len)
{
	unsigned int i;

	for (i = 0; i < nr_ranges; i++)
		if (iova >= ranges[i].start && iova + len - 1 <= ranges[i].last)
			return 1;
	return 0;
}

static void ioas_map(void *va, uint64_t len, uint64_t iova)
{
	struct iommu_ioas_map map = {
		.size = sizeof(map),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = ioas_id,
		.user_va = (uintptr_t)va,
		.length = len,
		.iova = iova,
	};

	if (ioctl(iommufd, IOMMU_IOAS_MAP, &map))
		die_errno("IOMMU_IOAS_MAP");
}

static void ioas_unmap(uint64_t iova, uint64_t len)
{
	struct iommu_ioas_unmap unmap = {
		.size = sizeof(unmap),
		.ioas_id = ioas_id,
		.iova = iova,
		.length = len,
	};

	if (ioctl(iommufd, IOMMU_IOAS_UNMAP, &unmap))
		die_errno("IOMMU_IOAS_UNMAP");
	if (unmap.length != len)
		die("IOMMU_IOAS_UNMAP: unmapped 0x%llx bytes, expected 0x%llx",
		    (unsigned long long)unmap.length, (unsigned long long)len);
}

static void print_iova_ranges(void)
{
	struct iommu_ioas_iova_ranges r = {
		.size = sizeof(r),
		.ioas_id = ioas_id,
		.num_iovas = sizeof(ranges) / sizeof(ranges[0]),
		.allowed_iovas = (uintptr_t)ranges,
	};
	unsigned int i;

	if (ioctl(iommufd, IOMMU_IOAS_IOVA_RANGES, &r))
		die_errno("IOMMU_IOAS_IOVA_RANGES");
	nr_ranges = r.num_iovas;
	printf(PROG ": IOAS %u: %u allowed IOVA range(s), alignment 0x%llx\n",
	       ioas_id, nr_ranges, (unsigned long long)r.out_iova_alignment);
	for (i = 0; i < nr_ranges; i++)
		printf(PROG ":   0x%016llx-0x%016llx\n",
		       (unsigned long long)ranges[i].start,
		       (unsigned long long)ranges[i].last);
}

static void *alloc_pages(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die_errno("mmap");
	memset(p, 0, len); /* fault the pages in before they are pinned */
	return p;
}

/* ---- the virtio driver ---- */

struct virtq {
	unsigned int size;
	uint8_t *ring; /* CPU view of IOVA_RINGS */
	volatile struct virtq_desc *desc;
	volatile uint16_t *avail; /* flags, idx, ring[] */
	volatile uint16_t *used;  /* flags, idx, then {u32 id, u32 len}[] */
	uint16_t avail_idx;
	uint16_t used_idx;
	uint64_t notify_addr;
};

static uint8_t read_status(struct vfio_dev *vd)
{
	return common_read(vd, COMMON_STATUS, 1);
}

static void set_status(struct vfio_dev *vd, uint8_t status)
{
	common_write(vd, COMMON_STATUS, 1, status);
}

/* virtio 1.2, 4.1.4.3.2: after writing 0 the driver waits for 0 */
static int virtio_reset(struct vfio_dev *vd)
{
	int waited;

	set_status(vd, 0);
	for (waited = 0; read_status(vd); waited++) {
		if (waited >= RESET_TIMEOUT_MS)
			return -1;
		sleep_ms(1);
	}
	return 0;
}

static uint64_t device_features(struct vfio_dev *vd)
{
	uint64_t f;

	common_write(vd, COMMON_DFSELECT, 4, 0);
	f = common_read(vd, COMMON_DF, 4);
	common_write(vd, COMMON_DFSELECT, 4, 1);
	return f | (uint64_t)common_read(vd, COMMON_DF, 4) << 32;
}

/* virtio 1.2, 3.1.1: driver requirements: device initialization */
static void virtio_init(struct vfio_dev *vd, struct virtq *vq)
{
	const uint64_t want = F_VERSION_1 | F_ACCESS_PLATFORM;
	unsigned int max, noff;
	uint64_t features;
	uint8_t status;

	if (virtio_reset(vd))
		die("device reset did not complete in %d ms", RESET_TIMEOUT_MS);
	set_status(vd, STATUS_ACK);
	set_status(vd, STATUS_ACK | STATUS_DRIVER);
	features = device_features(vd);
	printf(PROG ": device features 0x%016llx\n",
	       (unsigned long long)features);
	if ((features & want) != want)
		die("device lacks VERSION_1 or ACCESS_PLATFORM (features 0x%llx)",
		    (unsigned long long)features);
	common_write(vd, COMMON_GFSELECT, 4, 0);
	common_write(vd, COMMON_GF, 4, (uint32_t)want);
	common_write(vd, COMMON_GFSELECT, 4, 1);
	common_write(vd, COMMON_GF, 4, want >> 32);
	set_status(vd, STATUS_ACK | STATUS_DRIVER | STATUS_FEATURES_OK);
	status = read_status(vd);
	if (!(status & STATUS_FEATURES_OK))
		die("device refused FEATURES_OK (status 0x%x)", status);

	if (common_read(vd, COMMON_NUM_QUEUES, 2) < 1)
		die("device has no queues");
	common_write(vd, COMMON_Q_SELECT, 2, 0);
	max = common_read(vd, COMMON_Q_SIZE, 2);
	if (!max)
		die("queue 0 not available");
	vq->size = max < QUEUE_MAX ? max : QUEUE_MAX;
	if (vq->size & (vq->size - 1))
		die("queue size %u is not a power of 2", vq->size);
	common_write(vd, COMMON_Q_SIZE, 2, vq->size);
	common_write64(vd, COMMON_Q_DESC, IOVA_RINGS + RING_DESC_OFF);
	common_write64(vd, COMMON_Q_DRIVER, IOVA_RINGS + RING_AVAIL_OFF);
	common_write64(vd, COMMON_Q_DEVICE, IOVA_RINGS + RING_USED_OFF);
	noff = common_read(vd, COMMON_Q_NOFF, 2);
	/* 4.1.4.4: cap.offset + queue_notify_off * notify_off_multiplier */
	if ((uint64_t)noff * vd->notify_multiplier + 2 > vd->notify.length)
		die("notify offset %u x %u lies outside the notify structure",
		    noff, vd->notify_multiplier);
	vq->notify_addr =
		virtio_addr(vd, &vd->notify, noff * vd->notify_multiplier);
	vq->desc = (volatile struct virtq_desc *)(vq->ring + RING_DESC_OFF);
	vq->avail = (volatile uint16_t *)(vq->ring + RING_AVAIL_OFF);
	vq->used = (volatile uint16_t *)(vq->ring + RING_USED_OFF);
	vq->avail[0] = htole16(AVAIL_F_NO_INTERRUPT); /* we poll */
	common_write(vd, COMMON_Q_ENABLE, 2, 1);
	set_status(vd, STATUS_ACK | STATUS_DRIVER | STATUS_FEATURES_OK |
			       STATUS_DRIVER_OK);
	printf(PROG ": queue 0 size %u (device max %u), status 0x%x\n",
	       vq->size, max, read_status(vd));
}

static void virtq_post(struct vfio_dev *vd, struct virtq *vq, uint64_t iova,
		       uint32_t len)
{
	vq->desc[0].addr = htole64(iova);
	vq->desc[0].len = htole32(len);
	vq->desc[0].flags = htole16(DESC_F_WRITE);
	vq->desc[0].next = 0;
	vq->avail[2 + vq->avail_idx % vq->size] = htole16(0);
	/* 2.7.13: the ring entry before idx, idx before the notification */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	vq->avail[1] = htole16(++vq->avail_idx);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	region_write(vd->fd, vq->notify_addr, 2, 0, "notify");
}

/* Returns the used length, or -1 when nothing came back within timeout_ms. */
static long virtq_wait(struct virtq *vq, unsigned int timeout_ms)
{
	volatile uint32_t *elem;
	unsigned int waited;

	for (waited = 0; le16toh(vq->used[1]) == vq->used_idx; waited++) {
		if (waited >= timeout_ms)
			return -1;
		sleep_ms(1);
	}
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	elem = (volatile uint32_t *)(vq->used + 2) +
	       2 * (vq->used_idx % vq->size);
	vq->used_idx++;
	return le32toh(elem[1]);
}

/* ---- --fault: what the kernel said ---- */

static void print_fault_log(void)
{
	static char lines[DMESG_LINES][512];
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
		snprintf(lines[count % DMESG_LINES], sizeof(lines[0]), "%s",
			 msg);
		count++;
	}
	close(fd);
	if (!count)
		printf(PROG ": dmesg: no line with \"fault\" or \"event\"\n");
	for (i = count > DMESG_LINES ? count - DMESG_LINES : 0; i < count; i++)
		printf(PROG ": dmesg: %s\n", lines[i % DMESG_LINES]);
}

/* ---- --bench ---- */

static void bench(unsigned long n)
{
	void *single = alloc_pages(PAGE);
	void *batch = alloc_pages(BENCH_BATCH_PAGES * PAGE);
	unsigned long i, rounds = n / BENCH_BATCH_PAGES;
	double t0, t;

	if (!iova_allowed(IOVA_BENCH_SINGLE, PAGE) ||
	    !iova_allowed(IOVA_BENCH_BATCH, BENCH_BATCH_PAGES * PAGE))
		die("bench IOVAs 0x%lx/0x%lx are not in an allowed range",
		    IOVA_BENCH_SINGLE, IOVA_BENCH_BATCH);
	t0 = now_s();
	for (i = 0; i < n; i++) {
		ioas_map(single, PAGE, IOVA_BENCH_SINGLE);
		ioas_unmap(IOVA_BENCH_SINGLE, PAGE);
	}
	t = now_s() - t0;
	printf(PROG
	       ": bench single map+unmap pairs/s=%.0f (%lu pairs in %.3f s)\n",
	       n / t, n, t);
	if (!rounds) {
		printf(PROG ": bench batched skipped: N < %d\n",
		       BENCH_BATCH_PAGES);
		goto out;
	}
	t0 = now_s();
	for (i = 0; i < rounds; i++) {
		ioas_map(batch, BENCH_BATCH_PAGES * PAGE, IOVA_BENCH_BATCH);
		ioas_unmap(IOVA_BENCH_BATCH, BENCH_BATCH_PAGES * PAGE);
	}
	t = now_s() - t0;
	printf(PROG ": bench batched pages/s=%.0f (%lu x %d pages in %.3f s)\n",
	       rounds * BENCH_BATCH_PAGES / t, rounds, BENCH_BATCH_PAGES, t);
out:
	munmap(single, PAGE);
	munmap(batch, BENCH_BATCH_PAGES * PAGE);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: " PROG " [--bdf DDDD:BB:DD.F] [--bench N] [--fault]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct vfio_dev vd = { .fd = -1 };
	struct virtq vq = { 0 };
	char bdf[64] = "", node[256];
	unsigned long bench_n = 0;
	int fault = 0, i;
	uint8_t *data;
	long len;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--bdf") && i + 1 < argc) {
			snprintf(bdf, sizeof(bdf), "%s", argv[++i]);
		} else if (!strcmp(argv[i], "--bench") && i + 1 < argc) {
			char *end;

			bench_n = strtoul(argv[++i], &end, 0);
			if (*end || !bench_n)
				usage();
		} else if (!strcmp(argv[i], "--fault")) {
			fault = 1;
		} else {
			usage();
		}
	}
	if (!bdf[0] && find_rng(bdf, sizeof(bdf)))
		die("no virtio-rng PCI device (%04x:%04x)", VIRTIO_VENDOR_ID,
		    VIRTIO_RNG_PCI_ID);
	if (strchr(bdf, '/') || sysfs_read_hex(bdf, "vendor") == ~0UL)
		die("no PCI device %s", bdf);
	printf(PROG ": device %s\n", bdf);

	/* 1: vfio-pci and its cdev */
	bind_vfio_pci(bdf);
	find_cdev(bdf, node, sizeof(node));
	printf(PROG ": cdev %s\n", node);

	/* 2: iommufd, bind, IOAS, attach */
	iommufd = open("/dev/iommu", O_RDWR);
	if (iommufd < 0)
		die_errno("open /dev/iommu");
	vd.fd = open(node, O_RDWR);
	if (vd.fd < 0)
		die_errno(node);
	struct vfio_device_bind_iommufd bind = {
		.argsz = sizeof(bind),
		.iommufd = iommufd,
	};
	if (ioctl(vd.fd, VFIO_DEVICE_BIND_IOMMUFD, &bind))
		die_errno("VFIO_DEVICE_BIND_IOMMUFD");
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	if (ioctl(iommufd, IOMMU_IOAS_ALLOC, &alloc))
		die_errno("IOMMU_IOAS_ALLOC");
	ioas_id = alloc.out_ioas_id;
	struct vfio_device_attach_iommufd_pt attach = {
		.argsz = sizeof(attach),
		.pt_id = ioas_id,
	};
	if (ioctl(vd.fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach))
		die_errno("VFIO_DEVICE_ATTACH_IOMMUFD_PT");
	printf(PROG ": bound: devid %u, IOAS %u, attached pt %u\n",
	       bind.out_devid, ioas_id, attach.pt_id);
	print_iova_ranges();

	/* 3: rings and data page at fixed IOVAs */
	if (!iova_allowed(IOVA_RINGS, PAGE) || !iova_allowed(IOVA_DATA, PAGE))
		die("IOVAs 0x%lx/0x%lx are not in an allowed range", IOVA_RINGS,
		    IOVA_DATA);
	vq.ring = alloc_pages(PAGE);
	data = alloc_pages(PAGE);
	ioas_map(vq.ring, PAGE, IOVA_RINGS);
	ioas_map(data, PAGE, IOVA_DATA);

	/* 4: the virtio structures; memory space and bus master on */
	find_virtio_caps(&vd);
	region_write(vd.fd, vd.config_offset + PCI_CFG_COMMAND, 2,
		     cfg_read(&vd, PCI_CFG_COMMAND, 2) | PCI_CMD_MEMORY |
			     PCI_CMD_BUS_MASTER,
		     "config space");

	/* 5, 6: initialise, read entropy through the IOMMU */
	virtio_init(&vd, &vq);
	virtq_post(&vd, &vq, IOVA_DATA, PAGE);
	len = virtq_wait(&vq, READ_TIMEOUT_MS);
	if (len < 0)
		die("no completion within %d ms (status 0x%x)", READ_TIMEOUT_MS,
		    read_status(&vd));
	if (len == 0 || len > (long)PAGE)
		die("used.len=%ld, expected 1..%lu", len, PAGE);
	for (i = 0; i < len && !data[i]; i++)
		;
	if (i == len)
		die("the %ld bytes the device wrote are all zero", len);
	printf(PROG ": rng read %ld bytes through IOVA 0x%lx\n", len,
	       IOVA_DATA);

	/* 7: the same IOVA once it is unmapped: the DMA must fault */
	if (fault) {
		ioas_unmap(IOVA_DATA, PAGE);
		memset(data, 0, PAGE);
		virtq_post(&vd, &vq, IOVA_DATA, PAGE);
		len = virtq_wait(&vq, FAULT_TIMEOUT_MS);
		if (len < 0)
			printf(PROG
			       ": after unmap: no completion status=0x%x\n",
			       read_status(&vd));
		else
			printf(PROG ": after unmap: used.len=%ld status=0x%x\n",
			       len, read_status(&vd));
		for (i = 0; i < (int)PAGE && !data[i]; i++)
			;
		if (i < (int)PAGE)
			printf(PROG
			       ": after unmap: the unmapped page was written anyway (stale IOTLB?)\n");
		print_fault_log();
	}

	/* 8 */
	if (bench_n)
		bench(bench_n);

	/* 9 */
	if (virtio_reset(&vd))
		die("device reset did not complete in %d ms", RESET_TIMEOUT_MS);
	close(vd.fd);
	close(iommufd);
	printf(PROG ": ok\n");
	return 0;
}
