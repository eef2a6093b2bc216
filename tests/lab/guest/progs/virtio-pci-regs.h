/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the L2 attack programs need of a virtio-pci function as nestbox lays
 * it out: the common configuration registers (virtio 1.2, 4.1.4.3) at the
 * start of BAR 4, the status bits (2.1) and the split-ring flags (2.7.5).
 */
#ifndef NBLAB_VIRTIO_PCI_REGS_H
#define NBLAB_VIRTIO_PCI_REGS_H

#define VBAR_SIZE   0x8000 /* nestbox's BAR 4 */
#define VBAR_NOTIFY 0x3000 /* its notification area */

#define C_GFSELECT 0x08
#define C_GF	   0x0c
#define C_STATUS   0x14
#define C_Q_SELECT 0x16
#define C_Q_SIZE   0x18
#define C_Q_ENABLE 0x1c
#define C_Q_DESC   0x20
#define C_Q_AVAIL  0x28
#define C_Q_USED   0x30

#define S_ACK	      1
#define S_DRIVER      2
#define S_DRIVER_OK   4
#define S_FEATURES_OK 8
#define S_NEEDS_RESET 64

#define F_NEXT	1
#define F_WRITE 2

#endif
