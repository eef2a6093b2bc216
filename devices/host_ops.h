/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the VMM offers device models: doorbells (ioeventfd), wired
 * interrupt lines and MSI routes. Device models never see KVM; unit tests
 * pass fakes.
 */
#ifndef NESTBOX_HOST_OPS_H
#define NESTBOX_HOST_OPS_H

#include <stdbool.h>
#include <stdint.h>

struct evloop;

struct host_ops {
	/*
	 * Make guest writes of @len bytes to @addr (matching @data if
	 * @datamatch) signal @fd without an exit to the VMM; false to undo.
	 * Returns 0 or -errno; on failure the device keeps trapping writes.
	 */
	int (*ioeventfd)(void *opaque, uint64_t addr, unsigned int len,
			 bool datamatch, uint64_t data, int fd, bool assign);
	/* Drive a level-sensitive SPI. */
	void (*set_spi)(void *opaque, unsigned int spi, bool level);
	/*
	 * Bind a level-sensitive SPI to an irqfd with a resample eventfd
	 * (writing @fd asserts; the guest's EOI deasserts and signals
	 * @resample_fd). Returns >= 0 or -errno; NULL: not offered.
	 */
	int (*spi_irqfd)(void *opaque, unsigned int spi, int fd,
			 int resample_fd);
	/*
	 * MSI routes: allocate a route for (@addr, @data) from requester
	 * @devid and bind @fd to it (an irqfd); update it; free it.
	 * Returns a route handle >= 0 or -errno.
	 */
	int (*msi_route_add)(void *opaque, uint64_t addr, uint32_t data,
			     uint32_t devid, int fd);
	int (*msi_route_update)(void *opaque, int route, uint64_t addr,
				uint32_t data, uint32_t devid);
	void (*msi_route_del)(void *opaque, int route, int fd);
	/* Inject one MSI now (no route, no irqfd); NULL: not offered. */
	int (*signal_msi)(void *opaque, uint64_t addr, uint32_t data,
			  uint32_t devid);
	void *opaque;
	struct evloop *loop; /* where device backends run */
	unsigned int
		intx_spi_base; /* PCI INTA-INTD land on SPIs base..base+3 */
};

#endif
