/* SPDX-License-Identifier: GPL-2.0 */
/*
 * An emulated Arm SMMUv3 (SMMU architecture v3.x, non-secure programming
 * interface only): the registers of pages 0 and 1, the stream table
 * (linear and 2-level), context descriptors, the command queue and the
 * event queue, GERROR, and interrupts as MSIs or wired SPIs. PRI, stalls,
 * ATS, substreams and stage 2 are not offered by the fixed model.
 *
 * Emulated devices behind it get a dma_space (smmuv3_client_dma()) whose
 * translations walk the guest's stage-1 tables (iommu/smmu_pt.c) through a
 * small TLB that the guest's TLBI commands invalidate; faults become event
 * records on the guest's event queue.
 *
 * Assigned devices (host SMMU nesting) hook in through a backend that
 * sees STE changes and the guest's invalidation commands.
 *
 * Every value read from guest memory or written to a register is
 * untrusted: a malformed STE/CD is a C_BAD_* event, an illegal command is
 * GERROR.CMDQ_ERR with CMDQ_CONS.ERR, an unreachable queue an *_ABT_ERR.
 *
 * Locking: one mutex per SMMU; MMIO handlers (vCPU threads) and
 * translations (any device thread) take it.
 */
#ifndef NESTBOX_SMMUV3_H
#define NESTBOX_SMMUV3_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "../devices/host_ops.h"
#include "../devices/mmio_bus.h"
#include "../vmm/guest_mem.h"
#include "dma.h"
#include "smmu_pt.h"

/* Two 64 KiB register pages. */
#define SMMUV3_MMIO_SIZE 0x20000ULL

/* Page 0 registers */
#define SMMU_IDR0	      0x00
#define SMMU_IDR1	      0x04
#define SMMU_IDR2	      0x08
#define SMMU_IDR3	      0x0c
#define SMMU_IDR4	      0x10
#define SMMU_IDR5	      0x14
#define SMMU_IIDR	      0x18
#define SMMU_AIDR	      0x1c
#define SMMU_CR0	      0x20
#define SMMU_CR0ACK	      0x24
#define SMMU_CR1	      0x28
#define SMMU_CR2	      0x2c
#define SMMU_STATUSR	      0x40
#define SMMU_GBPA	      0x44
#define SMMU_AGBPA	      0x48
#define SMMU_IRQ_CTRL	      0x50
#define SMMU_IRQ_CTRLACK      0x54
#define SMMU_GERROR	      0x60
#define SMMU_GERRORN	      0x64
#define SMMU_GERROR_IRQ_CFG0  0x68
#define SMMU_GERROR_IRQ_CFG1  0x70
#define SMMU_GERROR_IRQ_CFG2  0x74
#define SMMU_STRTAB_BASE      0x80
#define SMMU_STRTAB_BASE_CFG  0x88
#define SMMU_CMDQ_BASE	      0x90
#define SMMU_CMDQ_PROD	      0x98
#define SMMU_CMDQ_CONS	      0x9c
#define SMMU_EVENTQ_BASE      0xa0
#define SMMU_EVENTQ_PROD_P0   0xa8 /* page-0 alias */
#define SMMU_EVENTQ_CONS_P0   0xac
#define SMMU_EVENTQ_IRQ_CFG0  0xb0
#define SMMU_EVENTQ_IRQ_CFG1  0xb8
#define SMMU_EVENTQ_IRQ_CFG2  0xbc
#define SMMU_EVENTQ_PROD      0x100a8 /* page 1 */
#define SMMU_EVENTQ_CONS      0x100ac

/* IDR0 */
#define IDR0_S2P	     (1u << 0)
#define IDR0_S1P	     (1u << 1)
#define IDR0_TTF_SHIFT	     2 /* 2: AArch64 tables */
#define IDR0_TTF_AARCH64     (2u << 2)
#define IDR0_COHACC	     (1u << 4)
#define IDR0_HYP	     (1u << 9)
#define IDR0_ATS	     (1u << 10)
#define IDR0_ASID16	     (1u << 12)
#define IDR0_MSI	     (1u << 13)
#define IDR0_PRI	     (1u << 16)
#define IDR0_VMID16	     (1u << 18)
#define IDR0_TTENDIAN_LE     (2u << 21)
#define IDR0_STALL_MODEL_NONE (1u << 24) /* terminate only, no stalls */
#define IDR0_TERM_MODEL	     (1u << 26)
#define IDR0_ST_LEVEL_2LVL   (1u << 27)
/* IDR1 */
#define IDR1_SIDSIZE(x)	 ((x) & 0x3f)
#define IDR1_SSIDSIZE(x) (((x) >> 6) & 0x1f)
#define IDR1_EVTQS(x)	 (((x) >> 16) & 0x1f)
#define IDR1_CMDQS(x)	 (((x) >> 21) & 0x1f)
/* IDR3 */
#define IDR3_RIL (1u << 10)
/* IDR5 */
#define IDR5_OAS(x)  ((x) & 7)
#define IDR5_GRAN4K  (1u << 4)
#define IDR5_GRAN16K (1u << 5)
#define IDR5_GRAN64K (1u << 6)

#define CR0_SMMUEN (1u << 0)
#define CR0_EVTQEN (1u << 2)
#define CR0_CMDQEN (1u << 3)

#define GBPA_ABORT  (1u << 20)
#define GBPA_UPDATE (1u << 31)

#define IRQ_CTRL_GERROR_IRQEN (1u << 0)
#define IRQ_CTRL_EVTQ_IRQEN   (1u << 2)

#define GERROR_CMDQ_ERR		  (1u << 0)
#define GERROR_EVTQ_ABT_ERR	  (1u << 2)
#define GERROR_MSI_CMDQ_ABT_ERR	  (1u << 4)
#define GERROR_MSI_EVTQ_ABT_ERR	  (1u << 5)
#define GERROR_MSI_GERROR_ABT_ERR (1u << 7)
#define GERROR_SFM_ERR		  (1u << 8)

/* CMDQ_CONS.ERR */
#define CMDQ_CERROR_NONE 0
#define CMDQ_CERROR_ILL	 1
#define CMDQ_CERROR_ABT	 2

/* Queue pointer: index and wrap bit below, overflow flag on top. */
#define SMMU_Q_OVF (1u << 31)

/* Commands (opcode in bits 7:0 of the first doubleword) */
#define CMD_PREFETCH_CONFIG 0x01
#define CMD_PREFETCH_ADDR   0x02
#define CMD_CFGI_STE	    0x03
#define CMD_CFGI_STE_RANGE  0x04 /* Range 31: CFGI_ALL */
#define CMD_CFGI_CD	    0x05
#define CMD_CFGI_CD_ALL	    0x06
#define CMD_TLBI_NH_ALL	    0x10
#define CMD_TLBI_NH_ASID    0x11
#define CMD_TLBI_NH_VA	    0x12
#define CMD_TLBI_NH_VAA	    0x13
#define CMD_TLBI_EL2_ALL    0x20
#define CMD_TLBI_S12_VMALL  0x28
#define CMD_TLBI_S2_IPA	    0x2a
#define CMD_TLBI_NSNH_ALL   0x30
#define CMD_ATC_INV	    0x40
#define CMD_PRI_RESP	    0x41
#define CMD_RESUME	    0x44
#define CMD_STALL_TERM	    0x45
#define CMD_SYNC	    0x46

/* Event record types */
#define EVT_F_UUT	     0x01
#define EVT_C_BAD_STREAMID   0x02
#define EVT_F_STE_FETCH	     0x03
#define EVT_C_BAD_STE	     0x04
#define EVT_C_BAD_SUBSTREAMID 0x08
#define EVT_F_CD_FETCH	     0x09
#define EVT_C_BAD_CD	     0x0a
#define EVT_F_WALK_EABT	     0x0b
#define EVT_F_TRANSLATION    0x10
#define EVT_F_ADDR_SIZE	     0x11
#define EVT_F_ACCESS	     0x12
#define EVT_F_PERMISSION     0x13

/* STE.Config */
#define STE_CFG_ABORT  0
#define STE_CFG_BYPASS 4
#define STE_CFG_S1     5

#define SMMUV3_CFG_CACHE 64  /* decoded STE+CD, by StreamID */
#define SMMUV3_TLB_SIZE	 512 /* stage-1 translations, by ASID and page */

/*
 * What assigned devices (host nesting) need to see. Called with the SMMU
 * lock held. @owns tells whether a StreamID belongs to the backend; its
 * translations never come through smmuv3_client_dma().
 */
#define SMMUV3_BACKEND_MAX_SIDS 64

struct smmuv3_backend {
	bool (*owns)(void *opaque, uint32_t sid);
	/* The StreamIDs it owns, at most @max of them, into @out: how many. */
	unsigned int (*sids)(void *opaque, uint32_t *out, unsigned int max);
	/*
	 * The STE of @sid may have changed (CFGI_STE*, SMMUEN or GBPA
	 * change): @ste is the guest's current entry (8 doublewords) when
	 * the SMMU is enabled and it could be read, or NULL with @abort
	 * telling whether the stream is blocked (SMMU off: GBPA.ABORT).
	 * Returns 0, or an event type (EVT_C_BAD_STE...) to report.
	 */
	int (*ste_changed)(void *opaque, uint32_t sid, const uint64_t *ste,
			   bool abort);
	/* A guest TLBI_NH_*, TLBI_NSNH_ALL, CFGI_CD*, ATC_INV to pass on. */
	void (*invalidate)(void *opaque, const uint64_t cmd[2]);
	/* CMD_SYNC or the end of a batch: flush what invalidate() queued. */
	void (*sync)(void *opaque);
	void *opaque;
};

struct smmuv3_params {
	const struct guest_mem *mem;
	const struct host_ops *host;
	uint32_t idr[6], iidr, aidr; /* smmuv3_model_idr() or from the host */
	/* Wired interrupts: GIC SPI numbers, 0 when absent. */
	unsigned int spi_evtq, spi_gerror;
	/* MSIs: writes to this doorbell become host->signal_msi(devid). */
	uint64_t msi_doorbell;
	uint32_t msi_devid;
};

/* An interrupt source's *_IRQ_CFG0 (address), CFG1 (data), CFG2 (attrs). */
struct smmuv3_msi_cfg {
	uint64_t addr;
	uint32_t data, attr;
};

struct smmuv3_queue {
	uint64_t base; /* Q_BASE register */
	uint32_t prod, cons;
};

struct smmuv3_cfg {
	bool valid;
	uint32_t sid;
	unsigned int kind; /* STE_CFG_ABORT, _BYPASS or _S1 */
	uint16_t asid;
	bool record; /* CD.R: record translation faults */
	bool epd0;   /* CD.EPD0: no TTB0 walks */
	struct smmu_pt_cfg pt;
};

struct smmuv3_tlb_entry {
	bool valid;
	bool readable, writable;
	uint16_t asid;
	uint64_t va, size, pa;
};

struct smmuv3_stats {
	uint64_t commands, cmd_errors, syncs, tlbis, cfgis;
	uint64_t translations, tlb_hits, walks, faults;
	uint64_t events, events_lost, config_errors;
};

struct smmuv3_client;

struct smmuv3 {
	pthread_mutex_t lock;
	const struct guest_mem *mem;
	const struct host_ops *host;
	uint32_t idr[6], iidr, aidr;
	unsigned int spi_evtq, spi_gerror;
	uint64_t msi_doorbell;
	uint32_t msi_devid;

	uint32_t cr0, cr1, cr2, gbpa, irq_ctrl, gerror, gerrorn;
	struct smmuv3_msi_cfg gerror_msi, evtq_msi; /* *_IRQ_CFG0-2 */
	uint64_t strtab_base;
	uint32_t strtab_base_cfg;
	struct smmuv3_queue cmdq, evtq;

	struct smmuv3_cfg cfg_cache[SMMUV3_CFG_CACHE];
	struct smmuv3_tlb_entry tlb[SMMUV3_TLB_SIZE];
	_Atomic uint64_t generation;

	const struct smmuv3_backend *backend;
	struct smmuv3_client **clients;
	unsigned int nr_clients;
	struct smmuv3_stats stats;
	bool logged_cmd_error, logged_cmdq_abort, logged_msi_abort;
	bool logged_cfg_error, logged_evtq_error;
	bool probing; /* translating ahead: post no events */
};

/* The IDRs of the fixed model (no assigned devices): see smmuv3.c. */
void smmuv3_model_idr(uint32_t idr[6], uint32_t *iidr, uint32_t *aidr);

int smmuv3_init(struct smmuv3 *s, const struct smmuv3_params *p);
void smmuv3_destroy(struct smmuv3 *s);

extern const struct mmio_ops smmuv3_mmio_ops;

void smmuv3_set_backend(struct smmuv3 *s, const struct smmuv3_backend *b);

/*
 * A DMA address space for an emulated device whose StreamID is
 * @sid_of(@ctx) at the time of each translation (PCI: the requester ID
 * the guest's bus numbering gives it), or @sid when @sid_of is NULL.
 */
int smmuv3_client_dma(struct smmuv3 *s, uint32_t (*sid_of)(const void *ctx),
		      const void *ctx, uint32_t sid, struct dma_space *out);

/*
 * Host operations for the device behind @as (from smmuv3_client_dma()):
 * @real's, except that MSI addresses are IOVAs translated through the
 * device's stream before they reach KVM. Valid while the SMMU lives.
 */
const struct host_ops *smmuv3_client_host(struct dma_space *as,
					  const struct host_ops *real);

/* Record an event (4 doublewords) on the guest's event queue. */
void smmuv3_post_event(struct smmuv3 *s, const uint64_t ev[4]);

/* 0, or EVT_C_BAD_STE when words 0-1 of an STE are not valid here. */
int smmuv3_check_ste(const struct smmuv3 *s, const uint64_t ste[2]);

/* Events were lost elsewhere (host vEVENTQ): flag an EVTQ overflow. */
void smmuv3_signal_overflow(struct smmuv3 *s);

/* Replace the ID registers (before the guest runs). */
void smmuv3_set_idr(struct smmuv3 *s, const uint32_t idr[6]);

/* One line of counters for the exit log. */
void smmuv3_stats(struct smmuv3 *s, char *buf, size_t len);

#endif
