/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A PCIe-to-PCI bridge on the root bus with a conventional PCI bus behind
 * it (type 1 header, PCI-to-PCI Bridge Architecture 1.2, chapter 3). It
 * exists so that requester-ID aliasing is part of the topology: devices
 * behind it share one ITS device ID (and, later, one IOMMU endpoint).
 */
#ifndef NESTBOX_PCI_BRIDGE_H
#define NESTBOX_PCI_BRIDGE_H

#include "pci.h"

/* Type 1 header */
#define PCI_PRIMARY_BUS	       0x18
#define PCI_SECONDARY_BUS      0x19
#define PCI_SUBORDINATE_BUS    0x1a
#define PCI_IO_BASE	       0x1c
#define PCI_MEMORY_BASE	       0x20
#define PCI_PREF_MEMORY_BASE   0x24
#define PCI_PREF_BASE_UPPER32  0x28
#define PCI_PREF_LIMIT_UPPER32 0x2c
#define PCI_BRIDGE_CONTROL     0x3e
#define PCI_HEADER_TYPE_BRIDGE 1
#define PCI_CLASS_BRIDGE_PCI   0x060400

#define PCI_BRIDGE_VENDOR 0x1b36 /* the "Red Hat / QEMU" virtual vendor */
#define PCI_BRIDGE_DEVICE 0x0001 /* PCI-PCI bridge */
#define PCI_BRIDGE_SLOTS  32

struct pci_bridge {
	struct pci_dev pdev; /* first: the bridge's own function */
	struct pci_dev *devs[PCI_BRIDGE_SLOTS];
	char name[32];
};

void pci_bridge_init(struct pci_bridge *br, unsigned int index);

/* Put @pdev in slot @slot (-1: first free) of the bridge's bus. */
int pci_bridge_add(struct pci_bridge *br, struct pci_dev *pdev, int slot);

/* Bus numbers as the guest programmed them. */
unsigned int pci_bridge_secondary_bus(const struct pci_bridge *br);
unsigned int pci_bridge_subordinate_bus(const struct pci_bridge *br);

#endif
