/**
 * The driver-core lab's test drivers (qemu/lab/probelab) in a kernel tree: hooked in as
 * drivers/probelab the way an in-tree driver directory is (drivers/Kconfig, drivers/Makefile),
 * and hashed into every build that carries them.
 */
import { createHash } from 'node:crypto';
import { cpSync, existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HarnessError } from './errors.js';
import { repoRoot } from './paths.js';

const sha = (s: string | Buffer): string => createHash('sha256').update(s).digest('hex');

/** The driver-core lab's test drivers (qemu/lab/probelab), part of every build's hash. */
export function labSourceDir(): string {
  return join(repoRoot(), 'qemu', 'lab', 'probelab');
}

export function labSourceHash(): string {
  const dir = labSourceDir();
  return sha(
    readdirSync(dir)
      .sort()
      .map((f) => `${f}\0${sha(readFileSync(join(dir, f)))}`)
      .join('\n'),
  );
}

/**
 * Put the lab drivers into a build's tree as drivers/probelab, hooked into drivers/Kconfig and
 * drivers/Makefile the way an in-tree driver directory is. The tree is hard links to the pristine
 * one: the two files are replaced by new files, never written through the link.
 */
export function addLabDrivers(tree: string): void {
  // Not a kernel tree's drivers/ (a stand-in tree of a test): nothing to hook into.
  if (!existsSync(join(tree, 'drivers', 'Kconfig')) || !existsSync(join(tree, 'drivers', 'Makefile'))) return;
  const dest = join(tree, 'drivers', 'probelab');
  rmSync(dest, { recursive: true, force: true });
  cpSync(labSourceDir(), dest, { recursive: true });
  const replace = (file: string, edit: (text: string) => string): void => {
    const path = join(tree, file);
    const text = edit(readFileSync(path, 'utf8'));
    rmSync(path);
    writeFileSync(path, text);
  };
  replace('drivers/Kconfig', (t) => {
    const end = t.lastIndexOf('endmenu');
    if (end < 0) throw new HarnessError(`${tree}/drivers/Kconfig: no endmenu to put the lab drivers before`);
    return `${t.slice(0, end)}source "drivers/probelab/Kconfig"\n\n${t.slice(end)}`;
  });
  replace('drivers/Makefile', (t) => `${t}${t.endsWith('\n') ? '' : '\n'}obj-$(CONFIG_PROBELAB_LAB)\t\t+= probelab/\n`);
}
