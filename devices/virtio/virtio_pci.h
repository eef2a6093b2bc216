/* SPDX-License-Identifier: GPL-2.0 */
/* virtio over PCI, modern interface only (virtio 1.2, section 4.1). */
#ifndef NESTBOX_VIRTIO_PCI_H
#define NESTBOX_VIRTIO_PCI_H

#include "../host_ops.h"
#include "../msix.h"
#include "../pci.h"
#include "virtio.h"

#define VIRTIO_PCI_VENDOR      0x1af4
#define VIRTIO_PCI_DEVICE_BASE 0x1040 /* + virtio device ID (4.1.2.1) */

/* Capability cfg_type values (4.1.4) */
#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_ISR_CFG	  3
#define VIRTIO_PCI_CAP_DEVICE_CFG 4
#define VIRTIO_PCI_CAP_PCI_CFG	  5

/* Layout of our single 64-bit memory BAR */
#define VIRTIO_PCI_BAR		  4
#define VIRTIO_PCI_BAR_SIZE	  0x8000
#define VIRTIO_PCI_COMMON_OFF	  0x0000
#define VIRTIO_PCI_COMMON_SIZE	  0x40
#define VIRTIO_PCI_ISR_OFF	  0x1000
#define VIRTIO_PCI_DEVICE_OFF	  0x2000
#define VIRTIO_PCI_DEVICE_SIZE	  0x1000
#define VIRTIO_PCI_NOTIFY_OFF	  0x3000
#define VIRTIO_PCI_NOTIFY_MULT	  4
#define VIRTIO_PCI_MSIX_TABLE_OFF 0x4000
#define VIRTIO_PCI_MSIX_PBA_OFF	  0x5000

/* Common configuration structure (4.1.4.3) */
#define VIRTIO_PCI_COMMON_DFSELECT	0x00
#define VIRTIO_PCI_COMMON_DF		0x04
#define VIRTIO_PCI_COMMON_GFSELECT	0x08
#define VIRTIO_PCI_COMMON_GF		0x0c
#define VIRTIO_PCI_COMMON_MSIX		0x10
#define VIRTIO_PCI_COMMON_NUMQ		0x12
#define VIRTIO_PCI_COMMON_STATUS	0x14
#define VIRTIO_PCI_COMMON_CFGGENERATION 0x15
#define VIRTIO_PCI_COMMON_Q_SELECT	0x16
#define VIRTIO_PCI_COMMON_Q_SIZE	0x18
#define VIRTIO_PCI_COMMON_Q_MSIX	0x1a
#define VIRTIO_PCI_COMMON_Q_ENABLE	0x1c
#define VIRTIO_PCI_COMMON_Q_NOFF	0x1e
#define VIRTIO_PCI_COMMON_Q_DESCLO	0x20
#define VIRTIO_PCI_COMMON_Q_DESCHI	0x24
#define VIRTIO_PCI_COMMON_Q_AVAILLO	0x28
#define VIRTIO_PCI_COMMON_Q_AVAILHI	0x2c
#define VIRTIO_PCI_COMMON_Q_USEDLO	0x30
#define VIRTIO_PCI_COMMON_Q_USEDHI	0x34
#define VIRTIO_PCI_COMMON_Q_NDATA	0x38
#define VIRTIO_PCI_COMMON_Q_RESET	0x3a

#define VIRTIO_MSI_NO_VECTOR  0xffff
#define VIRTIO_PCI_ISR_QUEUE  1
#define VIRTIO_PCI_ISR_CONFIG 2

struct virtio_pci {
	struct pci_dev pdev;
	struct msix msix;
	struct virtio_dev *vdev;
	const struct host_ops *host;
	char name[48];

	/* Under vdev->lock */
	uint32_t dfselect, gfselect;
	uint16_t queue_sel;
	uint16_t config_vector;
	uint16_t queue_vector[VIRTIO_MAX_QUEUES];
	uint8_t isr;
	uint64_t notify_base; /* where the notify region is mapped, 0 if not */
	atomic_bool warned;
};

/*
 * Wrap @vdev in a PCI function; the caller adds vp->pdev to a bus. @pcie:
 * a root-complex integrated PCIe endpoint; false for a conventional PCI
 * device (behind a PCIe-to-PCI bridge).
 */
int virtio_pci_init(struct virtio_pci *vp, struct virtio_dev *vdev,
		    uint32_t class_code, const struct host_ops *host,
		    bool pcie);

#endif
