// SPDX-License-Identifier: GPL-2.0
// A bare arm64 payload in Linux Image format (booting.rst header) that
// prints "P" on the PL011 and then loads a register pair from the UART.
// A load pair has no valid instruction syndrome (ESR.ISV = 0), so KVM
// cannot emulate the MMIO access: nestbox must report a guest crash.

#define UART_BASE 0x09000000

	.text
	.globl	_start
_start:
	b	entry			// code0
	.long	0			// code1
	.quad	0			// text_offset
	.quad	image_end - _start	// image_size
	.quad	0xa			// flags: little endian, 4K pages, anywhere
	.quad	0, 0, 0			// res2-res4
	.ascii	"ARM\x64"		// magic
	.long	0			// res5

entry:
	ldr	x2, =UART_BASE
	mov	w1, #'P'
	strb	w1, [x2]
	ldp	x0, x1, [x2]
1:	wfi
	b	1b

	.ltorg
	.balign	8
image_end:
