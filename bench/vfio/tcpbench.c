// SPDX-License-Identifier: GPL-2.0-only
/*
 * One TCP bulk transfer, timed on CLOCK_MONOTONIC, for bench/vfio.
 *
 *   tcpbench recv PORT                 accept one connection, read to EOF
 *   tcpbench send ADDR PORT BYTES      connect (retrying while refused or
 *                                      unreachable, up to 120 s), write
 *                                      BYTES, shut down, wait for the
 *                                      receiver to close
 *   tcpbench tso IFC on|off            switch the NIC's TCP segmentation
 *                                      offload (busybox has no ethtool)
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
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

static int do_send(const char *addr, int port, unsigned long long bytes)
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
		n = write(fd, buf, left < sizeof(buf) ? left : sizeof(buf));
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

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "recv"))
		return do_recv(atoi(argv[2]));
	if (argc == 5 && !strcmp(argv[1], "send"))
		return do_send(argv[2], atoi(argv[3]),
			       strtoull(argv[4], NULL, 0));
	if (argc == 4 && !strcmp(argv[1], "tso"))
		return do_tso(argv[2], !strcmp(argv[3], "on"));
	fprintf(stderr,
		"usage: tcpbench recv PORT | send ADDR PORT BYTES | tso IFC on|off\n");
	return 2;
}
