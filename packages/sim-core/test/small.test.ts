import { describe, expect, it } from 'vitest';
import {
  parseDriverCoreParams,
  parseScenario,
  timerFireTime,
  InputError,
  aliasMatches,
  busId,
} from '@probelab/sim-core';
import { dts } from './helpers.js';

describe('timer wheel (kernel/time/timer.c:calc_wheel_index)', () => {
  it('reproduces a real boot: 5 s timeout extended at 1.149133 s fired at 6.368 s', () => {
    expect(timerFireTime(1.149133, 5 * 250, 250)).toBeCloseTo(6.368, 3);
  });
  it('short delays land in level 0 (one jiffy late at most)', () => {
    expect(timerFireTime(1, 10, 250) - 1.04).toBeLessThanOrEqual(0.004 + 1e-9);
  });
});

describe('kernel parameters', () => {
  it('deferred_probe_timeout parses like kstrtoint and keeps the default on garbage', () => {
    expect(parseDriverCoreParams('', '6.12', true).deferredProbeTimeout).toBe(10);
    expect(parseDriverCoreParams('', '6.12', false).deferredProbeTimeout).toBe(0);
    expect(parseDriverCoreParams('deferred_probe_timeout=-1', '6.1', true).deferredProbeTimeout).toBe(-1);
    expect(parseDriverCoreParams('deferred_probe_timeout=30s', '6.1', true).deferredProbeTimeout).toBe(10);
  });
  it('fw_devlink defaults differ: on in 6.1, rpm in 6.12; unknown values are ignored', () => {
    expect(parseDriverCoreParams('', '6.1', true).fwDevlink).toBe('on');
    expect(parseDriverCoreParams('', '6.12', true).fwDevlink).toBe('rpm');
    expect(parseDriverCoreParams('fw_devlink=bogus', '6.12', true).fwDevlink).toBe('rpm');
    expect(parseDriverCoreParams('fw_devlink.strict=1', '6.12', true).fwDevlinkStrict).toBe(true);
  });
});

describe('scenario validation', () => {
  const ok = `name: a\nkernel: debian-6.12\nmachine:\n  iommu: none\n  devices: [virtio-blk-pci]\ncmdline: ""\nmodules:\n  - { name: virtio_blk, at: 0 }\ncapture: 10\n`;
  it('accepts the documented form', () => {
    expect(parseScenario(ok).modules).toEqual([{ name: 'virtio_blk', at: 0 }]);
  });
  it.each([
    [
      ok.replace('iommu: none', 'iommu: intel'),
      /s\.yaml:4:10: field `machine.iommu`: expected one of none \| smmuv3 \| virtio-iommu/,
    ],
    [ok.replace('capture: 10', 'capture: -1'), /s\.yaml:9:10: field `capture`/],
    [ok.replace('at: 0', 'at: 12'), /field `modules\[0\]\.at`: expected a time before capture/],
    [
      ok.replace('kernel: debian-6.12', 'kernel: 5.10'),
      /:2:9: field `kernel`: expected one of debian-6.12 \| debian-6.1/,
    ],
    [ok + 'extra: 1\n', /:10:1: field `extra`/],
    ['name: [unclosed\n', /s\.yaml:\d+:\d+: not valid YAML/],
  ])('names file, line:column and field: %#', (text, re) => {
    try {
      parseScenario(text, 's.yaml');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(InputError);
      expect(String(e)).toMatch(re);
    }
  });
});

describe('matching and naming', () => {
  it('modules.alias globs', () => {
    expect(aliasMatches('virtio:d00000017v*', 'virtio:d00000017v00001AF4')).toBe(true);
    expect(aliasMatches('of:N*T*Cvirtio,mmio', 'of:Nvirtio_mmioT(null)Cvirtio,mmio')).toBe(true);
    expect(aliasMatches('pci:v00001AF4d*sv*sd*bc*sc*i*', 'pci:v00001B36d00000008sv00001AF4sd00001100bc06sc00i00')).toBe(
      false,
    );
  });
  it('of_device_make_bus_id: translated reg address and node name', () => {
    const t = dts(`/ { #address-cells = <2>; #size-cells = <2>;
      bus@100000 { compatible = "simple-bus"; #address-cells = <1>; #size-cells = <1>; ranges = <0 0 0x100000 0x10000>;
        uart@200 { compatible = "x"; reg = <0x200 0x10>; }; };
      psci { compatible = "arm,psci"; }; };`);
    expect(busId(t.byPath('/bus@100000/uart@200')!)).toBe('100200.uart');
    expect(busId(t.byPath('/psci')!)).toBe('psci');
  });
});
