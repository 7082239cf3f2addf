/*
 * probelab's schedule clock: sleep until the guest's uptime (CLOCK_BOOTTIME, what /proc/uptime
 * reads: fs/proc/uptime.c:uptime_proc_show -> ktime_get_boottime_ts64) reaches T seconds, in one
 * absolute sleep (kernel/time/posix-timers.c:SYSCALL_DEFINE4(clock_nanosleep) with TIMER_ABSTIME,
 * an hrtimer). Run by the init (qemu/guest/init: wait_until) before each scheduled action.
 *
 *   probelab-wait T     T: decimal seconds ("8", "0.5", "15.004"), nanoseconds at most
 *
 * The shell loop it replaces (a subshell for /proc/uptime, awk for the difference, a relative
 * `sleep` of it rounded to 1 ms) cost three forks an iteration and woke 0.5-5 ms after T, by
 * how the rounding fell: an action's time moved by that much between two boots of one schedule.
 * An absolute sleep wakes at T plus the hrtimer's expiry, the same in every boot; a T already
 * past returns at once. Exit status 2 on a T it cannot read.
 *
 * Freestanding like probelab-state.c: raw syscalls, no libc.
 */

#include "freestanding.h"

#define SYS_write 64
#define SYS_exit_group 94
#define SYS_clock_nanosleep 115
#define CLOCK_BOOTTIME 7
#define TIMER_ABSTIME 1
#define EINTR 4

struct timespec64 {
	long tv_sec;
	long tv_nsec;
};

static void say(const char *s)
{
	long n = 0;
	while (s[n])
		n++;
	sys4(SYS_write, 2, (long)s, n, 0);
}

/* "S[.F]" with up to nine digits of F into t; 0 on anything else. */
static int parse(const char *s, struct timespec64 *t)
{
	long sec = 0, nsec = 0, scale = 100000000;
	int digits = 0;
	for (; *s >= '0' && *s <= '9'; s++, digits++) {
		if (sec > 100000000)
			return 0;
		sec = sec * 10 + (*s - '0');
	}
	if (*s == '.') {
		for (s++; *s >= '0' && *s <= '9'; s++, digits++) {
			if (!scale)
				return 0;
			nsec += (*s - '0') * scale;
			scale /= 10;
		}
	}
	if (*s || !digits)
		return 0;
	t->tv_sec = sec;
	t->tv_nsec = nsec;
	return 1;
}

int main(int argc, char **argv)
{
	struct timespec64 t;
	if (argc != 2 || !parse(argv[1], &t)) {
		say("usage: probelab-wait SECONDS (guest uptime to sleep until, decimal)\n");
		return 2;
	}
	long r;
	while ((r = sys4(SYS_clock_nanosleep, CLOCK_BOOTTIME, TIMER_ABSTIME, (long)&t, 0)) == -EINTR)
		;
	if (r) {
		say("probelab-wait: clock_nanosleep failed\n");
		return 1;
	}
	return 0;
}
