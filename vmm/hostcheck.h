/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Does this host's KVM give what the configured guest needs? The probe
 * (kvm.c) fills struct host_caps; the decision is pure so it can be tested
 * without KVM.
 */
#ifndef NESTBOX_HOSTCHECK_H
#define NESTBOX_HOSTCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli.h"

struct host_caps {
	bool has_gicv3;
	bool has_its;
	bool has_psci_0_2;
	bool has_pmu;
	bool has_one_reg;
	bool has_irqfd;
	unsigned int max_vcpus;
	unsigned int ipa_bits_max; /* 0: fixed 40-bit IPA (no
				      KVM_CAP_ARM_VM_IPA_SIZE) */
	uint64_t host_ram;	   /* bytes of RAM in this host */
};

/* KVM_VM_TYPE_ARM_IPA_SIZE accepts 32 bits at least. */
#define HOSTCHECK_IPA_BITS_MIN 32

/*
 * Returns 0 and the IPA size to ask for in *ipa_bits, or -EINVAL/-ENODEV/
 * -ENOMEM with one line in @err.
 */
int hostcheck_config(const struct host_caps *caps, const struct vm_config *cfg,
		     unsigned int *ipa_bits, char *err, size_t errlen);

#endif
