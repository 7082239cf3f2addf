// The rules board scenarios rely on, each on a small tree of its own: OF matching, devices a
// probe creates, several IOMMU instances, IOMMU setup at device add, bus ops claimed at init,
// probe faults, module unload, fw_devlink cycles and early-initialised suppliers, the race
// window of an IOMMU that registers before its probe returns, initcall-ordered timing.
import { describe, expect, it } from 'vitest';
import {
  boardTiming,
  busId,
  collapseKinds,
  defaultBoardTiming,
  simulate,
  type DriverInfo,
  type KernelProfile,
  type ProbeBehaviour,
  type ProbeFault,
} from '@probelab/sim-core';
import { buildTree, nodeIndex } from '@probelab/dt-compiler';
import { dts } from './helpers.js';

interface D {
  name: string;
  compat: string[];
  module?: string;
  level?: number;
  order?: number;
}

function srcProfile(drivers: D[], extra: Partial<KernelProfile> = {}): KernelProfile {
  const infos: DriverInfo[] = drivers.map((d, i) => ({
    name: d.name,
    bus: 'platform',
    module: d.module ?? d.name.replace(/-/g, '_'),
    builtin: !d.module,
    ofCompatibles: d.compat,
    level: d.level ?? 6,
    linkOrder: d.order ?? i,
  }));
  const mods = drivers.filter((d) => d.module).map((d) => d.module!);
  return {
    id: 'src-test',
    series: '6.12',
    release: 'test',
    hz: 250,
    modules: true,
    builtinModules: new Set(drivers.filter((d) => !d.module).map((d) => d.name.replace(/-/g, '_'))),
    moduleDeps: new Map(mods.map((m) => [m, []])),
    moduleAliases: [],
    drivers: infos,
    builtinMatches: [],
    ofDeclared: [],
    timing: {},
    ...extra,
  };
}

const sim = (
  tree: ReturnType<typeof dts>,
  p: KernelProfile,
  o: {
    cmdline?: string;
    modules?: Array<{ name: string; at: number }>;
    unloads?: Array<{ name: string; at: number }>;
    faults?: ProbeFault[];
    behaviours?: Record<string, ProbeBehaviour>;
    capture?: number;
  } = {},
) =>
  simulate({
    file: 't.yaml',
    profile: p,
    timing: boardTiming(p, { ...defaultBoardTiming, initStart: 1 }),
    tree,
    pciFunctions: [],
    cmdline: o.cmdline ?? 'deferred_probe_timeout=10',
    modules: o.modules ?? [],
    unloads: o.unloads ?? [],
    faults: o.faults ?? [],
    capture: o.capture ?? 30,
    listEveryBoundDevice: true,
    ...(o.behaviours ? { behaviours: o.behaviours } : {}),
  });
const dev = (r: ReturnType<typeof sim>, id: string) => r.outcome.devices.find((d) => d.id === id);
const iommu: Record<string, ProbeBehaviour> = {
  'mmu-a': { kind: 'iommu', fwnode: 'self' },
  'mmu-b': { kind: 'iommu', fwnode: 'self' },
};

describe('matching and device creation', () => {
  it('of_driver_match_device: any compatible of the device; the first registered driver wins', () => {
    const t = dts(
      `/ { #address-cells = <1>; #size-cells = <1>; x@10 { compatible = "v,specific", "v,generic"; reg = <0x10 4>; }; };`,
    );
    const r = sim(
      t,
      srcProfile([
        { name: 'generic', compat: ['v,generic'], order: 1 },
        { name: 'specific', compat: ['v,specific'], order: 2 },
      ]),
    );
    expect(dev(r, '10.x')?.driver).toBe('generic');
  });

  it('an I2C controller creates "<alias nr>-<addr>" children, an SPI one "spi<nr>.<cs>", populate makes platform children', () => {
    const t = dts(`/ { #address-cells = <1>; #size-cells = <1>;
      aliases { i2c3 = "/i2c@100"; spi1 = "/spi@200"; };
      i2c@100 { compatible = "v,i2c"; reg = <0x100 4>; #address-cells = <1>; #size-cells = <0>; pmic@66 { compatible = "v,pmic"; reg = <0x66>; }; };
      spi@200 { compatible = "v,spi"; reg = <0x200 4>; #address-cells = <1>; #size-cells = <0>; flash@0 { compatible = "v,flash"; reg = <0>; }; };
      glue@300 { compatible = "v,glue"; reg = <0x300 4>; #address-cells = <1>; #size-cells = <1>; ranges; core@310 { compatible = "v,core"; reg = <0x310 4>; }; };
    };`);
    const p = srcProfile([
      { name: 'i2c', compat: ['v,i2c'] },
      { name: 'spi', compat: ['v,spi'] },
      { name: 'glue', compat: ['v,glue'] },
    ]);
    const r = sim(t, p, {
      behaviours: {
        i2c: { kind: 'children', bus: 'i2c' },
        spi: { kind: 'children', bus: 'spi' },
        glue: { kind: 'children', bus: 'platform' },
      },
    });
    const ids = r.core.devices.map((d) => `${d.bus}:${d.id}`);
    expect(ids).toEqual(expect.arrayContaining(['i2c:3-0066', 'spi:spi1.0', 'platform:310.core']));
  });

  it('of_device_make_bus_id: a `mask` adds ffs(mask)-1', () => {
    const t = dts(
      `/ { #address-cells = <1>; #size-cells = <1>; led@8 { compatible = "v,led"; reg = <0x8 4>; mask = <0x4>; }; };`,
    );
    expect(busId(t.root.children.find((c) => c.name === 'led@8')!)).toBe('8.2.led');
  });
});

const twoMmus = (secondStatus = 'okay') =>
  dts(`/ { #address-cells = <1>; #size-cells = <1>;
  m0: mmu@100 { compatible = "v,mmu"; reg = <0x100 4>; #iommu-cells = <0>; };
  m1: mmu@200 { compatible = "v,mmu"; reg = <0x200 4>; #iommu-cells = <0>; status = "${secondStatus}"; };
  gpu@300 { compatible = "v,gpu"; reg = <0x300 4>; iommus = <&m0>, <&m1>; };
};`);
const mmuModule = srcProfile([
  { name: 'gpu', compat: ['v,gpu'] },
  { name: 'mmu-a', compat: ['v,mmu'], module: 'mmu_a' },
]);

describe('IOMMU configuration of masters', () => {
  it('several `iommus` instances: the master waits for all; one failing for good ends only with the timeout (case 3c)', () => {
    const ok = sim(twoMmus(), mmuModule, { modules: [{ name: 'mmu_a', at: 2 }], behaviours: iommu });
    expect(dev(ok, '300.gpu')).toMatchObject({ driver: 'gpu', iommuGroup: 0 });
    const r = sim(twoMmus(), mmuModule, {
      modules: [{ name: 'mmu_a', at: 2 }],
      faults: [{ device: '200.mmu', result: 'error', times: 1 }],
      behaviours: iommu,
    });
    expect(dev(r, '300.gpu')).toMatchObject({ driver: 'gpu', iommuGroup: null, ignoredDependency: true });
    expect(r.outcome.events.find((e) => e.kind === 'ignored-dependency')!.t).toBeGreaterThan(10);
    expect(r.hazards.map((h) => h.kind)).toContain('iommu-probe-failed');
  });

  it('`iommus` entries of two IOMMU drivers: -EINVAL, untranslated, reported once however often the probe runs', () => {
    const t = dts(`/ { #address-cells = <1>; #size-cells = <1>;
  m0: mmu@100 { compatible = "v,mmu"; reg = <0x100 4>; #iommu-cells = <0>; };
  m1: mmu@200 { compatible = "v,other-mmu"; reg = <0x200 4>; #iommu-cells = <0>; };
  gpu@300 { compatible = "v,gpu"; reg = <0x300 4>; iommus = <&m0>, <&m1>; };
};`);
    const p = srcProfile([
      { name: 'mmu-a', compat: ['v,mmu'], level: 4 },
      { name: 'mmu-b', compat: ['v,other-mmu'], level: 4 },
      { name: 'gpu', compat: ['v,gpu'] },
    ]);
    // Each -EPROBE_DEFER of the gpu's own probe runs really_probe -> dma_configure again.
    const r = sim(t, p, { faults: [{ device: '300.gpu', result: 'defer', times: 2 }], behaviours: iommu });
    // Bound only after both faults are used up: three probes, three dma_configure runs (repeated
    // identical deferrals are one event).
    expect(dev(r, '300.gpu')).toMatchObject({ driver: 'gpu', iommuGroup: null });
    expect(r.hazards.filter((h) => h.device === '300.gpu').map((h) => h.kind)).toEqual(['iommu-configure-failed']);
  });

  it('a tree another tree was built over since: its nodes looked up without their index, the same outcome', () => {
    // A clock chain, and a cycle (fw-devlink-cycles.ts relaxes its links, or neither probes).
    for (const cycle of [false, true]) {
      const t = dts(`/ { #address-cells = <1>; #size-cells = <1>;
  clk: clock@100 { compatible = "v,clk"; reg = <0x100 4>; #clock-cells = <0>; ${cycle ? 'clocks = <&d>;' : ''} };
  d: dev@200 { compatible = "v,dev"; reg = <0x200 4>; clocks = <&clk>; #clock-cells = <0>; };
};`);
      const p = srcProfile([
        { name: 'clk', compat: ['v,clk'], module: 'clk' },
        { name: 'dev', compat: ['v,dev'] },
      ]);
      const run = () => sim(t, p, { modules: [{ name: 'clk', at: 2 }] });
      const before = run();
      expect(dev(before, '200.dev')?.driver).toBe('dev'); // bound once its clock's driver is
      expect(dev(before, '100.clock')?.driver).toBe('clk');
      const nodes = [t.byPath('/clock@100')!, t.byPath('/dev@200')!];
      expect(nodes.map((n) => nodeIndex(t, n))).toEqual(nodes.map((n) => t.nodes.indexOf(n)));
      // Trees of its nodes (as a merge or a survey might build): they are those trees' now.
      for (const n of nodes) buildTree(n, 0, []);
      expect(nodes.map((n) => nodeIndex(t, n))).toEqual([-1, -1]);
      expect(run().outcome).toEqual(before.outcome);
    }
  });

  it('an unavailable instance among them: -ENODEV, the master runs without an IOMMU at once', () => {
    const r = sim(twoMmus('disabled'), mmuModule, { behaviours: iommu });
    expect(dev(r, '300.gpu')).toMatchObject({ driver: 'gpu', iommuGroup: null, ignoredDependency: false });
    expect(collapseKinds(r.outcome.events, '300.gpu')).toEqual(['bound:gpu']);
  });

  it('IOMMU setup at device add (before 4.12): nothing defers, the module comes too late for the master', () => {
    const r = sim(
      twoMmus(),
      srcProfile(
        [
          { name: 'gpu', compat: ['v,gpu'] },
          { name: 'mmu-a', compat: ['v,mmu'], module: 'mmu_a' },
        ],
        { iommuSetup: 'device-add' },
      ),
      { modules: [{ name: 'mmu_a', at: 2 }], behaviours: iommu },
    );
    expect(collapseKinds(r.outcome.events, '300.gpu')).toEqual(['bound:gpu']);
    expect(dev(r, '300.gpu')?.iommuGroup).toBeNull();
    expect(r.hazards.find((h) => h.device === '300.gpu')?.kind).toBe('bound-before-iommu');
  });

  it('a driver that claims the platform bus ops at init breaks masters of another IOMMU (seed 002)', () => {
    const t = dts(
      `/ { #address-cells = <1>; #size-cells = <1>; m0: mmu@100 { compatible = "v,mmu"; reg = <0x100 4>; #iommu-cells = <0>; }; gpu@300 { compatible = "v,gpu"; reg = <0x300 4>; iommus = <&m0>; }; };`,
    );
    const drivers: D[] = [
      { name: 'mmu-b', compat: ['v,other-mmu'], level: 4 },
      { name: 'mmu-a', compat: ['v,mmu'] },
      { name: 'gpu', compat: ['v,gpu'] },
    ];
    const claimed = sim(t, srcProfile(drivers, { busOpsAtInit: ['mmu-b'] }), { behaviours: iommu });
    expect(dev(claimed, '300.gpu')).toMatchObject({ driver: 'gpu', iommuGroup: null });
    expect(claimed.hazards.map((h) => h.kind)).toEqual(['foreign-bus-ops']);
    const fixed = sim(t, srcProfile(drivers), { behaviours: iommu });
    expect(dev(fixed, '300.gpu')?.iommuGroup).toBe(0);
  });

  it('the race window: an IOMMU that still works after iommu_device_register; a mandatory link closes it', () => {
    const t = dts(
      `/ { #address-cells = <1>; #size-cells = <1>; m0: mmu@100 { compatible = "v,mmu"; reg = <0x100 4>; #iommu-cells = <0>; }; gpu@300 { compatible = "v,gpu"; reg = <0x300 4>; iommus = <&m0>; }; };`,
    );
    const b = {
      'mmu-a': { kind: 'iommu', fwnode: 'self', afterRegister: ['platform_set_drvdata(pdev, smmu)'] },
    } as const;
    const open = sim(t, mmuModule, { modules: [{ name: 'mmu_a', at: 2 }], behaviours: b });
    expect(open.hazards.map((h) => h.kind)).toEqual(['iommu-race-window']);
    const closed = sim(
      t,
      { ...mmuModule, optionalBindings: { iommus: false } },
      { modules: [{ name: 'mmu_a', at: 2 }], behaviours: b },
    );
    expect(closed.hazards).toEqual([]);
    expect(dev(closed, '300.gpu')?.iommuGroup).toBe(0);
  });
});

describe('faults and module unload', () => {
  const t = dts(
    `/ { #address-cells = <1>; #size-cells = <1>; m0: mmu@100 { compatible = "v,mmu"; reg = <0x100 4>; #iommu-cells = <0>; }; gpu@300 { compatible = "v,gpu"; reg = <0x300 4>; iommus = <&m0>; }; };`,
  );
  it('a master whose probe defers once keeps its group on the retry (one "Adding to iommu group")', () => {
    const r = sim(t, mmuModule, {
      modules: [{ name: 'mmu_a', at: 2 }],
      faults: [{ device: '300.gpu', result: 'defer', times: 1 }],
      behaviours: iommu,
    });
    expect(dev(r, '300.gpu')).toMatchObject({ driver: 'gpu', iommuGroup: 0 });
    expect(r.outcome.events.filter((e) => e.kind === 'iommu-group')).toHaveLength(1);
  });

  it('a master that fails for good keeps its group and pins the IOMMU module: rmmod is refused', () => {
    const r = sim(t, mmuModule, {
      modules: [{ name: 'mmu_a', at: 2 }],
      unloads: [{ name: 'mmu_a', at: 5 }],
      faults: [{ device: '300.gpu', result: 'error', times: 1 }],
      behaviours: iommu,
    });
    expect(dev(r, '300.gpu')).toMatchObject({ driver: null, iommuGroup: 0 });
    expect(r.core.devices.find((d) => d.id === '300.gpu')!.iommuGroup).toBe(0);
    expect(r.outcome.events.map((e) => e.kind)).toEqual(
      expect.arrayContaining(['probe-failed', 'module-unload-refused']),
    );
    expect(r.hazards.map((h) => h.kind)).toContain('group-after-failed-probe');
  });

  it('rmmod of a supplier module unbinds its consumers first (device_links_unbind_consumers)', () => {
    const t2 = dts(
      `/ { #address-cells = <1>; #size-cells = <1>; clk: clock@100 { compatible = "v,clk"; reg = <0x100 4>; #clock-cells = <0>; }; uart@300 { compatible = "v,uart"; reg = <0x300 4>; clocks = <&clk>; }; };`,
    );
    const p = srcProfile([
      { name: 'uart', compat: ['v,uart'] },
      { name: 'clk', compat: ['v,clk'], module: 'clk_mod' },
    ]);
    const r = sim(t2, p, { modules: [{ name: 'clk_mod', at: 2 }], unloads: [{ name: 'clk_mod', at: 5 }] });
    const kinds = r.outcome.events.filter((e) => e.t >= 5 && e.t < 6).map((e) => `${e.kind}:${e.device ?? e.module}`);
    expect(kinds).toEqual(['unbound:300.uart', 'unbound:100.clock', 'module-unloaded:clk_mod']);
  });
});

describe('fw_devlink on boards', () => {
  it('a dependency cycle is broken (links made SYNC_STATE_ONLY) and reported; both bind', () => {
    const t = dts(`/ { #address-cells = <1>; #size-cells = <1>;
      a: a@100 { compatible = "v,a"; reg = <0x100 4>; #clock-cells = <0>; clocks = <&b>; };
      b: b@200 { compatible = "v,b"; reg = <0x200 4>; #clock-cells = <0>; clocks = <&a>; }; };`);
    const r = sim(
      t,
      srcProfile([
        { name: 'a', compat: ['v,a'] },
        { name: 'b', compat: ['v,b'] },
      ]),
    );
    expect(dev(r, '100.a')?.driver).toBe('a');
    expect(dev(r, '200.b')?.driver).toBe('b');
    expect(
      r.hazards
        .filter((h) => h.kind === 'cycle-broken')
        .map((h) => h.device)
        .sort(),
    ).toEqual(['100.a', '200.b']);
    expect(r.outcome.events.some((e) => e.kind === 'timeout-fired' && e.t < 5)).toBe(false);
  });

  it('no link to a supplier early init marked initialized ("dev might never probe")', () => {
    const t = dts(
      `/ { #address-cells = <1>; #size-cells = <1>; pd: sysc@100 { compatible = "v,sysc"; reg = <0x100 4>; #power-domain-cells = <0>; }; uart@300 { compatible = "v,uart"; reg = <0x300 4>; power-domains = <&pd>; }; };`,
    );
    // Linked to a sysc no driver binds: it waits until the timeout relaxes the link, and then its
    // power domain is still missing (platform_probe -> genpd: -ETIMEDOUT, the probe fails).
    const blocked = sim(t, srcProfile([{ name: 'uart', compat: ['v,uart'] }]));
    const failed = blocked.core.events.find((e) => e.kind === 'probe-failed' && e.device === '300.uart')!;
    expect([failed.t > 10, failed.value]).toEqual([true, -110]);
    // driver_deferred_probe_check_state warns first ("deferred probe timeout, ignoring dependency",
    // printed by real 6.12 boots before the -110): the device ignored a dependency.
    const warned = blocked.core.events
      .filter((e) => e.device === '300.uart' && (e.kind === 'ignored-dependency' || e.kind === 'probe-failed'))
      .map((e) => [e.kind, e.driver]);
    expect(warned).toEqual([
      ['ignored-dependency', 'uart'],
      ['probe-failed', 'uart'],
    ]);
    expect(blocked.core.devices.find((d) => d.id === '300.uart')!.ignoredDependency).toBe(true);
    const free = sim(t, srcProfile([{ name: 'uart', compat: ['v,uart'] }], { fwnodeInitialized: ['v,sysc'] }));
    expect(free.outcome.events.find((e) => e.kind === 'bound' && e.device === '300.uart')!.t).toBeLessThan(1);
  });
});

describe('board timing', () => {
  it('built-in drivers register level by level, link order within a level', () => {
    const p = srcProfile([
      { name: 'late', compat: ['x'], level: 6, order: 1 },
      { name: 'core', compat: ['y'], level: 1, order: 9 },
      { name: 'dev2', compat: ['z'], level: 6, order: 0 },
    ]);
    expect(boardTiming(p, defaultBoardTiming).builtinRegistrations.map((r) => r.driver)).toEqual([
      'core',
      'dev2',
      'late',
    ]);
  });
});
