/**
 * Boot once, branch many: a snapshot of the guest taken when its init is ready for a schedule,
 * restored for each scenario that shares everything before that point. The prefix — QEMU's
 * command line (console path aside), the kernel image, the device tree, the kernel command line
 * and the initramfs (modules, no schedule) — keys a snapshot under the cache directory, so any
 * change of an input makes a new one. Taking it: the init prints "@@probelab-ready" and polls its
 * console (qemu/guest/init); QMP `stop`, `migrate` to a file, `quit`. Restoring: the same command
 * line with `-incoming`, the schedule as the console's input (the serial port the guest already
 * has: no new device, no driver registration, so nothing moves the deferred-probe timer), QMP
 * `cont` once the state is loaded. The guest's clock is in the snapshot, so actions scheduled
 * before the snapshot point cannot be honoured: such a scenario boots cold (the caller decides).
 *
 * The ring buffer up to the snapshot point is the same in every restore, so it is printed once:
 * the VM that took the snapshot goes on once the state is saved and prints it up to the init's
 * "probelab: ready" record (prefix-dmesg.log); a restored guest prints only the records after
 * that one, and the console returned reads as a cold boot's, the two spliced. The console's
 * UART costs about 2 µs a byte under TCG: the whole buffer (190 KB on Debian 6.12 with
 * initcall_debug) was 0.4 s of every restored boot.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDir, writeAtomic, writeFile } from './atomic.js';
import { HarnessError } from './errors.js';
import { makeFifo, writeFifo } from './console-fifo.js';
import { registerTemp, releaseTemp, startChild } from './lifetime.js';
import { waitForLock } from './out-lock.js';
import { snapshotDir } from './paths.js';
import { qmpConnect } from './qmp.js';
import { shellQuote } from './qemu-command.js';
import { requireQemu, startQemu } from './qemu-run.js';

export interface SnapshotMeta {
  /** Guest seconds of the last console timestamp before the init said it was ready. */
  readyAt: number;
  /** The bytes of the saved state, and the wall seconds the prefix boot took. */
  bytes: number;
  prefixWallSeconds: number;
}

export interface Snapshot {
  dir: string;
  state: string;
  prefixConsole: string;
  /** The ring buffer (`dmesg -r`) up to and including the init's "probelab: ready" record. */
  prefixDmesg: string;
  meta: SnapshotMeta;
  created: boolean;
}

const sha = (b: string | Buffer): string => createHash('sha256').update(b).digest('hex');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A file's hash, kept for the process while its size and time stay (a kernel image is 30-40 MB). */
const hashes = new Map<string, { size: number; mtimeMs: number; sha: string }>();
function fileSha(f: string): string {
  const st = statSync(f);
  const known = hashes.get(f);
  if (known && known.size === st.size && known.mtimeMs === st.mtimeMs) return known.sha;
  const h = sha(readFileSync(f));
  hashes.set(f, { size: st.size, mtimeMs: st.mtimeMs, sha: h });
  return h;
}

/** The key of a prefix: QEMU's arguments with the console's file left out, and the files they name. */
export function snapshotKey(args: string[], files: string[], binary = ''): string {
  // Files by their contents, not their paths (each scenario's initramfs is in its own out dir).
  const stable = args.map((a) =>
    files.reduce(
      (x, f, i) => x.split(f).join(`{file${i}}`),
      a.replace(/^(file|pipe),id=probelab-console,path=.*$/, 'probelab-console'),
    ),
  );
  // The QEMU binary by size and time: a new QEMU may not restore an old one's state.
  const qemu = binary && existsSync(binary) ? `${statSync(binary).size}-${statSync(binary).mtimeMs}` : binary;
  return sha(JSON.stringify({ format: 2, qemu, args: stable, files: files.map(fileSha) })).slice(0, 20);
}

/**
 * No snapshot for this prefix: its boot never reached the init's ready point (the kernel
 * panicked, the init is not probelab's, the guest hung), QEMU could not save it, or the saved VM
 * did not print its ring buffer. The scenario boots cold (real-boot.ts), saying so, and a cold
 * boot reports a panic or a hang as it always does.
 */
export class SnapshotUnavailable extends HarnessError {
  constructor(message: string) {
    super(message);
    this.name = 'SnapshotUnavailable';
  }
}

/** The console file's text once it holds `marker` (SnapshotUnavailable if QEMU exits or the wall limit passes first). */
export async function untilConsole(
  file: string,
  marker: string,
  limitMs: number,
  alive: () => boolean,
): Promise<string> {
  const end = Date.now() + limitMs;
  for (;;) {
    const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
    if (text.includes(marker)) return text;
    if (!alive()) throw new SnapshotUnavailable(`QEMU exited before the guest printed ${marker}`);
    if (Date.now() > end)
      throw new SnapshotUnavailable(`the guest did not print ${marker} within ${limitMs / 1000} s of wall time`);
    await sleep(3);
  }
}

/**
 * The snapshot for a prefix (`args`: QEMU's boot command with the console on the pipe chardev at
 * the path given), taken now if the cache has none. One process takes it; others wait and use it.
 */
export async function ensureSnapshot(
  binary: string,
  args: (console: string) => string[],
  files: string[],
  wallLimitSeconds: number,
  log: (l: string) => void = () => {},
): Promise<Snapshot> {
  const key = snapshotKey(args('{console}'), files, requireQemu(binary));
  // Cells of one matrix run in one process: the directory lock is reentrant there, so cells that
  // share a prefix wait for the one taking it here.
  const pending = inFlight.get(key);
  if (pending) return { ...(await pending), created: false };
  const p = takeSnapshot(key, binary, args, wallLimitSeconds, log);
  inFlight.set(key, p);
  try {
    return await p;
  } finally {
    inFlight.delete(key);
  }
}

const inFlight = new Map<string, Promise<Snapshot>>();

async function takeSnapshot(
  key: string,
  binary: string,
  args: (console: string) => string[],
  wallLimitSeconds: number,
  log: (l: string) => void,
): Promise<Snapshot> {
  const dir = join(snapshotDir(), key);
  const state = join(dir, 'vm.state');
  const metaFile = join(dir, 'meta.json');
  const prefixConsole = join(dir, 'prefix-console.log');
  const prefixDmesg = join(dir, 'prefix-dmesg.log');
  const have = (): Snapshot | null =>
    existsSync(state) && existsSync(metaFile) && existsSync(prefixDmesg)
      ? {
          dir,
          state,
          prefixConsole,
          prefixDmesg,
          meta: JSON.parse(readFileSync(metaFile, 'utf8')) as SnapshotMeta,
          created: false,
        }
      : null;
  const ready = have();
  if (ready) {
    utimesSync(metaFile, new Date(), new Date()); // last used, for pruning
    return ready;
  }
  ensureDir(dir);
  const release = await waitForLock(dir, log);
  try {
    const again = have();
    if (again) return again;
    log(`taking a boot snapshot (${key}): booting to the init once`);
    const t0 = Date.now();
    // The console on QEMU's pipe chardev: `.out` the log, `.in` a FIFO (QEMU opens it read-write,
    // so it never sees an end) through which the saved VM is told to print its ring buffer.
    const pipe = join(dir, `prefix-console.tmp-${process.pid}`);
    const consoleTmp = `${pipe}.out`;
    const fifo = `${pipe}.in`;
    const sock = join(dir, `qmp-${process.pid}.sock`);
    const tmp = join(dir, `vm.state.tmp-${process.pid}`);
    for (const f of [consoleTmp, fifo, sock, tmp]) registerTemp(f);
    writeFile(consoleTmp, '');
    await makeFifo(fifo);
    const { child } = await startChild(binary, [...args(pipe), '-qmp', `unix:${sock},server=on,wait=off`], {
      reject: false,
      stdin: 'ignore',
      all: true,
    });
    let exited = false;
    void (child as unknown as Promise<unknown>).then(
      () => (exited = true),
      () => (exited = true),
    );
    try {
      const text = await untilConsole(consoleTmp, '@@probelab-ready', wallLimitSeconds * 1000, () => !exited);
      const qmp = await qmpConnect(sock);
      await qmp.execute('stop');
      // QEMU throttles a migration to 128 MiB/s by default (MAX_THROTTLE: migration/migration.c in
      // QEMU 7.2, migration/options.c since 8.1),
      // 0.5 s of the 62 MB a Debian 6.12 guest saves (0.12-0.3 s unthrottled, measured): a file
      // on this machine has no link to spare.
      await qmp.execute('migrate-set-parameters', { 'max-bandwidth': 64 * 1024 ** 3 });
      await qmp.execute('migrate', { uri: `exec:cat > ${shellQuote(tmp)}` });
      for (;;) {
        const m = await qmp.execute<{ status?: string; 'error-desc'?: string }>('query-migrate');
        if (m.status === 'completed') break;
        if (m.status === 'failed' || m.status === 'cancelled')
          throw new SnapshotUnavailable(`QEMU could not save the boot snapshot: ${m['error-desc'] ?? m.status}`);
        await sleep(10);
      }
      // The state is on disk; the VM goes on to print its ring buffer and power off.
      await qmp.execute('cont');
      await writeFifo(fifo, Buffer.from(dumpInput()), () => exited);
      const timer = setTimeout(() => child.kill('SIGKILL'), wallLimitSeconds * 1000);
      await child;
      clearTimeout(timer);
      qmp.close();
      const dump = readFileSync(consoleTmp, 'utf8');
      const begin = dump.indexOf('@@probelab-prefix-dmesg-begin');
      const end = dump.indexOf('@@probelab-prefix-dmesg-end');
      if (begin < 0 || end < begin)
        throw new SnapshotUnavailable(
          `the snapshot's guest did not print its ring buffer up to the init's "ready" record (${dump.includes('@@probelab-prefix-dmesg-missing') ? 'no such record' : 'no output'}); console log kept in ${prefixConsole}.failed`,
        );
      const meta: SnapshotMeta = {
        readyAt: readyPoint(text),
        bytes: statSync(tmp).size,
        prefixWallSeconds: (Date.now() - t0) / 1000,
      };
      renameSync(tmp, state);
      releaseTemp(tmp);
      writeAtomic(prefixConsole, text.slice(0, text.indexOf('@@probelab-ready')));
      writeAtomic(prefixDmesg, dump.slice(dump.indexOf('\n', begin) + 1, end));
      writeAtomic(metaFile, `${JSON.stringify(meta, null, 2)}\n`);
      prune(snapshotDir(), dir);
      return { dir, state, prefixConsole, prefixDmesg, meta, created: true };
    } catch (e) {
      if (existsSync(consoleTmp)) writeFile(`${prefixConsole}.failed`, readFileSync(consoleTmp));
      throw e;
    } finally {
      child.kill('SIGKILL');
      for (const f of [consoleTmp, fifo, sock, tmp]) {
        rmSync(f, { force: true });
        releaseTemp(f);
      }
    }
  } finally {
    release();
  }
}

/** Snapshots kept (about 70 MB each at 512 MiB of guest RAM); the least recently used go first. */
export const keptSnapshots = 48;

function prune(root: string, keep: string): void {
  const all = readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => join(root, e.name));
  const used = all
    .map((d) => ({ d, t: existsSync(join(d, 'meta.json')) ? statSync(join(d, 'meta.json')).mtimeMs : 0 }))
    .sort((a, b) => b.t - a.t);
  for (const { d } of used.slice(keptSnapshots)) {
    if (d === keep || existsSync(join(d, '.probelab.lock'))) continue;
    rmSync(d, { recursive: true, force: true });
  }
}

/** The guest time of the last console timestamp before the init printed "@@probelab-ready". */
export function readyPoint(console: string): number {
  const stamps = [...console.slice(0, console.indexOf('@@probelab-ready')).matchAll(/^\[\s*(\d+\.\d{6})\]/gm)];
  return stamps.length ? Number(stamps[stamps.length - 1]![1]) : 0;
}

/**
 * The console input a waiting init reads (qemu/guest/init): padding, then the schedule. `full`:
 * a guest booted from the firmware (handed-boot.ts), which prints its whole ring buffer, not
 * only the records after "ready" as a restored one does.
 */
export function scheduleInput(schedule: string, capture: string, full = false): string {
  const lines = schedule
    .split('\n')
    .filter(Boolean)
    .map((l) => `S ${l}`);
  return `${'\n'.repeat(64)}@@probelab-schedule-begin\n${lines.join('\n')}${lines.length ? '\n' : ''}C ${capture}\n${full ? 'F\n' : ''}@@probelab-schedule-end\n`;
}

/** The input that tells the VM which took a snapshot to print its ring buffer and power off. */
function dumpInput(): string {
  return `${'\n'.repeat(64)}@@probelab-schedule-begin\nP\n@@probelab-schedule-end\n`;
}

/**
 * A restored boot's console as a cold boot's reads: the prefix's lines, then the restored run's,
 * its ring buffer dump (the records after "ready") preceded by the prefix's records.
 */
export function splicedConsole(prefixConsole: string, prefixDmesg: string, restored: string): string {
  const m = /^@@probelab-dmesg-begin after-ready\r?\n/m.exec(restored);
  if (!m) return prefixConsole + restored;
  return `${prefixConsole}${restored.slice(0, m.index)}@@probelab-dmesg-begin${m[0].endsWith('\r\n') ? '\r\n' : '\n'}${prefixDmesg}${restored.slice(m.index + m[0].length)}`;
}

/**
 * Restore `snap` with the console on QEMU's pipe chardev at `pipe` (`args(pipe)`: `<pipe>.in` is
 * `input`, `<pipe>.out` the log), run the guest to its power-off. The console returned, and
 * written to `consoleLog`, reads as a cold boot's would: the prefix's lines, then the restored
 * run's.
 */
export async function restoreSnapshot(
  binary: string,
  args: (pipe: string) => string[],
  snap: Snapshot,
  input: string,
  consoleLog: string,
  wallLimitSeconds: number,
): Promise<{ console: string; wallSeconds: number }> {
  const pipe = `${consoleLog}.pipe`;
  const inputFile = `${pipe}.in`;
  const sock = `${consoleLog}.qmp`;
  writeFile(inputFile, input);
  writeFile(`${pipe}.out`, '');
  writeFile(consoleLog, '');
  registerTemp(sock);
  const q = await startQemu(
    binary,
    [...args(pipe), '-qmp', `unix:${sock},server=on,wait=off`, '-incoming', `exec:cat ${shellQuote(snap.state)}`],
    wallLimitSeconds,
    consoleLog,
  );
  try {
    const qmp = await qmpConnect(sock, 10_000, q.exited);
    for (;;) {
      const st = await qmp.execute<{ status: string }>('query-status');
      if (st.status !== 'inmigrate') break;
      await sleep(5);
    }
    await qmp.execute('cont');
    let wallSeconds: number;
    try {
      wallSeconds = await q.finished('QEMU (restoring a boot snapshot)');
    } catch (e) {
      writeFile(consoleLog, readFileSync(`${pipe}.out`, 'utf8')); // what the restored guest printed
      throw e;
    } finally {
      qmp.close();
    }
    const text = splicedConsole(
      readFileSync(snap.prefixConsole, 'utf8'),
      readFileSync(snap.prefixDmesg, 'utf8'),
      readFileSync(`${pipe}.out`, 'utf8'),
    );
    writeFile(consoleLog, text);
    return { console: text, wallSeconds };
  } finally {
    q.stop();
    rmSync(sock, { force: true });
    releaseTemp(sock);
    rmSync(inputFile, { force: true });
    rmSync(`${pipe}.out`, { force: true });
  }
}
