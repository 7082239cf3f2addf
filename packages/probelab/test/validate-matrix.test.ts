// `validate --matrix` takes the matrix files `probelab matrix` takes (issue 10): ci/nightly.yaml
// is read, its cells on Debian's packaged kernels are set aside with a message, the rest run;
// a matrix with no cell on a source kernel is refused in one line.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bin, root, runCli } from './cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'probelab-validate-'));

describe('validate --matrix', () => {
  it('ci/nightly.yaml is accepted: the Debian cells are set aside, the source-kernel ones start', async () => {
    const child = spawn(
      process.execPath,
      [bin, 'validate', '--patch', 'qemu/patches/deferred-probe-timeout-30.patch', '--matrix', 'ci/nightly.yaml'],
      { cwd: root, env: { ...process.env, PROBELAB_OUT: join(tmp, 'nightly') }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (b) => {
      stderr += b;
      // Stop it once it has read the matrix and begun: booting 60 cells twice is the nightly's job.
      if (/validating the other/.test(stderr)) child.kill('SIGTERM');
    });
    await new Promise((r) => child.on('close', r));
    expect(stderr).toMatch(
      /^validate: 60 of the 120 cells of ci\/nightly\.yaml are on Debian's packaged kernels, which a patch cannot change: validating the other 60$/m,
    );
    expect(stderr).not.toMatch(/field `scenarios`/);
  }, 120_000);

  it('a matrix with no cell on a source kernel: one line, exit 2', async () => {
    const f = join(tmp, 'debian-only.yaml');
    writeFileSync(
      f,
      `name: d\nbase: ${join(root, 'boards/qemu-virt/virtio-iommu-late.yaml')}\nvariants:\n  - { name: v, kernel: debian-6.12, iommu: virtio-iommu, load: virtio-iommu }\naxes:\n  timeout: [5]\n  loadAt: [2]\ncapture: 12\n`,
    );
    const r = await runCli(['validate', '--patch', 'qemu/patches/deferred-probe-timeout-30.patch', '--matrix', f]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      `probelab: ${f}: no cell of this matrix is on a kernel built from source (kernel: source-6.12 or source-6.1): a patch cannot apply to Debian's packaged kernels`,
    );
  }, 120_000);
});
