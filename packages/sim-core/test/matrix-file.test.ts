// Matrix files: expansion to cells with stable ids, and errors that name the field.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expandMatrix, parseMatrixFile } from '@probelab/sim-core';

const dir = mkdtempSync(join(tmpdir(), 'matrix-'));
writeFileSync(
  join(dir, 'base.yaml'),
  'name: base\nkernel: debian-6.12\nmachine: { iommu: virtio-iommu, devices: [virtio-blk-pci] }\ncmdline: "deferred_probe_timeout=5 quiet"\nmodules:\n  - { name: virtio_blk, at: 0 }\n  - { name: virtio-iommu, at: 12 }\ncapture: 40\n',
);
const file = join(dir, 'm.yaml');
const parse = (text: string) => parseMatrixFile(text, file);
/** The message the CLI prints (InputError.toString: file:line:column: ...). */
const err = (text: string): string => {
  try {
    parse(text);
  } catch (e) {
    return String(e);
  }
  return 'no error';
};

describe('matrix files', () => {
  it('variants x axes, the load module moved, the timeout replaced, ids stable', () => {
    const m = parse(
      `name: t\nbase: base.yaml\nvariants:\n  - { name: a, load: virtio-iommu }\n  - { name: b, kernel: source-6.12, iommu: smmuv3, load: arm_smmu_v3 }\naxes:\n  timeout: [-1, 0, 10]\n  loadAt: [1, 20]\n  fwDevlink: [on, permissive]\n`,
    );
    const cells = expandMatrix(m);
    expect(cells).toHaveLength(2 * 3 * 2 * 2);
    const c = cells.find((x) => x.id === 'b_t10_load20_fw-permissive')!;
    expect(c.scenario.kernel).toBe('source-6.12');
    expect(c.scenario.machine.iommu).toBe('smmuv3');
    expect(c.scenario.cmdline).toBe('quiet deferred_probe_timeout=10 fw_devlink=permissive');
    expect(c.scenario.modules).toEqual([
      { name: 'virtio_blk', at: 0 },
      { name: 'virtio-iommu', at: 12 },
      { name: 'arm_smmu_v3', at: 20 },
    ]);
    const a = cells.find((x) => x.id === 'a_t-1_load1_fw-on')!;
    expect(a.scenario.modules).toEqual([
      { name: 'virtio_blk', at: 0 },
      { name: 'virtio-iommu', at: 1 },
    ]);
    expect(new Set(cells.map((x) => x.id)).size).toBe(cells.length);
  });

  it('errors name the field, line and column', () => {
    expect(
      err('name: t\nbase: base.yaml\nvariants:\n  - { name: a, load: x }\naxes:\n  timeout: [5]\n  loadAt: [50]\n'),
    ).toMatch(/m\.yaml:7:\d+: field `axes\.loadAt\[0\]`: expected seconds >= 0 and before capture \(40 s\)/);
    expect(
      err(
        'name: t\nbase: base.yaml\nvariants:\n  - { name: a, load: x }\n  - { name: a, load: y }\naxes:\n  timeout: [5]\n  loadAt: [1]\n',
      ),
    ).toMatch(/variants\[1\]\.name`: expected a unique name/);
    expect(
      err(
        'name: t\nbase: base.yaml\nvariants:\n  - { name: a, load: x, iommu: intel }\naxes:\n  timeout: [5]\n  loadAt: [1]\n',
      ),
    ).toMatch(/variants\[0\]\.iommu`: expected one of none \| smmuv3 \| virtio-iommu/);
    expect(
      err(
        'name: t\nbase: base.yaml\nvariants:\n  - { name: a, load: x }\naxes:\n  timeout: [5]\n  loadAt: [1]\n  speed: [1]\n',
      ),
    ).toMatch(/axes\.speed`: expected one of timeout, loadAt, fwDevlink, devices \(unknown field\)/);
    expect(err('name: t\nbase: missing.yaml\nvariants: []\naxes: {}\n')).toMatch(/missing\.yaml.*cannot read scenario/);
  });
});
