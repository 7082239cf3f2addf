// The guest's capture (qemu/guest/probelab-state) reads sysfs with three processes instead of a
// fork per field. Booted for real, it prints exactly the @dev and @drv lines the per-field walk
// printed for the same scenarios on the same kernels, as kept in the harness's console fixtures
// (recorded before the rewrite), driver names with spaces ("ARM-CCI PMU") included.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { root, runCli } from './cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'probelab-capture-'));
const state = (text: string): string[] =>
  text
    .split('\n')
    .map((l) => l.replace(/\r$/, ''))
    .filter((l) => /^@(dev|drv)\t/.test(l));

describe('capture', () => {
  for (const [scenario, fixture] of [
    ['virtio-iommu-late', 'debian-6.12-virtio-iommu-late'],
    ['smmuv3-6.1', 'debian-6.1-smmuv3'],
  ] as const) {
    it(`${scenario}: the same @dev/@drv lines as the per-field walk (${fixture})`, async () => {
      const r = await runCli(['boot', join(root, 'boards', 'qemu-virt', `${scenario}.yaml`)], { PROBELAB_OUT: tmp });
      expect(r.code).toBe(0);
      const now = state(readFileSync(join(tmp, scenario, 'console.log'), 'utf8'));
      const before = state(
        gunzipSync(
          readFileSync(join(root, 'packages', 'harness', 'test', 'fixtures', `${fixture}.console.log.gz`)),
        ).toString('utf8'),
      );
      expect(now.length).toBeGreaterThan(100);
      expect(now).toEqual(before);
      expect(now.some((l) => l.includes('\tARM-CCI PMU\t'))).toBe(true);
    }, 180_000);
  }
});
