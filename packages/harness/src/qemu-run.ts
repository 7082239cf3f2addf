/**
 * Running QEMU: the serial console goes straight to a log file through a QEMU file chardev.
 * (Not through a pipe: a pipe the host reads slowly makes the guest's UART wait, and under icount
 * that waiting is guest time, so boots would stop being reproducible under host load.) A guest
 * that does not power off within the wall-time limit is killed and reported; Ctrl-C and
 * SIGTERM kill QEMU before probelab exits, so no process is left behind.
 */
import { accessSync, constants, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { HarnessError } from './errors.js';

const live = new Set<ResultPromise>();
let handlersInstalled = false;

/**
 * For the command line: on Ctrl-C, SIGTERM or SIGHUP, kill every QEMU this process started and
 * exit with status 2. (Library users get execa's cleanup, which kills children on exit.)
 */
export function installSignalHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  const killAll = (): number => {
    for (const p of live) p.kill('SIGKILL');
    return live.size;
  };
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      const n = killAll();
      process.stderr.write(`probelab: interrupted (${sig})${n ? `; ${n} QEMU process${n > 1 ? 'es' : ''} stopped` : ''}\n`);
      process.exit(2);
    });
  }
}

export interface QemuRun { console: string; wallSeconds: number }

export async function runQemu(binary: string, args: string[], logFile: string, wallLimitSeconds: number): Promise<QemuRun> {
  requireQemu(binary);
  writeFileSync(logFile, '');
  const consoleArgs = ['-chardev', `file,id=probelab-console,path=${logFile}`, '-serial', 'chardev:probelab-console'];
  const started = process.hrtime.bigint();
  const child = execa(binary, [...consoleArgs, ...args], { reject: false, stdin: 'ignore', all: true, forceKillAfterDelay: 2000, cleanup: true });
  live.add(child);
  const timer = setTimeout(() => child.kill('SIGKILL'), wallLimitSeconds * 1000);
  const r = await child;
  clearTimeout(timer);
  live.delete(child);
  const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const consoleText = readFileSync(logFile, 'utf8');
  const qemuSaid = typeof r.all === 'string' ? r.all.trim() : '';
  if (r.isTerminated && r.signal === 'SIGKILL' && wallSeconds >= wallLimitSeconds - 0.5) {
    throw new HarnessError(`QEMU did not power off within ${wallLimitSeconds} s of wall time: killed; console log kept in ${logFile}`, logFile);
  }
  if (r.exitCode !== 0 && !r.isTerminated) {
    throw new HarnessError(`QEMU exited with status ${r.exitCode}: ${qemuSaid.split('\n').slice(-3).join(' | ') || '(no message)'}; console log kept in ${logFile}`, logFile);
  }
  return { console: consoleText, wallSeconds };
}

/** `-machine dumpdtb=`: QEMU's own device tree for the machine, without booting anything. */
export async function dumpDtb(binary: string, machineArgs: string[], out: string): Promise<void> {
  const i = machineArgs.indexOf('-M');
  const args = [...machineArgs];
  args[i + 1] = `${args[i + 1]},dumpdtb=${out}`;
  requireQemu(binary);
  const child = execa(binary, args, { reject: false, stdin: 'ignore', cleanup: true });
  live.add(child);
  const r = await child;
  live.delete(child);
  if (r.exitCode !== 0) throw new HarnessError(`QEMU could not dump the machine's DTB: ${(r.stderr || String(r.exitCode)).trim()}`);
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
