/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Assigned devices behind the emulated SMMUv3, with the guest's stage 1
 * run by the host SMMU (iommufd nesting, Linux 6.13+; vEVENTQ 6.15):
 *
 *   IOAS (guest RAM) <- nesting parent HWPT (stage 2, owned by nestbox)
 *                    <- vIOMMU <- vDEVICE per endpoint (virtual StreamID)
 *                    <- nested HWPT per guest STE (abort, bypass, and one
 *                       per distinct stage-1 STE, cached)
 *
 * A CFGI_STE for an endpoint re-attaches it to the nested HWPT of its new
 * STE; the guest's TLBI_NH_*, TLBI_NSNH_ALL, ATC_INV and CFGI_CD* are
 * collected and handed to IOMMU_HWPT_INVALIDATE in one ioctl at CMD_SYNC;
 * host events come from a vEVENTQ (vSID already substituted) and go to the
 * guest's event queue, lost ones counted and signalled as an overflow.
 * Nothing walks the guest's tables for DMA: the hardware does.
 *
 * It is the smmuv3_backend of the emulated SMMU: its callbacks run with
 * the SMMU lock held.
 */
#ifndef NESTBOX_SMMU_NEST_H
#define NESTBOX_SMMU_NEST_H

#include <stdbool.h>
#include <stdint.h>

#include "iommufd.h"
#include "smmuv3.h"

#define SMMU_NEST_MAX_DEVS   16
#define SMMU_NEST_S1_CACHE   16	 /* nested HWPTs kept for stage-1 STEs */
#define SMMU_NEST_BATCH	     256 /* guest commands per HWPT_INVALIDATE */
#define SMMU_NEST_EVQ_DEPTH  64

struct smmu_nest_dev {
	uint32_t dev_id; /* iommufd device */
	uint32_t vsid;	 /* the StreamID the guest sees */
	uint32_t vdevice_id;
	uint32_t hwpt;	 /* attached now */
	/* Attach (replace) the device to HWPT @pt. 0 or -errno. */
	int (*attach)(void *opaque, uint32_t pt);
	void *opaque;
	const char *name;
};

struct smmu_nest_s1 {
	bool used;
	uint64_t ste[2];
	uint32_t hwpt;
	uint64_t last_use;
};

struct smmu_nest_stats {
	uint64_t ste_changes, attaches, hwpt_allocs, hwpt_frees;
	uint64_t commands, invalidate_ioctls, invalidate_errors;
	uint64_t host_events, host_events_lost;
};

struct smmu_nest {
	struct iommufd *ifd;
	struct smmuv3 *smmu;
	uint32_t ioas, parent_hwpt, viommu_id;
	uint32_t abort_hwpt, bypass_hwpt;
	struct iommufd_smmuv3_info host; /* the host SMMU's registers */
	struct smmu_nest_dev devs[SMMU_NEST_MAX_DEVS];
	unsigned int nr_devs;
	struct smmu_nest_s1 s1[SMMU_NEST_S1_CACHE];
	uint64_t tick;
	uint64_t batch[SMMU_NEST_BATCH][2];
	unsigned int nr_batch;
	int veventq_fd;
	uint32_t veventq_id;
	struct iommufd_vevents vevents;
	struct smmuv3_backend backend;
	struct smmu_nest_stats stats;
	bool logged_attach_error, logged_invalidate_error, logged_event_error;
};

/*
 * Read the host SMMU behind @dev_id (IOMMU_GET_HW_INFO) and check that it
 * can nest: stage 1 and stage 2, AArch64 tables, 4 KiB granule. Fills
 * @info. One line in @err when it cannot.
 */
int smmu_nest_probe(struct iommufd *ifd, uint32_t dev_id, const char *name,
		    struct iommufd_smmuv3_info *info, char *err,
		    size_t errlen);

/*
 * Restrict the guest-visible IDRs of the fixed model to what the host
 * SMMU @host can run in its stage 1 (granules, OAS, ASID size, range
 * invalidation). Stalls, PRI, ATS, substreams and HTTU stay off.
 */
void smmu_nest_guest_idr(const struct iommufd_smmuv3_info *host,
			 uint32_t idr[6]);

/*
 * Build the nesting objects on @ioas (which must map guest RAM) with the
 * first endpoint @d: nesting parent, vIOMMU, the abort and bypass nested
 * HWPTs, the vEVENTQ. The device ends up attached to the bypass HWPT (an
 * SMMU that is off with GBPA.ABORT clear lets DMA through).
 */
int smmu_nest_init(struct smmu_nest *n, struct iommufd *ifd,
		   struct smmuv3 *smmu, uint32_t ioas,
		   const struct iommufd_smmuv3_info *host,
		   const struct smmu_nest_dev *d, char *err, size_t errlen);
/* One more endpoint on the same host SMMU. */
int smmu_nest_add(struct smmu_nest *n, const struct smmu_nest_dev *d,
		  char *err, size_t errlen);

/* The vEVENTQ's fd became readable: move its records to the guest. */
void smmu_nest_read_events(struct smmu_nest *n);

void smmu_nest_destroy(struct smmu_nest *n);

#endif
