// SPDX-License-Identifier: GPL-2.0
// Just enough PCI to find the test device on bus 0 of the ECAM, give its
// BAR0 an address in the 32-bit window and program its MSI-X vectors.
// Config space layout: PCI Local Bus 3.0, 6.1 and 6.8.2 (MSI-X).

#include "pci.h"
#include "platform.h"

#define PCI_VENDOR_ID	     0x00
#define PCI_COMMAND	     0x04
#define PCI_COMMAND_MEMORY   BIT(1)
#define PCI_COMMAND_MASTER   BIT(2)
#define PCI_COMMAND_INTX_OFF BIT(10)
#define PCI_STATUS	     0x06
#define PCI_STATUS_CAP_LIST  BIT(4)
#define PCI_HEADER_TYPE	     0x0e
#define PCI_HEADER_MULTIFN   BIT(7)
#define PCI_BAR0	     0x10
#define PCI_BAR_IO	     BIT(0)
#define PCI_BAR_TYPE_MASK    (3U << 1)
#define PCI_BAR_TYPE_64	     (2U << 1)
#define PCI_BAR_MEM_MASK     0xfffffff0U
#define PCI_CAP_PTR	     0x34
#define PCI_CAP_ID_MSIX	     0x11
#define PCI_CAP_WALK_MAX     48 /* (256 - 64) / 4: a loop guard */

#define MSIX_CTRL	   2
#define MSIX_CTRL_SIZE(c)  (((c)&0x7ff) + 1)
#define MSIX_CTRL_MASKALL  BIT(14)
#define MSIX_CTRL_ENABLE   BIT(15)
#define MSIX_TABLE	   4
#define MSIX_BIR(v)	   ((v)&7)
#define MSIX_OFFSET(v)	   ((v) & ~7U)
#define MSIX_ENTRY_SIZE	   16
#define MSIX_ENTRY_ADDR_LO 0
#define MSIX_ENTRY_ADDR_HI 4
#define MSIX_ENTRY_DATA	   8
#define MSIX_ENTRY_CTRL	   12
#define MSIX_ENTRY_MASKED  BIT(0)

const char *pci_error;

static uintptr_t ecam_fn(unsigned int bus, unsigned int dev, unsigned int fn)
{
	return PCI_ECAM_BASE + ((uintptr_t)bus << 20) + ((uintptr_t)dev << 15) +
	       ((uintptr_t)fn << 12);
}

static int fail(const char *what)
{
	pci_error = what;
	return -1;
}

static int testdev_bar0(struct testdev *td)
{
	uintptr_t bar = td->ecam + PCI_BAR0;
	u32 orig = mmio_read32(bar), mask;
	int is64 = (orig & PCI_BAR_TYPE_MASK) == PCI_BAR_TYPE_64;
	uintptr_t addr;

	if (orig & PCI_BAR_IO)
		return fail("testdev-bar0-is-io");
	mmio_write32(bar, 0xffffffff);
	mask = mmio_read32(bar) & PCI_BAR_MEM_MASK;
	if (!mask)
		return fail("testdev-bar0-not-implemented");
	td->bar0_size = ~mask + 1;
	if (td->bar0_size > PCI_MMIO32_SIZE)
		return fail("testdev-bar0-too-large");
	/* Nothing else gets decoding enabled, so the window's start is ours. */
	addr = (PCI_MMIO32_BASE + td->bar0_size - 1) &
	       ~((uintptr_t)td->bar0_size - 1);
	mmio_write32(bar, (u32)addr);
	if (is64)
		mmio_write32(bar + 4, 0);
	if ((mmio_read32(bar) & PCI_BAR_MEM_MASK) != addr)
		return fail("testdev-bar0-address-not-taken");
	td->bar0 = addr;
	return 0;
}

static unsigned int find_cap(uintptr_t cfg, u8 id)
{
	unsigned int ptr;

	if (!(mmio_read16(cfg + PCI_STATUS) & PCI_STATUS_CAP_LIST))
		return 0;
	ptr = mmio_read8(cfg + PCI_CAP_PTR) & 0xfc;
	for (unsigned int i = 0; ptr && i < PCI_CAP_WALK_MAX; i++) {
		if (mmio_read8(cfg + ptr) == id)
			return ptr;
		ptr = mmio_read8(cfg + ptr + 1) & 0xfc;
	}
	return 0;
}

int testdev_find(struct testdev *td)
{
	for (unsigned int dev = 0; dev < 32; dev++) {
		unsigned int nr_fn = 1;

		for (unsigned int fn = 0; fn < nr_fn; fn++) {
			uintptr_t cfg = ecam_fn(0, dev, fn);
			u32 id = mmio_read32(cfg + PCI_VENDOR_ID);

			if ((id & 0xffff) == 0xffff || (id & 0xffff) == 0) {
				if (fn == 0)
					break;
				continue;
			}
			if (fn == 0 && (mmio_read8(cfg + PCI_HEADER_TYPE) &
					PCI_HEADER_MULTIFN))
				nr_fn = 8;
			if (id != (TESTDEV_DEVICE << 16 | TESTDEV_VENDOR))
				continue;
			td->rid = dev << 3 | fn;
			td->ecam = cfg;
			goto found;
		}
	}
	return 1;

found:
	/* Decoding off while the BAR is sized and placed. */
	mmio_write16(td->ecam + PCI_COMMAND, PCI_COMMAND_INTX_OFF);
	if (testdev_bar0(td))
		return -1;
	mmio_write16(td->ecam + PCI_COMMAND, PCI_COMMAND_MEMORY |
						     PCI_COMMAND_MASTER |
						     PCI_COMMAND_INTX_OFF);
	if (mmio_read32(td->bar0 + TESTDEV_ID) != TESTDEV_ID_VALUE)
		return fail("testdev-id-mismatch");

	td->msix_cap = find_cap(td->ecam, PCI_CAP_ID_MSIX);
	if (!td->msix_cap)
		return fail("testdev-no-msix-capability");
	{
		u16 ctrl = mmio_read16(td->ecam + td->msix_cap + MSIX_CTRL);
		u32 table = mmio_read32(td->ecam + td->msix_cap + MSIX_TABLE);

		td->msix_vectors = MSIX_CTRL_SIZE(ctrl);
		if (td->msix_vectors < TESTDEV_VECTORS)
			return fail("testdev-too-few-msix-vectors");
		if (MSIX_BIR(table) != 0)
			return fail("testdev-msix-table-not-in-bar0");
		if (MSIX_OFFSET(table) + td->msix_vectors * MSIX_ENTRY_SIZE >
		    td->bar0_size)
			return fail("testdev-msix-table-outside-bar0");
		td->msix_table = td->bar0 + MSIX_OFFSET(table);
	}
	return 0;
}

int testdev_setup_msix(struct testdev *td, u64 address)
{
	uintptr_t ctrl = td->ecam + td->msix_cap + MSIX_CTRL;

	/* Enabled with the function masked while the entries are written. */
	mmio_write16(ctrl, MSIX_CTRL_ENABLE | MSIX_CTRL_MASKALL);
	for (unsigned int v = 0; v < TESTDEV_VECTORS; v++) {
		uintptr_t e = td->msix_table + v * MSIX_ENTRY_SIZE;

		mmio_write32(e + MSIX_ENTRY_CTRL, MSIX_ENTRY_MASKED);
		mmio_write32(e + MSIX_ENTRY_ADDR_LO, (u32)address);
		mmio_write32(e + MSIX_ENTRY_ADDR_HI, (u32)(address >> 32));
		mmio_write32(e + MSIX_ENTRY_DATA, v); /* data = EventID */
		mmio_write32(e + MSIX_ENTRY_CTRL, 0);
	}
	mmio_write16(ctrl, MSIX_CTRL_ENABLE);
	dsb(sy);
	if ((mmio_read16(ctrl) & (MSIX_CTRL_ENABLE | MSIX_CTRL_MASKALL)) !=
	    MSIX_CTRL_ENABLE)
		return fail("testdev-msix-enable-not-set");
	return 0;
}
