// `probelab check` with real QEMU boots of Debian's kernels: the simulator must agree with the
// real kernel, and the real kernel must show what each scenario is about.
import { describe, expect, it } from 'vitest';
import { runCli } from './cli.js';

interface Check {
  agree: boolean;
  real: {
    devices: Array<{
      id: string;
      driver: string | null;
      iommuGroup: number | null;
      ignoredDependency: boolean;
      deferred: boolean;
    }>;
    events: Array<{ kind: string; t: number }>;
  };
  diff: { devices: unknown[]; sequences: unknown[] };
}

async function check(scenario: string): Promise<Check> {
  const r = await runCli(['check', `boards/qemu-virt/${scenario}.yaml`, '--json'], {
    PROBELAB_OUT: '/tmp/probelab-test-out',
  });
  if (r.code !== 0) throw new Error(`check ${scenario} exited ${r.code}\n${r.stderr}\n${r.stdout.slice(0, 4000)}`);
  return JSON.parse(r.stdout) as Check;
}
const dev = (c: Check, id: string) => c.real.devices.find((d) => d.id === id)!;

describe('probelab check against real boots', () => {
  it('debian-6.12, virtio-iommu loaded after the 5 s timeout: masters give up and stay bypassed', async () => {
    const c = await check('virtio-iommu-late');
    expect(c.agree).toBe(true);
    expect(dev(c, '0000:00:02.0')).toMatchObject({ driver: 'virtio-pci', iommuGroup: null, ignoredDependency: true });
    const fired = c.real.events.find((e) => e.kind === 'timeout-fired')!;
    expect(fired.t).toBeGreaterThan(5.5);
    expect(fired.t).toBeLessThan(7);
  }, 180_000);

  it('debian-6.12, virtio-iommu loaded before the timeout: masters translated', async () => {
    const c = await check('virtio-iommu-early');
    expect(c.agree).toBe(true);
    expect(dev(c, '0000:00:02.0')).toMatchObject({ driver: 'virtio-pci', iommuGroup: 0, ignoredDependency: false });
    expect(dev(c, '0000:00:03.0')).toMatchObject({ iommuGroup: 1 });
  }, 180_000);

  it('debian-6.12, timeout -1 and the IOMMU never loaded: deferred forever', async () => {
    const c = await check('virtio-iommu-never-loaded');
    expect(c.agree).toBe(true);
    expect(dev(c, '0000:00:02.0')).toMatchObject({ driver: null, deferred: true });
  }, 180_000);

  it('debian-6.1, SMMUv3 built in, virtio_pci a module: translated on load', async () => {
    const c = await check('smmuv3-6.1');
    expect(c.agree).toBe(true);
    expect(dev(c, '0000:00:01.0')).toMatchObject({ driver: 'virtio-pci', iommuGroup: 0 });
  }, 180_000);
});
