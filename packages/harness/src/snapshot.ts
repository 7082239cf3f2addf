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
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDir, writeAtomic, writeFile } from './atomic.js';
import { HarnessError } from './errors.js';
import { registerTemp, releaseTemp, spawnChild } from './lifetime.js';
import { waitForLock } from './out-lock.js';
import { cacheDir } from './paths.js';
import { qmpConnect } from './qmp.js';
import { shellQuote } from './qemu-command.js';
import { requireQemu } from './qemu-run.js';

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
  meta: SnapshotMeta;
  created: boolean;
}

const sha = (b: string | Buffer): string => createHash('sha256').update(b).digest('hex');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The key of a prefix: QEMU's arguments with the console's file left out, and the files they name. */
export function snapshotKey(args: string[], files: string[], binary = ''): string {
  // Files by their contents, not their paths (each scenario's initramfs is in its own out dir).
  const stable = args.map((a) =>
    files.reduce(
      (x, f, i) => x.split(f).join(`{file${i}}`),
      a.replace(/^file,id=probelab-console,path=.*$/, 'file,id=probelab-console'),
    ),
  );
  // The QEMU binary by size and time: a new QEMU may not restore an old one's state.
  const qemu = binary && existsSync(binary) ? `${statSync(binary).size}-${statSync(binary).mtimeMs}` : binary;
  return sha(JSON.stringify({ format: 1, qemu, args: stable, files: files.map((f) => sha(readFileSync(f))) })).slice(
    0,
    20,
  );
}

async function untilConsole(file: string, marker: string, limitMs: number, alive: () => boolean): Promise<string> {
  const end = Date.now() + limitMs;
  for (;;) {
    const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
    if (text.includes(marker)) return text;
    if (!alive())
      throw new HarnessError(`QEMU exited before the guest printed ${marker}; console log kept in ${file}`, file);
    if (Date.now() > end)
      throw new HarnessError(
        `the guest did not print ${marker} within ${limitMs / 1000} s of wall time; console log kept in ${file}`,
        file,
      );
    await sleep(3);
  }
}

/**
 * The snapshot for a prefix (`args`: QEMU's boot command with the console at `{console}`, which
 * this replaces), taken now if the cache has none. One process takes it; others wait and use it.
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
  const dir = join(cacheDir(), 'snapshots', key);
  const state = join(dir, 'vm.state');
  const metaFile = join(dir, 'meta.json');
  const prefixConsole = join(dir, 'prefix-console.log');
  const have = (): Snapshot | null =>
    existsSync(state) && existsSync(metaFile)
      ? { dir, state, prefixConsole, meta: JSON.parse(readFileSync(metaFile, 'utf8')) as SnapshotMeta, created: false }
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
    const consoleTmp = join(dir, `prefix-console.tmp-${process.pid}`);
    const sock = join(dir, `qmp-${process.pid}.sock`);
    const tmp = join(dir, `vm.state.tmp-${process.pid}`);
    for (const f of [consoleTmp, sock, tmp]) registerTemp(f);
    writeFile(consoleTmp, '');
    const child = spawnChild(binary, [...args(consoleTmp), '-qmp', `unix:${sock},server=on,wait=off`], {
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
      await qmp.execute('migrate', { uri: `exec:cat > ${shellQuote(tmp)}` });
      for (;;) {
        const m = await qmp.execute<{ status?: string; 'error-desc'?: string }>('query-migrate');
        if (m.status === 'completed') break;
        if (m.status === 'failed' || m.status === 'cancelled')
          throw new HarnessError(`QEMU could not save the boot snapshot: ${m['error-desc'] ?? m.status}`);
        await sleep(10);
      }
      await qmp.execute('quit').catch(() => undefined);
      qmp.close();
      await child;
      const stamps = [...text.slice(0, text.indexOf('@@probelab-ready')).matchAll(/^\[\s*(\d+\.\d{6})\]/gm)];
      const meta: SnapshotMeta = {
        readyAt: stamps.length ? Number(stamps[stamps.length - 1]![1]) : 0,
        bytes: statSync(tmp).size,
        prefixWallSeconds: (Date.now() - t0) / 1000,
      };
      renameSync(tmp, state);
      releaseTemp(tmp);
      writeAtomic(prefixConsole, text.slice(0, text.indexOf('@@probelab-ready')));
      writeAtomic(metaFile, `${JSON.stringify(meta, null, 2)}\n`);
      prune(join(cacheDir(), 'snapshots'), dir);
      return { dir, state, prefixConsole, meta, created: true };
    } finally {
      child.kill('SIGKILL');
      for (const f of [consoleTmp, sock, tmp]) {
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

/** The console input a restored init reads (qemu/guest/init): padding, then the schedule. */
export function scheduleInput(schedule: string, capture: string): string {
  const lines = schedule
    .split('\n')
    .filter(Boolean)
    .map((l) => `S ${l}`);
  return `${'\n'.repeat(64)}@@probelab-schedule-begin\n${lines.join('\n')}${lines.length ? '\n' : ''}C ${capture}\n@@probelab-schedule-end\n`;
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
  const started = process.hrtime.bigint();
  const child = spawnChild(
    binary,
    [...args(pipe), '-qmp', `unix:${sock},server=on,wait=off`, '-incoming', `exec:cat ${shellQuote(snap.state)}`],
    { reject: false, stdin: 'ignore', all: true, forceKillAfterDelay: 2000 },
  );
  const timer = setTimeout(() => child.kill('SIGKILL'), wallLimitSeconds * 1000);
  let exited = false;
  void (child as unknown as Promise<unknown>).then(
    () => (exited = true),
    () => (exited = true),
  );
  try {
    const qmp = await qmpConnect(sock, 10_000, () => exited);
    for (;;) {
      const st = await qmp.execute<{ status: string }>('query-status');
      if (st.status !== 'inmigrate') break;
      await sleep(5);
    }
    await qmp.execute('cont');
    const r = await child;
    qmp.close();
    const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (r.isTerminated && r.signal === 'SIGKILL' && wallSeconds >= wallLimitSeconds - 0.5)
      throw new HarnessError(
        `QEMU did not power off within ${wallLimitSeconds} s of wall time: killed; console log kept in ${consoleLog}`,
        consoleLog,
      );
    if (r.exitCode !== 0 && !r.isTerminated)
      throw new HarnessError(
        `QEMU (restoring a boot snapshot) exited with status ${r.exitCode}: ${(typeof r.all === 'string' ? r.all.trim() : '').split('\n').slice(-3).join(' | ')}; console log kept in ${consoleLog}`,
        consoleLog,
      );
    const text = readFileSync(snap.prefixConsole, 'utf8') + readFileSync(`${pipe}.out`, 'utf8');
    writeFile(consoleLog, text);
    return { console: text, wallSeconds };
  } finally {
    clearTimeout(timer);
    child.kill('SIGKILL');
    rmSync(sock, { force: true });
    releaseTemp(sock);
    rmSync(inputFile, { force: true });
    rmSync(`${pipe}.out`, { force: true });
  }
}
