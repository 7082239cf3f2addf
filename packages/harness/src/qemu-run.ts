/**
 * Running QEMU: the serial console goes straight to a log file through a QEMU file chardev.
 * (Not through a pipe: a pipe the host reads slowly makes the guest's UART wait, and under icount
 * that waiting is guest time, so boots would stop being reproducible under host load.) A guest
 * that does not power off within the wall-time limit is killed and reported (startQemu, for every
 * boot: this file's, a restore's, a handed boot's); QEMU is started through lifetime.ts, so it
 * never outlives probelab.
 */
import { accessSync, constants, readFileSync } from 'node:fs';
import { writeFile } from './atomic.js';
import { delimiter, join } from 'node:path';
import { HarnessError } from './errors.js';
import { startChild } from './lifetime.js';

export interface QemuRun {
  console: string;
  wallSeconds: number;
}

/** A QEMU process under the wall-time limit: killed with SIGKILL when the limit passes. */
export interface QemuProcess {
  /** True once QEMU has exited. */
  exited(): boolean;
  /**
   * QEMU's exit, waited for: the wall seconds since it started. A kill at the limit (a hang) or a
   * failing exit status is a HarnessError naming the console log kept; `what` says which QEMU.
   */
  finished(what?: string): Promise<number>;
  /** Kill it if it still runs and disarm the limit (for a `finally`). */
  stop(): void;
}

/** Start QEMU (through lifetime.ts, so it never outlives probelab), the wall limit armed. */
export async function startQemu(
  binary: string,
  args: string[],
  wallLimitSeconds: number,
  consoleLog: string,
): Promise<QemuProcess> {
  requireQemu(binary);
  const started = process.hrtime.bigint();
  const { child } = await startChild(binary, args, {
    reject: false,
    stdin: 'ignore',
    all: true,
    forceKillAfterDelay: 2000,
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), wallLimitSeconds * 1000);
  let exited = false;
  void (child as unknown as Promise<unknown>).then(
    () => (exited = true),
    () => (exited = true),
  );
  return {
    exited: () => exited,
    async finished(what = 'QEMU') {
      const r = await child;
      clearTimeout(timer);
      const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (r.isTerminated && r.signal === 'SIGKILL' && wallSeconds >= wallLimitSeconds - 0.5)
        throw new HarnessError(
          `QEMU did not power off within ${wallLimitSeconds} s of wall time: killed; console log kept in ${consoleLog}`,
          consoleLog,
        );
      if (r.exitCode !== 0 && !r.isTerminated) {
        const said = typeof r.all === 'string' ? r.all.trim() : '';
        throw new HarnessError(
          `${what} exited with status ${r.exitCode}: ${said.split('\n').slice(-3).join(' | ') || '(no message)'}; console log kept in ${consoleLog}`,
          consoleLog,
        );
      }
      return wallSeconds;
    },
    stop() {
      clearTimeout(timer);
      child.kill('SIGKILL');
    },
  };
}

/** Run a boot whose console goes to `logFile` (bootCommand with `{ file: logFile }`). */
export async function runQemu(
  binary: string,
  args: string[],
  logFile: string,
  wallLimitSeconds: number,
): Promise<QemuRun> {
  requireQemu(binary);
  writeFile(logFile, '');
  const q = await startQemu(binary, args, wallLimitSeconds, logFile);
  try {
    const wallSeconds = await q.finished();
    return { console: readFileSync(logFile, 'utf8'), wallSeconds };
  } finally {
    q.stop();
  }
}

/** `-machine dumpdtb=`: QEMU's own device tree for the machine, without booting anything. */
export async function dumpDtb(
  binary: string,
  machineArgs: string[],
  out: string,
  limitSeconds = wallLimit(30),
): Promise<void> {
  const i = machineArgs.indexOf('-M');
  const args = [...machineArgs];
  args[i + 1] = `${args[i + 1]},dumpdtb=${out}`;
  requireQemu(binary);
  const { child } = await startChild(binary, args, { reject: false, stdin: 'ignore' });
  const timer = setTimeout(() => child.kill('SIGKILL'), limitSeconds * 1000);
  const r = await child;
  clearTimeout(timer);
  if (r.isTerminated && r.signal === 'SIGKILL')
    throw new HarnessError(
      `QEMU did not dump the machine's DTB within ${limitSeconds} s of wall time: killed (${binary} ${args.join(' ')})`,
    );
  if (r.exitCode !== 0)
    throw new HarnessError(`QEMU could not dump the machine's DTB: ${(r.stderr || String(r.exitCode)).trim()}`);
}

/** The largest wall limit a timer can hold (Node's timers take at most 2^31-1 ms): 24 days. */
export const maxWallLimit = 2_000_000;

/**
 * The wall-time limit for a QEMU run: PROBELAB_WALL_LIMIT (seconds, 1 to 2,000,000) when set,
 * else `fallback`. Anything else is refused, not ignored.
 */
export function wallLimit(fallback: number): number {
  const raw = process.env.PROBELAB_WALL_LIMIT;
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!/^\s*\d+(\.\d+)?\s*$/.test(raw) || !Number.isFinite(n) || n < 1 || n > maxWallLimit) {
    throw new HarnessError(
      `PROBELAB_WALL_LIMIT=${JSON.stringify(raw)}: expected a number of seconds of wall time from 1 to ${maxWallLimit}`,
    );
  }
  return n;
}

/** Fail early and clearly when QEMU is not installed (looked up on PATH, as execa would). */
export function requireQemu(binary: string): string {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const f = join(dir, binary);
    try {
      accessSync(f, constants.X_OK);
      return f;
    } catch {
      // not here
    }
  }
  throw new HarnessError(`${binary} not found: install the Debian package qemu-system-arm (see README, "Set up")`);
}
