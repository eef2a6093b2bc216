// SPDX-License-Identifier: GPL-2.0
#include "msi.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "../vmm/log.h"

void msi_router_init(struct msi_router *r, int vm_fd)
{
	memset(r, 0, sizeof(*r));
	r->vm_fd = vm_fd;
	pthread_mutex_init(&r->lock, NULL);
}

/* Send the whole table; lock held. */
static int commit_locked(struct msi_router *r)
{
	struct kvm_irq_routing *t;
	unsigned int n = 0;
	int ret;

	t = calloc(1, sizeof(*t) + MSI_MAX_ROUTES * sizeof(t->entries[0]));
	if (!t)
		return -ENOMEM;
	for (unsigned int i = 0; i < MSI_MAX_ROUTES; i++) {
		struct kvm_irq_routing_entry *e;

		if (!r->routes[i].used)
			continue;
		e = &t->entries[n++];
		e->gsi = MSI_GSI_BASE + i;
		if (r->routes[i].irqchip) {
			/* arm64: pin is the SPI number; irqchip 0 is the vGIC.
			 */
			e->type = KVM_IRQ_ROUTING_IRQCHIP;
			e->u.irqchip.irqchip = 0;
			e->u.irqchip.pin = r->routes[i].pin;
			continue;
		}
		e->type = KVM_IRQ_ROUTING_MSI;
		e->flags = KVM_MSI_VALID_DEVID;
		e->u.msi.address_lo = (uint32_t)r->routes[i].addr;
		e->u.msi.address_hi = r->routes[i].addr >> 32;
		e->u.msi.data = r->routes[i].data;
		e->u.msi.devid = r->routes[i].devid;
	}
	t->nr = n;
	ret = ioctl(r->vm_fd, KVM_SET_GSI_ROUTING, t) < 0 ? -errno : 0;
	r->table_updates++;
	free(t);
	return ret;
}

static int irqfd(struct msi_router *r, int fd, unsigned int gsi, bool assign)
{
	struct kvm_irqfd req = {
		.fd = fd,
		.gsi = gsi,
		.flags = assign ? 0 : KVM_IRQFD_FLAG_DEASSIGN,
	};

	return ioctl(r->vm_fd, KVM_IRQFD, &req) < 0 ? -errno : 0;
}

int msi_route_add_spi(void *opaque, unsigned int spi, int fd, int resample_fd)
{
	struct msi_router *r = opaque;
	struct kvm_irqfd req = {
		.fd = fd,
		.flags = KVM_IRQFD_FLAG_RESAMPLE,
		.resamplefd = resample_fd,
	};
	int i, ret;

	pthread_mutex_lock(&r->lock);
	for (i = 0; i < MSI_MAX_ROUTES && r->routes[i].used; i++)
		;
	if (i == MSI_MAX_ROUTES) {
		pthread_mutex_unlock(&r->lock);
		return -ENOSPC;
	}
	r->routes[i] =
		(struct msi_route){ .used = true, .irqchip = true, .pin = spi };
	ret = commit_locked(r);
	req.gsi = MSI_GSI_BASE + i;
	if (!ret && ioctl(r->vm_fd, KVM_IRQFD, &req) < 0)
		ret = -errno;
	if (ret) {
		r->routes[i].used = false;
		commit_locked(r);
	}
	pthread_mutex_unlock(&r->lock);
	return ret ? ret : i;
}

int msi_route_add(void *opaque, uint64_t addr, uint32_t data, uint32_t devid,
		  int fd)
{
	struct msi_router *r = opaque;
	int i, ret;

	pthread_mutex_lock(&r->lock);
	for (i = 0; i < MSI_MAX_ROUTES && r->routes[i].used; i++)
		;
	if (i == MSI_MAX_ROUTES) {
		pthread_mutex_unlock(&r->lock);
		return -ENOSPC;
	}
	r->routes[i] = (struct msi_route){
		.used = true, .addr = addr, .data = data, .devid = devid
	};
	ret = commit_locked(r);
	if (!ret)
		ret = irqfd(r, fd, MSI_GSI_BASE + i, true);
	if (ret) {
		r->routes[i].used = false;
		commit_locked(r);
		pthread_mutex_unlock(&r->lock);
		return ret;
	}
	pthread_mutex_unlock(&r->lock);
	pr_debug("msi: route %d -> addr 0x%llx data 0x%x devid 0x%x", i,
		 (unsigned long long)addr, data, devid);
	return i;
}

int msi_route_update(void *opaque, int route, uint64_t addr, uint32_t data,
		     uint32_t devid)
{
	struct msi_router *r = opaque;
	int ret;

	if (route < 0 || route >= MSI_MAX_ROUTES)
		return -EINVAL;
	pthread_mutex_lock(&r->lock);
	r->routes[route].addr = addr;
	r->routes[route].data = data;
	r->routes[route].devid = devid;
	ret = commit_locked(r);
	pthread_mutex_unlock(&r->lock);
	return ret;
}

void msi_route_del(void *opaque, int route, int fd)
{
	struct msi_router *r = opaque;

	if (route < 0 || route >= MSI_MAX_ROUTES)
		return;
	pthread_mutex_lock(&r->lock);
	irqfd(r, fd, MSI_GSI_BASE + route, false);
	r->routes[route].used = false;
	commit_locked(r);
	pthread_mutex_unlock(&r->lock);
}
