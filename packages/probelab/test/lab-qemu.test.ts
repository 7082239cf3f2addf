// The driver-core lab on real kernels: lab boards (boards/lab, QEMU's virt tree plus a fragment
// with the probelab test devices) booted on the source-built 6.12 and 6.1 kernels, whose builds
// carry the lab drivers; `probelab check` must agree, and each real outcome must show what the
// board is about.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readDtb } from '@probelab/dt-compiler';
import { root, runCli } from './cli.js';

interface Dev {
  id: string;
  driver: string | null;
  iommuGroup: number | null;
  ignoredDependency: boolean;
  deferred: boolean;
  dma?: string;
}
interface Ev {
  kind: string;
  t: number;
  device: string | null;
  module?: string;
  value?: number;
}
interface Check {
  agree: boolean;
  real: { devices: Dev[]; events: Ev[] };
  predicted: { devices: Dev[]; events: Ev[] };
}

const out = '/tmp/probelab-test-lab';
async function check(board: string): Promise<Check> {
  const r = await runCli(['check', `boards/lab/${board}.yaml`, '--json'], { PROBELAB_OUT: out });
  if (r.code !== 0) throw new Error(`check ${board} exited ${r.code}\n${r.stderr}\n${r.stdout.slice(0, 4000)}`);
  return JSON.parse(r.stdout) as Check;
}
const dev = (o: { devices: Dev[] }, id: string) => o.devices.find((d) => d.id === id);
const kinds = (o: { events: Ev[] }, id: string) => o.events.filter((e) => e.device === id).map((e) => e.kind);

describe('driver-core lab boards on real kernels', () => {
  it('6.12: platform masters with iommus, SMMUv3 clock late — untranslated after the timeout; the booted tree is the merged one', async () => {
    const c = await check('smmu-late-clock-6.12');
    expect(c.agree).toBe(true);
    for (const m of ['dma-master-0', 'dma-master-1'])
      expect(dev(c.real, m)).toMatchObject({ driver: 'probelab-master', iommuGroup: null, ignoredDependency: true });
    expect(dev(c.real, '9050000.smmuv3')).toMatchObject({ driver: 'arm-smmu-v3' });
    const dtb = readDtb(readFileSync(join(out, 'lab-smmu-late-clock-612', 'machine.dtb')), 'machine.dtb');
    expect(dtb.byPath('/smmuv3@9050000')!.properties.has('clocks')).toBe(true);
    expect(readFileSync(join(out, 'lab-smmu-late-clock-612', 'qemu-command.txt'), 'utf8')).toMatch(
      / -dtb \S+\/lab-smmu-late-clock-612\/machine\.dtb /,
    );
  }, 1_800_000);

  it('6.12: a master behind two IOMMU instances waits for the late one, then joins a group', async () => {
    const c = await check('two-iommus-6.12');
    expect(c.agree).toBe(true);
    expect(kinds(c.real, 'dma-master-both').filter((k) => k !== 'probe-deferred')).toEqual(['iommu-group', 'bound']);
    expect(c.real.events.find((e) => e.kind === 'bound' && e.device === 'dma-master-both')!.t).toBeGreaterThan(6);
  }, 1_800_000);

  it('6.1.192: the same master binds untranslated at once (-EINVAL) and is added to a group while bound', async () => {
    const c = await check('two-iommus-6.1');
    expect(c.agree).toBe(true);
    expect(kinds(c.real, 'dma-master-both').filter((k) => k !== 'probe-deferred')).toEqual(['bound', 'iommu-group']);
    expect(c.real.events.find((e) => e.kind === 'bound' && e.device === 'dma-master-both')!.t).toBeLessThan(2);
  }, 1_800_000);

  it.each([
    ['window-smp-6.12', 'bypassed'],
    ['window-smp-after-6.12', 'translated'],
    ['window-up-6.1', 'translated'],
  ])(
    "seed 000's window: %s (async IOMMU probe registering 200 ms before ready) -> masters %s",
    async (board, dma) => {
      const c = await check(board);
      expect(c.agree).toBe(true);
      for (const m of ['dma-master-0', 'dma-master-1'])
        expect(dev(c.real, m)).toMatchObject({ driver: 'probelab-master', dma });
      expect(dev(c.real, 'lab-iommu')).toMatchObject({ driver: 'probelab-iommu' });
    },
    1_800_000,
  );

  it('6.12, fw_devlink=permissive, supplier never loaded: genpd fails the power-domain master at the timeout (-110), the clock master defers on', async () => {
    const c = await check('relaxed-links-timeout-6.12');
    expect(c.agree).toBe(true);
    expect(dev(c.real, 'dma-master-pd')).toBeUndefined();
    expect(dev(c.real, 'dma-master-clk')).toMatchObject({ driver: null, deferred: true });
    expect(readFileSync(join(out, 'lab-relaxed-links-timeout-612', 'console.log'), 'utf8')).toMatch(
      /dma-master-pd: probe with driver probelab-master failed with error -110/,
    );
  }, 1_800_000);

  it('6.12: a master failing after DMA setup keeps its group and pins arm_smmu_v3', async () => {
    const c = await check('probe-error-master-6.12');
    expect(c.agree).toBe(true);
    expect(dev(c.real, 'dma-master-failing')).toBeUndefined();
    expect(dev(c.real, 'dma-master-plain')).toMatchObject({ driver: 'probelab-master', iommuGroup: 1 });
    expect(c.real.events.filter((e) => e.kind.startsWith('module-unload')).map((e) => `${e.kind}:${e.module}`)).toEqual(
      ['module-unload-refused:arm_smmu_v3'],
    );
  }, 1_800_000);

  it('6.1: rmmod of the IOMMU module is still refused after its masters were unbound', async () => {
    const c = await check('rmmod-unbound-6.1');
    expect(c.agree).toBe(true);
    expect(c.real.events.filter((e) => e.kind.startsWith('module-unload')).map((e) => `${e.kind}:${e.module}`)).toEqual(
      ['module-unloaded:probelab_master', 'module-unload-refused:probelab_iommu'],
    );
  }, 1_800_000);

  it('6.12: 48 masters released at once by the SMMUv3, each in its own group', async () => {
    const c = await check('many-masters-6.12');
    expect(c.agree).toBe(true);
    const masters = c.real.devices.filter((d) => d.id.startsWith('dma-master-'));
    expect(masters).toHaveLength(48);
    expect(new Set(masters.map((m) => m.iommuGroup)).size).toBe(48);
    expect(masters.every((m) => m.driver === 'probelab-master' && m.iommuGroup !== null)).toBe(true);
  }, 1_800_000);

  it('6.1: a fw_devlink cycle between two suppliers is relaxed and both bind', async () => {
    const c = await check('cycle-6.1');
    expect(c.agree).toBe(true);
    for (const s of ['lab-clock-a', 'lab-clock-b'])
      expect(dev(c.real, s)).toMatchObject({ driver: 'probelab-supplier', deferred: false });
    expect(readFileSync(join(out, 'lab-cycle-61', 'console.log'), 'utf8')).toMatch(
      /\/lab-clock-a: Fixed dependency cycle\(s\) with \/lab-clock-b/,
    );
  }, 1_800_000);

  it.each([
    ['iommus-mandatory', ['boards/lab/smmu-late-clock-6.12.yaml']],
    ['deferred-probe-timeout-30', ['boards/lab/smmu-late-clock-6.12.yaml', 'boards/lab/smmu-late-6.12.yaml']],
  ])(
    'validate --patch %s: changes the real outcome of the late-SMMU lab boards to translated, as predicted',
    async (patch, changed) => {
      const r = await runCli(
        ['validate', '--patch', `qemu/patches/${patch}.patch`, '--matrix', 'boards/lab/validate.yaml', '--json'],
        { PROBELAB_OUT: join(out, `validate-${patch}`) },
      );
      expect(r.code, r.stderr).toBe(1);
      type Side = { simAgrees: boolean; real: { devices: Dev[] } };
      const v = JSON.parse(r.stdout) as {
        changed: string[];
        rows: Array<{
          scenario: string;
          baseline: Side;
          patched: Side;
          predictedChange: { agree: boolean };
          realChange: { agree: boolean };
        }>;
      };
      expect(v.changed.sort()).toEqual([...changed].sort());
      for (const row of v.rows) {
        expect([row.scenario, row.baseline.simAgrees, row.patched.simAgrees]).toEqual([row.scenario, true, true]);
        expect([row.scenario, row.predictedChange.agree]).toEqual([row.scenario, row.realChange.agree]);
        if (!changed.includes(row.scenario)) continue;
        expect(dev(row.baseline.real, 'dma-master-0')).toMatchObject({ iommuGroup: null, ignoredDependency: true });
        expect(dev(row.patched.real, 'dma-master-0')!.iommuGroup).not.toBeNull();
      }
    },
    3_600_000,
  );

  it("a --json result over 64 KiB arrives whole on a non-blocking pipe (npx), the 48-master board's check", async () => {
    const { execFileSync } = await import('node:child_process');
    const r = execFileSync(
      'python3',
      [
        join('packages', 'probelab', 'test', 'fixtures', 'nonblocking-stdout.py'),
        process.execPath,
        join('packages', 'probelab', 'bin', 'probelab.js'),
        'check',
        'boards/lab/many-masters-6.12.yaml',
        '--json',
      ],
      { cwd: root, env: { ...process.env, PROBELAB_OUT: out, DELAY: '3' }, encoding: 'utf8', maxBuffer: 1 << 24 },
    );
    const nl = r.indexOf('\n');
    expect(r.slice(0, nl)).toBe('0');
    expect(r.length - nl).toBeGreaterThan(65_536);
    expect((JSON.parse(r.slice(nl + 1)) as Check).agree).toBe(true);
  }, 1_800_000);

  it.each([
    ['exynos5433-tm2e/sysmmu-module-10s-iommus-optional', 'decon-13800000', 'bypassed'],
    ['rcar-salvator-xs/ipmmu-builtin', 'mmc-ee100000', 'translated'],
  ])(
    "board transplant %s: the lab board tells the board's story on a real kernel",
    async (board, master, dma) => {
      const yaml = join(out, 'transplant', `${board.replace('/', '-')}.yaml`);
      const t = await runCli(['board', 'transplant', `boards/${board}.yaml`, '-o', yaml], { PROBELAB_OUT: out });
      expect(t.code, t.stderr).toBe(0);
      expect(t.stdout).toMatch(/(\d+) of \1 masters end the same on the lab board/);
      const r = await runCli(['check', yaml, '--json'], { PROBELAB_OUT: out });
      expect(r.code, r.stderr).toBe(0);
      const c = JSON.parse(r.stdout) as Check;
      expect(c.agree).toBe(true);
      expect(dev(c.real, master)).toMatchObject({ driver: 'probelab-master', dma });
    },
    1_800_000,
  );

  it('a bad fragment is one line naming its file:line, and leaves no result', async () => {
    const r = await runCli(['predict', 'packages/probelab/test/fixtures/bad-overlay.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    // dtc's syntax error is at the token after the missing semicolon.
    expect(r.stderr).toMatch(
      /^probelab: \/\S+\/packages\/probelab\/test\/fixtures\/bad-overlay\.dtsi:5:2: syntax error$/m,
    );
    expect(existsSync(join('out', 'lab-bad-overlay'))).toBe(false);
  });
});
