/**
 * The guest's own programs, each qemu/guest/<name>.c built for arm64 with Debian's cross compiler
 * (gcc-aarch64-linux-gnu, the one kernel builds use; freestanding, so no arm64 libc is needed),
 * cached under the cache directory by the hash of the source, qemu/guest/freestanding.h (which
 * both include), the flags and the compiler's version: probelab-state (the capture) and
 * probelab-wait (the schedule's clock). The initramfs (initramfs.ts) carries them in /bin.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDir, writeAtomic } from './atomic.js';
import { HarnessError } from './errors.js';
import { registerTemp, releaseTemp, runChild } from './lifetime.js';
import { cacheDir, repoRoot } from './paths.js';

const compiler = 'aarch64-linux-gnu-gcc';
const flags = [
  '-Os',
  '-Wall',
  '-Wextra',
  '-Werror',
  '-static',
  '-nostdlib',
  '-ffreestanding',
  '-fno-builtin',
  '-fno-stack-protector',
  '-fno-asynchronous-unwind-tables',
  '-no-pie',
  '-Wl,-z,max-page-size=4096',
  '-s',
];

export type GuestProgram = 'probelab-state' | 'probelab-wait';

const built = new Map<GuestProgram, Promise<Buffer>>();

/** A guest program's bytes, built once per source and compiler. */
export function guestProgram(name: GuestProgram): Promise<Buffer> {
  let p = built.get(name);
  if (!p) {
    p = build(name).catch((e: unknown) => {
      built.delete(name);
      throw e;
    });
    built.set(name, p);
  }
  return p;
}

async function build(name: GuestProgram): Promise<Buffer> {
  const source = join(repoRoot(), 'qemu', 'guest', `${name}.c`);
  const version = await runChild(compiler, ['--version'], { reject: false, stdin: 'ignore' }).catch(() => null);
  if (!version || version.exitCode !== 0)
    throw new HarnessError(
      `the guest's ${name} (qemu/guest/${name}.c) is built with ${compiler}, which is not installed (apt install gcc-aarch64-linux-gnu)`,
    );
  const key = createHash('sha256')
    .update(readFileSync(source))
    .update(readFileSync(join(repoRoot(), 'qemu', 'guest', 'freestanding.h')))
    .update(JSON.stringify(flags))
    .update(String(version.stdout))
    .digest('hex')
    .slice(0, 16);
  const file = join(cacheDir(), 'guest', `${name}-${key}`);
  if (existsSync(file)) return readFileSync(file);
  ensureDir(join(cacheDir(), 'guest'));
  const tmp = `${file}.build-${process.pid}`;
  registerTemp(tmp);
  try {
    const r = await runChild(compiler, [...flags, '-o', tmp, source], { reject: false, stdin: 'ignore', all: true });
    if (r.exitCode !== 0)
      throw new HarnessError(
        `${compiler} could not build qemu/guest/${name}.c: ${String(r.all ?? '')
          .trim()
          .split('\n')
          .slice(0, 3)
          .join(' | ')}`,
      );
    const bytes = readFileSync(tmp);
    writeAtomic(file, bytes);
    return bytes;
  } finally {
    rmSync(tmp, { force: true });
    releaseTemp(tmp);
  }
}
