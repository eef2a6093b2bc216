/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Assigned devices behind the virtio-iommu: each guest domain that holds an
 * assigned endpoint is mirrored by its own iommufd IOAS. The guest's MAP
 * and UNMAP become IOAS map/unmap of the host memory behind the guest
 * pages (so the host IOMMU enforces exactly the guest's mappings), ATTACH
 * and DETACH re-attach the device (an iommufd replace), a bypass domain or
 * an unattached endpoint with config.bypass uses the VM's identity IOAS
 * (all guest RAM at IOVA = GPA), and an unattached endpoint without bypass
 * sits in an empty IOAS, where all its DMA is blocked.
 *
 * This is a struct virtio_iommu_listener; it runs under the virtio-iommu's
 * lock. Nothing walks the IOVA space: attaching replays the domain's
 * mapping list, which is bounded by IOVA_TREE_MAX_MAPPINGS.
 */
#ifndef NESTBOX_VIOMMU_IOAS_H
#define NESTBOX_VIOMMU_IOAS_H

#include <stdbool.h>
#include <stdint.h>

#include "iommufd.h"
#include "virtio_iommu.h"

#define VIOMMU_IOAS_MAX_DEVS 8

struct viommu_ioas_dev {
	const char *name;
	/* Does the guest name this device with endpoint @id right now? */
	bool (*has_id)(void *ctx, uint32_t id);
	void *ctx;
	/* Attach (or replace) the device's page table: VFIO's
	 * VFIO_DEVICE_ATTACH_IOMMUFD_PT. 0 or -errno. */
	int (*attach_pt)(void *ctx, uint32_t pt_id);
	uint32_t pt;	/* where it is attached now */
	bool in_domain; /* attached to a guest domain (bypass ones too) */
};

struct viommu_ioas_domain {
	bool in_use;
	uint32_t ioas;
};

struct viommu_ioas {
	struct iommufd *ifd;
	const struct guest_mem *mem;
	uint32_t identity_ioas; /* all guest RAM at IOVA = GPA */
	uint32_t blocked_ioas;	/* empty */
	struct viommu_ioas_dev devs[VIOMMU_IOAS_MAX_DEVS];
	unsigned int nr_devs;
	struct viommu_ioas_domain doms[VIRTIO_IOMMU_MAX_DOMAINS];
	struct virtio_iommu_listener listener;
	/* Statistics: IOAS map/unmap calls and device re-attachments. */
	uint64_t maps, unmaps, attaches, failures;
};

/*
 * @identity_ioas already maps guest RAM; an empty IOAS for blocked
 * endpoints is allocated here. Returns 0 or -errno.
 */
int viommu_ioas_init(struct viommu_ioas *vi, struct iommufd *ifd,
		     const struct guest_mem *mem, uint32_t identity_ioas);
/* Declare an assigned device (currently attached to @pt). */
int viommu_ioas_add_dev(struct viommu_ioas *vi,
			const struct viommu_ioas_dev *dev);
/*
 * Put every device where an unattached endpoint belongs under @viommu's
 * current config.bypass (at start-up, before the guest runs).
 */
int viommu_ioas_start(struct viommu_ioas *vi, struct virtio_iommu *viommu);
void viommu_ioas_destroy(struct viommu_ioas *vi);

#endif
