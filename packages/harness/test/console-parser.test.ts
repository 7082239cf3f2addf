// The console parser against real console logs kept from real boots (fixtures/), and against
// the broken consoles a boot can leave: truncated, panicked.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { outcomeFromConsole, parseConsole } from '@probelab/harness';
import { collapseKinds } from '@probelab/sim-core';

const fixture = (f: string): string =>
  gunzipSync(readFileSync(join(import.meta.dirname, 'fixtures', f))).toString('utf8');

describe('debian 6.12, virtio-iommu loaded after a 5 s timeout (real boot)', () => {
  const text = fixture('debian-6.12-virtio-iommu-late.console.log.gz');
  const p = parseConsole(text);
  const o = outcomeFromConsole(p, ['virtio_blk', 'virtio-rng', 'virtio-iommu']);
  const dev = (id: string) => o.devices.find((d) => d.id === id)!;

  it('reads every phase to the end', () => {
    expect(p.complete).toBe(true);
    expect(p.panic).toBeNull();
    expect(p.dmesg.length).toBeGreaterThan(2000);
    expect(p.modules.sort()).toEqual(['virtio_blk', 'virtio_iommu', 'virtio_rng']);
  });

  it('turns sysfs state into devices: the masters bound without translation', () => {
    expect(dev('0000:00:02.0')).toMatchObject({
      driver: 'virtio-pci',
      iommuGroup: null,
      ignoredDependency: true,
      deferred: false,
    });
    expect(dev('0000:00:03.0')).toMatchObject({ driver: 'virtio-pci', iommuGroup: null, ignoredDependency: true });
    expect(dev('0000:00:00.0')).toMatchObject({ driver: null, iommuGroup: null });
    expect(dev('virtio0')).toMatchObject({ driver: 'virtio_iommu' });
    expect(dev('4010000000.pcie')).toMatchObject({ bus: 'platform', driver: 'pci-host-generic' });
    // devices not created from the device tree are left out
    expect(o.devices.find((d) => d.id === 'reg-dummy')).toBeUndefined();
  });

  it('finds the timeline: late initcall, timer (from the workqueue trace), give-up, binds', () => {
    const kinds = (k: string) => o.events.filter((e) => e.kind === k);
    expect(kinds('late-initcall')).toHaveLength(1);
    expect(kinds('timeout-fired')).toHaveLength(1);
    expect(kinds('timeout-fired')[0]!.t).toBeCloseTo(6.113, 2);
    expect(kinds('module-loaded').map((e) => e.module)).toEqual(['virtio_blk', 'virtio_rng', 'virtio_iommu']);
    expect(collapseKinds(o.events, '0000:00:02.0')).toEqual([
      'probe-deferred',
      'ignored-dependency',
      'bound:virtio-pci',
    ]);
    expect(collapseKinds(o.events, '0000:00:01.0')).toEqual(['iommu-map-miss', 'bound:virtio-pci']);
  });

  it('a truncated console is a state, not a crash', () => {
    const cut = parseConsole(text.slice(0, Math.floor(text.length / 2)));
    expect(cut.complete).toBe(false);
    expect(cut.phase).toBe('dmesg'); // cut inside the ring-buffer dump
    expect(cut.devices.length).toBe(p.devices.length); // the state block before it was read whole
    const early = parseConsole(text.slice(0, 2000));
    expect(early).toMatchObject({ phase: 'kernel', complete: false, devices: [] });
  });

  it('a panic is found in the kernel phase', () => {
    const p2 = parseConsole(
      '[    1.0] Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)\n',
    );
    expect(p2.panic).toMatch(/Unable to mount root fs/);
    expect(p2.complete).toBe(false);
  });
});

describe('debian 6.1, SMMUv3 built in (real boot)', () => {
  const p = parseConsole(fixture('debian-6.1-smmuv3.console.log.gz'));
  const o = outcomeFromConsole(p, ['virtio_pci', 'virtio_blk', 'virtio-rng']);
  it('reads the 6.1 pr_debug bind format and the groups', () => {
    expect(o.devices.find((d) => d.id === '0000:00:01.0')).toMatchObject({ driver: 'virtio-pci', iommuGroup: 0 });
    expect(o.devices.find((d) => d.id === '0000:00:02.0')).toMatchObject({ driver: 'virtio-pci', iommuGroup: 1 });
    expect(o.devices.find((d) => d.id === '9050000.smmuv3')).toMatchObject({ driver: 'arm-smmu-v3' });
    expect(collapseKinds(o.events, '0000:00:01.0')).toEqual(['iommu-group:0', 'bound:virtio-pci']);
  });
});

describe('source 6.12, rmmod arm_smmu_v3 from the guest init (real boots)', () => {
  it('refused while the masters are attached: module-unload-refused, groups kept', () => {
    const p = parseConsole(fixture('source-6.12-smmuv3-unload-refused.console.log.gz'));
    const o = outcomeFromConsole(p, ['virtio_blk', 'virtio-rng', 'arm_smmu_v3']);
    expect(o.events.filter((e) => e.kind.startsWith('module-unload'))).toEqual([
      { t: 8.014, kind: 'module-unload-refused', device: null, module: 'arm_smmu_v3' },
    ]);
    expect(o.devices.find((d) => d.id === '0000:00:01.0')?.iommuGroup).toBe(0);
    expect(p.modules).toContain('arm_smmu_v3');
  });
  it('accepted when no master holds it: module-unloaded, the SMMU without a driver', () => {
    const p = parseConsole(fixture('source-6.12-smmuv3-unload-ok.console.log.gz'));
    const o = outcomeFromConsole(p, ['virtio_blk', 'virtio-rng', 'arm_smmu_v3']);
    expect(o.events.filter((e) => e.kind.startsWith('module-unload'))).toEqual([
      { t: 16.021028, kind: 'module-unloaded', device: null, module: 'arm_smmu_v3' },
    ]);
    expect(p.modules).not.toContain('arm_smmu_v3');
    expect(p.devices.find((d) => d.id === '9050000.smmuv3')?.driver).toBeNull();
  });
});
