/* SPDX-License-Identifier: GPL-2.0 */
/* Register access for a bare arm64 payload at EL1. */
#ifndef IRQBENCH_HW_H
#define IRQBENCH_HW_H

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long u64;
typedef unsigned long uintptr_t;
typedef unsigned long size_t;

#define BIT(n) (1UL << (n))

#define read_sysreg(r)                                             \
	({                                                         \
		u64 __v;                                           \
		asm volatile("mrs %0, " #r : "=r"(__v)::"memory"); \
		__v;                                               \
	})
#define write_sysreg(v, r) \
	asm volatile("msr " #r ", %0" ::"r"((u64)(v)) : "memory")

/* GICv3 CPU interface registers, by encoding (older assemblers). */
#define ICC_SRE_EL1	S3_0_C12_C12_5
#define ICC_PMR_EL1	S3_0_C4_C6_0
#define ICC_IAR1_EL1	S3_0_C12_C12_0
#define ICC_EOIR1_EL1	S3_0_C12_C12_1
#define ICC_IGRPEN1_EL1 S3_0_C12_C12_7
#define ICC_SGI1R_EL1	S3_0_C12_C11_5
#define ICC_CTLR_EL1	S3_0_C12_C12_4
#define ICC_BPR1_EL1	S3_0_C12_C12_3

#define isb()	    asm volatile("isb" ::: "memory")
#define dsb(opt)    asm volatile("dsb " #opt ::: "memory")
#define dmb(opt)    asm volatile("dmb " #opt ::: "memory")
#define cpu_relax() asm volatile("yield" ::: "memory")

/*
 * MMIO with a plain base-register addressing mode only: KVM can emulate a
 * trapped access only when the syndrome is valid (no writeback, no pairs).
 */
static inline u32 mmio_read32(uintptr_t a)
{
	u32 v;

	asm volatile("ldr %w0, [%1]" : "=r"(v) : "r"(a) : "memory");
	return v;
}

static inline u16 mmio_read16(uintptr_t a)
{
	u16 v;

	asm volatile("ldrh %w0, [%1]" : "=r"(v) : "r"(a) : "memory");
	return v;
}

static inline u8 mmio_read8(uintptr_t a)
{
	u8 v;

	asm volatile("ldrb %w0, [%1]" : "=r"(v) : "r"(a) : "memory");
	return v;
}

static inline u64 mmio_read64(uintptr_t a)
{
	u64 v;

	asm volatile("ldr %0, [%1]" : "=r"(v) : "r"(a) : "memory");
	return v;
}

static inline void mmio_write32(uintptr_t a, u32 v)
{
	asm volatile("str %w0, [%1]" ::"rZ"(v), "r"(a) : "memory");
}

static inline void mmio_write16(uintptr_t a, u16 v)
{
	asm volatile("strh %w0, [%1]" ::"rZ"(v), "r"(a) : "memory");
}

static inline void mmio_write64(uintptr_t a, u64 v)
{
	asm volatile("str %x0, [%1]" ::"rZ"(v), "r"(a) : "memory");
}

/* Ordered variants: earlier normal-memory writes are visible first. */
static inline void writel(uintptr_t a, u32 v)
{
	dsb(st);
	mmio_write32(a, v);
}

static inline void writeq(uintptr_t a, u64 v)
{
	dsb(st);
	mmio_write64(a, v);
}

static inline u64 counter_now(void)
{
	isb();
	return read_sysreg(cntvct_el0);
}

static inline u64 counter_freq(void)
{
	return read_sysreg(cntfrq_el0);
}

static inline unsigned int cpu_index(void)
{
	return (unsigned int)read_sysreg(tpidr_el1);
}

/* Aff3..Aff0 of this CPU, in MPIDR layout (as PSCI CPU_ON wants it). */
static inline u64 mpidr_of_self(void)
{
	return read_sysreg(mpidr_el1) & 0xff00ffffffUL;
}

/* PSCI 0.2+ over HVC (SMCCC). */
#define PSCI_CPU_ON_64	0xc4000003UL
#define PSCI_SYSTEM_OFF 0x84000008UL
#define PSCI_VERSION	0x84000000UL

static inline long psci_call(u64 fn, u64 a1, u64 a2, u64 a3)
{
	register u64 x0 asm("x0") = fn;
	register u64 x1 asm("x1") = a1;
	register u64 x2 asm("x2") = a2;
	register u64 x3 asm("x3") = a3;

	asm volatile("hvc #0"
		     : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3)
		     :
		     : "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12",
		       "x13", "x14", "x15", "x16", "x17", "memory");
	return (long)x0;
}

/* Clean (and invalidate) a range to the point of coherency. */
static inline void dcache_clean_range(const void *p, size_t len)
{
	u64 ctr = read_sysreg(ctr_el0);
	uintptr_t line = 4UL << ((ctr >> 16) & 0xf);
	uintptr_t a = (uintptr_t)p & ~(line - 1);
	uintptr_t end = (uintptr_t)p + len;

	for (; a < end; a += line)
		asm volatile("dc civac, %0" ::"r"(a) : "memory");
	dsb(sy);
}

#endif
