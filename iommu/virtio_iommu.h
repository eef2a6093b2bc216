/* SPDX-License-Identifier: GPL-2.0 */
/*
 * virtio-iommu device (virtio 1.2, section 5.13): requestq (ATTACH,
 * DETACH, MAP, UNMAP, PROBE) and eventq (fault records), and the DMA
 * address space of each endpoint behind it. Transport-independent: the VM
 * puts vdev behind virtio-pci or virtio-mmio like any virtio device, and
 * hands each translated device the dma_space from
 * virtio_iommu_endpoint_dma().
 *
 * Locking: requests run with vdev.lock held (device core convention);
 * translations take vdev.lock themselves, so they may be called from any
 * thread that does not already hold it.
 */
#ifndef NESTBOX_VIRTIO_IOMMU_H
#define NESTBOX_VIRTIO_IOMMU_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../devices/virtio/virtio.h"
#include "iova_tree.h"

#define VIRTIO_ID_IOMMU 23

/* Feature bits (5.13.3). Legacy BYPASS (3) is deliberately not offered. */
#define VIRTIO_IOMMU_F_INPUT_RANGE   0
#define VIRTIO_IOMMU_F_DOMAIN_RANGE  1
#define VIRTIO_IOMMU_F_MAP_UNMAP     2
#define VIRTIO_IOMMU_F_BYPASS	     3
#define VIRTIO_IOMMU_F_PROBE	     4
#define VIRTIO_IOMMU_F_MMIO	     5
#define VIRTIO_IOMMU_F_BYPASS_CONFIG 6

/* Request types (5.13.6) */
#define VIRTIO_IOMMU_T_ATTACH 1
#define VIRTIO_IOMMU_T_DETACH 2
#define VIRTIO_IOMMU_T_MAP    3
#define VIRTIO_IOMMU_T_UNMAP  4
#define VIRTIO_IOMMU_T_PROBE  5

/* Request status (5.13.6) */
#define VIRTIO_IOMMU_S_OK     0
#define VIRTIO_IOMMU_S_IOERR  1 /* virtio communication error */
#define VIRTIO_IOMMU_S_UNSUPP 2 /* unsupported request */
#define VIRTIO_IOMMU_S_DEVERR 3 /* internal device error */
#define VIRTIO_IOMMU_S_INVAL  4 /* invalid parameters */
#define VIRTIO_IOMMU_S_RANGE  5 /* out-of-range parameters */
#define VIRTIO_IOMMU_S_NOENT  6 /* entry not found */
#define VIRTIO_IOMMU_S_FAULT  7 /* bad address */
#define VIRTIO_IOMMU_S_NOMEM  8 /* insufficient resources */

#define VIRTIO_IOMMU_ATTACH_F_BYPASS 1

/* MAP flags: the same values as IOVA_MAP_* */
#define VIRTIO_IOMMU_MAP_F_READ	 1
#define VIRTIO_IOMMU_MAP_F_WRITE 2
#define VIRTIO_IOMMU_MAP_F_MMIO	 4

/* PROBE properties (5.13.6.8) */
#define VIRTIO_IOMMU_PROBE_T_NONE	 0
#define VIRTIO_IOMMU_PROBE_T_RESV_MEM	 1
#define VIRTIO_IOMMU_RESV_MEM_T_RESERVED 0
#define VIRTIO_IOMMU_RESV_MEM_T_MSI	 1

/* Fault reporting (5.13.6.9) */
#define VIRTIO_IOMMU_FAULT_R_UNKNOWN 0
#define VIRTIO_IOMMU_FAULT_R_DOMAIN  1
#define VIRTIO_IOMMU_FAULT_R_MAPPING 2
#define VIRTIO_IOMMU_FAULT_F_READ    1
#define VIRTIO_IOMMU_FAULT_F_WRITE   2
#define VIRTIO_IOMMU_FAULT_F_EXEC    4
#define VIRTIO_IOMMU_FAULT_F_ADDRESS 0x100

#define VIRTIO_IOMMU_REQUESTQ 0
#define VIRTIO_IOMMU_EVENTQ   1

/* The only page size we map at (page_size_mask). */
#define VIRTIO_IOMMU_PAGE_SIZE 4096ULL
/* Limits on what the guest (domains) and the VM (the rest) can create. */
#define VIRTIO_IOMMU_MAX_DOMAINS   64
#define VIRTIO_IOMMU_MAX_ENDPOINTS 64
#define VIRTIO_IOMMU_MAX_RESV	   16
/* Properties buffer of a PROBE: room for every RESV_MEM and a NONE end. */
#define VIRTIO_IOMMU_PROBE_SIZE 512

/* Device configuration layout (5.13.4), little-endian. */
struct virtio_iommu_config {
	uint64_t page_size_mask;
	uint64_t input_start, input_end;
	uint32_t domain_start, domain_end;
	uint32_t probe_size;
	uint8_t bypass;
	uint8_t reserved[3];
} __attribute__((packed));

/* One fault record on the eventq (5.13.6.9), little-endian. */
struct virtio_iommu_fault {
	uint8_t reason;
	uint8_t reserved[3];
	uint32_t flags;
	uint32_t endpoint;
	uint8_t reserved2[4];
	uint64_t address;
} __attribute__((packed));

struct virtio_iommu_params {
	/* IOVA space offered; both 0 means [0, 2^64 - 1]. */
	uint64_t input_start, input_end;
	/* Domain IDs accepted; both 0 means [0, 65535]. */
	uint32_t domain_start, domain_end;
	/* Reset value of config.bypass: unattached endpoints bypass. */
	bool bypass;
	/* ITS doorbell page reported as an MSI region; size 0: none. */
	uint64_t msi_start, msi_size;
};

struct virtio_iommu_domain {
	bool in_use;
	bool bypass; /* attached with ATTACH_F_BYPASS: identity, no mappings */
	uint32_t id;
	unsigned int nr_endpoints;
	struct iova_tree mappings;
	void *backend; /* the listener's state for this domain */
};

struct virtio_iommu;

/*
 * Someone who mirrors the guest's domains elsewhere (assigned devices:
 * an iommufd IOAS per domain). Called with the device lock held, after the
 * request was validated. A nonzero return fails the request with DEVERR
 * (attach) or NOMEM (map), and the device's state is left as before.
 */
struct virtio_iommu_listener {
	/* Endpoint @id now sits in @d (NULL: unattached; see config.bypass). */
	int (*attach)(void *opaque, struct virtio_iommu *v, uint32_t id,
		      struct virtio_iommu_domain *d);
	int (*map)(void *opaque, struct virtio_iommu_domain *d, uint64_t start,
		   uint64_t end, uint64_t phys, uint32_t flags);
	/* Every mapping inside [start, end] was removed. */
	void (*unmap)(void *opaque, struct virtio_iommu_domain *d,
		      uint64_t start, uint64_t end);
	/* @d is going away (no endpoint left, or device reset). */
	void (*domain_free)(void *opaque, struct virtio_iommu_domain *d);
	/* config.bypass changed: unattached endpoints follow it. */
	void (*bypass_changed)(void *opaque, struct virtio_iommu *v);
	void *opaque;
};

struct virtio_iommu_endpoint {
	struct virtio_iommu *viommu;
	uint32_t id;
	struct virtio_iommu_domain *domain; /* NULL: not attached */
};

/*
 * The DMA address space of one device: its endpoint ID is either fixed
 * (MMIO devices) or computed at each translation (PCI functions, whose
 * requester ID follows the bus numbers the guest programs).
 */
struct virtio_iommu_client {
	struct virtio_iommu *viommu;
	uint32_t id;
	uint32_t (*id_of)(const void *ctx); /* NULL: @id */
	const void *ctx;
};

struct virtio_iommu_resv {
	uint64_t start, end; /* inclusive */
	uint8_t subtype;     /* VIRTIO_IOMMU_RESV_MEM_T_* */
};

struct virtio_iommu {
	struct virtio_dev vdev;
	struct virtio_iommu_config config;
	const struct guest_mem *mem;

	struct virtio_iommu_domain domains[VIRTIO_IOMMU_MAX_DOMAINS];
	struct virtio_iommu_endpoint endpoints[VIRTIO_IOMMU_MAX_ENDPOINTS];
	unsigned int nr_endpoints;
	struct virtio_iommu_resv resv[VIRTIO_IOMMU_MAX_RESV];
	unsigned int nr_resv;
	struct virtio_iommu_client clients[VIRTIO_IOMMU_MAX_ENDPOINTS];
	unsigned int nr_clients;
	/* IDs the guest may name beyond the declared ones (may be NULL). */
	bool (*endpoint_ok)(void *opaque, uint32_t id);
	void *endpoint_ok_opaque;

	const struct virtio_iommu_listener *listener; /* may be NULL */

	/* Bumped when translations may have gone stale (unmap, detach...). */
	atomic_uint_fast64_t generation;

	/* Statistics (vdev.lock): faults delivered on the eventq, and lost
	 * (no buffer posted); requests by type; translations. */
	uint64_t faults_reported, faults_dropped;
	struct virtio_iommu_stats {
		uint64_t requests[VIRTIO_IOMMU_T_PROBE + 1];
		uint64_t failed; /* status other than OK */
		uint64_t translations;
	} stats;
	atomic_bool warned;
};

/*
 * Initialise with guest RAM @mem (MAP targets, bypass identity, the
 * device's own rings). Returns 0 or -EINVAL for bad @params.
 */
int virtio_iommu_init(struct virtio_iommu *viommu, const struct guest_mem *mem,
		      const struct virtio_iommu_params *params);
void virtio_iommu_destroy(struct virtio_iommu *viommu);

/* Mirror domain changes to @l (before the driver starts). */
void virtio_iommu_set_listener(struct virtio_iommu *viommu,
			       const struct virtio_iommu_listener *l);

/* Is unattached DMA let through right now (config.bypass)? */
bool virtio_iommu_bypass(struct virtio_iommu *viommu);

/* One line of statistics for the log. */
void virtio_iommu_stats(struct virtio_iommu *viommu, char *buf, size_t len);

/* Declare endpoint @id (a PCI requester ID, or an MMIO device's ID). */
int virtio_iommu_add_endpoint(struct virtio_iommu *viommu, uint32_t id);

/*
 * Let the guest also name endpoint IDs that @ok accepts (PCI requester IDs
 * depend on the bus numbers it programs): they are declared on first use,
 * up to VIRTIO_IOMMU_MAX_ENDPOINTS.
 */
void virtio_iommu_set_endpoint_check(struct virtio_iommu *viommu,
				     bool (*ok)(void *opaque, uint32_t id),
				     void *opaque);

/*
 * A DMA address space whose endpoint ID is @id_of(@ctx) at the time of
 * each translation. Returns 0 or -ENOSPC.
 */
int virtio_iommu_client_dma(struct virtio_iommu *viommu,
			    uint32_t (*id_of)(const void *ctx),
			    const void *ctx, struct dma_space *out);

/* Report [start, end] to every endpoint's PROBE (RESV_MEM_T_*). */
int virtio_iommu_add_resv(struct virtio_iommu *viommu, uint64_t start,
			  uint64_t end, uint8_t subtype);

/*
 * The DMA address space of endpoint @id: translations follow its domain
 * (bypass per ATTACH_F_BYPASS or config.bypass), faults are reported on
 * the eventq. Returns 0 or -ENOENT for an undeclared endpoint. @out stays
 * valid as long as @viommu.
 */
int virtio_iommu_endpoint_dma(struct virtio_iommu *viommu, uint32_t id,
			      struct dma_space *out);

#endif
