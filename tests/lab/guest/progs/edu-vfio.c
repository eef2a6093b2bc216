// SPDX-License-Identifier: GPL-2.0
/*
 * Drive QEMU's edu device (docs/specs/edu.rst in QEMU) from userspace through
 * VFIO cdev + iommufd: its DMA engine moves a page between RAM and the
 * device's own buffer through an IOVA, and every completion arrives as an
 * MSI on an eventfd. In the lab's L1 host the IOMMU on the way is QEMU's
 * SMMUv3 (the reference); in an L2 guest it is nestbox's virtio-iommu, where
 * every IOAS map and unmap becomes a virtio-iommu request.
 *
 *   edu-vfio [--bdf DDDD:BB:DD.F] [--rounds N]
 *
 * Steps: bind the device to vfio-pci, attach its cdev to an iommufd IOAS, map
 * one page below the edu's 28-bit DMA limit, enable MSI on an eventfd; then N
 * rounds of RAM -> edu -> RAM, each DMA waited for by its MSI and checked;
 * an interrupt raised by hand; finally the page is unmapped and the edu
 * writes to it once more (a correct IOMMU stops that write; reported, not
 * judged). Exit 0 when everything before the unmap worked, 1 on any failure
 * (one line on stderr naming the call), 2 on a usage error.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <sys/eventfd.h>

#define PROG "edu-vfio" /* vfio-lib.h prefixes its lines with it */
#include "vfio-lib.h"

#define EDU_VENDOR_ID 0x1234
#define EDU_DEVICE_ID 0x11e8

/*
 * edu.rst, "MMIO area spec": BAR 0 registers. Below 0x80 only 32-bit
 * accesses work; the DMA registers take 32 or 64 bits, and a 32-bit write
 * sets the whole (zero-extended) value.
 */
#define EDU_REG_ID	   0x00 /* 0xRRrr00ed: major, minor, 0xed */
#define EDU_ID_MAGIC_MASK  0xffff
#define EDU_ID_MAGIC	   0x00ed
#define EDU_REG_IRQ_STATUS 0x24
#define EDU_REG_IRQ_RAISE  0x60 /* ORs the value into the status, fires */
#define EDU_REG_IRQ_ACK	   0x64 /* clears these status bits */
#define EDU_REG_DMA_SRC	   0x80
#define EDU_REG_DMA_DST	   0x88
#define EDU_REG_DMA_COUNT  0x90
#define EDU_REG_DMA_CMD	   0x98
#define EDU_BAR_MIN_SIZE   0x100

/* edu.rst: DMA command bits and the interrupt status bit of a DMA */
#define EDU_DMA_CMD_START  0x1
#define EDU_DMA_CMD_TO_RAM 0x2 /* direction: edu buffer -> RAM */
#define EDU_DMA_CMD_IRQ	   0x4 /* raise EDU_IRQ_DMA when done */
#define EDU_IRQ_DMA	   0x100
#define EDU_IRQ_BY_HAND	   0x10000 /* ours: a bit the device never sets */

/* edu.rst: the device's buffer and the DMA address mask (dma_mask) */
#define EDU_BUF_ADDR 0x40000UL
#define EDU_BUF_SIZE 4096UL
#define EDU_DMA_MASK ((1UL << 28) - 1)

#define PAGE VFIO_LIB_PAGE

/* Below 2^28 and below the SMMU's software MSI window (0x8000000). */
#define IOVA_PREFERRED 0x100000UL

#define DEFAULT_ROUNDS	    20
#define IRQ_TIMEOUT_MS	    2000 /* the edu's DMA timer fires after 100 ms */
#define DMA_IDLE_TIMEOUT_MS 2000

struct edu {
	int fd;
	uint64_t config_offset;
	uint64_t bar0_offset;
	int eventfd;
	uint64_t interrupts; /* MSIs counted on the eventfd */
};

static uint32_t edu_read(struct edu *e, unsigned int reg)
{
	return region_read(e->fd, e->bar0_offset + reg, 4, "BAR 0");
}

static void edu_write(struct edu *e, unsigned int reg, uint32_t val)
{
	region_write(e->fd, e->bar0_offset + reg, 4, val, "BAR 0");
}

static uint32_t cfg_read(struct edu *e, unsigned int off, unsigned int width)
{
	return region_read(e->fd, e->config_offset + off, width,
			   "config space");
}

/* 0 when an MSI arrived within timeout_ms, -1 when none did. */
static int edu_wait_irq(struct edu *e, unsigned int timeout_ms)
{
	struct pollfd p = { .fd = e->eventfd, .events = POLLIN };
	uint64_t count;
	int n;

	n = poll(&p, 1, timeout_ms);
	if (n < 0)
		die_errno("poll eventfd");
	if (n == 0)
		return -1;
	if (read(e->eventfd, &count, sizeof(count)) != sizeof(count))
		die_errno("read eventfd");
	e->interrupts += count;
	return 0;
}

/* edu.rst: acknowledge what the status register says is pending. */
static uint32_t edu_ack_irq(struct edu *e)
{
	uint32_t status = edu_read(e, EDU_REG_IRQ_STATUS);

	edu_write(e, EDU_REG_IRQ_ACK, status);
	return status;
}

/* 0 once the DMA engine is idle (START cleared), -1 after timeout_ms. */
static int edu_wait_dma_idle(struct edu *e, unsigned int timeout_ms)
{
	unsigned int waited;

	for (waited = 0; edu_read(e, EDU_REG_DMA_CMD) & EDU_DMA_CMD_START;
	     waited++) {
		if (waited >= timeout_ms)
			return -1;
		sleep_ms(1);
	}
	return 0;
}

static void edu_dma_start(struct edu *e, uint64_t src, uint64_t dst,
			  uint32_t cmd)
{
	edu_write(e, EDU_REG_DMA_SRC, src);
	edu_write(e, EDU_REG_DMA_DST, dst);
	edu_write(e, EDU_REG_DMA_COUNT, EDU_BUF_SIZE);
	edu_write(e, EDU_REG_DMA_CMD,
		  cmd | EDU_DMA_CMD_START | EDU_DMA_CMD_IRQ);
}

/* One DMA with its completion interrupt, waited for and acknowledged. */
static void edu_dma(struct edu *e, uint64_t src, uint64_t dst, uint32_t cmd,
		    unsigned int round, const char *what)
{
	uint32_t status;

	edu_dma_start(e, src, dst, cmd);
	if (edu_wait_irq(e, IRQ_TIMEOUT_MS))
		die("round %u: no MSI for the DMA %s within %d ms "
		    "(irq status 0x%x, dma cmd 0x%x)",
		    round, what, IRQ_TIMEOUT_MS,
		    edu_read(e, EDU_REG_IRQ_STATUS),
		    edu_read(e, EDU_REG_DMA_CMD));
	status = edu_ack_irq(e);
	if (!(status & EDU_IRQ_DMA))
		die("round %u: MSI after the DMA %s but irq status 0x%x", round,
		    what, status);
}

static void fill_pattern(uint8_t *buf, unsigned int round)
{
	unsigned long i;

	for (i = 0; i < EDU_BUF_SIZE; i++)
		buf[i] = (uint8_t)(i * 7 + (i >> 8) + round * 31 + 1);
}

/* An IOVA page below the edu's DMA mask inside an allowed range. */
static uint64_t pick_iova(const struct iommufd_ioas *ioas)
{
	unsigned int i;

	if (iova_allowed(ioas, IOVA_PREFERRED, PAGE))
		return IOVA_PREFERRED;
	for (i = 0; i < ioas->nr_ranges; i++) {
		uint64_t start =
			(ioas->ranges[i].start + PAGE - 1) & ~(PAGE - 1);

		if (start + PAGE - 1 <= ioas->ranges[i].last &&
		    start + PAGE - 1 <= EDU_DMA_MASK)
			return start;
	}
	die("no allowed IOVA page below the edu's DMA limit 0x%lx",
	    EDU_DMA_MASK + 1);
	return 0;
}

/* VFIO_DEVICE_SET_IRQS: MSI vector 0 signals e->eventfd, or nothing. */
static void msi_set(struct edu *e, int enable)
{
	union {
		struct vfio_irq_set set;
		uint8_t raw[sizeof(struct vfio_irq_set) + sizeof(int32_t)];
	} u = { 0 };
	int32_t fd = e->eventfd;

	u.set.index = VFIO_PCI_MSI_IRQ_INDEX;
	u.set.start = 0;
	if (enable) {
		u.set.argsz = sizeof(u.raw);
		u.set.flags =
			VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
		u.set.count = 1;
		memcpy(u.set.data, &fd, sizeof(fd));
	} else {
		u.set.argsz = sizeof(u.set);
		u.set.flags =
			VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER;
		u.set.count = 0;
	}
	if (ioctl(e->fd, VFIO_DEVICE_SET_IRQS, &u.set))
		die_errno(enable ? "VFIO_DEVICE_SET_IRQS (enable MSI)"
				 : "VFIO_DEVICE_SET_IRQS (disable MSI)");
}

static void msi_enable(struct edu *e)
{
	struct vfio_irq_info info = {
		.argsz = sizeof(info),
		.index = VFIO_PCI_MSI_IRQ_INDEX,
	};

	if (ioctl(e->fd, VFIO_DEVICE_GET_IRQ_INFO, &info))
		die_errno("VFIO_DEVICE_GET_IRQ_INFO (MSI)");
	if (info.count < 1)
		die("VFIO_DEVICE_GET_IRQ_INFO: the device has no MSI vector");
	e->eventfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (e->eventfd < 0)
		die_errno("eventfd");
	msi_set(e, 1);
	printf(PROG ": MSI enabled (%u vector(s)), eventfd %d\n", info.count,
	       e->eventfd);
}

static void device_reset(struct edu *e)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };

	if (ioctl(e->fd, VFIO_DEVICE_GET_INFO, &info))
		die_errno("VFIO_DEVICE_GET_INFO");
	if (!(info.flags & VFIO_DEVICE_FLAGS_RESET)) {
		printf(PROG ": reset: not supported by the device\n");
		return;
	}
	if (ioctl(e->fd, VFIO_DEVICE_RESET))
		die_errno("VFIO_DEVICE_RESET");
	printf(PROG ": reset: done\n");
}

/*
 * The page is no longer in the IOAS: the edu writes its buffer to the old
 * IOVA. A correct IOMMU drops the write; the edu ignores the DMA error and
 * still raises its interrupt. Reported, not judged.
 */
static void dma_after_unmap(struct edu *e, uint8_t *buf, uint64_t iova)
{
	const uint8_t sentinel = 0x5a;
	unsigned long i, changed = 0;
	int irq;

	memset(buf, sentinel, PAGE);
	edu_dma_start(e, EDU_BUF_ADDR, iova, EDU_DMA_CMD_TO_RAM);
	irq = edu_wait_irq(e, IRQ_TIMEOUT_MS) == 0;
	if (edu_wait_dma_idle(e, DMA_IDLE_TIMEOUT_MS))
		die("after unmap: the DMA engine still runs after %d ms",
		    DMA_IDLE_TIMEOUT_MS);
	if (irq)
		printf(PROG ": after unmap: interrupt received (irq status "
			    "0x%x)\n",
		       edu_ack_irq(e));
	else
		printf(PROG ": after unmap: no interrupt within %d ms (irq "
			    "status 0x%x)\n",
		       IRQ_TIMEOUT_MS, edu_ack_irq(e));
	for (i = 0; i < PAGE; i++)
		changed += buf[i] != sentinel;
	if (changed)
		printf(PROG
		       ": after unmap: memory changed: %lu of %lu bytes "
		       "written through the unmapped IOVA (stale IOTLB?)\n",
		       changed, PAGE);
	else
		printf(PROG ": after unmap: memory unchanged\n");
	print_fault_log();
}

static void usage(void)
{
	fprintf(stderr, "usage: " PROG " [--bdf DDDD:BB:DD.F] [--rounds N]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct iommufd_ioas ioas = { .fd = -1 };
	struct edu e = { .fd = -1, .eventfd = -1 };
	unsigned long rounds = DEFAULT_ROUNDS, r, i;
	char bdf[64] = "", node[256];
	uint64_t bar0_size, cfg_size, iova, irqs_before;
	uint8_t *buf, *expect;
	uint32_t id, status;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 1; i < (unsigned long)argc; i++) {
		if (!strcmp(argv[i], "--bdf") && i + 1 < (unsigned long)argc) {
			snprintf(bdf, sizeof(bdf), "%s", argv[++i]);
		} else if (!strcmp(argv[i], "--rounds") &&
			   i + 1 < (unsigned long)argc) {
			char *end;

			rounds = strtoul(argv[++i], &end, 0);
			if (*end || !rounds)
				usage();
		} else {
			usage();
		}
	}
	if (!bdf[0] &&
	    pci_find_device(EDU_VENDOR_ID, EDU_DEVICE_ID, bdf, sizeof(bdf)))
		die("no edu PCI device (%04x:%04x)", EDU_VENDOR_ID,
		    EDU_DEVICE_ID);
	if (strchr(bdf, '/') || sysfs_read_hex(bdf, "vendor") == ~0UL)
		die("no PCI device %s", bdf);
	printf(PROG ": device %s\n", bdf);

	/* 1: vfio-pci, its cdev, iommufd, IOAS, attach */
	bind_vfio_pci(bdf);
	find_cdev(bdf, node, sizeof(node));
	printf(PROG ": cdev %s\n", node);
	e.fd = vfio_cdev_attach_ioas(node, &ioas);
	ioas_print_iova_ranges(&ioas);

	/* memory space and bus master on, then BAR 0 can be read */
	region_info(e.fd, VFIO_PCI_CONFIG_REGION_INDEX, &e.config_offset,
		    &cfg_size);
	region_info(e.fd, VFIO_PCI_BAR0_REGION_INDEX, &e.bar0_offset,
		    &bar0_size);
	if (bar0_size < EDU_BAR_MIN_SIZE)
		die("BAR 0 is 0x%llx bytes, the edu's registers need 0x%x",
		    (unsigned long long)bar0_size, EDU_BAR_MIN_SIZE);
	region_write(e.fd, e.config_offset + PCI_CFG_COMMAND, 2,
		     cfg_read(&e, PCI_CFG_COMMAND, 2) | PCI_CMD_MEMORY |
			     PCI_CMD_BUS_MASTER,
		     "config space");
	id = edu_read(&e, EDU_REG_ID);
	if ((id & EDU_ID_MAGIC_MASK) != EDU_ID_MAGIC)
		die("identification register 0x%08x is not an edu's", id);
	printf(PROG ": edu version %u.%u, BAR 0 0x%llx bytes\n", id >> 24,
	       (id >> 16) & 0xff, (unsigned long long)bar0_size);

	/* 2: one page at an IOVA the edu can reach */
	iova = pick_iova(&ioas);
	buf = alloc_pages(PAGE);
	expect = alloc_pages(PAGE);
	ioas_map(&ioas, buf, PAGE, iova);
	printf(PROG ": buffer mapped at IOVA 0x%llx\n",
	       (unsigned long long)iova);

	/* 3: MSI on an eventfd */
	msi_enable(&e);
	status = edu_ack_irq(&e); /* nothing of ours may be pending yet */
	if (status)
		printf(PROG ": cleared stale irq status 0x%x\n", status);

	/* 4: RAM -> edu -> RAM, each DMA completed by an MSI */
	irqs_before = e.interrupts;
	for (r = 1; r <= rounds; r++) {
		fill_pattern(expect, r);
		memcpy(buf, expect, PAGE);
		edu_dma(&e, iova, EDU_BUF_ADDR, 0, r, "RAM->edu");
		memset(buf, 0, PAGE);
		edu_dma(&e, EDU_BUF_ADDR, iova, EDU_DMA_CMD_TO_RAM, r,
			"edu->RAM");
		if (memcmp(buf, expect, PAGE)) {
			for (i = 0; i < PAGE && buf[i] == expect[i]; i++)
				;
			die("round %lu: data differs at offset %lu: 0x%02x, "
			    "expected 0x%02x",
			    r, i, buf[i], expect[i]);
		}
		if (r == 1 || r == rounds)
			printf(PROG ": dma round %lu ok\n", r);
	}
	printf(PROG ": dma %lu rounds ok, interrupts=%llu\n", rounds,
	       (unsigned long long)(e.interrupts - irqs_before));

	/* 5: an interrupt raised by hand */
	edu_write(&e, EDU_REG_IRQ_RAISE, EDU_IRQ_BY_HAND);
	if (edu_wait_irq(&e, IRQ_TIMEOUT_MS))
		die("no MSI within %d ms after raising one (irq status 0x%x)",
		    IRQ_TIMEOUT_MS, edu_read(&e, EDU_REG_IRQ_STATUS));
	status = edu_ack_irq(&e);
	if (!(status & EDU_IRQ_BY_HAND))
		die("raised interrupt: MSI came but irq status 0x%x lacks 0x%x",
		    status, EDU_IRQ_BY_HAND);
	printf(PROG ": raised interrupt received (irq status 0x%x)\n", status);

	/* 6: the page leaves the IOAS; the edu writes to it once more */
	ioas_unmap(&ioas, iova, PAGE);
	printf(PROG ": buffer unmapped from IOVA 0x%llx\n",
	       (unsigned long long)iova);
	dma_after_unmap(&e, buf, iova);

	/* 7 */
	msi_set(&e, 0);
	device_reset(&e);
	close(e.eventfd);
	close(e.fd);
	close(ioas.fd);
	munmap(buf, PAGE);
	munmap(expect, PAGE);
	printf(PROG ": ok\n");
	return 0;
}
