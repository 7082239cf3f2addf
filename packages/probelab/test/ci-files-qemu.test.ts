// (Named -qemu: the nightly script test boots the smoke matrix.)
// The nightly definition: the matrix spans what the nightly must cover, the workflow GitHub
// reads is the one in ci/ (shards in a job matrix, then a merge job, both through the zx
// script), and the script runs the smoke matrix end to end with --local.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

  it('the GitHub workflow is ci/nightly-workflow.yml: shard jobs in a job matrix, then a merge job, all through ci/nightly.mjs', () => {
    const text = readFileSync(join(root, 'ci', 'nightly-workflow.yml'), 'utf8');
    expect(readFileSync(join(root, '.github', 'workflows', 'nightly.yml'), 'utf8')).toBe(text);
    type Step = { run?: string; uses?: string; with?: Record<string, string> };
    type Job = { container: string; needs?: string; strategy?: { matrix: { shard: number[] } }; steps: Step[] };
    const wf = parse(text) as { on: Record<string, unknown>; env: { SHARDS: number }; jobs: Record<string, Job> };
    expect(Object.keys(wf.on)).toEqual(expect.arrayContaining(['schedule', 'workflow_dispatch']));
    const shard = wf.jobs.shard!;
    const merge = wf.jobs.merge!;
    expect(shard.container).toBe('debian:12');
    expect(shard.strategy!.matrix.shard).toEqual(Array.from({ length: wf.env.SHARDS }, (_, i) => i + 1));
    const runs = (j: Job) => j.steps.map((s) => s.run ?? '').join('\n');
    expect(runs(shard)).toMatch(/bash scripts\/setup\.sh/);
    expect(runs(shard)).toMatch(/npx zx ci\/nightly\.mjs --shard \$\{\{ matrix\.shard \}\}\/\$\{\{ env\.SHARDS \}\}/);
    expect(shard.steps.find((s) => s.uses?.startsWith('actions/cache'))!.with!.key).toMatch(/matrix\.shard/);
    expect(shard.steps.find((s) => s.uses?.startsWith('actions/upload-artifact'))!.with!.path).toBe(
      'out/nightly/shards/shard-${{ matrix.shard }}',
    );
    expect(merge.needs).toBe('shard');
    expect(merge.steps.find((s) => s.uses?.startsWith('actions/download-artifact'))!.with).toMatchObject({
      pattern: 'nightly-shard-*',
      path: 'out/nightly/shards',
    });
    expect(runs(merge)).toMatch(/npx zx ci\/nightly\.mjs --merge/);
    const upload = merge.steps.find((s) => s.uses?.startsWith('actions/upload-artifact'))!;
    expect(upload.with!.path).toMatch(/report\.html[\s\S]*junit\.xml[\s\S]*summary\.md/);
    expect(merge.steps.some((s) => s.uses?.startsWith('mikepenz/action-junit-report'))).toBe(true);
    // The script does what the steps used to: calibrate, previous results as the baseline.
    const script = readFileSync(join(root, 'ci', 'nightly.mjs'), 'utf8');
    expect(script).toMatch(/calibrate ci\/calibration\.yaml/);
    expect(script).toMatch(/'--baseline', previous/);
    expect(script).toMatch(/gh run download/);
  });

  it('`npx zx ci/nightly.mjs --local` runs the smoke matrix end to end and writes the summary', async () => {
    const out = mkdtempSync(join(tmpdir(), 'probelab-nightly-'));
    const r = spawnSync('npx', ['zx', 'ci/nightly.mjs', '--local', '--out', out], { cwd: root, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(readFileSync(join(out, 'summary.md'), 'utf8')).toMatch(
      /^# probelab nightly: ci\/smoke\.yaml\n\n4 cells: 4 agree, 0 differ, 0 failed; exit 0\./,
    );
    expect(readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n')).toHaveLength(4);
  }, 300_000);
});
