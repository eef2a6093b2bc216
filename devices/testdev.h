/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The interrupt-latency test device (--testdev): a PCI function whose
 * registers exercise the paths an interrupt can take through nestbox, for
 * the bare-metal payloads of bench/irq.
 *
 * BAR 0, 4 KiB, 32-bit memory:
 *   0x00 ID	    RO	 TESTDEV_ID
 *   0x04 ECHO	    RW	 trapped: every access exits to nestbox and back
 *   0x08 DOORBELL  WO	 an ioeventfd: KVM signals an eventfd without an
 *			 exit; the event loop then raises MSI-X vector 0
 *			 through its irqfd
 *   0x0c INJECT    WO	 trapped: nestbox injects MSI-X vector 1's message
 *			 with KVM_SIGNAL_MSI
 *   0x10 DOORBELLS RO	 doorbells the loop has handled
 *   0x800	    MSI-X table (2 vectors), 0xc00 PBA
 */
#ifndef NESTBOX_TESTDEV_H
#define NESTBOX_TESTDEV_H

#include <stdatomic.h>
#include <stdint.h>

#include "../vmm/evloop.h"
#include "host_ops.h"
#include "msix.h"
#include "pci.h"

#define TESTDEV_VENDOR	 0x1b36
#define TESTDEV_DEVICE	 0x0f00
#define TESTDEV_ID	 0x6e657374 /* "nest" */
#define TESTDEV_BAR_SIZE 4096

#define TESTDEV_REG_ID	      0x00
#define TESTDEV_REG_ECHO      0x04
#define TESTDEV_REG_DOORBELL  0x08
#define TESTDEV_REG_INJECT    0x0c
#define TESTDEV_REG_DOORBELLS 0x10
#define TESTDEV_MSIX_TABLE    0x800
#define TESTDEV_MSIX_PBA      0xc00
#define TESTDEV_VECTORS	      2

struct testdev {
	struct pci_dev pdev; /* first: the bus hands back this pointer */
	struct msix msix;
	const struct host_ops *host;
	int doorbell_fd;
	struct evloop_source doorbell_src;
	uint32_t echo;
	atomic_uint doorbells;
	atomic_uint injects;
};

int testdev_init(struct testdev *t, const struct host_ops *host);
void testdev_destroy(struct testdev *t);

#endif
