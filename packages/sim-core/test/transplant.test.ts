// Board transplants (transplant.ts) on a small board of their own: which devices become lab
// masters, IOMMUs and suppliers, what the fragment says, and that the lab scenario is one
// probelab reads.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseScenario, predict, transplant } from '@probelab/sim-core';
import { dts, profile, scenario } from './helpers.js';

const board = dts(`/ {
  #address-cells = <1>; #size-cells = <1>;
  clk: clock-controller@1000 { compatible = "v,cmu"; reg = <0x1000 0x10>; #clock-cells = <1>; };
  pd: power-domain@2000 { compatible = "v,pd"; reg = <0x2000 0x10>; #power-domain-cells = <0>; clocks = <&clk 1>; };
  mmu_a: iommu@3000 { compatible = "v,mmu"; reg = <0x3000 0x10>; #iommu-cells = <0>; clocks = <&clk 2>; power-domains = <&pd>; };
  mmu_b: iommu@4000 { compatible = "v,mmu"; reg = <0x4000 0x10>; #iommu-cells = <0>; power-domains = <&pd>; };
  display@5000 { compatible = "v,display"; reg = <0x5000 0x10>; iommus = <&mmu_a>, <&mmu_b>; clocks = <&clk 3>; power-domains = <&pd>; };
  codec@6000 { compatible = "v,codec-nodrv"; reg = <0x6000 0x10>; iommus = <&mmu_a>; };
  uart@7000 { compatible = "v,uart"; reg = <0x7000 0x10>; clocks = <&clk 4>; };
};`);
const p = profile({
  builtin: [
    { name: 'cmu', compat: 'v,cmu', t: 0.1 },
    { name: 'pd', compat: 'v,pd', t: 0.2 },
    { name: 'display', compat: 'v,display', t: 0.3 },
    { name: 'uart', compat: 'v,uart', t: 0.3 },
  ],
  modules: [{ name: 'v-mmu', module: 'v_mmu', compat: 'v,mmu' }],
});

function run(faults: Array<{ device: string; result: 'defer' | 'error'; times: number }> = []) {
  const s = scenario('deferred_probe_timeout=10', [{ name: 'v_mmu', at: 14 }], 30);
  const pred = predict({
    scenario: s,
    profile: p,
    tree: board,
    pciFunctions: [],
    behaviours: { 'v-mmu': { kind: 'iommu', fwnode: 'self' } },
  });
  return transplant(
    {
      prediction: pred,
      profile: p,
      name: 'small',
      modules: s.modules,
      unload: [{ name: 'v_mmu', at: 20 }],
      faults,
      cmdline: 'deferred_probe_timeout=10 quiet fw_devlink=on',
      capture: 30,
      qemuPatches: ['iommus-mandatory'],
      file: 'small.yaml',
    },
    'small-lab.dtsi',
  );
}

describe('board transplant', () => {
  it('masters with iommus, each IOMMU instance, and what they wait for (transitively), nothing else', () => {
    const t = run();
    expect(t.nodes.map((n) => `${n.role}:${n.original}`)).toEqual([
      'supplier:1000.clock-controller',
      'supplier:2000.power-domain',
      'iommu:3000.iommu',
      'iommu:4000.iommu',
      'master:5000.display',
    ]);
    expect(t.notes.join('\n')).toMatch(
      /1 master\(s\) with `iommus` whose driver never registers on the board left out: 6000\.codec/,
    );
  });

  it('the fragment keeps the iommus entries, and clocks and power domains as such', () => {
    const t = run();
    expect(t.dtsi).toMatch(
      /display_5000: display-5000 \{\n\t\tcompatible = "probelab,dma-master";\n\t\tiommus = <&iommu_3000 0x0>, <&iommu_4000 0x1>;\n\t\tclocks = <&clock_controller_1000>;\n\t\tpower-domains = <&power_domain_2000>;/,
    );
    expect(t.dtsi).toMatch(
      /power_domain_2000: power-domain-2000 \{\n\t\tcompatible = "probelab,supplier";\n\t\t#power-domain-cells = <0>;\n\t\tclocks = <&clock_controller_1000>;/,
    );
    expect(t.dtsi).not.toMatch(/uart/);
  });

  it('placement, unloads, timeout and fw_devlink, and qemu/patches carried to a scenario probelab reads', () => {
    const t = run();
    const dir = mkdtempSync(join(tmpdir(), 'transplant-'));
    writeFileSync(join(dir, 'small-lab.dtsi'), t.dtsi);
    const s = parseScenario(t.scenario, join(dir, 'small-lab.yaml'));
    expect(s).toMatchObject({
      name: 'small-lab',
      kernel: 'source-6.12+iommus-mandatory',
      cmdline: 'deferred_probe_timeout=10 fw_devlink=on',
      capture: 30,
      machine: { iommu: 'none', overlay: join(dir, 'small-lab.dtsi') },
    });
    expect(s.modules).toEqual([
      { name: 'probelab_supplier', at: 0 },
      { name: 'probelab_master', at: 0 },
      { name: 'probelab_iommu', at: 14 },
    ]);
    expect(s.unload).toEqual([{ name: 'probelab_iommu', at: 20 }]);
  });

  it('probe faults become probelab,* properties', () => {
    expect(run([{ device: '5000.display', result: 'defer', times: 2 }]).dtsi).toMatch(
      /display-5000 \{[^}]*probelab,defer-count = <2>;/,
    );
    expect(run([{ device: '3000.iommu', result: 'error', times: 1 }]).dtsi).toMatch(
      /iommu-3000 \{[^}]*probelab,probe-error;/,
    );
  });

  it("--smmuv3: QEMU's SMMUv3 stands for the one instance, with its own stream IDs and the instance's suppliers", () => {
    const one = dts(`/ {
      #address-cells = <1>; #size-cells = <1>;
      clk: clock-controller@1000 { compatible = "v,cmu"; reg = <0x1000 0x10>; #clock-cells = <1>; };
      mmu: iommu@3000 { compatible = "v,mmu"; reg = <0x3000 0x10>; #iommu-cells = <1>; clocks = <&clk 2>; };
      display@5000 { compatible = "v,display"; reg = <0x5000 0x10>; iommus = <&mmu 7>; };
      gpu@6000 { compatible = "v,display"; reg = <0x6000 0x10>; iommus = <&mmu 9>; };
    };`);
    const s = scenario('', [{ name: 'v_mmu', at: 3 }], 10);
    const pred = predict({
      scenario: s,
      profile: p,
      tree: one,
      pciFunctions: [],
      behaviours: { 'v-mmu': { kind: 'iommu', fwnode: 'self' } },
    });
    const t = transplant(
      {
        prediction: pred,
        profile: p,
        name: 'one',
        modules: s.modules,
        unload: [],
        faults: [],
        cmdline: '',
        capture: 10,
        qemuPatches: [],
        smmuv3: true,
        file: 'one.yaml',
      },
      'one.dtsi',
    );
    expect(t.dtsi).toMatch(/iommus = <&smmu 0x100>;[\s\S]*iommus = <&smmu 0x101>;/);
    expect(t.dtsi).not.toMatch(/probelab,iommu/);
    expect(t.dtsi).toMatch(/\n\};\n\n&smmu \{\n\tclocks = <&clock_controller_1000>;\n\};\n$/);
    expect(parseScenario(t.scenario, '/tmp/one.yaml')).toMatchObject({
      machine: { iommu: 'smmuv3' },
      modules: [
        { name: 'probelab_supplier', at: 0 },
        { name: 'probelab_master', at: 0 },
        { name: 'arm_smmu_v3', at: 3 },
      ],
    });
    // The fragment compiles onto QEMU's tree (dtc via the host, as the helpers do).
    expect(() =>
      dts(`/ { smmu: iommu@0 { #iommu-cells = <1>; }; };\n${t.dtsi.replace(/^\/\/.*$/gm, '')}`),
    ).not.toThrow();
  });

  it('--smmuv3 needs one IOMMU instance', () => {
    const s = scenario('', [{ name: 'v_mmu', at: 14 }], 30);
    const pred = predict({
      scenario: s,
      profile: p,
      tree: board,
      pciFunctions: [],
      behaviours: { 'v-mmu': { kind: 'iommu', fwnode: 'self' } },
    });
    expect(() =>
      transplant(
        {
          prediction: pred,
          profile: p,
          name: 'x',
          modules: s.modules,
          unload: [],
          faults: [],
          cmdline: '',
          capture: 30,
          qemuPatches: [],
          smmuv3: true,
          file: 'x.yaml',
        },
        'x.dtsi',
      ),
    ).toThrow(/masters use 2/);
  });
});
