/* SPDX-License-Identifier: GPL-2.0 */
/* In-kernel vGICv3 and ITS through the KVM device API. */
#ifndef NESTBOX_GIC_H
#define NESTBOX_GIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* SPIs the guest may use (KVM_DEV_ARM_VGIC_GRP_NR_IRQS counts SGIs/PPIs too).
 */
#define GIC_NR_SPIS  224
#define GIC_SPI_BASE 32

struct gic {
	int vm_fd;
	int fd;	    /* vGICv3 device */
	int its_fd; /* ITS device */
};

/* Create both devices and place them; before the vCPUs are created. */
int gic_create(struct gic *g, int vm_fd, char *err, size_t errlen);
/* Size the distributor and initialise both; after all vCPUs exist. */
int gic_finalize(struct gic *g, char *err, size_t errlen);
void gic_destroy(struct gic *g);

/* Drive the level of SPI @spi (0-based). */
int gic_set_spi(struct gic *g, unsigned int spi, bool level);

#endif
