// SPDX-License-Identifier: GPL-2.0
// Interrupt-latency benchmark, bare metal on nestbox's arm64 guest.
//
// vCPU 0 runs the tests; vCPU 1 (if there is one) answers SGIs. All times
// are CNTVCT_EL0 ticks: one virtual counter for the whole VM, so a time
// taken on vCPU 1 compares with one taken on vCPU 0. The IRQ vector reads
// the counter as its first instruction and hands it to irq_handle().
//
// Output (one line each, see bench/irq/README.md):
//   IRQBENCH start ...
//   IRQBENCH info KEY=VALUE...
//   IRQBENCH test=NAME n=N min=.. p50=.. p99=.. max=.. mean=.. min_ns=..
//            p50_ns=.. p99_ns=.. max_ns=.. mean_ns=.. clamped=K freq=HZ
//            unit=ticks
//   IRQBENCH hist test=NAME lo=.. per_octave=4 buckets=B counts=c0,..
//            over=K freq=HZ unit=ticks
//   IRQBENCH SKIP test=NAME reason=WORD
//   IRQBENCH FAIL test=NAME reason=WORD [key=value...]
//   IRQBENCH done failures=K

#include "console.h"
#include "gic.h"
#include "pci.h"
#include "platform.h"

#ifndef IRQBENCH_N
#define IRQBENCH_N 1000
#endif
#define MAX_SAMPLES IRQBENCH_N
#define WARMUP	    16

/* Which tests this build runs (build -t): one bit each. */
#define TEST_MMIO     BIT(0)
#define TEST_DOORBELL BIT(1)
#define TEST_INJECT   BIT(2)
#define TEST_ITS_INT  BIT(3)
#define TEST_IPI      BIT(4) /* ipi and ipi-rtt */
#define TEST_TIMER    BIT(5)
#define TEST_EDU      BIT(6)
#ifndef IRQBENCH_TESTS
#define IRQBENCH_TESTS 0x7f
#endif
/* Milliseconds to stay on, quiet, before the tests and after the done
 * line (build -H): time for a benchmark in the host to read the VM's KVM
 * statistics around the tests. */
#ifndef IRQBENCH_HOLD_MS
#define IRQBENCH_HOLD_MS 0
#endif
/* Histogram: log2 buckets, HIST_PER_OCTAVE per doubling, from the smallest
 * non-zero sample up (HIST_BUCKETS / HIST_PER_OCTAVE = 8 octaves: 256x);
 * the rest is over. */
#define HIST_BUCKETS	32
#define HIST_PER_OCTAVE 4
#define HIST_FRAC_SHIFT 10

#define SGI_PING	1 /* vCPU 0 -> vCPU 1 */
#define SGI_PONG	2 /* vCPU 1 -> vCPU 0 */
#define SGI_WAKE	3 /* vCPU 0 -> vCPU 1: leave WFI, see cpu1_spin */
#define PPI_VTIMER	27
#define LPI_DOORBELL	(LPI_BASE + 0) /* MSI-X vector 0 = EventID 0 */
#define LPI_INJECT	(LPI_BASE + 1) /* MSI-X vector 1 = EventID 1 */
#define LPI_EDU		(LPI_BASE + 2) /* edu's MSI: its DeviceID, EventID 0 */
#define EDU_EVENT	0
#define EDU_RAISE_VALUE 1

#define CNTV_CTL_ENABLE BIT(0)
#define CNTV_CTL_IMASK	BIT(1)

/* Every wait for an interrupt or a vCPU is bounded: 1 s of counter. */
#define TIMEOUT_DIVISOR 1
/* The timer is armed this far ahead: 100 us (at least 16 ticks). */
#define TIMER_DELTA_DIVISOR 10000

enum source {
	SRC_TIMER,
	SRC_PING,
	SRC_PONG,
	SRC_LPI_DOORBELL,
	SRC_LPI_INJECT,
	SRC_LPI_EDU,
	SRC_OTHER,
	SRC_NR,
};

/* Written by interrupt handlers (either vCPU), read by the test loop. */
static struct {
	volatile u64 time[SRC_NR];
	volatile u32 count[SRC_NR];
	volatile u32 last_other;
	volatile u32 cpu1_ready;
	volatile u32 cpu1_spin;	    /* vCPU 1 spins (ipi test) or sits in WFI */
	volatile u32 cpu1_spinning; /* vCPU 1's answer to cpu1_spin = 1 */
	volatile u64 cpu1_mpidr;
	volatile u64 cpu0_mpidr;
	volatile u32 cpu1_error;
} shared;

static u64 samples[2][MAX_SAMPLES];
static u64 freq, timeout;
static unsigned int failures;
/* Samples whose end came before their start (clamped to 0), per test. */
static unsigned int clamped;

static void record(enum source s, u64 t)
{
	shared.time[s] = t;
	dmb(ish); /* the time before the count that announces it */
	shared.count[s] = shared.count[s] + 1;
}

void irq_handle(u64 t)
{
	for (;;) {
		u64 iar = read_sysreg(ICC_IAR1_EL1);
		u32 intid = iar & 0xffffff;

		if (intid >= INTID_SPURIOUS && intid <= INTID_SPURIOUS + 3)
			return;
		switch (intid) {
		case PPI_VTIMER:
			/* Level-triggered: off before EOI so it stays quiet. */
			write_sysreg(CNTV_CTL_IMASK, cntv_ctl_el0);
			isb();
			record(SRC_TIMER, t);
			break;
		case SGI_PING:
			record(SRC_PING, t);
			gic_send_sgi(shared.cpu0_mpidr, SGI_PONG);
			break;
		case SGI_PONG:
			record(SRC_PONG, t);
			break;
		case SGI_WAKE:
			break;
		case LPI_DOORBELL:
			record(SRC_LPI_DOORBELL, t);
			break;
		case LPI_INJECT:
			record(SRC_LPI_INJECT, t);
			break;
		case LPI_EDU:
			record(SRC_LPI_EDU, t);
			break;
		default:
			shared.last_other = intid;
			record(SRC_OTHER, t);
			break;
		}
		write_sysreg(iar, ICC_EOIR1_EL1);
		isb();
	}
}

/* vCPU 0's virtual timer can end a WFI (its PPI is enabled). */
static int timer_wakes;

/*
 * Wait IRQBENCH_HOLD_MS printing nothing, in WFI until the virtual timer
 * fires: a vCPU blocked in WFI takes no exits (host timer ticks land on
 * an idle host CPU), so the VM's exit counters stand still while the host
 * reads them. vCPU 1 is in WFI too (cpu1_spin is 0 outside the ipi test).
 */
static void hold(void)
{
	u64 ticks = counter_freq() / 1000 * IRQBENCH_HOLD_MS;
	u64 end = counter_now() + ticks;

	while (counter_now() < end) {
		if (!timer_wakes) {
			cpu_relax();
			continue;
		}
		write_sysreg(end, cntv_cval_el0);
		write_sysreg(CNTV_CTL_ENABLE, cntv_ctl_el0);
		isb();
		asm volatile("wfi" ::: "memory");
	}
	write_sysreg(0, cntv_ctl_el0);
	isb();
}

static void power_off(void)
{
	hold();
	psci_call(PSCI_SYSTEM_OFF, 0, 0, 0);
	con_printf("IRQBENCH FAIL test=shutdown reason=system-off-returned\n");
}

static const char *exception_kind(u64 kind)
{
	switch (kind) {
	case 4:
		return "sync";
	case 1:
	case 5:
		return "irq-unexpected-vector";
	case 2:
	case 6:
		return "fiq";
	case 3:
	case 7:
		return "serror";
	default:
		return "unexpected-vector";
	}
}

void exception_handle(u64 kind, u64 esr, u64 elr, u64 far)
{
	con_printf("IRQBENCH FAIL test=exception reason=%s cpu=%u vector=%lu "
		   "esr=0x%lx elr=0x%lx far=0x%lx\n",
		   exception_kind(kind), cpu_index(), kind, esr, elr, far);
	con_printf("IRQBENCH done failures=%u\n", failures + 1);
	power_off();
}

static void test_fail(const char *test, const char *reason, unsigned int iter)
{
	failures++;
	con_printf("IRQBENCH FAIL test=%s reason=%s iter=%u\n", test, reason,
		   iter);
}

static void setup_fail(const char *what, const char *reason)
{
	failures++;
	con_printf("IRQBENCH FAIL test=setup step=%s reason=%s\n", what,
		   reason ? reason : "unknown");
}

static void skip(const char *test, const char *reason)
{
	con_printf("IRQBENCH SKIP test=%s reason=%s\n", test, reason);
}

/* Heapsort: no recursion, no allocation, O(n log n) even for large N. */
static void sift_down(u64 *a, size_t root, size_t n)
{
	for (;;) {
		size_t child = 2 * root + 1;
		u64 tmp;

		if (child >= n)
			return;
		if (child + 1 < n && a[child + 1] > a[child])
			child++;
		if (a[root] >= a[child])
			return;
		tmp = a[root];
		a[root] = a[child];
		a[child] = tmp;
		root = child;
	}
}

static void sort_u64(u64 *a, size_t n)
{
	for (size_t i = n / 2; i-- > 0;)
		sift_down(a, i, n);
	for (size_t end = n; end-- > 1;) {
		u64 tmp = a[0];

		a[0] = a[end];
		a[end] = tmp;
		sift_down(a, 0, end);
	}
}

/* Nearest rank: the smallest sample with at least pct% at or below it. */
static u64 percentile(const u64 *sorted, size_t n, unsigned int pct)
{
	size_t rank = (n * pct + 99) / 100;

	return sorted[rank ? rank - 1 : 0];
}

/*
 * Bucket b of the histogram starts at lo * 2^(b / HIST_PER_OCTAVE), in
 * integers: (lo << b / 4) * hist_frac[b % 4] >> 10, hist_frac[k] =
 * round(1024 * 2^(k / 4)). report.py computes the same edges.
 */
static const u64 hist_frac[HIST_PER_OCTAVE] = { 1024, 1218, 1448, 1722 };

static u64 hist_edge(u64 lo, unsigned int b)
{
	return ((lo << (b / HIST_PER_OCTAVE)) *
		hist_frac[b % HIST_PER_OCTAVE]) >>
	       HIST_FRAC_SHIFT;
}

/*
 * The sorted samples in HIST_BUCKETS log-spaced buckets from the smallest
 * non-zero one; zero samples (clamped) count in bucket 0.
 */
static void report_histogram(const char *test, const u64 *s, size_t n)
{
	size_t i = 0;
	u64 lo;

	while (i < n && !s[i])
		i++;
	lo = i < n ? s[i] : 1;
	i = 0;

	con_printf("IRQBENCH hist test=%s lo=%lu per_octave=%u buckets=%u "
		   "counts=",
		   test, lo, HIST_PER_OCTAVE, HIST_BUCKETS);
	for (unsigned int b = 0; b < HIST_BUCKETS; b++) {
		u64 end = hist_edge(lo, b + 1), count = 0;

		while (i < n && s[i] < end) {
			count++;
			i++;
		}
		con_printf(b ? ",%lu" : "%lu", count);
	}
	con_printf(" over=%lu freq=%lu unit=ticks\n", (u64)(n - i), freq);
}

static void report(const char *test, u64 *s, size_t n)
{
	u64 sum = 0, min, p50, p99, max, mean;

	if (!n)
		return;
	sort_u64(s, n);
	for (size_t i = 0; i < n; i++)
		sum += s[i];
	min = s[0];
	p50 = percentile(s, n, 50);
	p99 = percentile(s, n, 99);
	max = s[n - 1];
	mean = sum / n;
	con_printf("IRQBENCH test=%s n=%lu min=%lu p50=%lu p99=%lu max=%lu "
		   "mean=%lu min_ns=%lu p50_ns=%lu p99_ns=%lu max_ns=%lu "
		   "mean_ns=%lu clamped=%u freq=%lu unit=ticks\n",
		   test, (u64)n, min, p50, p99, max, mean,
		   ticks_to_ns(min, freq), ticks_to_ns(p50, freq),
		   ticks_to_ns(p99, freq), ticks_to_ns(max, freq),
		   ticks_to_ns(mean, freq), clamped, freq);
	clamped = 0;
	report_histogram(test, s, n);
}

/* Spin (interrupts unmasked) until count[s] moves past old. */
static int wait_source(enum source s, u32 old)
{
	u64 start = counter_now();

	while (shared.count[s] == old) {
		if (counter_now() - start > timeout)
			return -1;
		cpu_relax();
	}
	dmb(ish);
	return 0;
}

static u64 elapsed(u64 from, u64 to)
{
	if (to >= from)
		return to - from;
	clamped++;
	return 0;
}

/* 1. A trapped MMIO read: guest -> nestbox userspace -> guest. */
static void test_mmio(const struct testdev *td)
{
	uintptr_t echo = td->bar0 + TESTDEV_ECHO;
	const u32 pattern = 0x5a5aa5a5;

	mmio_write32(echo, pattern);
	if (mmio_read32(echo) != pattern) {
		test_fail("mmio", "echo-mismatch", 0);
		return;
	}
	for (unsigned int i = 0; i < WARMUP + MAX_SAMPLES; i++) {
		u64 t0 = counter_now(), t1;

		(void)mmio_read32(echo);
		dsb(sy); /* the load has completed before the second read */
		t1 = counter_now();
		if (i >= WARMUP)
			samples[0][i - WARMUP] = t1 - t0;
	}
	report("mmio", samples[0], MAX_SAMPLES);
}

/* 2./3. A register write that ends in an LPI on this vCPU. */
static void test_lpi(const char *test, const struct testdev *td,
		     unsigned int reg, enum source s)
{
	for (unsigned int i = 0; i < WARMUP + MAX_SAMPLES; i++) {
		u32 old = shared.count[s];
		u64 t0 = counter_now();

		writel(td->bar0 + reg, 1);
		if (wait_source(s, old)) {
			failures++;
			con_printf("IRQBENCH FAIL test=%s reason=timeout "
				   "iter=%u doorbells=%u other=%u "
				   "last_other=%u\n",
				   test, i,
				   mmio_read32(td->bar0 + TESTDEV_DOORBELLS),
				   shared.count[SRC_OTHER], shared.last_other);
			return;
		}
		if (i >= WARMUP)
			samples[0][i - WARMUP] = elapsed(t0, shared.time[s]);
	}
	report(test, samples[0], MAX_SAMPLES);
}

/* The ITS INT command: CWRITER write (in-kernel ITS) to the LPI. */
static void test_its_int(u32 devid)
{
	for (unsigned int i = 0; i < WARMUP + MAX_SAMPLES; i++) {
		u32 old = shared.count[SRC_LPI_DOORBELL];
		u64 t0 = counter_now();

		if (its_send_int(devid, 0)) {
			test_fail("its-int", gic_error, i);
			return;
		}
		if (wait_source(SRC_LPI_DOORBELL, old)) {
			test_fail("its-int", "timeout", i);
			return;
		}
		if (i >= WARMUP)
			samples[0][i - WARMUP] =
				elapsed(t0, shared.time[SRC_LPI_DOORBELL]);
	}
	report("its-int", samples[0], MAX_SAMPLES);
}

/*
 * An assigned edu: its interrupt-raise register (a store to the device's
 * BAR, mapped into the guest: no exit) makes the device send its MSI to
 * the host's ITS; from there either L1 KVM's irqfd injects the LPI
 * (GICv3) or the GICv4 ITS delivers it straight to the vPE as a vLPI.
 */
static void test_edu(const struct edu *edu)
{
	for (unsigned int i = 0; i < WARMUP + MAX_SAMPLES; i++) {
		u32 old = shared.count[SRC_LPI_EDU];
		u64 t0 = counter_now();

		writel(edu->bar0 + EDU_IRQ_RAISE, EDU_RAISE_VALUE);
		if (wait_source(SRC_LPI_EDU, old)) {
			failures++;
			con_printf("IRQBENCH FAIL test=edu reason=timeout "
				   "iter=%u status=0x%x other=%u "
				   "last_other=%u\n",
				   i, mmio_read32(edu->bar0 + EDU_IRQ_STATUS),
				   shared.count[SRC_OTHER], shared.last_other);
			return;
		}
		if (i >= WARMUP)
			samples[0][i - WARMUP] =
				elapsed(t0, shared.time[SRC_LPI_EDU]);
		/* Acknowledge outside the timed part (edu.rst). */
		writel(edu->bar0 + EDU_IRQ_ACK,
		       mmio_read32(edu->bar0 + EDU_IRQ_STATUS));
	}
	report("edu", samples[0], MAX_SAMPLES);
}

/* 4. SGI to vCPU 1 (one way, shared counter) and its answer (round trip). */
static void test_ipi(void)
{
	u64 start = counter_now();

	/* Delivery to a running vCPU: get vCPU 1 out of WFI and spinning. */
	shared.cpu1_spin = 1;
	dsb(ish);
	gic_send_sgi(shared.cpu1_mpidr, SGI_WAKE);
	while (!shared.cpu1_spinning) {
		if (counter_now() - start > timeout) {
			test_fail("ipi", "cpu1-not-spinning", 0);
			return;
		}
		cpu_relax();
	}
	for (unsigned int i = 0; i < WARMUP + MAX_SAMPLES; i++) {
		u32 old_ping = shared.count[SRC_PING];
		u32 old_pong = shared.count[SRC_PONG];
		u64 t0 = counter_now();

		gic_send_sgi(shared.cpu1_mpidr, SGI_PING);
		if (wait_source(SRC_PING, old_ping)) {
			test_fail("ipi", "timeout", i);
			return;
		}
		if (wait_source(SRC_PONG, old_pong)) {
			test_fail("ipi-rtt", "timeout", i);
			return;
		}
		if (i >= WARMUP) {
			samples[0][i - WARMUP] =
				elapsed(t0, shared.time[SRC_PING]);
			samples[1][i - WARMUP] =
				elapsed(t0, shared.time[SRC_PONG]);
		}
	}
	shared.cpu1_spin = 0; /* back to WFI */
	report("ipi", samples[0], MAX_SAMPLES);
	report("ipi-rtt", samples[1], MAX_SAMPLES);
}

/* 5. Virtual timer: programmed expiry (CVAL) to handler entry. */
static void test_timer(void)
{
	u64 delta = freq / TIMER_DELTA_DIVISOR;
	unsigned int early = 0;

	if (delta < 16)
		delta = 16;
	for (unsigned int i = 0; i < WARMUP + MAX_SAMPLES; i++) {
		u32 old = shared.count[SRC_TIMER];
		u64 cval = counter_now() + delta;

		write_sysreg(cval, cntv_cval_el0);
		write_sysreg(CNTV_CTL_ENABLE, cntv_ctl_el0);
		isb();
		if (wait_source(SRC_TIMER, old)) {
			write_sysreg(0, cntv_ctl_el0);
			test_fail("timer", "timeout", i);
			return;
		}
		if (shared.time[SRC_TIMER] < cval)
			early++;
		if (i >= WARMUP)
			samples[0][i - WARMUP] =
				elapsed(cval, shared.time[SRC_TIMER]);
	}
	write_sysreg(0, cntv_ctl_el0);
	if (early) {
		failures++;
		con_printf("IRQBENCH FAIL test=timer reason=fired-early "
			   "count=%u\n",
			   early);
	}
	report("timer", samples[0], MAX_SAMPLES);
}

extern char secondary_entry[];

void secondary_main(u64 cpu)
{
	if (gic_cpu_init((unsigned int)cpu, BIT(SGI_PING) | BIT(SGI_WAKE))) {
		shared.cpu1_error = 1;
		dsb(ish);
		for (;;)
			asm volatile("wfi");
	}
	shared.cpu1_mpidr = mpidr_of_self();
	dmb(ish);
	shared.cpu1_ready = 1;
	asm volatile("msr daifclr, #2" ::: "memory");
	/* Spin, not WFI, in the ipi test: it measures delivery to a running
	 * vCPU. Otherwise WFI, so that vCPU 1 adds no exits to the others. */
	for (;;) {
		if (shared.cpu1_spin) {
			shared.cpu1_spinning = 1;
			cpu_relax();
		} else {
			shared.cpu1_spinning = 0;
			asm volatile("wfi" ::: "memory");
		}
	}
}

static int start_cpu1(void)
{
	u64 start;
	long ret;

	if (gic_nr_rdists < 2)
		return 1;
	ret = psci_call(PSCI_CPU_ON_64, gic_rdists[1].mpidr,
			(uintptr_t)secondary_entry, 1);
	if (ret) {
		con_printf("IRQBENCH FAIL test=setup step=cpu-on reason=psci "
			   "ret=%ld mpidr=0x%lx\n",
			   ret, gic_rdists[1].mpidr);
		failures++;
		return -1;
	}
	start = counter_now();
	while (!shared.cpu1_ready && !shared.cpu1_error) {
		if (counter_now() - start > timeout) {
			setup_fail("cpu-on", "cpu1-timeout");
			return -1;
		}
		cpu_relax();
	}
	if (shared.cpu1_error) {
		setup_fail("cpu1-gic", gic_error);
		return -1;
	}
	dmb(ish);
	return 0;
}

int main(u64 dtb)
{
	struct testdev td = { 0 };
	struct edu edu = { 0 };
	int have_its = 0, have_cpu1 = 0, td_state, edu_state;
	u32 its_devid = 0;

	freq = counter_freq();
	timeout = freq / TIMEOUT_DIVISOR;
	shared.cpu0_mpidr = mpidr_of_self();
	con_printf("IRQBENCH start n=%u warmup=%u freq=%lu dtb=0x%lx "
		   "mpidr=0x%lx\n",
		   MAX_SAMPLES, WARMUP, freq, dtb, shared.cpu0_mpidr);
	if (!freq) {
		setup_fail("counter", "cntfrq-zero");
		goto out;
	}

	if (gic_dist_init() || gic_find_rdists() ||
	    gic_cpu_init(0, BIT(SGI_PONG) | BIT(PPI_VTIMER))) {
		setup_fail("gic", gic_error);
		goto out;
	}
	timer_wakes = 1;
	con_printf("IRQBENCH info redistributors=%u\n", gic_nr_rdists);

	if (gic_lpi_init(gic_nr_rdists) || its_init(gic_nr_rdists))
		setup_fail("its", gic_error);
	else
		have_its = 1;

	td_state = testdev_find(&td);
	if (td_state < 0)
		setup_fail("testdev", pci_error);
	else if (td_state == 0)
		con_printf("IRQBENCH info testdev_rid=0x%x slot=%u fn=%u "
			   "bar0=0x%lx msix_vectors=%u\n",
			   td.rid, td.rid >> 3, td.rid & 7, td.bar0,
			   td.msix_vectors);
	edu_state = edu_find(&edu);
	if (edu_state < 0)
		setup_fail("edu", pci_error);
	else if (edu_state == 0)
		con_printf("IRQBENCH info edu_rid=0x%x edu_bar0=0x%lx\n",
			   edu.rid, edu.bar0);
	if (td_state == 0)
		its_devid = td.rid;
	else if (edu_state == 0 && edu.rid == its_devid)
		its_devid = edu.rid + 1; /* its-int's device: any other ID */
	if (have_its &&
	    its_map_device(its_devid, TESTDEV_VECTORS, LPI_DOORBELL, 0)) {
		setup_fail("its-map", gic_error);
		have_its = 0;
	}
	/* Mapped before MSI is enabled: KVM looks the LPI up in the vITS
	 * when the irqfd is bound, and only then can it forward it (GICv4). */
	if (edu_state == 0 && have_its &&
	    its_map_device(edu.rid, 1, LPI_EDU, 0)) {
		setup_fail("edu-its-map", gic_error);
		edu_state = -1;
	}
	if (edu_state == 0 && have_its &&
	    edu_setup_msi(&edu, its_translater(), EDU_EVENT)) {
		setup_fail("edu-msi", pci_error);
		edu_state = -1;
	}
	if (td_state == 0 && have_its &&
	    testdev_setup_msix(&td, its_translater())) {
		setup_fail("testdev-msix", pci_error);
		td_state = -1;
	}

	have_cpu1 = start_cpu1() == 0;
	asm volatile("msr daifclr, #2" ::: "memory");
	/* A quiet moment before the tests: the host reads the VM's counters
	 * here and after the done line, so that the difference is the tests'.
	 */
	if (IRQBENCH_HOLD_MS) {
		con_printf("IRQBENCH info hold=before hold_ms=%u\n",
			   IRQBENCH_HOLD_MS);
		hold();
	}

	if (!(IRQBENCH_TESTS & TEST_MMIO)) {
		skip("mmio", "not-selected");
	} else if (td_state == 0) {
		test_mmio(&td);
	} else {
		skip("mmio", td_state > 0 ? "no-testdev" : "testdev-setup");
	}
	if (td_state == 0 && have_its) {
		if (IRQBENCH_TESTS & TEST_DOORBELL)
			test_lpi("doorbell", &td, TESTDEV_DOORBELL,
				 SRC_LPI_DOORBELL);
		else
			skip("doorbell", "not-selected");
		if (IRQBENCH_TESTS & TEST_INJECT)
			test_lpi("inject", &td, TESTDEV_INJECT, SRC_LPI_INJECT);
		else
			skip("inject", "not-selected");
	} else {
		const char *why = !have_its	 ? "no-its"
				  : td_state > 0 ? "no-testdev"
						 : "testdev-setup";

		skip("doorbell", why);
		skip("inject", why);
	}
	if (!(IRQBENCH_TESTS & TEST_EDU))
		skip("edu", "not-selected");
	else if (edu_state == 0 && have_its)
		test_edu(&edu);
	else
		skip("edu", !have_its	    ? "no-its"
			    : edu_state > 0 ? "no-edu"
					    : "edu-setup");
	if (!(IRQBENCH_TESTS & TEST_ITS_INT))
		skip("its-int", "not-selected");
	else if (have_its)
		test_its_int(its_devid);
	else
		skip("its-int", "no-its");
	if (!(IRQBENCH_TESTS & TEST_IPI)) {
		skip("ipi", "not-selected");
		skip("ipi-rtt", "not-selected");
	} else if (have_cpu1) {
		test_ipi();
	} else {
		skip("ipi", gic_nr_rdists < 2 ? "one-cpu" : "cpu1-not-started");
		skip("ipi-rtt",
		     gic_nr_rdists < 2 ? "one-cpu" : "cpu1-not-started");
	}
	if (IRQBENCH_TESTS & TEST_TIMER)
		test_timer();
	else
		skip("timer", "not-selected");
	if (shared.count[SRC_OTHER])
		con_printf("IRQBENCH info unexpected_irqs=%u last=%u\n",
			   shared.count[SRC_OTHER], shared.last_other);

out:
	asm volatile("msr daifset, #2" ::: "memory");
	con_printf("IRQBENCH done failures=%u\n", failures);
	power_off();
	return 0;
}
