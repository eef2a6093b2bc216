// SPDX-License-Identifier: GPL-2.0
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "vmm/cli.h"

static enum cli_command parse(struct vm_config *cfg, char *err, int n, ...)
{
	char *argv[32];
	va_list ap;

	va_start(ap, n);
	argv[0] = "nestbox";
	for (int i = 0; i < n; i++)
		argv[i + 1] = va_arg(ap, char *);
	va_end(ap);
	argv[n + 1] = NULL;
	return cli_parse(n + 1, argv, cfg, err, 256);
}

Test(cli_size, suffixes_are_binary)
{
	uint64_t v;

	cr_assert_eq(cli_parse_size("512M", &v), 0);
	cr_assert_eq(v, 512ULL << 20);
	cr_assert_eq(cli_parse_size("2G", &v), 0);
	cr_assert_eq(v, 2ULL << 30);
	cr_assert_eq(cli_parse_size("1536k", &v), 0);
	cr_assert_eq(v, 1536ULL << 10);
	cr_assert_eq(cli_parse_size("1T", &v), 0);
	cr_assert_eq(v, 1ULL << 40);
	cr_assert_eq(cli_parse_size("4GiB", &v), 0);
	cr_assert_eq(v, 4ULL << 30);
	cr_assert_eq(cli_parse_size("64MB", &v), 0);
	cr_assert_eq(v, 64ULL << 20);
	cr_assert_eq(cli_parse_size("4096B", &v), 0);
	cr_assert_eq(v, 4096);
}

Test(cli_size, bare_number_is_mebibytes)
{
	uint64_t v;

	cr_assert_eq(cli_parse_size("256", &v), 0);
	cr_assert_eq(v, 256ULL << 20);
}

Test(cli_size, rejects_garbage_and_overflow)
{
	uint64_t v = 7;

	cr_assert_neq(cli_parse_size("", &v), 0);
	cr_assert_neq(cli_parse_size("M", &v), 0);
	cr_assert_neq(cli_parse_size("-1G", &v), 0);
	cr_assert_neq(cli_parse_size("12Q", &v), 0);
	cr_assert_neq(cli_parse_size("1G5", &v), 0);
	cr_assert_neq(cli_parse_size("1.5G", &v), 0);
	cr_assert_neq(cli_parse_size("99999999999999999999", &v), 0);
	cr_assert_neq(cli_parse_size("16777216T", &v), 0); /* 2^64 */
	cr_assert_eq(v, 7, "a failed parse must not write the result");
}

Test(cli_size, formats_for_messages)
{
	char b[32];

	cli_format_size(512ULL << 20, b, sizeof(b));
	cr_assert_str_eq(b, "512M");
	cli_format_size(3ULL << 29, b, sizeof(b));
	cr_assert_str_eq(b, "1.5G");
	cli_format_size(100, b, sizeof(b));
	cr_assert_str_eq(b, "100");
}

Test(cli, run_with_all_options)
{
	struct vm_config c;
	char err[256];

	cr_assert_eq(parse(&c, err, 15, "run", "--kernel", "Image", "--initrd",
			   "rd.cpio", "--cmdline", "console=ttyAMA0 quiet",
			   "--cpus", "4", "--memory", "2G", "--console",
			   "file:/tmp/x", "-v", "-v"),
		     CLI_RUN, "%s", err);
	cr_assert_str_eq(c.kernel, "Image");
	cr_assert_str_eq(c.initrd, "rd.cpio");
	cr_assert_str_eq(c.cmdline, "console=ttyAMA0 quiet");
	cr_assert_eq(c.cpus, 4);
	cr_assert_eq(c.mem_size, 2ULL << 30);
	cr_assert_eq(c.console, CONSOLE_FILE);
	cr_assert_str_eq(c.console_path, "/tmp/x");
	cr_assert_eq(c.verbose, 2);
}

Test(cli, defaults)
{
	struct vm_config c;
	char err[256];

	cr_assert_eq(parse(&c, err, 3, "run", "--kernel", "Image"), CLI_RUN);
	cr_assert_eq(c.cpus, CLI_DEFAULT_CPUS);
	cr_assert_eq(c.mem_size, CLI_DEFAULT_MEM);
	cr_assert_eq(c.console, CONSOLE_STDIO);
	cr_assert_null(c.initrd);
	cr_assert_str_eq(c.cmdline, "");
}

Test(cli, help_and_version)
{
	struct vm_config c;
	char err[256];

	cr_assert_eq(parse(&c, err, 1, "--help"), CLI_HELP);
	cr_assert_eq(parse(&c, err, 1, "--version"), CLI_VERSION);
	cr_assert_eq(parse(&c, err, 2, "run", "--help"), CLI_HELP);
}

Test(cli, errors_name_the_problem)
{
	struct vm_config c;
	char err[256];

	cr_assert_eq(parse(&c, err, 0), CLI_ERROR);
	cr_assert_eq(parse(&c, err, 1, "boot"), CLI_ERROR);
	cr_assert(strstr(err, "boot"));
	cr_assert_eq(parse(&c, err, 1, "run"), CLI_ERROR);
	cr_assert(strstr(err, "--kernel"));
	cr_assert_eq(parse(&c, err, 4, "run", "--kernel", "I", "--bogus"),
		     CLI_ERROR);
	cr_assert(strstr(err, "--bogus"), "%s", err);
	cr_assert_eq(parse(&c, err, 2, "run", "--kernel"), CLI_ERROR);
	cr_assert(strstr(err, "needs a value"), "%s", err);
	cr_assert_eq(parse(&c, err, 5, "run", "--kernel", "I", "--cpus", "0"),
		     CLI_ERROR);
	cr_assert(strstr(err, "--cpus"));
	cr_assert_eq(parse(&c, err, 5, "run", "--kernel", "I", "--cpus", "2x"),
		     CLI_ERROR);
	cr_assert_eq(
		parse(&c, err, 5, "run", "--kernel", "I", "--memory", "lots"),
		CLI_ERROR);
	cr_assert(strstr(err, "--memory 'lots'"), "%s", err);
	cr_assert_eq(
		parse(&c, err, 5, "run", "--kernel", "I", "--console", "tty"),
		CLI_ERROR);
	cr_assert_eq(
		parse(&c, err, 5, "run", "--kernel", "I", "--console", "file:"),
		CLI_ERROR);
	cr_assert_eq(parse(&c, err, 4, "run", "--kernel", "I", "stray"),
		     CLI_ERROR);
	cr_assert(strstr(err, "stray"));
}

Test(cli, overlong_cmdline_is_refused)
{
	struct vm_config c;
	char err[256];
	static char big[CLI_CMDLINE_MAX + 10];

	memset(big, 'a', sizeof(big) - 1);
	cr_assert_eq(
		parse(&c, err, 5, "run", "--kernel", "I", "--cmdline", big),
		CLI_ERROR);
}

Test(cli, parsing_twice_gives_the_same_result)
{
	struct vm_config a, b;
	char err[256];

	cr_assert_eq(parse(&a, err, 5, "run", "--kernel", "I", "--cpus", "3"),
		     CLI_RUN);
	cr_assert_eq(parse(&b, err, 5, "run", "--kernel", "I", "--cpus", "3"),
		     CLI_RUN);
	cr_assert_eq(a.cpus, b.cpus);
}

Test(cli, device_options)
{
	struct vm_config c;
	char err[256];

	cr_assert_eq(parse(&c, err, 10, "run", "--kernel", "I", "--disk",
			   "a.img", "--disk", "b.img,readonly", "--rng=bridge",
			   "--net", "tap=t0"),
		     CLI_RUN, "%s", err);
	cr_assert_eq(c.nr_disks, 2);
	cr_assert_str_eq(c.disks[1], "b.img,readonly");
	cr_assert(c.rng);
	cr_assert_eq(c.rng_transport, TRANSPORT_PCI_BRIDGE);
	cr_assert_eq(c.nr_nets, 1);
	cr_assert_eq(parse(&c, err, 4, "run", "--kernel", "I",
			   "--virtio-console=mmio"),
		     CLI_RUN);
	cr_assert_eq(c.virtio_console_transport, TRANSPORT_MMIO);
	cr_assert_eq(parse(&c, err, 4, "run", "--kernel", "I", "--rng=usb"),
		     CLI_ERROR);
	cr_assert(strstr(err, "--rng='usb'"), "%s", err);
	cr_assert_eq(parse(&c, err, 4, "run", "--kernel", "I",
			   "--virtio-console=isa"),
		     CLI_ERROR);
}

Test(cli, iommu_option)
{
	struct vm_config cfg;
	char err[256] = "";

	cr_assert_eq(parse(&cfg, err, 3, "run", "--kernel", "k"), CLI_RUN);
	cr_assert_eq(cfg.iommu, IOMMU_NONE);
	cr_assert_eq(cfg.rng_iommu, -1);

	cr_assert_eq(parse(&cfg, err, 5, "run", "--kernel", "k", "--iommu",
			   "virtio"),
		     CLI_RUN);
	cr_assert_eq(cfg.iommu, IOMMU_VIRTIO);
	cr_assert_eq(cfg.iommu_transport, TRANSPORT_PCI);
	cr_assert(cfg.iommu_bypass, "bypass defaults to on");

	cr_assert_eq(parse(&cfg, err, 5, "run", "--kernel", "k", "--iommu",
			   "virtio,transport=mmio,bypass=off"),
		     CLI_RUN);
	cr_assert_eq(cfg.iommu_transport, TRANSPORT_MMIO);
	cr_assert_not(cfg.iommu_bypass);

	cr_assert_eq(parse(&cfg, err, 5, "run", "--kernel", "k", "--iommu",
			   "smmuv3"),
		     CLI_RUN);
	cr_assert_eq(cfg.iommu, IOMMU_SMMUV3);
	cr_assert_not(cfg.smmu_wired, "MSIs by default");
	cr_assert_eq(parse(&cfg, err, 5, "run", "--kernel", "k", "--iommu",
			   "smmuv3,irq=wired"),
		     CLI_RUN);
	cr_assert(cfg.smmu_wired);

	static const char *const bad[] = {
		"smmu",		     "virtio,transport=bridge", "virtio,bypass",
		"virtio,bypass=yes", "virtio,,",		"",
		"virtio,bogus=1",    "smmuv3,bypass=on",	"smmuv3,irq=",
		"smmuv3,transport=mmio", "virtio,irq=wired",	"smmuv3,",
	};
	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		cr_assert_eq(parse(&cfg, err, 5, "run", "--kernel", "k",
				   "--iommu", bad[i]),
			     CLI_ERROR, "'%s'", bad[i]);
		cr_assert(strstr(err, "--iommu"), "'%s': %s", bad[i], err);
		cr_assert_null(strchr(err, '\n'));
	}
}

Test(cli, per_device_iommu_opt_out)
{
	struct vm_config cfg;
	char err[256] = "";

	cr_assert_eq(parse(&cfg, err, 5, "run", "--kernel", "k",
			   "--rng=mmio,iommu=off", "--virtio-console=iommu=on"),
		     CLI_RUN);
	cr_assert_eq(cfg.rng_transport, TRANSPORT_MMIO);
	cr_assert_eq(cfg.rng_iommu, 0);
	cr_assert_eq(cfg.virtio_console_transport, TRANSPORT_PCI);
	cr_assert_eq(cfg.virtio_console_iommu, 1);

	cr_assert_eq(parse(&cfg, err, 4, "run", "--kernel", "k",
			   "--rng=bridge"),
		     CLI_RUN);
	cr_assert_eq(cfg.rng_transport, TRANSPORT_PCI_BRIDGE);
	cr_assert_eq(cfg.rng_iommu, -1);

	static const char *const bad[] = { "--rng=pci,iommu=maybe",
					   "--rng=pci,bus=root",
					   "--rng=iommu=off,pci", "--rng=," };
	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		cr_assert_eq(parse(&cfg, err, 4, "run", "--kernel", "k",
				   bad[i]),
			     CLI_ERROR, "'%s'", bad[i]);
		cr_assert(strstr(err, "--rng"), "'%s': %s", bad[i], err);
	}
}

Test(cli, payload_instead_of_kernel)
{
	struct vm_config cfg;
	char err[256] = "";

	cr_assert_eq(parse(&cfg, err, 3, "run", "--payload", "p.bin"), CLI_RUN);
	cr_assert_str_eq(cfg.payload, "p.bin");
	cr_assert_eq(cfg.payload_name_len, 5);
	cr_assert_eq(cfg.payload_addr, 0);
	cr_assert_null(cfg.kernel);

	cr_assert_eq(parse(&cfg, err, 4, "run", "--payload",
			   "p.bin,addr=0x80200000", "--testdev"),
		     CLI_RUN);
	cr_assert_eq(cfg.payload_name_len, 5);
	cr_assert_eq(cfg.payload_addr, 0x80200000);
	cr_assert(cfg.testdev);

	cr_assert_eq(parse(&cfg, err, 5, "run", "--payload", "p.bin",
			   "--kernel", "k"),
		     CLI_ERROR);
	cr_assert(strstr(err, "alternatives"), "%s", err);
	cr_assert_eq(parse(&cfg, err, 3, "run", "--payload", "p.bin,addr="),
		     CLI_ERROR);
	cr_assert_eq(parse(&cfg, err, 3, "run", "--payload", "p.bin,addr=12z"),
		     CLI_ERROR);
	cr_assert_eq(parse(&cfg, err, 3, "run", "--payload", "p.bin,at=1"),
		     CLI_ERROR);
	cr_assert(strstr(err, "--payload"), "%s", err);
}
