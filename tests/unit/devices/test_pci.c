// SPDX-License-Identifier: GPL-2.0
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "devices/msix.h"
#include "devices/pci_bridge.h"
#include "devices/pci_host.h"

static uint64_t bar_read(void *o, uint64_t off, unsigned int len)
{
	(void)o;
	(void)len;
	return 0xabcd0000 | off;
}

static const struct mmio_ops bar_ops = { .read = bar_read };

struct moves {
	int n;
	bool mapped;
	uint64_t addr;
};

static void bar_moved(struct pci_dev *pdev, unsigned int bar, bool mapped,
		      uint64_t addr)
{
	struct moves *m = pdev->priv;

	(void)bar;
	m->n++;
	m->mapped = mapped;
	m->addr = addr;
}

static const struct pci_dev_ops dev_ops = { .bar_moved = bar_moved };

static struct mmio_bus bus;
static struct pci_host host;
static struct pci_dev dev;
static struct moves moves;

#define ECAM 0x30000000ULL
#define SLOT 3

static void setup(void)
{
	mmio_bus_init(&bus);
	pci_host_init(&host, &bus, ECAM, 0x10000000, 0x40000000, 0x40000000,
		      0x4000000000ULL, 1ULL << 36);
	cr_assert_eq(mmio_bus_add(&bus, ECAM, 0x10000000, &pci_host_ecam_ops,
				  &host, "ecam"),
		     0);
	pci_dev_init(&dev, 0x1af4, 0x1042, 0x018000, 1);
	dev.ops = &dev_ops;
	dev.priv = &moves;
	dev.name = "test";
	memset(&moves, 0, sizeof(moves));
	cr_assert_eq(pci_set_bar(&dev, 4, 0x8000, true, false, &bar_ops, &dev),
		     0);
	cr_assert_eq(pci_host_add(&host, &dev, SLOT), SLOT);
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

TestSuite(pci, .init = setup);

Test(pci, ecam_decodes_ids_and_empty_slots)
{
	uint8_t d[4];

	cr_assert_eq(cfg_rd(PCI_VENDOR_ID, 2), 0x1af4);
	cr_assert_eq(cfg_rd(PCI_DEVICE_ID, 2), 0x1042);
	cr_assert_eq(cfg_rd(PCI_REVISION_ID, 4) >> 16, 0x0180);
	/* An empty slot and a nonzero function read all ones. */
	mmio_bus_access(&bus, ECAM + (7 << 15), d, 4, false);
	cr_assert_eq(d[0] & d[1] & d[2] & d[3], 0xff);
	mmio_bus_access(&bus, ECAM + (SLOT << 15) + (1 << 12), d, 2, false);
	cr_assert_eq(d[0] & d[1], 0xff);
	cr_assert_eq(dev.requester_id, SLOT << 3);
}

Test(pci, bar_sizing_protocol)
{
	cr_assert_eq(cfg_rd(PCI_BAR0 + 16, 4), PCI_BAR_MEM_64);
	cfg_wr(PCI_BAR0 + 16, 0xffffffff, 4);
	cfg_wr(PCI_BAR0 + 20, 0xffffffff, 4);
	cr_assert_eq(cfg_rd(PCI_BAR0 + 16, 4), 0xffff8000 | PCI_BAR_MEM_64,
		     "32 KiB, 64-bit");
	cr_assert_eq(cfg_rd(PCI_BAR0 + 20, 4), 0xffffffff);
	/* Unimplemented BARs stay zero. */
	cfg_wr(PCI_BAR0, 0xffffffff, 4);
	cr_assert_eq(cfg_rd(PCI_BAR0, 4), 0);
	cr_assert_eq(moves.n, 0, "nothing decodes while MEM is off");
}

Test(pci, bar_maps_when_memory_decoding_is_enabled_and_moves)
{
	uint8_t d[4];

	cfg_wr(PCI_BAR0 + 16, 0x40010000, 4);
	cfg_wr(PCI_BAR0 + 20, 0, 4);
	cr_assert_eq(moves.n, 0);
	cfg_wr(PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	cr_assert_eq(moves.n, 1);
	cr_assert(moves.mapped);
	cr_assert_eq(moves.addr, 0x40010000);
	cr_assert_eq(mmio_bus_access(&bus, 0x40010010, d, 4, false), 0);
	cr_assert_eq(d[0], 0x10);

	/* Relocation while decoding: old range gone, new one live. */
	cfg_wr(PCI_BAR0 + 16, 0x40020000, 4);
	cr_assert(moves.mapped);
	cr_assert_eq(moves.addr, 0x40020000);
	cr_assert_eq(mmio_bus_access(&bus, 0x40010010, d, 4, false), -ENOENT);
	cr_assert_eq(mmio_bus_access(&bus, 0x40020010, d, 4, false), 0);

	cfg_wr(PCI_COMMAND, 0, 2);
	cr_assert_not(moves.mapped);
	cr_assert_eq(mmio_bus_access(&bus, 0x40020010, d, 4, false), -ENOENT);
}

Test(pci, bar_outside_the_windows_does_not_decode)
{
	uint8_t d[4];

	/* A hostile guest points the BAR at RAM, the ECAM or the UART. */
	cfg_wr(PCI_BAR0 + 16, 0x09000000, 4);
	cfg_wr(PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	cr_assert_eq(moves.n, 0);
	cfg_wr(PCI_BAR0 + 16, ECAM, 4);
	cr_assert_eq(moves.n, 0);
	cr_assert_eq(mmio_bus_access(&bus, ECAM, d, 2, false), 0,
		     "ECAM intact");
	/* 64-bit window is fine. */
	cfg_wr(PCI_BAR0 + 16, 0, 4);
	cfg_wr(PCI_BAR0 + 20, 0x40, 4);
	cr_assert(moves.mapped);
	cr_assert_eq(moves.addr, 0x4000000000ULL);
}

Test(pci, read_only_and_write_one_to_clear)
{
	cfg_wr(PCI_VENDOR_ID, 0x1234, 2);
	cr_assert_eq(cfg_rd(PCI_VENDOR_ID, 2), 0x1af4);
	dev.cfg[PCI_STATUS + 1] = 0x80; /* detected parity error */
	cfg_wr(PCI_STATUS, 0x8000, 2);
	cr_assert_eq(cfg_rd(PCI_STATUS, 2) & 0x8000, 0);
	cfg_wr(PCI_INTERRUPT_LINE, 0x5a, 1);
	cr_assert_eq(cfg_rd(PCI_INTERRUPT_LINE, 1), 0x5a);
}

Test(pci, capability_list_is_walkable)
{
	int a = pci_add_pcie_capability(&dev, true);
	int b = pci_add_capability(&dev, PCI_CAP_ID_VNDR, 16);
	unsigned int seen = 0, p;

	cr_assert_gt(a, 0);
	cr_assert_gt(b, a);
	cr_assert(cfg_rd(PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	for (p = cfg_rd(PCI_CAPABILITY_LIST, 1); p; p = cfg_rd(p + 1, 1)) {
		cr_assert_eq(p % 4, 0);
		cr_assert_lt(p, 256);
		seen++;
		cr_assert_lt(seen, 10, "capability list loops");
	}
	cr_assert_eq(seen, 2);
	cr_assert_eq(cfg_rd(a, 1), PCI_CAP_ID_EXP);
	/* The list cannot grow past the standard config space. */
	for (int i = 0; i < 20; i++)
		pci_add_capability(&dev, PCI_CAP_ID_VNDR, 16);
	cr_assert_eq(pci_add_capability(&dev, PCI_CAP_ID_VNDR, 16), -ENOSPC);
}

Test(pci, unaligned_and_oversized_config_accesses)
{
	uint8_t d[8] = { 0 };

	cr_assert_eq(
		mmio_bus_access(&bus, ECAM + (SLOT << 15) + 1, d, 2, false), 0);
	cr_assert_eq(d[0] & d[1], 0xff, "unaligned reads all ones");
	memset(d, 0xff, sizeof(d));
	cr_assert_eq(mmio_bus_access(&bus, ECAM + (SLOT << 15), d, 8, true), 0);
	cr_assert_eq(cfg_rd(PCI_COMMAND, 2), 0, "8-byte write ignored");
}

/* --- MSI-X --- */

TestSuite(msix, .init = setup);

struct fake_router {
	int adds, updates;
	uint64_t addr;
	uint32_t data, devid;
};

static int fr_add(void *o, uint64_t addr, uint32_t data, uint32_t devid, int fd)
{
	struct fake_router *r = o;

	(void)fd;
	r->adds++;
	r->addr = addr;
	r->data = data;
	r->devid = devid;
	return r->adds - 1;
}

static int fr_update(void *o, int route, uint64_t addr, uint32_t data,
		     uint32_t devid)
{
	struct fake_router *r = o;

	(void)route;
	r->updates++;
	r->addr = addr;
	r->data = data;
	r->devid = devid;
	return 0;
}

static void fr_del(void *o, int route, int fd)
{
	(void)o;
	(void)route;
	(void)fd;
}

static uint64_t fired(int fd)
{
	uint64_t v = 0;

	if (read(fd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

Test(msix, masking_routes_and_pending_bits)
{
	struct fake_router fr = { 0 };
	const struct host_ops h = { .msi_route_add = fr_add,
				    .msi_route_update = fr_update,
				    .msi_route_del = fr_del,
				    .opaque = &fr };
	static struct msix m;
	int cap;

	cr_assert_eq(msix_init(&m, &dev, 3, 4, 0x4000, 0x5000, &h), 0);
	cap = m.cap;
	cr_assert_eq(pci_cfg_get16(&dev, cap + PCI_MSIX_FLAGS) &
			     PCI_MSIX_FLAGS_QSIZE,
		     2);
	cr_assert_eq(pci_cfg_get32(&dev, cap + PCI_MSIX_TABLE), 0x4000 | 4);

	/* Disabled: notify does nothing and reports it. */
	cr_assert_not(msix_notify(&m, 0));

	/* Enable; vectors reset masked: an interrupt goes to the PBA. */
	pci_config_write(&dev, cap + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE, 2);
	msix_config_written(&m, cap + PCI_MSIX_FLAGS, 2);
	cr_assert_eq(msix_table_read(&m, 16 + PCI_MSIX_ENTRY_CTRL, 4), 1);
	cr_assert(msix_notify(&m, 1));
	cr_assert(msix_is_pending(&m, 1));
	cr_assert_eq(msix_pba_read(&m, 0, 4), 2);
	cr_assert_eq(fr.adds, 0, "no route for a masked vector");

	/* Program and unmask: the route appears, the pending message fires. */
	msix_table_write(&m, 16 + PCI_MSIX_ENTRY_ADDR_LO, 0x0a010040, 4);
	msix_table_write(&m, 16 + PCI_MSIX_ENTRY_ADDR_HI, 0, 4);
	msix_table_write(&m, 16 + PCI_MSIX_ENTRY_DATA, 0x21, 4);
	cr_assert_eq(fr.adds, 0);
	msix_table_write(&m, 16 + PCI_MSIX_ENTRY_CTRL, 0, 4);
	cr_assert_eq(fr.adds, 1);
	cr_assert_eq(fr.addr, 0x0a010040);
	cr_assert_eq(fr.data, 0x21);
	cr_assert_eq(fr.devid, SLOT << 3, "requester ID is the ITS device ID");
	cr_assert_not(msix_is_pending(&m, 1));
	cr_assert_eq(fired(m.vec[1].fd), 1,
		     "pending message delivered on unmask");

	/* Live vector: direct delivery. */
	cr_assert(msix_notify(&m, 1));
	cr_assert_eq(fired(m.vec[1].fd), 1);

	/* Function mask holds everything in the PBA. */
	pci_config_write(&dev, cap + PCI_MSIX_FLAGS,
			 PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL, 2);
	msix_config_written(&m, cap + PCI_MSIX_FLAGS, 2);
	cr_assert(msix_notify(&m, 1));
	cr_assert_eq(fired(m.vec[1].fd), 0);
	cr_assert(msix_is_pending(&m, 1));
	pci_config_write(&dev, cap + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE, 2);
	msix_config_written(&m, cap + PCI_MSIX_FLAGS, 2);
	cr_assert_eq(fired(m.vec[1].fd), 1);

	/* Retargeting a live vector updates its route in place. */
	msix_table_write(&m, 16 + PCI_MSIX_ENTRY_DATA, 0x22, 4);
	cr_assert_eq(fr.updates, 1);
	cr_assert_eq(fr.data, 0x22);
	msix_destroy(&m);
}

Test(msix, hostile_table_accesses)
{
	const struct host_ops h = { 0 };
	static struct msix m;

	cr_assert_eq(msix_init(&m, &dev, 2, 4, 0x4000, 0x5000, &h), 0);
	msix_table_write(&m, 2 * MSIX_ENTRY_SIZE, 0, 4); /* beyond the table */
	msix_table_write(&m, 1, 0, 4);			 /* unaligned */
	msix_table_write(&m, 0, 0, 2);			 /* 2-byte */
	cr_assert_eq(msix_table_read(&m, 2 * MSIX_ENTRY_SIZE, 4), 0);
	cr_assert_eq(msix_table_read(&m, 0, 1), 0);
	cr_assert_eq(msix_pba_read(&m, 64, 4), 0);
	cr_assert_not(msix_notify(&m, 200));
	cr_assert_eq(msix_init(&m, &dev, 0, 4, 0, 0, &h), -EINVAL);
	cr_assert_eq(msix_init(&m, &dev, MSIX_MAX_VECTORS + 1, 4, 0, 0, &h),
		     -EINVAL);
}

/* --- PCIe-to-PCI bridge --- */

Test(pci, devices_behind_a_bridge_appear_on_its_secondary_bus_and_alias)
{
	static struct pci_bridge br;
	static struct pci_dev a, b;
	uint8_t d[4];

	pci_bridge_init(&br, 0);
	cr_assert_eq(pci_host_add(&host, &br.pdev, 5), 5);
	pci_dev_init(&a, 0x1af4, 0x1042, 0x018000, 1);
	pci_dev_init(&b, 0x1af4, 0x1044, 0xff0000, 1);
	cr_assert_eq(pci_bridge_add(&br, &a, -1), 0);
	cr_assert_eq(pci_bridge_add(&br, &b, -1), 1);

	/* Type 1 header, class bridge, a PCIe cap of type PCI bridge. */
	mmio_bus_access(&bus, ECAM + (5 << 15) + PCI_HEADER_TYPE, d, 1, false);
	cr_assert_eq(d[0], PCI_HEADER_TYPE_BRIDGE);

	/* Before the guest numbers the bus, nothing answers behind it. */
	mmio_bus_access(&bus, ECAM + (1 << 20), d, 2, false);
	cr_assert_eq(d[0] & d[1], 0xff);

	/* The guest makes it bus 1: devices answer at 01:00.0 and 01:01.0. */
	d[0] = 1;
	mmio_bus_access(&bus, ECAM + (5 << 15) + PCI_SECONDARY_BUS, d, 1, true);
	mmio_bus_access(&bus, ECAM + (5 << 15) + PCI_SUBORDINATE_BUS, d, 1,
			true);
	cr_assert_eq(pci_bridge_secondary_bus(&br), 1);
	cr_assert_eq(mmio_bus_access(&bus, ECAM + (1 << 20) + PCI_DEVICE_ID, d,
				     2, false),
		     0);
	cr_assert_eq(d[0] | d[1] << 8, 0x1042, "got %x", d[0] | d[1] << 8);
	mmio_bus_access(&bus, ECAM + (1 << 20) + (1 << 15) + PCI_DEVICE_ID, d,
			2, false);
	cr_assert_eq(d[0] | d[1] << 8, 0x1044);

	/* Both carry the bridge's (secondary bus, devfn 0) upstream. */
	cr_assert_eq(pci_requester_id(&a), 0x0100);
	cr_assert_eq(pci_requester_id(&b), 0x0100);
	cr_assert_eq(pci_requester_id(&dev), SLOT << 3, "root-bus device");

	/* Renumbering moves them and their alias. */
	d[0] = 7;
	mmio_bus_access(&bus, ECAM + (5 << 15) + PCI_SECONDARY_BUS, d, 1, true);
	cr_assert_eq(pci_requester_id(&a), 0x0700);
	mmio_bus_access(&bus, ECAM + (7 << 20) + PCI_DEVICE_ID, d, 2, false);
	cr_assert_eq(d[0] | d[1] << 8, 0x1042, "got %x", d[0] | d[1] << 8);
}

Test(pci, intx_swizzles_by_slot_and_through_the_bridge)
{
	static struct pci_bridge br;
	static struct pci_dev a;

	dev.cfg[PCI_INTERRUPT_PIN] = 1; /* INTA, slot 3 */
	cr_assert_eq(pci_intx_spi(&dev, 64), 64 + 3);
	dev.cfg[PCI_INTERRUPT_PIN] = 2; /* INTB, slot 3 */
	cr_assert_eq(pci_intx_spi(&dev, 64), 64 + 0);

	pci_bridge_init(&br, 0);
	cr_assert_eq(pci_host_add(&host, &br.pdev, 1), 1);
	pci_dev_init(&a, 0x1af4, 0x1042, 0x018000, 1);
	a.cfg[PCI_INTERRUPT_PIN] = 1;
	cr_assert_eq(pci_bridge_add(&br, &a, 2), 2);
	/* INTA of slot 2 behind the bridge -> bridge pin INTC -> slot 1:
	 * (2+1)%4 */
	cr_assert_eq(pci_intx_spi(&a, 64), 64 + 3);
}

static int spi_last = -1, spi_level = -1;
static void record_spi(void *o, unsigned int spi, bool level)
{
	(void)o;
	spi_last = spi;
	spi_level = level;
}

Test(pci, intx_line_follows_status_and_intx_disable)
{
	dev.cfg[PCI_INTERRUPT_PIN] = 1;
	pci_set_intx(&dev, true, record_spi, NULL, 64);
	cr_assert_eq(spi_last, 64 + 3);
	cr_assert_eq(spi_level, 1);
	cr_assert(cfg_rd(PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	cfg_wr(PCI_COMMAND, PCI_COMMAND_INTX_DISABLE, 2);
	pci_set_intx(&dev, true, record_spi, NULL, 64);
	cr_assert_eq(spi_level, 0, "INTx disabled: line low, status still set");
	cr_assert(cfg_rd(PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	pci_set_intx(&dev, false, record_spi, NULL, 64);
	cr_assert_not(cfg_rd(PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
}
