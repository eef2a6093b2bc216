// SPDX-License-Identifier: GPL-2.0
#include "pci.h"

#include <errno.h>
#include <string.h>

#include "../vmm/log.h"
#include "pci_bridge.h"
#include "pci_host.h"

void pci_cfg_set16(uint8_t *space, uint32_t off, uint16_t v)
{
	space[off] = v;
	space[off + 1] = v >> 8;
}

void pci_cfg_set32(uint8_t *space, uint32_t off, uint32_t v)
{
	pci_cfg_set16(space, off, v);
	pci_cfg_set16(space, off + 2, v >> 16);
}

void pci_dev_init(struct pci_dev *pdev, uint16_t vendor, uint16_t device,
		  uint32_t class_code, uint8_t revision)
{
	memset(pdev, 0, sizeof(*pdev));
	pthread_mutex_init(&pdev->lock, NULL);
	pci_cfg_set16(pdev->cfg, PCI_VENDOR_ID, vendor);
	pci_cfg_set16(pdev->cfg, PCI_DEVICE_ID, device);
	pdev->cfg[PCI_REVISION_ID] = revision;
	pdev->cfg[PCI_CLASS_PROG] = class_code & 0xff;
	pdev->cfg[PCI_CLASS_PROG + 1] = (class_code >> 8) & 0xff;
	pdev->cfg[PCI_CLASS_PROG + 2] = (class_code >> 16) & 0xff;
	pdev->cfg[PCI_HEADER_TYPE] = 0;	  /* type 0, single function */
	pdev->cfg[PCI_INTERRUPT_PIN] = 0; /* no INTx unless a device asks */

	pci_cfg_set16(pdev->wmask, PCI_COMMAND,
		      PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
			      PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE);
	pci_cfg_set16(pdev->w1cmask, PCI_STATUS, PCI_STATUS_W1C);
	pdev->wmask[PCI_CACHE_LINE_SIZE] = 0xff;
	pdev->wmask[PCI_LATENCY_TIMER] = 0xff;
	pdev->wmask[PCI_INTERRUPT_LINE] = 0xff;
	pdev->cap_end = 0x40;
}

void pci_set_subsystem(struct pci_dev *pdev, uint16_t vendor, uint16_t id)
{
	pci_cfg_set16(pdev->cfg, PCI_SUBSYSTEM_VENDOR_ID, vendor);
	pci_cfg_set16(pdev->cfg, PCI_SUBSYSTEM_ID, id);
}

int pci_set_bar(struct pci_dev *pdev, unsigned int bar, uint64_t size,
		bool mem64, bool prefetch, const struct mmio_ops *ops,
		void *opaque)
{
	uint32_t off = PCI_BAR0 + 4 * bar;
	uint64_t mask = ~(size - 1);
	uint32_t flags = (mem64 ? PCI_BAR_MEM_64 : 0) |
			 (prefetch ? PCI_BAR_MEM_PREFETCH : 0);

	if (bar >= PCI_NUM_BARS || (mem64 && bar == PCI_NUM_BARS - 1) ||
	    size < 4096 || (size & (size - 1)) ||
	    (!mem64 && size > (1ULL << 31)))
		return -EINVAL;
	pdev->bars[bar] = (struct pci_bar){
		.size = size,
		.mem64 = mem64,
		.prefetch = prefetch,
		.ops = ops,
		.opaque = opaque,
	};
	/* Sizing: the address bits below the size read back as zero. */
	pci_cfg_set32(pdev->cfg, off, flags);
	pci_cfg_set32(pdev->wmask, off, (uint32_t)mask & ~0xfU);
	if (mem64) {
		pci_cfg_set32(pdev->cfg, off + 4, 0);
		pci_cfg_set32(pdev->wmask, off + 4, (uint32_t)(mask >> 32));
	}
	return 0;
}

int pci_add_capability(struct pci_dev *pdev, uint8_t id, uint8_t len)
{
	unsigned int off = (pdev->cap_end + 3) & ~3U;

	if (len < 2 || off + len > PCI_CFG_STD_SIZE)
		return -ENOSPC;
	pdev->cfg[off] = id;
	pdev->cfg[off + 1] = 0;
	if (pdev->last_cap)
		pdev->cfg[pdev->last_cap + 1] = off;
	else
		pdev->cfg[PCI_CAPABILITY_LIST] = off;
	pdev->last_cap = off;
	pdev->cap_end = off + len;
	pci_cfg_set16(pdev->cfg, PCI_STATUS,
		      pci_cfg_get16(pdev, PCI_STATUS) | PCI_STATUS_CAP_LIST);
	return off;
}

int pci_add_pcie_capability(struct pci_dev *pdev, bool root_complex_integrated)
{
	int off = pci_add_capability(pdev, PCI_CAP_ID_EXP, PCI_EXP_SIZEOF);
	uint8_t type = root_complex_integrated ? PCI_EXP_TYPE_RC_END
					       : PCI_EXP_TYPE_ENDPOINT;

	if (off < 0)
		return off;
	pci_cfg_set16(pdev->cfg, off + PCI_EXP_FLAGS,
		      PCI_EXP_FLAGS_VERS2 | type << 4);
	/* DevCap: 128-byte max payload; FLR not offered. */
	pci_cfg_set32(pdev->cfg, off + PCI_EXP_DEVCAP, 0);
	/* DevCtl: the driver may set payload/read request sizes etc. */
	pci_cfg_set16(pdev->wmask, off + PCI_EXP_DEVCTL, 0x7fff);
	pci_cfg_set16(pdev->cfg, off + PCI_EXP_DEVCTL, 0x2810);
	if (!root_complex_integrated) {
		/* Link: x1 at 2.5 GT/s, up. */
		pci_cfg_set32(pdev->cfg, off + PCI_EXP_LNKCAP, 0x11 | 1 << 4);
		pci_cfg_set16(pdev->cfg, off + PCI_EXP_LNKSTA, 0x11);
	}
	return off;
}

unsigned int pci_intx_spi(const struct pci_dev *pdev, unsigned int spi_base)
{
	unsigned int pin = pdev->cfg[PCI_INTERRUPT_PIN] - 1; /* 0 = INTA */
	unsigned int slot = pdev->devfn >> 3;

	/* Behind a bridge: swizzle onto the bridge's pin, then the bridge's
	 * slot. */
	if (pdev->bridge) {
		pin = (pin + slot) % PCI_INTX_PINS;
		slot = pdev->bridge->pdev.devfn >> 3;
	}
	return spi_base + (pin + slot) % PCI_INTX_PINS;
}

void pci_set_intx(struct pci_dev *pdev, bool level,
		  void (*set_spi)(void *opaque, unsigned int spi, bool level),
		  void *opaque, unsigned int spi_base)
{
	uint16_t status;
	bool line;

	if (!pdev->cfg[PCI_INTERRUPT_PIN])
		return;
	pthread_mutex_lock(&pdev->lock);
	status = pci_cfg_get16(pdev, PCI_STATUS);
	status = level ? status | PCI_STATUS_INTERRUPT
		       : status & ~PCI_STATUS_INTERRUPT;
	pci_cfg_set16(pdev->cfg, PCI_STATUS, status);
	line = level &&
	       !(pci_cfg_get16(pdev, PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE);
	pthread_mutex_unlock(&pdev->lock);
	if (set_spi)
		set_spi(opaque, pci_intx_spi(pdev, spi_base), line);
}

uint16_t pci_requester_id(const struct pci_dev *pdev)
{
	if (pdev->bridge)
		return pci_bridge_secondary_bus(pdev->bridge) << 8;
	return pdev->requester_id;
}

uint64_t pci_bar_address(const struct pci_dev *pdev, unsigned int bar)
{
	uint32_t off = PCI_BAR0 + 4 * bar;
	uint64_t addr = pci_cfg_get32(pdev, off) & ~0xfULL;

	if (pdev->bars[bar].mem64)
		addr |= (uint64_t)pci_cfg_get32(pdev, off + 4) << 32;
	return addr;
}

uint32_t pci_config_read(struct pci_dev *pdev, uint32_t off, unsigned int len)
{
	uint32_t v = 0;

	if (off >= PCI_CFG_SIZE || len > PCI_CFG_SIZE - off)
		return 0;
	pthread_mutex_lock(&pdev->lock);
	for (unsigned int i = 0; i < len; i++)
		v |= (uint32_t)pdev->cfg[off + i] << (8 * i);
	pthread_mutex_unlock(&pdev->lock);
	return v;
}

static bool touches(uint32_t off, unsigned int len, uint32_t start,
		    uint32_t size)
{
	return off < start + size && start < off + len;
}

void pci_config_write(struct pci_dev *pdev, uint32_t off, uint32_t val,
		      unsigned int len)
{
	uint16_t old_cmd;
	uint64_t old_addr[PCI_NUM_BARS];

	if (off >= PCI_CFG_SIZE || len > PCI_CFG_SIZE - off)
		return;
	pthread_mutex_lock(&pdev->lock);
	old_cmd = pci_cfg_get16(pdev, PCI_COMMAND);
	for (unsigned int b = 0; b < PCI_NUM_BARS; b++)
		old_addr[b] = pdev->bars[b].size ? pci_bar_address(pdev, b) : 0;
	for (unsigned int i = 0; i < len; i++) {
		uint8_t byte = val >> (8 * i);
		uint32_t o = off + i;

		pdev->cfg[o] = (pdev->cfg[o] & ~pdev->wmask[o]) |
			       (byte & pdev->wmask[o]);
		pdev->cfg[o] &= ~(byte & pdev->w1cmask[o]);
	}
	pthread_mutex_unlock(&pdev->lock);

	/* BAR decoding follows the command register and the BAR values. */
	if (touches(off, len, PCI_COMMAND, 2) ||
	    touches(off, len, PCI_BAR0, 4 * PCI_NUM_BARS)) {
		bool mem_on =
			pci_cfg_get16(pdev, PCI_COMMAND) & PCI_COMMAND_MEMORY;

		for (unsigned int b = 0; b < PCI_NUM_BARS; b++) {
			if (!pdev->bars[b].size)
				continue;
			if (mem_on != !!(old_cmd & PCI_COMMAND_MEMORY) ||
			    pci_bar_address(pdev, b) != old_addr[b])
				pci_host_update_bar(pdev, b);
		}
	}
	if (pdev->ops && pdev->ops->config_written)
		pdev->ops->config_written(pdev, off, len);
}
