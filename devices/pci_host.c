// SPDX-License-Identifier: GPL-2.0
#include "pci_host.h"

#include <errno.h>
#include <string.h>

#include "../vmm/log.h"
#include "pci_bridge.h"

#define ECAM_BUS_SHIFT 20
#define ECAM_DEV_SHIFT 15
#define ECAM_FN_SHIFT  12
#define ECAM_REG_MASK  0xfff

static bool is_bridge(const struct pci_dev *pdev)
{
	return (pdev->cfg[PCI_HEADER_TYPE] & 0x7f) == PCI_HEADER_TYPE_BRIDGE;
}

static struct pci_dev *decode(struct pci_host *h, uint64_t off, uint32_t *reg)
{
	unsigned int bus = off >> ECAM_BUS_SHIFT;
	unsigned int dev = (off >> ECAM_DEV_SHIFT) & 0x1f;
	unsigned int fn = (off >> ECAM_FN_SHIFT) & 0x7;

	*reg = off & ECAM_REG_MASK;
	if (fn)
		return NULL; /* single-function devices only */
	if (bus == 0)
		return h->devs[dev];
	/* A bus behind a bridge exists once the guest numbered it. */
	for (unsigned int i = 0; i < PCI_MAX_DEVICES; i++) {
		struct pci_bridge *br;

		if (!h->devs[i] || !is_bridge(h->devs[i]))
			continue;
		br = (struct pci_bridge *)h->devs[i];
		if (pci_bridge_secondary_bus(br) == bus)
			return br->devs[dev];
	}
	return NULL;
}

static uint64_t ecam_read(void *opaque, uint64_t off, unsigned int len)
{
	struct pci_host *h = opaque;
	struct pci_dev *pdev;
	uint32_t reg;

	/* Config accesses are naturally aligned and at most 4 bytes. */
	if (len > 4 || (off & (len - 1)))
		return ~0ULL;
	pdev = decode(h, off, &reg);
	if (!pdev)
		return (1ULL << (8 * len)) - 1; /* no device: all ones */
	return pci_config_read(pdev, reg, len);
}

static void ecam_write(void *opaque, uint64_t off, uint64_t val,
		       unsigned int len)
{
	struct pci_host *h = opaque;
	struct pci_dev *pdev;
	uint32_t reg;

	if (len > 4 || (off & (len - 1))) {
		pr_warn_once(
			h->warned,
			"pci: unaligned %u-byte config write at 0x%llx ignored (logged once)",
			len, (unsigned long long)off);
		return;
	}
	pdev = decode(h, off, &reg);
	if (pdev)
		pci_config_write(pdev, reg, (uint32_t)val, len);
}

const struct mmio_ops pci_host_ecam_ops = {
	.read = ecam_read,
	.write = ecam_write,
};

void pci_host_init(struct pci_host *h, struct mmio_bus *bus, uint64_t ecam_base,
		   uint64_t ecam_size, uint64_t mmio32_base,
		   uint64_t mmio32_size, uint64_t mmio64_base,
		   uint64_t mmio64_size)
{
	memset(h, 0, sizeof(*h));
	h->bus = bus;
	h->ecam_base = ecam_base;
	h->ecam_size = ecam_size;
	h->bus_first = 0;
	h->bus_last = (ecam_size >> ECAM_BUS_SHIFT) - 1;
	h->mmio32_base = mmio32_base;
	h->mmio32_size = mmio32_size;
	h->mmio64_base = mmio64_base;
	h->mmio64_size = mmio64_size;
}

int pci_host_add(struct pci_host *h, struct pci_dev *pdev, int slot)
{
	if (slot < 0) {
		/* Slot 0 stays free: it is where a host bridge function would
		 * be. */
		for (slot = 1; slot < PCI_MAX_DEVICES && h->devs[slot]; slot++)
			;
	}
	if (slot >= PCI_MAX_DEVICES || h->devs[slot])
		return -ENOSPC;
	h->devs[slot] = pdev;
	pdev->host = h;
	pdev->devfn = slot << 3;
	pdev->requester_id = h->bus_first << 8 | pdev->devfn;
	return slot;
}

static bool in_window(const struct pci_host *h, uint64_t addr, uint64_t size)
{
	uint64_t end = addr + size;

	if (end < addr)
		return false;
	return (addr >= h->mmio32_base &&
		end <= h->mmio32_base + h->mmio32_size) ||
	       (h->mmio64_size && addr >= h->mmio64_base &&
		end <= h->mmio64_base + h->mmio64_size);
}

void pci_host_update_bar(struct pci_dev *pdev, unsigned int bar)
{
	struct pci_host *h = pdev->host;
	struct pci_bar *b = &pdev->bars[bar];
	uint64_t addr = pci_bar_address(pdev, bar);
	bool decode_on = pci_cfg_get16(pdev, PCI_COMMAND) & PCI_COMMAND_MEMORY;
	bool want = decode_on && addr && in_window(h, addr, b->size);

	if (b->mapped && (!want || b->mapped_addr != addr)) {
		mmio_bus_remove(h->bus, b->mapped_addr, b->opaque);
		b->mapped = false;
		if (pdev->ops && pdev->ops->bar_moved)
			pdev->ops->bar_moved(pdev, bar, false, b->mapped_addr);
	}
	if (want && !b->mapped) {
		/* Only the root complex's windows decode: outside them,
		 * nothing. */
		if (mmio_bus_add(h->bus, addr, b->size, b->ops, b->opaque,
				 pdev->name)) {
			pr_warn_once(
				pdev->warned,
				"%s: BAR%u at 0x%llx overlaps another BAR; left unmapped (logged once)",
				pdev->name, bar, (unsigned long long)addr);
			return;
		}
		b->mapped = true;
		b->mapped_addr = addr;
		if (pdev->ops && pdev->ops->bar_moved)
			pdev->ops->bar_moved(pdev, bar, true, addr);
	}
}
