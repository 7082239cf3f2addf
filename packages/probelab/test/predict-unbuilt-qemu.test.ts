// Predictions never wait for a kernel build (issue 13): every QEMU scenario under boards/ on a
// kernel built from source, predicted from a cache that has no kernel build (only the unpacked
// Debian source trees, which are not builds), gives byte for byte the prediction made with the
// built kernel's own modules.dep, modules.builtin and modules.alias. And the committed module
// tables are the builds' own. Needs both source kernels built (the comparison reads them), and
// QEMU for the machine's device tree.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  baseCmdline,
  cacheDir,
  discoveredPath,
  loadMachine,
  loadProfile,
  machineTree,
  pciFunctions,
  pristineTree,
  provisionKernel,
  staticProfile,
  type DiscoveredProfile,
} from '@probelab/harness';
import { loadAnyScenario, predict, type KernelId } from '@probelab/sim-core';
import { patchChangesModuleTable } from '../../harness/dist/unbuilt-profile.js';
import { predictQemuScenario } from '../dist/commands.js';
import { root } from './cli.js';

function sourceScenarios(): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.yaml') && /^kernel: source-/m.test(readFileSync(p, 'utf8'))) out.push(p);
    }
  };
  walk(join(root, 'boards'));
  return out.sort();
}

describe('predictions without a kernel build', () => {
  it("the committed module tables are the builds' own (what discovery records)", async () => {
    for (const id of ['source-6.12', 'source-6.1'] as KernelId[]) {
      const k = await provisionKernel(id);
      const st = staticProfile(k);
      const d = JSON.parse(readFileSync(discoveredPath(id), 'utf8')) as DiscoveredProfile;
      expect(d.packageSha256).toBe(k.packageSha256);
      expect(d.modules!.builtin).toEqual([...st.builtinModules].sort());
      expect(new Map(d.modules!.dep)).toEqual(st.moduleDeps);
      expect(d.modules!.alias).toEqual(st.moduleAliases.map((a) => [a.pattern, a.module]));
    }
  }, 3_600_000);

  it('every source-kernel scenario under boards/ predicts the same from a cache with no kernel build', async () => {
    const files = sourceScenarios();
    expect(files.length).toBeGreaterThan(40);
    // The reference: each kernel's profile read from its build (built if need be).
    const built = new Map<string, Awaited<ReturnType<typeof loadProfile>>>();
    const reference = new Map<string, string>();
    for (const f of files) {
      const any = loadAnyScenario(f);
      if (any.kind !== 'qemu') continue;
      const s = any.scenario;
      if (!built.has(s.kernel)) built.set(s.kernel, await loadProfile(s.kernel));
      const p = predict({
        scenario: s,
        profile: built.get(s.kernel)!,
        tree: machineTree(s),
        pciFunctions: pciFunctions(loadMachine(), s),
        baseCmdline,
      });
      reference.set(f, JSON.stringify({ outcome: p.outcome, hazards: p.hazards }));
    }
    expect(reference.size).toBeGreaterThan(40);
    // A fresh cache: the unpacked source trees only (pristineTree's stamp makes them found).
    const real = cacheDir();
    const fresh = mkdtempSync(join(real, '..', 'probelab-fresh-'));
    mkdirSync(join(fresh, 'src'));
    for (const series of ['6.12', '6.1']) {
      const { tree } = await pristineTree(series);
      symlinkSync(tree, join(fresh, 'src', `linux-source-${series}`));
      copyFileSync(
        join(real, 'src', `linux-source-${series}.unpacked`),
        join(fresh, 'src', `linux-source-${series}.unpacked`),
      );
    }
    const saved = process.env.PROBELAB_CACHE;
    process.env.PROBELAB_CACHE = fresh;
    const logs: string[] = [];
    try {
      for (const [f, want] of reference) {
        const any = loadAnyScenario(f);
        if (any.kind !== 'qemu') continue;
        const p = await predictQemuScenario(any.scenario, (l) => logs.push(l));
        expect(JSON.stringify({ outcome: p.outcome, hazards: p.hazards }), f).toBe(want);
      }
    } finally {
      if (saved === undefined) delete process.env.PROBELAB_CACHE;
      else process.env.PROBELAB_CACHE = saved;
    }
    // Nothing was built, and nothing asked for a build.
    expect(existsSync(join(fresh, 'kernels'))).toBe(false);
    // The fresh cache's trees are symlinks to the real ones: the lab drivers and the patches went
    // into copies, never into the pristine trees every build and profile reads.
    for (const series of ['6.12', '6.1']) {
      const { tree } = await pristineTree(series);
      expect(existsSync(join(tree, 'drivers', 'probelab'))).toBe(false);
      expect(readFileSync(join(tree, 'drivers', 'Makefile'), 'utf8')).not.toMatch(/probelab/);
    }
    expect(readFileSync(join((await pristineTree('6.1')).tree, 'drivers/of/property.c'), 'utf8')).toMatch(
      /\{ \.parse_prop = parse_iommus, \.optional = true, \}/,
    );
    expect(logs.filter((l) => /needs the kernel's build|building/.test(l))).toEqual([]);
  }, 3_600_000);

  it('a patch that changes what a module table is made of makes a prediction use the build', () => {
    const patch = (file: string, line: string): string =>
      `--- a/${file}\n+++ b/${file}\n@@ -1,1 +1,2 @@\n context\n${line}\n`;
    expect(
      patchChangesModuleTable(readFileSync(join(root, 'qemu/patches/deferred-probe-timeout-30.patch'), 'utf8')),
    ).toBe(false);
    expect(patchChangesModuleTable(readFileSync(join(root, 'qemu/patches/iommus-mandatory.patch'), 'utf8'))).toBe(
      false,
    );
    expect(patchChangesModuleTable(patch('drivers/iommu/Makefile', '+obj-m += x.o'))).toBe(true);
    expect(patchChangesModuleTable(patch('drivers/iommu/Kconfig', '+\tdefault m'))).toBe(true);
    expect(
      patchChangesModuleTable(patch('drivers/base/dd.c', '+EXPORT_SYMBOL_GPL(driver_deferred_probe_check_state);')),
    ).toBe(true);
    expect(patchChangesModuleTable(patch('drivers/iommu/x.c', '-MODULE_DEVICE_TABLE(of, x_of_match);'))).toBe(true);
    expect(patchChangesModuleTable(patch('drivers/base/dd.c', '+\tint driver_deferred_probe_timeout = 30;'))).toBe(
      false,
    );
  });
});
