/**
 * Running QEMU: the serial console goes straight to a log file through a QEMU file chardev.
 * (Not through a pipe: a pipe the host reads slowly makes the guest's UART wait, and under icount
 * that waiting is guest time, so boots would stop being reproducible under host load.) A guest
 * that does not power off within the wall-time limit is killed and reported; QEMU is started
 * through lifetime.ts, so it never outlives probelab.
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

/** Run a boot whose console goes to `logFile` (bootCommand with `{ file: logFile }`). */
export async function runQemu(
  binary: string,
  args: string[],
  logFile: string,
  wallLimitSeconds: number,
): Promise<QemuRun> {
  requireQemu(binary);
  writeFile(logFile, '');
  const started = process.hrtime.bigint();
  const { child } = await startChild(binary, args, {
    reject: false,
    stdin: 'ignore',
    all: true,
    forceKillAfterDelay: 2000,
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), wallLimitSeconds * 1000);
  const r = await child;
  clearTimeout(timer);
  const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const consoleText = readFileSync(logFile, 'utf8');
  const qemuSaid = typeof r.all === 'string' ? r.all.trim() : '';
  if (r.isTerminated && r.signal === 'SIGKILL' && wallSeconds >= wallLimitSeconds - 0.5) {
    throw new HarnessError(
      `QEMU did not power off within ${wallLimitSeconds} s of wall time: killed; console log kept in ${logFile}`,
      logFile,
    );
  }
  if (r.exitCode !== 0 && !r.isTerminated) {
    throw new HarnessError(
      `QEMU exited with status ${r.exitCode}: ${qemuSaid.split('\n').slice(-3).join(' | ') || '(no message)'}; console log kept in ${logFile}`,
      logFile,
    );
  }
  return { console: consoleText, wallSeconds };
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
