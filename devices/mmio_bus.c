// SPDX-License-Identifier: GPL-2.0
#include "mmio_bus.h"

#include <errno.h>
#include <string.h>

void mmio_bus_init(struct mmio_bus *bus)
{
	memset(bus, 0, sizeof(*bus));
	pthread_rwlock_init(&bus->lock, NULL);
}

int mmio_bus_add(struct mmio_bus *bus, uint64_t base, uint64_t size,
		 const struct mmio_ops *ops, void *dev, const char *name)
{
	unsigned int i, j;

	if (!size || base + size < base || !ops)
		return -EINVAL;
	pthread_rwlock_wrlock(&bus->lock);
	if (bus->nr == MMIO_BUS_MAX_REGIONS) {
		pthread_rwlock_unlock(&bus->lock);
		return -ENOSPC;
	}
	for (i = 0; i < bus->nr && bus->regions[i].base < base; i++)
		;
	/* Sorted and disjoint: only the neighbours can overlap. */
	for (j = i ? i - 1 : 0; j < bus->nr && j <= i; j++) {
		const struct mmio_region *r = &bus->regions[j];

		if (base < r->base + r->size && r->base < base + size) {
			pthread_rwlock_unlock(&bus->lock);
			return -EBUSY;
		}
	}
	memmove(&bus->regions[i + 1], &bus->regions[i],
		(bus->nr - i) * sizeof(bus->regions[0]));
	bus->regions[i] = (struct mmio_region){ base, size, ops, dev, name };
	bus->nr++;
	pthread_rwlock_unlock(&bus->lock);
	return 0;
}

int mmio_bus_remove(struct mmio_bus *bus, uint64_t base, void *dev)
{
	int ret = -ENOENT;

	pthread_rwlock_wrlock(&bus->lock);
	for (unsigned int i = 0; i < bus->nr; i++) {
		if (bus->regions[i].base == base &&
		    bus->regions[i].dev == dev) {
			memmove(&bus->regions[i], &bus->regions[i + 1],
				(bus->nr - i - 1) * sizeof(bus->regions[0]));
			bus->nr--;
			ret = 0;
			break;
		}
	}
	pthread_rwlock_unlock(&bus->lock);
	return ret;
}

static const struct mmio_region *find_locked(const struct mmio_bus *bus,
					     uint64_t addr, unsigned int len)
{
	unsigned int lo = 0, hi = bus->nr;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;
		const struct mmio_region *r = &bus->regions[mid];

		if (addr < r->base) {
			hi = mid;
		} else if (addr - r->base >= r->size) {
			lo = mid + 1;
		} else {
			if (len > r->size - (addr - r->base))
				return NULL;
			return r;
		}
	}
	return NULL;
}

bool mmio_bus_find(struct mmio_bus *bus, uint64_t addr, unsigned int len,
		   struct mmio_region *out)
{
	const struct mmio_region *r;

	pthread_rwlock_rdlock(&bus->lock);
	r = find_locked(bus, addr, len);
	if (r)
		*out = *r;
	pthread_rwlock_unlock(&bus->lock);
	return r != NULL;
}

int mmio_bus_access(struct mmio_bus *bus, uint64_t addr, uint8_t *data,
		    unsigned int len, bool is_write)
{
	struct mmio_region region;
	const struct mmio_region *r = &region;
	uint64_t v = 0;

	if (len != 1 && len != 2 && len != 4 && len != 8)
		return -EINVAL;
	if (!mmio_bus_find(bus, addr, len, &region))
		return -ENOENT;
	/* KVM's run->mmio.data holds the value in guest (little) endianness. */
	if (is_write) {
		for (int i = len - 1; i >= 0; i--)
			v = (v << 8) | data[i];
		if (r->ops->write)
			r->ops->write(r->dev, addr - r->base, v, len);
	} else {
		v = r->ops->read ? r->ops->read(r->dev, addr - r->base, len)
				 : 0;
		for (unsigned int i = 0; i < len; i++, v >>= 8)
			data[i] = (uint8_t)v;
	}
	return 0;
}
