/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Device model of an assigned (VFIO) PCI function: the configuration space
 * the guest sees is emulated, built from the real one at init, and the
 * real device is reached only through struct vfio_pci_ops (the VMM wires
 * those to the VFIO device fd; unit tests pass a fake).
 *
 * What the guest gets:
 * - IDs, class, revision, subsystem and interrupt pin of the real function,
 *   a type 0 header (bridges are refused; the multi-function bit is cleared
 *   because the function is presented alone).
 * - Memory BARs sized from the VFIO region info with the real type bits,
 *   fully virtualised (sizing and placement never reach the device). I/O
 *   BARs are left out. An expansion ROM when region 6 has a size.
 * - Command: Memory, Bus Master and INTx Disable are forwarded to the
 *   device; I/O space stays off; the rest is emulated.
 * - Capabilities: only Power Management (read-only, always D0), MSI
 *   (devices/pci_msi.c), PCI Express (read-only; Device Control emulated,
 *   never forwarded) and MSI-X (devices/msix.c), re-chained at fresh
 *   offsets. Everything else, and all of extended config space, is hidden.
 *   A malformed real chain (bad pointer, loop, too long) is cut at the bad
 *   link, logged once, and the capabilities before it are kept; a known
 *   capability that does not fit or does not make sense is dropped.
 */
#ifndef NESTBOX_VFIO_PCI_H
#define NESTBOX_VFIO_PCI_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/vfio.h>

#include "host_ops.h"
#include "msix.h"
#include "pci.h"
#include "pci_msi.h"

/* Region and irq indexes: VFIO_PCI_*_INDEX, VFIO_PCI_NUM_REGIONS (9) and
 * VFIO_PCI_NUM_IRQS (5) from <linux/vfio.h>. */

/* What the model needs from the real device. */
struct vfio_pci_ops {
	/* Region @region (VFIO index) at @off: 0 or -errno. */
	int (*read)(void *opaque, unsigned int region, uint64_t off, void *buf,
		    size_t len);
	int (*write)(void *opaque, unsigned int region, uint64_t off,
		     const void *buf, size_t len);
	/*
	 * The eventfds of MSI or MSI-X (irq_index VFIO_PCI_MSI_IRQ_INDEX /
	 * VFIO_PCI_MSIX_IRQ_INDEX) the device must signal: fds[0..n); n == 0:
	 * disable.
	 */
	int (*set_irqs)(void *opaque, unsigned int irq_index, const int *fds,
			unsigned int n);
	/*
	 * BAR @bar now decodes at guest address @addr (mapped) or not at all:
	 * the VMM maps/unmaps the directly mappable parts. @bar is
	 * VFIO_PCI_ROM_REGION_INDEX for the expansion ROM, which the VMM puts
	 * on the MMIO bus itself with vfio_pci_rom_ops (v->rom_size bytes).
	 */
	void (*bar_moved)(void *opaque, unsigned int bar, bool mapped,
			  uint64_t addr);
};

struct vfio_pci_region {
	uint64_t size;
	uint32_t flags; /* VFIO_REGION_INFO_FLAG_READ/WRITE/MMAP */
};

struct vfio_pci_info {
	struct vfio_pci_region region[VFIO_PCI_NUM_REGIONS]; /* VFIO index */
	unsigned int irq_count[VFIO_PCI_NUM_IRQS]; /* INTX MSI MSIX ERR REQ */
};

struct vfio_pci;

/* The mmio_ops opaque of BAR @bar (and of the ROM). */
struct vfio_pci_bar_ref {
	struct vfio_pci *v;
	unsigned int bar;
};

struct vfio_pci {
	struct pci_dev pdev;  /* first: the bus hands back this pointer */
	pthread_mutex_t lock; /* orders what the device is told */
	const struct vfio_pci_ops *ops;
	void *opaque;
	const struct host_ops *host;
	struct vfio_pci_info info;
	char name[32];
	struct vfio_pci_bar_ref bar_ref[PCI_NUM_BARS];

	/* MSI-X (has_msix): table and PBA of the real device, trapped */
	bool has_msix;
	struct msix msix;
	unsigned int msix_bar;
	uint64_t msix_table_off, msix_table_len, msix_pba_off, msix_pba_len;
	bool msix_on; /* what the device was last told */

	bool has_msi;
	struct pci_msi msi;

	/* Expansion ROM (rom_size != 0), read through ops->read region 6 */
	uint64_t rom_size;
	struct vfio_pci_bar_ref rom_ref;
	bool rom_mapped;
	uint64_t rom_addr;

	atomic_bool warned, io_warned, cap_warned, irq_warned;
};

/* mmio_ops of the expansion ROM; opaque: &v->rom_ref. */
extern const struct mmio_ops vfio_pci_rom_ops;

/*
 * Build the emulated function from the real one. Returns 0, or -errno
 * with a message in @err (a user error: the device cannot be assigned).
 */
int vfio_pci_init(struct vfio_pci *v, const struct vfio_pci_info *info,
		  const struct vfio_pci_ops *ops, void *opaque,
		  const struct host_ops *host, const char *name, char *err,
		  size_t errlen);
void vfio_pci_destroy(struct vfio_pci *v);

/*
 * For the VMM: the BAR holding the MSI-X table and PBA (those ranges must
 * stay trapped rather than mmap'ed), or -1 if there is no MSI-X.
 */
int vfio_pci_msix_bar(const struct vfio_pci *v, uint64_t *table_off,
		      uint64_t *table_len, uint64_t *pba_off,
		      uint64_t *pba_len);
/* The BAR holding the PBA (usually vfio_pci_msix_bar()'s), or -1. */
int vfio_pci_msix_pba_bar(const struct vfio_pci *v);

/*
 * The MSI/MSI-X vectors bound to KVM routes now, and binding them again
 * (see msix_rebind(): re-arms GICv4 forwarding).
 */
unsigned int vfio_pci_bound_irqs(struct vfio_pci *v);
unsigned int vfio_pci_rebind_irqs(struct vfio_pci *v);

#endif
