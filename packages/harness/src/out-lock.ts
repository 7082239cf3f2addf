/**
 * One run per output directory: `.probelab.lock` holds the pid of the run that owns the directory;
 * a second run is refused with the owner's pid, a lock whose process is gone is taken over, and
 * the lock goes with the process (lifetime.ts removes it on every way out). Re-entrant within one
 * process (check locks the directory, then boots into it).
 */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDir, fsError } from './atomic.js';
import { HarnessError } from './errors.js';
import { registerTemp, releaseTemp } from './lifetime.js';

const held = new Map<string, number>();

/** The directory is held by another live run (callers that would rather wait catch this). */
export class LockBusy extends HarnessError {}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Take `dir` for this run; returns the release function. */
export function lockOutputDir(
  dir: string,
  hint = 'wait for it, or set PROBELAB_OUT (or --out) to another directory',
): () => void {
  ensureDir(dir);
  const file = join(dir, '.probelab.lock');
  const release = (): void => {
    const n = (held.get(file) ?? 1) - 1;
    if (n > 0) return void held.set(file, n);
    held.delete(file);
    rmSync(file, { force: true });
    releaseTemp(file);
  };
  if (held.has(file)) {
    held.set(file, held.get(file)! + 1);
    return release;
  }
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = openSync(file, 'wx');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw fsError(e, file, 'create');
      let owner = NaN;
      try {
        owner = Number(readFileSync(file, 'utf8').split('\n')[0]);
      } catch {
        continue; // removed meanwhile
      }
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && alive(owner)) {
        throw new LockBusy(`${dir} is in use by another probelab run (pid ${owner}): ${hint}`);
      }
      rmSync(file, { force: true }); // its process is gone
      continue;
    }
    registerTemp(file);
    try {
      writeSync(fd, `${process.pid}\n${process.argv.slice(1).join(' ')}\n`);
    } finally {
      closeSync(fd);
    }
    held.set(file, 1);
    return release;
  }
  throw new HarnessError(`${dir}: cannot take the lock ${file} (another run keeps taking it)`);
}

/**
 * Take `dir`, waiting while another live run holds it (a kernel build or a discovery that
 * several processes ask for at once: one makes it, the others wait, then find it made).
 */
export async function waitForLock(dir: string, onWait?: (message: string) => void): Promise<() => void> {
  for (let told = false; ;) {
    try {
      return lockOutputDir(dir);
    } catch (e) {
      if (!(e instanceof LockBusy)) throw e;
      if (!told && onWait) onWait(e.message.replace(/: wait for it.*$/, ': waiting for it'));
      told = true;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/** Lock `dir` and remove the results of a previous run, so no stale result stands beside new logs. */
export function startRun(dir: string, results: string[] = ['real.json', 'check.json']): () => void {
  const release = lockOutputDir(dir);
  for (const f of results) rmSync(join(dir, f), { force: true });
  return release;
}
