/* SPDX-License-Identifier: GPL-2.0 */
/*
 * MSI-X for emulated PCI functions (PCI Local Bus 3.0, 6.8.2). Each vector
 * owns an eventfd; while a vector is deliverable (MSI-X enabled, function
 * and vector unmasked) the VMM binds that eventfd to a KVM MSI route with
 * the function's requester ID, so raising it is one eventfd write and no
 * exit. A masked vector's interrupt sets its PBA bit and is delivered on
 * unmask (6.8.2.9).
 */
#ifndef NESTBOX_MSIX_H
#define NESTBOX_MSIX_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "host_ops.h"
#include "pci.h"

#define MSIX_MAX_VECTORS 64
#define MSIX_ENTRY_SIZE	 16
#define MSIX_CAP_SIZE	 12

/* Capability fields */
#define PCI_MSIX_FLAGS	       2
#define PCI_MSIX_FLAGS_QSIZE   0x07ff
#define PCI_MSIX_FLAGS_MASKALL 0x4000
#define PCI_MSIX_FLAGS_ENABLE  0x8000
#define PCI_MSIX_TABLE	       4
#define PCI_MSIX_PBA	       8

/* Table entry fields */
#define PCI_MSIX_ENTRY_ADDR_LO	    0
#define PCI_MSIX_ENTRY_ADDR_HI	    4
#define PCI_MSIX_ENTRY_DATA	    8
#define PCI_MSIX_ENTRY_CTRL	    12
#define PCI_MSIX_ENTRY_CTRL_MASKBIT 1

struct msix_vector {
	uint32_t addr_lo, addr_hi, data, ctrl;
	int fd;	   /* eventfd; -1 in unit tests without a host */
	int route; /* host route handle, -1 if none */
	uint64_t route_addr;
	uint32_t route_data;
};

struct msix {
	pthread_mutex_t lock;
	struct pci_dev *pdev;
	const struct host_ops *host;
	int cap; /* config offset of the capability */
	unsigned int nvec;
	struct msix_vector vec[MSIX_MAX_VECTORS];
	uint64_t pba;
	bool enabled, masked_all;
	/*
	 * Unbind a vector's route while it is masked. An assigned device
	 * signals the eventfd itself, so a bound route would deliver through
	 * the mask; unbound, the signal waits in the eventfd and KVM delivers
	 * it when the irqfd is bound again on unmask.
	 */
	bool unbind_masked;
	unsigned int signals; /* interrupts raised (for tests and stats) */
	atomic_bool warned;
};

/*
 * Add the capability to @pdev with @nvec vectors whose table and PBA live
 * in BAR @bar at @table_off and @pba_off (the caller routes those BAR
 * ranges to msix_table_*() and msix_pba_read()).
 */
int msix_init(struct msix *m, struct pci_dev *pdev, unsigned int nvec,
	      unsigned int bar, uint32_t table_off, uint32_t pba_off,
	      const struct host_ops *host);
void msix_destroy(struct msix *m);

uint64_t msix_table_read(struct msix *m, uint64_t off, unsigned int len);
void msix_table_write(struct msix *m, uint64_t off, uint64_t val,
		      unsigned int len);
uint64_t msix_pba_read(struct msix *m, uint64_t off, unsigned int len);

/* The function's config space was written (pci_dev_ops.config_written). */
void msix_config_written(struct msix *m, uint32_t off, uint32_t len);

/* Raise vector @vec (any thread). False if MSI-X is disabled. */
bool msix_notify(struct msix *m, unsigned int vec);
bool msix_is_pending(struct msix *m, unsigned int vec);

/*
 * Bind every bound vector's irqfd again (deassign, assign): KVM then
 * resolves the route through the vITS anew, which re-establishes GICv4
 * forwarding of an assigned device's vector after the guest moved or
 * remapped its LPI. Returns the vectors bound afterwards.
 */
unsigned int msix_rebind(struct msix *m);
/* Vectors bound to a host route (irqfd) right now. */
unsigned int msix_bound(struct msix *m);

#endif
