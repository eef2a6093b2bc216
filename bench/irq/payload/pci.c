// SPDX-License-Identifier: GPL-2.0
// Just enough PCI to find the test device and an assigned QEMU edu on bus 0
// of the ECAM, give each BAR0 an address in the 32-bit window and program
// their MSI-X vectors (testdev) or MSI (edu).
// Config space layout: PCI Local Bus 3.0, 6.1, 6.8.1 (MSI), 6.8.2 (MSI-X).

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
#define PCI_CAP_ID_MSI	     0x05
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

/* MSI capability (6.8.1): control, then a 32- or 64-bit address, data. */
#define MSI_CTRL	2
#define MSI_CTRL_ENABLE BIT(0)
#define MSI_CTRL_QSIZE	(7U << 4) /* Multiple Message Enable: 0 = one */
#define MSI_CTRL_64BIT	BIT(7)
#define MSI_ADDR_LO	4
#define MSI_ADDR_HI	8
#define MSI_DATA_32	8
#define MSI_DATA_64	12

const char *pci_error;
/* BAR0s are placed one after the other from the window's start. */
static uintptr_t mmio32_next = PCI_MMIO32_BASE;

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

static int place_bar0(uintptr_t ecam, uintptr_t *bar0, u32 *bar0_size)
{
	uintptr_t bar = ecam + PCI_BAR0;
	u32 orig = mmio_read32(bar), mask;
	int is64 = (orig & PCI_BAR_TYPE_MASK) == PCI_BAR_TYPE_64;
	uintptr_t addr;

	if (orig & PCI_BAR_IO)
		return fail("bar0-is-io");
	mmio_write32(bar, 0xffffffff);
	mask = mmio_read32(bar) & PCI_BAR_MEM_MASK;
	if (!mask)
		return fail("bar0-not-implemented");
	*bar0_size = ~mask + 1;
	/* Only BAR0s get decoding enabled: the window is ours to share out. */
	addr = (mmio32_next + *bar0_size - 1) & ~((uintptr_t)*bar0_size - 1);
	if (addr + *bar0_size > PCI_MMIO32_BASE + PCI_MMIO32_SIZE)
		return fail("bar0-too-large");
	mmio_write32(bar, (u32)addr);
	if (is64)
		mmio_write32(bar + 4, 0);
	if ((mmio_read32(bar) & PCI_BAR_MEM_MASK) != addr)
		return fail("bar0-address-not-taken");
	*bar0 = addr;
	mmio32_next = addr + *bar0_size;
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

/* The first function on bus 0 with these IDs: 0 found, 1 not present. */
static int find_fn(u16 vendor, u16 device, u32 *rid, uintptr_t *ecam)
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
			if (id != ((u32)device << 16 | vendor))
				continue;
			*rid = dev << 3 | fn;
			*ecam = cfg;
			return 0;
		}
	}
	return 1;
}

int testdev_find(struct testdev *td)
{
	if (find_fn(TESTDEV_VENDOR, TESTDEV_DEVICE, &td->rid, &td->ecam))
		return 1;
	/* Decoding off while the BAR is sized and placed. */
	mmio_write16(td->ecam + PCI_COMMAND, PCI_COMMAND_INTX_OFF);
	if (place_bar0(td->ecam, &td->bar0, &td->bar0_size))
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

int edu_find(struct edu *edu)
{
	if (find_fn(EDU_VENDOR, EDU_DEVICE, &edu->rid, &edu->ecam))
		return 1;
	mmio_write16(edu->ecam + PCI_COMMAND, PCI_COMMAND_INTX_OFF);
	if (place_bar0(edu->ecam, &edu->bar0, &edu->bar0_size))
		return -1;
	mmio_write16(edu->ecam + PCI_COMMAND, PCI_COMMAND_MEMORY |
						      PCI_COMMAND_MASTER |
						      PCI_COMMAND_INTX_OFF);
	if ((mmio_read32(edu->bar0 + EDU_ID) & EDU_ID_MASK) != EDU_ID_VALUE)
		return fail("edu-id-mismatch");
	/* The liveness register answers with the complement (QEMU edu.txt). */
	mmio_write32(edu->bar0 + EDU_LIVENESS, 0x12345678);
	if (mmio_read32(edu->bar0 + EDU_LIVENESS) != ~0x12345678U)
		return fail("edu-liveness");
	edu->msi_cap = find_cap(edu->ecam, PCI_CAP_ID_MSI);
	if (!edu->msi_cap)
		return fail("edu-no-msi-capability");
	return 0;
}

int edu_setup_msi(struct edu *edu, u64 address, u16 data)
{
	uintptr_t cap = edu->ecam + edu->msi_cap;
	u16 ctrl = mmio_read16(cap + MSI_CTRL);

	/* Disabled while programmed; one vector (Multiple Message Enable 0). */
	ctrl &= ~(MSI_CTRL_ENABLE | MSI_CTRL_QSIZE);
	mmio_write16(cap + MSI_CTRL, ctrl);
	mmio_write32(cap + MSI_ADDR_LO, (u32)address);
	if (ctrl & MSI_CTRL_64BIT) {
		mmio_write32(cap + MSI_ADDR_HI, (u32)(address >> 32));
		mmio_write16(cap + MSI_DATA_64, data);
	} else {
		if (address >> 32)
			return fail("edu-msi-address-above-4g");
		mmio_write16(cap + MSI_DATA_32, data);
	}
	mmio_write16(cap + MSI_CTRL, ctrl | MSI_CTRL_ENABLE);
	dsb(sy);
	if (!(mmio_read16(cap + MSI_CTRL) & MSI_CTRL_ENABLE))
		return fail("edu-msi-enable-not-set");
	return 0;
}
