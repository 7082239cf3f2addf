/**
 * The kernel trees probelab builds and reads: Debian's linux-source-6.12 / -6.1 tarball unpacked
 * once into the cache (or a tree of the user's, named by its git commit and diff), and patches
 * applied in order with `patch -p1` (scripts/patch-kernel style), the hunk that fails named.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { runChild } from './lifetime.js';
import { HarnessError } from './errors.js';
import { cacheDir } from './paths.js';

const sha = (s: string | Buffer): string => createHash('sha256').update(s).digest('hex');

/** Debian's source package unpacked once into the cache. */
export async function pristineTree(source: string): Promise<{ tree: string; id: string }> {
  if (source !== '6.12' && source !== '6.1') {
    const tree = resolve(source);
    if (!existsSync(join(tree, 'Makefile')) || !existsSync(join(tree, 'drivers', 'base', 'dd.c')))
      throw new HarnessError(`${source}: not a kernel tree (no Makefile or drivers/base/dd.c)`);
    const git = await runChild('git', ['-C', tree, 'rev-parse', 'HEAD'], { reject: false });
    const dirty =
      git.exitCode === 0 ? (await runChild('git', ['-C', tree, 'diff', 'HEAD'], { reject: false })).stdout : '';
    return {
      tree,
      id: `${tree}@${git.exitCode === 0 ? git.stdout.trim() : statSync(join(tree, 'Makefile')).mtimeMs}:${sha(dirty)}`,
    };
  }
  const tarball = `/usr/src/linux-source-${source}.tar.xz`;
  if (!existsSync(tarball)) throw new HarnessError(`${tarball} not found: apt-get install linux-source-${source}`);
  const id = `linux-source-${source}@${statSync(tarball).size}-${statSync(tarball).mtimeMs}`;
  const root = join(cacheDir(), 'src');
  const tree = join(root, `linux-source-${source}`);
  const stamp = join(root, `linux-source-${source}.unpacked`);
  if (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== id) {
    // Unpacked into a private directory, then moved into place: tests and matrix workers that
    // ask for the same tree at once must not unpack over each other.
    mkdirSync(root, { recursive: true });
    const work = join(root, `.unpack-${source}-${process.pid}-${Date.now()}`);
    mkdirSync(work, { recursive: true });
    const r = await runChild('tar', ['xJf', tarball, '-C', work], { reject: false });
    if (r.exitCode !== 0) {
      rmSync(work, { recursive: true, force: true });
      throw new HarnessError(`cannot unpack ${tarball}: ${r.stderr.trim()}`);
    }
    if (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== id) {
      const old = `${tree}.old-${process.pid}`;
      if (existsSync(tree)) renameSync(tree, old);
      renameSync(join(work, `linux-source-${source}`), tree);
      writeFileSync(stamp, id);
      rmSync(old, { recursive: true, force: true });
    }
    rmSync(work, { recursive: true, force: true });
  }
  return { tree, id };
}

/** Apply patches in order; on failure name the patch and the hunk that did not apply. */
export async function applyPatches(tree: string, patches: string[]): Promise<void> {
  for (const p of patches) {
    const dry = await runChild('patch', ['-p1', '--dry-run', '--forward', '-d', tree, '-i', resolve(p)], {
      reject: false,
    });
    if (dry.exitCode !== 0) {
      const hunk = dry.stdout
        .split('\n')
        .filter((l) => /FAILED|can't find file|Reversed|malformed/.test(l))
        .slice(0, 3)
        .join('; ');
      throw new HarnessError(
        `patch ${p} does not apply to ${basename(tree)}: ${hunk || dry.stdout.trim().split('\n').pop()}`,
      );
    }
    await runChild('patch', ['-p1', '--forward', '-s', '-d', tree, '-i', resolve(p)]);
  }
}
