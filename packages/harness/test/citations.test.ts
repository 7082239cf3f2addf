// Every kernel function probelab's source cites as `file.c:function` (or `.h`) resolves in the
// 6.12 or the 6.1 tree Debian ships: a file whose path ends with the cited path defines it (a
// function, a macro, a table, a SYSCALL_DEFINE). Citations of the lab's own drivers and the guest
// init resolve in this repository; the few that name what neither tree has are listed below with
// why, and must still be cited where they are used.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pristineTree, repoRoot } from '@probelab/harness';

const root = repoRoot();
/** Citations of what neither shipped tree has, and why they stay. */
const elsewhere: Record<string, string> = {
  'drivers/base/core.c:fw_devlink_relax_cycle':
    'trees before 6.1.y backported __fw_devlink_relax_cycles; kernels.ts:sourceFacts detects which one a tree has',
  'core.c:fw_devlink_relax_cycle': 'the same, in the supplier-cycle comments',
  'drivers/iommu/iommu.c:bus_set_iommu':
    "seed 002's kernels (removed in 6.2's per-device ops): the ipmmu-claims-bus-ops board replays it",
  'hw/arm/virt.c:create_fdt': "QEMU's source, not the kernel's",
};

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(p));
    else if (e.name.endsWith('.ts')) out.push(p);
  }
  return out;
}

describe('kernel citations in packages/*/src', () => {
  it('every file.c:function resolves in linux-source-6.12 or -6.1 (or in this repository)', async () => {
    const trees = [(await pristineTree('6.12')).tree, (await pristineTree('6.1')).tree];
    const cites = new Set<string>();
    for (const pkg of readdirSync(join(root, 'packages'))) {
      const src = join(root, 'packages', pkg, 'src');
      if (!existsSync(src)) continue;
      for (const f of sources(src))
        for (const m of readFileSync(f, 'utf8').matchAll(
          /((?:[A-Za-z0-9_.-]+\/)*[a-z0-9_-]+\.[ch]):([a-z_][a-z0-9_]*)/g,
        ))
          cites.add(`${m[1]}:${m[2]}`);
    }
    expect(cites.size).toBeGreaterThan(100);
    // Every .c/.h of both trees by base name (find is far faster than a walk in JS).
    const byName = new Map<string, string[]>();
    for (const t of trees) {
      for (const p of execFileSync('find', [t, '-name', '*.[ch]', '-type', 'f'], { maxBuffer: 1 << 28 })
        .toString()
        .split('\n')) {
        if (p) byName.set(basename(p), [...(byName.get(basename(p)) ?? []), p]);
      }
    }
    const repoFiles = execFileSync('git', ['-C', root, 'ls-files', '*.c', '*.h', 'qemu/guest/*'], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean);
    const text = new Map<string, string>();
    const read = (p: string): string => text.get(p) ?? (text.set(p, readFileSync(p, 'latin1')), text.get(p)!);
    const defines = (body: string, fn: string): boolean =>
      new RegExp(`^(?!\\s)[^;\\n]*\\b${fn}\\s*\\(`, 'm').test(body) || // a definition or prototype at column 0
      new RegExp(`^#define\\s+${fn}\\b`, 'm').test(body) ||
      new RegExp(`^\\S[^\\n]*\\b${fn}\\s*(\\[[^\\]]*\\])*\\s*=`, 'm').test(body) || // a table
      new RegExp(`SYSCALL_DEFINE\\d\\(${fn}\\b`).test(body);
    const unresolved: string[] = [];
    for (const c of [...cites].sort()) {
      if (elsewhere[c]) continue;
      const [path, fn] = [c.slice(0, c.lastIndexOf(':')), c.slice(c.lastIndexOf(':') + 1)];
      const mine = repoFiles.filter((f) => f === path || f.endsWith(`/${path}`) || basename(f) === path);
      if (mine.some((f) => new RegExp(`\\b${fn}\\b`).test(read(join(root, f))))) continue;
      const cands = (byName.get(basename(path)) ?? []).filter((p) => p.endsWith(`/${path}`));
      if (!cands.some((p) => defines(read(p), fn))) unresolved.push(c);
    }
    expect(unresolved).toEqual([]);
  }, 600_000);
});
