// The committed kernel profile must be what the kernel itself says: rediscover it with real
// boots and compare. Structure must match exactly; boot timing within 0.1 s: under icount a
// boot on an idle host repeats to within tens of microseconds, but with the host loaded (tests
// run in parallel) kthreads racing the init thread (crypto self-tests, bpf init) were measured
// to move the late initcall by up to 43 ms.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { discover, discoveredPath, type DiscoveredProfile } from '@probelab/harness';

describe('kernel discovery', () => {
  it('debian-6.12: the committed qemu/kernels/debian-6.12.json is reproduced by discovery boots', async () => {
    const fresh = await discover('debian-6.12');
    const committed = JSON.parse(readFileSync(discoveredPath('debian-6.12'), 'utf8')) as DiscoveredProfile;
    expect(fresh.packageSha256).toBe(committed.packageSha256);
    expect(fresh.drivers).toEqual(committed.drivers);
    expect(fresh.builtinMatches).toEqual(committed.builtinMatches);
    expect(fresh.ofDeclared).toEqual(committed.ofDeclared);
    for (const [kind, t] of Object.entries(committed.timing)) {
      const f = fresh.timing[kind as keyof typeof fresh.timing]!;
      expect(f.builtinRegistrations.map((r) => r.driver)).toEqual(t.builtinRegistrations.map((r) => r.driver));
      expect(Math.abs(f.lateInitcall - t.lateInitcall)).toBeLessThan(0.1);
      expect(Math.abs(f.initStart - t.initStart)).toBeLessThan(0.1);
    }
    // What the simulator needs most: the IOMMU and PCI drivers, built in or modular as the package says.
    const drv = (n: string) => fresh.drivers.find((d) => d.name === n);
    expect(drv('arm-smmu-v3')).toMatchObject({ bus: 'platform', builtin: true });
    expect(drv('virtio_iommu')).toMatchObject({ bus: 'virtio', module: 'virtio_iommu', builtin: false });
    expect(drv('virtio-pci')).toMatchObject({ bus: 'pci', builtin: true });
  }, 400_000);
});
