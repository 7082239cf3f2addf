// A restored boot's console (harness snapshot.ts:splicedConsole): the prefix's console, then the
// restored run's, whose ring buffer dump of the records after "ready" gets the prefix's records
// in front, so that the log reads as a cold boot's.
import { describe, expect, it } from 'vitest';
import { splicedConsole } from '../src/snapshot.js';

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
