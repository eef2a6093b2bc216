// SPDX-License-Identifier: GPL-2.0
#include "viommu_ioas.h"

#include <errno.h>
#include <string.h>

#include "../vmm/log.h"

static struct viommu_ioas_domain *dom_of(struct viommu_ioas *vi,
					 struct virtio_iommu *v,
					 struct virtio_iommu_domain *d)
{
	return &vi->doms[d - v->domains];
}

/* Map [start, end] -> guest physical @phys into @ioas. */
static int map_range(struct viommu_ioas *vi, uint32_t ioas, uint64_t start,
		     uint64_t end, uint64_t phys, uint32_t flags)
{
	uint64_t len = end - start + 1;
	void *va;
	int r;

	/*
	 * MMIO mappings (a doorbell of the guest's own making) have no
	 * host memory behind them here; emulated devices cannot use them
	 * either. The ITS doorbell is an MSI region and never mapped.
	 */
	if (flags & VIRTIO_IOMMU_MAP_F_MMIO)
		return 0;
	va = gmem_ptr(vi->mem, phys, len); /* checked by MAP already */
	if (!va)
		return -EFAULT;
	r = iommufd_ioas_map(vi->ifd, ioas, start, len, va, vi->mem->fd,
			     phys - vi->mem->base,
			     flags & VIRTIO_IOMMU_MAP_F_WRITE);
	vi->maps++;
	if (r)
		vi->failures++;
	return r;
}

/* The domain's IOAS, created on first use with its mappings replayed. */
static int domain_ioas(struct viommu_ioas *vi, struct virtio_iommu *v,
		       struct virtio_iommu_domain *d, uint32_t *ioas)
{
	struct viommu_ioas_domain *vd = dom_of(vi, v, d);
	int r;

	if (d->bypass) {
		*ioas = vi->identity_ioas;
		return 0;
	}
	if (!vd->in_use) {
		r = iommufd_ioas_alloc(vi->ifd, &vd->ioas);
		if (r)
			return r;
		vd->in_use = true;
		d->backend = vd;
		for (unsigned int i = 0; i < d->mappings.count; i++) {
			const struct iova_mapping *m = &d->mappings.map[i];

			r = map_range(vi, vd->ioas, m->start, m->end, m->phys,
				      m->flags);
			if (r) {
				/* All or nothing: the next attach retries. */
				iommufd_destroy(vi->ifd, vd->ioas);
				vd->in_use = false;
				d->backend = NULL;
				return r;
			}
		}
	}
	*ioas = vd->ioas;
	return 0;
}

static int move_dev(struct viommu_ioas *vi, struct viommu_ioas_dev *dev,
		    uint32_t pt, bool in_domain)
{
	int r;

	if (dev->pt == pt) {
		dev->in_domain = in_domain;
		return 0;
	}
	r = dev->attach_pt(dev->ctx, pt);
	vi->attaches++;
	if (r) {
		vi->failures++;
		pr_warn("%s: cannot move to IOAS %u: %s", dev->name, pt,
			strerror(-r));
		return r;
	}
	dev->pt = pt;
	dev->in_domain = in_domain;
	return 0;
}

static uint32_t unattached_pt(struct viommu_ioas *vi, struct virtio_iommu *v)
{
	return virtio_iommu_bypass(v) ? vi->identity_ioas : vi->blocked_ioas;
}

static int on_attach(void *opaque, struct virtio_iommu *v, uint32_t id,
		     struct virtio_iommu_domain *d)
{
	struct viommu_ioas *vi = opaque;

	for (unsigned int i = 0; i < vi->nr_devs; i++) {
		struct viommu_ioas_dev *dev = &vi->devs[i];
		uint32_t pt;
		int r;

		if (!dev->has_id(dev->ctx, id))
			continue;
		if (!d) {
			pt = unattached_pt(vi, v);
		} else {
			r = domain_ioas(vi, v, d, &pt);
			if (r)
				return r;
		}
		r = move_dev(vi, dev, pt, d != NULL);
		if (r)
			return r;
	}
	return 0;
}

static int on_map(void *opaque, struct virtio_iommu_domain *d, uint64_t start,
		  uint64_t end, uint64_t phys, uint32_t flags)
{
	struct viommu_ioas *vi = opaque;
	struct viommu_ioas_domain *vd = d->backend;

	return vd ? map_range(vi, vd->ioas, start, end, phys, flags) : 0;
}

static void on_unmap(void *opaque, struct virtio_iommu_domain *d,
		     uint64_t start, uint64_t end)
{
	struct viommu_ioas *vi = opaque;
	struct viommu_ioas_domain *vd = d->backend;
	int r;

	if (!vd)
		return;
	/*
	 * UNMAP never splits a mapping, so every IOAS area inside [start,
	 * end] goes whole. An IOVA range reaching 2^64 - 1 from 0 has no
	 * 64-bit length; the IOAS cannot hold one that large anyway.
	 */
	r = iommufd_ioas_unmap(vi->ifd, vd->ioas, start,
			       end - start + 1 ? end - start + 1
					       : UINT64_MAX & ~0xfffULL);
	vi->unmaps++;
	if (r && r != -ENOENT)
		vi->failures++;
}

static void on_domain_free(void *opaque, struct virtio_iommu_domain *d)
{
	struct viommu_ioas *vi = opaque;
	struct viommu_ioas_domain *vd = d->backend;

	if (!vd)
		return;
	/* A closed iommufd (ops NULL) refuses with -EBADF: its objects went
	 * with the file. Its fd says nothing: a fake one has fd -1. */
	iommufd_destroy(vi->ifd, vd->ioas);
	vd->in_use = false;
}

static void on_bypass_changed(void *opaque, struct virtio_iommu *v)
{
	struct viommu_ioas *vi = opaque;

	for (unsigned int i = 0; i < vi->nr_devs; i++)
		if (!vi->devs[i].in_domain)
			move_dev(vi, &vi->devs[i], unattached_pt(vi, v), false);
}

int viommu_ioas_init(struct viommu_ioas *vi, struct iommufd *ifd,
		     const struct guest_mem *mem, uint32_t identity_ioas)
{
	memset(vi, 0, sizeof(*vi));
	vi->ifd = ifd;
	vi->mem = mem;
	vi->identity_ioas = identity_ioas;
	vi->listener = (struct virtio_iommu_listener){
		.attach = on_attach,
		.map = on_map,
		.unmap = on_unmap,
		.domain_free = on_domain_free,
		.bypass_changed = on_bypass_changed,
		.opaque = vi,
	};
	return iommufd_ioas_alloc(ifd, &vi->blocked_ioas);
}

int viommu_ioas_add_dev(struct viommu_ioas *vi,
			const struct viommu_ioas_dev *dev)
{
	if (vi->nr_devs == VIOMMU_IOAS_MAX_DEVS)
		return -ENOSPC;
	vi->devs[vi->nr_devs++] = *dev;
	return 0;
}

int viommu_ioas_start(struct viommu_ioas *vi, struct virtio_iommu *viommu)
{
	for (unsigned int i = 0; i < vi->nr_devs; i++) {
		int r = move_dev(vi, &vi->devs[i], unattached_pt(vi, viommu),
				 false);

		if (r)
			return r;
	}
	return 0;
}

void viommu_ioas_destroy(struct viommu_ioas *vi)
{
	for (unsigned int i = 0; i < VIRTIO_IOMMU_MAX_DOMAINS; i++)
		if (vi->doms[i].in_use)
			iommufd_destroy(vi->ifd, vi->doms[i].ioas);
	if (vi->ifd && vi->blocked_ioas)
		iommufd_destroy(vi->ifd, vi->blocked_ioas);
}
