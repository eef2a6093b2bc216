/* SPDX-License-Identifier: GPL-2.0 */
/*
 * PCIe host bridge with an ECAM configuration window (PCI Firmware 3.2,
 * "Enhanced Configuration Access Mechanism"): bus b, device d, function f,
 * register r at ecam_base + (b << 20 | d << 15 | f << 12 | r). Described to
 * the guest as "pci-host-ecam-generic"; the guest assigns BARs itself.
 */
#ifndef NESTBOX_PCI_HOST_H
#define NESTBOX_PCI_HOST_H

#include <stdatomic.h>
#include <stdint.h>

#include "mmio_bus.h"
#include "pci.h"

#define PCI_MAX_DEVICES 32 /* bus 0, one function each */

struct pci_host {
	struct mmio_bus *bus;
	uint64_t ecam_base, ecam_size;
	unsigned int bus_first, bus_last;
	/* Windows the root complex forwards to PCI (guest physical = PCI). */
	uint64_t mmio32_base, mmio32_size;
	uint64_t mmio64_base, mmio64_size;
	struct pci_dev *devs[PCI_MAX_DEVICES];
	atomic_bool warned;
};

extern const struct mmio_ops pci_host_ecam_ops;

void pci_host_init(struct pci_host *h, struct mmio_bus *bus, uint64_t ecam_base,
		   uint64_t ecam_size, uint64_t mmio32_base,
		   uint64_t mmio32_size, uint64_t mmio64_base,
		   uint64_t mmio64_size);

/* Put @pdev in slot @slot of bus 0 (-1: first free). Returns the slot. */
int pci_host_add(struct pci_host *h, struct pci_dev *pdev, int slot);

/* Re-evaluate BAR @bar of @pdev after a config write (pci.c). */
void pci_host_update_bar(struct pci_dev *pdev, unsigned int bar);

#endif
