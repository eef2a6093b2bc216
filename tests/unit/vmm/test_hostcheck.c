// SPDX-License-Identifier: GPL-2.0
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "vmm/hostcheck.h"
#include "vmm/layout.h"

static struct host_caps good(void)
{
	return (struct host_caps){
		.has_gicv3 = true,
		.has_its = true,
		.has_psci_0_2 = true,
		.has_one_reg = true,
		.has_irqfd = true,
		.max_vcpus = 8,
		.ipa_bits_max = 44,
		.host_ram = 2ULL << 30,
	};
}

static struct vm_config cfg(unsigned int cpus, uint64_t mem)
{
	return (struct vm_config){ .kernel = "I",
				   .cpus = cpus,
				   .mem_size = mem };
}

static int check(struct host_caps c, struct vm_config v, unsigned int *bits,
		 char *err)
{
	return hostcheck_config(&c, &v, bits, err, 256);
}

Test(hostcheck, accepts_a_sane_config_with_the_default_ipa)
{
	unsigned int bits = 0;
	char err[256];

	cr_assert_eq(check(good(), cfg(2, 512 << 20), &bits, err), 0, "%s",
		     err);
	cr_assert_eq(bits, 40);
}

Test(hostcheck, grows_the_ipa_for_big_guests)
{
	struct host_caps c = good();
	unsigned int bits = 0;
	char err[256];

	c.host_ram = 4ULL << 40;
	cr_assert_eq(check(c, cfg(1, 2ULL << 40), &bits, err), 0, "%s", err);
	cr_assert_eq(bits, 42); /* 2 GiB + 2 TiB needs 42 bits */
}

Test(hostcheck, missing_capabilities_are_named)
{
	struct host_caps c;
	unsigned int bits;
	char err[256];

	c = good();
	c.has_gicv3 = false;
	cr_assert_eq(check(c, cfg(1, 512 << 20), &bits, err), -ENODEV);
	cr_assert(strstr(err, "GICv3"), "%s", err);
	c = good();
	c.has_its = false;
	cr_assert_eq(check(c, cfg(1, 512 << 20), &bits, err), -ENODEV);
	cr_assert(strstr(err, "ITS"), "%s", err);
	c = good();
	c.has_psci_0_2 = false;
	cr_assert_eq(check(c, cfg(1, 512 << 20), &bits, err), -ENODEV);
	cr_assert(strstr(err, "PSCI 0.2"), "%s", err);
}

Test(hostcheck, too_many_vcpus)
{
	unsigned int bits;
	char err[256];

	cr_assert_eq(check(good(), cfg(9, 512 << 20), &bits, err), -EINVAL);
	cr_assert(strstr(err, "at most 8 vCPUs"), "%s", err);
	struct host_caps c = good();
	c.max_vcpus = 4096;
	cr_assert_eq(check(c, cfg(1000, 512 << 20), &bits, err), -EINVAL);
	cr_assert(strstr(err, "nestbox supports at most 512"), "%s", err);
}

Test(hostcheck, memory_limits)
{
	struct host_caps c = good();
	unsigned int bits;
	char err[256];

	cr_assert_eq(check(c, cfg(1, 16 << 20), &bits, err), -EINVAL);
	cr_assert(strstr(err, "minimum"), "%s", err);
	cr_assert_eq(check(c, cfg(1, 3ULL << 30), &bits, err), -ENOMEM);
	cr_assert(strstr(err, "more than this host's 2G"), "%s", err);
	c.host_ram = UINT64_MAX;
	cr_assert_eq(check(c, cfg(1, 16ULL << 40), &bits, err), -EINVAL);
	cr_assert(strstr(err, "44-bit"), "%s", err);
	c.ipa_bits_max = 0; /* fixed 40-bit IPA */
	cr_assert_eq(check(c, cfg(1, 1ULL << 40), &bits, err), -EINVAL);
	cr_assert(strstr(err, "40-bit"), "%s", err);
}
