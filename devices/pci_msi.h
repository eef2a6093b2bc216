/* SPDX-License-Identifier: GPL-2.0 */
/*
 * MSI capability emulation (PCI Local Bus 3.0, 6.8.1). Each of the up to
 * 32 vectors owns an eventfd; while MSI is enabled and a vector is enabled
 * (below the Multiple Message Enable count) and unmasked, its eventfd is
 * bound to a KVM MSI route (address, data with the low bits replaced by the
 * vector number, 6.8.1.6) from the function's requester ID, so signalling
 * costs no exit. A masked vector is unbound: an interrupt raised meanwhile
 * is latched (Pending Bits, 6.8.1.8) and goes out on unmask.
 *
 * The named prefix is pci_msi_ so as not to clash with irq/msi.h, the
 * VMM's KVM routing table.
 */
#ifndef NESTBOX_PCI_MSI_H
#define NESTBOX_PCI_MSI_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "host_ops.h"
#include "pci.h"

#define PCI_CAP_ID_MSI	    0x05
#define PCI_MSI_MAX_VECTORS 32

/* Capability fields (6.8.1) */
#define PCI_MSI_FLAGS	      2
#define PCI_MSI_FLAGS_ENABLE  0x0001
#define PCI_MSI_FLAGS_QMASK   0x000e /* Multiple Message Capable, log2 */
#define PCI_MSI_FLAGS_QSIZE   0x0070 /* Multiple Message Enable, log2 */
#define PCI_MSI_FLAGS_64BIT   0x0080
#define PCI_MSI_FLAGS_MASKBIT 0x0100
#define PCI_MSI_ADDRESS_LO    4
#define PCI_MSI_ADDRESS_HI    8 /* 64-bit only */
#define PCI_MSI_DATA_32	      8
#define PCI_MSI_DATA_64	      12
#define PCI_MSI_MASK_32	      12 /* per-vector masking only */
#define PCI_MSI_MASK_64	      16
#define PCI_MSI_PENDING_32    16
#define PCI_MSI_PENDING_64    20
/* Capability sizes: 32/64-bit address, without/with per-vector masking */
#define PCI_MSI_CAP_SIZE_32	 10
#define PCI_MSI_CAP_SIZE_64	 14
#define PCI_MSI_CAP_SIZE_32_MASK 20
#define PCI_MSI_CAP_SIZE_64_MASK 24

struct pci_msi;

/*
 * MSI was enabled with @n vectors signalled through @fds[0..n), or
 * disabled (@n == 0, @fds NULL). For an assigned function this is where
 * the device is told which eventfds to signal.
 */
typedef void (*pci_msi_enable_fn)(void *opaque, const int *fds, unsigned int n);

struct pci_msi {
	pthread_mutex_t lock;
	struct pci_dev *pdev;
	const struct host_ops *host;
	int cap;		   /* config offset of the capability */
	unsigned int nvec_capable; /* power of two, 1..32 */
	bool is64, maskable;

	/* State last applied from the guest's writes */
	bool enabled;
	unsigned int nvec; /* enabled vectors, 0 while disabled */
	uint64_t addr;
	uint16_t data;
	uint32_t mask;
	uint32_t pending; /* latched while masked */

	int fd[PCI_MSI_MAX_VECTORS];	/* eventfds; -1 without a host */
	int route[PCI_MSI_MAX_VECTORS]; /* host route handle, -1 if none */
	uint64_t route_addr[PCI_MSI_MAX_VECTORS];
	uint32_t route_data[PCI_MSI_MAX_VECTORS];

	pci_msi_enable_fn enable_cb;
	void *cb_opaque;
	unsigned int signals; /* interrupts sent (for tests and stats) */
	atomic_bool warned;
};

/*
 * Add an MSI capability to @pdev: @nvec_capable vectors (a power of two
 * up to 32), 64-bit address if @is64, per-vector masking if @maskable.
 * Eventfds are created only when @host offers MSI routes.
 */
int pci_msi_init(struct pci_msi *m, struct pci_dev *pdev,
		 unsigned int nvec_capable, bool is64, bool maskable,
		 const struct host_ops *host);
void pci_msi_set_enable_cb(struct pci_msi *m, pci_msi_enable_fn cb,
			   void *opaque);
void pci_msi_destroy(struct pci_msi *m);

/* The function's config space was written (pci_dev_ops.config_written). */
void pci_msi_config_written(struct pci_msi *m, uint32_t off, uint32_t len);

/* Raise vector @vec (emulated functions). False if MSI or @vec is off. */
bool pci_msi_notify(struct pci_msi *m, unsigned int vec);
bool pci_msi_is_pending(struct pci_msi *m, unsigned int vec);

/* As msix_rebind() / msix_bound(), for MSI vectors. */
unsigned int pci_msi_rebind(struct pci_msi *m);
unsigned int pci_msi_bound(struct pci_msi *m);

#endif
