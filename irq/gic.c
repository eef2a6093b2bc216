// SPDX-License-Identifier: GPL-2.0
#include "gic.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "../vmm/layout.h"

static int set_attr(int fd, __u32 group, __u64 attr, const void *val)
{
	struct kvm_device_attr a = {
		.group = group,
		.attr = attr,
		.addr = (__u64)(uintptr_t)val,
	};

	return ioctl(fd, KVM_SET_DEVICE_ATTR, &a) < 0 ? -errno : 0;
}

static int create_device(int vm_fd, __u32 type)
{
	struct kvm_create_device cd = { .type = type };

	if (ioctl(vm_fd, KVM_CREATE_DEVICE, &cd) < 0)
		return -errno;
	return cd.fd;
}

int gic_create(struct gic *g, int vm_fd, char *err, size_t errlen)
{
	const __u64 dist = LAYOUT_GICD_BASE, redist = LAYOUT_GICR_BASE;
	const __u64 its = LAYOUT_GITS_BASE;
	int r;

	g->vm_fd = vm_fd;
	g->fd = g->its_fd = -1;

	r = create_device(vm_fd, KVM_DEV_TYPE_ARM_VGIC_V3);
	if (r < 0) {
		snprintf(err, errlen, "cannot create the in-kernel GICv3: %s",
			 strerror(-r));
		return r;
	}
	g->fd = r;
	r = set_attr(g->fd, KVM_DEV_ARM_VGIC_GRP_ADDR,
		     KVM_VGIC_V3_ADDR_TYPE_DIST, &dist);
	if (!r)
		r = set_attr(g->fd, KVM_DEV_ARM_VGIC_GRP_ADDR,
			     KVM_VGIC_V3_ADDR_TYPE_REDIST, &redist);
	if (r) {
		snprintf(err, errlen, "cannot place the GICv3: %s",
			 strerror(-r));
		return r;
	}

	r = create_device(vm_fd, KVM_DEV_TYPE_ARM_VGIC_ITS);
	if (r < 0) {
		snprintf(err, errlen, "cannot create the in-kernel ITS: %s",
			 strerror(-r));
		return r;
	}
	g->its_fd = r;
	r = set_attr(g->its_fd, KVM_DEV_ARM_VGIC_GRP_ADDR,
		     KVM_VGIC_ITS_ADDR_TYPE, &its);
	if (r) {
		snprintf(err, errlen, "cannot place the ITS: %s", strerror(-r));
		return r;
	}
	return 0;
}

int gic_finalize(struct gic *g, char *err, size_t errlen)
{
	const __u32 nr_irqs = GIC_SPI_BASE + GIC_NR_SPIS;
	int r;

	r = set_attr(g->fd, KVM_DEV_ARM_VGIC_GRP_NR_IRQS, 0, &nr_irqs);
	if (!r)
		r = set_attr(g->fd, KVM_DEV_ARM_VGIC_GRP_CTRL,
			     KVM_DEV_ARM_VGIC_CTRL_INIT, NULL);
	if (r) {
		snprintf(err, errlen, "cannot initialise the GICv3: %s",
			 strerror(-r));
		return r;
	}
	r = set_attr(g->its_fd, KVM_DEV_ARM_VGIC_GRP_CTRL,
		     KVM_DEV_ARM_VGIC_CTRL_INIT, NULL);
	if (r) {
		snprintf(err, errlen, "cannot initialise the ITS: %s",
			 strerror(-r));
		return r;
	}
	return 0;
}

void gic_destroy(struct gic *g)
{
	if (g->its_fd >= 0)
		close(g->its_fd);
	if (g->fd >= 0)
		close(g->fd);
	g->fd = g->its_fd = -1;
}

int gic_set_spi(struct gic *g, unsigned int spi, bool level)
{
	struct kvm_irq_level irq = {
		.irq = (KVM_ARM_IRQ_TYPE_SPI << KVM_ARM_IRQ_TYPE_SHIFT) |
		       (GIC_SPI_BASE + spi),
		.level = level,
	};

	return ioctl(g->vm_fd, KVM_IRQ_LINE, &irq) < 0 ? -errno : 0;
}
