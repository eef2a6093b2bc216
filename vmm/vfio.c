// SPDX-License-Identifier: GPL-2.0
#include "vfio.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "../iommu/uapi_iommufd.h"
#include "log.h"
#include "vm.h"

/* ---- finding the cdev ---- */

static bool is_bdf(const char *s)
{
	unsigned int d, b, s2, f;
	char end;

	return sscanf(s, "%4x:%2x:%2x.%1x%c", &d, &b, &s2, &f, &end) == 4;
}

/* The driver a host function is bound to, or "" */
static void bound_driver(const char *bdf, char *out, size_t len)
{
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	out[0] = '\0';
	if (n > 0) {
		link[n] = '\0';
		snprintf(out, len, "%s", strrchr(link, '/') + 1);
	}
}

/* /sys/bus/pci/devices/BDF/vfio-dev/vfioN -> /dev/vfio/devices/vfioN */
static int cdev_of_bdf(const char *bdf, char *node, size_t len, char *err,
		       size_t errlen)
{
	char path[PATH_MAX], drv[64];
	struct dirent *e;
	struct stat st;
	DIR *dir;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", bdf);
	if (stat(path, &st)) {
		snprintf(err, errlen, "--vfio %s: no such PCI device on the host",
			 bdf);
		return -ENOENT;
	}
	bound_driver(bdf, drv, sizeof(drv));
	if (strcmp(drv, "vfio-pci")) {
		snprintf(err, errlen,
			 "--vfio %s: the device is bound to %s, not vfio-pci (echo vfio-pci > /sys/bus/pci/devices/%s/driver_override, then rebind)",
			 bdf, drv[0] ? drv : "no driver", bdf);
		return -EINVAL;
	}
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vfio-dev", bdf);
	dir = opendir(path);
	if (!dir) {
		snprintf(err, errlen,
			 "--vfio %s: no VFIO cdev for it: the host kernel lacks CONFIG_VFIO_DEVICE_CDEV",
			 bdf);
		return -ENOTSUP;
	}
	node[0] = '\0';
	while ((e = readdir(dir)))
		if (!strncmp(e->d_name, "vfio", 4)) {
			snprintf(node, len, "/dev/vfio/devices/%.64s",
				 e->d_name);
			break;
		}
	closedir(dir);
	if (!node[0]) {
		snprintf(err, errlen, "--vfio %s: vfio-dev lists no vfioN",
			 bdf);
		return -ENOENT;
	}
	return 0;
}

/* /dev/vfio/devices/vfioN -> its BDF, through sysfs (for messages) */
static void bdf_of_cdev(const char *node, char *bdf, size_t len)
{
	char path[PATH_MAX], link[PATH_MAX], *p;
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/class/vfio-dev/%s/device",
		 strrchr(node, '/') + 1);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0) {
		snprintf(bdf, len, "%.31s", strrchr(node, '/') + 1);
		return;
	}
	link[n] = '\0';
	p = strrchr(link, '/');
	snprintf(bdf, len, "%.31s", p ? p + 1 : link);
}

/* ---- the VM's iommufd and IOAS, shared by every assigned device ---- */

static int vm_ioas(struct vm *vm, char *err, size_t errlen)
{
	int r;

	if (vm->ioas_ready)
		return 0;
	r = iommufd_open(&vm->iommufd, err, errlen);
	if (r)
		return r;
	r = iommufd_ioas_alloc(&vm->iommufd, &vm->ioas);
	if (r) {
		snprintf(err, errlen, "IOMMU_IOAS_ALLOC: %s", strerror(-r));
		return r;
	}
	vm->ioas_ready = true;
	return 0;
}

/* Guest RAM at IOVA = guest physical address, once the first device is in. */
static int vm_ioas_map_ram(struct vm *vm, const char *name, char *err,
			   size_t errlen)
{
	struct iommufd_range ranges[32];
	uint64_t hs, hl;
	unsigned int n = 0;
	int r;

	r = iommufd_ioas_iova_ranges(&vm->iommufd, vm->ioas, ranges, 32, &n);
	if (r) {
		snprintf(err, errlen, "%s: IOMMU_IOAS_IOVA_RANGES: %s", name,
			 strerror(-r));
		return r;
	}
	if (!iommufd_ranges_cover(ranges, n, vm->mem.base, vm->mem.size, &hs,
				  &hl)) {
		snprintf(err, errlen,
			 "%s: guest RAM 0x%llx-0x%llx overlaps the host's reserved IOVA range 0x%llx-0x%llx of this device",
			 name, (unsigned long long)vm->mem.base,
			 (unsigned long long)(vm->mem.base + vm->mem.size - 1),
			 (unsigned long long)hs, (unsigned long long)hl);
		return -ERANGE;
	}
	if (vm->ioas_ram_mapped)
		return 0;
	r = iommufd_ioas_map(&vm->iommufd, vm->ioas, vm->mem.base,
			     vm->mem.size, vm->mem.hva, vm->mem.fd, 0, true);
	if (r) {
		snprintf(err, errlen, "%s: mapping guest RAM into the IOAS: %s",
			 name, strerror(-r));
		return r;
	}
	vm->ioas_ram_mapped = true;
	return 0;
}

/* ---- region access for the model ---- */

static int region_rw(struct vfio_assigned *a, unsigned int region,
		     uint64_t off, void *buf, size_t len, bool write)
{
	const struct vfio_pci_region *r = &a->info.region[region];
	ssize_t n;

	if (region >= VFIO_PCI_NUM_REGIONS || off > r->size ||
	    len > r->size - off)
		return -EINVAL;
	n = write ? pwrite(a->fd, buf, len, a->region_off[region] + off)
		  : pread(a->fd, buf, len, a->region_off[region] + off);
	return n == (ssize_t)len ? 0 : n < 0 ? -errno : -EIO;
}

static int op_read(void *opaque, unsigned int region, uint64_t off, void *buf,
		   size_t len)
{
	return region_rw(opaque, region, off, buf, len, false);
}

static int op_write(void *opaque, unsigned int region, uint64_t off,
		    const void *buf, size_t len)
{
	return region_rw(opaque, region, off, (void *)buf, len, true);
}

static int set_irqs_raw(struct vfio_assigned *a, unsigned int index,
			uint32_t action, const int *fds, unsigned int n)
{
	size_t sz = sizeof(struct vfio_irq_set) + n * sizeof(int);
	struct vfio_irq_set *s = calloc(1, sz);
	int r = 0;

	if (!s)
		return -ENOMEM;
	s->argsz = sz;
	s->index = index;
	s->count = n;
	s->flags = action |
		   (n ? VFIO_IRQ_SET_DATA_EVENTFD : VFIO_IRQ_SET_DATA_NONE);
	if (n)
		memcpy(s->data, fds, n * sizeof(int));
	if (ioctl(a->fd, VFIO_DEVICE_SET_IRQS, s) < 0)
		r = -errno;
	free(s);
	return r;
}

/*
 * INTx: the device's line is an eventfd that KVM turns into the swizzled
 * SPI; the guest's EOI signals the resample eventfd, which VFIO takes as
 * "unmask" (VFIO masks the level line when it fires). No exit to nestbox.
 * VFIO allows one interrupt type at a time, so INTx is off while MSI or
 * MSI-X is on.
 */
static int intx_on(struct vfio_assigned *a)
{
	int r;

	if (a->intx_fd < 0 || a->intx_on)
		return 0;
	r = set_irqs_raw(a, VFIO_PCI_INTX_IRQ_INDEX,
			 VFIO_IRQ_SET_ACTION_TRIGGER, &a->intx_fd, 1);
	if (!r)
		r = set_irqs_raw(a, VFIO_PCI_INTX_IRQ_INDEX,
				 VFIO_IRQ_SET_ACTION_UNMASK,
				 &a->intx_resample_fd, 1);
	a->intx_on = !r;
	return r;
}

static void intx_off(struct vfio_assigned *a)
{
	if (!a->intx_on)
		return;
	set_irqs_raw(a, VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER,
		     NULL, 0);
	a->intx_on = false;
}

static int op_set_irqs(void *opaque, unsigned int index, const int *fds,
		       unsigned int n)
{
	struct vfio_assigned *a = opaque;
	int r;

	if (n)
		intx_off(a);
	r = set_irqs_raw(a, index, VFIO_IRQ_SET_ACTION_TRIGGER, fds, n);
	if (r == -EINVAL && !n)
		r = 0; /* disabling what was not on */
	if (r)
		pr_warn("%s: VFIO_DEVICE_SET_IRQS (%s, %u vectors): %s",
			a->name,
			index == VFIO_PCI_MSIX_IRQ_INDEX ? "MSI-X" : "MSI", n,
			strerror(-r));
	if (!n)
		intx_on(a);
	return r;
}

/* ---- BARs: mmap'able areas become KVM memory slots ---- */

static void unmap_bar(struct vfio_assigned *a, unsigned int bar)
{
	for (unsigned int i = 0; i < a->nr_area[bar]; i++) {
		struct vfio_area *ar = &a->area[bar][i];
		struct kvm_userspace_memory_region mr = { .slot = ar->slot };

		if (ar->slot < 0)
			continue;
		/* memory_size 0 deletes the slot */
		if (ioctl(a->vm->kvm.vm_fd, KVM_SET_USER_MEMORY_REGION, &mr))
			pr_warn("%s: removing BAR %u slot %d: %s", a->name, bar,
				ar->slot, strerror(errno));
		vm_memslot_free(a->vm, ar->slot);
		ar->slot = -1;
	}
}

static void op_bar_moved(void *opaque, unsigned int bar, bool mapped,
			 uint64_t addr)
{
	struct vfio_assigned *a = opaque;

	if (bar == VFIO_PCI_ROM_REGION_INDEX) {
		/* The ROM is read rarely: it stays trapped, on the MMIO bus. */
		if (a->rom_on_bus)
			mmio_bus_remove(&a->vm->bus, a->rom_addr,
					&a->model.rom_ref);
		a->rom_on_bus = false;
		if (mapped &&
		    !mmio_bus_add(&a->vm->bus, addr, a->model.rom_size,
				  &vfio_pci_rom_ops, &a->model.rom_ref,
				  a->name)) {
			a->rom_on_bus = true;
			a->rom_addr = addr;
		}
		return;
	}
	if (bar >= PCI_NUM_BARS)
		return;
	unmap_bar(a, bar);
	if (!mapped)
		return;
	for (unsigned int i = 0; i < a->nr_area[bar]; i++) {
		struct vfio_area *ar = &a->area[bar][i];
		struct kvm_userspace_memory_region mr;
		int slot = vm_memslot_alloc(a->vm);

		if (slot < 0) {
			pr_warn("%s: no KVM memory slot for BAR %u; its accesses trap",
				a->name, bar);
			return;
		}
		mr = (struct kvm_userspace_memory_region){
			.slot = slot,
			.flags = ar->readonly ? KVM_MEM_READONLY : 0,
			.guest_phys_addr = addr + ar->off,
			.memory_size = ar->size,
			.userspace_addr = (uint64_t)(uintptr_t)ar->va,
		};
		if (ioctl(a->vm->kvm.vm_fd, KVM_SET_USER_MEMORY_REGION, &mr)) {
			pr_warn("%s: mapping BAR %u at 0x%llx: %s; its accesses trap",
				a->name, bar, (unsigned long long)mr.guest_phys_addr,
				strerror(errno));
			vm_memslot_free(a->vm, slot);
			continue;
		}
		ar->slot = slot;
	}
}

static const struct vfio_pci_ops model_ops = {
	.read = op_read,
	.write = op_write,
	.set_irqs = op_set_irqs,
	.bar_moved = op_bar_moved,
};

/*
 * Cut [cut_off, cut_off + cut_len) (page-rounded) out of a BAR's areas;
 * with @readonly put it back as a read-only area of its own (merged with a
 * read-only area it touches, e.g. a PBA in the table's page).
 */
static void carve(struct vfio_assigned *a, unsigned int bar, uint64_t cut_off,
		  uint64_t cut_len, bool readonly)
{
	long pg = sysconf(_SC_PAGESIZE);
	uint64_t lo = cut_off & ~(uint64_t)(pg - 1);
	uint64_t hi = (cut_off + cut_len + pg - 1) & ~(uint64_t)(pg - 1);
	struct vfio_area out[VFIO_MAX_AREAS];
	unsigned int n = 0;

	if (!cut_len)
		return;
	for (unsigned int i = 0; i < a->nr_area[bar]; i++) {
		struct vfio_area ar = a->area[bar][i];
		uint64_t end = ar.off + ar.size;

		if (ar.readonly && readonly && end >= lo && ar.off <= hi) {
			/* an earlier read-only cut: grow it over this one */
			lo = lo < ar.off ? lo : ar.off;
			hi = hi > end ? hi : end;
			continue;
		}
		if (end <= lo || ar.off >= hi) {
			if (n < VFIO_MAX_AREAS)
				out[n++] = ar;
			continue;
		}
		if (ar.off < lo && n < VFIO_MAX_AREAS)
			out[n++] = (struct vfio_area){ ar.off, lo - ar.off,
						       NULL, -1, false };
		if (end > hi && n < VFIO_MAX_AREAS)
			out[n++] = (struct vfio_area){ hi, end - hi, NULL, -1,
						       false };
	}
	if (readonly && n < VFIO_MAX_AREAS)
		out[n++] = (struct vfio_area){ lo, hi - lo, NULL, -1, true };
	memcpy(a->area[bar], out, n * sizeof(out[0]));
	a->nr_area[bar] = n;
}

/* Region info, with the sparse-mmap capability when there is one. */
static int read_region(struct vfio_assigned *a, unsigned int index,
		       char *err, size_t errlen)
{
	struct vfio_region_info *ri;
	size_t sz = sizeof(*ri);
	int r = 0;

	for (int pass = 0; pass < 2; pass++) {
		ri = calloc(1, sz);
		if (!ri)
			return -ENOMEM;
		ri->argsz = sz;
		ri->index = index;
		if (ioctl(a->fd, VFIO_DEVICE_GET_REGION_INFO, ri) < 0) {
			r = -errno;
			free(ri);
			/* Not every index exists (e.g. VGA): a hole. */
			return r == -EINVAL ? 0 : r;
		}
		if (ri->argsz <= sz || pass)
			break;
		sz = ri->argsz;
		free(ri);
	}
	a->region_off[index] = ri->offset;
	a->info.region[index].size = ri->size;
	a->info.region[index].flags = ri->flags;
	if (index <= VFIO_PCI_BAR5_REGION_INDEX &&
	    (ri->flags & VFIO_REGION_INFO_FLAG_MMAP) && ri->size) {
		struct vfio_info_cap_header *h = NULL;
		uint32_t next = (ri->flags & VFIO_REGION_INFO_FLAG_CAPS)
					? ri->cap_offset
					: 0;
		unsigned int hops = 0;

		/* Bounded walk of the kernel's capability chain. */
		while (next && next + sizeof(*h) <= ri->argsz && hops++ < 16) {
			h = (void *)((char *)ri + next);
			if (h->id == VFIO_REGION_INFO_CAP_MSIX_MAPPABLE)
				a->msix_mappable[index] = true;
			if (h->id == VFIO_REGION_INFO_CAP_SPARSE_MMAP)
				break;
			next = h->next;
			h = NULL;
		}
		/* The MSI-X capability may come after the sparse one. */
		for (uint32_t n2 = h ? h->next : 0, hops2 = 0;
		     n2 && n2 + sizeof(*h) <= ri->argsz && hops2 < 16;
		     hops2++) {
			struct vfio_info_cap_header *h2 =
				(void *)((char *)ri + n2);

			if (h2->id == VFIO_REGION_INFO_CAP_MSIX_MAPPABLE)
				a->msix_mappable[index] = true;
			n2 = h2->next;
		}
		if (h) {
			struct vfio_region_info_cap_sparse_mmap *sp = (void *)h;

			for (uint32_t i = 0;
			     i < sp->nr_areas && a->nr_area[index] < VFIO_MAX_AREAS;
			     i++)
				if (sp->areas[i].size)
					a->area[index][a->nr_area[index]++] =
						(struct vfio_area){
							sp->areas[i].offset,
							sp->areas[i].size, NULL,
							-1, false
						};
		} else {
			a->area[index][0] =
				(struct vfio_area){ 0, ri->size, NULL, -1, false };
			a->nr_area[index] = 1;
		}
	}
	free(ri);
	(void)err;
	(void)errlen;
	return 0;
}

static int map_areas(struct vfio_assigned *a, char *err, size_t errlen)
{
	uint64_t toff, tlen, poff, plen;
	int msix_bar = vfio_pci_msix_bar(&a->model, &toff, &tlen, &poff, &plen);

	int pba_bar = vfio_pci_msix_pba_bar(&a->model);

	if (a->msix_mmap_ro && msix_bar >= 0 &&
	    (!a->msix_mappable[msix_bar] ||
	     (pba_bar >= 0 && !a->msix_mappable[pba_bar]))) {
		snprintf(err, errlen,
			 "%s: msix-mmap=ro: the host does not let the MSI-X table be mapped (no VFIO_REGION_INFO_CAP_MSIX_MAPPABLE)",
			 a->name);
		return -ENOTSUP;
	}
	for (unsigned int bar = 0; bar < PCI_NUM_BARS; bar++) {
		/* The MSI-X table and PBA stay trapped: they are emulated. */
		if ((int)bar == msix_bar)
			carve(a, bar, toff, tlen, a->msix_mmap_ro);
		if ((int)bar == pba_bar)
			carve(a, bar, poff, plen, a->msix_mmap_ro);
		for (unsigned int i = 0; i < a->nr_area[bar]; i++) {
			struct vfio_area *ar = &a->area[bar][i];

			ar->va = mmap(NULL, ar->size,
				      ar->readonly ? PROT_READ
						   : PROT_READ | PROT_WRITE,
				      MAP_SHARED, a->fd,
				      a->region_off[bar] + ar->off);
			if (ar->va == MAP_FAILED) {
				snprintf(err, errlen,
					 "%s: mmap of BAR %u (0x%llx bytes at 0x%llx): %s",
					 a->name, bar,
					 (unsigned long long)ar->size,
					 (unsigned long long)ar->off,
					 strerror(errno));
				ar->va = NULL;
				return -errno;
			}
		}
	}
	return 0;
}

static int read_irqs(struct vfio_assigned *a)
{
	for (unsigned int i = 0; i < VFIO_PCI_NUM_IRQS; i++) {
		struct vfio_irq_info ii = { .argsz = sizeof(ii), .index = i };

		if (ioctl(a->fd, VFIO_DEVICE_GET_IRQ_INFO, &ii) < 0)
			continue;
		a->info.irq_count[i] = ii.count;
	}
	return 0;
}

int vfio_assigned_open(struct vfio_assigned *a, struct vm *vm,
		       const char *spec, bool msix_mmap_ro, char *err,
		       size_t errlen)
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct vfio_device_attach_iommufd_pt at = { .argsz = sizeof(at) };
	struct vfio_device_info di = { .argsz = sizeof(di) };
	const struct host_ops *host = a->host; /* the caller's choice */
	char node[PATH_MAX];
	int r;

	memset(a, 0, sizeof(*a));
	a->host = host;
	a->vm = vm;
	a->msix_mmap_ro = msix_mmap_ro;
	a->fd = a->intx_fd = a->intx_resample_fd = -1;
	for (unsigned int b = 0; b < PCI_NUM_BARS; b++)
		for (unsigned int i = 0; i < VFIO_MAX_AREAS; i++)
			a->area[b][i].slot = -1;
	if (is_bdf(spec)) {
		snprintf(a->bdf, sizeof(a->bdf), "%s", spec);
		r = cdev_of_bdf(spec, node, sizeof(node), err, errlen);
		if (r)
			return r;
	} else if (!strncmp(spec, "/dev/vfio/devices/", 18)) {
		snprintf(node, sizeof(node), "%s", spec);
		bdf_of_cdev(node, a->bdf, sizeof(a->bdf));
	} else {
		snprintf(err, errlen,
			 "--vfio '%s': expected a host PCI address (0000:01:00.0) or /dev/vfio/devices/vfioN",
			 spec);
		return -EINVAL;
	}
	snprintf(a->name, sizeof(a->name), "vfio %s", a->bdf);
	a->fd = open(node, O_RDWR | O_CLOEXEC);
	if (a->fd < 0) {
		r = -errno;
		snprintf(err, errlen, "--vfio %s: %s: %s", a->bdf, node,
			 errno == EBUSY ? "device busy (opened by another process)"
					: strerror(errno));
		return r;
	}
	r = vm_ioas(vm, err, errlen);
	if (r)
		return r;
	bind.iommufd = vm->iommufd.fd;
	if (ioctl(a->fd, VFIO_DEVICE_BIND_IOMMUFD, &bind) < 0) {
		char grp[32] = "?", path[PATH_MAX], link[PATH_MAX];
		ssize_t n;

		r = -errno;
		snprintf(path, sizeof(path),
			 "/sys/bus/pci/devices/%s/iommu_group", a->bdf);
		n = readlink(path, link, sizeof(link) - 1);
		if (n > 0) {
			link[n] = '\0';
			snprintf(grp, sizeof(grp), "%.16s",
				 strrchr(link, '/') + 1);
		}
		if (r == -EPERM)
			snprintf(err, errlen,
				 "--vfio %s: host IOMMU group %s is not viable: another of its devices is held by another process or bound to a host driver",
				 a->bdf, grp);
		else if (r == -EBUSY || r == -EINVAL)
			snprintf(err, errlen,
				 "--vfio %s: VFIO_DEVICE_BIND_IOMMUFD: %s (device busy: another process holds it)",
				 a->bdf, strerror(-r));
		else
			snprintf(err, errlen,
				 "--vfio %s: VFIO_DEVICE_BIND_IOMMUFD: %s",
				 a->bdf, strerror(-r));
		return r;
	}
	a->devid = bind.out_devid;
	at.pt_id = vm->ioas;
	if (ioctl(a->fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at) < 0) {
		r = -errno;
		snprintf(err, errlen,
			 "--vfio %s: VFIO_DEVICE_ATTACH_IOMMUFD_PT: %s", a->bdf,
			 strerror(errno));
		return r;
	}
	r = vm_ioas_map_ram(vm, a->name, err, errlen);
	if (r)
		return r;
	r = vm_kvm_vfio_add(vm, a->fd, err, errlen);
	if (r)
		return r;
	if (ioctl(a->fd, VFIO_DEVICE_GET_INFO, &di) < 0 ||
	    !(di.flags & VFIO_DEVICE_FLAGS_PCI)) {
		snprintf(err, errlen, "--vfio %s: not a PCI device", a->bdf);
		return -EINVAL;
	}
	a->can_reset = di.flags & VFIO_DEVICE_FLAGS_RESET;
	if (a->can_reset && ioctl(a->fd, VFIO_DEVICE_RESET) < 0)
		pr_warn("%s: reset before use failed: %s", a->name,
			strerror(errno));
	for (unsigned int i = 0; i < VFIO_PCI_NUM_REGIONS && i < di.num_regions;
	     i++) {
		r = read_region(a, i, err, errlen);
		if (r) {
			snprintf(err, errlen,
				 "--vfio %s: VFIO_DEVICE_GET_REGION_INFO %u: %s",
				 a->bdf, i, strerror(-r));
			return r;
		}
	}
	read_irqs(a);
	r = vfio_pci_init(&a->model, &a->info, &model_ops, a,
			  a->host ? a->host : &vm->host,
			  a->name, err, errlen);
	if (r)
		return r;
	a->model_ready = true;
	r = map_areas(a, err, errlen);
	if (r)
		return r;
	pr_info("%s: bound to iommufd (device %u, IOAS %u), %u MSI-X / %u MSI vectors%s",
		a->name, a->devid, vm->ioas,
		a->info.irq_count[VFIO_PCI_MSIX_IRQ_INDEX],
		a->info.irq_count[VFIO_PCI_MSI_IRQ_INDEX],
		a->msix_mmap_ro ? ", MSI-X table pages mapped read-only" : "");
	return 0;
}

int vfio_assigned_start(struct vfio_assigned *a, char *err, size_t errlen)
{
	struct vm *vm = a->vm;
	uint8_t pin = a->model.pdev.cfg[PCI_INTERRUPT_PIN];
	int spi, r;

	if (!pin || !a->info.irq_count[VFIO_PCI_INTX_IRQ_INDEX] ||
	    !vm->host.spi_irqfd)
		return 0;
	a->intx_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	a->intx_resample_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (a->intx_fd < 0 || a->intx_resample_fd < 0)
		return -errno;
	spi = pci_intx_spi(&a->model.pdev, vm->host.intx_spi_base);
	r = vm->host.spi_irqfd(vm->host.opaque, spi, a->intx_fd,
			       a->intx_resample_fd);
	if (r < 0) {
		snprintf(err, errlen, "%s: INTx irqfd: %s", a->name,
			 strerror(-r));
		return r;
	}
	r = intx_on(a);
	if (r) {
		snprintf(err, errlen, "%s: VFIO_DEVICE_SET_IRQS (INTx): %s",
			 a->name, strerror(-r));
		return r;
	}
	return 0;
}

int vfio_assigned_attach_pt(const struct vfio_assigned *a, uint32_t pt)
{
	struct vfio_device_attach_iommufd_pt at = {
		.argsz = sizeof(at),
		.pt_id = pt,
	};

	return ioctl(a->fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at) < 0 ? -errno
								  : 0;
}

void vfio_assigned_close(struct vfio_assigned *a)
{
	for (unsigned int bar = 0; bar < PCI_NUM_BARS; bar++) {
		if (a->vm && a->vm->kvm.vm_fd >= 0)
			unmap_bar(a, bar);
		for (unsigned int i = 0; i < a->nr_area[bar]; i++)
			if (a->area[bar][i].va)
				munmap(a->area[bar][i].va,
				       a->area[bar][i].size);
	}
	if (a->model_ready)
		vfio_pci_destroy(&a->model);
	/* Leave the device quiet for whoever opens it next. */
	if (a->fd >= 0 && a->can_reset && ioctl(a->fd, VFIO_DEVICE_RESET) < 0)
		pr_debug("%s: reset on exit: %s", a->name, strerror(errno));
	if (a->fd >= 0)
		close(a->fd);
	if (a->intx_fd >= 0)
		close(a->intx_fd);
	if (a->intx_resample_fd >= 0)
		close(a->intx_resample_fd);
	a->fd = -1;
}
