/** Where probelab keeps things: the repository's data, and a cache for downloads and builds. */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (holds qemu/, boards/), found from this file. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, 'qemu', 'machines', 'virt.json'))) return dir;
    dir = dirname(dir);
  }
  throw new Error('cannot find the probelab repository root (qemu/machines/virt.json)');
}

export function cacheDir(): string {
  return resolve(process.env.PROBELAB_CACHE ?? join(homedir(), '.cache', 'probelab'));
}

/** Where boot results and console logs go unless told otherwise. */
export function outDir(): string {
  return resolve(process.env.PROBELAB_OUT ?? join(process.cwd(), 'out'));
}
