// SPDX-License-Identifier: GPL-2.0
/*
 * The emulated SMMUv3 driven the way Linux's arm-smmu-v3 driver drives it
 * (registers, 2-level stream table, CMDQ/EVTQ in guest RAM, stage-1 tables
 * written like io-pgtable's), and the way a hostile guest would not:
 * malformed STEs and CDs, illegal commands, queues outside RAM, a full
 * event queue.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "iommu/smmuv3.h"

#define RAM	   0x80000000ull
#define RAM_SIZE   (32ull << 20)
#define L1TAB	   (RAM + 0x10000)
#define L2TAB	   (RAM + 0x20000)
#define CDTAB	   (RAM + 0x30000)
#define CD2	   (RAM + 0x30040)
#define CMDQ	   (RAM + 0x40000)
#define EVTQ	   (RAM + 0x50000)
#define SYNCW	   (RAM + 0x60000)
#define PT_POOL	   (RAM + 0x100000)
#define DATA	   (RAM + 0x1000000)
#define CMDQ_LOG2  8
#define EVTQ_LOG2  3
#define DOORBELL   0x0a020040ull
#define SMMU_DEVID 0xff00

#define PTE_VALID 3ull
#define PTE_AF	  (1ull << 10)
#define PTE_AP1	  (1ull << 6) /* EL0 (device) accessible */
#define PTE_RO	  (1ull << 7)

#include "smmu_guest.h"

static struct host_ops host;
static uint64_t pt_next;
static unsigned int msis, spis;
static uint64_t last_msi_addr;
static uint32_t last_msi_data, last_msi_devid;

static int fake_signal_msi(void *opaque, uint64_t addr, uint32_t data,
			   uint32_t devid)
{
	(void)opaque;
	msis++;
	last_msi_addr = addr;
	last_msi_data = data;
	last_msi_devid = devid;
	return 0;
}

static void fake_set_spi(void *opaque, unsigned int spi, bool level)
{
	(void)opaque;
	(void)spi;
	spis += level;
}

static int fake_route_add(void *opaque, uint64_t addr, uint32_t data,
			  uint32_t devid, int fd)
{
	(void)opaque;
	(void)fd;
	last_msi_addr = addr;
	last_msi_data = data;
	last_msi_devid = devid;
	return 7;
}

static void setup(void)
{
	struct smmuv3_params p = {
		.mem = &mem,
		.host = &host,
		.spi_evtq = 96,
		.spi_gerror = 97,
		.msi_doorbell = DOORBELL,
		.msi_devid = SMMU_DEVID,
	};

	cr_assert_eq(gmem_alloc(&mem, RAM, RAM_SIZE), 0);
	host = (struct host_ops){ .signal_msi = fake_signal_msi,
				  .set_spi = fake_set_spi,
				  .msi_route_add = fake_route_add };
	smmuv3_model_idr(p.idr, &p.iidr, &p.aidr);
	cr_assert_eq(smmuv3_init(&smmu, &p), 0);
	pt_next = PT_POOL;
	cmd_prod = 0;
	msis = spis = 0;
}

static void teardown(void)
{
	smmuv3_destroy(&smmu);
	gmem_free(&mem);
}

TestSuite(smmuv3, .init = setup, .fini = teardown);

/* Event queue and GERROR interrupts as MSIs to the doorbell. */
static void msi_irqs(void)
{
	w64(SMMU_EVENTQ_IRQ_CFG0, DOORBELL);
	w32(SMMU_EVENTQ_IRQ_CFG1, 5);
	w64(SMMU_GERROR_IRQ_CFG0, DOORBELL);
	w32(SMMU_GERROR_IRQ_CFG1, 6);
	w32(SMMU_IRQ_CTRL, IRQ_CTRL_GERROR_IRQEN | IRQ_CTRL_EVTQ_IRQEN);
}

static void enable(void)
{
	smmu_guest_enable(msi_irqs);
}

/* Queue one command and hand it over. */
static void cmd(uint64_t c0, uint64_t c1)
{
	put_cmd(c0, c1);
	w32(SMMU_CMDQ_PROD, cmd_prod);
}

/* The STE and CD Linux writes for a stage-1 DMA domain (4K, 48-bit). */
static void ste_s1(uint32_t sid, uint64_t cd, uint16_t asid, uint64_t ttb)
{
	uint64_t *c = g64(cd);

	memset(c, 0, 64);
	c[0] = 16 | (1ull << 30) /* EPD1 */ | (1ull << 31) /* V */ |
	       (5ull << 32) /* IPS 48 */ | (1ull << 41) /* AA64 */ |
	       (1ull << 45) /* R */ | (uint64_t)asid << 48;
	c[1] = ttb;
	memset(ste(sid), 0, 64);
	ste(sid)[0] = 1 | (STE_CFG_S1 << 1) | cd;
	cmd(CMD_CFGI_STE | (uint64_t)sid << 32, 1);
}

static uint64_t pt_alloc(void)
{
	uint64_t t = pt_next;

	pt_next += 4096;
	memset(gmem_ptr(&mem, t, 4096), 0, 4096);
	return t;
}

static void map4k(uint64_t ttb, uint64_t iova, uint64_t pa, uint64_t prot)
{
	uint64_t table = ttb;

	for (int level = 0; level < 3; level++) {
		uint64_t *d = g64(table + ((iova >> (39 - 9 * level)) & 511) * 8);

		if (!(*d & 1))
			*d = pt_alloc() | PTE_VALID;
		table = *d & 0xfffffffff000ull;
	}
	*g64(table + ((iova >> 12) & 511) * 8) =
		pa | PTE_VALID | PTE_AF | PTE_AP1 | prot;
}

static void *xlate(uint32_t sid, uint64_t iova, uint64_t len,
		   unsigned int access)
{
	struct dma_space as;

	cr_assert_eq(smmuv3_client_dma(&smmu, NULL, NULL, sid, &as), 0);
	return dma_map_contig(&as, iova, len, access);
}

/* The newest record on the event queue. */
static uint64_t *last_event(void)
{
	return event(r32(SMMU_EVENTQ_PROD) - 1);
}

Test(smmuv3, idr_describe_the_fixed_model)
{
	uint32_t idr0 = r32(SMMU_IDR0), idr1 = r32(SMMU_IDR1);

	cr_assert(idr0 & IDR0_S1P);
	cr_assert_not(idr0 & IDR0_S2P);
	cr_assert_eq((idr0 >> 2) & 3, 2, "AArch64 tables");
	cr_assert_eq((idr0 >> 27) & 3, 1, "2-level stream table");
	cr_assert(idr0 & IDR0_MSI);
	cr_assert_eq(IDR1_SIDSIZE(idr1), 17);
	cr_assert_eq(IDR1_SSIDSIZE(idr1), 0);
	cr_assert_gt(IDR1_CMDQS(idr1), 6, "Linux needs more than 64 entries");
	cr_assert_eq(r32(SMMU_IDR5) & 7, 5, "48-bit OAS");
}

Test(smmuv3, translates_through_the_guest_stage1_tables)
{
	uint64_t ttb = pt_alloc();
	uint8_t *p;

	enable();
	map4k(ttb, 0xfffff000, DATA + 0x3000, 0);
	map4k(ttb, 0x100000000ull, DATA + 0x7000, PTE_RO);
	ste_s1(8, CDTAB, 1, ttb);
	p = xlate(8, 0xfffff010, 16, DMA_READ | DMA_WRITE);
	cr_assert_eq(p, (uint8_t *)gmem_ptr(&mem, DATA + 0x3010, 1));
	cr_assert_eq(xlate(8, 0x100000000ull, 4096, DMA_READ),
		     gmem_ptr(&mem, DATA + 0x7000, 1));
	cr_assert_null(xlate(8, 0x100000000ull, 4, DMA_WRITE),
		       "read-only page");
	/* A range over two IOVA pages that are not adjacent in RAM. */
	cr_assert_null(xlate(8, 0xfffff800, 4096, DMA_READ));
	cr_assert_eq(events(), 1);
	cr_assert_eq(event(0)[0] & 0xff, EVT_F_PERMISSION);
	cr_assert_eq(event(0)[0] >> 32, 8);
	cr_assert_eq(event(0)[2], 0x100000000ull);
	cr_assert_not(event(0)[1] & (1ull << 35), "a write (RnW = 0)");
}

Test(smmuv3, split_range_maps_as_two_chunks)
{
	uint64_t ttb = pt_alloc();
	struct dma_space as;
	struct iovec iov[4];

	enable();
	map4k(ttb, 0x10000, DATA + 0x5000, 0);
	map4k(ttb, 0x11000, DATA + 0x2000, 0);
	ste_s1(3, CDTAB, 2, ttb);
	cr_assert_eq(smmuv3_client_dma(&smmu, NULL, NULL, 3, &as), 0);
	cr_assert_eq(dma_map_sg(&as, 0x10800, 4096, DMA_READ, iov, 4), 2);
	cr_assert_eq(iov[0].iov_base, gmem_ptr(&mem, DATA + 0x5800, 1));
	cr_assert_eq(iov[0].iov_len, 2048);
	cr_assert_eq(iov[1].iov_base, gmem_ptr(&mem, DATA + 0x2000, 1));
	cr_assert_eq(iov[1].iov_len, 2048);
}

/* The TLB keeps a translation until the guest invalidates it. */
Test(smmuv3, tlbi_range_drops_a_cached_translation)
{
	uint64_t ttb = pt_alloc();
	uint64_t gen;
	struct dma_space as;

	enable();
	map4k(ttb, 0x200000, DATA, 0);
	ste_s1(1, CDTAB, 5, ttb);
	cr_assert_eq(smmuv3_client_dma(&smmu, NULL, NULL, 1, &as), 0);
	cr_assert_eq(dma_map_contig(&as, 0x200000, 8, DMA_READ),
		     gmem_ptr(&mem, DATA, 1));
	map4k(ttb, 0x200000, DATA + 0x9000, 0); /* no TLBI yet */
	cr_assert_eq(dma_map_contig(&as, 0x200000, 8, DMA_READ),
		     gmem_ptr(&mem, DATA, 1), "still cached");
	gen = dma_generation(&as);
	/* Linux with RIL: TG=4K, NUM=0, SCALE=0, ASID 5, one page. */
	cmd(CMD_TLBI_NH_VA | 5ull << 48, 0x200000 | 1ull << 10 | 1);
	cmd(CMD_SYNC, 0);
	cr_assert_neq(dma_generation(&as), gen);
	cr_assert_eq(dma_map_contig(&as, 0x200000, 8, DMA_READ),
		     gmem_ptr(&mem, DATA + 0x9000, 1));
}

Test(smmuv3, tlbi_of_another_asid_or_page_keeps_the_entry)
{
	uint64_t ttb = pt_alloc();

	enable();
	map4k(ttb, 0x200000, DATA, 0);
	ste_s1(1, CDTAB, 5, ttb);
	cr_assert_eq(xlate(1, 0x200000, 8, DMA_READ), gmem_ptr(&mem, DATA, 1));
	map4k(ttb, 0x200000, DATA + 0x9000, 0);
	cmd(CMD_TLBI_NH_VA | 6ull << 48, 0x200000 | 1ull << 10);
	cmd(CMD_TLBI_NH_VA | 5ull << 48, 0x201000 | 1ull << 10);
	cr_assert_eq(xlate(1, 0x200000, 8, DMA_READ), gmem_ptr(&mem, DATA, 1));
	cmd(CMD_TLBI_NH_ASID | 5ull << 48, 0);
	cr_assert_eq(xlate(1, 0x200000, 8, DMA_READ),
		     gmem_ptr(&mem, DATA + 0x9000, 1));
}

Test(smmuv3, tlbi_range_with_num_and_scale)
{
	uint64_t ttb = pt_alloc();

	enable();
	for (int i = 0; i < 8; i++)
		map4k(ttb, 0x400000 + i * 4096ull, DATA + i * 4096ull, 0);
	ste_s1(1, CDTAB, 5, ttb);
	for (int i = 0; i < 8; i++)
		cr_assert_not_null(xlate(1, 0x400000 + i * 4096ull, 8, DMA_READ));
	for (int i = 0; i < 8; i++)
		map4k(ttb, 0x400000 + i * 4096ull, DATA + 0x100000 + i * 4096ull,
		      0);
	/* (NUM + 1) << SCALE pages: (1 + 1) << 1 = 4 pages from 0x402000 */
	cmd(CMD_TLBI_NH_VA | 5ull << 48 | 1ull << 12 | 1ull << 20,
	    0x402000 | 1ull << 10);
	cr_assert_eq(xlate(1, 0x401000, 8, DMA_READ),
		     gmem_ptr(&mem, DATA + 0x1000, 1), "below the range");
	for (int i = 2; i < 6; i++)
		cr_assert_eq(xlate(1, 0x400000 + i * 4096ull, 8, DMA_READ),
			     gmem_ptr(&mem, DATA + 0x100000 + i * 4096ull, 1));
	cr_assert_eq(xlate(1, 0x406000, 8, DMA_READ),
		     gmem_ptr(&mem, DATA + 0x6000, 1), "above the range");
}

Test(smmuv3, unmapped_iova_is_a_translation_fault_event)
{
	uint64_t ttb = pt_alloc();

	enable();
	ste_s1(4, CDTAB, 1, ttb);
	cr_assert_null(xlate(4, 0x123000, 8, DMA_READ));
	cr_assert_eq(events(), 1);
	cr_assert_eq(event(0)[0] & 0xff, EVT_F_TRANSLATION);
	cr_assert_eq(event(0)[0] >> 32, 4);
	cr_assert_eq(event(0)[2], 0x123000);
	cr_assert(event(0)[1] & (1ull << 35), "a read (RnW = 1)");
	cr_assert_eq(msis, 1, "the event queue interrupt");
	cr_assert_eq(last_msi_addr, DOORBELL);
	cr_assert_eq(last_msi_data, 5);
	cr_assert_eq(last_msi_devid, SMMU_DEVID);
}

Test(smmuv3, cd_without_record_faults_silently)
{
	uint64_t ttb = pt_alloc();

	enable();
	ste_s1(4, CDTAB, 1, ttb);
	*g64(CDTAB) &= ~(1ull << 45);
	cmd(CMD_CFGI_CD | 4ull << 32, 0);
	cr_assert_null(xlate(4, 0x123000, 8, DMA_READ));
	cr_assert_eq(events(), 0);
	cr_assert_eq(smmu.stats.faults, 1);
}

Test(smmuv3, bypass_and_abort_stes)
{
	enable();
	ste(2)[0] = 1 | (STE_CFG_BYPASS << 1);
	ste(3)[0] = 1 | (STE_CFG_ABORT << 1);
	cr_assert_eq(xlate(2, DATA, 64, DMA_WRITE), gmem_ptr(&mem, DATA, 1));
	cr_assert_null(xlate(3, DATA, 64, DMA_WRITE));
	cr_assert_eq(events(), 0, "abort is silent");
}

Test(smmuv3, disabled_smmu_follows_gbpa)
{
	cr_assert_eq(xlate(9, DATA, 8, DMA_READ), gmem_ptr(&mem, DATA, 1));
	w32(SMMU_GBPA, GBPA_ABORT); /* no UPDATE: ignored */
	cr_assert_eq(r32(SMMU_GBPA), 0);
	w32(SMMU_GBPA, GBPA_ABORT | GBPA_UPDATE);
	cr_assert_eq(r32(SMMU_GBPA), GBPA_ABORT, "UPDATE reads back as 0");
	cr_assert_null(xlate(9, DATA, 8, DMA_READ));
}

/* Every malformed configuration is its event, and the stream aborts. */
static void expect_config_event(uint32_t sid, unsigned int type)
{
	unsigned int n = events();

	cr_assert_null(xlate(sid, 0x1000, 8, DMA_READ));
	cr_assert_eq(events(), n + 1, "event 0x%x", type);
	cr_assert_eq(last_event()[0] & 0xff, type);
	cr_assert_eq(last_event()[0] >> 32, sid);
	w32(SMMU_EVENTQ_CONS, r32(SMMU_EVENTQ_PROD));
}

Test(smmuv3, malformed_stes)
{
	uint64_t ttb = pt_alloc();

	enable();
	memset(ste(1), 0, 64); /* V = 0 */
	expect_config_event(1, EVT_C_BAD_STE);
	ste(1)[0] = 1 | (1 << 1); /* reserved Config */
	cmd(CMD_CFGI_STE | 1ull << 32, 0);
	expect_config_event(1, EVT_C_BAD_STE);
	ste(1)[0] = 1 | (6 << 1); /* stage 2: no S2P */
	cmd(CMD_CFGI_STE | 1ull << 32, 0);
	expect_config_event(1, EVT_C_BAD_STE);
	ste_s1(1, CDTAB, 1, ttb);
	ste(1)[0] |= 1ull << 59; /* S1CDMax 1 without substreams */
	cmd(CMD_CFGI_STE | 1ull << 32, 0);
	expect_config_event(1, EVT_C_BAD_STE);
	ste(1)[0] &= ~(0x1full << 59);
	ste(1)[1] = 2ull << 30; /* STRW EL2 without HYP */
	cmd(CMD_CFGI_STE | 1ull << 32, 0);
	expect_config_event(1, EVT_C_BAD_STE);
	ste(1)[1] = 0;
	ste(1)[0] = 1 | (STE_CFG_S1 << 1) | (RAM + RAM_SIZE); /* CD past RAM */
	cmd(CMD_CFGI_STE | 1ull << 32, 0);
	expect_config_event(1, EVT_F_CD_FETCH);
}

Test(smmuv3, malformed_cds)
{
	static const struct {
		uint64_t clear, set;
	} bad[] = {
		{ 1ull << 31, 0 },		/* V = 0 */
		{ 1ull << 41, 0 },		/* AArch32 tables */
		{ 0, 1ull << 15 },		/* big-endian */
		{ 0, 1ull << 44 },		/* stall */
		{ 0, 3ull << 6 },		/* TG0 reserved */
		{ 0x3f, 0 },			/* T0SZ 0: 64-bit IAS */
		{ 0x3f, 40 },			/* T0SZ 40: too small */
	};
	uint64_t ttb = pt_alloc();

	enable();
	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ste_s1(1, CDTAB, 1, ttb);
		*g64(CDTAB) = (*g64(CDTAB) & ~bad[i].clear) | bad[i].set;
		cmd(CMD_CFGI_CD | 1ull << 32, 0);
		expect_config_event(1, EVT_C_BAD_CD);
	}
	ste_s1(1, CDTAB, 1, 1ull << 50); /* TTB0 beyond the IPS */
	expect_config_event(1, EVT_C_BAD_CD);
}

Test(smmuv3, stream_table_faults)
{
	enable();
	expect_config_event(300, EVT_C_BAD_STREAMID); /* L1 span 0 */
	*g64(L1TAB + 8) = L2TAB | 2; /* span 2: 2 STEs */
	cr_assert_null(xlate(258, 0x1000, 8, DMA_READ));
	cr_assert_eq(last_event()[0] & 0xff, EVT_C_BAD_STREAMID);
	*g64(L1TAB + 16) = (RAM + RAM_SIZE) | 9; /* L2 outside RAM */
	cr_assert_null(xlate(512, 0x1000, 8, DMA_READ));
	cr_assert_eq(last_event()[0] & 0xff, EVT_F_STE_FETCH);
	cr_assert_eq(last_event()[3], RAM + RAM_SIZE);
	cr_assert_null(xlate(1u << 17, 0x1000, 8, DMA_READ));
	cr_assert_eq(last_event()[0] & 0xff, EVT_C_BAD_STREAMID);
}

Test(smmuv3, linear_stream_table)
{
	w64(SMMU_STRTAB_BASE, L2TAB);
	w32(SMMU_STRTAB_BASE_CFG, 4); /* 16 STEs */
	w64(SMMU_EVENTQ_BASE, EVTQ | EVTQ_LOG2);
	w32(SMMU_CR0, CR0_EVTQEN | CR0_SMMUEN);
	ste(5)[0] = 1 | (STE_CFG_BYPASS << 1);
	cr_assert_eq(xlate(5, DATA, 8, DMA_READ), gmem_ptr(&mem, DATA, 1));
	cr_assert_null(xlate(16, DATA, 8, DMA_READ));
	cr_assert_eq(event(0)[0] & 0xff, EVT_C_BAD_STREAMID);
}

Test(smmuv3, cfgi_is_needed_to_see_a_new_ste)
{
	enable();
	ste(2)[0] = 1 | (STE_CFG_BYPASS << 1);
	cr_assert_not_null(xlate(2, DATA, 8, DMA_READ));
	ste(2)[0] = 1 | (STE_CFG_ABORT << 1);
	cr_assert_not_null(xlate(2, DATA, 8, DMA_READ), "cached");
	cmd(CMD_CFGI_STE_RANGE, 31); /* CFGI_ALL */
	cr_assert_null(xlate(2, DATA, 8, DMA_READ));
}

Test(smmuv3, illegal_command_stops_the_queue_until_acknowledged)
{
	uint32_t gerror;

	enable();
	ste(2)[0] = 1 | (STE_CFG_BYPASS << 1);
	cmd(CMD_SYNC, 0);
	cmd(0x7f, 0); /* unknown opcode */
	cmd(CMD_CFGI_STE | 2ull << 32, 0);
	cr_assert_eq(r32(SMMU_CMDQ_CONS) & 0xffffff, 1, "stopped at it");
	cr_assert_eq((r32(SMMU_CMDQ_CONS) >> 24) & 0x7f, CMDQ_CERROR_ILL);
	gerror = r32(SMMU_GERROR);
	cr_assert_eq((gerror ^ r32(SMMU_GERRORN)) & GERROR_CMDQ_ERR,
		     GERROR_CMDQ_ERR);
	cr_assert_eq(last_msi_data, 6, "the GERROR interrupt");
	/* Linux's skip_err: replace it with a CMD_SYNC, then acknowledge. */
	*g64(CMDQ + 16) = CMD_SYNC;
	w32(SMMU_GERRORN, gerror);
	cr_assert_eq(r32(SMMU_CMDQ_CONS) & 0xffffff, 3, "resumed");
	cr_assert_eq(smmu.stats.cmd_errors, 1);
}

Test(smmuv3, commands_the_model_lacks_are_illegal)
{
	static const unsigned int ops[] = { CMD_TLBI_EL2_ALL, CMD_TLBI_S2_IPA,
					    CMD_TLBI_S12_VMALL, CMD_ATC_INV,
					    CMD_PRI_RESP, CMD_RESUME,
					    CMD_STALL_TERM };
	enable();
	for (unsigned int i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		uint32_t gerror;

		cmd(ops[i], 0);
		cr_assert_eq((r32(SMMU_CMDQ_CONS) >> 24) & 0x7f,
			     CMDQ_CERROR_ILL, "op 0x%x", ops[i]);
		gerror = r32(SMMU_GERROR);
		*g64(CMDQ + i * 16) = CMD_SYNC;
		w32(SMMU_GERRORN, gerror);
		cr_assert_eq(r32(SMMU_CMDQ_CONS) & 0xffffff, i + 1);
	}
}

Test(smmuv3, command_queue_outside_ram_aborts)
{
	w64(SMMU_CMDQ_BASE, (RAM + RAM_SIZE) | 4);
	w32(SMMU_CR0, CR0_CMDQEN);
	w32(SMMU_CMDQ_PROD, 1);
	cr_assert_eq((r32(SMMU_CMDQ_CONS) >> 24) & 0x7f, CMDQ_CERROR_ABT);
	cr_assert(r32(SMMU_GERROR) & GERROR_CMDQ_ERR);
}

/* Interrupt MSIs the guest aims outside RAM and the ITS abort, recorded. */
Test(smmuv3, irq_msi_outside_ram_is_an_msi_abort)
{
	w64(SMMU_GERROR_IRQ_CFG0, RAM + RAM_SIZE);
	w32(SMMU_GERROR_IRQ_CFG1, 9);
	w32(SMMU_GERROR_IRQ_CFG2, 0xffffffff);
	cr_assert_eq(smmuv3_mmio_ops.read(&smmu, SMMU_GERROR_IRQ_CFG0, 8),
		     RAM + RAM_SIZE);
	cr_assert_eq(r32(SMMU_GERROR_IRQ_CFG1), 9);
	cr_assert_eq(r32(SMMU_GERROR_IRQ_CFG2), 0x3f, "only SH and MemAttr");
	w32(SMMU_IRQ_CTRL, IRQ_CTRL_GERROR_IRQEN);
	w64(SMMU_CMDQ_BASE, (RAM + RAM_SIZE) | 4);
	w32(SMMU_CR0, CR0_CMDQEN);
	w32(SMMU_CMDQ_PROD, 1);
	cr_assert(r32(SMMU_GERROR) & GERROR_CMDQ_ERR);
	cr_assert(r32(SMMU_GERROR) & GERROR_MSI_GERROR_ABT_ERR);
	cr_assert_eq(msis + spis, 0, "no interrupt went anywhere");
}

Test(smmuv3, cmd_sync_msi_writes_guest_memory)
{
	enable();
	*g64(SYNCW) = 0xffffffffffffffffull;
	/* Linux MSIPOLL: CS=IRQ, MSIDATA 0, MSIADDR the entry itself */
	cmd(CMD_SYNC | 1ull << 12, SYNCW);
	cr_assert_eq(*g64(SYNCW), 0xffffffff00000000ull);
	cmd(CMD_SYNC | 1ull << 12 | 0x1234ull << 32, RAM + RAM_SIZE);
	cr_assert(r32(SMMU_GERROR) & GERROR_MSI_CMDQ_ABT_ERR);
}

Test(smmuv3, full_event_queue_sets_overflow)
{
	uint64_t ttb = pt_alloc();

	enable();
	ste_s1(4, CDTAB, 1, ttb);
	for (int i = 0; i < 10; i++)
		cr_assert_null(xlate(4, 0x1000 * i, 8, DMA_READ));
	cr_assert_eq(smmu.stats.events, 8);
	cr_assert_eq(smmu.stats.events_lost, 2);
	cr_assert(r32(SMMU_EVENTQ_PROD) & SMMU_Q_OVF);
	/* The guest drains and acknowledges the overflow. */
	w32(SMMU_EVENTQ_CONS, r32(SMMU_EVENTQ_PROD));
	cr_assert_null(xlate(4, 0x20000, 8, DMA_READ));
	cr_assert_eq(smmu.stats.events, 9);
}

Test(smmuv3, event_queue_outside_ram_is_gerror)
{
	uint64_t ttb = pt_alloc();

	enable();
	w32(SMMU_CR0, CR0_CMDQEN | CR0_SMMUEN);
	w64(SMMU_EVENTQ_BASE, (RAM + RAM_SIZE) | 3);
	w32(SMMU_CR0, CR0_CMDQEN | CR0_SMMUEN | CR0_EVTQEN);
	ste_s1(4, CDTAB, 1, ttb);
	cr_assert_null(xlate(4, 0x1000, 8, DMA_READ));
	cr_assert(r32(SMMU_GERROR) & GERROR_EVTQ_ABT_ERR);
	cr_assert_eq(smmu.stats.events_lost, 1);
}

Test(smmuv3, wired_interrupts_without_msi_address)
{
	uint64_t ttb = pt_alloc();

	enable();
	w64(SMMU_EVENTQ_IRQ_CFG0, 0);
	ste_s1(4, CDTAB, 1, ttb);
	cr_assert_null(xlate(4, 0x1000, 8, DMA_READ));
	cr_assert_eq(spis, 1);
	cr_assert_eq(msis, 0);
}

Test(smmuv3, registers_64bit_in_halves_and_locked_when_enabled)
{
	w32(SMMU_STRTAB_BASE, 0x12345640);
	w32(SMMU_STRTAB_BASE + 4, 0x1);
	cr_assert_eq(smmuv3_mmio_ops.read(&smmu, SMMU_STRTAB_BASE, 8),
		     0x112345640ull);
	w32(SMMU_CR0, CR0_SMMUEN);
	w64(SMMU_STRTAB_BASE, 0);
	cr_assert_eq(smmuv3_mmio_ops.read(&smmu, SMMU_STRTAB_BASE, 8),
		     0x112345640ull, "ignored while SMMUEN");
	cr_assert_eq(smmuv3_mmio_ops.read(&smmu, SMMU_CR0, 2), 0,
		     "16-bit access: RAZ");
	smmuv3_mmio_ops.write(&smmu, SMMU_CR0 + 1, 0, 4); /* misaligned */
	cr_assert_eq(r32(SMMU_CR0), CR0_SMMUEN);
}

Test(smmuv3, device_msi_address_is_translated)
{
	uint64_t ttb = pt_alloc();
	struct dma_space as;
	const struct host_ops *h;

	enable();
	map4k(ttb, 0x8000000, DOORBELL & ~0xfffull, 0);
	ste_s1(8, CDTAB, 1, ttb);
	cr_assert_eq(smmuv3_client_dma(&smmu, NULL, NULL, 8, &as), 0);
	h = smmuv3_client_host(&as, &host);
	cr_assert_eq(h->msi_route_add(h->opaque, 0x8000040, 33, 8, -1), 7);
	cr_assert_eq(last_msi_addr, DOORBELL);
	cr_assert_eq(h->msi_route_add(h->opaque, 0x9000040, 33, 8, -1),
		     -EFAULT);
	cr_assert_eq(h->signal_msi(h->opaque, 0x8000040, 34, 8), 0);
	cr_assert_eq(last_msi_addr, DOORBELL);
	cr_assert_eq(last_msi_data, 34);
}

/* Pages adjacent in IOVA and in RAM are one chunk; a hole stops it. */
Test(smmuv3, contiguous_pages_are_one_chunk)
{
	uint64_t ttb = pt_alloc();
	struct dma_space as;
	struct iovec iov[4];

	enable();
	for (int i = 0; i < 300; i++)
		map4k(ttb, 0x800000 + i * 4096ull, DATA + i * 4096ull, 0);
	ste_s1(3, CDTAB, 2, ttb);
	cr_assert_eq(smmuv3_client_dma(&smmu, NULL, NULL, 3, &as), 0);
	cr_assert_eq(dma_map_sg(&as, 0x800100, 299 * 4096, DMA_READ, iov, 4),
		     1, "300 pages, one iovec");
	cr_assert_eq(iov[0].iov_len, 299 * 4096);
	cr_assert_eq(dma_map_sg(&as, 0x800000 + 299 * 4096ull, 2 * 4096,
				DMA_READ, iov, 4),
		     -EFAULT, "the page after the last is unmapped");
	cr_assert_eq(events(), 1, "reported once, by the real access");
	cr_assert_eq(event(0)[2], 0x800000 + 300 * 4096ull);
}
