/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What KVM's vgic-state debugfs file (/sys/kernel/debug/kvm/PID-FD/
 * vgic-state, arch/arm64/kvm/vgic/vgic-debug.c) says about a VM's LPIs:
 * how many exist and how many are hardware-backed (the H flag), which for
 * LPIs means GICv4 forwards them as vLPIs: delivered by the GIC straight
 * to the vCPU, without KVM injecting them in software. It is the only
 * place a VMM can see that (no ioctl reports it).
 */
#ifndef NESTBOX_VGIC_DEBUG_H
#define NESTBOX_VGIC_DEBUG_H

#include <stdbool.h>

struct vgic_lpi_count {
	unsigned int lpis; /* LPI lines listed */
	unsigned int hw;   /* of those, H (hardware, i.e. vLPI) set */
};

/*
 * Count the LPI lines of @text (the whole file, NUL-terminated). Returns 0,
 * or -EINVAL when no flags header (PLAEHCG) says where H is.
 */
int vgic_state_count_lpis(const char *text, struct vgic_lpi_count *out);

/*
 * Read the file of VM @vm_fd of process @pid (debugfs mounted at the usual
 * place). Returns 0, -errno (no debugfs, not root, old kernel), -EINVAL.
 */
int vgic_state_read_lpis(int pid, int vm_fd, struct vgic_lpi_count *out);

#endif
