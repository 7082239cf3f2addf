// Kernels built from Debian's linux-source-6.12 with SMMUv3 as a module (cached after the first
// build), booted for real: the seed-000 case on SMMUv3, and a patch validated against it.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildKernel, listModules, HarnessError, sourceProfile } from '@probelab/harness';
import { root, runCli } from './cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'src-kernel-'));

describe('probelab kernel build', () => {
  it('builds (or finds cached) the virt kernel with SMMUv3 and virtio-iommu as modules', async () => {
    const b = await buildKernel({ source: '6.12' });
    const config = readFileSync(b.configFile, 'utf8');
    expect(config).toMatch(/^CONFIG_ARM_SMMU_V3=m$/m);
    expect(config).toMatch(/^CONFIG_VIRTIO_IOMMU=m$/m);
    const mods = listModules(b).map((m) => m.split('/').pop());
    expect(mods).toEqual(
      expect.arrayContaining(['arm_smmu_v3.ko', 'virtio-iommu.ko', 'virtio_blk.ko', 'virtio-rng.ko']),
    );
    expect(readFileSync(b.systemMap, 'utf8')).toMatch(/ deferred_probe_initcall$/m);
  }, 3_600_000);

  it('fails loudly when Kconfig drops a requested option', async () => {
    const frag = join(tmp, 'bad.config');
    writeFileSync(
      frag,
      readFileSync(join(root, 'qemu/configs/virt-minimal.config'), 'utf8').replace('CONFIG_BLK_DEV=y\n', ''),
    );
    await expect(buildKernel({ source: '6.12', fragment: frag })).rejects.toThrow(
      /Kconfig dropped 1 option\(s\) of bad\.config: CONFIG_VIRTIO_BLK=m \(got: absent\)/,
    );
  }, 600_000);

  it('a build that fails keeps its log and names the first error', async () => {
    const p = join(tmp, 'break-dd.patch');
    const dd = readFileSync(join((await buildKernel({ source: '6.12' })).tree, 'drivers/base/dd.c'), 'utf8').split(
      '\n',
    );
    writeFileSync(
      p,
      `--- a/drivers/base/dd.c\n+++ b/drivers/base/dd.c\n@@ -1,3 +1,4 @@\n+#error probelab-broke-this\n ${dd[0]}\n ${dd[1]}\n ${dd[2]}\n`,
    );
    const e = await buildKernel({ source: '6.12', patches: [p] }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(HarnessError);
    const msg = String((e as Error).message);
    expect(msg).toMatch(
      /^kernel build failed: .*drivers\/base\/dd\.c:1:2: error: #error probelab-broke-this; build log kept in (\S+build\.log)$/,
    );
    expect(readFileSync(/build log kept in (\S+)$/.exec(msg)![1]!, 'utf8')).toMatch(/probelab-broke-this/);
  }, 3_600_000);

  it('names the patch and hunk that do not apply', async () => {
    const p = join(tmp, 'stale.patch');
    writeFileSync(
      p,
      '--- a/drivers/base/dd.c\n+++ b/drivers/base/dd.c\n@@ -1,3 +1,3 @@\n-this line is not there\n+nor is this\n context\n context\n',
    );
    const e = await buildKernel({ source: '6.12', patches: [p] }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(HarnessError);
    expect(String((e as Error).message)).toMatch(/patch .*stale\.patch does not apply to .*: .*FAILED/);
  }, 600_000);
});

interface Check {
  agree: boolean;
  real: {
    devices: Array<{ id: string; driver: string | null; iommuGroup: number | null; ignoredDependency: boolean }>;
    events: Array<{ kind: string; device: string | null; t: number }>;
  };
}
const check = async (name: string): Promise<Check> => {
  const r = await runCli(['check', `boards/qemu-virt/${name}.yaml`, '--json'], { PROBELAB_OUT: join(tmp, 'out') });
  if (r.code !== 0) throw new Error(`check ${name}: exit ${r.code}\n${r.stderr}\n${r.stdout.slice(0, 3000)}`);
  return JSON.parse(r.stdout) as Check;
};

describe('a kernel profile read from source matches the build of the same source and config', () => {
  // Board profiles are read without building; here the same inputs are also built, and the
  // profile is checked against the build's own artefacts: .config, modules.alias, System.map.
  it("same .config, the same OF module aliases, built-in drivers in System.map's initcall order", async () => {
    const b = await buildKernel({ source: '6.12' });
    const p = await sourceProfile({
      source: '6.12',
      base: 'allnoconfig',
      fragment: join(root, 'qemu', 'configs', 'virt-minimal.config'),
    });
    const strip = (t: string) =>
      t
        .split('\n')
        .filter((l) => l.startsWith('CONFIG_') || / is not set$/.test(l))
        .join('\n');
    expect(strip(readFileSync(p.configFile, 'utf8'))).toBe(strip(readFileSync(b.configFile, 'utf8')));
    const aliasFile = readFileSync(join(b.modulesRoot, b.release, 'modules.alias'), 'utf8');
    const built = aliasFile
      .split('\n')
      .filter((l) => l.startsWith('alias of:'))
      .map((l) => l.slice(6))
      .sort();
    expect(built.length).toBeGreaterThan(0);
    expect(p.moduleAliases.map((a) => `${a.pattern} ${a.module}`).sort()).toEqual(built);
    // __initcall__kmod_<modname>__<id>_<line>_<fn><level>, in link order within each level.
    const calls = readFileSync(b.systemMap, 'utf8')
      .split('\n')
      .map((l) => /__initcall__kmod_(\w+?)__\d+_\d+_\w+?(early|rootfs|con|\d)(s?)$/.exec(l))
      .filter((m) => m !== null);
    const builtin = p.drivers.filter((d) => d.builtin && calls.some((m) => m![1] === d.module));
    expect(builtin.map((d) => d.name)).toEqual(expect.arrayContaining(['pci-host-generic']));
    const mapOrder = (d: (typeof builtin)[number]) => calls.findIndex((m) => m![1] === d.module);
    const ours = [...builtin]
      .sort((a, b2) => a.level! - b2.level! || a.linkOrder! - b2.linkOrder!)
      .map((d) => d.module);
    const theirs = [...builtin].sort((a, b2) => mapOrder(a) - mapOrder(b2)).map((d) => d.module);
    expect(ours).toEqual(theirs);
    expect(builtin.length).toBeGreaterThanOrEqual(5);
    for (const d of builtin) {
      const m = calls.find((x) => x![1] === d.module)!;
      if (/^\d$/.test(m[2]!)) expect(Math.floor(d.level!)).toBe(Number(m[2]));
    }
  }, 3_600_000);
});

describe('SMMUv3 as a module on QEMU virt,iommu=smmuv3', () => {
  it('loaded before the timeout: masters wait and are translated', async () => {
    const c = await check('smmuv3-module-early');
    expect(c.agree).toBe(true);
    expect(c.real.devices.find((d) => d.id === '0000:00:01.0')).toMatchObject({
      driver: 'virtio-pci',
      iommuGroup: 0,
      ignoredDependency: false,
    });
  }, 3_600_000);

  it('loaded after the timeout: masters bound untranslated, the SMMU comes too late', async () => {
    const c = await check('smmuv3-module-late');
    const hazards = (c as unknown as { hazards: Array<{ kind: string; device: string }> }).hazards;
    expect(
      hazards
        .filter((h) => h.kind === 'bound-before-iommu')
        .map((h) => h.device)
        .sort(),
    ).toEqual(['0000:00:01.0', '0000:00:02.0']);
    expect(c.agree).toBe(true);
    expect(c.real.devices.find((d) => d.id === '0000:00:01.0')).toMatchObject({
      driver: 'virtio-pci',
      iommuGroup: null,
      ignoredDependency: true,
    });
    expect(c.real.devices.find((d) => d.id === '9050000.smmuv3')).toMatchObject({ driver: 'arm-smmu-v3' });
    // seed 000's "nasty things": the SMMU, now on, rejects DMA from a master it never attached
    const faults = c.real.events.filter((e) => e.kind === 'iommu-fault');
    expect(faults.length).toBeGreaterThan(0);
    for (const f of faults) {
      expect(f.t).toBeGreaterThan(15);
      expect(c.real.devices.find((d) => d.id === f.device)!.iommuGroup).toBeNull();
    }
  }, 3_600_000);

  it('rmmod with masters attached is refused (module references); real and predicted agree', async () => {
    const c = await check('smmuv3-module-early-unload');
    expect(c.agree).toBe(true);
    expect(c.real.events.filter((e) => e.kind.startsWith('module-unload')).map((e) => e.kind)).toEqual([
      'module-unload-refused',
    ]);
    expect(c.real.devices.find((d) => d.id === '0000:00:02.0')?.iommuGroup).toBe(1);
  }, 3_600_000);

  it('rmmod with no master attached succeeds and the SMMU unbinds; real and predicted agree', async () => {
    const c = await check('smmuv3-module-late-unload');
    expect(c.agree).toBe(true);
    expect(c.real.events.filter((e) => e.kind.startsWith('module-unload')).map((e) => e.kind)).toEqual([
      'module-unloaded',
    ]);
    expect(c.real.devices.find((d) => d.id === '9050000.smmuv3')).toBeUndefined();
  }, 3_600_000);
});

describe('probelab validate', () => {
  it('the 30 s timeout of seed 000 changes the late-SMMU case: real and predicted agree on it', async () => {
    const matrix = join(tmp, 'matrix.yaml');
    writeFileSync(matrix, `scenarios: [${join(root, 'boards/qemu-virt/smmuv3-module-late.yaml')}]\n`);
    const r = await runCli(
      ['validate', '--patch', 'qemu/patches/deferred-probe-timeout-30.patch', '--matrix', matrix, '--json'],
      { PROBELAB_OUT: join(tmp, 'validate') },
    );
    expect(r.code).toBe(1); // changed
    const v = JSON.parse(r.stdout) as {
      changed: string[];
      rows: Array<{
        baseline: { simAgrees: boolean; real: Check['real'] };
        patched: { simAgrees: boolean; real: Check['real'] };
        predictedChange: { agree: boolean };
      }>;
    };
    const row = v.rows[0]!;
    expect(row.baseline.simAgrees).toBe(true);
    expect(row.patched.simAgrees).toBe(true);
    expect(row.predictedChange.agree).toBe(false);
    expect(row.baseline.real.devices.find((d) => d.id === '0000:00:02.0')!.iommuGroup).toBeNull();
    expect(row.patched.real.devices.find((d) => d.id === '0000:00:02.0')!.iommuGroup).not.toBeNull();
  }, 3_600_000);
});
