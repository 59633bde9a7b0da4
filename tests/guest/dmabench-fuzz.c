// SPDX-License-Identifier: GPL-2.0
/*
 * dmabench-fuzz - random ioctl parameter blocks against /dev/dmabench
 *
 * Runs inside a test guest (tests/e2e/dmabench.sh) with dmabench.ko loaded
 * and a device bound; links only libc so it runs from the shared build
 * directory.  Sends COUNT ioctls, split over WORKERS processes issuing them
 * concurrently (the module must serialize them):
 *
 *  - DMABENCH_IOC_RUN with a parameter block that is either random bytes
 *    (sometimes with a correct size and version) or a small valid block with
 *    one to four fields replaced by boundary or random values;
 *  - DMABENCH_IOC_INFO and DMABENCH_IOC_RESULT with random headers;
 *  - DMABENCH_IOC_STALE with random blocks, which a device other than
 *    QEMU's edu must refuse (EINVAL, or EOPNOTSUPP for a valid block);
 *  - unknown command numbers and pointers the kernel cannot read;
 *
 * then, alone, one plain valid run whose results must come back whole.
 *
 * A block the module accepts may ask for an hour of work: an interval timer
 * interrupts every run after a few milliseconds (EINTR), which exercises the
 * interruption path as well.  The kernel's side of the verdict (no oops, no
 * WARNING) is read from its log by the caller; this program fails when an
 * ioctl returns an errno outside the documented ones, or when a plain valid
 * run no longer works at the end.
 *
 * Usage: dmabench-fuzz [-n COUNT] [-s SEED] [-j WORKERS] [-t MS] [DEV]
 * The seed is printed first; pass it back with -s to replay a sequence.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <iommubench/dmabench.h>

#define MAX_WORKERS	16

enum { ERR_RUN, ERR_INFO, ERR_RESULT, ERR_STALE, ERR_OTHER, NR_KINDS };

static const char *const kind_names[NR_KINDS] = {
	"run", "info", "result", "stale", "bad-cmd",
};

/* errnos each kind may return; anything else is a failure */
static const int allowed[NR_KINDS][8] = {
	[ERR_RUN] = { 0, EINVAL, EINTR, ENOMEM, EFAULT, -1 },
	[ERR_INFO] = { 0, EINVAL, EINTR, EFAULT, -1 },
	[ERR_RESULT] = { 0, EINVAL, EINTR, ENODATA, EFAULT, ENOMEM, -1 },
	[ERR_STALE] = { EINVAL, EOPNOTSUPP, EINTR, EFAULT, -1 },
	[ERR_OTHER] = { ENOTTY, EINTR, EFAULT, -1 },
};

struct stats {
	unsigned long calls[NR_KINDS];
	unsigned long ok[NR_KINDS];
	unsigned long einval, eintr, other_errno, unexpected;
};

static uint64_t rng_state;

/* splitmix64: every seed, including 0, gives a full-period sequence */
static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t rnd_below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

/* values around the limits of the uapi, plus plain random ones */
static uint64_t interesting(void)
{
	static const uint64_t v[] = {
		0, 1, 2, 3, 7, 8, 9, 19, 20, 31, 32, 33, 63, 64, 65, 127, 128,
		129, 1023, 1024, 1025, 4095, 4096, 4097, 65536,
		DMABENCH_MAX_BUF_BYTES, DMABENCH_MAX_BUF_BYTES + 1ULL,
		DMABENCH_MAX_WEIGHT, DMABENCH_MAX_WEIGHT + 1ULL,
		DMABENCH_MAX_DEVICE_NS, DMABENCH_MAX_DEVICE_NS + 1,
		DMABENCH_MAX_WARMUP_OPS, DMABENCH_MAX_WARMUP_OPS + 1,
		DMABENCH_MAX_OPS, DMABENCH_MAX_OPS + 1,
		DMABENCH_MAX_DURATION_NS, DMABENCH_MAX_DURATION_NS + 1,
		0x7fffffffULL, 0x80000000ULL, 0xfffffffeULL, 0xffffffffULL,
		0x100000000ULL, INT64_MAX, UINT64_MAX,
	};

	switch (rnd_below(3)) {
	case 0:
		return v[rnd_below(sizeof(v) / sizeof(v[0]))];
	case 1:
		return rnd_below(300);
	default:
		return rnd() >> rnd_below(64);
	}
}

/* a block the module accepts and finishes in about a millisecond */
static void valid_params(struct dmabench_params *p)
{
	uint32_t i;

	memset(p, 0, sizeof(*p));
	p->size = sizeof(*p);
	p->version = DMABENCH_ABI_VERSION;
	p->threads = 1 + rnd_below(2);
	p->flags = rnd_below(2) ? DMABENCH_F_SYNC : 0;
	p->ops = 1 + rnd_below(64);
	p->warmup_ops = rnd_below(16);
	p->seed = rnd();
	p->node = DMABENCH_NODE_ANY;
	p->dir = rnd_below(3);
	p->map_mode = rnd_below(2);
	p->sg_entries = p->map_mode == DMABENCH_MAP_SG ? 1 + rnd_below(8) :
		rnd_below(2);
	p->batch = 1 + rnd_below(8);
	p->nr_sizes = 1 + rnd_below(3);
	for (i = 0; i < DMABENCH_MAX_THREADS; i++)
		p->cpus[i] = DMABENCH_CPU_ANY;
	for (i = 0; i < p->nr_sizes; i++) {
		p->sizes[i].bytes = 1 + rnd_below(16384);
		p->sizes[i].weight = 1 + rnd_below(10);
	}
}

/* the fields of struct dmabench_params: offset, element size, elements */
#define PF(f, n) { offsetof(struct dmabench_params, f),			\
		   sizeof(((struct dmabench_params *)0)->f) / (n), (n) }
static const struct {
	size_t off, size, n;
} fields[] = {
	PF(size, 1), PF(version, 1), PF(threads, 1), PF(flags, 1),
	PF(duration_ns, 1), PF(ops, 1), PF(warmup_ops, 1), PF(device_ns, 1),
	PF(seed, 1), PF(node, 1), PF(dir, 1), PF(dma_mask_bits, 1),
	PF(map_mode, 1), PF(sg_entries, 1), PF(batch, 1), PF(nr_sizes, 1),
	PF(pad0, 1), PF(cpus, DMABENCH_MAX_THREADS),
	PF(sizes, 2 * DMABENCH_MAX_SIZES), PF(reserved, 16),
};

/* overwrite one element of one field with an interesting value */
static void mutate(struct dmabench_params *p)
{
	size_t f = rnd_below(sizeof(fields) / sizeof(fields[0]));
	size_t at = fields[f].off + rnd_below(fields[f].n) * fields[f].size;
	uint64_t v = interesting();
	uint32_t v32 = v;

	if (fields[f].size == sizeof(v))
		memcpy((char *)p + at, &v, sizeof(v));
	else
		memcpy((char *)p + at, &v32, sizeof(v32));
}

static void random_bytes(void *buf, size_t len)
{
	unsigned char *b = buf;
	size_t i;

	for (i = 0; i < len; i++)
		b[i] = rnd();
}

static void on_alarm(int sig)
{
	(void)sig;
}

/*
 * The first alarm comes at a random point within @max_ms, then one every
 * @max_ms until disarm_timer().  Periodic, because on a loaded machine the
 * first alarm can fire before the ioctl is even entered: a one-shot timer
 * would then leave a run of up to an hour uninterrupted.
 */
static void arm_timer(unsigned int max_ms)
{
	struct itimerval it = { { 0, 0 }, { 0, 0 } };
	uint64_t us = 1000 + rnd_below((uint64_t)max_ms * 1000);

	it.it_value.tv_sec = us / 1000000;
	it.it_value.tv_usec = us % 1000000;
	it.it_interval.tv_sec = max_ms / 1000;
	it.it_interval.tv_usec = max_ms % 1000 * 1000;
	setitimer(ITIMER_REAL, &it, NULL);
}

static void disarm_timer(void)
{
	struct itimerval it = { { 0, 0 }, { 0, 0 } };

	setitimer(ITIMER_REAL, &it, NULL);
}

static void account(struct stats *st, int kind, int ret, unsigned long n)
{
	int err = ret ? errno : 0;
	size_t i;

	st->calls[kind]++;
	if (!err) {
		st->ok[kind]++;
		return;
	}
	if (err == EINVAL)
		st->einval++;
	else if (err == EINTR)
		st->eintr++;
	else
		st->other_errno++;
	for (i = 0; allowed[kind][i] >= 0; i++)
		if (allowed[kind][i] == err)
			return;
	st->unexpected++;
	printf("# ioctl %lu (%s): unexpected errno %d (%s)\n", n,
	       kind_names[kind], err, strerror(err));
}

static void one_ioctl(int fd, struct stats *st, unsigned long n,
		      unsigned int max_ms)
{
	static union {
		struct dmabench_params p;
		struct dmabench_info info;
		struct dmabench_result res;
		struct dmabench_stale st;
	} u;
	uint64_t pick = rnd_below(100);
	int ret;

	if (pick < 70) {
		if (rnd_below(10) == 0) {
			random_bytes(&u.p, sizeof(u.p));
			if (rnd_below(2)) {
				u.p.size = sizeof(u.p);
				u.p.version = DMABENCH_ABI_VERSION;
			}
		} else {
			int k = 1 + rnd_below(4);

			valid_params(&u.p);
			while (k--)
				mutate(&u.p);
		}
		arm_timer(max_ms);
		ret = ioctl(fd, DMABENCH_IOC_RUN, &u.p);
		account(st, ERR_RUN, ret, n);
		disarm_timer();
	} else if (pick < 80) {
		memset(&u.info, 0, sizeof(u.info));
		u.info.size = rnd_below(4) ? sizeof(u.info) : interesting();
		u.info.version = rnd_below(4) ? DMABENCH_ABI_VERSION :
			interesting();
		ret = ioctl(fd, DMABENCH_IOC_INFO, &u.info);
		account(st, ERR_INFO, ret, n);
	} else if (pick < 90) {
		random_bytes(&u.res, sizeof(u.res));
		u.res.size = rnd_below(4) ? sizeof(u.res) : interesting();
		u.res.version = rnd_below(4) ? DMABENCH_ABI_VERSION :
			interesting();
		u.res.thread = rnd_below(2) ? DMABENCH_THREAD_ALL :
			rnd_below(4) ? rnd_below(3) : interesting();
		u.res.op = rnd_below(4) ? rnd_below(DMABENCH_NR_OPS) :
			interesting();
		ret = ioctl(fd, DMABENCH_IOC_RESULT, &u.res);
		account(st, ERR_RESULT, ret, n);
	} else if (pick < 95) {
		/* valid or not, never a trial: the device is not edu */
		random_bytes(&u.st, sizeof(u.st));
		if (rnd_below(2)) {
			u.st.size = sizeof(u.st);
			u.st.version = DMABENCH_ABI_VERSION;
			u.st.lead_ns = rnd_below(DMABENCH_STALE_MAX_LEAD_NS + 2);
			u.st.flags = rnd_below(4) ? 0 : interesting();
			if (rnd_below(4))
				memset(u.st.reserved, 0, sizeof(u.st.reserved));
		}
		ret = ioctl(fd, DMABENCH_IOC_STALE, &u.st);
		account(st, ERR_STALE, ret, n);
	} else if (pick < 98) {
		/* kernel-unreadable pointers: NULL, a kernel address */
		static const unsigned long bad[] = { 0, 16,
			0xffff800000000000UL, 0xffffffffff600000UL };
		static const unsigned long cmds[] = { DMABENCH_IOC_RUN,
			DMABENCH_IOC_INFO, DMABENCH_IOC_RESULT };

		ret = ioctl(fd, cmds[rnd_below(3)], bad[rnd_below(4)]);
		account(st, ERR_RUN, ret, n);
	} else {
		unsigned long cmd = rnd_below(2) ?
			_IOC(rnd_below(4), DMABENCH_IOC_MAGIC, rnd_below(16),
			     rnd_below(16384)) : (unsigned long)(uint32_t)rnd();

		if (cmd == DMABENCH_IOC_RUN || cmd == DMABENCH_IOC_INFO ||
		    cmd == DMABENCH_IOC_RESULT || cmd == DMABENCH_IOC_STALE)
			cmd = _IO(DMABENCH_IOC_MAGIC, 0);
		ret = ioctl(fd, cmd, &u);
		account(st, ERR_OTHER, ret, n);
	}
}

/* a plain valid run still works: the module's state survived */
static int sanity_run(int fd)
{
	struct dmabench_params p;
	struct dmabench_result res;

	valid_params(&p);
	p.ops = 100;
	if (ioctl(fd, DMABENCH_IOC_RUN, &p)) {
		printf("# final valid run failed: %s\n", strerror(errno));
		return -1;
	}
	memset(&res, 0, sizeof(res));
	res.size = sizeof(res);
	res.version = DMABENCH_ABI_VERSION;
	res.thread = DMABENCH_THREAD_ALL;
	res.op = DMABENCH_OP_UNMAP;
	if (ioctl(fd, DMABENCH_IOC_RESULT, &res) ||
	    res.count != 100ULL * p.threads) {
		printf("# final valid run: %" PRIu64 " unmaps, want %u\n",
		       (uint64_t)res.count, 100 * p.threads);
		return -1;
	}
	return 0;
}

static int worker(const char *dev, uint64_t seed, unsigned long count,
		  unsigned int max_ms, unsigned int id)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct stats st;
	unsigned long n;
	int fd;

	memset(&st, 0, sizeof(st));
	/* no SA_RESTART: the alarm must end a long run with EINTR */
	sigaction(SIGALRM, &sa, NULL);
	rng_state = seed;
	fd = open(dev, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		printf("# worker %u: %s: %s\n", id, dev, strerror(errno));
		return 2;
	}
	for (n = 0; n < count; n++)
		one_ioctl(fd, &st, n, max_ms);
	close(fd);
	printf("# worker %u (seed %" PRIu64 "): run %lu/%lu ok, info %lu/%lu, result %lu/%lu, stale %lu, bad-cmd %lu; EINVAL %lu, EINTR %lu, other errno %lu, unexpected %lu\n",
	       id, seed, st.ok[ERR_RUN], st.calls[ERR_RUN], st.ok[ERR_INFO],
	       st.calls[ERR_INFO], st.ok[ERR_RESULT], st.calls[ERR_RESULT],
	       st.calls[ERR_STALE], st.calls[ERR_OTHER], st.einval, st.eintr,
	       st.other_errno, st.unexpected);
	fflush(stdout);
	return st.unexpected ? 1 : 0;
}

static int parse_ul(const char *s, unsigned long long max,
		    unsigned long long *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 0);
	return errno || !*s || *end || *s == '-' || *out > max ? -1 : 0;
}

int main(int argc, char **argv)
{
	unsigned long long count = 10000, seed, workers = 2, max_ms = 20, v;
	const char *dev = "/dev/" DMABENCH_DEV_NAME;
	struct timespec ts;
	int opt, status, fd, ret = 0;
	unsigned int i;

	clock_gettime(CLOCK_REALTIME, &ts);
	seed = (uint64_t)ts.tv_sec * 1000000007ULL ^ (uint64_t)ts.tv_nsec ^
		(uint64_t)getpid() << 32;
	while ((opt = getopt(argc, argv, "n:s:j:t:h")) != -1) {
		switch (opt) {
		case 'n':
			if (parse_ul(optarg, 100000000, &count))
				goto usage;
			break;
		case 's':
			if (parse_ul(optarg, UINT64_MAX, &seed))
				goto usage;
			break;
		case 'j':
			if (parse_ul(optarg, MAX_WORKERS, &workers) || !workers)
				goto usage;
			break;
		case 't':
			if (parse_ul(optarg, 10000, &v) || !v)
				goto usage;
			max_ms = v;
			break;
		default:
			goto usage;
		}
	}
	if (optind < argc)
		dev = argv[optind++];
	if (optind < argc)
		goto usage;

	printf("dmabench-fuzz: seed %llu, %llu ioctls, %llu workers, runs interrupted within %llu ms, %s\n",
	       seed, count, workers, max_ms, dev);
	fflush(stdout);
	for (i = 0; i < workers; i++) {
		unsigned long share = count / workers +
			(i < count % workers);
		pid_t pid = fork();

		if (pid < 0) {
			perror("dmabench-fuzz: fork");
			return 2;
		}
		if (!pid)
			_exit(worker(dev, seed + i, share, max_ms, i));
	}
	while (wait(&status) > 0) {
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			int code = WIFEXITED(status) ? WEXITSTATUS(status) : 1;

			ret = code > ret ? code : ret;
		}
	}
	/* alone now: nobody else's run can replace the results */
	rng_state = seed;
	fd = open(dev, O_RDWR | O_CLOEXEC);
	if (fd < 0 || sanity_run(fd)) {
		if (fd < 0)
			printf("# %s: %s\n", dev, strerror(errno));
		ret = ret ? ret : 1;
	}
	if (fd >= 0)
		close(fd);
	printf("dmabench-fuzz: %s\n", ret ? "FAILED" : "ok");
	return ret;

usage:
	fprintf(stderr,
		"usage: dmabench-fuzz [-n COUNT] [-s SEED] [-j WORKERS] [-t MS] [DEV]\n");
	return 2;
}
