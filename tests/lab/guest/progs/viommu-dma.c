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
#include <endian.h>

#define PROG "viommu-dma" /* vfio-lib.h prefixes its lines with it */
#include "vfio-lib.h"

#define VIRTIO_VENDOR_ID  0x1af4
#define VIRTIO_RNG_PCI_ID 0x1044 /* virtio 1.2, 4.1.2.1: 0x1040 + 4 */

#define PAGE VFIO_LIB_PAGE

/* IOVAs of our choice, below the SMMU's software MSI window (0x8000000). */
#define IOVA_RINGS	  0x100000UL
#define IOVA_DATA	  0x200000UL
#define IOVA_BENCH_SINGLE 0x1000000UL
#define IOVA_BENCH_BATCH  0x2000000UL
#define BENCH_BATCH_PAGES 64

/* PCI 3.0, 6.7: capability list */
#define PCI_CAP_ID_VENDOR  0x09
#define PCI_CAP_WALK_LIMIT 48 /* 192 bytes of capabilities, 4 each at least */

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

	region_info(vd->fd, VFIO_PCI_CONFIG_REGION_INDEX, &vd->config_offset,
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
		region_info(vd->fd, VFIO_PCI_BAR0_REGION_INDEX + i,
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

/* ---- --bench ---- */

static void bench(const struct iommufd_ioas *ioas, unsigned long n)
{
	void *single = alloc_pages(PAGE);
	void *batch = alloc_pages(BENCH_BATCH_PAGES * PAGE);
	unsigned long i, rounds = n / BENCH_BATCH_PAGES;
	double t0, t;

	if (!iova_allowed(ioas, IOVA_BENCH_SINGLE, PAGE) ||
	    !iova_allowed(ioas, IOVA_BENCH_BATCH, BENCH_BATCH_PAGES * PAGE))
		die("bench IOVAs 0x%lx/0x%lx are not in an allowed range",
		    IOVA_BENCH_SINGLE, IOVA_BENCH_BATCH);
	t0 = now_s();
	for (i = 0; i < n; i++) {
		ioas_map(ioas, single, PAGE, IOVA_BENCH_SINGLE);
		ioas_unmap(ioas, IOVA_BENCH_SINGLE, PAGE);
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
		ioas_map(ioas, batch, BENCH_BATCH_PAGES * PAGE,
			 IOVA_BENCH_BATCH);
		ioas_unmap(ioas, IOVA_BENCH_BATCH, BENCH_BATCH_PAGES * PAGE);
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
	struct iommufd_ioas ioas = { .fd = -1 };
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
	if (!bdf[0] && pci_find_device(VIRTIO_VENDOR_ID, VIRTIO_RNG_PCI_ID, bdf,
				       sizeof(bdf)))
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
	vd.fd = vfio_cdev_attach_ioas(node, &ioas);
	ioas_print_iova_ranges(&ioas);

	/* 3: rings and data page at fixed IOVAs */
	if (!iova_allowed(&ioas, IOVA_RINGS, PAGE) ||
	    !iova_allowed(&ioas, IOVA_DATA, PAGE))
		die("IOVAs 0x%lx/0x%lx are not in an allowed range", IOVA_RINGS,
		    IOVA_DATA);
	vq.ring = alloc_pages(PAGE);
	data = alloc_pages(PAGE);
	ioas_map(&ioas, vq.ring, PAGE, IOVA_RINGS);
	ioas_map(&ioas, data, PAGE, IOVA_DATA);

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
		ioas_unmap(&ioas, IOVA_DATA, PAGE);
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
		bench(&ioas, bench_n);

	/* 9 */
	if (virtio_reset(&vd))
		die("device reset did not complete in %d ms", RESET_TIMEOUT_MS);
	close(vd.fd);
	close(ioas.fd);
	printf(PROG ": ok\n");
	return 0;
}
