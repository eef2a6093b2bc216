// SPDX-License-Identifier: GPL-2.0
// GICv3 + ITS setup for the benchmark. Register offsets and fields are
// from the Arm GICv3/v4 architecture specification (IHI 0069), chapter 12
// (register descriptions) and 5.3 (ITS commands).

#include "gic.h"
#include "platform.h"

/* Distributor (12.9) */
#define GICD_CTLR	     0x0000
#define GICD_CTLR_RWP	     BIT(31)
#define GICD_CTLR_ARE	     BIT(4) /* ARE_NS with one security state */
#define GICD_CTLR_ENABLE_G1  BIT(1)
#define GICD_TYPER	     0x0004
#define GICD_TYPER_LPIS	     BIT(17)
#define GICD_TYPER_IDBITS(t) ((((t) >> 19) & 0x1f) + 1)

/* Redistributor, RD_base frame (12.10) */
#define GICR_CTLR	      0x0000
#define GICR_CTLR_ENABLE_LPIS BIT(0)
#define GICR_CTLR_RWP	      BIT(3)
#define GICR_TYPER	      0x0008
#define GICR_TYPER_PLPIS      BIT(0)
#define GICR_TYPER_LAST	      BIT(4)
#define GICR_TYPER_PROCNUM(t) (((t) >> 8) & 0xffff)
#define GICR_WAKER	      0x0014
#define GICR_WAKER_SLEEP      BIT(1)
#define GICR_WAKER_CHILDREN   BIT(2)
#define GICR_PROPBASER	      0x0070
#define GICR_PENDBASER	      0x0078
#define GICR_PENDBASER_PTZ    BIT(62)
/* *BASER attributes: inner shareable, inner write-back RaWa */
#define GICR_BASER_ATTRS      ((1UL << 10) | (7UL << 7))
#define GICR_BASER_SHARE_MASK (3UL << 10)

/* Redistributor, SGI_base frame */
#define GICR_SGI_OFFSET	 0x10000
#define GICR_IGROUPR0	 0x0080
#define GICR_ISENABLER0	 0x0100
#define GICR_ICENABLER0	 0x0180
#define GICR_ICPENDR0	 0x0280
#define GICR_IPRIORITYR0 0x0400
#define GICR_IGRPMODR0	 0x0d00

/* ITS control frame (12.19) */
#define GITS_CTLR		   0x0000
#define GITS_CTLR_ENABLED	   BIT(0)
#define GITS_CTLR_QUIESCENT	   BIT(31)
#define GITS_TYPER		   0x0008
#define GITS_TYPER_PHYSICAL	   BIT(0)
#define GITS_TYPER_ITT_ESZ(t)	   ((((t) >> 4) & 0xf) + 1)
#define GITS_TYPER_IDBITS(t)	   ((((t) >> 8) & 0x1f) + 1)
#define GITS_TYPER_DEVBITS(t)	   ((((t) >> 13) & 0x1f) + 1)
#define GITS_TYPER_PTA		   BIT(19)
#define GITS_CBASER		   0x0080
#define GITS_CWRITER		   0x0088
#define GITS_CREADR		   0x0090
#define GITS_CREADR_STALLED	   BIT(0)
#define GITS_BASER(n)		   (0x0100 + 8 * (n))
#define GITS_BASER_NR		   8
#define GITS_BASER_VALID	   BIT(63)
#define GITS_BASER_TYPE(b)	   (((b) >> 56) & 7)
#define GITS_BASER_TYPE_DEVICE	   1
#define GITS_BASER_TYPE_COLLECTION 4
#define GITS_BASER_ESZ(b)	   ((((b) >> 48) & 0x1f) + 1)
#define GITS_BASER_PSZ_SHIFT	   8
#define GITS_BASER_PSZ(b)	   (((b) >> GITS_BASER_PSZ_SHIFT) & 3)
/* inner WB RaWa (bits 61:59), inner shareable (11:10) */
#define GITS_BASER_ATTRS       ((7UL << 59) | (1UL << 10))
#define GITS_BASER_SHARE_MASK  (3UL << 10)
#define GITS_TRANSLATER_OFFSET 0x10040 /* in the second 64 KiB frame */

/* ITS commands (5.3), 32 bytes each; the opcode is DW0[7:0]. */
#define ITS_CMD_MOVI  0x01
#define ITS_CMD_INT   0x03
#define ITS_CMD_SYNC  0x05
#define ITS_CMD_MAPD  0x08
#define ITS_CMD_MAPC  0x09
#define ITS_CMD_MAPTI 0x0a
#define ITS_CMD_INV   0x0c
#define ITS_CMD_VALID BIT(63) /* DW2 of MAPD and MAPC */

/* LPI configuration table entry (5.1.1): priority[7:2], RES1 [1], enable */
#define LPI_PROP_PRIORITY 0xa0
#define LPI_PROP_RES1	  BIT(1)
#define LPI_PROP_ENABLE	  BIT(0)

#define IRQ_PRIORITY  0xa0
#define PMR_ALLOW_ALL 0xf0

/* 14 INTID bits: LPIs 8192-16383; plenty for two vectors. */
#define LPI_ID_BITS    14
#define LPI_PROP_SIZE  ((1UL << LPI_ID_BITS) - LPI_BASE)
#define LPI_PEND_SIZE  ((1UL << LPI_ID_BITS) / 8)
#define ITS_TABLE_SIZE 0x10000UL /* per BASER: one 64 KiB page */
#define ITS_CMDQ_SIZE  0x1000UL
#define ITS_CMD_SIZE   32
#define ITT_SIZE       0x1000UL

/* Register waits are bounded by this many counter ticks (100 ms). */
#define WAIT_DIVISOR 10

struct gic_rdist gic_rdists[GIC_MAX_CPUS];
unsigned int gic_nr_rdists;
const char *gic_error;

static u8 lpi_prop[LPI_PROP_SIZE] __attribute__((aligned(4096)));
/* PENDBASER needs 64 KiB alignment for each pending table. */
static u8 lpi_pend[GIC_MAX_CPUS][0x10000] __attribute__((aligned(0x10000)));
static u8 its_device_table[ITS_TABLE_SIZE] __attribute__((aligned(0x10000)));
static u8 its_coll_table[ITS_TABLE_SIZE] __attribute__((aligned(0x10000)));
static u64 its_cmdq[ITS_CMDQ_SIZE / 8] __attribute__((aligned(0x10000)));
/* One ITT per mapped device (testdev, edu, ...). */
#define ITS_MAX_DEVICES 4
static u8 its_itt[ITS_MAX_DEVICES][ITT_SIZE] __attribute__((aligned(4096)));
static unsigned int its_nr_devices;

static struct {
	u64 typer;
	u64 cwriter;
	int noncoherent; /* the ITS or a redistributor reads memory uncached */
	unsigned int nr_colls;
} its;

static int fail(const char *what)
{
	gic_error = what;
	return -1;
}

/* Wait until (read32(addr) & mask) == want, at most 100 ms. */
static int wait_reg32(uintptr_t addr, u32 mask, u32 want)
{
	u64 start = counter_now(), limit = counter_freq() / WAIT_DIVISOR;

	while ((mmio_read32(addr) & mask) != want) {
		if (counter_now() - start > limit)
			return -1;
		cpu_relax();
	}
	return 0;
}

int gic_dist_init(void)
{
	u32 typer = mmio_read32(GICD_BASE + GICD_TYPER);

	writel(GICD_BASE + GICD_CTLR, 0);
	if (wait_reg32(GICD_BASE + GICD_CTLR, GICD_CTLR_RWP, 0))
		return fail("gicd-rwp-timeout");
	writel(GICD_BASE + GICD_CTLR, GICD_CTLR_ARE | GICD_CTLR_ENABLE_G1);
	if (wait_reg32(GICD_BASE + GICD_CTLR, GICD_CTLR_RWP, 0))
		return fail("gicd-rwp-timeout");
	if (!(mmio_read32(GICD_BASE + GICD_CTLR) & GICD_CTLR_ARE))
		return fail("gicd-are-not-set");
	(void)typer;
	return 0;
}

static u64 affinity_to_mpidr(u32 aff)
{
	return (aff & 0xffffffUL) | ((u64)(aff >> 24) << 32);
}

static u64 mpidr_affinity(u64 mpidr)
{
	return mpidr & 0xff00ffffffUL;
}

int gic_find_rdists(void)
{
	gic_nr_rdists = 0;
	for (uintptr_t off = 0; off < GICR_SIZE; off += GICR_STRIDE) {
		u64 typer = mmio_read64(GICR_BASE + off + GICR_TYPER);

		if (gic_nr_rdists < GIC_MAX_CPUS) {
			struct gic_rdist *rd = &gic_rdists[gic_nr_rdists];

			rd->base = GICR_BASE + off;
			rd->mpidr = affinity_to_mpidr(typer >> 32);
			rd->procnum = GICR_TYPER_PROCNUM(typer);
		}
		gic_nr_rdists++;
		if (typer & GICR_TYPER_LAST)
			return 0;
	}
	return fail("gicr-no-last-frame");
}

static struct gic_rdist *rdist_of_self(void)
{
	u64 me = mpidr_affinity(read_sysreg(mpidr_el1));

	for (unsigned int i = 0; i < gic_nr_rdists && i < GIC_MAX_CPUS; i++)
		if (gic_rdists[i].mpidr == me)
			return &gic_rdists[i];
	return 0;
}

int gic_cpu_init(unsigned int cpu, u32 enable_mask)
{
	struct gic_rdist *rd = rdist_of_self();
	uintptr_t sgi;

	(void)cpu;
	if (!rd)
		return fail("gicr-not-found-for-mpidr");
	sgi = rd->base + GICR_SGI_OFFSET;

	/* 12.11.44 GICR_WAKER: clear ProcessorSleep, wait ChildrenAsleep 0 */
	writel(rd->base + GICR_WAKER,
	       mmio_read32(rd->base + GICR_WAKER) & ~GICR_WAKER_SLEEP);
	if (wait_reg32(rd->base + GICR_WAKER, GICR_WAKER_CHILDREN, 0))
		return fail("gicr-waker-timeout");

	/* SGIs and PPIs: non-secure group 1, one priority, only ours on */
	writel(sgi + GICR_ICENABLER0, 0xffffffff);
	writel(sgi + GICR_ICPENDR0, 0xffffffff);
	writel(sgi + GICR_IGROUPR0, 0xffffffff);
	writel(sgi + GICR_IGRPMODR0, 0);
	for (unsigned int i = 0; i < 32; i += 4)
		writel(sgi + GICR_IPRIORITYR0 + i, IRQ_PRIORITY * 0x01010101U);
	writel(sgi + GICR_ISENABLER0, enable_mask);
	if (wait_reg32(rd->base + GICR_CTLR, GICR_CTLR_RWP, 0))
		return fail("gicr-rwp-timeout");

	/* CPU interface through system registers (12.2) */
	write_sysreg(read_sysreg(ICC_SRE_EL1) | 1, ICC_SRE_EL1);
	isb();
	if (!(read_sysreg(ICC_SRE_EL1) & 1))
		return fail("icc-sre-not-set");
	write_sysreg(PMR_ALLOW_ALL, ICC_PMR_EL1);
	write_sysreg(0, ICC_BPR1_EL1);
	write_sysreg(0, ICC_CTLR_EL1); /* EOImode 0: EOIR also deactivates */
	write_sysreg(1, ICC_IGRPEN1_EL1);
	isb();
	return 0;
}

/* 12.2.21 ICC_SGI1R_EL1: one target by affinity, TargetList + RS. */
void gic_send_sgi(u64 mpidr, unsigned int intid)
{
	u64 aff0 = mpidr & 0xff;
	u64 v = ((mpidr >> 8) & 0xff) << 16 |  /* Aff1 */
		((mpidr >> 16) & 0xff) << 32 | /* Aff2 */
		((mpidr >> 32) & 0xff) << 48 | /* Aff3 */
		(aff0 >> 4) << 44 |	       /* RS */
		(u64)(intid & 0xf) << 24 | BIT(aff0 & 0xf);

	dsb(ishst);
	write_sysreg(v, ICC_SGI1R_EL1);
	isb();
}

int gic_lpi_init(unsigned int nr_cpus)
{
	u32 dtyper = mmio_read32(GICD_BASE + GICD_TYPER);

	if (!(dtyper & GICD_TYPER_LPIS))
		return fail("gicd-no-lpis");
	if (GICD_TYPER_IDBITS(dtyper) < LPI_ID_BITS)
		return fail("gicd-idbits-too-small");

	for (unsigned int i = 0; i < nr_cpus && i < GIC_MAX_CPUS; i++) {
		uintptr_t rd = gic_rdists[i].base;
		u64 prop = (uintptr_t)lpi_prop | GICR_BASER_ATTRS |
			   (LPI_ID_BITS - 1);
		u64 pend = (uintptr_t)lpi_pend[i] | GICR_BASER_ATTRS |
			   GICR_PENDBASER_PTZ;

		if (!(mmio_read64(rd + GICR_TYPER) & GICR_TYPER_PLPIS))
			return fail("gicr-no-plpis");
		if (mmio_read32(rd + GICR_CTLR) & GICR_CTLR_ENABLE_LPIS)
			return fail("gicr-lpis-already-enabled");
		writeq(rd + GICR_PROPBASER, prop);
		if (!(mmio_read64(rd + GICR_PROPBASER) & GICR_BASER_SHARE_MASK))
			its.noncoherent = 1;
		writeq(rd + GICR_PENDBASER, pend);
		if (!(mmio_read64(rd + GICR_PENDBASER) & GICR_BASER_SHARE_MASK))
			its.noncoherent = 1;
	}
	/* .bss is zero: every LPI disabled, nothing pending */
	if (its.noncoherent) {
		dcache_clean_range(lpi_prop, sizeof(lpi_prop));
		dcache_clean_range(lpi_pend, sizeof(lpi_pend));
	}
	for (unsigned int i = 0; i < nr_cpus && i < GIC_MAX_CPUS; i++) {
		uintptr_t rd = gic_rdists[i].base;

		writel(rd + GICR_CTLR,
		       mmio_read32(rd + GICR_CTLR) | GICR_CTLR_ENABLE_LPIS);
		if (!(mmio_read32(rd + GICR_CTLR) & GICR_CTLR_ENABLE_LPIS))
			return fail("gicr-enable-lpis-not-set");
	}
	return 0;
}

static u64 its_read64(unsigned int off)
{
	return mmio_read64(GITS_BASE + off);
}

/* A BASER table: the page size the ITS accepts, 64 KiB in all. */
static int its_setup_baser(unsigned int n, void *table)
{
	static const u8 psz_field[] = { 2, 1, 0 }; /* 64K, 16K, 4K */
	static const u32 psz_bytes[] = { 0x10000, 0x4000, 0x1000 };
	u64 baser = its_read64(GITS_BASER(n));
	u64 type = GITS_BASER_TYPE(baser), esz = GITS_BASER_ESZ(baser);

	for (unsigned int i = 0; i < sizeof(psz_field); i++) {
		u64 pages = ITS_TABLE_SIZE / psz_bytes[i];
		u64 v = GITS_BASER_VALID | type << 56 | (esz - 1) << 48 |
			GITS_BASER_ATTRS |
			(u64)psz_field[i] << GITS_BASER_PSZ_SHIFT |
			(uintptr_t)table | (pages - 1);

		writeq(GITS_BASE + GITS_BASER(n), v);
		baser = its_read64(GITS_BASER(n));
		if (GITS_BASER_PSZ(baser) == psz_field[i] &&
		    (baser & GITS_BASER_VALID)) {
			if (!(baser & GITS_BASER_SHARE_MASK))
				its.noncoherent = 1;
			return 0;
		}
	}
	return fail("its-baser-page-size-refused");
}

/* The RDbase field of MAPC/SYNC: address or processor number (PTA). */
static u64 its_rdbase(unsigned int cpu)
{
	if (its.typer & GITS_TYPER_PTA)
		return gic_rdists[cpu].base; /* 64 KiB aligned: bits 51:16 */
	return (u64)gic_rdists[cpu].procnum << 16;
}

static int its_wait_idle(void)
{
	u64 start = counter_now(), limit = counter_freq() / WAIT_DIVISOR;

	for (;;) {
		u64 creadr = its_read64(GITS_CREADR);

		if (creadr & GITS_CREADR_STALLED)
			return fail("its-command-stalled");
		if ((creadr & ~0x1fUL) == its.cwriter)
			return 0;
		if (counter_now() - start > limit)
			return fail("its-command-timeout");
		cpu_relax();
	}
}

static int its_cmd(u64 dw0, u64 dw1, u64 dw2, u64 dw3)
{
	u64 next = (its.cwriter + ITS_CMD_SIZE) % ITS_CMDQ_SIZE;
	u64 *slot = &its_cmdq[its.cwriter / 8];

	/* Full queue: wait for the ITS to consume everything. */
	if (next == (its_read64(GITS_CREADR) & ~0x1fUL) && its_wait_idle())
		return -1;
	slot[0] = dw0;
	slot[1] = dw1;
	slot[2] = dw2;
	slot[3] = dw3;
	if (its.noncoherent)
		dcache_clean_range(slot, ITS_CMD_SIZE);
	its.cwriter = next;
	writeq(GITS_BASE + GITS_CWRITER, next);
	return 0;
}

/* MAPC ICID, RDbase, V (5.3.12) */
static int its_mapc(unsigned int icid, unsigned int cpu)
{
	return its_cmd(ITS_CMD_MAPC, 0, ITS_CMD_VALID | its_rdbase(cpu) | icid,
		       0);
}

/* SYNC RDbase (5.3.20) */
static int its_sync(unsigned int cpu)
{
	if (its_cmd(ITS_CMD_SYNC, 0, its_rdbase(cpu), 0))
		return -1;
	return its_wait_idle();
}

int its_init(unsigned int nr_cpus)
{
	its.typer = its_read64(GITS_TYPER);
	its.cwriter = 0;
	if (!(its.typer & GITS_TYPER_PHYSICAL))
		return fail("its-no-physical-lpis");
	if (GITS_TYPER_IDBITS(its.typer) < LPI_ID_BITS)
		return fail("its-idbits-too-small");

	if (mmio_read32(GITS_BASE + GITS_CTLR) & GITS_CTLR_ENABLED) {
		writel(GITS_BASE + GITS_CTLR, 0);
		if (wait_reg32(GITS_BASE + GITS_CTLR, GITS_CTLR_QUIESCENT,
			       GITS_CTLR_QUIESCENT))
			return fail("its-quiescent-timeout");
	}

	/* 12.19.1 GITS_BASER<n>: the ITS says which tables it wants. */
	for (unsigned int n = 0; n < GITS_BASER_NR; n++) {
		u64 type = GITS_BASER_TYPE(its_read64(GITS_BASER(n)));

		if (type == GITS_BASER_TYPE_DEVICE) {
			if (its_setup_baser(n, its_device_table))
				return -1;
		} else if (type == GITS_BASER_TYPE_COLLECTION) {
			if (its_setup_baser(n, its_coll_table))
				return -1;
		}
	}
	if (its.noncoherent) {
		dcache_clean_range(its_device_table, sizeof(its_device_table));
		dcache_clean_range(its_coll_table, sizeof(its_coll_table));
		dcache_clean_range(its_cmdq, sizeof(its_cmdq));
	}

	/* 12.19.2 GITS_CBASER: Size is 4 KiB pages - 1 */
	writeq(GITS_BASE + GITS_CBASER, GITS_BASER_VALID | GITS_BASER_ATTRS |
						(uintptr_t)its_cmdq |
						(ITS_CMDQ_SIZE / 0x1000 - 1));
	if (!(its_read64(GITS_CBASER) & GITS_BASER_SHARE_MASK)) {
		its.noncoherent = 1;
		dcache_clean_range(its_cmdq, sizeof(its_cmdq));
	}
	writeq(GITS_BASE + GITS_CWRITER, 0);
	writel(GITS_BASE + GITS_CTLR, GITS_CTLR_ENABLED);
	if (!(mmio_read32(GITS_BASE + GITS_CTLR) & GITS_CTLR_ENABLED))
		return fail("its-enable-not-set");

	/* One collection per CPU: ICID n targets CPU n. */
	its.nr_colls = nr_cpus < GIC_MAX_CPUS ? nr_cpus : GIC_MAX_CPUS;
	for (unsigned int i = 0; i < its.nr_colls; i++)
		if (its_mapc(i, i))
			return -1;
	return its_sync(0);
}

int its_map_device(u32 devid, unsigned int nr_events, u32 first_lpi,
		   unsigned int icid)
{
	unsigned int event_bits = 1;
	u8 *itt;

	while ((1U << event_bits) < nr_events)
		event_bits++;
	if (devid >> GITS_TYPER_DEVBITS(its.typer))
		return fail("its-devid-too-large");
	if (nr_events * GITS_TYPER_ITT_ESZ(its.typer) > ITT_SIZE)
		return fail("its-itt-too-small");
	if (icid >= its.nr_colls)
		return fail("its-no-such-collection");
	if (its_nr_devices >= ITS_MAX_DEVICES)
		return fail("its-too-many-devices");
	itt = its_itt[its_nr_devices++];

	for (unsigned int e = 0; e < nr_events; e++)
		lpi_prop[first_lpi + e - LPI_BASE] =
			LPI_PROP_PRIORITY | LPI_PROP_RES1 | LPI_PROP_ENABLE;
	dsb(ishst);
	if (its.noncoherent) {
		dcache_clean_range(lpi_prop, sizeof(lpi_prop));
		dcache_clean_range(itt, ITT_SIZE);
	}

	/* MAPD DeviceID, Size (EventID bits - 1), ITT_addr[51:8], V (5.3.8) */
	if (its_cmd(ITS_CMD_MAPD | (u64)devid << 32, event_bits - 1,
		    ITS_CMD_VALID | ((uintptr_t)itt & 0xffffffffff00UL), 0))
		return -1;
	for (unsigned int e = 0; e < nr_events; e++) {
		/* MAPTI DeviceID, EventID, pINTID, ICID (5.3.11) */
		if (its_cmd(ITS_CMD_MAPTI | (u64)devid << 32,
			    e | (u64)(first_lpi + e) << 32, icid, 0))
			return -1;
		/* INV DeviceID, EventID (5.3.7): reload the LPI's config */
		if (its_cmd(ITS_CMD_INV | (u64)devid << 32, e, 0, 0))
			return -1;
	}
	return its_sync(icid);
}

/* INT DeviceID, EventID (5.3.6): the ITS makes the LPI pending itself. */
int its_send_int(u32 devid, u32 event)
{
	return its_cmd(ITS_CMD_INT | (u64)devid << 32, event, 0, 0);
}

uintptr_t its_translater(void)
{
	return GITS_BASE + GITS_TRANSLATER_OFFSET;
}
