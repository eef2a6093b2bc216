/* SPDX-License-Identifier: GPL-2.0 */
#ifndef IRQBENCH_PCI_H
#define IRQBENCH_PCI_H

#include "hw.h"

/* nestbox's --testdev function (bench/irq/README.md) */
#define TESTDEV_VENDOR	  0x1b36
#define TESTDEV_DEVICE	  0x0f00
#define TESTDEV_ID	  0x00
#define TESTDEV_ID_VALUE  0x6e657374 /* "nest" */
#define TESTDEV_ECHO	  0x04
#define TESTDEV_DOORBELL  0x08
#define TESTDEV_INJECT	  0x0c
#define TESTDEV_DOORBELLS 0x10
#define TESTDEV_VECTORS	  2

struct testdev {
	u32 rid;	/* bus << 8 | devfn = ITS DeviceID */
	uintptr_t ecam; /* the function's config space */
	uintptr_t bar0;
	u32 bar0_size;
	unsigned int msix_cap;
	uintptr_t msix_table;
	unsigned int msix_vectors;
};

/* QEMU's edu (docs/specs/edu.rst), assigned with nestbox --vfio */
#define EDU_VENDOR     0x1234
#define EDU_DEVICE     0x11e8
#define EDU_ID	       0x00
#define EDU_ID_MASK    0xff
#define EDU_ID_VALUE   0xed /* 0xRRrr00ed: major, minor revision */
#define EDU_LIVENESS   0x04
#define EDU_IRQ_STATUS 0x24
#define EDU_IRQ_RAISE  0x60 /* ORs the value into the status, raises */
#define EDU_IRQ_ACK    0x64 /* clears these status bits */

struct edu {
	u32 rid;
	uintptr_t ecam;
	uintptr_t bar0;
	u32 bar0_size;
	unsigned int msi_cap;
};

/* 0 found, 1 not present, -1 present but unusable (pci_error says why). */
int testdev_find(struct testdev *td);
/* Program vector v = (address, data) and unmask; then enable MSI-X. */
int testdev_setup_msix(struct testdev *td, u64 address);
/* Same return values; memory decoding and bus mastering on, MSI off. */
int edu_find(struct edu *edu);
/* One MSI vector: (address, data), then MSI Enable. */
int edu_setup_msi(struct edu *edu, u64 address, u16 data);
extern const char *pci_error;

#endif
