/* SPDX-License-Identifier: GPL-2.0 */
/*
 * PCI function model: a 4 KiB PCIe configuration space with per-byte write
 * masks (read-only, read-write, write-1-to-clear), BARs with the sizing
 * protocol, and a capability list. The bus (pci_host.c) maps BARs on the
 * MMIO bus when the guest enables memory decoding.
 *
 * Register layout: PCI Local Bus 3.0 (type 0 header) and PCI Express Base
 * 4.0, 7.5.3 (PCI Express Capability).
 */
#ifndef NESTBOX_PCI_H
#define NESTBOX_PCI_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "mmio_bus.h"

#define PCI_CFG_SIZE	 4096
#define PCI_CFG_STD_SIZE 256
#define PCI_NUM_BARS	 6

/* Type 0 header */
#define PCI_VENDOR_ID		0x00
#define PCI_DEVICE_ID		0x02
#define PCI_COMMAND		0x04
#define PCI_STATUS		0x06
#define PCI_REVISION_ID		0x08
#define PCI_CLASS_PROG		0x09
#define PCI_CACHE_LINE_SIZE	0x0c
#define PCI_LATENCY_TIMER	0x0d
#define PCI_HEADER_TYPE		0x0e
#define PCI_BAR0		0x10
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_SUBSYSTEM_ID	0x2e
#define PCI_ROM_ADDRESS		0x30
#define PCI_CAPABILITY_LIST	0x34
#define PCI_INTERRUPT_LINE	0x3c
#define PCI_INTERRUPT_PIN	0x3d

#define PCI_COMMAND_IO		 0x1
#define PCI_COMMAND_MEMORY	 0x2
#define PCI_COMMAND_MASTER	 0x4
#define PCI_COMMAND_SERR	 0x100
#define PCI_COMMAND_INTX_DISABLE 0x400

#define PCI_STATUS_INTERRUPT 0x8
#define PCI_STATUS_CAP_LIST  0x10
/* Error bits a driver clears by writing 1 */
#define PCI_STATUS_W1C 0xf900

#define PCI_BAR_MEM_64	     0x4
#define PCI_BAR_MEM_PREFETCH 0x8

#define PCI_CAP_ID_VNDR 0x09
#define PCI_CAP_ID_EXP	0x10
#define PCI_CAP_ID_MSIX 0x11

/* PCI Express capability (v2), endpoint */
#define PCI_EXP_SIZEOF		0x3c
#define PCI_EXP_FLAGS		0x02
#define PCI_EXP_DEVCAP		0x04
#define PCI_EXP_DEVCTL		0x08
#define PCI_EXP_LNKCAP		0x0c
#define PCI_EXP_LNKSTA		0x12
#define PCI_EXP_TYPE_ENDPOINT	0x0
#define PCI_EXP_TYPE_RC_END	0x9
#define PCI_EXP_TYPE_PCI_BRIDGE 0x7 /* PCI Express to PCI/PCI-X bridge */
#define PCI_EXP_FLAGS_VERS2	0x2

struct pci_dev;

struct pci_bar {
	uint64_t size; /* power of two >= 16; 0: BAR not implemented */
	bool mem64;
	bool prefetch;
	const struct mmio_ops *ops;
	void *opaque;
	/* Bus state */
	bool mapped;
	uint64_t mapped_addr;
};

struct pci_dev_ops {
	/* A BAR was placed at @addr (mapped) or removed (!mapped). */
	void (*bar_moved)(struct pci_dev *pdev, unsigned int bar, bool mapped,
			  uint64_t addr);
	/* Called after a config write landed (e.g. capability state). */
	void (*config_written)(struct pci_dev *pdev, uint32_t off,
			       uint32_t len);
};

struct pci_dev {
	pthread_mutex_t lock;
	uint8_t cfg[PCI_CFG_SIZE];
	uint8_t wmask[PCI_CFG_SIZE];
	uint8_t w1cmask[PCI_CFG_SIZE];
	struct pci_bar bars[PCI_NUM_BARS];
	uint8_t last_cap; /* offset of the last capability, 0 if none */
	uint8_t cap_end;  /* first free byte for the next capability */

	const struct pci_dev_ops *ops;
	void *priv;
	const char *name;
	uint8_t devfn;	       /* device << 3 | function, set by the bus */
	uint16_t requester_id; /* bus << 8 | devfn on the root bus */
	struct pci_host *host;
	/* The PCIe-to-PCI bridge this function sits behind, or NULL. */
	struct pci_bridge *bridge;
	atomic_bool warned;
};

void pci_dev_init(struct pci_dev *pdev, uint16_t vendor, uint16_t device,
		  uint32_t class_code, uint8_t revision);
void pci_set_subsystem(struct pci_dev *pdev, uint16_t vendor, uint16_t id);

/* Declare BAR @bar of @size bytes (power of two, >= 4 KiB) served by @ops. */
int pci_set_bar(struct pci_dev *pdev, unsigned int bar, uint64_t size,
		bool mem64, bool prefetch, const struct mmio_ops *ops,
		void *opaque);

/*
 * Append a capability of @len bytes (header included) with ID @id. Returns
 * its config offset, or -ENOSPC. The caller fills the body and wmask.
 */
int pci_add_capability(struct pci_dev *pdev, uint8_t id, uint8_t len);
/* A PCIe endpoint capability (v2). */
int pci_add_pcie_capability(struct pci_dev *pdev, bool root_complex_integrated);

/* Config accesses from the bus; off/len validated by the caller's decode. */
uint32_t pci_config_read(struct pci_dev *pdev, uint32_t off, unsigned int len);
void pci_config_write(struct pci_dev *pdev, uint32_t off, uint32_t val,
		      unsigned int len);

/*
 * The requester ID the function's DMA and MSIs carry upstream, i.e. the
 * ITS device ID. Behind a PCIe-to-PCI bridge the bridge takes ownership of
 * the transaction: (its secondary bus, devfn 0) (PCI Express to PCI/PCI-X
 * Bridge 1.0, 2.3), and every device behind it shares that ID.
 */
uint16_t pci_requester_id(const struct pci_dev *pdev);

/*
 * Legacy INTx: pins INTA-INTD, swizzled by slot at each bridge (PCI-to-PCI
 * Bridge Architecture 1.2, 9.1) onto four host SPIs.
 */
#define PCI_INTX_PINS 4

/* The host SPI that @pdev's INTx pin lands on (pin must be set). */
unsigned int pci_intx_spi(const struct pci_dev *pdev, unsigned int spi_base);

/*
 * Drive the function's INTx line: honours Command.INTx_Disable, mirrors
 * Status.Interrupt, and raises/lowers the SPI through @set_spi.
 */
void pci_set_intx(struct pci_dev *pdev, bool level,
		  void (*set_spi)(void *opaque, unsigned int spi, bool level),
		  void *opaque, unsigned int spi_base);

/* Current guest-programmed address of a memory BAR. */
uint64_t pci_bar_address(const struct pci_dev *pdev, unsigned int bar);

static inline uint16_t pci_cfg_get16(const struct pci_dev *pdev, uint32_t off)
{
	return pdev->cfg[off] | pdev->cfg[off + 1] << 8;
}

static inline uint32_t pci_cfg_get32(const struct pci_dev *pdev, uint32_t off)
{
	return pci_cfg_get16(pdev, off) | (uint32_t)pci_cfg_get16(pdev, off + 2)
						  << 16;
}

void pci_cfg_set16(uint8_t *space, uint32_t off, uint16_t v);
void pci_cfg_set32(uint8_t *space, uint32_t off, uint32_t v);

#endif
