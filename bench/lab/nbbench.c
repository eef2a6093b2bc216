// SPDX-License-Identifier: GPL-2.0
/*
 * nbbench: measures one run of a VMM (nestbox or QEMU) inside the lab's
 * emulated arm64 host and prints one JSON line.
 *
 *   nbbench run   [opts] -- VMM ARGS...   timed run, no ptrace
 *   nbbench trace [opts] -- VMM ARGS...   ptrace pass: syscalls, KVM_RUN
 *
 * Options:
 *   --label NAME        written into the JSON line
 *   --run N             run number, written into the JSON line
 *   --marker STR        the guest's first userspace output (default
 *                       NBL2-USERSPACE)
 *   --stop-at STR       after this guest output, stop sampling /proc (default
 *                       "NBL2: powering off"): teardown runs undisturbed
 *   --timeout SEC       SIGKILL the VMM after SEC seconds (default 120)
 *   --interval-ms N     /proc/PID/status sampling period (default 10)
 *   --fast-us N         period of the first-KVM_RUN probe (default 1000)...
 *   --fast-pct P        ...or P percent of the time elapsed, if longer
 *                       (default 1): the probe's error is at most
 *                       max(N us, P %)
 *   --stderr FILE       the VMM's stderr (default /dev/null)
 *   --timeline N        trace: also print the first N syscalls before the
 *                       first KVM_RUN with their times
 *
 * "run" forks and execs the VMM with stdout on a pipe and measures, on
 * CLOCK_MONOTONIC from just before fork():
 *   t_first_kvm_run_ms  first KVM_RUN of any vCPU: a probe polls (every
 *                       --fast-us or --fast-pct) KVM's global debugfs counter "exits",
 *                       which turns non-zero at the first guest exit, within
 *                       microseconds of the first KVM_RUN (no ptrace and no
 *                       seccomp: the lab kernel has no CONFIG_SECCOMP, and
 *                       7.3 has no per-vCPU debugfs "pid" file on arm64)
 *   startup_cpu_ms      CPU time of all VMM threads at that moment
 *                       (/proc/PID/task/N/schedstat)
 *   startup_minflt      minor page faults of the VMM at that moment
 *   t_marker_ms         the marker line on the VMM's stdout
 *   t_stop_ms           the --stop-at line
 *   t_exit_ms           process exit (pidfd readable: teardown included)
 *   rss_*_peak_kib      peaks of RssAnon+RssFile ("rss_peak_kib"), RssAnon,
 *                       RssFile, RssShmem of /proc/PID/status samples taken
 *                       until the --stop-at line
 *   kvm                 every global KVM debugfs stat (sums over live VMs:
 *                       the VMM's), read once when the marker is seen: the
 *                       exits during boot
 *
 * "trace" runs the VMM under ptrace (all threads, PTRACE_O_TRACECLONE) and
 * counts syscalls by name, ioctls by request, KVM_RUN calls and returns
 * (exits to userspace) with the exit reason read from the vCPU's kvm_run
 * page, and MMIO exits by 64 KiB page; "before marker" counts stop when the
 * marker is written to fd 1 (seen in the write/writev arguments).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <linux/ptrace.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "syscall_names.h"

#ifndef PTRACE_GET_SYSCALL_INFO
#define PTRACE_GET_SYSCALL_INFO 0x420e
#endif
/* ptrace(2) from <sys/ptrace.h> clashes with <linux/ptrace.h>. */
static long xptrace(long req, pid_t pid, void *addr, void *data)
{
	return syscall(SYS_ptrace, req, pid, addr, data);
}

#define DEBUGFS_KVM "/sys/kernel/debug/kvm"

struct opts {
	const char *label;
	int run;
	const char *marker;
	const char *stop_at;
	double timeout_s;
	int interval_ms;
	int fast_us;
	double fast_pct;
	const char *stderr_path;
	int timeline;
	char **argv;
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("nbbench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

/* ---- a tiny JSON writer on a growing buffer ---- */

struct jbuf {
	char *p;
	size_t len, cap;
	bool need_comma;
};

static void jraw(struct jbuf *j, const char *s, size_t n)
{
	if (j->len + n + 1 > j->cap) {
		j->cap = (j->len + n + 1) * 2 + 256;
		j->p = realloc(j->p, j->cap);
		if (!j->p)
			die("out of memory");
	}
	memcpy(j->p + j->len, s, n);
	j->len += n;
	j->p[j->len] = 0;
}

static void jputs(struct jbuf *j, const char *s)
{
	jraw(j, s, strlen(s));
}

static void jstr(struct jbuf *j, const char *s)
{
	jputs(j, "\"");
	for (; *s; s++) {
		unsigned char c = *s;
		char e[8];

		if (c == '"' || c == '\\') {
			e[0] = '\\';
			e[1] = c;
			jraw(j, e, 2);
		} else if (c < 0x20 || c >= 0x7f) {
			snprintf(e, sizeof(e), "\\u%04x", c);
			jputs(j, e);
		} else {
			jraw(j, (char *)&c, 1);
		}
	}
	jputs(j, "\"");
}

static void jkey(struct jbuf *j, const char *k)
{
	if (j->need_comma)
		jputs(j, ",");
	jstr(j, k);
	jputs(j, ":");
	j->need_comma = true;
}

static void jopen(struct jbuf *j, const char *k)
{
	if (k)
		jkey(j, k);
	else if (j->need_comma)
		jputs(j, ",");
	jputs(j, "{");
	j->need_comma = false;
}

static void jclose(struct jbuf *j)
{
	jputs(j, "}");
	j->need_comma = true;
}

static void jnum(struct jbuf *j, const char *k, double v)
{
	char b[64];

	jkey(j, k);
	if (v == (long long)v)
		snprintf(b, sizeof(b), "%lld", (long long)v);
	else
		snprintf(b, sizeof(b), "%.3f", v);
	jputs(j, b);
}

static void jnull(struct jbuf *j, const char *k)
{
	jkey(j, k);
	jputs(j, "null");
}

/* A time or null when it never happened (< 0). */
static void jtime(struct jbuf *j, const char *k, double v)
{
	if (v < 0)
		jnull(j, k);
	else
		jnum(j, k, v);
}

static void jbool(struct jbuf *j, const char *k, bool v)
{
	jkey(j, k);
	jputs(j, v ? "true" : "false");
}

static void jkstr(struct jbuf *j, const char *k, const char *v)
{
	jkey(j, k);
	jstr(j, v);
}

/* ---- counters keyed by string ---- */

struct counter {
	char *name;
	unsigned long long n;
};

struct counters {
	struct counter *v;
	size_t len, cap;
};

static void count_add(struct counters *c, const char *name,
		      unsigned long long n)
{
	for (size_t i = 0; i < c->len; i++) {
		if (!strcmp(c->v[i].name, name)) {
			c->v[i].n += n;
			return;
		}
	}
	if (c->len == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 32;
		c->v = realloc(c->v, c->cap * sizeof(*c->v));
		if (!c->v)
			die("out of memory");
	}
	c->v[c->len].name = strdup(name);
	c->v[c->len].n = n;
	c->len++;
}

static int cmp_counter(const void *a, const void *b)
{
	const struct counter *x = a, *y = b;

	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	return strcmp(x->name, y->name);
}

static unsigned long long count_total(const struct counters *c)
{
	unsigned long long t = 0;

	for (size_t i = 0; i < c->len; i++)
		t += c->v[i].n;
	return t;
}

static void jcounters(struct jbuf *j, const char *k, struct counters *c)
{
	qsort(c->v, c->len, sizeof(*c->v), cmp_counter);
	jopen(j, k);
	for (size_t i = 0; i < c->len; i++)
		jnum(j, c->v[i].name, (double)c->v[i].n);
	jclose(j);
}

/* ---- marker matching on a byte stream ---- */

struct matcher {
	const char *pat;
	size_t len, have; /* have: bytes of pat matched so far (KMP-less) */
	char *win;	  /* sliding window of the last len bytes */
	size_t wlen;
	bool found;
};

static void matcher_init(struct matcher *m, const char *pat)
{
	memset(m, 0, sizeof(*m));
	m->pat = pat;
	m->len = pat ? strlen(pat) : 0;
	m->win = calloc(1, m->len + 1);
}

/* Feed bytes; true the first time the pattern completes. */
static bool matcher_feed(struct matcher *m, const char *buf, size_t n)
{
	if (m->found || !m->len)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (m->wlen == m->len) {
			memmove(m->win, m->win + 1, m->len - 1);
			m->wlen--;
		}
		m->win[m->wlen++] = buf[i];
		if (m->wlen == m->len && !memcmp(m->win, m->pat, m->len)) {
			m->found = true;
			return true;
		}
	}
	return false;
}

/* ---- /proc and debugfs helpers ---- */

static ssize_t read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = 0;
	return n;
}

struct rss {
	long anon, file, shmem, threads;
};

static bool read_status(pid_t pid, struct rss *r)
{
	char path[64], buf[4096];
	char *p;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if (read_file(path, buf, sizeof(buf)) <= 0)
		return false;
	memset(r, 0, sizeof(*r));
	r->anon = r->file = -1;
	for (p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (!strncmp(p, "RssAnon:", 8))
			r->anon = strtol(p + 8, NULL, 10);
		else if (!strncmp(p, "RssFile:", 8))
			r->file = strtol(p + 8, NULL, 10);
		else if (!strncmp(p, "RssShmem:", 9))
			r->shmem = strtol(p + 9, NULL, 10);
		else if (!strncmp(p, "Threads:", 8))
			r->threads = strtol(p + 8, NULL, 10);
	}
	return r->anon >= 0 && r->file >= 0;
}

/* Sum of on-CPU time (ns) of the process's threads. */
static double task_cpu_ms(pid_t pid)
{
	char path[320], buf[256];
	struct dirent *de;
	double ns = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/schedstat", pid,
			 de->d_name);
		if (read_file(path, buf, sizeof(buf)) > 0)
			ns += strtod(buf, NULL);
	}
	closedir(d);
	return ns / 1e6;
}

/* Minor page faults of the whole process (/proc/PID/stat field 10). */
static long long proc_minflt(pid_t pid)
{
	char path[64], buf[1024];
	char *p;
	int field = 2;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (read_file(path, buf, sizeof(buf)) <= 0)
		return -1;
	p = strrchr(buf, ')'); /* after "pid (comm)" */
	if (!p)
		return -1;
	for (p++; *p && field < 10; p++)
		if (*p == ' ')
			field++;
	return strtoll(p, NULL, 10);
}

/*
 * KVM's global "exits" counter: the sum over all live VMs of their vCPUs'
 * exits. Only the measured VMM runs VMs, and a vCPU exits within
 * microseconds of its first KVM_RUN (its first instruction fetch faults),
 * so the counter turning non-zero marks the first KVM_RUN. Reading a global
 * stat takes no reference on any VM (unlike the per-VM files).
 */
static long long kvm_exits(void)
{
	char buf[64];

	if (read_file(DEBUGFS_KVM "/exits", buf, sizeof(buf)) <= 0)
		return -1;
	return strtoll(buf, NULL, 10);
}

/*
 * Every global KVM stat file into C: sums over the live VMs, i.e. the
 * measured VMM's VM (QEMU's -cpu host probe VM is gone by the time the guest
 * reaches userspace, and it never runs).
 */
static int read_kvm_stats(struct counters *c)
{
	char path[384], buf[64];
	struct dirent *de;
	DIR *d;
	int n = 0;

	d = opendir(DEBUGFS_KVM);
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || de->d_type == DT_DIR)
			continue;
		snprintf(path, sizeof(path), DEBUGFS_KVM "/%s", de->d_name);
		if (read_file(path, buf, sizeof(buf)) > 0) {
			char *end;
			unsigned long long v = strtoull(buf, &end, 10);

			if (end != buf) {
				count_add(c, de->d_name, v);
				n++;
			}
		}
	}
	closedir(d);
	return n;
}

/* ---- child start ---- */

static pid_t spawn(const struct opts *o, int out_fd, bool traceme)
{
	pid_t pid = fork();

	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		int in = open("/dev/null", O_RDONLY);
		int err = open(o->stderr_path, O_WRONLY | O_CREAT | O_TRUNC,
			       0644);

		if (in < 0 || err < 0)
			_exit(126);
		dup2(in, 0);
		dup2(out_fd, 1);
		dup2(err, 2);
		for (int fd = 3; fd < 1024; fd++)
			close(fd);
		if (traceme) {
			if (xptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0)
				_exit(126);
			raise(SIGSTOP);
		}
		execv(o->argv[0], o->argv);
		_exit(127);
	}
	return pid;
}

static void json_head(struct jbuf *j, const struct opts *o, const char *mode)
{
	jopen(j, NULL);
	jkstr(j, "mode", mode);
	jkstr(j, "label", o->label);
	jnum(j, "run", o->run);
}

static void json_status(struct jbuf *j, int wstatus, bool timed_out)
{
	jbool(j, "timeout", timed_out);
	if (WIFEXITED(wstatus))
		jnum(j, "status", WEXITSTATUS(wstatus));
	else
		jnum(j, "status", 128 + WTERMSIG(wstatus));
}

/* ---- timed run ---- */

static int do_run(const struct opts *o)
{
	int pfd[2], pidfd;
	double t0, deadline, t_first = -1, t_marker = -1, t_stop = -1,
			     t_exit = -1, startup_cpu = -1, next_fast,
			     next_slow;
	long peak = -1, peak_anon = -1, peak_file = -1, peak_shmem = -1,
	     max_threads = 0, samples = 0, probes = 0;
	struct counters kvm = { 0 };
	int kvm_stats = -1;
	long long startup_minflt = -1;
	double probe_ms = 0;
	unsigned long long out_bytes = 0;
	struct matcher mk, ms;
	bool pipe_open = true, sampling = true, timed_out = false;
	struct rusage ru;
	int wstatus = 0;
	siginfo_t si;
	struct jbuf j = { 0 };
	pid_t pid;

	matcher_init(&mk, o->marker);
	matcher_init(&ms, o->stop_at);
	if (pipe2(pfd, O_CLOEXEC) < 0)
		die("pipe: %s", strerror(errno));
	t0 = now_ms();
	pid = spawn(o, pfd[1], false);
	close(pfd[1]);
	pidfd = syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		die("pidfd_open: %s", strerror(errno));
	deadline = t0 + o->timeout_s * 1e3;
	next_fast = t0;
	next_slow = t0;

	for (;;) {
		struct pollfd fds[2] = {
			{ .fd = pidfd, .events = POLLIN },
			{ .fd = pipe_open ? pfd[0] : -1, .events = POLLIN },
		};
		double now = now_ms(), wake = deadline;
		struct timespec ts;

		if (t_first < 0 && t_marker < 0 && next_fast < wake)
			wake = next_fast;
		if (sampling && next_slow < wake)
			wake = next_slow;
		if (wake < now)
			wake = now;
		ts.tv_sec = (time_t)((wake - now) / 1e3);
		ts.tv_nsec = (long)(((wake - now) - ts.tv_sec * 1e3) * 1e6);
		if (ppoll(fds, 2, &ts, NULL) < 0 && errno != EINTR)
			die("ppoll: %s", strerror(errno));
		now = now_ms();

		if (fds[1].revents & (POLLIN | POLLHUP)) {
			char buf[4096];
			ssize_t n = read(pfd[0], buf, sizeof(buf));

			if (n <= 0) {
				pipe_open = false;
			} else {
				out_bytes += n;
				if (matcher_feed(&mk, buf, n)) {
					t_marker = now;
					/* Boot exits: KVM's stats now. */
					kvm_stats = read_kvm_stats(&kvm);
				}
				if (matcher_feed(&ms, buf, n)) {
					t_stop = now;
					sampling = false;
				}
			}
		}
		if (fds[0].revents & POLLIN) {
			t_exit = now;
			break;
		}
		if (now >= deadline) {
			kill(pid, SIGKILL);
			timed_out = true;
			deadline = now + 1e9;
			continue;
		}
		if (t_first < 0 && t_marker < 0 && now >= next_fast) {
			long long ex = kvm_exits();
			double step;

			probes++;
			probe_ms += now_ms() - now;
			if (ex > 0) {
				t_first = now;
				startup_cpu = task_cpu_ms(pid);
				startup_minflt = proc_minflt(pid);
			}
			/*
			 * Every --fast-us, or every --fast-pct percent of
			 * the time elapsed if longer: the error stays within
			 * that percentage while the probe's own cost grows
			 * only with the logarithm of the start-up time.
			 */
			step = o->fast_us / 1e3;
			if ((now - t0) * o->fast_pct / 100 > step)
				step = (now - t0) * o->fast_pct / 100;
			next_fast = now + step;
		}
		if (sampling && now >= next_slow) {
			struct rss r;

			if (read_status(pid, &r)) {
				samples++;
				if (r.anon + r.file > peak)
					peak = r.anon + r.file;
				if (r.anon > peak_anon)
					peak_anon = r.anon;
				if (r.file > peak_file)
					peak_file = r.file;
				if (r.shmem > peak_shmem)
					peak_shmem = r.shmem;
				if (r.threads > max_threads)
					max_threads = r.threads;
			}
			next_slow = now + o->interval_ms;
		}
	}
	memset(&si, 0, sizeof(si));
	if (wait4(pid, &wstatus, 0, &ru) < 0)
		die("wait4: %s", strerror(errno));
	/* Late output (e.g. the marker in the last buffer) is still counted. */
	while (pipe_open) {
		char buf[4096];
		ssize_t n = read(pfd[0], buf, sizeof(buf));

		if (n <= 0)
			break;
		out_bytes += n;
		if (matcher_feed(&mk, buf, n))
			t_marker = now_ms();
		if (matcher_feed(&ms, buf, n))
			t_stop = now_ms();
	}
	close(pfd[0]);
	close(pidfd);

	fprintf(stderr,
		"[bench]   %s: first KVM_RUN %.0f ms, userspace %.0f ms, exit %.0f ms, RSS %ld KiB, status %d%s\n",
		o->label, t_first < 0 ? -1 : t_first - t0,
		t_marker < 0 ? -1 : t_marker - t0,
		t_exit < 0 ? -1 : t_exit - t0, peak,
		WIFEXITED(wstatus) ? WEXITSTATUS(wstatus)
				   : 128 + WTERMSIG(wstatus),
		timed_out ? " (timed out)" : "");
	json_head(&j, o, "run");
	json_status(&j, wstatus, timed_out);
	jtime(&j, "t_first_kvm_run_ms", t_first < 0 ? -1 : t_first - t0);
	jtime(&j, "startup_cpu_ms", startup_cpu);
	jnum(&j, "startup_minflt", (double)startup_minflt);
	jtime(&j, "t_marker_ms", t_marker < 0 ? -1 : t_marker - t0);
	jtime(&j, "t_stop_ms", t_stop < 0 ? -1 : t_stop - t0);
	jtime(&j, "t_exit_ms", t_exit < 0 ? -1 : t_exit - t0);
	jnum(&j, "rss_peak_kib", peak);
	jnum(&j, "rss_anon_peak_kib", peak_anon);
	jnum(&j, "rss_file_peak_kib", peak_file);
	jnum(&j, "rss_shmem_peak_kib", peak_shmem);
	jnum(&j, "threads_max", max_threads);
	jnum(&j, "rss_samples", samples);
	jnum(&j, "first_run_probes", probes);
	jnum(&j, "first_run_probe_ms", probe_ms);
	jnum(&j, "first_run_probe_us", o->fast_us);
	jnum(&j, "first_run_probe_pct", o->fast_pct);
	jnum(&j, "ru_maxrss_kib", ru.ru_maxrss);
	jnum(&j, "utime_ms",
	     ru.ru_utime.tv_sec * 1e3 + ru.ru_utime.tv_usec / 1e3);
	jnum(&j, "stime_ms",
	     ru.ru_stime.tv_sec * 1e3 + ru.ru_stime.tv_usec / 1e3);
	jnum(&j, "out_bytes", (double)out_bytes);
	jnum(&j, "kvm_stat_files", kvm_stats);
	jcounters(&j, "kvm", &kvm);
	jclose(&j);
	puts(j.p);
	fflush(stdout);
	return 0;
}

/* ---- ptrace pass ---- */

struct thread {
	pid_t tid;
	bool stopped_once; /* a new thread's first stop is its SIGSTOP */
	bool in_syscall;
	long nr;
	unsigned long long args[6];
	double t_entry;
};

#define MAX_THREADS 512
static struct thread threads[MAX_THREADS];

static struct thread *thread_get(pid_t tid)
{
	struct thread *free_slot = NULL;

	for (int i = 0; i < MAX_THREADS; i++) {
		if (threads[i].tid == tid)
			return &threads[i];
		if (!threads[i].tid && !free_slot)
			free_slot = &threads[i];
	}
	if (!free_slot)
		die("more than %d threads", MAX_THREADS);
	memset(free_slot, 0, sizeof(*free_slot));
	free_slot->tid = tid;
	return free_slot;
}

/* vCPU fds and their kvm_run mappings in the tracee. */
struct vcpu_map {
	long fd;
	unsigned long long run;
};
static struct vcpu_map vcpus[1024];
static int nr_vcpu_fds;

static struct vcpu_map *vcpu_find(long fd)
{
	for (int i = 0; i < nr_vcpu_fds; i++)
		if (vcpus[i].fd == fd)
			return &vcpus[i];
	return NULL;
}

static const char *syscall_name(long nr, char *buf, size_t len)
{
	if (nr >= 0 &&
	    nr < (long)(sizeof(syscall_names) / sizeof(syscall_names[0])) &&
	    syscall_names[nr])
		return syscall_names[nr];
	snprintf(buf, len, "sys_%ld", nr);
	return buf;
}

static const char *const kvm_ioctl_names[256] = {
	[0x00] = "KVM_GET_API_VERSION",
	[0x01] = "KVM_CREATE_VM",
	[0x03] = "KVM_CHECK_EXTENSION",
	[0x04] = "KVM_GET_VCPU_MMAP_SIZE",
	[0x41] = "KVM_CREATE_VCPU",
	[0x42] = "KVM_GET_DIRTY_LOG",
	[0x46] = "KVM_SET_USER_MEMORY_REGION",
	[0x49] = "KVM_SET_USER_MEMORY_REGION2",
	[0x61] = "KVM_IRQ_LINE",
	[0x6a] = "KVM_SET_GSI_ROUTING",
	[0x76] = "KVM_IRQFD",
	[0x79] = "KVM_IOEVENTFD",
	[0x80] = "KVM_RUN",
	[0x8b] = "KVM_SET_SIGNAL_MASK",
	[0x98] = "KVM_GET_MP_STATE",
	[0x99] = "KVM_SET_MP_STATE",
	[0x9b] = "KVM_SET_GUEST_DEBUG",
	[0x9f] = "KVM_GET_VCPU_EVENTS",
	[0xa0] = "KVM_SET_VCPU_EVENTS",
	[0xa3] = "KVM_ENABLE_CAP",
	[0xa5] = "KVM_SIGNAL_MSI",
	[0xab] = "KVM_GET_ONE_REG|ARM_SET_DEVICE_ADDR",
	[0xac] = "KVM_SET_ONE_REG",
	[0xae] = "KVM_ARM_VCPU_INIT",
	[0xaf] = "KVM_ARM_PREFERRED_TARGET",
	[0xb0] = "KVM_GET_REG_LIST",
	[0xc2] = "KVM_ARM_VCPU_FINALIZE",
	[0xc7] = "KVM_RESET_DIRTY_RINGS",
	[0xce] = "KVM_GET_STATS_FD",
	[0xe0] = "KVM_CREATE_DEVICE",
	[0xe1] = "KVM_SET_DEVICE_ATTR",
	[0xe2] = "KVM_GET_DEVICE_ATTR",
	[0xe3] = "KVM_HAS_DEVICE_ATTR",
};

static const char *ioctl_name(unsigned long long req, char *buf, size_t len)
{
	unsigned int type = (req >> 8) & 0xff, nr = req & 0xff;

	if (type == KVMIO) {
		/* 0xab is GET_ONE_REG (_IOW, 16 bytes) or ARM_SET_DEVICE_ADDR.
		 */
		if (nr == 0xab)
			return req == KVM_GET_ONE_REG
				       ? "KVM_GET_ONE_REG"
				       : "KVM_ARM_SET_DEVICE_ADDR";
		if (kvm_ioctl_names[nr])
			return kvm_ioctl_names[nr];
		snprintf(buf, len, "KVM_0x%02x", nr);
		return buf;
	}
	snprintf(buf, len, "0x%llx", req);
	return buf;
}

static const char *exit_reason_name(unsigned int r, char *buf, size_t len)
{
	switch (r) {
	case KVM_EXIT_UNKNOWN:
		return "UNKNOWN";
	case KVM_EXIT_HYPERCALL:
		return "HYPERCALL";
	case KVM_EXIT_DEBUG:
		return "DEBUG";
	case KVM_EXIT_MMIO:
		return "MMIO";
	case KVM_EXIT_FAIL_ENTRY:
		return "FAIL_ENTRY";
	case KVM_EXIT_INTR:
		return "INTR";
	case KVM_EXIT_INTERNAL_ERROR:
		return "INTERNAL_ERROR";
	case KVM_EXIT_SYSTEM_EVENT:
		return "SYSTEM_EVENT";
	case KVM_EXIT_ARM_NISV:
		return "ARM_NISV";
	}
	snprintf(buf, len, "reason_%u", r);
	return buf;
}

/*
 * The tracee's memory through /proc/PID/mem (opened at the exec stop; the
 * lab kernel has no CONFIG_CROSS_MEMORY_ATTACH for process_vm_readv).
 */
static int mem_fd = -1;

static ssize_t peek(pid_t pid, unsigned long long addr, void *dst, size_t len)
{
	(void)pid;
	if (mem_fd < 0)
		return -1;
	return pread(mem_fd, dst, len, (off_t)addr);
}

static volatile sig_atomic_t alarm_fired;
static void on_alarm(int sig)
{
	(void)sig;
	alarm_fired = 1;
}

struct timeline_ent {
	double t_ms, dur_ms;
	long nr;
	unsigned long long arg1;
	long long ret;
};

static int do_trace(const struct opts *o)
{
	struct counters sys = { 0 }, sys_startup = { 0 }, sys_boot = { 0 },
			ioctls = { 0 }, ioctls_startup = { 0 }, reasons = { 0 },
			reasons_boot = { 0 }, mmio_boot = { 0 },
			mmio_all = { 0 };
	unsigned long long kvm_run_calls = 0, kvm_run_returns = 0,
			   returns_boot = 0;
	double t0, t_first = -1, t_marker = -1, t_exit = -1;
	bool started = false, first_seen = false, marker_seen = false,
	     timed_out = false;
	struct timeline_ent *tl = NULL;
	int ntl = 0, nthreads = 0;
	struct matcher mk;
	int wstatus = 0, out_fd;
	struct sigaction sa = { .sa_handler = on_alarm };
	struct jbuf j = { 0 };
	char nb[64], pathbuf[64];
	pid_t pid;

	matcher_init(&mk, o->marker);
	if (o->timeline > 0)
		tl = calloc(o->timeline, sizeof(*tl));
	snprintf(pathbuf, sizeof(pathbuf), "/tmp/nbbench-trace-%d.out",
		 getpid());
	out_fd = open(pathbuf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out_fd < 0)
		die("%s: %s", pathbuf, strerror(errno));
	sigaction(SIGALRM, &sa, NULL);

	t0 = now_ms();
	pid = spawn(o, out_fd, true);
	close(out_fd);
	if (waitpid(pid, &wstatus, 0) != pid || !WIFSTOPPED(wstatus))
		die("the child did not stop for tracing");
	if (xptrace(PTRACE_SETOPTIONS, pid, NULL,
		    (void *)(long)(PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACECLONE |
				   PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL)) < 0)
		die("PTRACE_SETOPTIONS: %s", strerror(errno));
	thread_get(pid);
	nthreads = 1;
	alarm((unsigned int)o->timeout_s);
	xptrace(PTRACE_SYSCALL, pid, NULL, NULL);

	for (;;) {
		int st;
		pid_t tid = waitpid(-1, &st, __WALL);

		if (tid < 0) {
			if (errno == EINTR) {
				if (alarm_fired && !timed_out) {
					timed_out = true;
					kill(pid, SIGKILL);
				}
				continue;
			}
			if (errno == ECHILD)
				break;
			die("waitpid: %s", strerror(errno));
		}
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			struct thread *t = thread_get(tid);

			t->tid = 0;
			if (tid == pid) {
				wstatus = st;
				t_exit = now_ms();
				break;
			}
			continue;
		}
		if (!WIFSTOPPED(st))
			continue;
		int sig = WSTOPSIG(st), event = st >> 16, deliver = 0;
		struct thread *t = thread_get(tid);

		if (sig == (SIGTRAP | 0x80)) {
			struct ptrace_syscall_info si;
			double now = now_ms();

			if (xptrace(PTRACE_GET_SYSCALL_INFO, tid,
				    (void *)sizeof(si), &si) <= 0)
				goto cont;
			if (si.op == PTRACE_SYSCALL_INFO_ENTRY) {
				const char *name;

				t->in_syscall = true;
				t->nr = si.entry.nr;
				t->t_entry = now;
				memcpy(t->args, si.entry.args, sizeof(t->args));
				if (!started)
					goto cont;
				name = syscall_name(t->nr, nb, sizeof(nb));
				count_add(&sys, name, 1);
				if (!first_seen)
					count_add(&sys_startup, name, 1);
				if (!marker_seen)
					count_add(&sys_boot, name, 1);
				if (t->nr == __NR_ioctl) {
					const char *in = ioctl_name(
						t->args[1], nb, sizeof(nb));

					count_add(&ioctls, in, 1);
					if (!first_seen)
						count_add(&ioctls_startup, in,
							  1);
					if (t->args[1] == KVM_RUN) {
						kvm_run_calls++;
						if (!first_seen) {
							first_seen = true;
							t_first = now;
						}
					}
				}
				/* The guest console: find the marker. */
				if (!marker_seen && t->args[0] == 1 &&
				    (t->nr == __NR_write ||
				     t->nr == __NR_writev)) {
					char buf[4096];
					struct iovec iov[16];
					int niov = 1;

					if (t->nr == __NR_write) {
						iov[0].iov_base =
							(void *)(uintptr_t)
								t->args[1];
						iov[0].iov_len = t->args[2];
					} else {
						niov = t->args[2] > 16
							       ? 16
							       : t->args[2];
						if (peek(tid, t->args[1], iov,
							 niov * sizeof(iov[0])) <
						    0)
							niov = 0;
					}
					for (int k = 0; k < niov; k++) {
						size_t l = iov[k].iov_len;
						ssize_t got;

						if (l > sizeof(buf))
							l = sizeof(buf);
						got = peek(tid,
							   (uintptr_t)iov[k]
								   .iov_base,
							   buf, l);
						if (got > 0 &&
						    matcher_feed(&mk, buf,
								 got)) {
							marker_seen = true;
							t_marker = now;
						}
					}
				}
			} else if (si.op == PTRACE_SYSCALL_INFO_EXIT) {
				long long ret = si.exit.rval;

				if (!t->in_syscall)
					goto cont;
				t->in_syscall = false;
				if (!started)
					goto cont;
				if (tl && !first_seen && ntl < o->timeline) {
					tl[ntl].t_ms = t->t_entry - t0;
					tl[ntl].dur_ms = now - t->t_entry;
					tl[ntl].nr = t->nr;
					tl[ntl].arg1 = t->args[1];
					tl[ntl].ret = ret;
					ntl++;
				}
				if (t->nr == __NR_ioctl &&
				    t->args[1] == KVM_CREATE_VCPU && ret >= 0 &&
				    nr_vcpu_fds < 1024) {
					vcpus[nr_vcpu_fds].fd = ret;
					vcpus[nr_vcpu_fds].run = 0;
					nr_vcpu_fds++;
				}
				if (t->nr == __NR_close) {
					struct vcpu_map *v =
						vcpu_find(t->args[0]);

					if (v && ret == 0)
						v->fd = -1;
				}
				if (t->nr == __NR_mmap && ret > 0) {
					struct vcpu_map *v =
						vcpu_find(t->args[4]);

					if (v && !v->run)
						v->run = ret;
				}
				if (t->nr == __NR_ioctl &&
				    t->args[1] == KVM_RUN) {
					const char *rn;
					struct vcpu_map *v =
						vcpu_find(t->args[0]);

					kvm_run_returns++;
					if (!marker_seen)
						returns_boot++;
					if (ret < 0) {
						snprintf(nb, sizeof(nb),
							 "errno_%lld", -ret);
						rn = ret == -EINTR    ? "EINTR"
						     : ret == -EAGAIN ? "EAGAIN"
								      : nb;
						count_add(&reasons, rn, 1);
						if (!marker_seen)
							count_add(&reasons_boot,
								  rn, 1);
					} else if (v && v->run) {
						struct kvm_run r;
						char rb[32];

						if (peek(tid, v->run, &r, 64) !=
						    64)
							goto cont;
						rn = exit_reason_name(
							r.exit_reason, rb,
							sizeof(rb));
						count_add(&reasons, rn, 1);
						if (!marker_seen)
							count_add(&reasons_boot,
								  rn, 1);
						if (r.exit_reason ==
						    KVM_EXIT_MMIO) {
							snprintf(
								nb, sizeof(nb),
								"0x%llx",
								(unsigned long long)r
										.mmio
										.phys_addr &
									~0xffffULL);
							count_add(&mmio_all, nb,
								  1);
							if (!marker_seen)
								count_add(
									&mmio_boot,
									nb, 1);
						}
					} else {
						count_add(&reasons,
							  "unmapped_run", 1);
					}
				}
			}
			goto cont;
		}
		if (sig == SIGTRAP && event) {
			if (event == PTRACE_EVENT_EXEC && tid == pid) {
				char mp[64];

				started = true;
				snprintf(mp, sizeof(mp), "/proc/%d/mem", pid);
				if (mem_fd >= 0)
					close(mem_fd);
				mem_fd = open(mp, O_RDONLY | O_CLOEXEC);
			}
			if (event == PTRACE_EVENT_CLONE)
				nthreads++;
			goto cont;
		}
		if (sig == SIGSTOP && !t->stopped_once && tid != pid) {
			/* A new thread's first stop. */
			t->stopped_once = true;
			goto cont;
		}
		deliver = sig;
	cont:
		t->stopped_once = true;
		xptrace(PTRACE_SYSCALL, tid, NULL, (void *)(long)deliver);
	}
	alarm(0);
	unlink(pathbuf);
	fprintf(stderr,
		"[bench]   %s: %llu syscalls (%llu before the first KVM_RUN), %llu KVM_RUN returns (%llu before the marker), status %d%s\n",
		o->label, count_total(&sys), count_total(&sys_startup),
		kvm_run_returns, returns_boot,
		WIFEXITED(wstatus) ? WEXITSTATUS(wstatus)
				   : 128 + WTERMSIG(wstatus),
		timed_out ? " (timed out)" : "");

	json_head(&j, o, "trace");
	json_status(&j, wstatus, timed_out);
	jtime(&j, "t_first_kvm_run_ms", t_first < 0 ? -1 : t_first - t0);
	jtime(&j, "t_marker_ms", t_marker < 0 ? -1 : t_marker - t0);
	jtime(&j, "t_exit_ms", t_exit < 0 ? -1 : t_exit - t0);
	jnum(&j, "threads", nthreads);
	jnum(&j, "syscalls_total", (double)count_total(&sys));
	jnum(&j, "syscalls_before_first_kvm_run",
	     (double)count_total(&sys_startup));
	jnum(&j, "syscalls_before_marker", (double)count_total(&sys_boot));
	jnum(&j, "kvm_run_calls", (double)kvm_run_calls);
	jnum(&j, "kvm_run_returns", (double)kvm_run_returns);
	jnum(&j, "kvm_run_returns_before_marker", (double)returns_boot);
	jcounters(&j, "exit_reasons", &reasons);
	jcounters(&j, "exit_reasons_before_marker", &reasons_boot);
	jcounters(&j, "mmio_pages_before_marker", &mmio_boot);
	jcounters(&j, "mmio_pages", &mmio_all);
	jcounters(&j, "syscalls", &sys);
	jcounters(&j, "syscalls_before_first_kvm_run_by_name", &sys_startup);
	jcounters(&j, "syscalls_before_marker_by_name", &sys_boot);
	jcounters(&j, "ioctls", &ioctls);
	jcounters(&j, "ioctls_before_first_kvm_run", &ioctls_startup);
	if (tl) {
		jkey(&j, "timeline");
		jputs(&j, "[");
		for (int i = 0; i < ntl; i++) {
			char b[256];
			const char *n = syscall_name(tl[i].nr, nb, sizeof(nb));
			char ib[64] = "";

			if (tl[i].nr == __NR_ioctl)
				snprintf(ib, sizeof(ib), "%s",
					 ioctl_name(tl[i].arg1, b, sizeof(b)));
			snprintf(b, sizeof(b),
				 "%s[%.3f,%.3f,\"%s\",\"%s\",%lld]",
				 i ? "," : "", tl[i].t_ms, tl[i].dur_ms, n, ib,
				 tl[i].ret);
			jputs(&j, b);
		}
		jputs(&j, "]");
	}
	jclose(&j);
	puts(j.p);
	fflush(stdout);
	return 0;
}

static void usage(void)
{
	fputs("usage: nbbench run|trace [--label NAME] [--run N] [--marker STR] "
	      "[--stop-at STR] [--timeout SEC] [--interval-ms N] [--fast-us N] "
	      "[--fast-pct P] "
	      "[--stderr FILE] [--timeline N] -- VMM ARGS...\n",
	      stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	struct opts o = {
		.label = "vmm",
		.marker = "NBL2-USERSPACE",
		.stop_at = "NBL2: powering off",
		.timeout_s = 120,
		.interval_ms = 10,
		.fast_us = 1000,
		.fast_pct = 1,
		.stderr_path = "/dev/null",
	};
	const char *mode;
	int i;

	if (argc < 2)
		usage();
	mode = argv[1];
	for (i = 2; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if (i + 1 >= argc)
			usage();
		if (!strcmp(a, "--label"))
			o.label = argv[++i];
		else if (!strcmp(a, "--run"))
			o.run = atoi(argv[++i]);
		else if (!strcmp(a, "--marker"))
			o.marker = argv[++i];
		else if (!strcmp(a, "--stop-at"))
			o.stop_at = argv[++i];
		else if (!strcmp(a, "--timeout"))
			o.timeout_s = atof(argv[++i]);
		else if (!strcmp(a, "--interval-ms"))
			o.interval_ms = atoi(argv[++i]);
		else if (!strcmp(a, "--fast-us"))
			o.fast_us = atoi(argv[++i]);
		else if (!strcmp(a, "--fast-pct"))
			o.fast_pct = atof(argv[++i]);
		else if (!strcmp(a, "--stderr"))
			o.stderr_path = argv[++i];
		else if (!strcmp(a, "--timeline"))
			o.timeline = atoi(argv[++i]);
		else
			usage();
	}
	if (i >= argc)
		usage();
	o.argv = &argv[i];
	if (o.interval_ms < 1 || o.fast_us < 50 || o.timeout_s <= 0)
		usage();
	if (!strcmp(mode, "run"))
		return do_run(&o);
	if (!strcmp(mode, "trace"))
		return do_trace(&o);
	usage();
	return 2;
}
