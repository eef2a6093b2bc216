// SPDX-License-Identifier: MIT
/*
 * blkbench: a small block throughput probe for bench/block. Runs on a file
 * or a block device and prints one JSON line per test on stdout:
 *
 *   seqwrite   1 MiB writes from offset 0 over the first --seq-mib MiB,
 *              fdatasync at the end (timed)
 *   seqread    1 MiB reads from offset 0 over the first --seq-mib MiB
 *   randread   4 KiB reads at random 4 KiB-aligned offsets, for --rand-secs
 *              seconds or --rand-ops ops, whichever ends first
 *   randwrite  the same with writes, fdatasync at the end (timed)
 *
 * A sequential test that covered its --seq-mib MiB in less than
 * --seq-min-secs seconds starts again from offset 0 until that much time has
 * passed (so a fast target is not measured over a few milliseconds); it
 * stops at --seq-secs seconds even if the MiB are not done. The JSON line
 * says how many bytes were moved. Queue depth 1: plain pread/pwrite, one at
 * a time; every op is timed and the line gives latency percentiles
 * ("lat_us"; the fdatasync of write tests is not among them, see
 * "sync_secs"). Random offsets come from xorshift64* with a fixed seed, so
 * every run touches the same blocks in the same order.
 *
 * --mode direct    O_DIRECT (fails if the target refuses it)
 * --mode buffered  page cache; reads are preceded by fdatasync +
 *                  posix_fadvise(DONTNEED) on the whole target (on tmpfs
 *                  this cannot drop anything: the page cache is the store)
 * --mode auto      O_DIRECT when open() accepts it, else buffered
 *
 * Usage: blkbench [options] TARGET
 *   --mode M --seq-mib N --seq-min-secs S --seq-secs S --rand-secs S
 *   --rand-ops N
 *   --seed N --tests LIST (comma separated, default all four in the order
 *   above) --tag STR (copied into every line as "tag")
 *
 * Exit status 0 when every test ran without an I/O error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SEQ_BS (1u << 20)
#define RAND_BS 4096u

static const char *target;
static const char *mode_arg = "auto";
static const char *tag = "";
static unsigned long seq_mib = 64;
static double seq_secs = 30;
static double seq_min_secs = 2;
static double rand_secs = 10;
static unsigned long rand_ops = 1000000;
static uint64_t seed = 0x6e657374626f78ULL; /* "nestbox" */
static const char *tests = "seqwrite,seqread,randread,randwrite";

static int fd = -1;
static int direct;
static int odirect_ok;
static uint64_t target_bytes;
static const char *target_kind;
static unsigned char *buf;

/* Per-op latencies of the current test, in microseconds. */
static float *lat;
static size_t nlat, caplat;

static void lat_add(double us)
{
	if (nlat == caplat) {
		size_t n = caplat ? caplat * 2 : 65536;
		float *p = n <= (1u << 24) ? realloc(lat, n * sizeof(*lat)) : NULL;

		if (!p)
			return; /* keep what we have: a sample of the first ops */
		lat = p;
		caplat = n;
	}
	lat[nlat++] = (float)us;
}

static int cmp_float(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;

	return (x > y) - (x < y);
}

static double pct(double p)
{
	size_t i = (size_t)(p / 100.0 * (nlat - 1) + 0.5);

	return lat[i < nlat ? i : nlat - 1];
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t rng_state;

static uint64_t rng_next(void)
{
	uint64_t x = rng_state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static void die(const char *what)
{
	fprintf(stderr, "blkbench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: blkbench [--mode auto|direct|buffered] [--seq-mib N] [--seq-min-secs S]\n"
		"                [--seq-secs S]\n"
		"                [--rand-secs S] [--rand-ops N] [--seed N] [--tests LIST]\n"
		"                [--tag STR] TARGET\n");
	exit(2);
}

static void emit(const char *test, unsigned bs, unsigned long ops, uint64_t bytes,
		 double secs, double sync_secs, int err)
{
	double mib_s = secs > 0 ? bytes / 1048576.0 / secs : 0;
	double iops = secs > 0 ? ops / secs : 0;
	double sum = 0;
	size_t i;

	qsort(lat, nlat, sizeof(*lat), cmp_float);
	for (i = 0; i < nlat; i++)
		sum += lat[i];

	printf("{\"tag\":\"%s\",\"test\":\"%s\",\"target\":\"%s\",\"kind\":\"%s\","
	       "\"target_mib\":%llu,\"mode\":\"%s\",\"odirect_accepted\":%s,\"qd\":1,"
	       "\"bs\":%u,\"ops\":%lu,\"bytes\":%llu,\"secs\":%.6f,\"sync_secs\":%.6f,"
	       "\"mib_s\":%.3f,\"iops\":%.1f,\"seed\":%llu,\"error\":%s,"
	       "\"lat_us\":{\"n\":%zu,\"mean\":%.1f,\"min\":%.1f,\"p50\":%.1f,"
	       "\"p90\":%.1f,\"p99\":%.1f,\"max\":%.1f}}\n",
	       tag, test, target, target_kind, (unsigned long long)(target_bytes >> 20),
	       direct ? "direct" : "buffered", odirect_ok ? "true" : "false", bs, ops,
	       (unsigned long long)bytes, secs, sync_secs, mib_s, iops,
	       (unsigned long long)seed, err ? "true" : "false", nlat,
	       nlat ? sum / nlat : 0, nlat ? lat[0] : 0, nlat ? pct(50) : 0,
	       nlat ? pct(90) : 0, nlat ? pct(99) : 0, nlat ? lat[nlat - 1] : 0);
	fflush(stdout);
	nlat = 0;
}

/* Buffered reads: write back and drop what the cache holds of the target. */
static void drop_cache(void)
{
	if (direct)
		return;
	fdatasync(fd);
	posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	if (strcmp(target_kind, "blockdev") == 0)
		ioctl(fd, BLKFLSBUF, 0);
}

static int seq(int write)
{
	uint64_t want = (uint64_t)seq_mib << 20, done = 0, off = 0;
	unsigned long ops = 0;
	double t0, t1, ts, el, tp;
	int err = 0;

	if (want > target_bytes)
		want = target_bytes & ~(uint64_t)(SEQ_BS - 1);
	memset(buf, write ? 0xa5 : 0, SEQ_BS);
	if (!write)
		drop_cache();
	t0 = tp = now();
	for (;;) {
		ssize_t n = write ? pwrite(fd, buf, SEQ_BS, off) : pread(fd, buf, SEQ_BS, off);

		if (n != (ssize_t)SEQ_BS) {
			fprintf(stderr, "blkbench: %s at %llu: %s\n", write ? "pwrite" : "pread",
				(unsigned long long)off, n < 0 ? strerror(errno) : "short");
			err = 1;
			break;
		}
		done += SEQ_BS;
		off += SEQ_BS;
		if (off >= want)
			off = 0;
		ops++;
		t1 = now();
		lat_add((t1 - tp) * 1e6);
		tp = t1;
		el = t1 - t0;
		if (el >= seq_secs || (done >= want && el >= seq_min_secs))
			break;
	}
	ts = now();
	if (write && fdatasync(fd) != 0) {
		fprintf(stderr, "blkbench: fdatasync: %s\n", strerror(errno));
		err = 1;
	}
	t1 = now();
	emit(write ? "seqwrite" : "seqread", SEQ_BS, ops, done, t1 - t0, t1 - ts, err);
	return err;
}

static int rnd(int write)
{
	uint64_t blocks = target_bytes / RAND_BS;
	unsigned long ops = 0;
	double t0, t1, ts, tp;
	int err = 0;

	rng_state = seed ? seed : 1;
	memset(buf, write ? 0x5a : 0, RAND_BS);
	if (!write)
		drop_cache();
	t0 = tp = now();
	while (ops < rand_ops) {
		uint64_t off = (rng_next() % blocks) * RAND_BS;
		ssize_t n = write ? pwrite(fd, buf, RAND_BS, off) : pread(fd, buf, RAND_BS, off);

		if (n != (ssize_t)RAND_BS) {
			fprintf(stderr, "blkbench: %s at %llu: %s\n", write ? "pwrite" : "pread",
				(unsigned long long)off, n < 0 ? strerror(errno) : "short");
			err = 1;
			break;
		}
		ops++;
		t1 = now();
		lat_add((t1 - tp) * 1e6);
		tp = t1;
		if (t1 - t0 >= rand_secs)
			break;
	}
	ts = now();
	if (write && fdatasync(fd) != 0) {
		fprintf(stderr, "blkbench: fdatasync: %s\n", strerror(errno));
		err = 1;
	}
	t1 = now();
	emit(write ? "randwrite" : "randread", RAND_BS, ops, (uint64_t)ops * RAND_BS, t1 - t0,
	     t1 - ts, err);
	return err;
}

int main(int argc, char **argv)
{
	struct stat st;
	char *list, *tok, *save;
	int i, rc = 0, probe;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (a[0] != '-') {
			if (target)
				usage();
			target = a;
			continue;
		}
		if (i + 1 >= argc)
			usage();
		if (!strcmp(a, "--mode"))
			mode_arg = argv[++i];
		else if (!strcmp(a, "--seq-mib"))
			seq_mib = strtoul(argv[++i], NULL, 0);
		else if (!strcmp(a, "--seq-min-secs"))
			seq_min_secs = strtod(argv[++i], NULL);
		else if (!strcmp(a, "--seq-secs"))
			seq_secs = strtod(argv[++i], NULL);
		else if (!strcmp(a, "--rand-secs"))
			rand_secs = strtod(argv[++i], NULL);
		else if (!strcmp(a, "--rand-ops"))
			rand_ops = strtoul(argv[++i], NULL, 0);
		else if (!strcmp(a, "--seed"))
			seed = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(a, "--tests"))
			tests = argv[++i];
		else if (!strcmp(a, "--tag"))
			tag = argv[++i];
		else
			usage();
	}
	if (!target || (strcmp(mode_arg, "auto") && strcmp(mode_arg, "direct") &&
			strcmp(mode_arg, "buffered")))
		usage();

	/* Does the target accept O_DIRECT at all? (Reported either way.) */
	probe = open(target, O_RDWR | O_DIRECT | O_CLOEXEC);
	odirect_ok = probe >= 0;
	if (probe >= 0)
		close(probe);
	direct = !strcmp(mode_arg, "direct") || (!strcmp(mode_arg, "auto") && odirect_ok);
	fd = open(target, O_RDWR | O_CLOEXEC | (direct ? O_DIRECT : 0));
	if (fd < 0)
		die(target);
	if (fstat(fd, &st) != 0)
		die("fstat");
	if (S_ISBLK(st.st_mode)) {
		unsigned long long sz;

		if (ioctl(fd, BLKGETSIZE64, &sz) != 0)
			die("BLKGETSIZE64");
		target_bytes = sz;
		target_kind = "blockdev";
	} else {
		target_bytes = st.st_size;
		target_kind = "file";
	}
	if (target_bytes < SEQ_BS) {
		fprintf(stderr, "blkbench: %s is smaller than 1 MiB\n", target);
		return 1;
	}
	if (posix_memalign((void **)&buf, 4096, SEQ_BS) != 0)
		die("posix_memalign");

	list = strdup(tests);
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "seqwrite"))
			rc |= seq(1);
		else if (!strcmp(tok, "seqread"))
			rc |= seq(0);
		else if (!strcmp(tok, "randread"))
			rc |= rnd(0);
		else if (!strcmp(tok, "randwrite"))
			rc |= rnd(1);
		else {
			fprintf(stderr, "blkbench: unknown test '%s'\n", tok);
			rc = 1;
		}
	}
	close(fd);
	return rc;
}
