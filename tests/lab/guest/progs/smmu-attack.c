// SPDX-License-Identifier: GPL-2.0
/*
 * A hostile guest program against nestbox's emulated SMMUv3, for a kernel
 * whose arm-smmu-v3 driver is kept off: it maps the SMMU's registers
 * through /dev/mem and programs the SMMU itself with queues and tables in
 * pinned pages of its own (guest physical addresses from
 * /proc/self/pagemap), then does what a buggy or malicious driver would:
 * a command queue outside RAM, illegal opcodes, CMD_SYNC with an MSI
 * address outside RAM, a stream table outside RAM or too small for the
 * device's StreamID, malformed STEs and CDs, an event queue outside RAM.
 * DMA comes from a virtio-pci device it takes over (its kernel driver
 * unbound first): enabling a queue makes the device translate its ring
 * addresses through the SMMU.
 *
 * Each answer is checked against the architecture (SMMUv3, IHI 0070) by
 * reading registers and the event queue back: GERROR vs GERRORN,
 * CMDQ_CONS.ERR (1 CERROR_ILL, 2 CERROR_ABT), event record types.
 *
 *   smmu-attack PCI_DEVICE_ID   (0x1042: virtio-blk)
 *
 * Prints "smmu-attack: ok: ..." / "smmu-attack: FAIL: ..." per check and
 * "smmu-attack: events read=N" at the end. Exit 0 when every check held.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PROG "smmu-attack"

/* The SMMU of nestbox's memory map (vmm/layout.h) */
#define SMMU_BASE 0x0c000000UL
#define SMMU_SIZE 0x20000UL

/* Addresses that are not guest RAM: the empty MSI window and 4 GiB, far
 * above the RAM of a 256 MiB guest (RAM starts at 2 GiB). */
#define NOT_RAM_LOW  0x08000000UL
#define NOT_RAM_HIGH 0x100000000UL

/* SMMUv3 registers, page 0 (and EVENTQ_PROD/CONS on page 1) */
#define IDR0		0x00
#define IDR1		0x04
#define CR0		0x20
#define CR0ACK		0x24
#define GBPA		0x44
#define IRQ_CTRL	0x50
#define GERROR		0x60
#define GERRORN		0x64
#define STRTAB_BASE	0x80
#define STRTAB_BASE_CFG 0x88
#define CMDQ_BASE	0x90
#define CMDQ_PROD	0x98
#define CMDQ_CONS	0x9c
#define EVENTQ_BASE	0xa0
#define EVENTQ_PROD	0x100a8
#define EVENTQ_CONS	0x100ac

#define CR0_SMMUEN (1u << 0)
#define CR0_EVTQEN (1u << 2)
#define CR0_CMDQEN (1u << 3)

#define GERROR_CMDQ_ERR		(1u << 0)
#define GERROR_EVTQ_ABT_ERR	(1u << 2)
#define GERROR_MSI_CMDQ_ABT_ERR (1u << 4)

#define CONS_ERR(v)	 (((v) >> 24) & 0x7f)
#define CERROR_NONE	 0
#define CERROR_ILL	 1
#define CERROR_ABT	 2

/* One page each: 256 commands of 16 bytes, 128 events of 32 bytes, a
 * linear stream table of 64 STEs of 64 bytes. */
#define CMDQ_LOG2   8
#define EVTQ_LOG2   7
#define STRTAB_LOG2 6

#define CMD_CFGI_STE	   0x03
#define CMD_RESUME	   0x44 /* illegal here: no stalls (IDR0.STALL_MODEL) */
#define CMD_SYNC	   0x46
#define CMD_SYNC_CS_SIG_IRQ (1ull << 12)
#define CMD_UNKNOWN	   0x7f /* no such opcode */

#define STE_V		(1ull << 0)
#define STE_CFG(c)	((uint64_t)(c) << 1)
#define STE_CFG_ABORT	0
#define STE_CFG_BYPASS	4
#define STE_CFG_S1	5
#define STE_CFG_S2	6 /* stage 2: IDR0.S2P is 0 here, so C_BAD_STE */
#define STE_CTXPTR_MASK 0x000fffffffffffc0ull

#define CD_T0SZ(x) ((uint64_t)(x))
#define CD_V	   (1ull << 31)
#define CD_AA64	   (1ull << 41)

#define EVT_C_BAD_STREAMID 0x02
#define EVT_F_STE_FETCH	   0x03
#define EVT_C_BAD_STE	   0x04
#define EVT_F_CD_FETCH	   0x09
#define EVT_C_BAD_CD	   0x0a

#include "virtio-pci-regs.h"

#define QSIZE		16
/* VIRTIO_F_VERSION_1 (32) and VIRTIO_F_ACCESS_PLATFORM (33), high word */
#define F_HIGH_WANT	3

#define PCI_COMMAND	   0x04
#define PCI_CMD_MEMORY	   (1 << 1)
#define PCI_CMD_BUS_MASTER (1 << 2)

#define PAGE	  4096
#define NR_PAGES  8
#define SPIN_WAIT 1000

static volatile uint8_t *smmu, *vbar;
static int failures;

/* Single loads and stores without writeback: KVM can emulate them. */
static uint32_t ld32(volatile void *p)
{
	uint32_t v;

	asm volatile("ldr %w0, [%1]" : "=r"(v) : "r"(p) : "memory");
	return v;
}
static void st32(volatile void *p, uint32_t v)
{
	asm volatile("dsb sy\n\tstr %w0, [%1]" : : "rZ"(v), "r"(p) : "memory");
}
static void st64(volatile void *p, uint64_t v)
{
	asm volatile("dsb sy\n\tstr %0, [%1]" : : "rZ"(v), "r"(p) : "memory");
}
static uint8_t ld8(volatile void *p)
{
	uint32_t v;

	asm volatile("ldrb %w0, [%1]" : "=r"(v) : "r"(p) : "memory");
	return v;
}
static void st8(volatile void *p, uint8_t v)
{
	asm volatile("dsb sy\n\tstrb %w0, [%1]" : : "rZ"(v), "r"(p) : "memory");
}
static void st16(volatile void *p, uint16_t v)
{
	asm volatile("dsb sy\n\tstrh %w0, [%1]" : : "rZ"(v), "r"(p) : "memory");
}

static uint32_t rd(unsigned long off) { return ld32(smmu + off); }
static void wr(unsigned long off, uint32_t v) { st32(smmu + off, v); }
static void wr64(unsigned long off, uint64_t v) { st64(smmu + off, v); }

static void check(int cond, const char *fmt, ...)
{
	va_list ap;

	printf(PROG ": %s: ", cond ? "ok" : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond)
		failures++;
}

static int gerror_active(uint32_t bit)
{
	return !!((rd(GERROR) ^ rd(GERRORN)) & bit);
}

/* Acknowledge every active global error (GERRORN := GERROR). */
static void gerror_ack(void)
{
	wr(GERRORN, rd(GERROR));
}

/* Guest physical address of a locked user page. */
static uint64_t phys_of(void *va)
{
	uint64_t entry = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY);

	if (fd < 0 || pread(fd, &entry, 8, (uintptr_t)va / PAGE * 8) != 8)
		return 0;
	close(fd);
	if (!(entry & (1ULL << 63)) || !(entry & ((1ULL << 55) - 1)))
		return 0;
	return (entry & ((1ULL << 55) - 1)) * PAGE + (uintptr_t)va % PAGE;
}

/* ---- the pages: queues, stream table, CD, rings, MSI target ---- */

enum { P_CMDQ, P_EVTQ, P_STRTAB, P_CD, P_DESC, P_AVAIL, P_USED, P_MSI };
static uint8_t *page[NR_PAGES];
static uint64_t pa[NR_PAGES];

static volatile uint64_t *cmdq, *evtq, *strtab, *cd;
static volatile uint32_t *msi_word;
static uint32_t cmdq_prod, evtq_cons;
static unsigned long events_read;

/* ---- command queue ---- */

static uint32_t cmdq_ptr_mask(void) { return (2u << CMDQ_LOG2) - 1; }

static void cmd_put(uint32_t slot, uint64_t c0, uint64_t c1)
{
	slot &= (1u << CMDQ_LOG2) - 1;
	cmdq[slot * 2] = c0;
	cmdq[slot * 2 + 1] = c1;
}

static void cmd_submit(uint64_t c0, uint64_t c1)
{
	cmd_put(cmdq_prod, c0, c1);
	cmdq_prod = (cmdq_prod + 1) & cmdq_ptr_mask();
	wr(CMDQ_PROD, cmdq_prod);
}

static int cmdq_idle(void)
{
	uint32_t cons = rd(CMDQ_CONS);

	return (cons & cmdq_ptr_mask()) == cmdq_prod && !CONS_ERR(cons) &&
	       !gerror_active(GERROR_CMDQ_ERR);
}

/* ---- event queue ---- */

/*
 * Consume the new event records: how many are @type from @sid, or -1 when
 * any other record came. *fetch gets the last one's fetch address.
 */
static int evtq_drain(unsigned int type, uint32_t sid, uint64_t *fetch)
{
	uint32_t mask = (2u << EVTQ_LOG2) - 1;
	uint32_t prod = rd(EVENTQ_PROD) & mask;
	int n = 0, other = 0;

	asm volatile("dsb sy" ::: "memory");
	while (evtq_cons != prod) {
		volatile uint64_t *e =
			evtq + (evtq_cons & ((1u << EVTQ_LOG2) - 1)) * 4;
		unsigned int t = e[0] & 0xff;
		uint32_t s = e[0] >> 32;

		printf(PROG ":   event 0x%02x sid 0x%x %016llx %016llx %016llx %016llx\n",
		       t, s, (unsigned long long)e[0], (unsigned long long)e[1],
		       (unsigned long long)e[2], (unsigned long long)e[3]);
		if (t == type && s == sid)
			n++;
		else
			other++;
		if (fetch)
			*fetch = e[3];
		events_read++;
		evtq_cons = (evtq_cons + 1) & mask;
	}
	wr(EVENTQ_CONS, evtq_cons);
	return other ? -1 : n;
}

/* ---- the DMA source: a virtio-pci device of ours ---- */

static void vset_status(uint8_t s) { st8(vbar + C_STATUS, s); }
static uint8_t vstatus(void) { return ld8(vbar + C_STATUS); }

static void vreset(void)
{
	int i;

	vset_status(0);
	for (i = 0; i < SPIN_WAIT && vstatus(); i++)
		usleep(1000);
}

/*
 * Reset the device and drive it to DRIVER_OK with queue 0 in our pages:
 * the device translates the three ring addresses through its stream.
 * Returns the status it answered with (NEEDS_RESET when a translation
 * failed), after which the device is reset again.
 */
static uint8_t vdma(void)
{
	uint8_t st;

	vreset();
	vset_status(S_ACK | S_DRIVER);
	st32(vbar + C_GFSELECT, 1);
	st32(vbar + C_GF, F_HIGH_WANT);
	st32(vbar + C_GFSELECT, 0);
	st32(vbar + C_GF, 0);
	vset_status(S_ACK | S_DRIVER | S_FEATURES_OK);
	if (!(vstatus() & S_FEATURES_OK)) {
		check(0, "the device refused VERSION_1 + ACCESS_PLATFORM");
		return 0xff;
	}
	st16(vbar + C_Q_SELECT, 0);
	st16(vbar + C_Q_SIZE, QSIZE);
	st32(vbar + C_Q_DESC, (uint32_t)pa[P_DESC]);
	st32(vbar + C_Q_DESC + 4, pa[P_DESC] >> 32);
	st32(vbar + C_Q_AVAIL, (uint32_t)pa[P_AVAIL]);
	st32(vbar + C_Q_AVAIL + 4, pa[P_AVAIL] >> 32);
	st32(vbar + C_Q_USED, (uint32_t)pa[P_USED]);
	st32(vbar + C_Q_USED + 4, pa[P_USED] >> 32);
	st16(vbar + C_Q_ENABLE, 1);
	vset_status(S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
	st = vstatus();
	vreset();
	return st;
}

/* ---- stream table ---- */

/* STRTAB_BASE(_CFG) are writable only with SMMUEN clear. */
static void strtab_set(uint64_t base, unsigned int log2size)
{
	wr(CR0, CR0_CMDQEN | CR0_EVTQEN);
	wr64(STRTAB_BASE, base);
	wr(STRTAB_BASE_CFG, log2size); /* FMT 0: linear */
	wr(CR0, CR0_CMDQEN | CR0_EVTQEN | CR0_SMMUEN);
}

/* Write the STE of @sid and invalidate it: CFGI_STE, CMD_SYNC. */
static void ste_set(uint32_t sid, uint64_t d0, uint64_t d1)
{
	volatile uint64_t *ste = strtab + sid * 8;

	for (int i = 2; i < 8; i++)
		ste[i] = 0;
	ste[1] = d1;
	ste[0] = d0;
	cmd_submit(CMD_CFGI_STE | (uint64_t)sid << 32, 0);
	cmd_submit(CMD_SYNC, 0);
	if (!cmdq_idle())
		check(0, "CFGI_STE + CMD_SYNC did not complete (CONS 0x%x)",
		      rd(CMDQ_CONS));
}

/* One DMA attempt that must fail with @type event records from @sid. */
static void expect_event(const char *what, unsigned int type, uint32_t sid,
			 uint64_t *fetch)
{
	uint8_t st = vdma();
	int n = evtq_drain(type, sid, fetch);

	check((st & S_NEEDS_RESET) && n >= 1,
	      "%s: the DMA failed (status 0x%x) and %d event(s) 0x%02x for StreamID 0x%x arrived%s",
	      what, st, n < 0 ? 0 : n, type, sid,
	      n < 0 ? ", with unexpected other records" : "");
}

static int find_device(unsigned long want, char *out, size_t len)
{
	DIR *d = opendir("/sys/bus/pci/devices");
	struct dirent *e;
	int found = -1;

	while (d && (e = readdir(d))) {
		char p[512], buf[32] = "";
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "/sys/bus/pci/devices/%.64s/device",
			 e->d_name);
		f = fopen(p, "r");
		if (!f)
			continue;
		if (fgets(buf, sizeof(buf), f) &&
		    strtoul(buf, NULL, 16) == want && found) {
			snprintf(out, len, "%.64s", e->d_name);
			found = 0;
		}
		fclose(f);
	}
	if (d)
		closedir(d);
	return found;
}

static int map_device(const char *bdf)
{
	char p[256];
	uint16_t cmd = 0;
	int fd;

	/* Memory decoding and bus mastering on, whoever had them off. */
	snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/config", bdf);
	fd = open(p, O_RDWR);
	if (fd < 0 || pread(fd, &cmd, 2, PCI_COMMAND) != 2)
		return -1;
	cmd |= PCI_CMD_MEMORY | PCI_CMD_BUS_MASTER;
	if (pwrite(fd, &cmd, 2, PCI_COMMAND) != 2)
		return -1;
	close(fd);
	snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/resource4", bdf);
	fd = open(p, O_RDWR | O_SYNC);
	if (fd < 0)
		return -1;
	vbar = mmap(NULL, VBAR_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	return vbar == MAP_FAILED ? -1 : 0;
}

int main(int argc, char **argv)
{
	unsigned long want = argc > 1 ? strtoul(argv[1], NULL, 0) : 0x1042;
	unsigned int dom, bus, dev, fn;
	uint32_t sid, cons, idr0, idr1;
	uint64_t fetch;
	char bdf[80];
	uint8_t *mem;
	uint8_t st;
	int fd, i, n;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (find_device(want, bdf, sizeof(bdf)) ||
	    sscanf(bdf, "%x:%x:%x.%x", &dom, &bus, &dev, &fn) != 4) {
		printf(PROG ": FAIL: no PCI device 0x%lx\n", want);
		return 1;
	}
	sid = bus << 8 | dev << 3 | fn; /* the requester ID */
	if (sid >= (1u << STRTAB_LOG2)) {
		printf(PROG ": FAIL: StreamID 0x%x does not fit our table\n", sid);
		return 1;
	}
	fd = open("/dev/mem", O_RDWR | O_SYNC);
	smmu = fd < 0 ? MAP_FAILED :
			mmap(NULL, SMMU_SIZE, PROT_READ | PROT_WRITE,
			     MAP_SHARED, fd, SMMU_BASE);
	if (smmu == MAP_FAILED) {
		perror(PROG ": /dev/mem at the SMMU");
		return 1;
	}
	if (map_device(bdf)) {
		perror(PROG ": the device's BAR 4");
		return 1;
	}
	mem = mmap(NULL, NR_PAGES * PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE | MAP_LOCKED, -1,
		   0);
	if (mem == MAP_FAILED) {
		perror(PROG ": mmap");
		return 1;
	}
	memset(mem, 0, NR_PAGES * PAGE);
	for (i = 0; i < NR_PAGES; i++) {
		page[i] = mem + i * PAGE;
		pa[i] = phys_of(page[i]);
		if (!pa[i]) {
			printf(PROG ": FAIL: no physical address for page %d\n", i);
			return 1;
		}
	}
	cmdq = (volatile uint64_t *)page[P_CMDQ];
	evtq = (volatile uint64_t *)page[P_EVTQ];
	strtab = (volatile uint64_t *)page[P_STRTAB];
	cd = (volatile uint64_t *)page[P_CD];
	msi_word = (volatile uint32_t *)page[P_MSI];

	idr0 = rd(IDR0);
	idr1 = rd(IDR1);
	printf(PROG ": device %s StreamID 0x%x; SMMU IDR0 0x%08x IDR1 0x%08x CR0 0x%x GBPA 0x%x\n",
	       bdf, sid, idr0, idr1, rd(CR0), rd(GBPA));
	check(idr0 & 2, "the SMMU answers at 0x%lx (IDR0.S1P)", SMMU_BASE);
	if (rd(CR0)) {
		check(0, "CR0 is 0x%x: a driver owns the SMMU; not attacking",
		      rd(CR0));
		return 1;
	}
	check(1, "CR0 is 0: no driver owns the SMMU");

	/* Our queues; interrupts stay off (IRQ_CTRL 0): we poll. */
	wr(IRQ_CTRL, 0);
	wr64(EVENTQ_BASE, pa[P_EVTQ] | EVTQ_LOG2);
	wr(EVENTQ_PROD, 0);
	wr(EVENTQ_CONS, 0);
	wr64(CMDQ_BASE, pa[P_CMDQ] | CMDQ_LOG2);
	wr(CMDQ_PROD, 0);
	wr(CMDQ_CONS, 0);
	wr(CR0, CR0_CMDQEN | CR0_EVTQEN);
	check(rd(CR0ACK) == (CR0_CMDQEN | CR0_EVTQEN) && !rd(GERROR) &&
		      !rd(GERRORN),
	      "queues enabled: CR0ACK 0x%x GERROR 0x%x", rd(CR0ACK), rd(GERROR));

	/* 1. Control: CMD_SYNC signalling completion by an MSI to our page. */
	cmd_submit(CMD_SYNC | CMD_SYNC_CS_SIG_IRQ | (uint64_t)0x5a17c0de << 32,
		   pa[P_MSI]);
	check(cmdq_idle() && *msi_word == 0x5a17c0de,
	      "CMD_SYNC with an MSI to RAM: consumed, wrote 0x%x", *msi_word);

	/* 2. Illegal opcodes stop the queue at the command: CERROR_ILL. */
	cmd_submit(CMD_UNKNOWN, 0);
	cons = rd(CMDQ_CONS);
	check((cons & cmdq_ptr_mask()) == 1 && CONS_ERR(cons) == CERROR_ILL &&
		      gerror_active(GERROR_CMDQ_ERR),
	      "opcode 0x%x: CMDQ_CONS 0x%08x (ERR %u), GERROR.CMDQ_ERR %d",
	      CMD_UNKNOWN, cons, CONS_ERR(cons), gerror_active(GERROR_CMDQ_ERR));
	/* Replace it with another illegal one and acknowledge: it resumes. */
	cmd_put(1, CMD_RESUME, 0);
	gerror_ack();
	cons = rd(CMDQ_CONS);
	check((cons & cmdq_ptr_mask()) == 1 && CONS_ERR(cons) == CERROR_ILL &&
		      gerror_active(GERROR_CMDQ_ERR),
	      "CMD_RESUME without stalls: CMDQ_CONS 0x%08x (ERR %u), GERROR.CMDQ_ERR %d",
	      cons, CONS_ERR(cons), gerror_active(GERROR_CMDQ_ERR));
	/* As Linux recovers: a CMD_SYNC in its place, then acknowledge. */
	cmd_put(1, CMD_SYNC, 0);
	gerror_ack();
	check(cmdq_idle(), "after the fix and GERRORN: CMDQ_CONS 0x%08x",
	      rd(CMDQ_CONS));

	/* 3. CMD_SYNC whose MSI address is not RAM: MSI_CMDQ_ABT_ERR. */
	cmd_submit(CMD_SYNC | CMD_SYNC_CS_SIG_IRQ | (uint64_t)0xbad << 32,
		   NOT_RAM_LOW);
	check(cmdq_idle() && gerror_active(GERROR_MSI_CMDQ_ABT_ERR),
	      "CMD_SYNC with an MSI to 0x%lx: consumed, GERROR.MSI_CMDQ_ABT_ERR %d",
	      NOT_RAM_LOW, gerror_active(GERROR_MSI_CMDQ_ABT_ERR));
	gerror_ack();

	/* 4. A command queue outside RAM: CERROR_ABT. */
	wr(CR0, CR0_EVTQEN);
	wr64(CMDQ_BASE, NOT_RAM_LOW | CMDQ_LOG2);
	wr(CMDQ_CONS, 0);
	wr(CMDQ_PROD, 0);
	cmdq_prod = 0;
	wr(CR0, CR0_CMDQEN | CR0_EVTQEN);
	cmdq_prod = 1;
	wr(CMDQ_PROD, cmdq_prod);
	cons = rd(CMDQ_CONS);
	check((cons & cmdq_ptr_mask()) == 0 && CONS_ERR(cons) == CERROR_ABT &&
		      gerror_active(GERROR_CMDQ_ERR),
	      "command queue at 0x%lx: CMDQ_CONS 0x%08x (ERR %u), GERROR.CMDQ_ERR %d",
	      NOT_RAM_LOW, cons, CONS_ERR(cons), gerror_active(GERROR_CMDQ_ERR));
	/* Recover: queue off, back in RAM, empty, acknowledged, on. */
	wr(CR0, CR0_EVTQEN);
	wr64(CMDQ_BASE, pa[P_CMDQ] | CMDQ_LOG2);
	wr(CMDQ_CONS, 0);
	cmdq_prod = 0;
	wr(CMDQ_PROD, 0);
	gerror_ack();
	wr(CR0, CR0_CMDQEN | CR0_EVTQEN);
	cmd_submit(CMD_SYNC | CMD_SYNC_CS_SIG_IRQ | (uint64_t)0x600dbeef << 32,
		   pa[P_MSI]);
	check(cmdq_idle() && *msi_word == 0x600dbeef &&
		      !(rd(GERROR) ^ rd(GERRORN)),
	      "recovered: CMD_SYNC works again, wrote 0x%x", *msi_word);

	/* 5. Stream table and context descriptors, with DMA from the device. */
	strtab_set(pa[P_STRTAB], STRTAB_LOG2);
	ste_set(sid, STE_V | STE_CFG(STE_CFG_ABORT), 0);
	st = vdma();
	n = evtq_drain(0, sid, NULL);
	check((st & S_NEEDS_RESET) && n == 0,
	      "STE abort: the DMA failed (status 0x%x) silently (%d records)", st,
	      n);
	ste_set(sid, STE_V | STE_CFG(STE_CFG_BYPASS), 0);
	st = vdma();
	n = evtq_drain(0, sid, NULL);
	check((st & S_DRIVER_OK) && !(st & S_NEEDS_RESET) && n == 0,
	      "STE bypass: the device started (status 0x%x), %d records", st, n);

	ste_set(sid, STE_CFG(STE_CFG_BYPASS), 0); /* V = 0 */
	expect_event("STE with V=0", EVT_C_BAD_STE, sid, NULL);
	ste_set(sid, STE_V | STE_CFG(STE_CFG_S2), 0);
	expect_event("STE stage 2 without S2P", EVT_C_BAD_STE, sid, NULL);
	ste_set(sid, STE_V | STE_CFG(7), 0);
	expect_event("STE Config 7 (S1+S2) without S2P", EVT_C_BAD_STE, sid,
		     NULL);

	for (i = 0; i < 8; i++)
		cd[i] = 0;
	ste_set(sid, STE_V | STE_CFG(STE_CFG_S1) | (pa[P_CD] & STE_CTXPTR_MASK),
		0);
	expect_event("CD with V=0", EVT_C_BAD_CD, sid, NULL);
	cd[0] = CD_V | CD_T0SZ(16); /* AArch32 tables */
	ste_set(sid, STE_V | STE_CFG(STE_CFG_S1) | (pa[P_CD] & STE_CTXPTR_MASK),
		0);
	expect_event("CD without AA64", EVT_C_BAD_CD, sid, NULL);
	cd[0] = CD_V | CD_AA64 | CD_T0SZ(0); /* a 64-bit input range */
	ste_set(sid, STE_V | STE_CFG(STE_CFG_S1) | (pa[P_CD] & STE_CTXPTR_MASK),
		0);
	expect_event("CD with T0SZ 0", EVT_C_BAD_CD, sid, NULL);
	ste_set(sid, STE_V | STE_CFG(STE_CFG_S1) | (NOT_RAM_LOW & STE_CTXPTR_MASK),
		0);
	expect_event("CD pointer outside RAM", EVT_F_CD_FETCH, sid, NULL);

	/* A stream table too small for the StreamID. */
	strtab_set(pa[P_STRTAB], 0);
	expect_event("1-entry stream table", EVT_C_BAD_STREAMID, sid, NULL);

	/* A stream table outside RAM. */
	fetch = 0;
	strtab_set(NOT_RAM_HIGH, STRTAB_LOG2);
	expect_event("stream table outside RAM", EVT_F_STE_FETCH, sid, &fetch);
	check(fetch == NOT_RAM_HIGH + sid * 64,
	      "F_STE_FETCH names the STE's address 0x%llx",
	      (unsigned long long)fetch);

	/* 6. An event queue outside RAM: EVTQ_ABT_ERR, the event is lost. */
	strtab_set(pa[P_STRTAB], STRTAB_LOG2);
	ste_set(sid, STE_CFG(STE_CFG_BYPASS), 0); /* V = 0 */
	wr(CR0, CR0_CMDQEN | CR0_SMMUEN);
	wr64(EVENTQ_BASE, NOT_RAM_LOW | EVTQ_LOG2);
	wr(EVENTQ_PROD, 0);
	wr(EVENTQ_CONS, 0);
	wr(CR0, CR0_CMDQEN | CR0_EVTQEN | CR0_SMMUEN);
	st = vdma();
	check((st & S_NEEDS_RESET) && gerror_active(GERROR_EVTQ_ABT_ERR),
	      "event queue at 0x%lx: the DMA failed (status 0x%x), GERROR.EVTQ_ABT_ERR %d",
	      NOT_RAM_LOW, st, gerror_active(GERROR_EVTQ_ABT_ERR));
	/* Recover: queue off, back in RAM, acknowledged, on. */
	wr(CR0, CR0_CMDQEN | CR0_SMMUEN);
	memset((void *)evtq, 0, PAGE);
	wr64(EVENTQ_BASE, pa[P_EVTQ] | EVTQ_LOG2);
	wr(EVENTQ_PROD, 0);
	wr(EVENTQ_CONS, 0);
	evtq_cons = 0;
	gerror_ack();
	wr(CR0, CR0_CMDQEN | CR0_EVTQEN | CR0_SMMUEN);
	expect_event("event queue back in RAM, STE with V=0", EVT_C_BAD_STE,
		     sid, NULL);
	check(!(rd(GERROR) ^ rd(GERRORN)), "no global error left active (GERROR 0x%x GERRORN 0x%x)",
	      rd(GERROR), rd(GERRORN));

	/* Leave as we found it: SMMU off (GBPA bypass), device reset. */
	wr(CR0, 0);
	vreset();
	check(rd(CR0ACK) == 0 && vstatus() == 0, "SMMU off and device reset");
	printf(PROG ": events read=%lu\n", events_read);
	printf(PROG ": %s\n", failures ? "FAILED" : "all checks held");
	return failures ? 1 : 0;
}
