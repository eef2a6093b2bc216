// SPDX-License-Identifier: GPL-2.0
// Entry, MMU, exception vectors of the interrupt-latency payload.
//
// Booted like an arm64 Image: EL1, MMU off, x0 = DTB, at any load address
// (all code addresses here are PC-relative). Both vCPUs turn on the MMU
// with one static identity map, so RAM is Normal write-back (coherent with
// KVM's cacheable view of the ITS tables and command queue) and the device
// region is Device-nGnRnE.

#include "platform.h"

#define MAIR_VALUE	0xff00		// attr0 Device-nGnRnE, attr1 Normal WB RWA
// T0SZ=25 (39-bit VA, walk starts at level 1), IRGN0/ORGN0 WB WA, SH0 inner,
// TG0 4K, EPD1 (no TTBR1 walks), IPS 32 bits: everything we touch is < 4 GiB
#define TCR_VALUE	0x803519
// RES1 bits of ARMv8.0 SCTLR_EL1 + M, C, SA, I (no alignment checking)
#define SCTLR_VALUE	0x30d0180d

#define BLOCK_DEVICE	0x0060000000000401	// AF, XN, PXN, attr0
#define BLOCK_NORMAL	0x0000000000000705	// AF, inner shareable, attr1

#define FRAME_SIZE	(22 * 8)

	.section .text.head, "ax"
	.globl	_start
_start:
	b	primary_entry		// code0
	.long	0			// code1
	.quad	0			// text_offset
	.quad	_end - _start		// image_size, with .bss
	.quad	0xa			// flags: LE, 4K pages, anywhere
	.quad	0, 0, 0			// res2-res4
	.ascii	"ARM\x64"		// magic
	.long	0			// res5

primary_entry:
	msr	daifset, #0xf
	mov	x19, x0			// DTB address, handed to main()
	mov	x20, #0			// cpu index
	bl	mmu_on
	// .bss is zeroed with the MMU on so no stale line can shadow it
	adrp	x1, __bss_start
	add	x1, x1, :lo12:__bss_start
	adrp	x2, __bss_end
	add	x2, x2, :lo12:__bss_end
1:	cmp	x1, x2
	b.hs	2f
	str	xzr, [x1], #8
	b	1b
2:	adrp	x1, stack0_top
	add	x1, x1, :lo12:stack0_top
	mov	sp, x1
	mov	x0, x19
	bl	main
	b	park

	// PSCI CPU_ON entry: x0 = context id = cpu index
	.globl	secondary_entry
secondary_entry:
	msr	daifset, #0xf
	mov	x20, x0
	bl	mmu_on
	adrp	x1, stack1_top
	add	x1, x1, :lo12:stack1_top
	mov	sp, x1
	mov	x0, x20
	bl	secondary_main
	b	park

// Identity map on, vectors installed, TPIDR_EL1 = x20. Uses x0-x2 only.
mmu_on:
	msr	spsel, #1
	msr	tpidr_el1, x20
	adr	x0, vectors
	msr	vbar_el1, x0
	ldr	x0, =MAIR_VALUE
	msr	mair_el1, x0
	ldr	x0, =TCR_VALUE
	msr	tcr_el1, x0
	adrp	x0, idmap_l1
	msr	ttbr0_el1, x0
	isb
	tlbi	vmalle1
	ic	iallu
	dsb	nsh
	isb
	ldr	x0, =SCTLR_VALUE
	msr	sctlr_el1, x0
	isb
	ret

park:
	msr	daifset, #0xf
1:	wfi
	b	1b

	.ltorg

// Registers a C handler may clobber (AAPCS64): x0-x18, x29, x30.
.macro	save_frame
	sub	sp, sp, #FRAME_SIZE
	stp	x0, x1, [sp, #0]
.endm
.macro	save_rest
	stp	x2, x3, [sp, #16]
	stp	x4, x5, [sp, #32]
	stp	x6, x7, [sp, #48]
	stp	x8, x9, [sp, #64]
	stp	x10, x11, [sp, #80]
	stp	x12, x13, [sp, #96]
	stp	x14, x15, [sp, #112]
	stp	x16, x17, [sp, #128]
	stp	x18, x29, [sp, #144]
	str	x30, [sp, #160]
.endm
.macro	restore_frame
	ldp	x2, x3, [sp, #16]
	ldp	x4, x5, [sp, #32]
	ldp	x6, x7, [sp, #48]
	ldp	x8, x9, [sp, #64]
	ldp	x10, x11, [sp, #80]
	ldp	x12, x13, [sp, #96]
	ldp	x14, x15, [sp, #112]
	ldp	x16, x17, [sp, #128]
	ldp	x18, x29, [sp, #144]
	ldr	x30, [sp, #160]
	ldp	x0, x1, [sp, #0]
	add	sp, sp, #FRAME_SIZE
.endm

.macro	vector_unexpected kind
	.balign	0x80
	save_frame
	save_rest
	mov	x0, #\kind
	b	exception_common
.endm

	.text
	.balign	2048
vectors:
	vector_unexpected 0	// current EL, SP0: sync
	vector_unexpected 1	// IRQ
	vector_unexpected 2	// FIQ
	vector_unexpected 3	// SError

	.balign	0x80		// current EL, SPx: sync
	save_frame
	save_rest
	mov	x0, #4
	b	exception_common

	.balign	0x80		// current EL, SPx: IRQ
	save_frame
	// Exception entry is context synchronising: this is the arrival time.
	mrs	x0, cntvct_el0
	save_rest
	bl	irq_handle
	restore_frame
	eret

	vector_unexpected 6	// current EL, SPx: FIQ
	vector_unexpected 7	// SError
	vector_unexpected 8	// lower EL, AArch64
	vector_unexpected 9
	vector_unexpected 10
	vector_unexpected 11
	vector_unexpected 12	// lower EL, AArch32
	vector_unexpected 13
	vector_unexpected 14
	vector_unexpected 15

exception_common:
	mrs	x1, esr_el1
	mrs	x2, elr_el1
	mrs	x3, far_el1
	bl	exception_handle	// reports and powers off
	b	park

	.section .data.idmap, "aw"
	.balign	4096
// Level 1 table, 1 GiB blocks over the low 4 GiB.
idmap_l1:
	.quad	BLOCK_DEVICE | 0x00000000	// UART, GIC, ECAM
#ifdef IRQBENCH_QEMU_VIRT
	.quad	BLOCK_NORMAL | 0x40000000	// QEMU virt RAM
#else
	.quad	BLOCK_DEVICE | 0x40000000	// 32-bit PCI window
#endif
	.quad	BLOCK_NORMAL | 0x80000000	// RAM
	.quad	BLOCK_NORMAL | 0xc0000000
	.fill	508, 8, 0

	.section .stack, "aw", %nobits
	.balign	16
	.space	16384
stack0_top:
	.space	16384
stack1_top:
