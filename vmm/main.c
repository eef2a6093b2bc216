// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>

#include "cli.h"
#include "log.h"
#include "vm.h"

#ifndef NESTBOX_VERSION
#define NESTBOX_VERSION "unknown"
#endif

int main(int argc, char **argv)
{
	struct vm_config cfg;
	char err[256];

	switch (cli_parse(argc, argv, &cfg, err, sizeof(err))) {
	case CLI_HELP:
		fputs(cli_usage, stdout);
		return 0;
	case CLI_VERSION:
		printf("nestbox %s\n", NESTBOX_VERSION);
		return 0;
	case CLI_RUN:
		log_set_verbosity(cfg.verbose);
		return vm_run(&cfg);
	case CLI_ERROR:
	default:
		fprintf(stderr, "nestbox: %s\n", err);
		return EXIT_USAGE;
	}
}
