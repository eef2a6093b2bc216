// SPDX-License-Identifier: GPL-2.0
/*
 * Emulated SMMUv3: see smmuv3.h. Register and structure layouts follow the
 * SMMUv3 architecture (register offsets, STE/CD/command/event formats as
 * the Linux arm-smmu-v3 driver also uses them).
 */
#include "smmuv3.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../vmm/log.h"

#define BITS(v, hi, lo) (((v) >> (lo)) & ((~0ULL) >> (63 - (hi) + (lo))))
#define MASK(hi, lo)	(((~0ULL) >> (63 - (hi) + (lo))) << (lo))

#define Q_BASE_ADDR  MASK(51, 5)
#define STRTAB_ADDR  MASK(51, 6)
#define MSI_ADDR     MASK(51, 2)
#define CR0_MASK     (CR0_SMMUEN | CR0_EVTQEN | CR0_CMDQEN)
#define GERROR_MASK  0x1fdu
#define GBPA_WMASK   0x3ff7fffu /* everything but UPDATE and RES0 */

#define CMDQ_ENT_SIZE 16
#define EVTQ_ENT_SIZE 32
#define STE_SIZE      64
#define CD_SIZE	      64

struct smmuv3_client {
	struct smmuv3 *smmu;
	uint32_t sid;
	uint32_t (*sid_of)(const void *ctx);
	const void *ctx;
	/* smmuv3_client_host(): MSI addresses translated, the rest forwarded */
	struct host_ops host;
	const struct host_ops *real;
};

/*
 * The fixed model: stage 1 only, AArch64 tables, little-endian, 2-level
 * stream table with 17-bit StreamIDs (PCI requester IDs and the
 * virtio-mmio slots above them), no substreams, 16-bit ASIDs, MSIs,
 * coherent table walks, range invalidation, 4K/16K/64K granules and a
 * 48-bit OAS. Queue sizes up to 2^19 entries like real implementations.
 */
void smmuv3_model_idr(uint32_t idr[6], uint32_t *iidr, uint32_t *aidr)
{
	idr[0] = IDR0_ST_LEVEL_2LVL | IDR0_TERM_MODEL | IDR0_STALL_MODEL_NONE |
		 IDR0_TTENDIAN_LE | IDR0_MSI | IDR0_ASID16 | IDR0_COHACC |
		 IDR0_TTF_AARCH64 | IDR0_S1P;
	idr[1] = (19u << 21) | (19u << 16) | 17u; /* CMDQS, EVTQS, SIDSIZE */
	idr[2] = 0;
	idr[3] = IDR3_RIL;
	idr[4] = 0;
	idr[5] = IDR5_GRAN4K | IDR5_GRAN16K | IDR5_GRAN64K | 5; /* 48 bits */
	*iidr = 0x43b; /* implementer code of Arm, product 0 */
	*aidr = 0x1;   /* SMMUv3.1 */
}

static unsigned int oas_bits(uint32_t code)
{
	static const unsigned int bits[] = { 32, 36, 40, 42, 44, 48, 52 };

	return code < 7 ? bits[code] : 48;
}

/* The OAS the walker can produce: capped at 48 bits (no 52-bit forms). */
static unsigned int smmu_oas(const struct smmuv3 *s)
{
	unsigned int b = oas_bits(IDR5_OAS(s->idr[5]));

	return b > 48 ? 48 : b;
}

static void bump_generation(struct smmuv3 *s)
{
	atomic_fetch_add(&s->generation, 1);
}

/* --- guest memory ------------------------------------------------------ */

static int read_dwords(struct smmuv3 *s, uint64_t gpa, uint64_t *out,
		       unsigned int n)
{
	const uint64_t *p;

	if (gpa & 7)
		return -EFAULT;
	p = gmem_ptr(s->mem, gpa, n * 8ull);
	if (!p)
		return -EFAULT;
	for (unsigned int i = 0; i < n; i++)
		out[i] = le64toh(__atomic_load_n(&p[i], __ATOMIC_ACQUIRE));
	return 0;
}

static int write_dwords(struct smmuv3 *s, uint64_t gpa, const uint64_t *v,
			unsigned int n)
{
	uint64_t *p;

	if (gpa & 7)
		return -EFAULT;
	p = gmem_ptr(s->mem, gpa, n * 8ull);
	if (!p)
		return -EFAULT;
	for (unsigned int i = 0; i < n; i++)
		__atomic_store_n(&p[i], htole64(v[i]), __ATOMIC_RELEASE);
	return 0;
}

/* --- interrupts -------------------------------------------------------- */

static void pulse_spi(struct smmuv3 *s, unsigned int spi)
{
	if (!spi || !s->host || !s->host->set_spi)
		return;
	s->host->set_spi(s->host->opaque, spi, true);
	s->host->set_spi(s->host->opaque, spi, false);
}

/*
 * Send an MSI the guest programmed: to the ITS doorbell it is an LPI, to
 * guest RAM a 32-bit write (CMD_SYNC completion polling), anywhere else
 * it aborts. Returns false on an abort.
 */
static bool send_msi(struct smmuv3 *s, uint64_t addr, uint32_t data)
{
	addr &= MSI_ADDR;
	if (s->msi_doorbell && addr == s->msi_doorbell) {
		if (!s->host || !s->host->signal_msi)
			return false;
		return s->host->signal_msi(s->host->opaque, addr, data,
					   s->msi_devid) >= 0;
	}
	uint32_t *p = gmem_ptr(s->mem, addr, 4);

	if (!p)
		return false;
	__atomic_store_n(p, htole32(data), __ATOMIC_RELEASE);
	return true;
}

static bool msi_capable(const struct smmuv3 *s)
{
	return s->idr[0] & IDR0_MSI;
}

/*
 * Interrupt through the source's MSI when the SMMU has MSIs and the guest
 * gave it an address, else its wired SPI. False when the MSI aborted.
 */
static bool signal_irq(struct smmuv3 *s, const struct smmuv3_msi_cfg *c,
		       unsigned int spi)
{
	if (msi_capable(s) && (c->addr & MSI_ADDR))
		return send_msi(s, c->addr, c->data);
	pulse_spi(s, spi);
	return true;
}

/* Make @bit active (GERROR differs from GERRORN) and interrupt. */
static void raise_gerror(struct smmuv3 *s, uint32_t bit)
{
	if ((s->gerror ^ s->gerrorn) & bit)
		return; /* already active: no new edge */
	s->gerror ^= bit;
	if (!(s->irq_ctrl & IRQ_CTRL_GERROR_IRQEN))
		return;
	/* A GERROR MSI that aborts is recorded without another interrupt. */
	if (!signal_irq(s, &s->gerror_msi, s->spi_gerror) &&
	    !((s->gerror ^ s->gerrorn) & GERROR_MSI_GERROR_ABT_ERR))
		s->gerror ^= GERROR_MSI_GERROR_ABT_ERR;
}

static void evtq_irq(struct smmuv3 *s)
{
	if ((s->irq_ctrl & IRQ_CTRL_EVTQ_IRQEN) &&
	    !signal_irq(s, &s->evtq_msi, s->spi_evtq))
		raise_gerror(s, GERROR_MSI_EVTQ_ABT_ERR);
}

/* *_IRQ_CFG0/1/2 at @off from the source's CFG0 register. */
static uint64_t msi_cfg_read(const struct smmuv3_msi_cfg *c, uint64_t off)
{
	return off == 0 ? c->addr : off == 8 ? c->data : c->attr;
}

static void msi_cfg_write(struct smmuv3_msi_cfg *c, uint64_t off, uint64_t v)
{
	if (off == 0)
		c->addr = v & MSI_ADDR;
	else if (off == 8)
		c->data = v;
	else
		c->attr = v & 0x3f; /* SH, MemAttr */
}

/* --- queues ------------------------------------------------------------ */

/* log2 of the entries: the guest's LOG2SIZE, capped at the IDR1 maximum. */
static unsigned int q_log2(uint64_t base, unsigned int max)
{
	unsigned int l = base & 0x1f;

	return l > max ? max : l;
}

/* Index + wrap bit of a PROD/CONS value. */
static uint32_t q_ptr(uint32_t v, unsigned int log2)
{
	return v & ((2u << log2) - 1);
}

static uint32_t q_idx(uint32_t v, unsigned int log2)
{
	return v & ((1u << log2) - 1);
}

static bool q_full(uint32_t prod, uint32_t cons, unsigned int log2)
{
	return q_idx(prod, log2) == q_idx(cons, log2) &&
	       ((prod ^ cons) & (1u << log2));
}

void smmuv3_post_event(struct smmuv3 *s, const uint64_t ev[4])
{
	unsigned int log2 = q_log2(s->evtq.base, IDR1_EVTQS(s->idr[1]));
	uint32_t prod = q_ptr(s->evtq.prod, log2);
	uint64_t addr;

	if (!(s->cr0 & CR0_EVTQEN) || ((s->gerror ^ s->gerrorn) &
				       GERROR_EVTQ_ABT_ERR)) {
		s->stats.events_lost++;
		return;
	}
	if (q_full(prod, s->evtq.cons, log2)) {
		/* Lost: signal overflow unless it is already signalled. */
		s->stats.events_lost++;
		if (!((s->evtq.prod ^ s->evtq.cons) & SMMU_Q_OVF))
			s->evtq.prod ^= SMMU_Q_OVF;
		return;
	}
	addr = (s->evtq.base & Q_BASE_ADDR) +
	       (uint64_t)q_idx(prod, log2) * EVTQ_ENT_SIZE;
	if (write_dwords(s, addr, ev, 4)) {
		s->stats.events_lost++;
		if (!s->logged_evtq_error) {
			s->logged_evtq_error = true;
			pr_warn("smmuv3: the event queue at 0x%" PRIx64
				" is not guest RAM: GERROR.EVTQ_ABT_ERR",
				addr);
		}
		raise_gerror(s, GERROR_EVTQ_ABT_ERR);
		return;
	}
	s->stats.events++;
	s->evtq.prod = (s->evtq.prod & SMMU_Q_OVF) |
		       q_ptr(prod + 1, log2);
	evtq_irq(s);
}

static void post_simple_event(struct smmuv3 *s, unsigned int type,
			      uint32_t sid, uint64_t addr, uint64_t fetch)
{
	const uint64_t ev[4] = { type | (uint64_t)sid << 32, 0, addr,
				 fetch & MASK(51, 3) };

	smmuv3_post_event(s, ev);
}

/* --- configuration: STE and CD ----------------------------------------- */

static void cfg_log(struct smmuv3 *s, uint32_t sid, const char *what)
{
	s->stats.config_errors++;
	if (s->logged_cfg_error)
		return;
	s->logged_cfg_error = true;
	pr_warn("smmuv3: StreamID 0x%x: %s (reported as an event; further configuration errors are counted)",
		sid, what);
}

/*
 * Find the STE of @sid. Returns 0 with its address, or the event type
 * (C_BAD_STREAMID, F_STE_FETCH) with *fetch set for fetch faults.
 */
static int locate_ste(struct smmuv3 *s, uint32_t sid, uint64_t *addr,
		      uint64_t *fetch)
{
	uint32_t cfg = s->strtab_base_cfg;
	unsigned int log2 = cfg & 0x3f, fmt = (cfg >> 16) & 3;
	unsigned int sidsize = IDR1_SIDSIZE(s->idr[1]);
	uint64_t base = s->strtab_base & STRTAB_ADDR;

	if (log2 > sidsize)
		log2 = sidsize;
	if (log2 < 32 && sid >> log2)
		return EVT_C_BAD_STREAMID;
	if (fmt == 0) {
		*addr = base + (uint64_t)sid * STE_SIZE;
		return 0;
	}
	if (fmt != 1 || !(s->idr[0] & IDR0_ST_LEVEL_2LVL))
		return EVT_C_BAD_STREAMID; /* reserved format */

	unsigned int split = (cfg >> 6) & 0x1f;
	uint64_t desc, l1 = base + (uint64_t)(sid >> split) * 8;

	if (split != 6 && split != 8 && split != 10)
		return EVT_C_BAD_STREAMID;
	if (read_dwords(s, l1, &desc, 1)) {
		*fetch = l1;
		return EVT_F_STE_FETCH;
	}
	unsigned int span = desc & 0x1f;
	uint32_t l2idx = sid & ((1u << split) - 1);

	if (!span || span > split + 1 || l2idx >> (span - 1))
		return EVT_C_BAD_STREAMID;
	*addr = (desc & STRTAB_ADDR) + (uint64_t)l2idx * STE_SIZE;
	return 0;
}

static int fetch_ste(struct smmuv3 *s, uint32_t sid, uint64_t ste[8],
		     uint64_t *fetch)
{
	uint64_t addr = 0;
	int ev = locate_ste(s, sid, &addr, fetch);

	if (ev)
		return ev;
	if (read_dwords(s, addr, ste, 8)) {
		*fetch = addr;
		return EVT_F_STE_FETCH;
	}
	return 0;
}

/* Decode a Context Descriptor into @c. 0 or C_BAD_CD. */
static int decode_cd(struct smmuv3 *s, const uint64_t cd[8],
		     struct smmuv3_cfg *c)
{
	static const unsigned int granules[4] = { 4096, 65536, 16384, 0 };
	static const uint32_t gran_bit[4] = { IDR5_GRAN4K, IDR5_GRAN64K,
					      IDR5_GRAN16K, 0 };
	unsigned int t0sz = BITS(cd[0], 5, 0), tg0 = BITS(cd[0], 7, 6);
	unsigned int ips = BITS(cd[0], 34, 32);
	unsigned int oas = smmu_oas(s);

	if (!(cd[0] & (1ull << 31)))	 /* V */
		return EVT_C_BAD_CD;
	if (!(cd[0] & (1ull << 41)))	 /* AA64: no AArch32 tables */
		return EVT_C_BAD_CD;
	if (cd[0] & (1ull << 15))	 /* ENDI: little-endian only */
		return EVT_C_BAD_CD;
	if (cd[0] & (1ull << 44))	 /* S: stalls not supported */
		return EVT_C_BAD_CD;
	if (!gran_bit[tg0] || !(s->idr[5] & gran_bit[tg0]))
		return EVT_C_BAD_CD;
	if (64 - t0sz < SMMU_PT_MIN_IAS || 64 - t0sz > SMMU_PT_MAX_IAS)
		return EVT_C_BAD_CD;
	c->kind = STE_CFG_S1;
	c->asid = BITS(cd[0], 63, 48);
	if (!(s->idr[0] & IDR0_ASID16))
		c->asid &= 0xff;
	c->record = cd[0] & (1ull << 45);
	c->epd0 = cd[0] & (1ull << 14);
	c->pt = (struct smmu_pt_cfg){
		.granule = granules[tg0],
		.ias = 64 - t0sz,
		.oas = oas_bits(ips) < oas ? oas_bits(ips) : oas,
		.ttbr = cd[1] & MASK(51, 4),
		.aarch64 = true,
		.affd = cd[0] & (1ull << 35),
		.wxn = cd[0] & (1ull << 36),
		.pan = cd[0] & (1ull << 40),
	};
	if (c->pt.ttbr >> c->pt.oas)
		return EVT_C_BAD_CD; /* TTB0 beyond the effective IPS */
	return 0;
}

int smmuv3_check_ste(const struct smmuv3 *s, const uint64_t ste[2])
{
	unsigned int config = BITS(ste[0], 3, 1), strw = BITS(ste[1], 31, 30);

	if (!(ste[0] & 1))
		return EVT_C_BAD_STE;
	if (config == STE_CFG_ABORT || config == STE_CFG_BYPASS)
		return 0;
	if (config != STE_CFG_S1)
		return EVT_C_BAD_STE; /* reserved, or stage 2 (no S2P) */
	if (strw == 1 || strw == 3 ||
	    (strw == 2 && !(s->idr[0] & IDR0_HYP)))
		return EVT_C_BAD_STE;
	if (BITS(ste[0], 63, 59) > IDR1_SSIDSIZE(s->idr[1]))
		return EVT_C_BAD_STE; /* S1CDMax beyond SSIDSIZE */
	if ((ste[0] & STRTAB_ADDR) >> smmu_oas(s))
		return EVT_C_BAD_STE; /* S1ContextPtr beyond the OAS */
	return 0;
}

void smmuv3_signal_overflow(struct smmuv3 *s)
{
	s->stats.events_lost++;
	if (!((s->evtq.prod ^ s->evtq.cons) & SMMU_Q_OVF)) {
		s->evtq.prod ^= SMMU_Q_OVF;
		evtq_irq(s);
	}
}

/*
 * Decode the STE (and for stage 1 its CD) of @sid into @c. Returns 0 or
 * the event type to record; *fetch gets a fetch-fault address.
 */
static int decode_config(struct smmuv3 *s, uint32_t sid,
			 struct smmuv3_cfg *c, uint64_t *fetch)
{
	uint64_t ste[8], cd[8], ctx;
	unsigned int config;
	int ev = fetch_ste(s, sid, ste, fetch);

	if (ev)
		return ev;
	memset(c, 0, sizeof(*c));
	c->sid = sid;
	if (!(ste[0] & 1))
		return EVT_C_BAD_STE;
	config = BITS(ste[0], 3, 1);
	if (config == STE_CFG_ABORT || config == STE_CFG_BYPASS) {
		c->kind = config;
		return 0;
	}
	if (smmuv3_check_ste(s, ste))
		return EVT_C_BAD_STE;
	ctx = ste[0] & STRTAB_ADDR;
	if (read_dwords(s, ctx, cd, 8)) {
		*fetch = ctx;
		return EVT_F_CD_FETCH;
	}
	return decode_cd(s, cd, c);
}

static const char *event_name(int ev)
{
	switch (ev) {
	case EVT_C_BAD_STREAMID:
		return "no stream table entry (C_BAD_STREAMID)";
	case EVT_F_STE_FETCH:
		return "stream table not in guest RAM (F_STE_FETCH)";
	case EVT_C_BAD_STE:
		return "malformed STE (C_BAD_STE)";
	case EVT_F_CD_FETCH:
		return "context descriptor not in guest RAM (F_CD_FETCH)";
	case EVT_C_BAD_CD:
		return "malformed context descriptor (C_BAD_CD)";
	default:
		return "configuration error";
	}
}

/* The decoded configuration of @sid, cached until a CFGI. NULL: error. */
static const struct smmuv3_cfg *get_config(struct smmuv3 *s, uint32_t sid)
{
	struct smmuv3_cfg *c = &s->cfg_cache[sid % SMMUV3_CFG_CACHE];
	uint64_t fetch = 0;
	int ev;

	if (c->valid && c->sid == sid)
		return c;
	ev = decode_config(s, sid, c, &fetch);
	if (ev) {
		c->valid = false;
		cfg_log(s, sid, event_name(ev));
		post_simple_event(s, ev, sid, 0, fetch);
		return NULL;
	}
	c->valid = true;
	return c;
}

static void cfg_invalidate(struct smmuv3 *s, uint32_t sid, uint32_t mask)
{
	for (unsigned int i = 0; i < SMMUV3_CFG_CACHE; i++)
		if ((s->cfg_cache[i].sid & ~mask) == (sid & ~mask))
			s->cfg_cache[i].valid = false;
}

static void cfg_invalidate_all(struct smmuv3 *s)
{
	for (unsigned int i = 0; i < SMMUV3_CFG_CACHE; i++)
		s->cfg_cache[i].valid = false;
}

/* --- TLB --------------------------------------------------------------- */

static unsigned int tlb_slot(uint16_t asid, uint64_t va)
{
	return ((va >> 12) ^ (va >> 21) ^ (asid * 0x9e37u)) %
	       SMMUV3_TLB_SIZE;
}

static void tlb_flush(struct smmuv3 *s, bool by_asid, uint16_t asid,
		      bool by_va, uint64_t start, uint64_t end)
{
	for (unsigned int i = 0; i < SMMUV3_TLB_SIZE; i++) {
		struct smmuv3_tlb_entry *e = &s->tlb[i];

		if (!e->valid || (by_asid && e->asid != asid))
			continue;
		if (by_va && (e->va >= end || e->va + e->size <= start))
			continue;
		e->valid = false;
	}
}

/* TLBI_NH_VA/VAA: one address, or a range when TG is set (IDR3.RIL). */
static void tlbi_va(struct smmuv3 *s, const uint64_t cmd[2], bool by_asid)
{
	static const uint64_t tg_size[4] = { 0, 4096, 16384, 65536 };
	uint64_t addr = cmd[1] & MASK(63, 12);
	unsigned int tg = BITS(cmd[1], 11, 10);
	uint16_t asid = BITS(cmd[0], 63, 48);
	uint64_t len = 1;

	if (!(s->idr[0] & IDR0_ASID16))
		asid &= 0xff;
	if (tg) {
		uint64_t pages = (BITS(cmd[0], 16, 12) + 1)
				 << BITS(cmd[0], 24, 20);

		len = pages * tg_size[tg];
		if (!len || len / tg_size[tg] != pages)
			len = UINT64_MAX; /* overflow: everything above */
	}
	uint64_t end = addr + len < addr ? UINT64_MAX : addr + len;

	tlb_flush(s, by_asid, asid, true, addr, end);
}

/* --- translation ------------------------------------------------------- */

static int pt_read(void *opaque, uint64_t pa, uint64_t *desc)
{
	return read_dwords(opaque, pa, desc, 1);
}

static unsigned int fault_event(enum smmu_pt_fault f)
{
	switch (f) {
	case SMMU_PT_ADDR_SIZE:
		return EVT_F_ADDR_SIZE;
	case SMMU_PT_ACCESS:
		return EVT_F_ACCESS;
	case SMMU_PT_PERMISSION:
		return EVT_F_PERMISSION;
	case SMMU_PT_WALK_EABT:
		return EVT_F_WALK_EABT;
	default:
		return EVT_F_TRANSLATION;
	}
}

static void post_fault(struct smmuv3 *s, const struct smmuv3_cfg *c,
		       unsigned int type, uint64_t iova, unsigned int access)
{
	uint64_t ev[4] = { type | (uint64_t)c->sid << 32, 0, iova, 0 };

	if (s->probing)
		return; /* a look-ahead: the real access reports it */
	s->stats.faults++;
	if (!c->record && type != EVT_F_WALK_EABT)
		return;
	if (!(access & DMA_WRITE))
		ev[1] |= 1ull << 35; /* RnW: a read */
	/* CLASS: the input address (2) for a final-lookup fault, TT (1) */
	ev[1] |= (type == EVT_F_WALK_EABT ? 1ull : 2ull) << 40;
	smmuv3_post_event(s, ev);
}

/* Stage-1 lookup through the TLB. NULL-equivalent: false. */
static bool s1_translate(struct smmuv3 *s, const struct smmuv3_cfg *c,
			 uint64_t iova, unsigned int access,
			 struct smmuv3_tlb_entry *out)
{
	struct smmuv3_tlb_entry *e = &s->tlb[tlb_slot(c->asid, iova)];
	struct smmu_pt_result r;

	if (e->valid && e->asid == c->asid && iova - e->va < e->size) {
		s->stats.tlb_hits++;
	} else {
		if (c->epd0 || iova >> c->pt.ias) {
			post_fault(s, c, EVT_F_TRANSLATION, iova, access);
			return false;
		}
		s->stats.walks++;
		if (smmu_pt_walk(&c->pt, iova, access, pt_read, s, &r)) {
			/* decode_cd() let through what the walker refuses */
			if (!s->probing)
				post_simple_event(s, EVT_C_BAD_CD, c->sid, 0, 0);
			return false;
		}
		if (r.fault == SMMU_PT_PERMISSION) {
			/* cache nothing: a retry walks again */
			post_fault(s, c, EVT_F_PERMISSION, iova, access);
			return false;
		}
		if (r.fault != SMMU_PT_OK) {
			post_fault(s, c, fault_event(r.fault), iova, access);
			return false;
		}
		*e = (struct smmuv3_tlb_entry){
			.valid = true,
			/* device DMA is unprivileged data (PRIVCFG: incoming) */
			.readable = r.user,
			.writable = r.user_writable,
			.asid = c->asid,
			.va = iova & ~(r.size - 1),
			.size = r.size,
			.pa = r.pa & ~(r.size - 1),
		};
	}
	if (((access & DMA_READ) && !e->readable) ||
	    ((access & DMA_WRITE) && !e->writable)) {
		post_fault(s, c, EVT_F_PERMISSION, iova, access);
		return false;
	}
	*out = *e;
	return true;
}

/*
 * Translate @iova of stream @sid for @access: the output address in *out
 * and how many bytes from it stay contiguous in *avail. False when the
 * access is aborted (a fault record may have been posted).
 */
static bool xlate_locked(struct smmuv3 *s, uint32_t sid, uint64_t iova,
			 unsigned int access, uint64_t *out, uint64_t *avail)
{
	const struct smmuv3_cfg *c;
	struct smmuv3_tlb_entry e;

	if (!(s->cr0 & CR0_SMMUEN)) {
		if (s->gbpa & GBPA_ABORT)
			return false;
		*out = iova;
		*avail = UINT64_MAX - iova;
		return true;
	}
	c = get_config(s, sid);
	if (!c || c->kind == STE_CFG_ABORT)
		return false;
	if (c->kind == STE_CFG_BYPASS) {
		*out = iova;
		*avail = UINT64_MAX - iova;
		return true;
	}
	if (!s1_translate(s, c, iova, access, &e))
		return false;
	*out = e.pa + (iova - e.va);
	*avail = e.size - (iova - e.va);
	return true;
}

static void *translate_locked(struct smmuv3 *s, uint32_t sid, uint64_t iova,
			      uint64_t len, unsigned int access,
			      uint64_t *chunk)
{
	uint64_t pa, n;
	void *p;

	if (!xlate_locked(s, sid, iova, access, &pa, &n))
		return NULL;
	/*
	 * A buffer the guest maps page by page is usually contiguous in its
	 * RAM too: extend the chunk over the pages that follow, so that one
	 * descriptor is one iovec and not one per page. Look-aheads post no
	 * event; if a later page faults, its own access reports it.
	 */
	s->probing = true;
	while (n < len) {
		uint64_t pa2, n2;

		if (!xlate_locked(s, sid, iova + n, access, &pa2, &n2) ||
		    pa2 != pa + n)
			break;
		n = n2 > UINT64_MAX - n ? UINT64_MAX : n + n2;
	}
	s->probing = false;
	if (len < n)
		n = len;
	p = gmem_ptr(s->mem, pa, n);
	if (p)
		*chunk = n;
	return p; /* outside RAM: an external abort, the device sees it */
}

static void *client_translate(struct dma_space *as, uint64_t addr,
			      uint64_t len, unsigned int access,
			      uint64_t *chunk)
{
	struct smmuv3_client *c = as->opaque;
	struct smmuv3 *s = c->smmu;
	uint32_t sid = c->sid_of ? c->sid_of(c->ctx) : c->sid;
	void *p;

	pthread_mutex_lock(&s->lock);
	s->stats.translations++;
	p = translate_locked(s, sid, addr, len, access, chunk);
	pthread_mutex_unlock(&s->lock);
	return p;
}

static uint64_t client_generation(struct dma_space *as)
{
	struct smmuv3_client *c = as->opaque;

	return atomic_load(&c->smmu->generation);
}

static const struct dma_space_ops client_ops = {
	.translate = client_translate,
	.generation = client_generation,
};

int smmuv3_client_dma(struct smmuv3 *s, uint32_t (*sid_of)(const void *ctx),
		      const void *ctx, uint32_t sid, struct dma_space *out)
{
	struct smmuv3_client **v, *c;

	/* Each client is its own allocation: dma_spaces point at them. */
	c = calloc(1, sizeof(*c));
	v = c ? realloc(s->clients, (s->nr_clients + 1) * sizeof(*v)) : NULL;
	if (!v) {
		free(c);
		return -ENOMEM;
	}
	*c = (struct smmuv3_client){
		.smmu = s, .sid = sid, .sid_of = sid_of, .ctx = ctx
	};
	v[s->nr_clients++] = c;
	s->clients = v;
	out->ops = &client_ops;
	out->mem = s->mem;
	out->opaque = c;
	return 0;
}

/*
 * MSIs of a device behind the SMMU are DMA writes like any other: the
 * address it was given is an IOVA (Linux maps the ITS doorbell into the
 * device's domain), so routes are built from its translation.
 */
static bool msi_xlate(struct smmuv3_client *c, uint64_t addr, uint64_t *ipa)
{
	struct smmuv3 *s = c->smmu;
	uint32_t sid = c->sid_of ? c->sid_of(c->ctx) : c->sid;
	uint64_t avail;
	bool ok;

	pthread_mutex_lock(&s->lock);
	s->stats.translations++;
	ok = xlate_locked(s, sid, addr, DMA_WRITE, ipa, &avail) && avail >= 4;
	pthread_mutex_unlock(&s->lock);
	return ok;
}

static int fwd_ioeventfd(void *opaque, uint64_t addr, unsigned int len,
			 bool datamatch, uint64_t data, int fd, bool assign)
{
	const struct host_ops *h = ((struct smmuv3_client *)opaque)->real;

	return h->ioeventfd(h->opaque, addr, len, datamatch, data, fd, assign);
}

static void fwd_set_spi(void *opaque, unsigned int spi, bool level)
{
	const struct host_ops *h = ((struct smmuv3_client *)opaque)->real;

	h->set_spi(h->opaque, spi, level);
}

static int fwd_spi_irqfd(void *opaque, unsigned int spi, int fd,
			 int resample_fd)
{
	const struct host_ops *h = ((struct smmuv3_client *)opaque)->real;

	return h->spi_irqfd(h->opaque, spi, fd, resample_fd);
}

static int msi_route_add(void *opaque, uint64_t addr, uint32_t data,
			 uint32_t devid, int fd)
{
	struct smmuv3_client *c = opaque;
	uint64_t ipa;

	if (!msi_xlate(c, addr, &ipa))
		return -EFAULT;
	return c->real->msi_route_add(c->real->opaque, ipa, data, devid, fd);
}

static int msi_route_update(void *opaque, int route, uint64_t addr,
			    uint32_t data, uint32_t devid)
{
	struct smmuv3_client *c = opaque;
	uint64_t ipa;

	/* An untranslatable address aborts: route it nowhere (data 0). */
	if (!msi_xlate(c, addr, &ipa))
		ipa = 0;
	return c->real->msi_route_update(c->real->opaque, route, ipa, data,
					 devid);
}

static void fwd_route_del(void *opaque, int route, int fd)
{
	const struct host_ops *h = ((struct smmuv3_client *)opaque)->real;

	h->msi_route_del(h->opaque, route, fd);
}

static int signal_msi(void *opaque, uint64_t addr, uint32_t data,
		      uint32_t devid)
{
	struct smmuv3_client *c = opaque;
	uint64_t ipa;

	if (!msi_xlate(c, addr, &ipa))
		return -EFAULT;
	return c->real->signal_msi(c->real->opaque, ipa, data, devid);
}

const struct host_ops *smmuv3_client_host(struct dma_space *as,
					  const struct host_ops *real)
{
	struct smmuv3_client *c = as->opaque;

	c->real = real;
	c->host = *real;
	c->host.opaque = c;
	c->host.ioeventfd = real->ioeventfd ? fwd_ioeventfd : NULL;
	c->host.set_spi = real->set_spi ? fwd_set_spi : NULL;
	c->host.spi_irqfd = real->spi_irqfd ? fwd_spi_irqfd : NULL;
	c->host.msi_route_add = real->msi_route_add ? msi_route_add : NULL;
	c->host.msi_route_update =
		real->msi_route_update ? msi_route_update : NULL;
	c->host.msi_route_del = real->msi_route_del ? fwd_route_del : NULL;
	c->host.signal_msi = real->signal_msi ? signal_msi : NULL;
	return &c->host;
}

/* --- commands ---------------------------------------------------------- */

/*
 * Tell the backend an owned stream's STE may have changed. A missing or
 * unreadable STE blocks the stream; the event for it would be raised by
 * a transaction, which nestbox does not see for assigned devices.
 */
static void backend_ste_changed(struct smmuv3 *s, uint32_t sid)
{
	const struct smmuv3_backend *b = s->backend;
	uint64_t ste[8], fetch = 0;
	int ev;

	if (!b || !b->owns(b->opaque, sid))
		return;
	if (!(s->cr0 & CR0_SMMUEN)) {
		b->ste_changed(b->opaque, sid, NULL, s->gbpa & GBPA_ABORT);
		return;
	}
	ev = fetch_ste(s, sid, ste, &fetch);
	if (ev) {
		b->ste_changed(b->opaque, sid, NULL, true);
		return;
	}
	ev = b->ste_changed(b->opaque, sid, ste, false);
	if (ev) {
		cfg_log(s, sid, event_name(ev));
		post_simple_event(s, ev, sid, 0, 0);
	}
}

/* Every StreamID the backend owns, after a global change. */
static void backend_all_changed(struct smmuv3 *s, uint32_t sid,
				uint32_t mask)
{
	uint32_t sids[SMMUV3_BACKEND_MAX_SIDS];
	unsigned int n;

	if (!s->backend)
		return;
	/* Its few streams, not the whole StreamID space: CFGI_ALL is cheap. */
	n = s->backend->sids(s->backend->opaque, sids,
			     SMMUV3_BACKEND_MAX_SIDS);
	for (unsigned int i = 0; i < n; i++)
		if ((sids[i] & ~mask) == (sid & ~mask))
			backend_ste_changed(s, sids[i]);
}

static void backend_invalidate(struct smmuv3 *s, const uint64_t cmd[2])
{
	if (s->backend && s->backend->invalidate)
		s->backend->invalidate(s->backend->opaque, cmd);
}

static int cmd_sync(struct smmuv3 *s, const uint64_t cmd[2])
{
	unsigned int cs = BITS(cmd[0], 13, 12);

	s->stats.syncs++;
	if (s->backend && s->backend->sync)
		s->backend->sync(s->backend->opaque);
	if (cs == 1 && msi_capable(s) && (cmd[1] & MSI_ADDR)) {
		if (!send_msi(s, cmd[1], BITS(cmd[0], 63, 32))) {
			if (!s->logged_msi_abort) {
				s->logged_msi_abort = true;
				pr_warn("smmuv3: CMD_SYNC MSI to 0x%" PRIx64
					" is neither guest RAM nor the ITS doorbell: GERROR.MSI_CMDQ_ABT_ERR (logged once)",
					(uint64_t)(cmd[1] & MSI_ADDR));
			}
			raise_gerror(s, GERROR_MSI_CMDQ_ABT_ERR);
		}
	}
	return CMDQ_CERROR_NONE;
}

/* Execute one command: CMDQ_CERROR_NONE or the error for CMDQ_CONS.ERR. */
static int exec_cmd(struct smmuv3 *s, const uint64_t cmd[2])
{
	unsigned int op = cmd[0] & 0xff;
	uint32_t sid = cmd[0] >> 32;
	bool ssv = cmd[0] & (1ull << 11);

	s->stats.commands++;
	switch (op) {
	case CMD_PREFETCH_CONFIG:
	case CMD_PREFETCH_ADDR:
		if (ssv && !IDR1_SSIDSIZE(s->idr[1]))
			return CMDQ_CERROR_ILL;
		return CMDQ_CERROR_NONE; /* a hint; nothing is prefetched */
	case CMD_CFGI_STE:
		s->stats.cfgis++;
		cfg_invalidate(s, sid, 0);
		bump_generation(s);
		backend_ste_changed(s, sid);
		return CMDQ_CERROR_NONE;
	case CMD_CFGI_STE_RANGE: {
		unsigned int range = cmd[1] & 0x1f;
		uint32_t mask = range == 31 ? UINT32_MAX
					    : (2u << range) - 1;

		s->stats.cfgis++;
		if (range == 31)
			cfg_invalidate_all(s);
		else
			cfg_invalidate(s, sid, mask);
		bump_generation(s);
		backend_all_changed(s, sid, mask);
		return CMDQ_CERROR_NONE;
	}
	case CMD_CFGI_CD:
	case CMD_CFGI_CD_ALL:
		if (ssv && !IDR1_SSIDSIZE(s->idr[1]))
			return CMDQ_CERROR_ILL;
		s->stats.cfgis++;
		cfg_invalidate(s, sid, 0);
		bump_generation(s);
		backend_invalidate(s, cmd);
		return CMDQ_CERROR_NONE;
	case CMD_TLBI_NH_ALL:
	case CMD_TLBI_NSNH_ALL:
		s->stats.tlbis++;
		tlb_flush(s, false, 0, false, 0, 0);
		bump_generation(s);
		backend_invalidate(s, cmd);
		return CMDQ_CERROR_NONE;
	case CMD_TLBI_NH_ASID: {
		uint16_t asid = BITS(cmd[0], 63, 48);

		if (!(s->idr[0] & IDR0_ASID16))
			asid &= 0xff;
		s->stats.tlbis++;
		tlb_flush(s, true, asid, false, 0, 0);
		bump_generation(s);
		backend_invalidate(s, cmd);
		return CMDQ_CERROR_NONE;
	}
	case CMD_TLBI_NH_VA:
	case CMD_TLBI_NH_VAA:
		s->stats.tlbis++;
		tlbi_va(s, cmd, op == CMD_TLBI_NH_VA);
		bump_generation(s);
		backend_invalidate(s, cmd);
		return CMDQ_CERROR_NONE;
	case CMD_TLBI_EL2_ALL:
	case CMD_TLBI_EL2_ALL + 1: /* EL2_ASID */
	case CMD_TLBI_EL2_ALL + 2: /* EL2_VA */
	case CMD_TLBI_EL2_ALL + 3: /* EL2_VAA */
		if (!(s->idr[0] & IDR0_HYP))
			return CMDQ_CERROR_ILL;
		s->stats.tlbis++;
		tlb_flush(s, false, 0, false, 0, 0);
		bump_generation(s);
		return CMDQ_CERROR_NONE;
	case CMD_TLBI_S12_VMALL:
	case CMD_TLBI_S2_IPA:
		if (!(s->idr[0] & IDR0_S2P))
			return CMDQ_CERROR_ILL;
		s->stats.tlbis++;
		tlb_flush(s, false, 0, false, 0, 0);
		bump_generation(s);
		return CMDQ_CERROR_NONE;
	case CMD_ATC_INV:
		if (!(s->idr[0] & IDR0_ATS))
			return CMDQ_CERROR_ILL;
		backend_invalidate(s, cmd);
		return CMDQ_CERROR_NONE;
	case CMD_SYNC:
		return cmd_sync(s, cmd);
	case CMD_PRI_RESP:
	case CMD_RESUME:
	case CMD_STALL_TERM:
	default:
		return CMDQ_CERROR_ILL; /* no PRI, no stalls, unknown */
	}
}

static bool cmdq_stopped(const struct smmuv3 *s)
{
	return !(s->cr0 & CR0_CMDQEN) ||
	       ((s->gerror ^ s->gerrorn) & GERROR_CMDQ_ERR);
}

static void cmdq_error(struct smmuv3 *s, int err, const uint64_t *cmd)
{
	s->stats.cmd_errors++;
	s->cmdq.cons = (s->cmdq.cons & ~(0x7fu << 24)) | (uint32_t)err << 24;
	if (cmd && !s->logged_cmd_error) {
		s->logged_cmd_error = true;
		pr_warn("smmuv3: illegal command 0x%02x (%016" PRIx64
			" %016" PRIx64
			"): GERROR.CMDQ_ERR; further illegal commands are counted",
			(unsigned int)(cmd[0] & 0xff), cmd[0], cmd[1]);
	} else if (!cmd && !s->logged_cmdq_abort) {
		s->logged_cmdq_abort = true;
		pr_warn("smmuv3: the command queue is not in guest RAM: GERROR.CMDQ_ERR (CERROR_ABT); further aborts are counted");
	}
	raise_gerror(s, GERROR_CMDQ_ERR);
}

static void cmdq_process(struct smmuv3 *s)
{
	unsigned int log2 = q_log2(s->cmdq.base, IDR1_CMDQS(s->idr[1]));
	uint64_t base = s->cmdq.base & Q_BASE_ADDR;
	bool batched = false;

	while (!cmdq_stopped(s) &&
	       q_ptr(s->cmdq.cons, log2) != q_ptr(s->cmdq.prod, log2)) {
		uint32_t cons = q_ptr(s->cmdq.cons, log2);
		uint64_t cmd[2];
		int err;

		if (read_dwords(s, base + (uint64_t)q_idx(cons, log2) *
						  CMDQ_ENT_SIZE,
				cmd, 2)) {
			cmdq_error(s, CMDQ_CERROR_ABT, NULL);
			break;
		}
		err = exec_cmd(s, cmd);
		if (err) {
			cmdq_error(s, err, cmd);
			break;
		}
		batched = (cmd[0] & 0xff) != CMD_SYNC;
		s->cmdq.cons = q_ptr(cons + 1, log2);
	}
	/* Invalidations without a closing CMD_SYNC still reach the host. */
	if (batched && s->backend && s->backend->sync)
		s->backend->sync(s->backend->opaque);
}

/* --- registers --------------------------------------------------------- */

static void write_cr0(struct smmuv3 *s, uint32_t v)
{
	uint32_t old = s->cr0;

	s->cr0 = v & CR0_MASK;
	if ((old ^ s->cr0) & CR0_SMMUEN) {
		cfg_invalidate_all(s);
		tlb_flush(s, false, 0, false, 0, 0);
		bump_generation(s);
		backend_all_changed(s, 0, UINT32_MAX);
	}
	if (!(old & CR0_CMDQEN) && (s->cr0 & CR0_CMDQEN))
		cmdq_process(s);
}

static uint64_t reg_read(struct smmuv3 *s, uint64_t off)
{
	switch (off) {
	case SMMU_IDR0 ... SMMU_IDR5:
		return s->idr[(off - SMMU_IDR0) / 4];
	case SMMU_IIDR:
		return s->iidr;
	case SMMU_AIDR:
		return s->aidr;
	case SMMU_CR0:
	case SMMU_CR0ACK:
		return s->cr0;
	case SMMU_CR1:
		return s->cr1;
	case SMMU_CR2:
		return s->cr2;
	case SMMU_GBPA:
		return s->gbpa;
	case SMMU_IRQ_CTRL:
	case SMMU_IRQ_CTRLACK:
		return s->irq_ctrl;
	case SMMU_GERROR:
		return s->gerror;
	case SMMU_GERRORN:
		return s->gerrorn;
	case SMMU_GERROR_IRQ_CFG0:
	case SMMU_GERROR_IRQ_CFG1:
	case SMMU_GERROR_IRQ_CFG2:
		return msi_cfg_read(&s->gerror_msi, off - SMMU_GERROR_IRQ_CFG0);
	case SMMU_STRTAB_BASE:
		return s->strtab_base;
	case SMMU_STRTAB_BASE_CFG:
		return s->strtab_base_cfg;
	case SMMU_CMDQ_BASE:
		return s->cmdq.base;
	case SMMU_CMDQ_PROD:
		return s->cmdq.prod;
	case SMMU_CMDQ_CONS:
		return s->cmdq.cons;
	case SMMU_EVENTQ_BASE:
		return s->evtq.base;
	case SMMU_EVENTQ_PROD:
	case SMMU_EVENTQ_PROD_P0:
		return s->evtq.prod;
	case SMMU_EVENTQ_CONS:
	case SMMU_EVENTQ_CONS_P0:
		return s->evtq.cons;
	case SMMU_EVENTQ_IRQ_CFG0:
	case SMMU_EVENTQ_IRQ_CFG1:
	case SMMU_EVENTQ_IRQ_CFG2:
		return msi_cfg_read(&s->evtq_msi, off - SMMU_EVENTQ_IRQ_CFG0);
	default:
		return 0; /* RAZ: PRIQ, STATUSR, ID registers, RES0 */
	}
}

static void reg_write(struct smmuv3 *s, uint64_t off, uint64_t v)
{
	unsigned int log2;

	switch (off) {
	case SMMU_CR0:
		write_cr0(s, v);
		break;
	case SMMU_CR1:
		if (!(s->cr0 & (CR0_SMMUEN | CR0_CMDQEN | CR0_EVTQEN)))
			s->cr1 = v & 0xfff;
		break;
	case SMMU_CR2:
		if (!(s->cr0 & CR0_SMMUEN))
			s->cr2 = v & 0x6; /* RECINVSID, PTM; no E2H */
		break;
	case SMMU_GBPA:
		if (v & GBPA_UPDATE) {
			s->gbpa = v & GBPA_WMASK;
			if (!(s->cr0 & CR0_SMMUEN)) {
				bump_generation(s);
				backend_all_changed(s, 0, UINT32_MAX);
			}
		}
		break;
	case SMMU_IRQ_CTRL:
		s->irq_ctrl = v & (IRQ_CTRL_GERROR_IRQEN | IRQ_CTRL_EVTQ_IRQEN);
		break;
	case SMMU_GERRORN: {
		bool was = cmdq_stopped(s);

		s->gerrorn = v & GERROR_MASK;
		if (was && !cmdq_stopped(s))
			cmdq_process(s); /* CMDQ_ERR acknowledged: resume */
		break;
	}
	case SMMU_GERROR_IRQ_CFG0:
	case SMMU_GERROR_IRQ_CFG1:
	case SMMU_GERROR_IRQ_CFG2:
		msi_cfg_write(&s->gerror_msi, off - SMMU_GERROR_IRQ_CFG0, v);
		break;
	case SMMU_STRTAB_BASE:
		if (!(s->cr0 & CR0_SMMUEN))
			s->strtab_base = v & (STRTAB_ADDR | (1ull << 62));
		break;
	case SMMU_STRTAB_BASE_CFG:
		if (!(s->cr0 & CR0_SMMUEN))
			s->strtab_base_cfg = v & 0x307ff;
		break;
	case SMMU_CMDQ_BASE:
		if (!(s->cr0 & CR0_CMDQEN))
			s->cmdq.base = v & (Q_BASE_ADDR | (1ull << 62) | 0x1f);
		break;
	case SMMU_CMDQ_PROD:
		log2 = q_log2(s->cmdq.base, IDR1_CMDQS(s->idr[1]));
		s->cmdq.prod = q_ptr(v, log2);
		cmdq_process(s);
		break;
	case SMMU_CMDQ_CONS:
		if (!(s->cr0 & CR0_CMDQEN)) {
			log2 = q_log2(s->cmdq.base, IDR1_CMDQS(s->idr[1]));
			s->cmdq.cons = q_ptr(v, log2);
		}
		break;
	case SMMU_EVENTQ_BASE:
		if (!(s->cr0 & CR0_EVTQEN))
			s->evtq.base = v & (Q_BASE_ADDR | (1ull << 62) | 0x1f);
		break;
	case SMMU_EVENTQ_PROD:
	case SMMU_EVENTQ_PROD_P0:
		if (!(s->cr0 & CR0_EVTQEN)) {
			log2 = q_log2(s->evtq.base, IDR1_EVTQS(s->idr[1]));
			s->evtq.prod = (v & SMMU_Q_OVF) | q_ptr(v, log2);
		}
		break;
	case SMMU_EVENTQ_CONS:
	case SMMU_EVENTQ_CONS_P0:
		log2 = q_log2(s->evtq.base, IDR1_EVTQS(s->idr[1]));
		s->evtq.cons = (v & SMMU_Q_OVF) | q_ptr(v, log2);
		break;
	case SMMU_EVENTQ_IRQ_CFG0:
	case SMMU_EVENTQ_IRQ_CFG1:
	case SMMU_EVENTQ_IRQ_CFG2:
		msi_cfg_write(&s->evtq_msi, off - SMMU_EVENTQ_IRQ_CFG0, v);
		break;
	default:
		break; /* read-only or RES0: ignored */
	}
}

/* 64-bit registers, which may also be accessed as two 32-bit halves. */
static bool is_reg64(uint64_t off)
{
	switch (off) {
	case SMMU_GERROR_IRQ_CFG0:
	case SMMU_STRTAB_BASE:
	case SMMU_CMDQ_BASE:
	case SMMU_EVENTQ_BASE:
	case SMMU_EVENTQ_IRQ_CFG0:
		return true;
	}
	return false;
}

static uint64_t mmio_read(void *dev, uint64_t off, unsigned int len)
{
	struct smmuv3 *s = dev;
	uint64_t v = 0;

	if ((len != 4 && len != 8) || (off & (len - 1)))
		return 0;
	pthread_mutex_lock(&s->lock);
	if (len == 8)
		v = is_reg64(off) ? reg_read(s, off) : 0;
	else if (is_reg64(off & ~7ull))
		v = (uint32_t)(reg_read(s, off & ~7ull) >> (off & 4 ? 32 : 0));
	else
		v = (uint32_t)reg_read(s, off);
	pthread_mutex_unlock(&s->lock);
	return v;
}

static void mmio_write(void *dev, uint64_t off, uint64_t v, unsigned int len)
{
	struct smmuv3 *s = dev;

	if ((len != 4 && len != 8) || (off & (len - 1)))
		return;
	pthread_mutex_lock(&s->lock);
	if (len == 8) {
		if (is_reg64(off))
			reg_write(s, off, v);
	} else if (is_reg64(off & ~7ull)) {
		uint64_t base = off & ~7ull, cur = reg_read(s, base);

		if (off & 4)
			cur = (cur & 0xffffffffull) | (v << 32);
		else
			cur = (cur & ~0xffffffffull) | (uint32_t)v;
		reg_write(s, base, cur);
	} else {
		reg_write(s, off, (uint32_t)v);
	}
	pthread_mutex_unlock(&s->lock);
}

const struct mmio_ops smmuv3_mmio_ops = {
	.read = mmio_read,
	.write = mmio_write,
};

/* --- life cycle -------------------------------------------------------- */

int smmuv3_init(struct smmuv3 *s, const struct smmuv3_params *p)
{
	memset(s, 0, sizeof(*s));
	if (!p->mem)
		return -EINVAL;
	pthread_mutex_init(&s->lock, NULL);
	s->mem = p->mem;
	s->host = p->host;
	memcpy(s->idr, p->idr, sizeof(s->idr));
	s->iidr = p->iidr;
	s->aidr = p->aidr;
	s->spi_evtq = p->spi_evtq;
	s->spi_gerror = p->spi_gerror;
	s->msi_doorbell = p->msi_doorbell & MSI_ADDR;
	s->msi_devid = p->msi_devid;
	return 0;
}

void smmuv3_destroy(struct smmuv3 *s)
{
	for (unsigned int i = 0; i < s->nr_clients; i++)
		free(s->clients[i]);
	free(s->clients);
	s->clients = NULL;
	s->nr_clients = 0;
	pthread_mutex_destroy(&s->lock);
}

void smmuv3_set_idr(struct smmuv3 *s, const uint32_t idr[6])
{
	pthread_mutex_lock(&s->lock);
	memcpy(s->idr, idr, sizeof(s->idr));
	pthread_mutex_unlock(&s->lock);
}

void smmuv3_set_backend(struct smmuv3 *s, const struct smmuv3_backend *b)
{
	pthread_mutex_lock(&s->lock);
	s->backend = b;
	pthread_mutex_unlock(&s->lock);
}

void smmuv3_stats(struct smmuv3 *s, char *buf, size_t len)
{
	const struct smmuv3_stats *st = &s->stats;

	pthread_mutex_lock(&s->lock);
	snprintf(buf, len,
		 "commands=%" PRIu64 " (tlbi=%" PRIu64 " cfgi=%" PRIu64
		 " sync=%" PRIu64 ") errors=%" PRIu64 "; translations=%" PRIu64
		 " tlb-hits=%" PRIu64 " walks=%" PRIu64 " faults=%" PRIu64
		 "; events=%" PRIu64 " lost=%" PRIu64 " config-errors=%" PRIu64,
		 st->commands, st->tlbis, st->cfgis, st->syncs, st->cmd_errors,
		 st->translations, st->tlb_hits, st->walks, st->faults,
		 st->events, st->events_lost, st->config_errors);
	pthread_mutex_unlock(&s->lock);
}
