/**
 * Process lifetime: no process outlives probelab. Every child runs in a process group of its
 * own (so a kernel build's make takes its cc1s with it) under a parent-death signal
 * (util-linux `setpriv --pdeathsig`), and its whole group is killed when probelab exits for any
 * reason: a normal exit, SIGINT, SIGTERM, SIGHUP, or the death of whoever launched it.
 *
 * The launcher watch exists for npm: `npx probelab …` runs the bin as `npm exec` → `sh -c
 * 'probelab' …` → node. npm forwards SIGINT/SIGTERM to the shell only; the shell dies and probelab
 * is orphaned, still booting. So probelab watches its launcher chain — its parent and, while that
 * is a wrapper (`sh -c`, `npm exec`, `npx`, `env`), the wrapper's parent — and stops when any of
 * them is gone. Temporary files registered here are removed on every way out.
 *
 * SIGINT is the one signal the chain swallows: npm passes it to `sh -c`, and a non-interactive
 * dash catches SIGINT (SigCgt mask 0x2) and keeps waiting for its child, so the boot would run to
 * its end. A shell blocked in wait3() for probelab wakes only for a signal it catches or for a
 * change of its child's state; so a shell wrapper whose context-switch count moves while probelab
 * runs (and was not itself stopped) was interrupted, and probelab stops as if it had been.
 */
import { accessSync, constants, readFileSync, rmSync } from 'node:fs';
import { basename } from 'node:path';
import type { Options, ResultPromise } from 'execa';

interface Child {
  pid?: number | undefined;
  kill(signal?: NodeJS.Signals): boolean;
}
const live = new Set<Child>();
const temps = new Set<string>();
let cliInstalled = false;
let exitHookInstalled = false;

const setpriv = ((): string | null => {
  if (process.platform !== 'linux') return null;
  for (const f of ['/usr/bin/setpriv', '/bin/setpriv']) {
    try {
      accessSync(f, constants.X_OK);
      return f;
    } catch {
      // not here
    }
  }
  return null;
})();

/** Kill every live child's process group (SIGKILL: nothing of theirs is worth keeping). */
export function killChildren(signal: NodeJS.Signals = 'SIGKILL'): number {
  let n = 0;
  for (const p of live) {
    if (p.pid === undefined) continue;
    try {
      process.kill(-p.pid, signal);
      n++;
    } catch {
      try {
        p.kill(signal);
      } catch {
        // already gone
      }
    }
  }
  return n;
}

function removeTemps(): void {
  for (const f of temps) rmSync(f, { force: true, recursive: true });
  temps.clear();
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    killChildren();
    removeTemps();
  });
}

/** A temporary file or directory removed at exit (and by `releaseTemp` once it is renamed). */
export function registerTemp(path: string): void {
  installExitHook();
  temps.add(path);
}

export function releaseTemp(path: string): void {
  temps.delete(path);
}

/** `file args` run under the parent-death signal where setpriv exists. */
export function withDeathSignal(file: string, args: readonly string[]): [string, string[]] {
  return setpriv ? [setpriv, ['--pdeathsig', 'SIGKILL', '--', file, ...args]] : [file, [...args]];
}

type Execa = typeof import('execa').execa;
let execa: Execa | undefined;
/**
 * execa, loaded with the first child: its hundred-odd modules were 0.2 s of every command's start
 * (0.28 s to import against node's 0.07 s), most of all of those that start no child.
 */
async function loadExeca(): Promise<Execa> {
  return (execa ??= (await import('execa')).execa);
}

/**
 * Start a child process (execa's API) in its own process group, killed with probelab. The
 * parent-death signal also covers probelab being killed with SIGKILL. Resolves once it is
 * started, to the running child, boxed (awaiting the child itself waits for its end).
 */
export async function startChild<O extends Options = Options>(
  file: string,
  args: readonly string[],
  opts: O = {} as O,
): Promise<{ child: ResultPromise<O> }> {
  const run = await loadExeca();
  installExitHook();
  const [cmd, argv] = withDeathSignal(file, args);
  const child = run(cmd, argv, { ...opts, detached: true, cleanup: false }) as unknown as ResultPromise<O>;
  const handle = child as unknown as Child;
  live.add(handle);
  const done = (): void => {
    live.delete(handle);
  };
  (child as unknown as Promise<unknown>).then(done, done);
  return { child };
}

/** A child process (startChild's) run to its end: execa's result. */
export async function runChild<O extends Options = Options>(
  file: string,
  args: readonly string[],
  opts: O = {} as O,
): Promise<Awaited<ResultPromise<O>>> {
  const { child } = await startChild(file, args, opts);
  return await child;
}

/**
 * A child started elsewhere (node-pty's forkpty makes it a session leader, so its pid is its
 * group): killed with probelab like the others; call the returned function once it has exited.
 */
export function trackChild(child: Child): () => void {
  installExitHook();
  live.add(child);
  return () => void live.delete(child);
}

/** The number of children still running (for tests and messages). */
export function liveChildren(): number {
  return live.size;
}

interface ProcId {
  pid: number;
  start: string;
  what: string;
}

/** A waiting shell's wake-up count (voluntary + involuntary context switches), if it catches SIGINT. */
function shellWakeups(pid: number): number | null {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const field = (name: string): string => new RegExp(`^${name}:\\s*(\\S+)`, 'm').exec(status)?.[1] ?? '';
  if ((BigInt(`0x${field('SigCgt') || '0'}`) & 2n) === 0n) return null;
  return Number(field('voluntary_ctxt_switches')) + Number(field('nonvoluntary_ctxt_switches'));
}

function isShellWrapper(what: string): boolean {
  return /^(\S*\/)?(sh|dash|bash|zsh) -c /.test(what);
}

function procId(pid: number): ProcId | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2 (comm) may hold spaces and parentheses: the fields after it follow the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    return { pid, start: rest[19] ?? '', what: argv.join(' ').slice(0, 80) };
  } catch {
    return null;
  }
}

function parentOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return 0;
  }
}

/** A process that only passes a command on: a shell's `-c`, npm/npx, env. */
function isWrapper(pid: number): boolean {
  let argv: string[];
  try {
    argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return false;
  }
  const a0 = basename(argv[0] ?? '');
  if (/^(sh|dash|bash|zsh)$/.test(a0) && argv[1] === '-c') return true;
  if (/^(npm|npx)( |$)/.test(argv[0] ?? '') || a0 === 'env') return true;
  return a0 === 'node' && argv.slice(1, 3).some((x) => /(npm|npx)(-cli)?(\.js)?$/.test(x));
}

/** The launcher chain: the parent and, through wrappers, the processes above it (not init). */
export function launcherChain(): ProcId[] {
  const chain: ProcId[] = [];
  if (process.platform !== 'linux') return chain;
  let pid = process.ppid;
  while (pid > 1 && chain.length < 8) {
    const id = procId(pid);
    if (!id) break;
    chain.push(id);
    if (!isWrapper(pid)) break;
    pid = parentOf(pid);
  }
  return chain;
}

function stop(reason: string): never {
  const n = killChildren();
  removeTemps();
  process.stderr.write(`probelab: ${reason}${n ? `; ${n} child process group${n > 1 ? 's' : ''} stopped` : ''}\n`);
  process.exit(2);
}

/**
 * For the command line: stop (status 2) on SIGINT, SIGTERM or SIGHUP and when the launcher
 * chain breaks, killing every child first. Checked four times a second; the timer does not keep
 * the process alive.
 */
export function installLifetime(): void {
  if (cliInstalled) return;
  cliInstalled = true;
  installExitHook();
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => stop(`interrupted (${sig})`));
  const ppid = process.ppid;
  const chain = launcherChain();
  if (process.platform !== 'linux') return;
  const shells = new Map<number, number>();
  const baseline = (): void => {
    for (const p of chain) {
      const w = isShellWrapper(p.what) ? shellWakeups(p.pid) : null;
      if (w !== null) shells.set(p.pid, w);
    }
  };
  baseline();
  let last = Date.now();
  // Job control (Ctrl-Z, then fg or bg; SIGSTOP/SIGCONT to the group) wakes the shell too — for
  // its own SIGCONT, and for the SIGCHLD of probelab stopping and going on — at whatever moment
  // the scheduler runs it after the group is continued: for a while after probelab's own
  // SIGCONT, the shell's wake-ups are taken as the new baseline, not as an interrupt.
  let graceUntil = 0;
  process.on('SIGCONT', () => {
    graceUntil = Date.now() + 3000;
  });
  const watch = setInterval(() => {
    if (process.ppid !== ppid) stop(`the process that started probelab (pid ${ppid}) exited`);
    for (const p of chain) {
      const now = procId(p.pid);
      if (!now || now.start !== p.start) stop(`the process that started probelab (pid ${p.pid}, ${p.what}) exited`);
    }
    // A gap means probelab itself was stopped (job control): its shell woke for that, not for a
    // signal meant to end the run.
    const t = Date.now();
    if (t - last > 1000) graceUntil = Math.max(graceUntil, t + 3000);
    last = t;
    if (t < graceUntil) {
      baseline();
      return;
    }
    for (const [pid, w] of shells) {
      const now = shellWakeups(pid);
      if (now !== null && now !== w)
        stop(`interrupted (the shell that started probelab, pid ${pid}, was signalled: SIGINT through npm)`);
    }
  }, 250);
  watch.unref();
}
