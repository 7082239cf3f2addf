/**
 * Running QEMU: the console (serial on stdio) is written to a log file as it arrives; a guest
 * that does not power off within the wall-time limit is killed and reported; Ctrl-C and
 * SIGTERM kill QEMU before probelab exits, so no process is left behind.
 */
import { accessSync, constants, createWriteStream } from 'node:fs';
import { delimiter, join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { HarnessError } from './errors.js';

const live = new Set<ResultPromise>();
let handlersInstalled = false;

function installSignalHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  const killAll = (): void => {
    for (const p of live) p.kill('SIGKILL');
  };
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      killAll();
      process.stderr.write(`probelab: interrupted (${sig}); QEMU stopped\n`);
      process.exit(2);
    });
  }
}

export interface QemuRun { console: string; wallSeconds: number }

export async function runQemu(binary: string, args: string[], logFile: string, wallLimitSeconds: number): Promise<QemuRun> {
  installSignalHandlers();
  requireQemu(binary);
  const log = createWriteStream(logFile);
  const started = process.hrtime.bigint();
  const child = execa(binary, args, { reject: false, stdin: 'ignore', all: true, buffer: { all: true }, forceKillAfterDelay: 2000, cleanup: true });
  live.add(child);
  child.all?.on('data', (b: Buffer) => log.write(b));
  const timer = setTimeout(() => child.kill('SIGKILL'), wallLimitSeconds * 1000);
  const r = await child;
  clearTimeout(timer);
  live.delete(child);
  await new Promise<void>((res) => log.end(res));
  const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const consoleText = typeof r.all === 'string' ? r.all : '';
  if (r.isTerminated && r.signal === 'SIGKILL' && wallSeconds >= wallLimitSeconds - 0.5) {
    throw new HarnessError(`QEMU did not power off within ${wallLimitSeconds} s of wall time: killed; console log kept in ${logFile}`, logFile);
  }
  if (r.exitCode !== 0 && !r.isTerminated) {
    throw new HarnessError(`QEMU exited with status ${r.exitCode}: ${consoleText.trim().split('\n').slice(-3).join(' | ')}; console log kept in ${logFile}`, logFile);
  }
  return { console: consoleText, wallSeconds };
}

/** `-machine dumpdtb=`: QEMU's own device tree for the machine, without booting anything. */
export async function dumpDtb(binary: string, machineArgs: string[], out: string): Promise<void> {
  const i = machineArgs.indexOf('-M');
  const args = [...machineArgs];
  args[i + 1] = `${args[i + 1]},dumpdtb=${out}`;
  requireQemu(binary);
  const r = await execa(binary, args, { reject: false, stdin: 'ignore' });
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
