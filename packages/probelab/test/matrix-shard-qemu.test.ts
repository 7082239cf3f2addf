// The smoke matrix run whole, and as 2 shards merged: cell by cell the same (statuses, the
// predictions byte for byte, real devices and event sequences identical: the outcome contract
// check uses); the merged
// report and JUnit cover every cell; shards that do not fit together are refused.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { diffOutcomes, expandMatrix, loadMatrixFile } from '@probelab/sim-core';
import { shardOf } from '../dist/matrix/shard.js';
import { root, runCli } from './cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'probelab-shard-'));
const rows = (f: string) =>
  readFileSync(f, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

describe('matrix shards', () => {
  it('a cell keeps its shard when the matrix grows (by id, not position)', () => {
    const ids = expandMatrix(loadMatrixFile(join(root, 'ci', 'nightly.yaml'))).map((c) => c.id);
    const before = new Map(ids.map((id) => [id, shardOf(id, 4)]));
    const grown = ['extra-cell-a', ...ids, 'extra-cell-b'];
    for (const id of grown) if (before.has(id)) expect(shardOf(id, 4)).toBe(before.get(id));
    expect(new Set(ids.map((id) => shardOf(id, 4)))).toEqual(new Set([1, 2, 3, 4]));
  });

  it('smoke as 2 shards, merged, equals the unsharded run cell by cell', async () => {
    const run = (args: string[]) => runCli(['matrix', 'ci/smoke.yaml', ...args]);
    const [full, s1, s2] = [join(tmp, 'full'), join(tmp, 's1'), join(tmp, 's2')];
    expect((await run(['--out', full])).code).toBe(0);
    expect((await run(['--shard', '1/2', '--out', s1])).code).toBe(0);
    expect((await run(['--shard', '2/2', '--out', s2])).code).toBe(0);
    const merged = join(tmp, 'merged');
    const m = await runCli(['matrix', 'merge', s1, s2, '--out', merged]);
    expect(m.code).toBe(0);
    expect(m.stdout).toMatch(/^smoke: 4 cells, 4 agree, 0 differ, 0 failed/);
    // An unsharded results.jsonl is in the order cells finished; the merged one in the matrix's.
    const a = rows(join(full, 'results.jsonl'));
    const b = rows(join(merged, 'results.jsonl'));
    expect(b.map((r) => r.id)).toEqual(expandMatrix(loadMatrixFile(join(root, 'ci', 'smoke.yaml'))).map((c) => c.id));
    expect([...b.map((r) => r.id)].sort()).toEqual([...a.map((r) => r.id)].sort());
    for (const x of a) {
      const y = b.find((r) => r.id === x.id)!;
      expect(y.status).toBe(x.status);
      expect(y.predicted).toEqual(x.predicted);
      expect(y.hazards).toEqual(x.hazards);
      expect(y.real.devices).toEqual(x.real.devices);
      expect(y.real.events.map((e: { kind: string; device: string | null }) => `${e.kind} ${e.device}`)).toEqual(
        x.real.events.map((e: { kind: string; device: string | null }) => `${e.kind} ${e.device}`),
      );
      // Times are not part of an outcome (check compares devices and event sequences): two boots
      // of a cell on a loaded host differ by up to tens of milliseconds.
      expect(diffOutcomes(x.real, y.real).agree).toBe(true);
      expect(existsSync(join(merged, y.consoleLog))).toBe(true);
    }
    const junit = readFileSync(join(merged, 'junit.xml'), 'utf8');
    for (const r of a) expect(junit).toContain(r.id);
    expect(readFileSync(join(merged, 'report.html'), 'utf8')).toContain(a[0].id);

    // Shards that do not fit together: one missing, one twice, one of another matrix.
    let r = await runCli(['matrix', 'merge', s1, '--out', join(tmp, 'm-missing')]);
    expect(r.stderr.trim()).toBe('probelab: (command line): shard 2/2 is missing');
    r = await runCli(['matrix', 'merge', s1, s1, s2, '--out', join(tmp, 'm-twice')]);
    expect(r.stderr.trim()).toBe(`probelab: (command line): shard 1/2 is given twice (${s1}, ${s1})`);
    const shardJson = JSON.parse(readFileSync(join(s2, 'shard.json'), 'utf8'));
    writeFileSync(join(s2, 'shard.json'), JSON.stringify({ ...shardJson, digest: '0000000000000000' }));
    r = await runCli(['matrix', 'merge', s1, s2, '--out', join(tmp, 'm-other')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/shard\.json: shard of another matrix \(smoke 0000000000000000, not smoke [0-9a-f]{16}\)/);
  }, 600_000);
});
