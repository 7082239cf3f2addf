/** Where probelab keeps things: the repository's data, and a cache for downloads and builds. */
import { existsSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HarnessError } from './errors.js';

/** The repository root (holds qemu/, boards/), found from this file. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, 'qemu', 'machines', 'virt.json'))) return dir;
    dir = dirname(dir);
  }
  throw new Error('cannot find the probelab repository root (qemu/machines/virt.json)');
}

/**
 * PROBELAB_CACHE, else ~/.cache/probelab. An empty or relative HOME would put the cache in the
 * current directory: then the password database's home is used, and failing that it is an error.
 */
export function cacheDir(): string {
  const set = process.env.PROBELAB_CACHE;
  if (set !== undefined && set !== '') return resolve(set);
  let home = homedir();
  if (!isAbsolute(home)) {
    try {
      home = userInfo().homedir;
    } catch {
      home = '';
    }
  }
  if (!isAbsolute(home))
    throw new HarnessError(
      `HOME is ${JSON.stringify(process.env.HOME ?? '')} and no home directory is known: set PROBELAB_CACHE to a directory for downloads and builds`,
    );
  return join(home, '.cache', 'probelab');
}

/**
 * Boot snapshots (snapshot.ts): PROBELAB_SNAPSHOT_DIR, else <cache>/snapshots. A CI job can keep
 * them on a cache path of its own (they are the one large, machine-specific part of the cache),
 * and a benchmark can start from none.
 */
export function snapshotDir(): string {
  const set = process.env.PROBELAB_SNAPSHOT_DIR;
  return set !== undefined && set !== '' ? resolve(set) : join(cacheDir(), 'snapshots');
}

/** Where boot results and console logs go unless told otherwise. */
export function outDir(): string {
  return resolve(process.env.PROBELAB_OUT ?? join(process.cwd(), 'out'));
}
