// SPDX-License-Identifier: GPL-2.0
#include "hostcheck.h"

#include <errno.h>
#include <stdio.h>

#include "layout.h"

static unsigned int bits_to_cover(uint64_t end)
{
	uint64_t v = end - 1;
	unsigned int bits = 0;

	/* Smallest n with end <= 2^n. */
	while (v) {
		bits++;
		v >>= 1;
	}
	return bits;
}

int hostcheck_config(const struct host_caps *caps, const struct vm_config *cfg,
		     unsigned int *ipa_bits, char *err, size_t errlen)
{
	unsigned int max_bits = caps->ipa_bits_max ? caps->ipa_bits_max
						   : LAYOUT_IPA_BITS_DEFAULT;
	char a[32], b[32];
	uint64_t ram_end, ram_limit;
	unsigned int need;

	if (!caps->has_psci_0_2) {
		snprintf(
			err, errlen,
			"host KVM lacks PSCI 0.2 (KVM_CAP_ARM_PSCI_0_2); nestbox needs it to start vCPUs");
		return -ENODEV;
	}
	if (!caps->has_one_reg) {
		snprintf(err, errlen, "host KVM lacks KVM_CAP_ONE_REG");
		return -ENODEV;
	}
	if (!caps->has_gicv3) {
		snprintf(
			err, errlen,
			"host KVM cannot create an in-kernel GICv3 (KVM_DEV_TYPE_ARM_VGIC_V3); nestbox needs a GICv3 host");
		return -ENODEV;
	}
	if (!caps->has_its) {
		snprintf(
			err, errlen,
			"host KVM has no in-kernel ITS (KVM_DEV_TYPE_ARM_VGIC_ITS); nestbox needs it for MSIs");
		return -ENODEV;
	}
	if (!caps->has_irqfd) {
		snprintf(err, errlen, "host KVM lacks KVM_CAP_IRQFD");
		return -ENODEV;
	}
	if (cfg->cpus > LAYOUT_MAX_VCPUS) {
		snprintf(err, errlen,
			 "--cpus %u: nestbox supports at most %llu vCPUs",
			 cfg->cpus, (unsigned long long)LAYOUT_MAX_VCPUS);
		return -EINVAL;
	}
	if (cfg->cpus > caps->max_vcpus) {
		snprintf(err, errlen,
			 "--cpus %u: host KVM supports at most %u vCPUs",
			 cfg->cpus, caps->max_vcpus);
		return -EINVAL;
	}
	cli_format_size(cfg->mem_size, a, sizeof(a));
	if (cfg->mem_size < LAYOUT_RAM_MIN) {
		cli_format_size(LAYOUT_RAM_MIN, b, sizeof(b));
		snprintf(err, errlen,
			 "--memory %s: less than the minimum of %s", a, b);
		return -EINVAL;
	}
	/* RAM and, above it, the 64-bit PCI window must fit the IPA space. */
	ram_limit = (max_bits >= 64 ? UINT64_MAX : (1ULL << max_bits)) -
		    LAYOUT_RAM_BASE - 2 * LAYOUT_PCI_MMIO64_SIZE;
	if (cfg->mem_size > ram_limit) {
		cli_format_size(ram_limit, b, sizeof(b));
		snprintf(
			err, errlen,
			"--memory %s: beyond the host's %u-bit guest physical address space (at most %s of RAM)",
			a, max_bits, b);
		return -EINVAL;
	}
	if (cfg->mem_size > caps->host_ram) {
		cli_format_size(caps->host_ram, b, sizeof(b));
		snprintf(err, errlen,
			 "--memory %s: more than this host's %s of RAM", a, b);
		return -ENOMEM;
	}

	ram_end = LAYOUT_RAM_BASE + cfg->mem_size;
	need = bits_to_cover(layout_pci_mmio64_base(ram_end) +
			     LAYOUT_PCI_MMIO64_SIZE);
	if (need < LAYOUT_IPA_BITS_DEFAULT)
		need = max_bits < LAYOUT_IPA_BITS_DEFAULT
			       ? max_bits
			       : LAYOUT_IPA_BITS_DEFAULT;
	if (need < HOSTCHECK_IPA_BITS_MIN)
		need = HOSTCHECK_IPA_BITS_MIN;
	*ipa_bits = need;
	return 0;
}
