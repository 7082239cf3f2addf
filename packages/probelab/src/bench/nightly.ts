/**
 * Benchmark: the nightly matrix (ci/nightly.yaml) from scratch on this machine, one QEMU per
 * core. Prints its wall time, the summed guest time of its cells, their ratio, the wall time
 * per cell, and how well the simulator matched (outcomes, timeout-driven event times).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '@probelab/harness';
import { runMatrix } from '../matrix/run.js';

async function main(): Promise<void> {
  const out = mkdtempSync(join(tmpdir(), 'probelab-nightly-'));
  const t0 = Date.now();
  const r = await runMatrix(join(repoRoot(), 'ci', 'nightly.yaml'), { out });
  const wall = (Date.now() - t0) / 1000;
  const guest = r.results.reduce((s, x) => s + x.scenario.capture, 0);
  const agree = r.results.filter((x) => x.status === 'agree').length;
  const rel = r.results.flatMap((x) => x.timing?.timeoutEvents ?? []);
  const rows: Array<[string, string]> = [
    [
      'cells',
      `${r.results.length} (${agree} agree, ${r.results.filter((x) => x.status === 'differ').length} differ, ${r.results.filter((x) => x.status === 'error').length} failed)`,
    ],
    ['wall time', `${wall.toFixed(1)} s`],
    ['summed guest time', `${guest.toFixed(0)} s`],
    [
      'ratio wall / guest',
      `${(wall / guest).toFixed(4)} (${(guest / wall).toFixed(1)}x faster than booting each cell in real time, one after another)`,
    ],
    ['wall per cell', `${(wall / r.results.length).toFixed(2)} s`],
    [
      'timeout-driven events',
      `${rel.length}, max error ${(Math.max(0, ...rel.map((x) => x.rel)) * 100).toFixed(3)}% (median ${(rel.map((x) => x.rel).sort((a, b) => a - b)[rel.length >> 1] ?? 0) * 100 > 0 ? (rel.map((x) => x.rel).sort((a, b) => a - b)[rel.length >> 1]! * 100).toFixed(3) : '0'}%)`,
    ],
    ['report', r.reportFile],
  ];
  for (const [k, v] of rows) console.log(`${k.padEnd(24)} ${v}`);
}

void main();
