/* SPDX-License-Identifier: GPL-2.0 */
/*
 * PCI device assignment through the VFIO cdev and iommufd: the host side of
 * an assigned function. Opens /dev/vfio/devices/vfioN, binds it to the
 * VM's iommufd, attaches it to the IOAS that holds guest RAM, registers
 * it with KVM's VFIO device, maps its BARs into guest memory slots (all
 * but the MSI-X table and PBA pages, which devices/vfio_pci.c emulates),
 * and wires its MSI, MSI-X and INTx eventfds. The guest-visible function
 * (config space, capabilities, interrupt emulation) is devices/vfio_pci.c.
 */
#ifndef NESTBOX_VFIO_H
#define NESTBOX_VFIO_H

#include <stdbool.h>
#include <stdint.h>

#include "../devices/vfio_pci.h"

struct vm;

#define VFIO_MAX_AREAS 8 /* directly mapped pieces of one BAR */

struct vfio_area {
	uint64_t off, size; /* inside the BAR */
	void *va;	    /* mmap of the region, or NULL */
	int slot;	    /* KVM memory slot while mapped, else -1 */
	bool readonly;	    /* reads direct, writes exit (msix-mmap=ro) */
};

struct vfio_assigned {
	struct vm *vm;
	char bdf[32];	/* DDDD:BB:DD.F */
	char name[48];	/* for log lines */
	int fd;		/* the VFIO cdev */
	uint32_t devid; /* iommufd device ID */
	bool can_reset;
	uint64_t region_off[VFIO_PCI_NUM_REGIONS]; /* file offsets */
	struct vfio_pci_info info;
	struct vfio_area area[PCI_NUM_BARS][VFIO_MAX_AREAS];
	unsigned int nr_area[PCI_NUM_BARS];
	int intx_fd, intx_resample_fd;
	bool intx_on;
	struct vfio_pci model;
	bool model_ready;
	bool rom_on_bus;
	uint64_t rom_addr;
	/*
	 * msix-mmap=ro: the MSI-X table and PBA pages are mapped into the
	 * guest read-only, so reads of anything in those pages take no exit;
	 * writes still exit and are emulated (the host must allow mapping
	 * them: VFIO_REGION_INFO_CAP_MSIX_MAPPABLE).
	 */
	bool msix_mmap_ro;
	bool msix_mappable[VFIO_PCI_NUM_REGIONS];
	/*
	 * Host operations of its MSI/MSI-X model; NULL: the VM's. Behind the
	 * SMMUv3 its MSI addresses are IOVAs to translate first.
	 */
	const struct host_ops *host;
};

/*
 * Open the device named by @spec (a host BDF such as 0000:00:03.0, or a
 * /dev/vfio/devices/vfioN path), bind it to the VM's iommufd and IOAS and
 * build its model. The caller places model.pdev on a bus, then calls
 * vfio_assigned_start(). One line in @err on failure.
 */
int vfio_assigned_open(struct vfio_assigned *a, struct vm *vm,
		       const char *spec, bool msix_mmap_ro, char *err,
		       size_t errlen);
/* After bus placement: INTx wiring (needs the slot for the SPI). */
int vfio_assigned_start(struct vfio_assigned *a, char *err, size_t errlen);
/* Attach the device to IOAS or HWPT @pt instead (an iommufd replace). */
int vfio_assigned_attach_pt(const struct vfio_assigned *a, uint32_t pt);
/* Reset the device (if it can be) and release everything. */
void vfio_assigned_close(struct vfio_assigned *a);

#endif
