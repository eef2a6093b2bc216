// SPDX-License-Identifier: GPL-2.0
#include "mmio_bus.h"

#include <errno.h>
#include <string.h>

void mmio_bus_init(struct mmio_bus *bus)
{
	memset(bus, 0, sizeof(*bus));
}

int mmio_bus_add(struct mmio_bus *bus, uint64_t base, uint64_t size,
		 const struct mmio_ops *ops, void *dev, const char *name)
{
	unsigned int i;

	if (!size || base + size < base || !ops)
		return -EINVAL;
	if (bus->nr == MMIO_BUS_MAX_REGIONS)
		return -ENOSPC;
	for (i = 0; i < bus->nr; i++) {
		const struct mmio_region *r = &bus->regions[i];

		if (base < r->base + r->size && r->base < base + size)
			return -EBUSY;
		if (r->base > base)
			break;
	}
	memmove(&bus->regions[i + 1], &bus->regions[i],
		(bus->nr - i) * sizeof(bus->regions[0]));
	bus->regions[i] = (struct mmio_region){ base, size, ops, dev, name };
	bus->nr++;
	return 0;
}

const struct mmio_region *mmio_bus_find(const struct mmio_bus *bus,
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

int mmio_bus_access(const struct mmio_bus *bus, uint64_t addr, uint8_t *data,
		    unsigned int len, bool is_write)
{
	const struct mmio_region *r;
	uint64_t v = 0;

	if (len != 1 && len != 2 && len != 4 && len != 8)
		return -EINVAL;
	r = mmio_bus_find(bus, addr, len);
	if (!r)
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
