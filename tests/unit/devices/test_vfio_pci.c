// SPDX-License-Identifier: GPL-2.0
/*
 * The assigned-function model against a fake e1000e-like device: the guest
 * sees an emulated config space, and only what must reach the device does.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "devices/pci_host.h"
#include "devices/vfio_pci.h"

#define ECAM	0x30000000ULL
#define MMIO32	0x40000000ULL
#define SLOT	2
#define MAX_LOG 64

/* Real capability offsets in the fake device */
#define RCAP_PM	  0x40
#define RCAP_MSI  0x50
#define RCAP_VNDR 0x68
#define RCAP_EXP  0x70
#define RCAP_MSIX 0xb0

#define BAR0_SIZE 0x20000 /* 64-bit prefetchable */
#define BAR2_SIZE 0x20	  /* I/O */
#define BAR3_SIZE 0x4000  /* MSI-X table at 0, PBA at 0x2000 */
#define BAR4_SIZE 0x800	  /* smaller than a page */
#define ROM_SIZE  0x10000
#define MSIX_PBA  0x2000

struct access {
	unsigned int region;
	uint64_t off;
	size_t len;
	uint64_t val;
};

struct fake_dev {
	uint8_t cfg[PCI_CFG_SIZE];
	struct access writes[MAX_LOG];
	unsigned int nwrites;
	struct access reads[MAX_LOG];
	unsigned int nreads;
	/* set_irqs */
	unsigned int irq_calls, irq_index, irq_n;
	int irq_fds[64];
	/* bar_moved */
	unsigned int moves, move_bar;
	bool move_mapped;
	uint64_t move_addr;
};

static int fd_read(void *o, unsigned int region, uint64_t off, void *buf,
		   size_t len)
{
	struct fake_dev *f = o;

	if (region == VFIO_PCI_CONFIG_REGION_INDEX) {
		cr_assert_leq(off + len, PCI_CFG_SIZE);
		memcpy(buf, &f->cfg[off], len);
		return 0;
	}
	cr_assert_lt(f->nreads, MAX_LOG);
	f->reads[f->nreads++] = (struct access){ region, off, len, 0 };
	/* A recognisable pattern: region in the top byte, offset below. */
	memset(buf, 0, len);
	for (size_t i = 0; i < len && i < 8; i++)
		((uint8_t *)buf)[i] = (uint8_t)((off + i) ^ (region << 4));
	return 0;
}

static int fd_write(void *o, unsigned int region, uint64_t off, const void *buf,
		    size_t len)
{
	struct fake_dev *f = o;
	uint64_t v = 0;

	memcpy(&v, buf, len < 8 ? len : 8);
	cr_assert_lt(f->nwrites, MAX_LOG);
	f->writes[f->nwrites++] = (struct access){ region, off, len, v };
	if (region == VFIO_PCI_CONFIG_REGION_INDEX)
		memcpy(&f->cfg[off], buf, len);
	return 0;
}

static int fd_set_irqs(void *o, unsigned int index, const int *fds,
		       unsigned int n)
{
	struct fake_dev *f = o;

	f->irq_calls++;
	f->irq_index = index;
	f->irq_n = n;
	cr_assert(n == 0 || fds);
	for (unsigned int i = 0; i < n && i < 64; i++)
		f->irq_fds[i] = fds[i];
	return 0;
}

static void fd_bar_moved(void *o, unsigned int bar, bool mapped, uint64_t addr)
{
	struct fake_dev *f = o;

	f->moves++;
	f->move_bar = bar;
	f->move_mapped = mapped;
	f->move_addr = addr;
}

static const struct vfio_pci_ops fake_ops = {
	.read = fd_read,
	.write = fd_write,
	.set_irqs = fd_set_irqs,
	.bar_moved = fd_bar_moved,
};

/* Host routes */
struct route {
	bool live;
	uint64_t addr;
	uint32_t data, devid;
	int fd;
};

static struct route routes[128];
static unsigned int nroutes;

static int fr_add(void *o, uint64_t addr, uint32_t data, uint32_t devid, int fd)
{
	(void)o;
	cr_assert_lt(nroutes, 128);
	routes[nroutes] = (struct route){ true, addr, data, devid, fd };
	return nroutes++;
}

static int fr_update(void *o, int r, uint64_t addr, uint32_t data,
		     uint32_t devid)
{
	(void)o;
	routes[r].addr = addr;
	routes[r].data = data;
	routes[r].devid = devid;
	return 0;
}

static void fr_del(void *o, int r, int fd)
{
	(void)o;
	cr_assert_eq(routes[r].fd, fd);
	routes[r].live = false;
}

static const struct host_ops host = { .msi_route_add = fr_add,
				      .msi_route_update = fr_update,
				      .msi_route_del = fr_del };

static struct fake_dev fdev;
static struct vfio_pci_info info;
static struct vfio_pci vdev;
static struct mmio_bus bus;
static struct pci_host phost;
static char err[256];

static uint16_t get16(const uint8_t *c, unsigned int off)
{
	return c[off] | c[off + 1] << 8;
}

static void set16(uint8_t *c, unsigned int off, uint16_t v)
{
	c[off] = v;
	c[off + 1] = v >> 8;
}

static void set32(uint8_t *c, unsigned int off, uint32_t v)
{
	set16(c, off, v);
	set16(c, off + 2, v >> 16);
}

/* An 82574-like function, rearranged to exercise every capability kind. */
static void build_fake(void)
{
	uint8_t *c = fdev.cfg;

	memset(&fdev, 0, sizeof(fdev));
	set16(c, PCI_VENDOR_ID, 0x8086);
	set16(c, PCI_DEVICE_ID, 0x10d3);
	set16(c, PCI_COMMAND, PCI_COMMAND_SERR);
	set16(c, PCI_STATUS, PCI_STATUS_CAP_LIST | 0x0100 /* parity */);
	c[PCI_REVISION_ID] = 0x03;
	set16(c, PCI_CLASS_PROG + 1, 0x0200); /* ethernet */
	c[PCI_HEADER_TYPE] = 0;
	set32(c, PCI_BAR0, 0xfe00000c);	     /* 64-bit prefetchable */
	set32(c, PCI_BAR0 + 4, 0);	     /* upper half */
	set32(c, PCI_BAR0 + 8, 0x0000e001);  /* I/O */
	set32(c, PCI_BAR0 + 12, 0xfe100000); /* 32-bit */
	set32(c, PCI_BAR0 + 16, 0xfe104000); /* 32-bit */
	set16(c, PCI_SUBSYSTEM_VENDOR_ID, 0x8086);
	set16(c, PCI_SUBSYSTEM_ID, 0xa01f);
	set32(c, PCI_ROM_ADDRESS, 0xfe200000);
	c[PCI_CAPABILITY_LIST] = RCAP_PM;
	c[PCI_INTERRUPT_LINE] = 11;
	c[PCI_INTERRUPT_PIN] = 1;

	/* Power management: D3cold PME support, in D3hot right now. */
	c[RCAP_PM] = 0x01;
	c[RCAP_PM + 1] = RCAP_MSI;
	set16(c, RCAP_PM + 2, 0xc823);
	set16(c, RCAP_PM + 4, 0x0008 | 0x3);

	/* MSI: 64-bit, per-vector masking, 4 vectors capable. */
	c[RCAP_MSI] = PCI_CAP_ID_MSI;
	c[RCAP_MSI + 1] = RCAP_VNDR;
	set16(c, RCAP_MSI + 2,
	      PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_MASKBIT | 2 << 1);

	/* Vendor-specific: hidden. */
	c[RCAP_VNDR] = PCI_CAP_ID_VNDR;
	c[RCAP_VNDR + 1] = RCAP_EXP;
	c[RCAP_VNDR + 2] = 8;

	/* PCI Express v2 endpoint with FLR. */
	c[RCAP_EXP] = PCI_CAP_ID_EXP;
	c[RCAP_EXP + 1] = RCAP_MSIX;
	set16(c, RCAP_EXP + PCI_EXP_FLAGS, 0x0002);
	set32(c, RCAP_EXP + PCI_EXP_DEVCAP, 0x10008cc1);
	set16(c, RCAP_EXP + PCI_EXP_DEVCTL, 0x2810);
	set32(c, RCAP_EXP + PCI_EXP_LNKCAP, 0x00036c11);
	set16(c, RCAP_EXP + PCI_EXP_LNKSTA, 0x1011);

	/* MSI-X: 5 vectors, table at BAR3 + 0, PBA at BAR3 + 0x2000. */
	c[RCAP_MSIX] = PCI_CAP_ID_MSIX;
	c[RCAP_MSIX + 1] = 0;
	set16(c, RCAP_MSIX + PCI_MSIX_FLAGS, 4);
	set32(c, RCAP_MSIX + PCI_MSIX_TABLE, 0x0000 | 3);
	set32(c, RCAP_MSIX + PCI_MSIX_PBA, MSIX_PBA | 3);

	/* Extended capabilities: AER, then Device Serial Number. */
	set32(c, 0x100, 0x14010001);
	set32(c, 0x140, 0x00010003);

	memset(&info, 0, sizeof(info));
	info.region[VFIO_PCI_BAR0_REGION_INDEX].size = BAR0_SIZE;
	info.region[VFIO_PCI_BAR2_REGION_INDEX].size = BAR2_SIZE;
	info.region[VFIO_PCI_BAR3_REGION_INDEX].size = BAR3_SIZE;
	info.region[VFIO_PCI_BAR4_REGION_INDEX].size = BAR4_SIZE;
	info.region[VFIO_PCI_ROM_REGION_INDEX].size = ROM_SIZE;
	info.region[VFIO_PCI_CONFIG_REGION_INDEX].size = PCI_CFG_SIZE;
	for (unsigned int r = 0; r < VFIO_PCI_NUM_REGIONS; r++)
		info.region[r].flags = VFIO_REGION_INFO_FLAG_READ |
				       VFIO_REGION_INFO_FLAG_WRITE;
	info.region[VFIO_PCI_ROM_REGION_INDEX].flags =
		VFIO_REGION_INFO_FLAG_READ;
	info.irq_count[VFIO_PCI_INTX_IRQ_INDEX] = 1;
	info.irq_count[VFIO_PCI_MSI_IRQ_INDEX] = 4;
	info.irq_count[VFIO_PCI_MSIX_IRQ_INDEX] = 5;
	info.irq_count[VFIO_PCI_ERR_IRQ_INDEX] = 1;
	info.irq_count[VFIO_PCI_REQ_IRQ_INDEX] = 1;
}

static int init_dev(void)
{
	err[0] = 0;
	return vfio_pci_init(&vdev, &info, &fake_ops, &fdev, &host, "e1000e",
			     err, sizeof(err));
}

static void start(void)
{
	memset(routes, 0, sizeof(routes));
	nroutes = 0;
	mmio_bus_init(&bus);
	pci_host_init(&phost, &bus, ECAM, 0x10000000, MMIO32, 0x40000000,
		      0x4000000000ULL, 1ULL << 36);
	cr_assert_eq(mmio_bus_add(&bus, ECAM, 0x10000000, &pci_host_ecam_ops,
				  &phost, "ecam"),
		     0);
	cr_assert_eq(init_dev(), 0, "%s", err);
	cr_assert_eq(pci_host_add(&phost, &vdev.pdev, SLOT), SLOT);
	/* Only what the guest does from here on is of interest. */
	fdev.nwrites = 0;
}

static void setup(void)
{
	build_fake();
	start();
}

static void teardown(void)
{
	vfio_pci_destroy(&vdev);
}

static uint32_t cfg_rd(uint32_t reg, unsigned int len)
{
	uint8_t d[8] = { 0 };
	uint32_t v = 0;

	cr_assert_eq(
		mmio_bus_access(&bus, ECAM + (SLOT << 15) + reg, d, len, false),
		0);
	for (unsigned int i = 0; i < len; i++)
		v |= (uint32_t)d[i] << (8 * i);
	return v;
}

static void cfg_wr(uint32_t reg, uint32_t v, unsigned int len)
{
	uint8_t d[8];

	for (unsigned int i = 0; i < len; i++)
		d[i] = v >> (8 * i);
	cr_assert_eq(
		mmio_bus_access(&bus, ECAM + (SLOT << 15) + reg, d, len, true),
		0);
}

static uint64_t mem_rd(uint64_t addr, unsigned int len)
{
	uint8_t d[8] = { 0 };
	uint64_t v = 0;

	cr_assert_eq(mmio_bus_access(&bus, addr, d, len, false), 0);
	for (unsigned int i = 0; i < len; i++)
		v |= (uint64_t)d[i] << (8 * i);
	return v;
}

static void mem_wr(uint64_t addr, uint64_t v, unsigned int len)
{
	uint8_t d[8];

	for (unsigned int i = 0; i < len; i++)
		d[i] = v >> (8 * i);
	cr_assert_eq(mmio_bus_access(&bus, addr, d, len, true), 0);
}

/* Guest's capability with @id, 0 if absent (follows the guest's chain). */
static unsigned int find_cap(uint8_t id)
{
	unsigned int p = cfg_rd(PCI_CAPABILITY_LIST, 1);

	for (unsigned int n = 0; p && n < 48; n++) {
		if (cfg_rd(p, 1) == id)
			return p;
		p = cfg_rd(p + 1, 1);
	}
	return 0;
}

static unsigned int config_writes_to_device(void)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < fdev.nwrites; i++)
		n += fdev.writes[i].region == VFIO_PCI_CONFIG_REGION_INDEX;
	return n;
}

static unsigned int live_routes(void)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < nroutes; i++)
		n += routes[i].live;
	return n;
}

TestSuite(vfio_pci, .init = setup, .fini = teardown);

Test(vfio_pci, guest_sees_the_real_identity)
{
	cr_assert_eq(cfg_rd(PCI_VENDOR_ID, 2), 0x8086);
	cr_assert_eq(cfg_rd(PCI_DEVICE_ID, 2), 0x10d3);
	cr_assert_eq(cfg_rd(PCI_REVISION_ID, 1), 0x03);
	cr_assert_eq(cfg_rd(PCI_REVISION_ID, 4) >> 8, 0x020000);
	cr_assert_eq(cfg_rd(PCI_HEADER_TYPE, 1), 0);
	cr_assert_eq(cfg_rd(PCI_SUBSYSTEM_VENDOR_ID, 2), 0x8086);
	cr_assert_eq(cfg_rd(PCI_SUBSYSTEM_ID, 2), 0xa01f);
	cr_assert_eq(cfg_rd(PCI_INTERRUPT_PIN, 1), 1);
	cr_assert_eq(cfg_rd(PCI_INTERRUPT_LINE, 1), 0, "line is the guest's");
	cr_assert_eq(cfg_rd(PCI_COMMAND, 2), 0, "command starts emulated off");
	cr_assert_eq(cfg_rd(PCI_STATUS, 2) & ~PCI_STATUS_CAP_LIST, 0,
		     "device error bits are not shown");
	cr_assert_eq(vdev.pdev.requester_id, SLOT << 3);
}

Test(vfio_pci, bars_are_sized_from_region_info)
{
	/* Before sizing: type bits only, the host's addresses hidden. */
	cr_assert_eq(cfg_rd(PCI_BAR0, 4),
		     PCI_BAR_MEM_64 | PCI_BAR_MEM_PREFETCH);
	cr_assert_eq(cfg_rd(PCI_BAR0 + 12, 4), 0);
	for (unsigned int b = 0; b < PCI_NUM_BARS; b++)
		cfg_wr(PCI_BAR0 + 4 * b, 0xffffffff, 4);
	cr_assert_eq(cfg_rd(PCI_BAR0, 4), (uint32_t) ~(BAR0_SIZE - 1) |
						  PCI_BAR_MEM_64 |
						  PCI_BAR_MEM_PREFETCH);
	cr_assert_eq(cfg_rd(PCI_BAR0 + 4, 4), 0xffffffff, "64-bit upper half");
	cr_assert_eq(cfg_rd(PCI_BAR0 + 8, 4), 0, "I/O BAR left out");
	cr_assert_eq(cfg_rd(PCI_BAR0 + 12, 4), (uint32_t) ~(BAR3_SIZE - 1));
	cr_assert_eq(cfg_rd(PCI_BAR0 + 16, 4), 0xfffff000,
		     "a 2 KiB BAR is emulated as a page");
	cr_assert_eq(cfg_rd(PCI_BAR0 + 20, 4), 0);
	cr_assert_eq(config_writes_to_device(), 0,
		     "BAR sizing never reaches the device");
}

Test(vfio_pci, rom_is_sized_enabled_and_read_through_the_region)
{
	uint8_t buf[4] = { 0 };

	cr_assert_eq(vdev.rom_size, ROM_SIZE);
	cr_assert_eq(cfg_rd(PCI_ROM_ADDRESS, 4), 0, "host address hidden");
	cfg_wr(PCI_ROM_ADDRESS, 0xfffff800, 4);
	cr_assert_eq(cfg_rd(PCI_ROM_ADDRESS, 4), (uint32_t) ~(ROM_SIZE - 1));
	cfg_wr(PCI_ROM_ADDRESS, 0x50000000 | 1, 4);
	cr_assert_eq(fdev.moves, 0, "not decoding while memory is off");
	cfg_wr(PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	cr_assert_eq(fdev.moves, 1);
	cr_assert_eq(fdev.move_bar, VFIO_PCI_ROM_REGION_INDEX);
	cr_assert(fdev.move_mapped);
	cr_assert_eq(fdev.move_addr, 0x50000000);
	/* The VMM maps the ROM with vfio_pci_rom_ops; reads hit region 6. */
	*(uint32_t *)buf =
		(uint32_t)vfio_pci_rom_ops.read(&vdev.rom_ref, 0x10, 4);
	cr_assert_eq(fdev.reads[fdev.nreads - 1].region,
		     VFIO_PCI_ROM_REGION_INDEX);
	cr_assert_eq(fdev.reads[fdev.nreads - 1].off, 0x10);
	cr_assert_eq(buf[0], 0x10 ^ (VFIO_PCI_ROM_REGION_INDEX << 4));
	vfio_pci_rom_ops.write(&vdev.rom_ref, 0, 0x1234, 4);
	cr_assert_eq(fdev.nwrites, 1, "only the Command write reached it");
	cfg_wr(PCI_ROM_ADDRESS, 0x50000000, 4);
	cr_assert_eq(fdev.moves, 2);
	cr_assert_not(fdev.move_mapped);
}

Test(vfio_pci, bar_relocation_and_trapped_access)
{
	uint64_t base = MMIO32 + 0x100000;

	cfg_wr(PCI_BAR0 + 12, (uint32_t)base, 4);
	cfg_wr(PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	cr_assert_eq(fdev.moves, 1);
	cr_assert_eq(fdev.move_bar, 3);
	cr_assert(fdev.move_mapped);
	cr_assert_eq(fdev.move_addr, base);

	/* Outside the MSI-X structures: straight to region 3 at the offset. */
	cr_assert_eq(mem_rd(base + 0x3004, 4),
		     (uint32_t)(0x04 ^ 0x30) | (uint32_t)(0x05 ^ 0x30) << 8 |
			     (uint32_t)(0x06 ^ 0x30) << 16 |
			     (uint32_t)(0x07 ^ 0x30) << 24);
	cr_assert_eq(fdev.reads[fdev.nreads - 1].region, 3);
	cr_assert_eq(fdev.reads[fdev.nreads - 1].off, 0x3004);
	mem_wr(base + 0x3008, 0xdeadbeef, 4);
	cr_assert_eq(fdev.writes[fdev.nwrites - 1].region, 3);
	cr_assert_eq(fdev.writes[fdev.nwrites - 1].off, 0x3008);
	cr_assert_eq(fdev.writes[fdev.nwrites - 1].val, 0xdeadbeef);

	/* Move it: unmapped at the old address, mapped at the new. */
	cfg_wr(PCI_BAR0 + 12, (uint32_t)base + 0x10000, 4);
	cr_assert_eq(fdev.moves, 3);
	cr_assert(fdev.move_mapped);
	cr_assert_eq(fdev.move_addr, base + 0x10000);
	cr_assert_eq(pci_bar_address(&vdev.pdev, 3), base + 0x10000);
}

Test(vfio_pci, trapped_access_past_the_region_is_refused)
{
	uint64_t base = MMIO32 + 0x200000;
	unsigned int reads;

	cfg_wr(PCI_BAR0 + 16, (uint32_t)base, 4);
	cfg_wr(PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	reads = fdev.nreads;
	/* BAR4 is emulated as 4 KiB but the device has 2 KiB. */
	cr_assert_eq(mem_rd(base + 0x900, 4), 0xffffffff);
	cr_assert_eq(mem_rd(base + 0x7fe, 4), 0xffffffff, "straddles the end");
	cr_assert_eq(fdev.nreads, reads);
	mem_wr(base + 0xffc, 1, 4);
	cr_assert_eq(fdev.writes[fdev.nwrites - 1].region,
		     VFIO_PCI_CONFIG_REGION_INDEX, "nothing reached BAR4");
	mem_rd(base + 0x7fc, 4);
	cr_assert_eq(fdev.nreads, reads + 1);
}

Test(vfio_pci, only_safe_capabilities_are_rebuilt)
{
	unsigned int order[8], n = 0;
	unsigned int p = cfg_rd(PCI_CAPABILITY_LIST, 1);

	cr_assert(cfg_rd(PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	for (; p && n < 8; p = cfg_rd(p + 1, 1)) {
		cr_assert_geq(p, 0x40);
		cr_assert_eq(p & 3, 0);
		order[n++] = cfg_rd(p, 1);
	}
	cr_assert_eq(n, 4);
	cr_assert_eq(order[0], 0x01);
	cr_assert_eq(order[1], PCI_CAP_ID_MSI);
	cr_assert_eq(order[2], PCI_CAP_ID_EXP);
	cr_assert_eq(order[3], PCI_CAP_ID_MSIX);
	cr_assert_eq(find_cap(PCI_CAP_ID_VNDR), 0);
	/* Extended config space is empty: the guest's walk stops at once. */
	cr_assert_eq(cfg_rd(0x100, 4), 0);
	cr_assert_eq(cfg_rd(0x140, 4), 0);
}

Test(vfio_pci, power_management_is_read_only_d0)
{
	unsigned int pm = find_cap(0x01);

	cr_assert_neq(pm, 0);
	cr_assert_eq(cfg_rd(pm + 2, 2), 0x0023, "no PME support offered");
	cr_assert_eq(cfg_rd(pm + 4, 2), 0x0008, "D0, No_Soft_Reset");
	cfg_wr(pm + 4, 0x8103, 2); /* D3hot, PME enable, PME status */
	cr_assert_eq(cfg_rd(pm + 4, 2), 0x0008);
	cr_assert_eq(config_writes_to_device(), 0);
}

Test(vfio_pci, pcie_is_copied_with_devctl_emulated)
{
	unsigned int exp = find_cap(PCI_CAP_ID_EXP);

	cr_assert_neq(exp, 0);
	cr_assert_eq(cfg_rd(exp + PCI_EXP_FLAGS, 2), 0x0002);
	cr_assert_eq(cfg_rd(exp + PCI_EXP_DEVCAP, 4), 0x00008cc1,
		     "FLR is not offered");
	cr_assert_eq(cfg_rd(exp + PCI_EXP_LNKCAP, 4), 0x00036c11);
	cr_assert_eq(cfg_rd(exp + PCI_EXP_LNKSTA, 2), 0x1011);
	cr_assert_eq(cfg_rd(exp + PCI_EXP_DEVCTL, 2), 0x2810);
	cfg_wr(exp + PCI_EXP_DEVCTL, 0xffff, 2);
	cr_assert_eq(cfg_rd(exp + PCI_EXP_DEVCTL, 2), 0x7fff,
		     "emulated, without Initiate FLR");
	cfg_wr(exp + PCI_EXP_LNKCAP, 0, 4);
	cr_assert_eq(cfg_rd(exp + PCI_EXP_LNKCAP, 4), 0x00036c11);
	cr_assert_eq(config_writes_to_device(), 0, "nothing forwarded");
	cr_assert_eq(get16(fdev.cfg, RCAP_EXP + PCI_EXP_DEVCTL), 0x2810);
}

Test(vfio_pci, command_bits_are_forwarded_read_modify_write)
{
	cfg_wr(PCI_COMMAND,
	       PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
	cr_assert_eq(cfg_rd(PCI_COMMAND, 2),
		     PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, "no I/O space");
	cr_assert_eq(config_writes_to_device(), 1);
	cr_assert_eq(fdev.writes[0].off, PCI_COMMAND);
	cr_assert_eq(fdev.writes[0].len, 2);
	cr_assert_eq(get16(fdev.cfg, PCI_COMMAND),
		     PCI_COMMAND_SERR | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER,
		     "the device's own SERR setting survives");

	/* SERR is emulated only; INTx disable goes through. */
	cfg_wr(PCI_COMMAND,
	       PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
		       PCI_COMMAND_INTX_DISABLE,
	       2);
	cr_assert_eq(get16(fdev.cfg, PCI_COMMAND),
		     PCI_COMMAND_SERR | PCI_COMMAND_MEMORY |
			     PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE);
	cfg_wr(PCI_COMMAND, 0, 2);
	cr_assert_eq(get16(fdev.cfg, PCI_COMMAND), PCI_COMMAND_SERR);
	/* A write that changes nothing on the device is not sent. */
	cfg_wr(PCI_COMMAND, PCI_COMMAND_SERR, 2);
	cr_assert_eq(config_writes_to_device(), 3);
	/* A write elsewhere does not touch the device's Command. */
	cfg_wr(PCI_CACHE_LINE_SIZE, 0x10, 1);
	cr_assert_eq(config_writes_to_device(), 3);
}

Test(vfio_pci, msix_table_is_trapped_and_enable_hands_over_fds)
{
	unsigned int cap = find_cap(PCI_CAP_ID_MSIX);
	uint64_t base = MMIO32 + 0x300000, toff, tlen, poff, plen;

	cr_assert_neq(cap, 0);
	cr_assert_eq(cfg_rd(cap + PCI_MSIX_FLAGS, 2), 4, "5 vectors");
	cr_assert_eq(cfg_rd(cap + PCI_MSIX_TABLE, 4), 3);
	cr_assert_eq(cfg_rd(cap + PCI_MSIX_PBA, 4), MSIX_PBA | 3);
	cr_assert_eq(vfio_pci_msix_bar(&vdev, &toff, &tlen, &poff, &plen), 3);
	cr_assert_eq(toff, 0);
	cr_assert_eq(tlen, 5 * MSIX_ENTRY_SIZE);
	cr_assert_eq(poff, MSIX_PBA);
	cr_assert_eq(plen, 8);
	cr_assert_eq(vfio_pci_msix_pba_bar(&vdev), 3);

	cfg_wr(PCI_BAR0 + 12, (uint32_t)base, 4);
	cfg_wr(PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
	fdev.nwrites = 0;
	/* Program vector 2 in the emulated table; nothing reaches BAR3. */
	mem_wr(base + 2 * 16 + PCI_MSIX_ENTRY_ADDR_LO, 0x08090040, 4);
	mem_wr(base + 2 * 16 + PCI_MSIX_ENTRY_DATA, 0x33, 4);
	mem_wr(base + 2 * 16 + PCI_MSIX_ENTRY_CTRL, 0, 4);
	cr_assert_eq(mem_rd(base + 2 * 16 + PCI_MSIX_ENTRY_DATA, 4), 0x33);
	cr_assert_eq(mem_rd(base + 0 * 16 + PCI_MSIX_ENTRY_CTRL, 4), 1,
		     "vectors reset masked");
	cr_assert_eq(mem_rd(base + MSIX_PBA, 8), 0);
	mem_wr(base + MSIX_PBA, ~0ULL, 8); /* read-only */
	cr_assert_eq(mem_rd(base + MSIX_PBA, 8), 0);
	cr_assert_eq(fdev.nwrites, 0);
	cr_assert_eq(fdev.irq_calls, 0);

	cfg_wr(cap + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE, 2);
	cr_assert_eq(fdev.irq_calls, 1);
	cr_assert_eq(fdev.irq_index, VFIO_PCI_MSIX_IRQ_INDEX);
	cr_assert_eq(fdev.irq_n, 5);
	for (unsigned int i = 0; i < 5; i++) {
		cr_assert_geq(fdev.irq_fds[i], 0);
		cr_assert_eq(fdev.irq_fds[i], vdev.msix.vec[i].fd);
		for (unsigned int j = 0; j < i; j++)
			cr_assert_neq(fdev.irq_fds[i], fdev.irq_fds[j]);
	}
	/* The unmasked vector got its route with the requester ID. */
	cr_assert_eq(live_routes(), 1);
	cr_assert_eq(routes[0].fd, vdev.msix.vec[2].fd);
	cr_assert_eq(routes[0].data, 0x33);
	cr_assert_eq(routes[0].devid, SLOT << 3);

	/*
	 * Masking unbinds the route: the device signals the eventfd itself,
	 * so a bound route would deliver through the mask.
	 */
	mem_wr(base + 2 * 16 + PCI_MSIX_ENTRY_CTRL, 1, 4);
	cr_assert_eq(live_routes(), 0);
	mem_wr(base + 2 * 16 + PCI_MSIX_ENTRY_CTRL, 0, 4);
	cr_assert_eq(live_routes(), 1);
	cr_assert_eq(routes[1].data, 0x33);

	/* Function mask: unbound too, and the device is not re-programmed. */
	cfg_wr(cap + PCI_MSIX_FLAGS,
	       PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL, 2);
	cr_assert_eq(fdev.irq_calls, 1);
	cr_assert_eq(live_routes(), 0);
	cfg_wr(cap + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE, 2);
	cr_assert_eq(live_routes(), 1);

	cfg_wr(cap + PCI_MSIX_FLAGS, 0, 2);
	cr_assert_eq(fdev.irq_calls, 2);
	cr_assert_eq(fdev.irq_index, VFIO_PCI_MSIX_IRQ_INDEX);
	cr_assert_eq(fdev.irq_n, 0);
	cr_assert_eq(config_writes_to_device(), 0,
		     "the real MSI-X capability is VFIO's to program");
}

Test(vfio_pci, msi_enable_with_one_and_four_vectors)
{
	unsigned int cap = find_cap(PCI_CAP_ID_MSI);
	uint16_t ctl;

	cr_assert_neq(cap, 0);
	ctl = cfg_rd(cap + PCI_MSI_FLAGS, 2);
	cr_assert_eq(ctl, PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_MASKBIT | 2 << 1);

	cfg_wr(cap + PCI_MSI_ADDRESS_LO, 0x08090040, 4);
	cfg_wr(cap + PCI_MSI_ADDRESS_HI, 0, 4);
	cfg_wr(cap + PCI_MSI_DATA_64, 0x60, 2);
	cfg_wr(cap + PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE, 2);
	cr_assert_eq(fdev.irq_calls, 1);
	cr_assert_eq(fdev.irq_index, VFIO_PCI_MSI_IRQ_INDEX);
	cr_assert_eq(fdev.irq_n, 1);
	cr_assert_eq(fdev.irq_fds[0], vdev.msi.fd[0]);
	cr_assert_eq(live_routes(), 1);
	cr_assert_eq(routes[0].addr, 0x08090040);
	cr_assert_eq(routes[0].data, 0x60);
	cr_assert_eq(routes[0].devid, SLOT << 3);

	/* Now four: the device is told again, each vector has its data. */
	cfg_wr(cap + PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE | 2 << 4, 2);
	cr_assert_eq(fdev.irq_calls, 3, "disable, then enable with 4");
	cr_assert_eq(fdev.irq_n, 4);
	cr_assert_eq(live_routes(), 4);
	for (unsigned int i = 0; i < 4; i++) {
		bool found = false;

		cr_assert_eq(fdev.irq_fds[i], vdev.msi.fd[i]);
		for (unsigned int r = 0; r < nroutes; r++)
			if (routes[r].live && routes[r].fd == vdev.msi.fd[i]) {
				cr_assert_eq(routes[r].data, 0x60 | i);
				cr_assert_eq(routes[r].devid, SLOT << 3);
				found = true;
			}
		cr_assert(found);
	}

	/* Masking vector 3 unbinds it. */
	cfg_wr(cap + PCI_MSI_MASK_64, 1U << 3, 4);
	cr_assert_eq(live_routes(), 3);
	cfg_wr(cap + PCI_MSI_MASK_64, 0, 4);
	cr_assert_eq(live_routes(), 4);

	cfg_wr(cap + PCI_MSI_FLAGS, 0, 2);
	cr_assert_eq(fdev.irq_n, 0);
	cr_assert_eq(live_routes(), 0);
	cr_assert_eq(config_writes_to_device(), 0);
}

Test(vfio_pci, hostile_writes_to_read_only_fields)
{
	unsigned int msix = find_cap(PCI_CAP_ID_MSIX);
	uint8_t before[PCI_CFG_STD_SIZE];

	/* Every register the guest must not change, written with ones. */
	cfg_wr(PCI_VENDOR_ID, 0xffffffff, 4);
	cfg_wr(PCI_REVISION_ID, 0xffffffff, 4);
	cfg_wr(PCI_HEADER_TYPE, 0xff, 1);
	cfg_wr(PCI_SUBSYSTEM_VENDOR_ID, 0xffffffff, 4);
	cfg_wr(PCI_CAPABILITY_LIST, 0xff, 1);
	cfg_wr(PCI_INTERRUPT_PIN, 0xff, 1);
	cfg_wr(msix + PCI_MSIX_FLAGS, 0x07ff, 2);
	cfg_wr(msix + PCI_MSIX_TABLE, 0xffffffff, 4);
	cfg_wr(msix + PCI_MSIX_PBA, 0xffffffff, 4);
	cfg_wr(0x100, 0xffffffff, 4);
	cfg_wr(0xffc, 0xffffffff, 4);
	cr_assert_eq(cfg_rd(PCI_VENDOR_ID, 4), 0x10d38086);
	cr_assert_eq(cfg_rd(PCI_REVISION_ID, 4), 0x02000003);
	cr_assert_eq(cfg_rd(PCI_HEADER_TYPE, 1), 0);
	cr_assert_eq(cfg_rd(PCI_SUBSYSTEM_VENDOR_ID, 4), 0xa01f8086);
	cr_assert_eq(cfg_rd(PCI_INTERRUPT_PIN, 1), 1);
	cr_assert_eq(cfg_rd(msix + PCI_MSIX_FLAGS, 2) & PCI_MSIX_FLAGS_QSIZE,
		     4);
	cr_assert_eq(cfg_rd(msix + PCI_MSIX_TABLE, 4), 3);
	cr_assert_eq(cfg_rd(msix + PCI_MSIX_PBA, 4), MSIX_PBA | 3);
	cr_assert_eq(cfg_rd(0x100, 4), 0);
	cr_assert_eq(cfg_rd(0xffc, 4), 0);
	cr_assert_eq(find_cap(PCI_CAP_ID_MSIX), msix);
	cr_assert_eq(config_writes_to_device(), 0);

	/* Byte-wise ones over the whole header and capability area. */
	memcpy(before, fdev.cfg, sizeof(before));
	for (unsigned int off = 0; off < PCI_CFG_STD_SIZE; off++)
		if (off != PCI_COMMAND && off != PCI_COMMAND + 1)
			cfg_wr(off, 0xff, 1);
	cr_assert_eq(memcmp(before, fdev.cfg, sizeof(before)), 0,
		     "nothing but Command is ever written to the device");
	cr_assert_eq(cfg_rd(PCI_VENDOR_ID, 4), 0x10d38086);
}

/* Malformed real capability chains: the walk stops at the bad link. */
static unsigned int count_caps(void)
{
	unsigned int n = 0;

	for (unsigned int p = cfg_rd(PCI_CAPABILITY_LIST, 1); p && n < 64;
	     p = cfg_rd(p + 1, 1))
		n++;
	return n;
}

static void restart(void)
{
	vfio_pci_destroy(&vdev);
	start();
}

Test(vfio_pci, capability_loop_is_cut)
{
	fdev.cfg[RCAP_MSIX + 1] = RCAP_PM;
	restart();
	cr_assert_eq(count_caps(), 4);
	fdev.cfg[RCAP_PM + 1] = RCAP_PM; /* self loop */
	restart();
	cr_assert_eq(count_caps(), 1);
	cr_assert_neq(find_cap(0x01), 0);
}

Test(vfio_pci, pointer_below_0x40_or_unaligned_ends_the_walk)
{
	fdev.cfg[RCAP_MSI + 1] = 0x20; /* into the header */
	restart();
	cr_assert_eq(count_caps(), 2, "PM and MSI kept");
	cr_assert_eq(find_cap(PCI_CAP_ID_MSIX), 0);
	cr_assert_eq(vfio_pci_msix_bar(&vdev, &(uint64_t){ 0 },
				       &(uint64_t){ 0 }, &(uint64_t){ 0 },
				       &(uint64_t){ 0 }),
		     -1);

	build_fake();
	fdev.cfg[RCAP_MSI + 1] = RCAP_VNDR + 1; /* unaligned */
	restart();
	cr_assert_eq(count_caps(), 2);

	build_fake();
	fdev.cfg[PCI_CAPABILITY_LIST] = 0x3c;
	restart();
	cr_assert_eq(count_caps(), 0);
	cr_assert_eq(cfg_rd(PCI_STATUS, 2) & PCI_STATUS_CAP_LIST, 0);
}

Test(vfio_pci, capability_running_past_0xff_is_dropped)
{
	/* MSI 64-bit maskable is 24 bytes: at 0xf0 it would end at 0x108. */
	memcpy(&fdev.cfg[0xf0], &fdev.cfg[RCAP_MSI], 4);
	fdev.cfg[RCAP_PM + 1] = 0xf0;
	fdev.cfg[0xf1] = RCAP_VNDR;
	restart();
	cr_assert_eq(find_cap(PCI_CAP_ID_MSI), 0);
	cr_assert_neq(find_cap(PCI_CAP_ID_EXP), 0);
	cr_assert_neq(find_cap(PCI_CAP_ID_MSIX), 0);
	cr_assert_eq(count_caps(), 3);
}

Test(vfio_pci, msix_outside_its_bar_is_hidden)
{
	set32(fdev.cfg, RCAP_MSIX + PCI_MSIX_PBA, BAR3_SIZE | 3);
	restart();
	cr_assert_eq(find_cap(PCI_CAP_ID_MSIX), 0);
	build_fake();
	set32(fdev.cfg, RCAP_MSIX + PCI_MSIX_TABLE, 2); /* the I/O BAR */
	restart();
	cr_assert_eq(find_cap(PCI_CAP_ID_MSIX), 0);
	build_fake();
	set32(fdev.cfg, RCAP_MSIX + PCI_MSIX_TABLE, 7);
	restart();
	cr_assert_eq(find_cap(PCI_CAP_ID_MSIX), 0);
	cr_assert_neq(find_cap(PCI_CAP_ID_MSI), 0);
}

Test(vfio_pci, msi_without_vfio_vectors_is_hidden)
{
	info.irq_count[VFIO_PCI_MSI_IRQ_INDEX] = 0;
	restart();
	cr_assert_eq(find_cap(PCI_CAP_ID_MSI), 0);
	build_fake();
	info.irq_count[VFIO_PCI_MSI_IRQ_INDEX] = 2;
	restart();
	cr_assert_eq((cfg_rd(find_cap(PCI_CAP_ID_MSI) + PCI_MSI_FLAGS, 2) &
		      PCI_MSI_FLAGS_QMASK) >>
			     1,
		     1, "capped at what VFIO offers");
}

Test(vfio_pci, bridges_are_refused)
{
	vfio_pci_destroy(&vdev);
	fdev.cfg[PCI_HEADER_TYPE] = 1;
	cr_assert_eq(init_dev(), -EINVAL);
	cr_assert(strstr(err, "bridge"), "%s", err);
	fdev.cfg[PCI_HEADER_TYPE] = 0x81;
	cr_assert_eq(init_dev(), -EINVAL);
	set16(fdev.cfg, PCI_VENDOR_ID, 0xffff);
	fdev.cfg[PCI_HEADER_TYPE] = 0;
	cr_assert_eq(init_dev(), -ENODEV);
	cr_assert(strstr(err, "all ones"), "%s", err);
	/* Leave a valid device for the teardown. */
	build_fake();
	cr_assert_eq(init_dev(), 0);
}

Test(vfio_pci, multi_function_bit_is_cleared)
{
	fdev.cfg[PCI_HEADER_TYPE] = 0x80;
	restart();
	cr_assert_eq(cfg_rd(PCI_HEADER_TYPE, 1), 0);
}

Test(vfio_pci, bad_bar_layouts_are_refused)
{
	vfio_pci_destroy(&vdev);
	set32(fdev.cfg, PCI_BAR0 + 20, 0x4); /* 64-bit BAR5 */
	info.region[VFIO_PCI_BAR5_REGION_INDEX].size = 0x1000;
	cr_assert_eq(init_dev(), -EINVAL);
	cr_assert(strstr(err, "BAR5"), "%s", err);
	build_fake();
	info.region[VFIO_PCI_BAR3_REGION_INDEX].size = 1ULL << 32; /* 32-bit */
	cr_assert_neq(init_dev(), 0);
	cr_assert(strstr(err, "BAR3"), "%s", err);
	build_fake();
	cr_assert_eq(init_dev(), 0);
}
