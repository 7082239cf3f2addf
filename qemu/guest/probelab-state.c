/*
 * probelab's capture: the guest's driver-core state between the markers the harness's console
 * parser reads (packages/harness/src/console-parser.ts), printed by one process. Run by the init
 * at `capture`, and by hand (or by probelab on leaving) in `probelab shell`.
 *
 * What it reads is what the kernel exports (drivers/base/core.c:device_add, bus.c:bus_add_driver,
 * module.c:module_add_driver, iommu.c:iommu_group_add_device, of/base.c: the of_node link), read
 * the way the busybox capture it replaces read it, with the same lines out; that capture forked
 * ls/awk/dmesg and walked sysfs in sh, 0.75 s of a restored boot's 2.4 s under TCG.
 *
 *   probelab-state                 the state, then the whole ring buffer (syslog READ_ALL, as
 *                                  `dmesg -r` prints it)
 *   probelab-state --after-ready   the same, the ring buffer from the record after the init's
 *                                  "probelab: ready" (a restored boot: the records up to it are
 *                                  the snapshot's, packages/harness/src/snapshot.ts)
 *   probelab-state --prefix-dmesg  only the ring buffer up to and including that record
 *
 * Freestanding (no libc: the cross compiler Debian ships has none for arm64): raw syscalls,
 * static buffers.
 */

#include "freestanding.h"

#define AT_FDCWD -100
#define O_RDONLY 0
#define O_WRONLY 1
#define O_DIRECTORY 040000
#define SYS_openat 56
#define SYS_close 57
#define SYS_getdents64 61
#define SYS_read 63
#define SYS_write 64
#define SYS_readlinkat 78
#define SYS_newfstatat 79
#define SYS_exit_group 94
#define SYS_syslog 116
#define SYSLOG_ACTION_READ_ALL 3
#define SYSLOG_ACTION_SIZE_BUFFER 10

void *memcpy(void *d, const void *s, size_t n)
{
	char *a = d;
	const char *b = s;
	while (n--)
		*a++ = *b++;
	return d;
}

void *memmove(void *d, const void *s, size_t n)
{
	char *a = d;
	const char *b = s;
	if (a < b)
		while (n--)
			*a++ = *b++;
	else
		while (n--)
			a[n] = b[n];
	return d;
}

int memcmp(const void *x, const void *y, size_t n)
{
	const unsigned char *a = x, *b = y;
	for (; n; n--, a++, b++)
		if (*a != *b)
			return *a - *b;
	return 0;
}

void *memset(void *d, int c, size_t n)
{
	char *a = d;
	while (n--)
		*a++ = (char)c;
	return d;
}

static size_t slen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

static int scmp(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return (unsigned char)*a - (unsigned char)*b;
}

static int sstarts(const char *s, size_t n, const char *p)
{
	size_t m = slen(p);
	if (m > n)
		return 0;
	for (size_t i = 0; i < m; i++)
		if (s[i] != p[i])
			return 0;
	return 1;
}

/* Does s[0..n) contain p? */
static int scontains(const char *s, size_t n, const char *p)
{
	size_t m = slen(p);
	for (size_t i = 0; i + m <= n; i++)
		if (sstarts(s + i, n - i, p))
			return 1;
	return 0;
}

/* Output: one buffer, written out whenever it fills (the console is slow per write, not per byte). */
static char out[1 << 16];
static size_t outn;

static void flush(void)
{
	size_t o = 0;
	while (o < outn) {
		long w = sys4(SYS_write, 1, (long)(out + o), (long)(outn - o), 0);
		if (w <= 0)
			break;
		o += (size_t)w;
	}
	outn = 0;
}

static void put(const char *s, size_t n)
{
	while (n) {
		size_t k = sizeof(out) - outn < n ? sizeof(out) - outn : n;
		memcpy(out + outn, s, k);
		outn += k, s += k, n -= k;
		if (outn == sizeof(out))
			flush();
	}
}

static void puts0(const char *s) { put(s, slen(s)); }

/* Strings for names and values: a bump arena, never freed (one run, a few hundred KB). */
static char arena[4 << 20];
static size_t arenan;

static char *save(const char *s, size_t n)
{
	if (arenan + n + 1 > sizeof(arena))
		return (char *)"?";
	char *p = arena + arenan;
	memcpy(p, s, n);
	p[n] = 0;
	arenan += n + 1;
	return p;
}

static char path[4096];

static const char *join(const char *a, const char *b, const char *c, const char *d)
{
	size_t n = 0;
	const char *parts[4] = { a, b, c, d };
	for (int i = 0; i < 4; i++)
		for (const char *p = parts[i]; p && *p && n + 1 < sizeof(path); p++)
			path[n++] = *p;
	path[n] = 0;
	return path;
}

static int exists(const char *p) /* test -e: follows links */
{
	char st[256];
	return sys4(SYS_newfstatat, AT_FDCWD, (long)p, (long)st, 0) == 0;
}

/* A symlink's target (test -L and readlink), or 0. */
static char *link_target(const char *p)
{
	char buf[4096];
	long n = sys4(SYS_readlinkat, AT_FDCWD, (long)p, (long)buf, sizeof(buf));
	return n > 0 ? save(buf, (size_t)n) : 0;
}

static const char *base(const char *t)
{
	const char *b = t;
	for (const char *p = t; *p; p++)
		if (*p == '/')
			b = p + 1;
	return b;
}

static char filebuf[1 << 20];

/* A whole small file (sysfs attributes are at most a page), or -1. */
static long read_file(const char *p, char *buf, size_t cap)
{
	long fd = sys4(SYS_openat, AT_FDCWD, (long)p, O_RDONLY, 0);
	if (fd < 0)
		return -1;
	size_t n = 0;
	for (;;) {
		long r = sys4(SYS_read, fd, (long)(buf + n), (long)(cap - n), 0);
		if (r < 0) {
			sys4(SYS_close, fd, 0, 0, 0);
			return -1;
		}
		if (r == 0 || (n += (size_t)r) == cap)
			break;
	}
	sys4(SYS_close, fd, 0, 0, 0);
	return (long)n;
}

/*
 * A one-line attribute as `awk '{ print FILENAME "\t" $0 }' | awk -F'\t' '{ v = $2 }'` kept it:
 * the last line, up to its first tab; 0 for a file that cannot be read or has no line.
 */
static char *attribute(const char *p)
{
	long n = read_file(p, filebuf, sizeof(filebuf));
	if (n <= 0)
		return 0;
	size_t end = (size_t)n;
	if (filebuf[end - 1] == '\n')
		end--;
	size_t start = end;
	while (start > 0 && filebuf[start - 1] != '\n')
		start--;
	size_t stop = start;
	while (stop < end && filebuf[stop] != '\t')
		stop++;
	return save(filebuf + start, stop - start);
}

/* A directory's entries as a shell glob of the directory gives them: no dot names, strcmp order, and
 * only those `test -e` finds. */
static char *names[4096];

static int list(const char *dir, int max)
{
	long fd = sys4(SYS_openat, AT_FDCWD, (long)dir, O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0)
		return 0;
	static char d[1 << 15];
	int n = 0;
	for (;;) {
		long got = sys4(SYS_getdents64, fd, (long)d, sizeof(d), 0);
		if (got <= 0)
			break;
		for (long o = 0; o < got;) {
			unsigned short reclen = *(unsigned short *)(d + o + 16);
			const char *name = d + o + 19;
			if (name[0] != '.' && n < max)
				names[n++] = save(name, slen(name));
			o += reclen;
		}
	}
	sys4(SYS_close, fd, 0, 0, 0);
	for (int i = 1; i < n; i++) /* insertion sort: a few hundred names */
		for (int j = i; j > 0 && scmp(names[j - 1], names[j]) > 0; j--) {
			char *t = names[j];
			names[j] = names[j - 1];
			names[j - 1] = t;
		}
	int k = 0;
	for (int i = 0; i < n; i++)
		if (exists(join(dir, "/", names[i], 0)))
			names[k++] = names[i];
	return k;
}

static void field(const char *v)
{
	puts0("\t");
	puts0(v ? v : "-");
}

static void devices_and_drivers(void)
{
	static const char *const buses[] = { "platform", "pci", "virtio", "amba" };
	for (int b = 0; b < 4; b++) {
		const char *bus = buses[b];
		char *devdir = save(join("/sys/bus/", bus, "/devices", 0), slen(path));
		char *drvdir = save(join("/sys/bus/", bus, "/drivers", 0), slen(path));
		char st[256];
		if (sys4(SYS_newfstatat, AT_FDCWD, (long)devdir, (long)st, 0) != 0)
			continue;
		int n = list(devdir, 4096);
		char **devs = (char **)(arena + ((arenan + 7) & ~7UL));
		arenan = ((arenan + 7) & ~7UL) + (size_t)n * sizeof(char *);
		for (int i = 0; i < n; i++)
			devs[i] = names[i];
		for (int i = 0; i < n; i++) {
			const char *dev = devs[i];
			char *drv = link_target(join(devdir, "/", dev, "/driver"));
			char *grp = link_target(join(devdir, "/", dev, "/iommu_group"));
			char *of = link_target(join(devdir, "/", dev, "/of_node"));
			char *alias = attribute(join(devdir, "/", dev, "/modalias"));
			char *dma = attribute(join(devdir, "/", dev, "/probelab_dma"));
			if (of) { /* sub(/.*devicetree\/base/, "") */
				const char *rest = 0;
				for (const char *p = of; *p; p++)
					if (sstarts(p, slen(p), "devicetree/base"))
						rest = p + 15;
				if (rest)
					of = *rest ? (char *)rest : (char *)"/";
			}
			puts0("@dev\t");
			puts0(bus);
			puts0("\t");
			puts0(dev);
			field(drv ? base(drv) : 0);
			field(grp ? base(grp) : 0);
			field(alias);
			field(of);
			if (dma)
				field(dma);
			puts0("\n");
		}
		n = list(drvdir, 4096);
		for (int i = 0; i < n; i++) {
			char *mod = link_target(join(drvdir, "/", names[i], "/module"));
			puts0("@drv\t");
			puts0(bus);
			puts0("\t");
			puts0(names[i]);
			field(mod ? base(mod) : 0);
			puts0("\n");
		}
	}
}

/* Each line of a file with a prefix; `keep` filters (0: every line). A final line without a
 * newline is dropped, as `while IFS= read -r line` drops it. */
static void lines_of(const char *p, const char *prefix, int first_word, const char *const *keep)
{
	long fd = sys4(SYS_openat, AT_FDCWD, (long)p, O_RDONLY, 0);
	if (fd < 0)
		return;
	static char buf[1 << 16];
	size_t have = 0;
	for (;;) {
		long r = sys4(SYS_read, fd, (long)(buf + have), (long)(sizeof(buf) - have), 0);
		if (r <= 0)
			break;
		have += (size_t)r;
		size_t start = 0;
		for (size_t i = 0; i < have; i++) {
			if (buf[i] != '\n')
				continue;
			const char *l = buf + start;
			size_t n = i - start;
			int ok = !keep;
			for (int k = 0; keep && keep[k]; k++)
				ok |= scontains(l, n, keep[k]);
			if (first_word) { /* read -r m _: the first word, leading blanks skipped */
				while (n && (*l == ' ' || *l == '\t'))
					l++, n--;
				size_t w = 0;
				while (w < n && l[w] != ' ' && l[w] != '\t')
					w++;
				n = w;
			}
			if (ok) {
				puts0(prefix);
				put(l, n);
				puts0("\n");
			}
			start = i + 1;
		}
		if (start == 0 && have == sizeof(buf))
			start = have; /* a line longer than the buffer: dropped */
		memmove(buf, buf + start, have - start);
		have -= start;
	}
	sys4(SYS_close, fd, 0, 0, 0);
}

/* The ring buffer as syslog(2) READ_ALL gives it ("<prio>[seconds] text" a record, as `dmesg -r`
 * prints it); log_buf_len=16M on the boot's command line. */
static char ring[(16 << 20) + 4096];

static void dmesg(int mode /* 0 all, 1 after ready, 2 through ready */)
{
	long cap = sys4(SYS_syslog, SYSLOG_ACTION_SIZE_BUFFER, 0, 0, 0);
	if (cap <= 0 || cap > (long)sizeof(ring))
		cap = sizeof(ring);
	long n = sys4(SYS_syslog, SYSLOG_ACTION_READ_ALL, (long)ring, cap, 0);
	if (n < 0)
		n = 0;
	/* The end of the init's "probelab: ready" record (qemu/guest/init), the last of the prefix. */
	long cut = -1;
	static const char mark[] = "] probelab: ready\n";
	for (long i = 0; mode && i + (long)sizeof(mark) - 1 <= n; i++)
		if (ring[i] == ']' && sstarts(ring + i, (size_t)(n - i), mark)) {
			cut = i + (long)sizeof(mark) - 1;
			break;
		}
	if (mode == 2) {
		if (cut < 0) {
			puts0("@@probelab-prefix-dmesg-missing\n");
			return;
		}
		puts0("@@probelab-prefix-dmesg-begin\n");
		put(ring, (size_t)cut);
		puts0("@@probelab-prefix-dmesg-end\n");
		return;
	}
	if (mode == 1 && cut >= 0) {
		puts0("@@probelab-dmesg-begin after-ready\n");
		put(ring + cut, (size_t)(n - cut));
	} else {
		puts0("@@probelab-dmesg-begin\n");
		put(ring, (size_t)n);
	}
	if (n > 0 && ring[n - 1] != '\n')
		puts0("\n");
	puts0("@@probelab-dmesg-end\n");
}

static void kmsg(const char *s)
{
	long fd = sys4(SYS_openat, AT_FDCWD, (long)"/dev/kmsg", O_WRONLY, 0);
	if (fd < 0)
		return;
	sys4(SYS_write, fd, (long)s, (long)slen(s), 0);
	sys4(SYS_close, fd, 0, 0, 0);
}

int main(int argc, char **argv)
{
	int mode = 0;
	if (argc > 1 && !scmp(argv[1], "--after-ready"))
		mode = 1;
	else if (argc > 1 && !scmp(argv[1], "--prefix-dmesg"))
		mode = 2;
	if (mode == 2) {
		dmesg(2);
		flush();
		return 0;
	}
	kmsg("probelab: state\n");
	puts0("@@probelab-state-begin\n");
	devices_and_drivers();
	if (exists("/sys/kernel/debug/devices_deferred"))
		lines_of("/sys/kernel/debug/devices_deferred", "@deferred ", 0, 0);
	else
		puts0("@deferred-unavailable\n");
	lines_of("/proc/modules", "@module ", 1, 0);
	static const char *const works[] = { "deferred_probe_work_func", "deferred_probe_timeout_work_func", 0 };
	if (exists("/sys/kernel/tracing/trace"))
		lines_of("/sys/kernel/tracing/trace", "@trace ", 0, works);
	dmesg(mode);
	puts0("@@probelab-state-end\n");
	flush();
	return 0;
}
