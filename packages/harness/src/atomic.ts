/**
 * Writing probelab's files: result files whole or not at all (a temporary file, then rename; the
 * temporary file is removed on any failure and on any way out of the process), and every
 * file-system failure as one line that names the path, what went wrong and what to do.
 */
import {
  accessSync,
  appendFileSync,
  constants,
  existsSync,
  mkdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, resolve, sep } from 'node:path';
import { HarnessError } from './errors.js';
import { registerTemp, releaseTemp } from './lifetime.js';
import { cacheDir, outDir } from './paths.js';

const reasons: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'a part of the path is not a directory',
  EISDIR: 'it is a directory',
  EEXIST: 'a file of that name is in the way',
  ENAMETOOLONG: 'the name is too long',
  EMFILE: 'too many open files',
  ENOENT: 'no such file or directory',
};

function nearestExisting(path: string): string {
  let p = resolve(path);
  while (!existsSync(p) && dirname(p) !== p) p = dirname(p);
  return p;
}

/** What to do about a failure at `path`: the environment variable that moves it. */
function advice(path: string, code: string): string {
  const p = resolve(path);
  const under = (d: string): boolean => p === d || p.startsWith(d + sep);
  const where = under(outDir())
    ? 'set PROBELAB_OUT to a writable directory'
    : under(cacheDir())
      ? 'set PROBELAB_CACHE to a writable directory'
      : 'choose another path';
  return code === 'ENOSPC' || code === 'EDQUOT' ? `free some space or ${where}` : where;
}

/**
 * One line for a file-system error at `path`. Recursive mkdir on a read-only or unwritable tree
 * reports ENOENT; the nearest existing ancestor says what is really wrong.
 */
export function fsError(e: unknown, path: string, action: string): HarnessError {
  let code = (e as NodeJS.ErrnoException)?.code ?? 'EIO';
  let at = path;
  if (code === 'ENOENT' && action === 'create directory') {
    const anc = nearestExisting(path);
    try {
      accessSync(anc, constants.W_OK);
    } catch (a) {
      code = (a as NodeJS.ErrnoException).code ?? code;
      at = anc;
    }
  }
  const why = reasons[code] ?? `${code}`;
  return new HarnessError(
    `cannot ${action} ${at}${at !== path ? ` (for ${path})` : ''}: ${why}; ${advice(path, code)}`,
  );
}

export function ensureDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw fsError(e, dir, 'create directory');
  }
}

/** Write a file (not atomically: logs and inputs QEMU reads), errors as one line. */
export function writeFile(path: string, data: string | Uint8Array): void {
  ensureDir(dirname(path));
  try {
    writeFileSync(path, data);
  } catch (e) {
    rmSync(path, { force: true });
    throw fsError(e, path, 'write');
  }
}

export function appendLine(path: string, line: string): void {
  try {
    appendFileSync(path, line);
  } catch (e) {
    throw fsError(e, path, 'append to');
  }
}

export function writeAtomic(path: string, data: string | Uint8Array): void {
  ensureDir(dirname(path));
  const tmp = `${path}.tmp-${process.pid}`;
  registerTemp(tmp);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw fsError(e, path, 'write');
  } finally {
    releaseTemp(tmp);
  }
}
