// SPDX-License-Identifier: GPL-2.0-only
/*
 * One TCP bulk transfer, timed on CLOCK_MONOTONIC, for bench/vfio.
 *
 *   tcpbench recv PORT                 accept one connection, read to EOF
 *   tcpbench send ADDR PORT BYTES      connect (retrying while refused or
 *                                      unreachable, up to 120 s), write
 *                                      BYTES, shut down, wait for the
 *                                      receiver to close
 *   tcpbench sendfile ADDR PORT FILE   the same as send, the bytes of FILE
 *                                      through sendfile(2): the socket's
 *                                      buffers are FILE's page-cache pages
 *                                      (4 KiB each on the lab kernel), not
 *                                      TCP's 32 KiB page fragments
 *   tcpbench tso IFC on|off            switch the NIC's TCP segmentation
 *                                      offload (busybox has no ethtool)
 *   tcpbench regs IFC                  the driver's register dump
 *                                      (ETHTOOL_GREGS; e1000e: ring heads
 *                                      and tails) and its non-zero
 *                                      ETHTOOL_GSTATS counters, one line
 *
 * Each prints one JSON object on stdout: bytes, secs (receiver: accept to
 * EOF; sender: connect to the receiver's close) and MB/s (10^6 bytes).
 * Static and dependency-free so it runs in busybox-only L1 and L2.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#define CHUNK_BYTES	   (128 * 1024)
#define CONNECT_RETRY_SECS 120

static char buf[CHUNK_BYTES];

static double now_secs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void report(const char *role, unsigned long long bytes, double secs)
{
	printf("{\"role\":\"%s\",\"bytes\":%llu,\"secs\":%.6f,\"mb_s\":%.3f}\n",
	       role, bytes, secs, secs > 0 ? bytes / secs / 1e6 : 0.0);
}

static int do_recv(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_ANY) };
	unsigned long long total = 0;
	int one = 1, ls, fd;
	double t0;
	ssize_t n;

	ls = socket(AF_INET, SOCK_STREAM, 0);
	if (ls < 0 ||
	    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(ls, (void *)&sa, sizeof(sa)) || listen(ls, 1)) {
		perror("tcpbench: listen");
		return 1;
	}
	fd = accept(ls, NULL, NULL);
	if (fd < 0) {
		perror("tcpbench: accept");
		return 1;
	}
	t0 = now_secs();
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		total += n;
	if (n < 0) {
		perror("tcpbench: read");
		return 1;
	}
	report("recv", total, now_secs() - t0);
	close(fd);
	return 0;
}

static int do_send(const char *addr, int port, unsigned long long bytes,
		   int file)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(port) };
	unsigned long long left = bytes;
	double deadline = now_secs() + CONNECT_RETRY_SECS, t0;
	ssize_t n;
	int fd;

	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
		fprintf(stderr, "tcpbench: bad address %s\n", addr);
		return 2;
	}
	for (;;) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0) {
			perror("tcpbench: socket");
			return 1;
		}
		if (connect(fd, (void *)&sa, sizeof(sa)) == 0)
			break;
		if ((errno != ECONNREFUSED && errno != EHOSTUNREACH &&
		     errno != ENETUNREACH && errno != ETIMEDOUT) ||
		    now_secs() > deadline) {
			perror("tcpbench: connect");
			return 1;
		}
		close(fd);
		usleep(200000);
	}
	memset(buf, 0x5a, sizeof(buf));
	t0 = now_secs();
	while (left) {
		if (file >= 0)
			n = sendfile(fd, file, NULL,
				     left < (1 << 20) ? left : (1 << 20));
		else
			n = write(fd, buf,
				  left < sizeof(buf) ? left : sizeof(buf));
		if (n <= 0) {
			perror("tcpbench: write");
			return 1;
		}
		left -= n;
	}
	shutdown(fd, SHUT_WR);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		;
	report("send", bytes, now_secs() - t0);
	close(fd);
	return 0;
}

static int do_tso(const char *ifc, int on)
{
	struct ethtool_value ev = { .cmd = ETHTOOL_STSO, .data = on };
	struct ifreq ifr = { .ifr_data = (void *)&ev };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifc);
	if (fd < 0 || ioctl(fd, SIOCETHTOOL, &ifr)) {
		perror("tcpbench: ETHTOOL_STSO");
		return 1;
	}
	close(fd);
	return 0;
}

static int ethtool(const char *ifc, void *data)
{
	struct ifreq ifr = { .ifr_data = data };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	int r;

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifc);
	r = fd < 0 ? -1 : ioctl(fd, SIOCETHTOOL, &ifr);
	if (fd >= 0)
		close(fd);
	return r;
}

static int do_regs(const char *ifc)
{
	/* e1000e's e1000_get_regs(): the first 12 words. */
	static const char *const names[] = {
		"CTRL", "STATUS", "RCTL",  "RDLEN", "RDH", "RDT",
		"RDTR", "TCTL",	  "TDLEN", "TDH",   "TDT", "TIDV"
	};
	struct ethtool_regs *regs = calloc(1, sizeof(*regs) + 4096);
	struct ethtool_drvinfo di = { .cmd = ETHTOOL_GDRVINFO };
	struct ethtool_gstrings *gs;
	struct ethtool_stats *st;
	uint32_t *w;

	if (!regs || ethtool(ifc, &di)) {
		perror("tcpbench: ETHTOOL_GDRVINFO");
		return 1;
	}
	regs->cmd = ETHTOOL_GREGS;
	regs->len = 4096;
	if (ethtool(ifc, regs)) {
		perror("tcpbench: ETHTOOL_GREGS");
		return 1;
	}
	w = (uint32_t *)regs->data;
	for (unsigned int i = 0; i < 12 && 4 * i < regs->len; i++)
		printf("%s=%#x ", names[i], w[i]);
	gs = calloc(1, sizeof(*gs) + (size_t)di.n_stats * ETH_GSTRING_LEN);
	st = calloc(1, sizeof(*st) + (size_t)di.n_stats * 8);
	if (!gs || !st)
		return 1;
	gs->cmd = ETHTOOL_GSTRINGS;
	gs->string_set = ETH_SS_STATS;
	gs->len = di.n_stats;
	st->cmd = ETHTOOL_GSTATS;
	st->n_stats = di.n_stats;
	if (!ethtool(ifc, gs) && !ethtool(ifc, st)) {
		for (unsigned int i = 0; i < st->n_stats; i++)
			if (st->data[i])
				printf("%.*s=%llu ", ETH_GSTRING_LEN,
				       (char *)gs->data + i * ETH_GSTRING_LEN,
				       (unsigned long long)st->data[i]);
	}
	printf("\n");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "recv"))
		return do_recv(atoi(argv[2]));
	if (argc == 5 && !strcmp(argv[1], "send"))
		return do_send(argv[2], atoi(argv[3]),
			       strtoull(argv[4], NULL, 0), -1);
	if (argc == 5 && !strcmp(argv[1], "sendfile")) {
		int f = open(argv[4], O_RDONLY);
		struct stat st;

		if (f < 0 || fstat(f, &st)) {
			perror(argv[4]);
			return 1;
		}
		return do_send(argv[2], atoi(argv[3]), st.st_size, f);
	}
	if (argc == 4 && !strcmp(argv[1], "tso"))
		return do_tso(argv[2], !strcmp(argv[3], "on"));
	if (argc == 3 && !strcmp(argv[1], "regs"))
		return do_regs(argv[2]);
	fprintf(stderr,
		"usage: tcpbench recv PORT | send ADDR PORT BYTES | sendfile ADDR PORT FILE | tso IFC on|off | regs IFC\n");
	return 2;
}
