// SPDX-License-Identifier: GPL-2.0
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char cli_usage[] =
	"usage: nestbox run --kernel IMAGE [options]\n"
	"       nestbox --help | --version\n"
	"\n"
	"Boot an arm64 Linux guest on KVM.\n"
	"\n"
	"run options:\n"
	"  --kernel IMAGE         arm64 Linux Image (uncompressed) to boot\n"
	"  --initrd FILE          initial ramdisk\n"
	"  --cmdline STR          kernel command line\n"
	"  --cpus N               number of vCPUs (default 1)\n"
	"  --memory SIZE          guest RAM, e.g. 512M, 2G (default 512M; a bare\n"
	"                         number is MiB)\n"
	"  --console KIND         stdio (default), none, or file:PATH\n"
	"  --disk SPEC            virtio-blk disk, repeatable; SPEC is\n"
	"                         PATH[,readonly][,serial=S][,queues=N][,transport=pci|mmio]\n"
	"                         [,bus=bridge] (behind a PCIe-to-PCI bridge)\n"
	"  --net SPEC             virtio-net on a tap, repeatable; SPEC is\n"
	"                         tap=NAME[,mac=MAC][,transport=pci|mmio][,bus=bridge]\n"
	"  --rng[=pci|bridge|mmio]  virtio-rng entropy device (default pci)\n"
	"  --virtio-console[=pci|bridge|mmio]\n"
	"                         give the console's input to a virtio-console\n"
	"                         (guest: console=hvc0) instead of the UART\n"
	"  --iommu virtio[,transport=pci|mmio][,bypass=on|off]\n"
	"                         put the virtio devices behind a virtio-iommu;\n"
	"                         bypass: DMA of endpoints the guest has not\n"
	"                         attached is let through (default on). Add\n"
	"                         iommu=off to a device's SPEC (--rng=pci,iommu=off)\n"
	"                         to leave it out\n"
	"  --payload FILE[,addr=ADDRESS]\n"
	"                         instead of --kernel: a flat binary loaded at\n"
	"                         ADDRESS (default: the bottom of RAM) and\n"
	"                         started there with the DTB address in x0\n"
	"  --testdev              a PCI test device for interrupt-latency\n"
	"                         payloads (bench/irq)\n"
	"  --vfio DEV[,bus=bridge]  assign a host PCI function bound to vfio-pci\n"
	"                         (DEV: 0000:01:00.0 or /dev/vfio/devices/vfioN),\n"
	"                         repeatable\n"
	"  --dump-dtb FILE        also write the generated device tree to FILE\n"
	"  -v, --verbose          more detail on stderr (repeat for debug)\n"
	"\n"
	"With --console stdio on a terminal, type Ctrl-A x to quit and Ctrl-A\n"
	"Ctrl-A to send a Ctrl-A to the guest.\n"
	"\n"
	"Exit status: 0 guest powered off or rebooted; 1 bad input or host\n"
	"unsupported; 2 usage error; 3 guest crashed (registers on stderr);\n"
	"4 host failure while running; 128+N stopped by signal N.\n";

int cli_parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	unsigned int shift = 20; /* bare number: MiB */
	char *end;

	if (!s || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -ERANGE;
	if (*end) {
		switch (toupper((unsigned char)*end)) {
		case 'B':
			shift = 0;
			break;
		case 'K':
			shift = 10;
			break;
		case 'M':
			shift = 20;
			break;
		case 'G':
			shift = 30;
			break;
		case 'T':
			shift = 40;
			break;
		default:
			return -EINVAL;
		}
		end++;
		if (shift && (!strcasecmp(end, "iB") || !strcasecmp(end, "B")))
			end += strlen(end);
		if (*end)
			return -EINVAL;
	}
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = (uint64_t)v << shift;
	return 0;
}

void cli_format_size(uint64_t bytes, char *buf, size_t len)
{
	static const char units[] = "KMGT";
	int i;

	for (i = 3; i >= 0; i--) {
		uint64_t unit = 1ULL << (10 * (i + 1));

		if (bytes >= unit) {
			if (bytes % unit == 0)
				snprintf(buf, len, "%llu%c",
					 (unsigned long long)(bytes / unit),
					 units[i]);
			else
				snprintf(buf, len, "%.1f%c",
					 (double)bytes / (double)unit,
					 units[i]);
			return;
		}
	}
	snprintf(buf, len, "%llu", (unsigned long long)bytes);
}

enum {
	OPT_KERNEL = 0x100,
	OPT_INITRD,
	OPT_CMDLINE,
	OPT_CPUS,
	OPT_MEMORY,
	OPT_CONSOLE,
	OPT_DUMP_DTB,
	OPT_DISK,
	OPT_RNG,
	OPT_NET,
	OPT_VIRTIO_CONSOLE,
	OPT_IOMMU,
	OPT_VFIO,
	OPT_PAYLOAD,
	OPT_TESTDEV,
};

static int parse_console(const char *arg, struct vm_config *cfg)
{
	if (!strcmp(arg, "stdio")) {
		cfg->console = CONSOLE_STDIO;
	} else if (!strcmp(arg, "none")) {
		cfg->console = CONSOLE_NONE;
	} else if (!strncmp(arg, "file:", 5) && arg[5]) {
		cfg->console = CONSOLE_FILE;
		cfg->console_path = arg + 5;
	} else {
		return -EINVAL;
	}
	return 0;
}

/* "on" or "off" */
static int parse_on_off(const char *arg, bool *v)
{
	if (!strcmp(arg, "on"))
		*v = true;
	else if (!strcmp(arg, "off"))
		*v = false;
	else
		return -EINVAL;
	return 0;
}

/*
 * "virtio[,transport=pci|mmio][,bypass=on|off]" or
 * "smmuv3[,irq=msi|wired]"
 */
static int parse_iommu(const char *arg, struct vm_config *cfg, char *err,
		       size_t errlen)
{
	char buf[128], *tok, *save = NULL;
	bool smmu;

	/* strtok_r() would skip empty items: refuse them first. */
	if (strlen(arg) >= sizeof(buf) || strstr(arg, ",,") ||
	    (arg[0] && arg[strlen(arg) - 1] == ','))
		goto bad;
	strcpy(buf, arg);
	tok = strtok_r(buf, ",", &save);
	if (!tok || (strcmp(tok, "virtio") && strcmp(tok, "smmuv3")))
		goto bad;
	smmu = !strcmp(tok, "smmuv3");
	cfg->iommu = smmu ? IOMMU_SMMUV3 : IOMMU_VIRTIO;
	cfg->iommu_transport = TRANSPORT_PCI;
	cfg->iommu_bypass = true;
	cfg->smmu_wired = false;
	while ((tok = strtok_r(NULL, ",", &save))) {
		if (smmu && !strcmp(tok, "irq=msi"))
			cfg->smmu_wired = false;
		else if (smmu && !strcmp(tok, "irq=wired"))
			cfg->smmu_wired = true;
		else if (!smmu && !strcmp(tok, "transport=pci"))
			cfg->iommu_transport = TRANSPORT_PCI;
		else if (!smmu && !strcmp(tok, "transport=mmio"))
			cfg->iommu_transport = TRANSPORT_MMIO;
		else if (smmu || strncmp(tok, "bypass=", 7) ||
			 parse_on_off(tok + 7, &cfg->iommu_bypass))
			goto bad;
	}
	return 0;
bad:
	snprintf(err, errlen,
		 "--iommu '%s': expected virtio[,transport=pci|mmio][,bypass=on|off] or smmuv3[,irq=msi|wired]",
		 arg);
	return -EINVAL;
}

/* "pci" (or nothing), "bridge" or "mmio" */
static int parse_transport(const char *arg, enum transport_kind *t)
{
	if (!arg || !strcmp(arg, "pci"))
		*t = TRANSPORT_PCI;
	else if (!strcmp(arg, "bridge"))
		*t = TRANSPORT_PCI_BRIDGE;
	else if (!strcmp(arg, "mmio"))
		*t = TRANSPORT_MMIO;
	else
		return -EINVAL;
	return 0;
}

/*
 * Where --rng / --virtio-console go: "pci" (or nothing), "bridge" or
 * "mmio", optionally followed (or replaced) by "iommu=on|off".
 */
static int parse_placement(const char *arg, enum transport_kind *t,
			   int *iommu)
{
	char buf[64], *where = buf, *opt = NULL;
	bool on = true;

	*iommu = -1;
	if (!arg)
		return parse_transport(NULL, t);
	if (strlen(arg) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, arg);
	if (!strncmp(buf, "iommu=", 6)) {
		where = NULL;
		opt = buf;
	} else if ((opt = strchr(buf, ','))) {
		*opt++ = '\0';
	}
	if (opt && (strncmp(opt, "iommu=", 6) || parse_on_off(opt + 6, &on)))
		return -EINVAL;
	if (opt)
		*iommu = on;
	return parse_transport(where, t);
}

static int parse_cpus(const char *arg, unsigned int *cpus)
{
	unsigned long v;
	char *end;

	if (!isdigit((unsigned char)arg[0]))
		return -EINVAL;
	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno || *end || v == 0 || v > 65536)
		return -EINVAL;
	*cpus = v;
	return 0;
}

enum cli_command cli_parse(int argc, char **argv, struct vm_config *cfg,
			   char *err, size_t errlen)
{
	static const struct option top_opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	static const struct option run_opts[] = {
		{ "kernel", required_argument, NULL, OPT_KERNEL },
		{ "initrd", required_argument, NULL, OPT_INITRD },
		{ "cmdline", required_argument, NULL, OPT_CMDLINE },
		{ "cpus", required_argument, NULL, OPT_CPUS },
		{ "memory", required_argument, NULL, OPT_MEMORY },
		{ "console", required_argument, NULL, OPT_CONSOLE },
		{ "dump-dtb", required_argument, NULL, OPT_DUMP_DTB },
		{ "disk", required_argument, NULL, OPT_DISK },
		{ "rng", optional_argument, NULL, OPT_RNG },
		{ "net", required_argument, NULL, OPT_NET },
		{ "virtio-console", optional_argument, NULL,
		  OPT_VIRTIO_CONSOLE },
		{ "iommu", required_argument, NULL, OPT_IOMMU },
		{ "vfio", required_argument, NULL, OPT_VFIO },
		{ "payload", required_argument, NULL, OPT_PAYLOAD },
		{ "testdev", no_argument, NULL, OPT_TESTDEV },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	memset(cfg, 0, sizeof(*cfg));
	cfg->cpus = CLI_DEFAULT_CPUS;
	cfg->mem_size = CLI_DEFAULT_MEM;
	cfg->console = CONSOLE_STDIO;
	cfg->cmdline = "";
	cfg->rng_iommu = cfg->virtio_console_iommu = -1;

	/* getopt keeps state in globals; reset it so parsing is repeatable. */
	optind = 0;
	opterr = 0;

	if (argc < 2) {
		snprintf(err, errlen,
			 "no command given (try 'nestbox --help')");
		return CLI_ERROR;
	}
	if (argv[1][0] == '-') {
		c = getopt_long(argc, argv, "+hV", top_opts, NULL);
		if (c == 'h')
			return CLI_HELP;
		if (c == 'V')
			return CLI_VERSION;
		snprintf(err, errlen,
			 "unknown option '%s' (try 'nestbox --help')", argv[1]);
		return CLI_ERROR;
	}
	if (strcmp(argv[1], "run")) {
		snprintf(err, errlen,
			 "unknown command '%s' (try 'nestbox --help')",
			 argv[1]);
		return CLI_ERROR;
	}

	argc--;
	argv++;
	optind = 0;
	while ((c = getopt_long(argc, argv, "+:vh", run_opts, NULL)) != -1) {
		switch (c) {
		case OPT_KERNEL:
			cfg->kernel = optarg;
			break;
		case OPT_INITRD:
			cfg->initrd = optarg;
			break;
		case OPT_CMDLINE:
			if (strlen(optarg) >= CLI_CMDLINE_MAX) {
				snprintf(
					err, errlen,
					"--cmdline: %zu bytes is longer than the %d a kernel accepts",
					strlen(optarg), CLI_CMDLINE_MAX - 1);
				return CLI_ERROR;
			}
			cfg->cmdline = optarg;
			break;
		case OPT_CPUS:
			if (parse_cpus(optarg, &cfg->cpus)) {
				snprintf(
					err, errlen,
					"--cpus '%s': expected a number from 1 upwards",
					optarg);
				return CLI_ERROR;
			}
			break;
		case OPT_MEMORY:
			if (cli_parse_size(optarg, &cfg->mem_size)) {
				snprintf(
					err, errlen,
					"--memory '%s': expected a size such as 512M or 2G",
					optarg);
				return CLI_ERROR;
			}
			break;
		case OPT_CONSOLE:
			if (parse_console(optarg, cfg)) {
				snprintf(
					err, errlen,
					"--console '%s': expected stdio, none or file:PATH",
					optarg);
				return CLI_ERROR;
			}
			break;
		case OPT_DUMP_DTB:
			cfg->dump_dtb = optarg;
			break;
		case OPT_DISK:
			if (cfg->nr_disks == CLI_MAX_DISKS) {
				snprintf(err, errlen,
					 "--disk: at most %d disks",
					 CLI_MAX_DISKS);
				return CLI_ERROR;
			}
			cfg->disks[cfg->nr_disks++] = optarg;
			break;
		case OPT_NET:
			if (cfg->nr_nets == CLI_MAX_NETS) {
				snprintf(err, errlen,
					 "--net: at most %d interfaces",
					 CLI_MAX_NETS);
				return CLI_ERROR;
			}
			cfg->nets[cfg->nr_nets++] = optarg;
			break;
		case OPT_VIRTIO_CONSOLE:
			cfg->virtio_console = true;
			if (parse_placement(optarg,
					    &cfg->virtio_console_transport,
					    &cfg->virtio_console_iommu)) {
				snprintf(
					err, errlen,
					"--virtio-console='%s': expected pci, bridge or mmio, then optionally ,iommu=on|off",
					optarg);
				return CLI_ERROR;
			}
			break;
		case OPT_RNG:
			cfg->rng = true;
			if (parse_placement(optarg, &cfg->rng_transport,
					    &cfg->rng_iommu)) {
				snprintf(
					err, errlen,
					"--rng='%s': expected pci, bridge or mmio, then optionally ,iommu=on|off",
					optarg);
				return CLI_ERROR;
			}
			break;
		case OPT_PAYLOAD: {
			char *comma = strchr(optarg, ',');

			cfg->payload = optarg;
			cfg->payload_addr = 0;
			if (comma) {
				char *end;

				errno = 0;
				if (strncmp(comma + 1, "addr=", 5) ||
				    (cfg->payload_addr = strtoull(comma + 6, &end,
								  0),
				     errno || *end || end == comma + 6)) {
					snprintf(
						err, errlen,
						"--payload '%s': expected FILE[,addr=ADDRESS]",
						optarg);
					return CLI_ERROR;
				}
				/* The file name ends at the comma. */
				cfg->payload_name_len = comma - optarg;
			} else {
				cfg->payload_name_len = strlen(optarg);
			}
			break;
		}
		case OPT_TESTDEV:
			cfg->testdev = true;
			break;
		case OPT_VFIO:
			if (cfg->nr_vfio == CLI_MAX_VFIO) {
				snprintf(err, errlen,
					 "--vfio: at most %d assigned devices",
					 CLI_MAX_VFIO);
				return CLI_ERROR;
			}
			cfg->vfio[cfg->nr_vfio++] = optarg;
			break;
		case OPT_IOMMU:
			if (parse_iommu(optarg, cfg, err, errlen))
				return CLI_ERROR;
			break;
		case 'v':
			cfg->verbose++;
			break;
		case 'h':
			return CLI_HELP;
		case ':':
			snprintf(err, errlen, "option '%s' needs a value",
				 argv[optind - 1]);
			return CLI_ERROR;
		default:
			snprintf(
				err, errlen,
				"unknown option '%s' for 'run' (try 'nestbox --help')",
				argv[optind - 1]);
			return CLI_ERROR;
		}
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%s'", argv[optind]);
		return CLI_ERROR;
	}
	if (cfg->kernel && cfg->payload) {
		snprintf(err, errlen,
			 "run: --kernel and --payload are alternatives; give one");
		return CLI_ERROR;
	}
	if (!cfg->kernel && !cfg->payload) {
		snprintf(err, errlen, "run: --kernel IMAGE is required");
		return CLI_ERROR;
	}
	return CLI_RUN;
}
