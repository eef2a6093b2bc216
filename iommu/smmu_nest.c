// SPDX-License-Identifier: GPL-2.0
/* Host SMMUv3 nesting for assigned devices: see smmu_nest.h. */
#include "smmu_nest.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../vmm/log.h"

#define STE_V	 1ull
#define STE_CFG(x) (((x) >> 1) & 7)

/*
 * The STE fields a guest chooses for a nested HWPT (the host owns the
 * rest): word 0 V, Config, S1Fmt, S1ContextPtr, S1CDMax; word 1 S1DSS,
 * S1CIR, S1COR, S1CSH, S1STALLD. EATS stays 0: no ATS is offered.
 */
#define STE0_GUEST (0x3full | (((1ull << 52) - 1) & ~0x3full) | (0x1full << 59))
#define STE1_GUEST (0xffull | (1ull << 27))

int smmu_nest_probe(struct iommufd *ifd, uint32_t dev_id, const char *name,
		    struct iommufd_smmuv3_info *info, char *err,
		    size_t errlen)
{
	uint32_t type = 0;
	int r = iommufd_get_hw_info_smmuv3(ifd, dev_id, info, &type);

	if (r == -EOPNOTSUPP) {
		snprintf(err, errlen,
			 "--iommu smmuv3: %s is behind a host IOMMU that is not an SMMUv3 (IOMMU_GET_HW_INFO type %u): nesting needs one",
			 name, type);
		return r;
	}
	if (r) {
		snprintf(err, errlen,
			 "--iommu smmuv3: IOMMU_GET_HW_INFO for %s: %s (the host kernel needs CONFIG_ARM_SMMU_V3_IOMMUFD)",
			 name, strerror(-r));
		return r;
	}
	if (!(info->idr[0] & IDR0_S1P) || !(info->idr[0] & IDR0_S2P)) {
		snprintf(err, errlen,
			 "--iommu smmuv3: the host SMMU of %s cannot nest: it lacks stage %s translation (IDR0 0x%x)",
			 name, info->idr[0] & IDR0_S1P ? "2" : "1",
			 info->idr[0]);
		return -EOPNOTSUPP;
	}
	if (!(((info->idr[0] >> 2) & 3) & 2)) {
		snprintf(err, errlen,
			 "--iommu smmuv3: the host SMMU of %s has no AArch64 table format (IDR0 0x%x)",
			 name, info->idr[0]);
		return -EOPNOTSUPP;
	}
	if (!(info->idr[5] & IDR5_GRAN4K)) {
		snprintf(err, errlen,
			 "--iommu smmuv3: the host SMMU of %s has no 4 KiB granule for the guest's tables (IDR5 0x%x)",
			 name, info->idr[5]);
		return -EOPNOTSUPP;
	}
	return 0;
}

void smmu_nest_guest_idr(const struct iommufd_smmuv3_info *host,
			 uint32_t idr[6])
{
	const uint32_t gran = IDR5_GRAN4K | IDR5_GRAN16K | IDR5_GRAN64K;
	uint32_t oas = IDR5_OAS(host->idr[5]);

	if (!(host->idr[0] & IDR0_ASID16))
		idr[0] &= ~IDR0_ASID16;
	if (!(host->idr[0] & IDR0_COHACC))
		idr[0] &= ~IDR0_COHACC;
	if (!(host->idr[3] & IDR3_RIL))
		idr[3] &= ~IDR3_RIL;
	idr[5] &= ~gran | (host->idr[5] & gran);
	if (oas < IDR5_OAS(idr[5]))
		idr[5] = (idr[5] & ~7u) | oas;
}

static struct smmu_nest_dev *find_dev(struct smmu_nest *n, uint32_t sid)
{
	for (unsigned int i = 0; i < n->nr_devs; i++)
		if (n->devs[i].vsid == sid)
			return &n->devs[i];
	return NULL;
}

static bool owns(void *opaque, uint32_t sid)
{
	return find_dev(opaque, sid) != NULL;
}

static unsigned int sids(void *opaque, uint32_t *out, unsigned int max)
{
	struct smmu_nest *n = opaque;
	unsigned int i;

	for (i = 0; i < n->nr_devs && i < max; i++)
		out[i] = n->devs[i].vsid;
	return i;
}

static void attach(struct smmu_nest *n, struct smmu_nest_dev *d,
		   uint32_t hwpt)
{
	int r;

	if (d->hwpt == hwpt)
		return;
	r = d->attach(d->opaque, hwpt);
	if (r) {
		if (!n->logged_attach_error) {
			n->logged_attach_error = true;
			pr_warn("smmuv3 nesting: %s: attaching HWPT %u failed: %s (logged once)",
				d->name, hwpt, strerror(-r));
		}
		return;
	}
	n->stats.attaches++;
	d->hwpt = hwpt;
}

static bool hwpt_in_use(const struct smmu_nest *n, uint32_t hwpt)
{
	for (unsigned int i = 0; i < n->nr_devs; i++)
		if (n->devs[i].hwpt == hwpt)
			return true;
	return false;
}

/* The nested HWPT for a stage-1 STE: cached, else allocated. 0: none. */
static uint32_t s1_hwpt(struct smmu_nest *n, const struct smmu_nest_dev *d,
			const uint64_t ste[2])
{
	struct smmu_nest_s1 *victim = NULL;
	uint32_t hwpt = 0;
	int r;

	n->tick++;
	for (unsigned int i = 0; i < SMMU_NEST_S1_CACHE; i++) {
		struct smmu_nest_s1 *e = &n->s1[i];

		if (e->used && e->ste[0] == ste[0] && e->ste[1] == ste[1]) {
			e->last_use = n->tick;
			return e->hwpt;
		}
		if (!e->used) {
			if (!victim || victim->used)
				victim = e;
		} else if (!hwpt_in_use(n, e->hwpt) &&
			   (!victim || (victim->used &&
					e->last_use < victim->last_use))) {
			victim = e;
		}
	}
	if (!victim)
		return 0; /* every cached HWPT is attached somewhere */
	r = iommufd_hwpt_alloc_nested_smmuv3(n->ifd, d->dev_id, n->viommu_id,
					     ste, &hwpt);
	if (r) {
		if (!n->logged_attach_error) {
			n->logged_attach_error = true;
			pr_warn("smmuv3 nesting: %s: the host refused the guest's STE %016" PRIx64
				" %016" PRIx64 ": %s (logged once)",
				d->name, ste[0], ste[1], strerror(-r));
		}
		return 0;
	}
	n->stats.hwpt_allocs++;
	if (victim->used) {
		iommufd_destroy(n->ifd, victim->hwpt);
		n->stats.hwpt_frees++;
	}
	*victim = (struct smmu_nest_s1){ .used = true,
					 .ste = { ste[0], ste[1] },
					 .hwpt = hwpt,
					 .last_use = n->tick };
	return hwpt;
}

/*
 * The guest's STE for an endpoint changed. Validate what nestbox can see
 * (the host checks again, and reads the CD itself) and re-attach.
 */
static int ste_changed(void *opaque, uint32_t sid, const uint64_t *ste,
		       bool abort)
{
	struct smmu_nest *n = opaque;
	struct smmu_nest_dev *d = find_dev(n, sid);
	uint64_t s[2];
	uint32_t hwpt;
	unsigned int cfg;

	if (!d)
		return 0;
	n->stats.ste_changes++;
	if (!ste) {
		attach(n, d, abort ? n->abort_hwpt : n->bypass_hwpt);
		return 0;
	}
	if (!(ste[0] & STE_V)) {
		/* Linux passes through V=0 while rewriting an STE. */
		attach(n, d, n->abort_hwpt);
		return 0;
	}
	cfg = STE_CFG(ste[0]);
	if (smmuv3_check_ste(n->smmu, ste)) {
		attach(n, d, n->abort_hwpt);
		return EVT_C_BAD_STE;
	}
	if (cfg == STE_CFG_ABORT) {
		attach(n, d, n->abort_hwpt);
		return 0;
	}
	if (cfg == STE_CFG_BYPASS) {
		attach(n, d, n->bypass_hwpt);
		return 0;
	}
	s[0] = ste[0] & STE0_GUEST;
	s[1] = ste[1] & STE1_GUEST;
	hwpt = s1_hwpt(n, d, s);
	if (!hwpt) {
		attach(n, d, n->abort_hwpt);
		return EVT_C_BAD_STE;
	}
	attach(n, d, hwpt);
	return 0;
}

static bool cmd_wanted(struct smmu_nest *n, const uint64_t cmd[2])
{
	unsigned int op = cmd[0] & 0xff;

	switch (op) {
	case CMD_TLBI_NH_ALL:
	case CMD_TLBI_NH_ASID:
	case CMD_TLBI_NH_VA:
	case CMD_TLBI_NH_VAA:
	case CMD_TLBI_NSNH_ALL:
		return true;
	case CMD_ATC_INV:
	case CMD_CFGI_CD:
	case CMD_CFGI_CD_ALL:
		return find_dev(n, cmd[0] >> 32) != NULL;
	default:
		return false;
	}
}

static void flush(void *opaque)
{
	struct smmu_nest *n = opaque;
	unsigned int done = 0;
	int r;

	if (!n->nr_batch)
		return;
	r = iommufd_viommu_invalidate_smmuv3(n->ifd, n->viommu_id,
					     (const uint64_t(*)[2])n->batch,
					     n->nr_batch, &done);
	/* The ioctls made: those done, plus the one that failed. */
	n->stats.invalidate_ioctls += (done + IOMMUFD_INVALIDATE_BATCH - 1) /
					      IOMMUFD_INVALIDATE_BATCH +
				      (r && done % IOMMUFD_INVALIDATE_BATCH == 0);
	if (r) {
		n->stats.invalidate_errors++;
		if (!n->logged_invalidate_error) {
			n->logged_invalidate_error = true;
			pr_warn("smmuv3 nesting: IOMMU_HWPT_INVALIDATE stopped at command %u of %u (%016" PRIx64
				"): %s (logged once)",
				done, n->nr_batch,
				done < n->nr_batch ? n->batch[done][0] : 0,
				strerror(-r));
		}
	}
	n->nr_batch = 0;
}

static void invalidate(void *opaque, const uint64_t cmd[2])
{
	struct smmu_nest *n = opaque;

	if (!cmd_wanted(n, cmd))
		return;
	if (n->nr_batch == SMMU_NEST_BATCH)
		flush(n);
	n->batch[n->nr_batch][0] = cmd[0];
	n->batch[n->nr_batch][1] = cmd[1];
	n->nr_batch++;
	n->stats.commands++;
}

static void post_event(void *opaque, const uint64_t evt[4])
{
	struct smmu_nest *n = opaque;

	if (n->stats.host_events++ < 8)
		pr_debug("smmuv3 nesting: host event %016" PRIx64 " %016" PRIx64
			 " %016" PRIx64 " %016" PRIx64,
			 evt[0], evt[1], evt[2], evt[3]);
	smmuv3_post_event(n->smmu, evt);
}

void smmu_nest_read_events(struct smmu_nest *n)
{
	uint8_t buf[IOMMUFD_VEVENT_SMMUV3_BYTES * 32];
	unsigned int delivered = 0;
	uint64_t lost_before = n->vevents.lost;

	for (;;) {
		ssize_t len = read(n->veventq_fd, buf, sizeof(buf));
		int r;

		if (len <= 0)
			break;
		pthread_mutex_lock(&n->smmu->lock);
		r = iommufd_vevents_parse(&n->vevents, buf, (size_t)len,
					  post_event, n, &delivered);
		if (n->vevents.lost != lost_before) {
			n->stats.host_events_lost +=
				n->vevents.lost - lost_before;
			lost_before = n->vevents.lost;
			smmuv3_signal_overflow(n->smmu);
		}
		pthread_mutex_unlock(&n->smmu->lock);
		if (r)
			pr_warn_once(n->logged_event_error,
				     "smmuv3 nesting: malformed vEVENTQ data: %s",
				     strerror(-r));
	}
}

static int add_vdevice(struct smmu_nest *n, const struct smmu_nest_dev *d,
		       char *err, size_t errlen)
{
	struct smmu_nest_dev *nd;
	int r;

	if (n->nr_devs == SMMU_NEST_MAX_DEVS) {
		snprintf(err, errlen, "--iommu smmuv3: too many assigned devices");
		return -ENOSPC;
	}
	nd = &n->devs[n->nr_devs];
	*nd = *d;
	r = iommufd_vdevice_alloc(n->ifd, n->viommu_id, d->dev_id, d->vsid,
				  &nd->vdevice_id);
	if (r) {
		snprintf(err, errlen,
			 "--iommu smmuv3: IOMMU_VDEVICE_ALLOC for %s (StreamID 0x%x): %s%s",
			 d->name, d->vsid, strerror(-r),
			 r == -EINVAL ? " (is it behind another host SMMU?)"
				      : "");
		return r;
	}
	n->nr_devs++;
	nd->hwpt = 0;
	attach(n, nd, n->bypass_hwpt);
	if (nd->hwpt != n->bypass_hwpt) {
		snprintf(err, errlen,
			 "--iommu smmuv3: %s cannot be attached to a nested HWPT",
			 d->name);
		return -EIO;
	}
	return 0;
}

int smmu_nest_init(struct smmu_nest *n, struct iommufd *ifd,
		   struct smmuv3 *smmu, uint32_t ioas,
		   const struct iommufd_smmuv3_info *host,
		   const struct smmu_nest_dev *d, char *err, size_t errlen)
{
	static const uint64_t abort_ste[2] = { STE_V | STE_CFG_ABORT << 1, 0 };
	static const uint64_t bypass_ste[2] = { STE_V | STE_CFG_BYPASS << 1,
						0 };
	const char *what;
	int r;

	memset(n, 0, sizeof(*n));
	n->ifd = ifd;
	n->smmu = smmu;
	n->ioas = ioas;
	n->host = *host;
	n->veventq_fd = -1;

	what = "nesting parent HWPT (IOMMU_HWPT_ALLOC)";
	r = iommufd_hwpt_alloc_nest_parent(ifd, d->dev_id, ioas,
					   &n->parent_hwpt);
	if (!r) {
		what = "attaching to the nesting parent";
		r = d->attach(d->opaque, n->parent_hwpt);
	}
	if (!r) {
		what = "vIOMMU (IOMMU_VIOMMU_ALLOC)";
		r = iommufd_viommu_alloc_smmuv3(ifd, d->dev_id, n->parent_hwpt,
						&n->viommu_id);
	}
	if (!r) {
		what = "abort nested HWPT";
		r = iommufd_hwpt_alloc_nested_smmuv3(ifd, d->dev_id,
						     n->viommu_id, abort_ste,
						     &n->abort_hwpt);
	}
	if (!r) {
		what = "bypass nested HWPT";
		r = iommufd_hwpt_alloc_nested_smmuv3(ifd, d->dev_id,
						     n->viommu_id, bypass_ste,
						     &n->bypass_hwpt);
	}
	if (r) {
		snprintf(err, errlen, "--iommu smmuv3: %s for %s: %s%s", what,
			 d->name, strerror(-r),
			 r == -EOPNOTSUPP
				 ? " (the host SMMU needs S2FWB, or a root complex with CANWBS, to nest)"
				 : "");
		return r;
	}
	r = iommufd_veventq_alloc_smmuv3(ifd, n->viommu_id,
					 SMMU_NEST_EVQ_DEPTH, &n->veventq_id,
					 &n->veventq_fd);
	if (r) {
		/* Linux 6.13/6.14 nest without vEVENTQs: events are lost. */
		pr_warn("smmuv3 nesting: no vEVENTQ (%s): host faults of assigned devices will not reach the guest",
			strerror(-r));
		n->veventq_fd = -1;
	}
	n->backend = (struct smmuv3_backend){
		.owns = owns,
		.sids = sids,
		.ste_changed = ste_changed,
		.invalidate = invalidate,
		.sync = flush,
		.opaque = n,
	};
	return add_vdevice(n, d, err, errlen);
}

int smmu_nest_add(struct smmu_nest *n, const struct smmu_nest_dev *d,
		  char *err, size_t errlen)
{
	int r = d->attach(d->opaque, n->parent_hwpt);

	if (r) {
		snprintf(err, errlen,
			 "--iommu smmuv3: attaching %s to the nesting parent: %s",
			 d->name, strerror(-r));
		return r;
	}
	return add_vdevice(n, d, err, errlen);
}

void smmu_nest_destroy(struct smmu_nest *n)
{
	if (n->veventq_fd >= 0)
		close(n->veventq_fd);
	n->veventq_fd = -1;
	/* The devices are closed first; the iommufd goes with its objects. */
}
