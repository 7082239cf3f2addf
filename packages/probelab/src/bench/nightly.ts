/**
 * Benchmark: the nightly matrix (ci/nightly.yaml) on this machine, one QEMU per core, twice in
 * one run: from an empty boot-snapshot directory (every prefix booted and saved, as on a first
 * night or after a kernel change), then again with those snapshots (as every later night). Prints
 * for each its wall time, the summed guest time of its cells, their ratio, the wall time per
 * cell, how many cells were restored, and how well the simulator matched (outcomes,
 * timeout-driven event times); then the second's wall time against the first's, and both
 * against the reference measured in the same run: a cold boot of the 40 s Debian 6.12 scenario
 * (boards/qemu-virt/virtio-iommu-late.yaml) before and after, whose wall time moves with the
 * machine's speed (this one's has moved by 30% within an hour).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootScenario, repoRoot } from '@probelab/harness';
import { loadScenario } from '@probelab/sim-core';
import { runMatrix } from '../matrix/run.js';

async function once(label: string): Promise<number> {
  const out = mkdtempSync(join(tmpdir(), 'probelab-nightly-'));
  const t0 = Date.now();
  const r = await runMatrix(join(repoRoot(), 'ci', 'nightly.yaml'), { out });
  const wall = (Date.now() - t0) / 1000;
  const guest = r.results.reduce((s, x) => s + x.scenario.capture, 0);
  const agree = r.results.filter((x) => x.status === 'agree').length;
  const rel = r.results.flatMap((x) => x.timing?.timeoutEvents ?? []);
  const restored = r.results.filter((x) =>
    /-incoming/.test(
      (() => {
        try {
          return readFileSync(join(out, 'cells', x.id, 'qemu-command.txt'), 'utf8');
        } catch {
          return '';
        }
      })(),
    ),
  ).length;
  const sorted = rel.map((x) => x.rel).sort((a, b) => a - b);
  const rows: Array<[string, string]> = [
    [
      'cells',
      `${r.results.length} (${agree} agree, ${r.results.filter((x) => x.status === 'differ').length} differ, ${r.results.filter((x) => x.status === 'error').length} failed); ${restored} restored from a boot snapshot, ${r.results.length - restored} cold`,
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
      `${rel.length}, max error ${(Math.max(0, ...sorted) * 100).toFixed(3)}% (median ${((sorted[sorted.length >> 1] ?? 0) * 100).toFixed(3)}%)`,
    ],
    ['report', r.reportFile],
  ];
  console.log(label);
  for (const [k, v] of rows) console.log(`  ${k.padEnd(24)} ${v}`);
  return wall;
}

async function main(): Promise<void> {
  const snapshots = mkdtempSync(join(tmpdir(), 'probelab-nightly-snapshots-'));
  process.env.PROBELAB_SNAPSHOT_DIR = snapshots;
  const reference = loadScenario(join(repoRoot(), 'boards', 'qemu-virt', 'virtio-iommu-late.yaml'));
  const refOut = mkdtempSync(join(tmpdir(), 'probelab-nightly-reference-'));
  const cold = async (k: string): Promise<number> =>
    (await bootScenario(reference, { out: join(refOut, k), snapshot: false })).wallSeconds;
  try {
    const before = await cold('before');
    const first = await once('from an empty boot-snapshot directory (a first night)');
    const again = await once('again, with those snapshots (every later night)');
    const after = await cold('after');
    const ref = (before + after) / 2;
    console.log(`second night / first night = ${(again / first).toFixed(2)}`);
    console.log(
      `reference: one cold boot of ${reference.name} (40 s of guest time), ${before.toFixed(2)} s before and ${after.toFixed(2)} s after; a first night = ${(first / ref).toFixed(1)} of them, a later night = ${(again / ref).toFixed(1)}; against issue 13's targets: the first night ${(first / 150).toFixed(2)} of 150 s, this cold boot ${(ref / 6).toFixed(2)} of 6 s (the two make 25 cold boots a night only for a cold boot of 6 s)`,
    );
  } finally {
    rmSync(snapshots, { recursive: true, force: true });
    rmSync(refOut, { recursive: true, force: true });
  }
}

void main();
