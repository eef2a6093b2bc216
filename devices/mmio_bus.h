/* SPDX-License-Identifier: GPL-2.0 */
/*
 * MMIO bus: maps guest physical ranges to device models. Regions change
 * while vCPUs run (a guest moving a PCI BAR), so the table is behind a
 * read-write lock; an access copies its region out and calls the device
 * without the lock, so a handler may itself remap regions. Devices are
 * never freed while the VM runs, and each serialises its own accesses.
 */
#ifndef NESTBOX_MMIO_BUS_H
#define NESTBOX_MMIO_BUS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct mmio_ops {
	/* @offset is relative to the region base; @len is 1, 2, 4 or 8. */
	uint64_t (*read)(void *dev, uint64_t offset, unsigned int len);
	void (*write)(void *dev, uint64_t offset, uint64_t value,
		      unsigned int len);
};

struct mmio_region {
	uint64_t base, size;
	const struct mmio_ops *ops;
	void *dev;
	const char *name;
};

#define MMIO_BUS_MAX_REGIONS 64

struct mmio_bus {
	pthread_rwlock_t lock;
	struct mmio_region regions[MMIO_BUS_MAX_REGIONS]; /* sorted by base */
	unsigned int nr;
};

void mmio_bus_init(struct mmio_bus *bus);

/* Returns 0, -EBUSY if the range overlaps another, -ENOSPC, -EINVAL. */
int mmio_bus_add(struct mmio_bus *bus, uint64_t base, uint64_t size,
		 const struct mmio_ops *ops, void *dev, const char *name);

/* Remove the region of @dev based at @base. Returns 0 or -ENOENT. */
int mmio_bus_remove(struct mmio_bus *bus, uint64_t base, void *dev);

/* Copy out the region holding [addr, addr + len). Returns false if none. */
bool mmio_bus_find(struct mmio_bus *bus, uint64_t addr, unsigned int len,
		   struct mmio_region *out);

/*
 * Perform one access. Returns 0, -ENOENT when nothing is mapped there
 * (or the access straddles a region's end), -EINVAL for a bad length.
 */
int mmio_bus_access(struct mmio_bus *bus, uint64_t addr, uint8_t *data,
		    unsigned int len, bool is_write);

#endif
