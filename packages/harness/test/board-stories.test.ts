// Every seed story of boards/ predicted from the kernel's own source and .config, with the
// outcome its README states. Profiles are read once per (tree, fragment, patches) and cached.
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadBoardScenario, type Prediction } from '@probelab/sim-core';
import { predictBoard, repoRoot } from '@probelab/harness';

const boards = join(repoRoot(), 'boards');
const results = new Map<string, Prediction>();
const run = (rel: string): Prediction => results.get(rel)!;
const stories = [
  'exynos5433-tm2e/sysmmu-module-10s-iommus-optional.yaml',
  'exynos5433-tm2e/sysmmu-module-10s-iommus-mandatory.yaml',
  'exynos5433-tm2e/sysmmu-module-30s-iommus-optional.yaml',
  'exynos5433-tm2e/sysmmu-module-30s-iommus-mandatory.yaml',
  'exynos5433-tm2e/sysmmu-module-30s-iommus-optional-6.12.yaml',
  'juno/ipmmu-claims-bus-ops.yaml',
  'juno/ipmmu-probe-time-ops.yaml',
  'juno/arm-smmu-module-master-retry.yaml',
  'juno/arm-smmu-module-master-fails.yaml',
  'juno/arm-smmu-module-late-unload.yaml',
  'rcar-salvator-xs/ipmmu-builtin.yaml',
  'rcar-salvator-xs/ipmmu-claims-bus-ops.yaml',
];

beforeAll(async () => {
  // Sequential: the first call per source tree unpacks it, later ones reuse it.
  for (const s of stories) results.set(s, await predictBoard(loadBoardScenario(join(boards, s))));
}, 900_000);

const dev = (p: Prediction, id: string) => p.outcome.devices.find((d) => d.id === id);
const hazards = (p: Prediction, kind: string) =>
  p.hazards
    .filter((h) => h.kind === kind)
    .map((h) => h.device)
    .sort();
const decons = ['13800000.decon', '13880000.decon'];

describe('seed 000: Exynos5433 TM2e, SYSMMU driver as a module', () => {
  it('10 s timeout: both DECONs bind untranslated before the module arrives, optional or mandatory', () => {
    for (const s of [
      'exynos5433-tm2e/sysmmu-module-10s-iommus-optional.yaml',
      'exynos5433-tm2e/sysmmu-module-10s-iommus-mandatory.yaml',
    ]) {
      for (const d of decons)
        expect(dev(run(s), d)).toMatchObject({ driver: 'exynos5433-decon', iommuGroup: null, ignoredDependency: true });
      expect(hazards(run(s), 'bound-before-iommu')).toEqual(decons);
      const fired = run(s).outcome.events.find((e) => e.kind === 'timeout-fired')!.t;
      expect(fired).toBeLessThan(14);
    }
  });
  it("30 s, iommus optional (6.1): translated, but configured in the SYSMMUs' probe window", () => {
    const p = run('exynos5433-tm2e/sysmmu-module-30s-iommus-optional.yaml');
    expect(decons.map((d) => dev(p, d)?.iommuGroup)).toEqual([0, 1]);
    expect([...new Set(hazards(p, 'iommu-race-window'))]).toEqual(decons);
  });
  it('30 s, iommus mandatory (6.1): translated, no hazard — both changes of the mail', () => {
    const p = run('exynos5433-tm2e/sysmmu-module-30s-iommus-mandatory.yaml');
    expect(decons.map((d) => dev(p, d)?.iommuGroup)).toEqual([0, 1]);
    expect(p.hazards).toEqual([]);
    expect(p.outcome.events.find((e) => e.kind === 'probe-deferred' && e.device === '13800000.decon')!.rule).toMatch(
      /device_links_check_suppliers/,
    );
  });
  it('30 s, iommus optional on 6.12: the driver registers last, no race window', () => {
    const p = run('exynos5433-tm2e/sysmmu-module-30s-iommus-optional-6.12.yaml');
    expect(decons.map((d) => dev(p, d)?.iommuGroup)).toEqual([0, 1]);
    expect(p.hazards).toEqual([]);
  });
});

describe('seed 002: ipmmu-vmsa claiming the bus ops at init', () => {
  const usb = ['7ffb0000.usb', '7ffc0000.usb'];
  it('Juno: the USB masters of the ARM SMMU get no group', () => {
    const p = run('juno/ipmmu-claims-bus-ops.yaml');
    for (const u of usb) expect(dev(p, u)).toMatchObject({ iommuGroup: null, ignoredDependency: false });
    expect(hazards(p, 'foreign-bus-ops')).toEqual(usb);
  });
  it('Juno with the fix: translated', () => {
    const p = run('juno/ipmmu-probe-time-ops.yaml');
    for (const u of usb) expect(dev(p, u)?.iommuGroup).not.toBeNull();
    expect(hazards(p, 'foreign-bus-ops')).toEqual([]);
  });
  it('R-Car: harmless on its own hardware; every master with iommus is translated either way', () => {
    const a = run('rcar-salvator-xs/ipmmu-builtin.yaml');
    const b = run('rcar-salvator-xs/ipmmu-claims-bus-ops.yaml');
    const masters = a.core.devices.filter((d) => d.node?.properties.has('iommus') && d.driver).map((d) => d.id);
    expect(masters.length).toBeGreaterThanOrEqual(8);
    for (const m of masters) expect(dev(a, m)?.iommuGroup).not.toBeNull();
    expect(b.outcome.devices).toEqual(a.outcome.devices);
    expect(b.hazards).toEqual([]);
  });
});

describe('seeds 003/004: ARM SMMU as a module', () => {
  it('a master whose probe defers once is retried into the same group', () => {
    const p = run('juno/arm-smmu-module-master-retry.yaml');
    expect(dev(p, '7ffc0000.usb')).toMatchObject({ driver: 'ehci-platform', iommuGroup: 0 });
    expect(p.outcome.events.filter((e) => e.kind === 'iommu-group' && e.device === '7ffc0000.usb')).toHaveLength(1);
  });
  it('a master that fails for good pins arm_smmu: rmmod refused', () => {
    const p = run('juno/arm-smmu-module-master-fails.yaml');
    expect(dev(p, '7ffc0000.usb')).toMatchObject({ driver: null, iommuGroup: 0 });
    expect(hazards(p, 'group-after-failed-probe')).toEqual(['7ffc0000.usb']);
    expect(p.outcome.events.find((e) => e.kind === 'module-unload-refused')?.module).toBe('arm_smmu');
  });
  it('loaded after the timeout: masters untranslated, nothing pins the module, rmmod unbinds the SMMUs', () => {
    const p = run('juno/arm-smmu-module-late-unload.yaml');
    expect(hazards(p, 'bound-before-iommu')).toEqual(['7ffb0000.usb', '7ffc0000.usb']);
    expect(
      p.outcome.events
        .filter((e) => e.kind === 'unbound')
        .map((e) => e.device)
        .sort(),
    ).toEqual(['2b600000.iommu', '7fb00000.iommu', '7fb10000.iommu', '7fb20000.iommu', '7fb30000.iommu']);
    expect(p.outcome.events.at(-1)).toMatchObject({ kind: 'module-unloaded', module: 'arm_smmu' });
  });
});
