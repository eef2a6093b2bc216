/* SPDX-License-Identifier: GPL-2.0 */
#ifndef NESTBOX_VM_H
#define NESTBOX_VM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "../devices/host_ops.h"
#include "../devices/mmio_bus.h"
#include "../devices/pci_bridge.h"
#include "../devices/pci_host.h"
#include "../devices/pl011.h"
#include "../devices/virtio/virtio_mmio.h"
#include "../devices/virtio/virtio_pci.h"
#include "../irq/gic.h"
#include "../irq/msi.h"
#include "../irq/vgic_debug.h"
#include "../iommu/iommufd.h"
#include "../iommu/viommu_ioas.h"
#include "../iommu/smmu_nest.h"
#include "../iommu/smmuv3.h"
#include "../iommu/virtio_iommu.h"
#include "fdt.h"
#include "cli.h"
#include "console.h"
#include "evloop.h"
#include "guest_mem.h"
#include "kvm.h"
#include "layout.h"

/* Process exit statuses (also in cli_usage and the README). */
#define EXIT_GUEST_DONE	  0
#define EXIT_BAD_INPUT	  1
#define EXIT_USAGE	  2
#define EXIT_GUEST_CRASH  3
#define EXIT_HOST_FAILURE 4
#define EXIT_SIGNAL_BASE  128

struct vm;
struct vfio_assigned;
struct testdev;

struct vcpu {
	struct vm *vm;
	unsigned int id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool started;
	uint64_t mpidr;
};

struct vm {
	const struct vm_config *cfg;
	struct kvm kvm;
	struct guest_mem mem;
	struct gic gic;
	struct vcpu *vcpus;
	unsigned int nr_vcpus;

	struct mmio_bus bus;
	struct pl011 uart;
	struct console console;
	struct console_sink console_sink; /* UART or virtio-console */

	/* Devices: what the VMM offers them, and where they sit. */
	struct host_ops host;
	struct msi_router msi;
	struct pci_host pci;
	struct pci_bridge *bridge; /* created on first use */
	struct virtio_pci *vpci[PCI_MAX_DEVICES];
	unsigned int nr_vpci;
	struct virtio_mmio *vmmio[LAYOUT_VIRTIO_MMIO_SLOTS];
	struct fdt_mmio_dev mmio_fdt[LAYOUT_VIRTIO_MMIO_SLOTS];
	unsigned int nr_vmmio;
	/* Where each virtio device sits, and whether the vIOMMU covers it. */
	struct vm_placement {
		struct virtio_dev *vdev; /* NULL: an assigned device */
		struct vfio_assigned *assigned;
		struct pci_dev *pdev; /* NULL: on virtio-mmio slot @mmio */
		unsigned int mmio;
		bool iommu;
		struct dma_space smmu_dma; /* behind --iommu smmuv3 */
	} placed[PCI_MAX_DEVICES + LAYOUT_VIRTIO_MMIO_SLOTS];
	unsigned int nr_placed;
	struct testdev *testdev;     /* --testdev */
	struct virtio_iommu *viommu; /* --iommu virtio */
	struct viommu_ioas *viommu_ioas; /* its domains of assigned devices */
	struct vm_placement *viommu_at;
	struct smmuv3 *smmu;	     /* --iommu smmuv3 */
	struct smmu_nest *smmu_nest; /* its assigned devices (host nesting) */
	struct evloop_source veventq_src;
	struct fdt_iommu_map iommu_map[FDT_IOMMU_MAP_MAX];
	unsigned int nr_iommu_map;

	/* Assigned devices (--vfio) and what they share. */
	struct vfio_assigned *vfio[CLI_MAX_VFIO];
	unsigned int nr_vfio;
	struct iommufd iommufd;
	uint32_t ioas;
	bool ioas_ready, ioas_ram_mapped;
	int kvm_vfio_fd; /* KVM's VFIO device, -1 until the first --vfio */
	uint64_t memslots_used; /* bitmap; slot 0 is RAM */

	struct virtio_dev *vdevs[PCI_MAX_DEVICES + LAYOUT_VIRTIO_MMIO_SLOTS];
	void (*vdev_free[PCI_MAX_DEVICES + LAYOUT_VIRTIO_MMIO_SLOTS])(void *);
	void *vdev_obj[PCI_MAX_DEVICES + LAYOUT_VIRTIO_MMIO_SLOTS];
	unsigned int nr_vdevs;

	struct evloop loop;
	bool loop_ready;
	struct evloop_source signal_src;
	int signal_fd;

	/* GICv4 forwarding checks (assigned devices only) */
	int vlpi_timer_fd;
	struct evloop_source vlpi_src;
	struct vgic_lpi_count vlpi_last;
	bool vlpi_capable;	   /* some LPI was forwarded: a GICv4 host */
	unsigned int vlpi_rearms; /* forwarding re-armed after a drop */

	atomic_bool stopping;
	atomic_int exit_status; /* -1 while running */
	char *exit_report;	/* printed after the terminal is restored */
	atomic_bool warned_unhandled_mmio;
};

/* Boot the guest described by @cfg; returns the process exit status. */
int vm_run(const struct vm_config *cfg);

/*
 * Ask the VM to stop with @status (first caller wins). @report, if not
 * NULL, is a malloc'd text printed on stderr once the terminal is restored.
 */
void vm_request_exit(struct vm *vm, int status, char *report);

/* KVM memory slots beyond RAM (BARs of assigned devices); -1: none. */
int vm_memslot_alloc(struct vm *vm);
void vm_memslot_free(struct vm *vm, int slot);
/* Register a VFIO device file with KVM's VFIO device. */
int vm_kvm_vfio_add(struct vm *vm, int fd, char *err, size_t errlen);

/* vcpu.c */
int vcpu_create(struct vm *vm, struct vcpu *v, unsigned int id, char *err,
		size_t errlen);
int vcpu_enable_pmu(struct vcpu *v, bool init, char *err, size_t errlen);
int vcpu_set_entry(struct vcpu *v, uint64_t pc, uint64_t x0);
int vcpu_start(struct vcpu *v);
void vcpu_kick(struct vcpu *v);
void vcpu_destroy(struct vcpu *v);

#endif
