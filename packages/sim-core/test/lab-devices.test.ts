// The driver-core lab's DT properties (qemu/lab/probelab/probelab_lab.h:probelab_probe_start and
// probelab_iommu.c) as the simulator models them, and the two fwspec rules of
// drivers/iommu/iommu.c:iommu_fwspec_init / of_iommu.c:of_iommu_configure that differ between
// trees, each on a small tree of its own.
import { describe, expect, it } from 'vitest';
import { predict, collapseKinds, labFaults, buildBoard, parseScenario, type KernelProfile } from '@probelab/sim-core';
import { dts, profile, scenario } from './helpers.js';

const lab = (extra: Partial<KernelProfile> = {}): KernelProfile => ({
  ...profile({
    modules: [
      { name: 'probelab-master', module: 'probelab_master', compat: 'probelab,dma-master' },
      { name: 'probelab-iommu', module: 'probelab_iommu', compat: 'probelab,iommu' },
      { name: 'probelab-supplier', module: 'probelab_supplier', compat: 'probelab,supplier' },
    ],
  }),
  ...extra,
});
const behaviours = { 'probelab-iommu': { kind: 'iommu' as const, fwnode: 'self' as const } };
const run = (
  src: string,
  loads: Array<{ name: string; at: number }>,
  cmdline = 'deferred_probe_timeout=10',
  p = lab(),
) => predict({ scenario: scenario(cmdline, loads, 20), profile: p, tree: dts(src), pciFunctions: [], behaviours });
const dev = (r: ReturnType<typeof run>, id: string) => r.outcome.devices.find((d) => d.id === id);

describe('lab device properties (probelab_lab.h)', () => {
  it('probelab,defer-count = <2>: two -EPROBE_DEFER after DMA setup, then bound on a later trigger', () => {
    const r = run(
      `/ {
      lab_iommu: lab-iommu { compatible = "probelab,iommu"; #iommu-cells = <1>; };
      m { compatible = "probelab,dma-master"; iommus = <&lab_iommu 1>; probelab,defer-count = <2>; };
      other-a { compatible = "probelab,supplier"; #clock-cells = <0>; };
    };`,
      [
        { name: 'probelab_iommu', at: 1 },
        { name: 'probelab_master', at: 2 },
        { name: 'probelab_supplier', at: 3 },
      ],
    );
    // 2 s: group, then defer #1; the supplier's bind at 3 s triggers defer #2; the timeout's retry
    // (all devices, dd.c:deferred_probe_timeout_work_func) is the third probe and binds it.
    expect(collapseKinds(r.outcome.events, 'm')).toEqual(['iommu-group:0', 'probe-deferred', 'bound:probelab-master']);
    expect(dev(r, 'm')).toMatchObject({ driver: 'probelab-master', iommuGroup: 0 });
  });

  it('without a trigger after the last deferral the master stays deferred', () => {
    const r = run(
      `/ { m { compatible = "probelab,dma-master"; probelab,defer-count = <1>; }; };`,
      [{ name: 'probelab_master', at: 1 }],
      'deferred_probe_timeout=-1',
    );
    expect(dev(r, 'm')).toMatchObject({ driver: null, deferred: true });
  });

  it('probelab,probe-error: the probe fails with -EIO (-5) once, keeps its group, and is not retried', () => {
    const r = run(
      `/ {
      lab_iommu: lab-iommu { compatible = "probelab,iommu"; #iommu-cells = <1>; };
      m { compatible = "probelab,dma-master"; iommus = <&lab_iommu 1>; probelab,probe-error; };
    };`,
      [
        { name: 'probelab_iommu', at: 1 },
        { name: 'probelab_master', at: 2 },
      ],
    );
    // A failed DT device is not in the outcome (no driver, not deferred); the model's events keep it.
    expect(dev(r, 'm')).toBeUndefined();
    expect(r.core.events.filter((e) => e.device === 'm').map((e) => [e.kind, e.value])).toEqual([
      ['iommu-group', 0],
      ['probe-failed', -5],
    ]);
    expect(r.hazards.map((h) => h.kind)).toContain('group-after-failed-probe');
  });

  it('defer-count then probe-error: defers N times first (the order of probelab_probe_start)', () => {
    const board = buildBoard(
      dts(`/ { m { compatible = "probelab,dma-master"; probelab,defer-count = <3>; probelab,probe-error; }; };`),
      [],
      new Set(),
    );
    expect(labFaults(board)).toEqual([
      { device: 'm', result: 'defer', times: 3 },
      { device: 'm', result: 'error', times: Number.POSITIVE_INFINITY, value: -5 },
    ]);
  });

  it('probelab,probe-us and ready-us: the probe takes that long, and what follows moves with it', () => {
    const src = (us: number) => `/ {
      lab_iommu: lab-iommu { compatible = "probelab,iommu"; #iommu-cells = <1>; probelab,probe-us = <${us}>; probelab,register-before-ready; probelab,ready-us = <${us}>; };
      m { compatible = "probelab,dma-master"; iommus = <&lab_iommu 1>; };
    };`;
    const t = (r: ReturnType<typeof run>) => r.outcome.events.find((e) => e.kind === 'bound' && e.device === 'm')!.t;
    const loads = [
      { name: 'probelab_master', at: 1 },
      { name: 'probelab_iommu', at: 2 },
    ];
    expect(t(run(src(300000), loads)) - t(run(src(0), loads))).toBeCloseTo(0.6, 5);
  });

  it('properties of nodes that are not lab devices are ignored', () => {
    const board = buildBoard(dts(`/ { x { compatible = "vendor,thing"; probelab,probe-error; }; };`), [], new Set());
    expect(labFaults(board)).toEqual([]);
  });
});

describe('a master behind two instances, the second not registered yet (of_iommu_configure_device)', () => {
  const tree = `/ {
    iommu_a: lab-iommu-a { compatible = "probelab,iommu"; #iommu-cells = <1>; };
    iommu_b: lab-iommu-b { compatible = "probelab,iommu"; #iommu-cells = <1>; clocks = <&clk>; };
    clk: clk { compatible = "probelab,supplier"; #clock-cells = <0>; };
    m { compatible = "probelab,dma-master"; iommus = <&iommu_a 1>, <&iommu_b 2>; };
  };`;
  const loads = [
    { name: 'probelab_iommu', at: 1 },
    { name: 'probelab_master', at: 2 },
    { name: 'probelab_supplier', at: 5 },
  ];

  it('iommu_fwspec_init defers first (6.12): the master waits for both, then joins a group', () => {
    const r = run(
      tree,
      loads,
      'deferred_probe_timeout=30',
      lab({ fwspecInitDefersFirst: true, fwspecFreedOnError: true }),
    );
    expect(collapseKinds(r.outcome.events, 'm')).toEqual(['probe-deferred', 'iommu-group:0', 'bound:probelab-master']);
    expect(r.outcome.events.find((e) => e.kind === 'bound' && e.device === 'm')!.t).toBeGreaterThan(5);
  });

  it('the fwspec is compared first and kept on error (6.1.192): -EINVAL, bound untranslated, then added to a group while bound', () => {
    const r = run(
      tree,
      loads,
      'deferred_probe_timeout=30',
      lab({ fwspecInitDefersFirst: false, fwspecFreedOnError: false }),
    );
    expect(collapseKinds(r.outcome.events, 'm')).toEqual(['bound:probelab-master', 'iommu-group:0']);
    expect(r.outcome.events.find((e) => e.kind === 'iommu-group' && e.device === 'm')!.t).toBeGreaterThan(5);
    expect(r.hazards.filter((h) => h.device === 'm').map((h) => h.kind)).toEqual([
      'iommu-configure-failed',
      'attached-while-bound',
    ]);
  });

  it('compared first but freed on error: bound untranslated and stays so', () => {
    const r = run(
      tree,
      loads,
      'deferred_probe_timeout=30',
      lab({ fwspecInitDefersFirst: false, fwspecFreedOnError: true }),
    );
    expect(collapseKinds(r.outcome.events, 'm')).toEqual(['bound:probelab-master']);
    expect(dev(r, 'm')!.iommuGroup).toBeNull();
  });

  it('without source facts the series decides (package kernels have no tree)', () => {
    const r = run(tree, loads, 'deferred_probe_timeout=30', lab({ series: '6.1' }));
    expect(collapseKinds(r.outcome.events, 'm')).toEqual(['bound:probelab-master', 'iommu-group:0']);
  });
});

describe('async probes (dd.c:__driver_attach -> async_schedule_dev) and the register-before-ready window', () => {
  const src = `/ {
    lab_iommu: lab-iommu { compatible = "probelab,iommu"; #iommu-cells = <1>; probelab,register-before-ready; probelab,ready-us = <200000>; };
    m { compatible = "probelab,dma-master"; iommus = <&lab_iommu 1>; };
  };`;
  const go = (cpus: number, masterAt: number, params = 'async_probe=1') => {
    const s = {
      ...scenario(
        'deferred_probe_timeout=30',
        [
          { name: 'probelab_iommu', at: 2, params },
          { name: 'probelab_master', at: masterAt },
        ],
        5,
      ),
      machine: { iommu: 'none' as const, devices: [], cpus },
    };
    return predict({ scenario: s, profile: lab(), tree: dts(src), pciFunctions: [], behaviours });
  };

  it('two CPUs, the master loaded inside the window: configured against a registered, unready IOMMU -> bypassed', () => {
    const r = go(2, 2.05);
    expect(dev(r, 'm')).toMatchObject({ driver: 'probelab-master', iommuGroup: null, dma: 'bypassed' });
    expect(r.hazards.map((h) => h.kind)).toContain('configured-in-window');
  });

  it('two CPUs, loaded after the window: translated', () => {
    expect(dev(go(2, 2.5), 'm')).toMatchObject({ iommuGroup: 0, dma: 'translated' });
  });

  it('one CPU: the busy async probe holds it, the master loads after the window: translated', () => {
    const r = go(1, 2.05);
    expect(dev(r, 'm')).toMatchObject({ iommuGroup: 0, dma: 'translated' });
    expect(
      r.outcome.events.find((e) => e.kind === 'module-loaded' && e.module === 'probelab_master')!.t,
    ).toBeGreaterThan(2.2);
  });

  it('without async_probe the load waits for the probe: no window on any CPU count', () => {
    expect(dev(go(2, 2.05, 'async_probe=0'), 'm')).toMatchObject({ iommuGroup: 0 });
    expect(dev(go(2, 2.05, ''), 'm')).toMatchObject({ iommuGroup: 0 });
  });

  it("module.async_probe=1 on the command line is every module's default", () => {
    const s = {
      ...scenario(
        'deferred_probe_timeout=30 module.async_probe=1',
        [
          { name: 'probelab_iommu', at: 2 },
          { name: 'probelab_master', at: 2.05 },
        ],
        5,
      ),
      machine: { iommu: 'none' as const, devices: [], cpus: 2 },
    };
    expect(
      dev(predict({ scenario: s, profile: lab(), tree: dts(src), pciFunctions: [], behaviours }), 'm'),
    ).toMatchObject({ iommuGroup: null });
  });

  it('scenario fields: machine.cpus 1, 2 or 4, and modules[].params as name=value words', () => {
    const y = (extra: string, mod = '{ name: probelab_iommu, at: 2, params: "async_probe=1" }') =>
      `name: a\nkernel: source-6.12\nmachine:\n  iommu: none\n  devices: []\n${extra}modules:\n  - ${mod}\ncapture: 5\n`;
    expect(parseScenario(y('  cpus: 2\n'))).toMatchObject({
      machine: { cpus: 2 },
      modules: [{ name: 'probelab_iommu', at: 2, params: 'async_probe=1' }],
    });
    const err = (text: string): string => {
      try {
        parseScenario(text, 's.yaml');
      } catch (e) {
        return String(e);
      }
      return 'no error';
    };
    expect(err(y('  cpus: 3\n'))).toMatch(/s\.yaml:6:9: field `machine\.cpus`: expected 1, 2 or 4/);
    expect(() => parseScenario(y('', '{ name: x, at: 1, params: "a=1; reboot" }'), 's.yaml')).toThrow(
      /field `modules\[0\]\.params`/,
    );
  });
});

describe("fw_devlink bindings from the tree's own table (drivers/of/property.c:of_supplier_bindings[])", () => {
  const src = `/ {
    clk: lab-clock { compatible = "probelab,supplier"; #clock-cells = <0>; };
    m { compatible = "probelab,dma-master"; clocks = <&clk>; };
  };`;
  const run2 = (table?: KernelProfile['supplierTable']) =>
    predict({
      scenario: scenario('deferred_probe_timeout=-1', [{ name: 'probelab_master', at: 1 }], 5),
      profile: lab(table ? { supplierTable: table } : {}),
      tree: dts(src),
      pciFunctions: [],
      behaviours,
    });
  it('a table with parse_clocks links the consumer to its clock supplier: it waits for it', () => {
    expect(
      dev(
        run2({
          parsers: ['parse_clocks'],
          simple: [{ fn: 'clocks', property: 'clocks', cells: '#clock-cells' }],
          suffix: [],
        }),
        'm',
      ),
    ).toMatchObject({ driver: null, deferred: true });
  });
  it('a tree whose table has no clocks row makes no link: the master probes, and its own clock get defers', () => {
    const r = run2({
      parsers: ['parse_iommus'],
      simple: [{ fn: 'iommus', property: 'iommus', cells: '#iommu-cells' }],
      suffix: [],
    });
    expect(r.core.links.filter((l) => l.consumer.id === 'm')).toEqual([]);
    expect(r.core.events.find((e) => e.kind === 'probe-deferred' && e.device === 'm')!.rule).toMatch(
      /probelab_master\.c:probelab_master_probe \(devm_clk_bulk_get_all/,
    );
  });
});
