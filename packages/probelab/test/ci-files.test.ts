// The nightly definition: the matrix spans what the nightly must cover, the workflow GitHub
// reads is the one in ci/, and it runs calibrate, the matrix against the previous night, and
// uploads the report.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { expandMatrix, loadMatrixFile } from '@probelab/sim-core';
import { root } from './cli.js';

describe('ci/', () => {
  it('nightly.yaml: >= 6 timeouts with -1 and 0, >= 5 load times, both IOMMU kinds, three kernels', () => {
    const m = loadMatrixFile(join(root, 'ci', 'nightly.yaml'));
    expect(m.axes.timeout.length).toBeGreaterThanOrEqual(6);
    expect(m.axes.timeout).toEqual(expect.arrayContaining([-1, 0]));
    expect(m.axes.loadAt.length).toBeGreaterThanOrEqual(5);
    const cells = expandMatrix(m);
    expect(new Set(cells.map((c) => c.scenario.machine.iommu))).toEqual(new Set(['virtio-iommu', 'smmuv3']));
    expect(new Set(cells.map((c) => c.scenario.kernel))).toEqual(new Set(['debian-6.12', 'source-6.12', 'debian-6.1']));
    expect(expandMatrix(loadMatrixFile(join(root, 'ci', 'calibration.yaml'))).length).toBeGreaterThan(0);
  });

  it('the GitHub workflow is ci/nightly-workflow.yml and does the nightly job', () => {
    const text = readFileSync(join(root, 'ci', 'nightly-workflow.yml'), 'utf8');
    expect(readFileSync(join(root, '.github', 'workflows', 'nightly.yml'), 'utf8')).toBe(text);
    const wf = parse(text) as { on: Record<string, unknown>; jobs: Record<string, { container: string; steps: Array<{ run?: string; uses?: string; with?: Record<string, string> }> }> };
    expect(Object.keys(wf.on)).toEqual(expect.arrayContaining(['schedule', 'workflow_dispatch']));
    const job = wf.jobs.matrix!;
    expect(job.container).toBe('debian:12');
    const runs = job.steps.map((s) => s.run ?? '').join('\n');
    expect(runs).toMatch(/bash scripts\/setup\.sh/);
    expect(runs).toMatch(/probelab calibrate ci\/calibration\.yaml/);
    expect(runs).toMatch(/probelab matrix ci\/nightly\.yaml --out out\/nightly \$baseline/);
    expect(runs).toMatch(/--baseline previous\/results\.jsonl/);
    const upload = job.steps.find((s) => s.uses?.startsWith('actions/upload-artifact'))!;
    expect(upload.with!.path).toMatch(/report\.html[\s\S]*junit\.xml/);
    expect(job.steps.some((s) => s.uses?.startsWith('mikepenz/action-junit-report'))).toBe(true);
  });
});
