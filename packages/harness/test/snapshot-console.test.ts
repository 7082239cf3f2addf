// A restored boot's console (harness snapshot.ts:splicedConsole): the prefix's console, then the
// restored run's, whose ring buffer dump of the records after "ready" gets the prefix's records
// in front, so that the log reads as a cold boot's.
// And what the host hands a waiting init: the ready point, the schedule input, its times.
import { describe, expect, it } from 'vitest';
import { guestSeconds } from '../src/initramfs.js';
import { readyPoint, scheduleInput, splicedConsole } from '../src/snapshot.js';

const prefix = '[    0.000000] Booting Linux\r\n[    0.950000] probelab: ready\r\n';
const prefixDmesg = '<6>[    0.000000] Booting Linux\r\n<12>[    0.950000] probelab: ready\r\n';

describe('splicedConsole', () => {
  it("puts the prefix's records before the restored ones, once, with the console's line ends", () => {
    const restored =
      '[    0.990000] probelab: schedule received\r\n@@probelab-state-begin\r\n@@probelab-dmesg-begin after-ready\r\n<12>[    0.990000] probelab: schedule received\r\n@@probelab-dmesg-end\r\n@@probelab-state-end\r\n';
    expect(splicedConsole(prefix, prefixDmesg, restored)).toBe(
      `${prefix}[    0.990000] probelab: schedule received\r\n@@probelab-state-begin\r\n@@probelab-dmesg-begin\r\n${prefixDmesg}<12>[    0.990000] probelab: schedule received\r\n@@probelab-dmesg-end\r\n@@probelab-state-end\r\n`,
    );
  });

  it('leaves a whole ring buffer dump (no "ready" record found in the guest) as it is', () => {
    const restored = '@@probelab-dmesg-begin\n<6>[    0.000000] Booting Linux\n@@probelab-dmesg-end\n';
    expect(splicedConsole(prefix, prefixDmesg, restored)).toBe(prefix + restored);
  });

  it('splices only at a line that is the marker, not at text that mentions it', () => {
    const restored = 'x @@probelab-dmesg-begin after-ready\n@@probelab-dmesg-begin after-ready\n<12>[ 1.0] y\n';
    expect(splicedConsole(prefix, prefixDmesg, restored)).toBe(
      `${prefix}x @@probelab-dmesg-begin after-ready\n@@probelab-dmesg-begin\n${prefixDmesg}<12>[ 1.0] y\n`,
    );
  });
});

describe('the hand-over on the console (snapshot.ts readyPoint, scheduleInput; initramfs.ts guestSeconds)', () => {
  it("the ready point is the last timestamp before the init's marker, not one after it", () => {
    const console =
      '[    0.000000] Booting Linux\r\n[    1.016339] probelab: ready\r\n@@probelab-ready\r\n[    1.022081] probelab: schedule received\r\n';
    expect(readyPoint(console)).toBe(1.016339);
  });

  it('the schedule between its markers after padding; F only for a guest booted from the firmware', () => {
    const restored = scheduleInput('8 virtio-iommu virtio_iommu.ko\n', '20');
    expect(restored.startsWith('\n'.repeat(64))).toBe(true);
    expect(restored.slice(64)).toBe(
      '@@probelab-schedule-begin\nS 8 virtio-iommu virtio_iommu.ko\nC 20\n@@probelab-schedule-end\n',
    );
    expect(scheduleInput('', '20', true).slice(64)).toBe(
      '@@probelab-schedule-begin\nC 20\nF\n@@probelab-schedule-end\n',
    );
  });

  it('schedule times are plain decimals, as probelab-wait reads them', () => {
    expect([0, 1, 8, 0.5, 15.004, 1e-7, 100, 2.5e3].map(guestSeconds)).toEqual([
      '0',
      '1',
      '8',
      '0.5',
      '15.004',
      '0.0000001',
      '100',
      '2500',
    ]);
  });
});
