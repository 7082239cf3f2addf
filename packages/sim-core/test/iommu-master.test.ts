// One platform bus master behind one IOMMU: each case of of_iommu.c:of_iommu_configure and
// dd.c:driver_deferred_probe_check_state, on a tree of its own.
import { describe, expect, it } from 'vitest';
import { predict, collapseKinds, explainDevice } from '@probelab/sim-core';
import { dts, profile, scenario } from './helpers.js';

const tree = (iommuStatus = 'okay', withIommus = true) =>
  dts(`/ {
  #address-cells = <1>; #size-cells = <1>;
  smmu: iommu@1000 { compatible = "test,iommu"; reg = <0x1000 0x100>; #iommu-cells = <1>; status = "${iommuStatus}"; };
  gpu@2000 { compatible = "test,master"; reg = <0x2000 0x100>; ${withIommus ? 'iommus = <&smmu 7>;' : ''} };
};`);

const iommuModule = profile({
  builtin: [{ name: 'master-drv', compat: 'test,master', t: 0.3 }],
  modules: [{ name: 'test-iommu', module: 'test_iommu', compat: 'test,iommu' }],
});
const run = (cmdline: string, loads: Array<{ name: string; at: number }> = [], t = tree(), p = iommuModule) =>
  predict({
    scenario: scenario(cmdline, loads),
    profile: p,
    tree: t,
    pciFunctions: [],
    behaviours: { 'test-iommu': { kind: 'iommu', fwnode: 'self' } },
  });
const gpu = (o: ReturnType<typeof run>) => o.outcome.devices.find((d) => d.id === '2000.gpu')!;

describe('IOMMU master, IOMMU driver a module', () => {
  it('no iommus: binds at registration, untranslated, nothing deferred', () => {
    const r = run('deferred_probe_timeout=10', [], tree('okay', false));
    expect(gpu(r)).toMatchObject({ driver: 'master-drv', iommuGroup: null, deferred: false, ignoredDependency: false });
    expect(collapseKinds(r.outcome.events, '2000.gpu')).toEqual(['bound:master-drv']);
  });

  it('IOMMU node disabled: binds without it (NO_IOMMU / -ENODEV)', () => {
    expect(gpu(run('deferred_probe_timeout=10', [], tree('disabled')))).toMatchObject({
      driver: 'master-drv',
      iommuGroup: null,
      deferred: false,
    });
  });

  it('module loaded before the timeout: deferred, then translated when the IOMMU binds', () => {
    const r = run('deferred_probe_timeout=10', [{ name: 'test_iommu', at: 3 }]);
    expect(gpu(r)).toMatchObject({ driver: 'master-drv', iommuGroup: 0, ignoredDependency: false, deferred: false });
    expect(collapseKinds(r.outcome.events, '2000.gpu')).toEqual([
      'probe-deferred',
      'iommu-group:0',
      'bound:master-drv',
    ]);
  });

  it('module never loaded, timeout 10: gives up when the timer fires, ~10 s after the late initcall', () => {
    const r = run('deferred_probe_timeout=10');
    expect(gpu(r)).toMatchObject({ driver: 'master-drv', iommuGroup: null, ignoredDependency: true });
    const fired = r.outcome.events.find((e) => e.kind === 'timeout-fired')!;
    expect(fired.t).toBeGreaterThan(10.61);
    expect(fired.t).toBeLessThan(10.61 + 0.26); // timer wheel level-2 granularity at HZ=250
    expect(collapseKinds(r.outcome.events, '2000.gpu')).toEqual([
      'probe-deferred',
      'ignored-dependency',
      'bound:master-drv',
    ]);
  });

  it('module loaded after the timeout: too late, the master stays untranslated', () => {
    const r = run('deferred_probe_timeout=2', [{ name: 'test_iommu', at: 8 }]);
    expect(gpu(r)).toMatchObject({ driver: 'master-drv', iommuGroup: null, ignoredDependency: true });
    expect(r.outcome.devices.find((d) => d.id === '1000.iommu')).toMatchObject({ driver: 'test-iommu' });
  });

  it('a module load extends a pending timeout (deferred_probe_extend_timeout)', () => {
    const r = run(
      'deferred_probe_timeout=5',
      [{ name: 'test_iommu', at: 4.5 }],
      tree(),
      profile({
        builtin: [{ name: 'master-drv', compat: 'test,master', t: 0.3 }],
        modules: [
          { name: 'other', module: 'other', compat: 'test,none' },
          { name: 'test-iommu', module: 'test_iommu', compat: 'test,iommu' },
        ],
      }),
    );
    expect(gpu(r).iommuGroup).toBe(0);
    const r2 = run(
      'deferred_probe_timeout=5',
      [{ name: 'other', at: 4 }],
      tree(),
      profile({
        builtin: [{ name: 'master-drv', compat: 'test,master', t: 0.3 }],
        modules: [{ name: 'other', module: 'other', compat: 'test,none' }],
      }),
    );
    const fired = r2.outcome.events.find((e) => e.kind === 'timeout-fired')!;
    expect(fired.t).toBeGreaterThan(9); // pushed from ~5.6 to ~9 by the load at 4 s
  });

  it('timeout -1: never armed, deferred for good', () => {
    const r = run('deferred_probe_timeout=-1');
    expect(gpu(r)).toMatchObject({ driver: null, deferred: true, ignoredDependency: false });
    expect(r.outcome.events.some((e) => e.kind === 'timeout-fired')).toBe(false);
  });

  it('timeout 0: -ETIMEDOUT from the second pass of the late initcall', () => {
    const r = run('deferred_probe_timeout=0', [{ name: 'test_iommu', at: 1 }]);
    expect(gpu(r)).toMatchObject({ driver: 'master-drv', iommuGroup: null, ignoredDependency: true });
    expect(r.outcome.events.find((e) => e.kind === 'ignored-dependency')!.t).toBeCloseTo(0.6, 2);
  });

  it('a malformed timeout is ignored and the default (10) stays', () => {
    const r = run('deferred_probe_timeout=10s');
    expect(r.outcome.events.find((e) => e.kind === 'timeout-fired')!.t).toBeGreaterThan(10.6);
  });

  it('!CONFIG_MODULES: -ENODEV as soon as initcalls are done', () => {
    const p = { ...iommuModule, modules: false };
    const r = run('', [], tree(), p);
    expect(gpu(r)).toMatchObject({ driver: 'master-drv', ignoredDependency: true });
    expect(r.outcome.events.some((e) => e.kind === 'timeout-fired')).toBe(false);
  });

  it('IOMMU built in and registered first: translated at first probe', () => {
    const p = profile({
      builtin: [
        { name: 'test-iommu', compat: 'test,iommu', t: 0.2 },
        { name: 'master-drv', compat: 'test,master', t: 0.3 },
      ],
    });
    const r = run('', [], tree(), p);
    expect(gpu(r)).toMatchObject({ driver: 'master-drv', iommuGroup: 0 });
    expect(collapseKinds(r.outcome.events, '2000.gpu')).toEqual(['iommu-group:0', 'bound:master-drv']);
  });

  it('IOMMU built in but registered after the master: deferral waits for the late initcall', () => {
    const p = profile({
      builtin: [
        { name: 'master-drv', compat: 'test,master', t: 0.2 },
        { name: 'test-iommu', compat: 'test,iommu', t: 0.3 },
      ],
    });
    const r = run('', [], tree(), p);
    const bound = r.outcome.events.find((e) => e.kind === 'bound' && e.device === '2000.gpu')!;
    expect(bound.t).toBeGreaterThanOrEqual(0.6); // triggers are no-ops before deferred_probe_initcall
    expect(gpu(r).iommuGroup).toBe(0);
  });
});

describe('fw_devlink and the optional iommus binding', () => {
  const masterFirst = profile({
    builtin: [{ name: 'master-drv', compat: 'test,master', t: 0.2 }],
    modules: [{ name: 'test-iommu', module: 'test_iommu', compat: 'test,iommu' }],
  });
  it('default (strict=0): no link, so the deferral comes from of_iommu, with no reason', () => {
    const r = run('deferred_probe_timeout=-1', [], tree(), masterFirst);
    expect(gpu(r).deferred).toBe(true);
    expect(r.core.links).toHaveLength(0);
  });
  it('fw_devlink.strict=1: iommus becomes a blocking supplier link', () => {
    const r = run(
      'fw_devlink.strict=1 deferred_probe_timeout=-1',
      [{ name: 'test_iommu', at: 2 }],
      tree(),
      masterFirst,
    );
    expect(r.core.links.map((l) => l.binding)).toEqual(['iommus']);
    expect(gpu(r)).toMatchObject({ driver: 'master-drv', iommuGroup: 0 });
  });
  it('fw_devlink.strict=1 with permissive: links never block', () => {
    const r = run('fw_devlink=permissive fw_devlink.strict=1 deferred_probe_timeout=-1', [], tree(), masterFirst);
    expect(r.core.links).toHaveLength(0);
  });
  it('strict link to an IOMMU that never matched a driver is relaxed at the timeout', () => {
    const r = run('fw_devlink.strict=1 deferred_probe_timeout=3', [], tree(), masterFirst);
    expect(r.core.links[0]!.relaxed).toBe(true);
    expect(gpu(r)).toMatchObject({ driver: 'master-drv', ignoredDependency: true });
  });
});

describe('hazards, each with the rule that produced it', () => {
  it('a master bound without translation whose IOMMU registers later', () => {
    const r = run('deferred_probe_timeout=2', [{ name: 'test_iommu', at: 8 }]);
    expect(r.hazards).toEqual([
      expect.objectContaining({
        kind: 'bound-before-iommu',
        device: '2000.gpu',
        rule: expect.stringMatching(/^drivers\/iommu\/iommu\.c:iommu_device_register/),
      }),
    ]);
    expect(r.hazards[0]!.t).toBeGreaterThanOrEqual(8);
  });
  it('no hazard when the IOMMU comes in time', () => {
    expect(run('deferred_probe_timeout=10', [{ name: 'test_iommu', at: 3 }]).hazards).toEqual([]);
  });
  it('deferred forever with the timeout off', () => {
    const r = run('deferred_probe_timeout=-1');
    expect(r.hazards).toEqual([
      expect.objectContaining({
        kind: 'deferred-forever',
        device: '2000.gpu',
        rule: expect.stringMatching(/timer is never armed/),
      }),
    ]);
  });
  it('a mandatory supplier that never appears (strict link to a node that is no device)', () => {
    const t = dts(`/ {
      #address-cells = <1>; #size-cells = <1>;
      smmu: iommu@1000 { reg = <0x1000 0x100>; #iommu-cells = <1>; };
      gpu@2000 { compatible = "test,master"; reg = <0x2000 0x100>; iommus = <&smmu 7>; };
    };`);
    const r = run('fw_devlink.strict=1 deferred_probe_timeout=3', [], t);
    expect(gpu(r).deferred).toBe(true);
    expect(r.hazards.map((h) => h.kind).sort()).toEqual(['deferred-forever', 'missing-supplier']);
    expect(r.hazards.find((h) => h.kind === 'missing-supplier')!.detail).toMatch(/\/iommu@1000 \(iommus\)/);
  });
});

describe('explain', () => {
  it('names the events and the kernel rules behind a device outcome', () => {
    const r = run('deferred_probe_timeout=2', [{ name: 'test_iommu', at: 8 }]);
    const text = explainDevice(r, '2000.gpu');
    expect(text).toMatch(/^2000\.gpu \(platform\): driver master-drv, iommu group -, ignored dependency true/);
    expect(text).toMatch(/its DMA goes through \/iommu@1000 \(1000\.iommu\)/);
    const order = [
      'probe-deferred',
      'late-initcall',
      'timeout-fired',
      'ignored-dependency',
      'bound master-drv',
      'bound test-iommu',
      'bound-before-iommu',
    ].map((k) => text.indexOf(k));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(text).toMatch(/← drivers\/base\/dd\.c:driver_deferred_probe_check_state \(-ETIMEDOUT/);
    expect(explainDevice(r, 'nope')).toMatch(/no such device/);
  });
});
