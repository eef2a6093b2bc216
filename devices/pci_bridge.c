// SPDX-License-Identifier: GPL-2.0
#include "pci_bridge.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

void pci_bridge_init(struct pci_bridge *br, unsigned int index)
{
	struct pci_dev *p = &br->pdev;
	int cap;

	memset(br, 0, sizeof(*br));
	pci_dev_init(p, PCI_BRIDGE_VENDOR, PCI_BRIDGE_DEVICE,
		     PCI_CLASS_BRIDGE_PCI, 0);
	snprintf(br->name, sizeof(br->name), "pci-bridge%u", index);
	p->name = br->name;
	p->cfg[PCI_HEADER_TYPE] = PCI_HEADER_TYPE_BRIDGE;
	/* Bus numbers and memory windows are the guest's to program. */
	p->wmask[PCI_PRIMARY_BUS] = 0xff;
	p->wmask[PCI_SECONDARY_BUS] = 0xff;
	p->wmask[PCI_SUBORDINATE_BUS] = 0xff;
	/* Memory base/limit: bits 15:4 hold address bits 31:20. */
	pci_cfg_set32(p->wmask, PCI_MEMORY_BASE, 0xfff0fff0);
	/* Prefetchable window, 64-bit capable (low nibble 1 = 64-bit). */
	pci_cfg_set32(p->cfg, PCI_PREF_MEMORY_BASE, 0x00010001);
	pci_cfg_set32(p->wmask, PCI_PREF_MEMORY_BASE, 0xfff0fff0);
	pci_cfg_set32(p->wmask, PCI_PREF_BASE_UPPER32, 0xffffffff);
	pci_cfg_set32(p->wmask, PCI_PREF_LIMIT_UPPER32, 0xffffffff);
	/* No I/O space behind it. */
	pci_cfg_set16(p->wmask, PCI_BRIDGE_CONTROL, 0x0fff);
	/* The type-1 header has no interrupt line for us and no BARs. */
	cap = pci_add_capability(p, PCI_CAP_ID_EXP, PCI_EXP_SIZEOF);
	if (cap > 0)
		pci_cfg_set16(p->cfg, cap + PCI_EXP_FLAGS,
			      PCI_EXP_FLAGS_VERS2 | PCI_EXP_TYPE_PCI_BRIDGE
							    << 4);
}

int pci_bridge_add(struct pci_bridge *br, struct pci_dev *pdev, int slot)
{
	if (slot < 0) {
		for (slot = 0; slot < PCI_BRIDGE_SLOTS && br->devs[slot];
		     slot++)
			;
	}
	if (slot >= PCI_BRIDGE_SLOTS || br->devs[slot])
		return -ENOSPC;
	br->devs[slot] = pdev;
	pdev->bridge = br;
	pdev->host = br->pdev.host;
	pdev->devfn = slot << 3;
	return slot;
}

unsigned int pci_bridge_secondary_bus(const struct pci_bridge *br)
{
	return br->pdev.cfg[PCI_SECONDARY_BUS];
}

unsigned int pci_bridge_subordinate_bus(const struct pci_bridge *br)
{
	return br->pdev.cfg[PCI_SUBORDINATE_BUS];
}
