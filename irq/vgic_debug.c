// SPDX-License-Identifier: GPL-2.0
#include "vgic_debug.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define VGIC_STATE_MAX (1 << 20) /* plenty for thousands of interrupts */

int vgic_state_count_lpis(const char *text, struct vgic_lpi_count *out)
{
	const char *hdr = strstr(text, "PLAEHCG");
	const char *line = text;
	int h_col;

	out->lpis = out->hw = 0;
	if (!hdr)
		return -EINVAL;
	/* The flags column's 5th letter is H. */
	h_col = strchr("PLAEHCG", 'H') - "PLAEHCG";
	while (line && *line) {
		const char *end = strchr(line, '\n');
		char typ[8], id[16], tgt[16], flags[16];

		if (sscanf(line, "%7s %15s %15s %15s", typ, id, tgt, flags) ==
			    4 &&
		    !strcmp(typ, "LPI") && strlen(flags) == 7 &&
		    strspn(flags, "01") == 7) {
			out->lpis++;
			if (flags[h_col] == '1')
				out->hw++;
		}
		line = end ? end + 1 : NULL;
	}
	return 0;
}

int vgic_state_read_lpis(int pid, int vm_fd, struct vgic_lpi_count *out)
{
	char path[96], *buf;
	ssize_t n, total = 0;
	int fd, r;

	snprintf(path, sizeof(path), "/sys/kernel/debug/kvm/%d-%d/vgic-state",
		 pid, vm_fd);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	buf = malloc(VGIC_STATE_MAX + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (total < VGIC_STATE_MAX &&
	       (n = read(fd, buf + total, VGIC_STATE_MAX - total)) > 0)
		total += n;
	close(fd);
	buf[total] = '\0';
	r = vgic_state_count_lpis(buf, out);
	free(buf);
	return r;
}
