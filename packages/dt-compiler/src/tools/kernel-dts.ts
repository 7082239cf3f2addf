/**
 * The kernel's .dts files and the dtc flags its build gives each (scripts/Makefile.dtbs):
 * DTC_FLAGS_<stem> from the directory's Makefile, and `-@` for a base DTB that an overlay is
 * applied onto (a first `.dtb` in a `<name>-dtbs :=` composition).
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export interface KernelDts {
  file: string;
  stem: string;
  flags: string[];
}

export function listKernelDts(tree: string, arch = 'arm64'): KernelDts[] {
  const root = join(tree, 'arch', arch, 'boot', 'dts');
  const out: KernelDts[] = [];
  const walk = (dir: string): void => {
    const entries = readdirSync(dir).sort();
    const flags = makefileFlags(join(dir, 'Makefile'));
    for (const e of entries) {
      const p = join(dir, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (e.endsWith('.dts')) {
        const stem = basename(e, '.dts');
        out.push({
          file: p,
          stem,
          flags: [...(flags.perStem.get(stem) ?? []), ...(flags.bases.has(stem) ? ['-@'] : [])],
        });
      }
    }
  };
  walk(root);
  return out;
}

/** The dtc flags the kernel's build gives one .dts (from its directory's Makefile). */
export function kernelFlagsFor(file: string): string[] {
  const stem = basename(file, '.dts');
  const f = makefileFlags(join(dirname(file), 'Makefile'));
  return [...(f.perStem.get(stem) ?? []), ...(f.bases.has(stem) ? ['-@'] : [])];
}

function makefileFlags(makefile: string): { perStem: Map<string, string[]>; bases: Set<string> } {
  const perStem = new Map<string, string[]>();
  const bases = new Set<string>();
  if (!existsSync(makefile)) return { perStem, bases };
  const text = readFileSync(makefile, 'utf8').replace(/\\\n/g, ' ');
  for (const line of text.split('\n')) {
    let m = /^DTC_FLAGS_([\w.,+-]+)\s*(:=|\+=|=)\s*(.*)$/.exec(line.trim());
    if (m) {
      const prev = m[2] === '+=' ? (perStem.get(m[1]!) ?? []) : [];
      perStem.set(m[1]!, [...prev, ...m[3]!.trim().split(/\s+/).filter(Boolean)]);
      continue;
    }
    m = /^[\w.,+-]+-dtbs\s*(:=|\+=|=)\s*(.*)$/.exec(line.trim());
    if (m) {
      const first = m[2]!
        .trim()
        .split(/\s+/)
        .find((w) => w.endsWith('.dtb'));
      if (first) bases.add(basename(first, '.dtb'));
    }
  }
  return { perStem, bases };
}
