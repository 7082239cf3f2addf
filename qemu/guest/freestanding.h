/*
 * What a freestanding arm64 guest program needs without a libc (the cross compiler Debian ships,
 * gcc-aarch64-linux-gnu, has none for arm64): a raw system call (arch/arm64/kernel/syscall.c:
 * do_el0_svc -> el0_svc_common -> invoke_syscall: the number in x8, the arguments in x0-x5,
 * `svc #0`, the result in x0, -errno on failure) and _start, which passes argc and argv from the
 * initial stack (fs/binfmt_elf.c:create_elf_tables) to main and exits with its return value
 * (SYS_exit_group, 94). Included by probelab-state.c and probelab-wait.c, each built as one
 * translation unit (packages/harness/src/guest-programs.ts).
 */
#ifndef PROBELAB_FREESTANDING_H
#define PROBELAB_FREESTANDING_H

typedef unsigned long size_t;
typedef long ssize_t;

static long sys4(long n, long a, long b, long c, long d)
{
	register long x8 __asm__("x8") = n;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;
	register long x3 __asm__("x3") = d;
	__asm__ volatile("svc #0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3) : "memory");
	return x0;
}

int main(int argc, char **argv);

__asm__(".text\n"
	".global _start\n"
	"_start:\n"
	"	ldr x0, [sp]\n"
	"	add x1, sp, #8\n"
	"	bl main\n"
	"	mov x8, #94\n"
	"	svc #0\n");

#endif
