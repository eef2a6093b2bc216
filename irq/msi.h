/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Interrupt routes: one KVM GSI per route, of type KVM_IRQ_ROUTING_MSI with
 * KVM_MSI_VALID_DEVID (the PCI requester ID) through the in-kernel ITS, or
 * KVM_IRQ_ROUTING_IRQCHIP for a wired SPI; an irqfd per route.
 * KVM_SET_GSI_ROUTING replaces the whole table, so the router keeps it and
 * re-sends it on every change.
 */
#ifndef NESTBOX_MSI_H
#define NESTBOX_MSI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define MSI_MAX_ROUTES 1024
#define MSI_GSI_BASE   1024 /* clear of any SPI numbering */

struct msi_route {
	bool used;
	bool irqchip; /* a wired SPI (pin) instead of an MSI */
	unsigned int pin;
	uint64_t addr;
	uint32_t data, devid;
};

struct msi_router {
	int vm_fd;
	pthread_mutex_t lock;
	struct msi_route routes[MSI_MAX_ROUTES];
	unsigned int table_updates; /* KVM_SET_GSI_ROUTING calls */
};

void msi_router_init(struct msi_router *r, int vm_fd);

/* host_ops callbacks; @opaque is the router. */
int msi_route_add(void *opaque, uint64_t addr, uint32_t data, uint32_t devid,
		  int fd);
int msi_route_update(void *opaque, int route, uint64_t addr, uint32_t data,
		     uint32_t devid);
void msi_route_del(void *opaque, int route, int fd);

/*
 * A level-sensitive SPI driven through an irqfd: writing @fd asserts it,
 * the guest's EOI deasserts it and signals @resample_fd, after which the
 * device re-asserts if its interrupt is still pending
 * (KVM_IRQFD_FLAG_RESAMPLE).
 */
int msi_route_add_spi(void *opaque, unsigned int spi, int fd, int resample_fd);

#endif
