// SPDX-License-Identifier: GPL-2.0
#include "virtio_iommu.h"

#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../devices/virtio/iov.h"
#include "../vmm/log.h"

#define VIRTIO_IOMMU_DOMAIN_END_DEFAULT 65535

/* Request layouts (5.13.6), little-endian. */
struct req_head {
	uint8_t type;
	uint8_t reserved[3];
} __attribute__((packed));

struct req_tail {
	uint8_t status;
	uint8_t reserved[3];
} __attribute__((packed));

struct req_attach {
	uint32_t domain;
	uint32_t endpoint;
	uint32_t flags;
	uint8_t reserved[4];
} __attribute__((packed));

struct req_detach {
	uint32_t domain;
	uint32_t endpoint;
	uint8_t reserved[8];
} __attribute__((packed));

struct req_map {
	uint32_t domain;
	uint64_t virt_start;
	uint64_t virt_end;
	uint64_t phys_start;
	uint32_t flags;
} __attribute__((packed));

struct req_unmap {
	uint32_t domain;
	uint64_t virt_start;
	uint64_t virt_end;
	uint8_t reserved[4];
} __attribute__((packed));

struct req_probe {
	uint32_t endpoint;
	uint8_t reserved[64];
} __attribute__((packed));

struct probe_resv_mem {
	uint16_t type;
	uint16_t length; /* of the property after this header */
	uint8_t subtype;
	uint8_t reserved[3];
	uint64_t start;
	uint64_t end;
} __attribute__((packed));

_Static_assert(sizeof(struct virtio_iommu_config) == 40, "5.13.4 layout");
_Static_assert(sizeof(struct virtio_iommu_fault) == 24, "5.13.6.9 layout");
_Static_assert(sizeof(struct req_map) == 32, "5.13.6.6 layout");
_Static_assert(VIRTIO_IOMMU_PROBE_SIZE >= (VIRTIO_IOMMU_MAX_RESV + 1) *
						  sizeof(struct probe_resv_mem),
	       "every RESV_MEM fits a PROBE");

#define VIRTIO_IOMMU_MAP_FLAGS_KNOWN                          \
	(VIRTIO_IOMMU_MAP_F_READ | VIRTIO_IOMMU_MAP_F_WRITE | \
	 VIRTIO_IOMMU_MAP_F_MMIO)

static bool all_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

static struct virtio_iommu_endpoint *find_endpoint(struct virtio_iommu *v,
						   uint32_t id)
{
	for (unsigned int i = 0; i < v->nr_endpoints; i++)
		if (v->endpoints[i].id == id)
			return &v->endpoints[i];
	return NULL;
}

/* An endpoint the guest names in a request: declared, or acceptable. */
static struct virtio_iommu_endpoint *
request_endpoint(struct virtio_iommu *v, uint32_t id)
{
	struct virtio_iommu_endpoint *ep = find_endpoint(v, id);

	if (ep || !v->endpoint_ok ||
	    !v->endpoint_ok(v->endpoint_ok_opaque, id) ||
	    v->nr_endpoints == VIRTIO_IOMMU_MAX_ENDPOINTS)
		return ep;
	ep = &v->endpoints[v->nr_endpoints++];
	*ep = (struct virtio_iommu_endpoint){ .viommu = v, .id = id };
	return ep;
}

static struct virtio_iommu_domain *find_domain(struct virtio_iommu *v,
					       uint32_t id)
{
	for (unsigned int i = 0; i < VIRTIO_IOMMU_MAX_DOMAINS; i++)
		if (v->domains[i].in_use && v->domains[i].id == id)
			return &v->domains[i];
	return NULL;
}

static struct virtio_iommu_domain *new_domain(struct virtio_iommu *v,
					      uint32_t id, bool bypass)
{
	for (unsigned int i = 0; i < VIRTIO_IOMMU_MAX_DOMAINS; i++) {
		struct virtio_iommu_domain *d = &v->domains[i];

		if (d->in_use)
			continue;
		d->in_use = true;
		d->bypass = bypass;
		d->id = id;
		d->nr_endpoints = 0;
		iova_tree_init(&d->mappings, IOVA_TREE_MAX_MAPPINGS);
		return d;
	}
	return NULL;
}

static void free_domain(struct virtio_iommu *v, struct virtio_iommu_domain *d)
{
	if (v->listener && v->listener->domain_free)
		v->listener->domain_free(v->listener->opaque, d);
	d->backend = NULL;
	iova_tree_destroy(&d->mappings);
	d->in_use = false;
}

static int notify_attach(struct virtio_iommu *v, uint32_t id,
			 struct virtio_iommu_domain *d)
{
	if (!v->listener || !v->listener->attach)
		return 0;
	return v->listener->attach(v->listener->opaque, v, id, d);
}

/*
 * 5.13.6.3/4: a domain left without endpoints is destroyed with its
 * mappings (the Linux driver replays them when it re-attaches one).
 * @moving: the endpoint goes to another domain right away, so the
 * listener is not told about an unattached interlude.
 */
static void detach_endpoint(struct virtio_iommu_endpoint *ep, bool moving)
{
	struct virtio_iommu *v = ep->viommu;
	struct virtio_iommu_domain *d = ep->domain;

	if (!d)
		return;
	atomic_fetch_add(&v->generation, 1);
	ep->domain = NULL;
	if (!moving)
		notify_attach(v, ep->id, NULL);
	if (--d->nr_endpoints == 0)
		free_domain(v, d);
}

static bool negotiated(struct virtio_iommu *v, unsigned int bit)
{
	return virtio_has_feature(&v->vdev, bit);
}

/* 5.13.6.3 ATTACH */
static uint8_t handle_attach(struct virtio_iommu *v, const struct req_attach *r)
{
	uint32_t domain = le32toh(r->domain), flags = le32toh(r->flags);
	struct virtio_iommu_endpoint *ep;
	struct virtio_iommu_domain *d;
	bool bypass = flags & VIRTIO_IOMMU_ATTACH_F_BYPASS;

	if (!all_zero(r->reserved, sizeof(r->reserved)) ||
	    (flags & ~VIRTIO_IOMMU_ATTACH_F_BYPASS))
		return VIRTIO_IOMMU_S_INVAL;
	if (bypass && !negotiated(v, VIRTIO_IOMMU_F_BYPASS_CONFIG))
		return VIRTIO_IOMMU_S_INVAL;
	ep = request_endpoint(v, le32toh(r->endpoint));
	if (!ep)
		return VIRTIO_IOMMU_S_NOENT;
	if (domain < le32toh(v->config.domain_start) ||
	    domain > le32toh(v->config.domain_end))
		return VIRTIO_IOMMU_S_RANGE;
	d = find_domain(v, domain);
	if (d && d->bypass != bypass)
		return VIRTIO_IOMMU_S_INVAL;
	if (d && ep->domain == d)
		return VIRTIO_IOMMU_S_OK;
	if (!d) {
		d = new_domain(v, domain, bypass);
		if (!d)
			return VIRTIO_IOMMU_S_NOMEM;
	}
	/* The mirror first: if it cannot follow, nothing changes. */
	if (notify_attach(v, ep->id, d)) {
		if (!d->nr_endpoints)
			free_domain(v, d);
		return VIRTIO_IOMMU_S_DEVERR;
	}
	/* An endpoint attached elsewhere moves: detach it first. */
	detach_endpoint(ep, true);
	ep->domain = d;
	d->nr_endpoints++;
	return VIRTIO_IOMMU_S_OK;
}

/* 5.13.6.4 DETACH */
static uint8_t handle_detach(struct virtio_iommu *v, const struct req_detach *r)
{
	/* 5.13.6.4: the device MUST ignore reserved. */
	struct virtio_iommu_endpoint *ep =
		find_endpoint(v, le32toh(r->endpoint));

	if (!ep)
		return VIRTIO_IOMMU_S_NOENT;
	if (!ep->domain || ep->domain->id != le32toh(r->domain))
		return VIRTIO_IOMMU_S_INVAL;
	detach_endpoint(ep, false);
	return VIRTIO_IOMMU_S_OK;
}

static bool page_aligned(uint64_t a)
{
	return !(a & (VIRTIO_IOMMU_PAGE_SIZE - 1));
}

/* 5.13.6.5 MAP */
static uint8_t handle_map(struct virtio_iommu *v, const struct req_map *r)
{
	uint64_t start = le64toh(r->virt_start), end = le64toh(r->virt_end);
	uint64_t phys = le64toh(r->phys_start), span;
	uint32_t flags = le32toh(r->flags);
	struct virtio_iommu_domain *d;
	int err;

	if (flags & ~VIRTIO_IOMMU_MAP_FLAGS_KNOWN)
		return VIRTIO_IOMMU_S_INVAL;
	if ((flags & VIRTIO_IOMMU_MAP_F_MMIO) &&
	    !negotiated(v, VIRTIO_IOMMU_F_MMIO))
		return VIRTIO_IOMMU_S_INVAL;
	d = find_domain(v, le32toh(r->domain));
	if (!d)
		return VIRTIO_IOMMU_S_NOENT;
	if (d->bypass || end < start)
		return VIRTIO_IOMMU_S_INVAL;
	if (start < le64toh(v->config.input_start) ||
	    end > le64toh(v->config.input_end))
		return VIRTIO_IOMMU_S_RANGE;
	/* page_size_mask: start, phys and end + 1 on a 4 KiB boundary (end
	 * + 1 wraps to 0 for a mapping that reaches 2^64 - 1). */
	if (!page_aligned(start) || !page_aligned(phys) ||
	    !page_aligned(end + 1))
		return VIRTIO_IOMMU_S_RANGE;
	span = end - start; /* bytes - 1: a full-range mapping fits */
	if (phys + span < phys)
		return VIRTIO_IOMMU_S_RANGE;
	/* Device DMA through a RAM mapping lands in guest RAM and nowhere
	 * else; MMIO mappings (MSI doorbells) are not reachable by emulated
	 * devices but are the guest's to make. */
	if (!(flags & VIRTIO_IOMMU_MAP_F_MMIO) &&
	    (span == UINT64_MAX || !gmem_ptr(v->mem, phys, span + 1)))
		return VIRTIO_IOMMU_S_FAULT;
	/* 5.13.6.8.1: a MAP overlapping a RESV_MEM region is refused. */
	for (unsigned int i = 0; i < v->nr_resv; i++)
		if (start <= v->resv[i].end && v->resv[i].start <= end)
			return VIRTIO_IOMMU_S_INVAL;
	err = iova_tree_insert(&d->mappings, start, end, phys, flags);
	if (!err && v->listener && v->listener->map &&
	    v->listener->map(v->listener->opaque, d, start, end, phys, flags)) {
		iova_tree_remove(&d->mappings, start, end);
		return VIRTIO_IOMMU_S_NOMEM;
	}
	switch (err) {
	case 0:
		return VIRTIO_IOMMU_S_OK;
	case -EEXIST:
		return VIRTIO_IOMMU_S_INVAL;
	case -ENOSPC:
	case -ENOMEM:
		return VIRTIO_IOMMU_S_NOMEM;
	default:
		return VIRTIO_IOMMU_S_DEVERR;
	}
}

/* 5.13.6.6 UNMAP */
static uint8_t handle_unmap(struct virtio_iommu *v, const struct req_unmap *r)
{
	uint64_t start = le64toh(r->virt_start), end = le64toh(r->virt_end);
	struct virtio_iommu_domain *d;
	int n;

	if (!all_zero(r->reserved, sizeof(r->reserved)))
		return VIRTIO_IOMMU_S_INVAL;
	d = find_domain(v, le32toh(r->domain));
	if (!d)
		return VIRTIO_IOMMU_S_NOENT;
	if (d->bypass || end < start)
		return VIRTIO_IOMMU_S_INVAL;
	/* A mapping straddling either end: refuse, unmap nothing. */
	n = iova_tree_remove(&d->mappings, start, end);
	if (n > 0) {
		atomic_fetch_add(&v->generation, 1);
		if (v->listener && v->listener->unmap)
			v->listener->unmap(v->listener->opaque, d, start, end);
	}
	return n == -ERANGE ? VIRTIO_IOMMU_S_RANGE : VIRTIO_IOMMU_S_OK;
}

/*
 * Write @len bytes of @buf @off bytes into the device-writable part of
 * @e. Returns the bytes written.
 */
static size_t write_in(const struct virtq_elem *e, uint64_t off,
		       const void *buf, size_t len)
{
	const uint8_t *src = buf;
	size_t done = 0;

	for (unsigned int i = e->out_num;
	     i < e->out_num + e->in_num && done < len; i++) {
		size_t seg = e->iov[i].iov_len, n;

		if (off >= seg) {
			off -= seg;
			continue;
		}
		n = seg - off;
		if (n > len - done)
			n = len - done;
		memcpy((uint8_t *)e->iov[i].iov_base + off, src + done, n);
		done += n;
		off = 0;
	}
	return done;
}

/* 5.13.6.7 PROBE: RESV_MEM properties, zero-filled up to probe_size. */
static uint8_t handle_probe(struct virtio_iommu *v, const struct req_probe *r,
			    const struct virtq_elem *e)
{
	uint8_t props[VIRTIO_IOMMU_PROBE_SIZE] = { 0 };
	uint64_t props_len = e->in_len - sizeof(struct req_tail);
	size_t off = 0;

	/* The device MUST ignore reserved. */
	if (!negotiated(v, VIRTIO_IOMMU_F_PROBE))
		return VIRTIO_IOMMU_S_UNSUPP;
	if (!request_endpoint(v, le32toh(r->endpoint)))
		return VIRTIO_IOMMU_S_NOENT;
	/* A properties list smaller than probe_size gets no property. */
	if (props_len < VIRTIO_IOMMU_PROBE_SIZE)
		return VIRTIO_IOMMU_S_INVAL;
	for (unsigned int i = 0; i < v->nr_resv; i++) {
		struct probe_resv_mem p = {
			.type = htole16(VIRTIO_IOMMU_PROBE_T_RESV_MEM),
			.length = htole16(sizeof(p) - 4),
			.subtype = v->resv[i].subtype,
			.start = htole64(v->resv[i].start),
			.end = htole64(v->resv[i].end),
		};

		memcpy(props + off, &p, sizeof(p));
		off += sizeof(p);
	}
	/* Then zeroes (a NONE property) up to the tail. */
	write_in(e, 0, props, sizeof(props));
	memset(props, 0, sizeof(props));
	for (uint64_t at = sizeof(props); at < props_len; at += sizeof(props))
		write_in(e, at, props,
			 props_len - at < sizeof(props) ? props_len - at
							: sizeof(props));
	return VIRTIO_IOMMU_S_OK;
}

/*
 * Returns the status, or -EINVAL when the request cannot be parsed
 * (unknown type, too short for its type): 5.13.6 says such buffers go
 * back unwritten, with used length 0.
 */
static int handle_request(struct virtio_iommu *v, const struct virtq_elem *e,
			  uint8_t type)
{
	union {
		struct req_attach attach;
		struct req_detach detach;
		struct req_map map;
		struct req_unmap unmap;
		struct req_probe probe;
	} body;
	size_t want;

	switch (type) {
	case VIRTIO_IOMMU_T_ATTACH:
		want = sizeof(body.attach);
		break;
	case VIRTIO_IOMMU_T_DETACH:
		want = sizeof(body.detach);
		break;
	case VIRTIO_IOMMU_T_MAP:
		want = sizeof(body.map);
		break;
	case VIRTIO_IOMMU_T_UNMAP:
		want = sizeof(body.unmap);
		break;
	case VIRTIO_IOMMU_T_PROBE:
		want = sizeof(body.probe);
		break;
	default:
		return -EINVAL;
	}
	if ((type == VIRTIO_IOMMU_T_MAP || type == VIRTIO_IOMMU_T_UNMAP) &&
	    !negotiated(v, VIRTIO_IOMMU_F_MAP_UNMAP))
		return VIRTIO_IOMMU_S_UNSUPP;
	if (iov_to_buf(e->iov, e->out_num, sizeof(struct req_head), &body,
		       want) != want)
		return -EINVAL;

	switch (type) {
	case VIRTIO_IOMMU_T_ATTACH:
		return handle_attach(v, &body.attach);
	case VIRTIO_IOMMU_T_DETACH:
		return handle_detach(v, &body.detach);
	case VIRTIO_IOMMU_T_MAP:
		return handle_map(v, &body.map);
	case VIRTIO_IOMMU_T_UNMAP:
		return handle_unmap(v, &body.unmap);
	default:
		return handle_probe(v, &body.probe, e);
	}
}

static void process_request(struct virtio_iommu *v, struct virtq *vq,
			    const struct virtq_elem *e)
{
	struct req_head head;
	struct req_tail tail = { 0 };

	int status = -EINVAL;

	/* The tail is the last 4 writable bytes (PROBE has its properties
	 * before it; other requests have nothing else). */
	if (e->in_len >= sizeof(tail) &&
	    iov_to_buf(e->iov, e->out_num, 0, &head, sizeof(head)) ==
		    sizeof(head))
		status = handle_request(v, e, head.type);
	if (status < 0) {
		pr_warn_once(
			v->warned,
			"%s: unparsable request (%llu readable, %llu writable bytes)",
			v->vdev.label, (unsigned long long)e->out_len,
			(unsigned long long)e->in_len);
		virtq_push(vq, e, 0);
		return;
	}
	if (head.type <= VIRTIO_IOMMU_T_PROBE)
		v->stats.requests[head.type]++;
	if (status != VIRTIO_IOMMU_S_OK)
		v->stats.failed++;
	tail.status = status;
	write_in(e, e->in_len - sizeof(tail), &tail, sizeof(tail));
	virtq_push(vq, e, e->in_len);
}

static void virtio_iommu_queue_notify(struct virtio_dev *vdev, unsigned int q)
{
	struct virtio_iommu *v = vdev->priv;
	struct virtq *vq = &vdev->vqs[q];
	struct virtq_elem *e;
	int r;

	/* eventq buffers wait for faults (post_fault()). */
	if (q != VIRTIO_IOMMU_REQUESTQ)
		return;
	e = &(struct virtq_elem){ 0 };
	do {
		virtq_disable_notify(vq);
		while ((r = virtq_pop(vq, e)) > 0)
			process_request(v, vq, e);
		if (r < 0) {
			virtio_device_error(vdev, "malformed request queue");
			return;
		}
	} while (virtq_enable_notify(vq));
	virtio_queue_done(vdev, q);
}

static void virtio_iommu_config_write(struct virtio_dev *vdev, uint32_t off,
				      const void *buf, uint32_t len)
{
	struct virtio_iommu *v = vdev->priv;

	/* 5.13.4: only bypass is writable, and only with BYPASS_CONFIG. */
	if (off != offsetof(struct virtio_iommu_config, bypass) || len != 1 ||
	    !negotiated(v, VIRTIO_IOMMU_F_BYPASS_CONFIG))
		return;
	v->config.bypass = *(const uint8_t *)buf ? 1 : 0;
	atomic_fetch_add(&v->generation, 1);
	if (v->listener && v->listener->bypass_changed)
		v->listener->bypass_changed(v->listener->opaque, v);
}

static void virtio_iommu_reset(struct virtio_dev *vdev)
{
	struct virtio_iommu *v = vdev->priv;

	atomic_fetch_add(&v->generation, 1);
	for (unsigned int i = 0; i < v->nr_endpoints; i++) {
		if (v->endpoints[i].domain)
			notify_attach(v, v->endpoints[i].id, NULL);
		v->endpoints[i].domain = NULL;
	}
	for (unsigned int i = 0; i < VIRTIO_IOMMU_MAX_DOMAINS; i++)
		if (v->domains[i].in_use)
			free_domain(v, &v->domains[i]);
	/* 5.13.4: bypass keeps its value across a device reset. */
}

static const struct virtio_dev_ops virtio_iommu_ops = {
	.name = "virtio-iommu",
	.device_id = VIRTIO_ID_IOMMU,
	.num_queues = 2,
	.features = 1ULL << VIRTIO_IOMMU_F_INPUT_RANGE |
		    1ULL << VIRTIO_IOMMU_F_DOMAIN_RANGE |
		    1ULL << VIRTIO_IOMMU_F_MAP_UNMAP |
		    1ULL << VIRTIO_IOMMU_F_PROBE | 1ULL << VIRTIO_IOMMU_F_MMIO |
		    1ULL << VIRTIO_IOMMU_F_BYPASS_CONFIG |
		    1ULL << VIRTIO_F_INDIRECT_DESC | 1ULL << VIRTIO_F_EVENT_IDX,
	.config_size = sizeof(struct virtio_iommu_config),
	.config_write = virtio_iommu_config_write,
	.reset = virtio_iommu_reset,
	.queue_notify = virtio_iommu_queue_notify,
};

/*
 * 5.13.6.9: report a fault if the driver posted an event buffer; never
 * wait for one. vdev.lock held.
 */
static void post_fault(struct virtio_iommu *v, uint8_t reason, uint32_t flags,
		       uint32_t endpoint, uint64_t address)
{
	struct virtio_dev *vdev = &v->vdev;
	struct virtq *vq = &vdev->vqs[VIRTIO_IOMMU_EVENTQ];
	struct virtio_iommu_fault f = {
		.reason = reason,
		.flags = htole32(flags),
		.endpoint = htole32(endpoint),
		.address = htole64(address),
	};
	struct virtq_elem *e;
	int r;

	if (!(vdev->status & VIRTIO_STATUS_DRIVER_OK) ||
	    atomic_load(&vdev->broken) || !vq->enabled) {
		v->faults_dropped++;
		return;
	}
	e = &(struct virtq_elem){ 0 };
	r = virtq_pop(vq, e);
	if (r < 0) {
		virtio_device_error(vdev, "malformed event queue");
		v->faults_dropped++;
		return;
	}
	if (r == 0 || e->in_len < sizeof(f)) {
		if (r)
			virtq_push(vq, e, 0);
		v->faults_dropped++;
		return;
	}
	write_in(e, 0, &f, sizeof(f));
	virtq_push(vq, e, sizeof(f));
	virtio_queue_done(vdev, VIRTIO_IOMMU_EVENTQ);
	v->faults_reported++;
}

static uint32_t fault_access_flags(unsigned int access)
{
	uint32_t f = 0;

	if (access & DMA_READ)
		f |= VIRTIO_IOMMU_FAULT_F_READ;
	if (access & DMA_WRITE)
		f |= VIRTIO_IOMMU_FAULT_F_WRITE;
	return f;
}

static void *identity(struct virtio_iommu *v, uint64_t addr, uint64_t len,
		      uint64_t *chunk)
{
	void *p = gmem_ptr(v->mem, addr, len);

	if (p)
		*chunk = len;
	return p;
}

static void *translate_locked(struct virtio_iommu *v, uint32_t id,
			      uint64_t addr, uint64_t len, unsigned int access,
			      uint64_t *chunk)
{
	struct virtio_iommu_endpoint *ep = find_endpoint(v, id);
	struct virtio_iommu_domain *d = ep ? ep->domain : NULL;
	const struct iova_mapping *m;
	uint64_t avail, n;
	uint32_t need = 0;
	void *p;

	if (!d) {
		/* 5.13.4: config.bypass decides for unattached endpoints. */
		if (v->config.bypass)
			return identity(v, addr, len, chunk);
		post_fault(v, VIRTIO_IOMMU_FAULT_R_DOMAIN,
			   fault_access_flags(access) |
				   VIRTIO_IOMMU_FAULT_F_ADDRESS,
			   id, addr);
		return NULL;
	}
	if (d->bypass)
		return identity(v, addr, len, chunk);
	m = iova_tree_lookup(&d->mappings, addr);
	if (access & DMA_READ)
		need |= IOVA_MAP_READ;
	if (access & DMA_WRITE)
		need |= IOVA_MAP_WRITE;
	if (!m || (m->flags & need) != need) {
		post_fault(v, VIRTIO_IOMMU_FAULT_R_MAPPING,
			   fault_access_flags(access) |
				   VIRTIO_IOMMU_FAULT_F_ADDRESS,
			   id, addr);
		return NULL;
	}
	/* Stop at the mapping's end: the next one may be elsewhere. */
	avail = m->end - addr; /* bytes left - 1 */
	n = len && len - 1 > avail ? avail + 1 : len;
	if (m->flags & IOVA_MAP_MMIO)
		return NULL; /* an emulated device cannot DMA to MMIO */
	p = gmem_ptr(v->mem, m->phys + (addr - m->start), n);
	if (p)
		*chunk = n;
	return p;
}

static void *client_translate(struct dma_space *as, uint64_t addr,
			      uint64_t len, unsigned int access,
			      uint64_t *chunk)
{
	struct virtio_iommu_client *c = as->opaque;
	struct virtio_iommu *v = c->viommu;
	uint32_t id = c->id_of ? c->id_of(c->ctx) : c->id;
	void *p;

	pthread_mutex_lock(&v->vdev.lock);
	v->stats.translations++;
	p = translate_locked(v, id, addr, len, access, chunk);
	pthread_mutex_unlock(&v->vdev.lock);
	return p;
}

static uint64_t client_generation(struct dma_space *as)
{
	struct virtio_iommu_client *c = as->opaque;

	return atomic_load(&c->viommu->generation);
}

static const struct dma_space_ops client_dma_ops = {
	.translate = client_translate,
	.generation = client_generation,
};

static int new_client(struct virtio_iommu *v, uint32_t id,
		      uint32_t (*id_of)(const void *ctx), const void *ctx,
		      struct dma_space *out)
{
	struct virtio_iommu_client *c;

	if (v->nr_clients == VIRTIO_IOMMU_MAX_ENDPOINTS)
		return -ENOSPC;
	c = &v->clients[v->nr_clients++];
	*c = (struct virtio_iommu_client){ v, id, id_of, ctx };
	out->ops = &client_dma_ops;
	out->mem = v->mem;
	out->opaque = c;
	return 0;
}

int virtio_iommu_endpoint_dma(struct virtio_iommu *viommu, uint32_t id,
			      struct dma_space *out)
{
	if (!find_endpoint(viommu, id))
		return -ENOENT;
	return new_client(viommu, id, NULL, NULL, out);
}

int virtio_iommu_client_dma(struct virtio_iommu *viommu,
			    uint32_t (*id_of)(const void *ctx),
			    const void *ctx, struct dma_space *out)
{
	return new_client(viommu, 0, id_of, ctx, out);
}

void virtio_iommu_set_listener(struct virtio_iommu *viommu,
			       const struct virtio_iommu_listener *l)
{
	viommu->listener = l;
}

bool virtio_iommu_bypass(struct virtio_iommu *viommu)
{
	return viommu->config.bypass;
}

void virtio_iommu_set_endpoint_check(struct virtio_iommu *viommu,
				     bool (*ok)(void *opaque, uint32_t id),
				     void *opaque)
{
	viommu->endpoint_ok = ok;
	viommu->endpoint_ok_opaque = opaque;
}

int virtio_iommu_add_endpoint(struct virtio_iommu *viommu, uint32_t id)
{
	if (find_endpoint(viommu, id))
		return -EEXIST;
	if (viommu->nr_endpoints == VIRTIO_IOMMU_MAX_ENDPOINTS)
		return -ENOSPC;
	viommu->endpoints[viommu->nr_endpoints++] =
		(struct virtio_iommu_endpoint){ .viommu = viommu, .id = id };
	return 0;
}

int virtio_iommu_add_resv(struct virtio_iommu *viommu, uint64_t start,
			  uint64_t end, uint8_t subtype)
{
	if (end < start || subtype > VIRTIO_IOMMU_RESV_MEM_T_MSI)
		return -EINVAL;
	if (viommu->nr_resv == VIRTIO_IOMMU_MAX_RESV)
		return -ENOSPC;
	viommu->resv[viommu->nr_resv++] =
		(struct virtio_iommu_resv){ start, end, subtype };
	return 0;
}

int virtio_iommu_init(struct virtio_iommu *viommu, const struct guest_mem *mem,
		      const struct virtio_iommu_params *params)
{
	uint64_t in_start = params->input_start, in_end = params->input_end;
	uint32_t dom_start = params->domain_start, dom_end = params->domain_end;

	if (!in_start && !in_end)
		in_end = UINT64_MAX;
	if (!dom_start && !dom_end)
		dom_end = VIRTIO_IOMMU_DOMAIN_END_DEFAULT;
	if (in_end < in_start || dom_end < dom_start)
		return -EINVAL;
	memset(viommu, 0, sizeof(*viommu));
	viommu->mem = mem;
	viommu->config = (struct virtio_iommu_config){
		.page_size_mask = htole64(VIRTIO_IOMMU_PAGE_SIZE),
		.input_start = htole64(in_start),
		.input_end = htole64(in_end),
		.domain_start = htole32(dom_start),
		.domain_end = htole32(dom_end),
		.probe_size = htole32(VIRTIO_IOMMU_PROBE_SIZE),
		.bypass = params->bypass,
	};
	if (params->msi_size) {
		uint64_t end = params->msi_start + params->msi_size - 1;

		if (end < params->msi_start)
			return -EINVAL;
		virtio_iommu_add_resv(viommu, params->msi_start, end,
				      VIRTIO_IOMMU_RESV_MEM_T_MSI);
	}
	virtio_dev_init(&viommu->vdev, &virtio_iommu_ops, viommu,
			(uint8_t *)&viommu->config, mem);
	return 0;
}

void virtio_iommu_stats(struct virtio_iommu *viommu, char *buf, size_t len)
{
	const struct virtio_iommu_stats *st = &viommu->stats;

	pthread_mutex_lock(&viommu->vdev.lock);
	snprintf(buf, len,
		 "requests attach=%llu detach=%llu map=%llu unmap=%llu probe=%llu failed=%llu; translations=%llu; faults reported=%llu dropped=%llu",
		 (unsigned long long)st->requests[VIRTIO_IOMMU_T_ATTACH],
		 (unsigned long long)st->requests[VIRTIO_IOMMU_T_DETACH],
		 (unsigned long long)st->requests[VIRTIO_IOMMU_T_MAP],
		 (unsigned long long)st->requests[VIRTIO_IOMMU_T_UNMAP],
		 (unsigned long long)st->requests[VIRTIO_IOMMU_T_PROBE],
		 (unsigned long long)st->failed,
		 (unsigned long long)st->translations,
		 (unsigned long long)viommu->faults_reported,
		 (unsigned long long)viommu->faults_dropped);
	pthread_mutex_unlock(&viommu->vdev.lock);
}

void virtio_iommu_destroy(struct virtio_iommu *viommu)
{
	for (unsigned int i = 0; i < VIRTIO_IOMMU_MAX_DOMAINS; i++)
		if (viommu->domains[i].in_use)
			free_domain(viommu, &viommu->domains[i]);
}
