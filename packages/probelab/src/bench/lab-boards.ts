/**
 * Benchmark: what the driver-core lab costs. Boots the 48-master lab board and, as references in
 * the same run, the 2-master lab board and the same 6.12 source kernel's QEMU scenario without a
 * fragment; times the fragment merge against reading QEMU's own tree; prints wall times and
 * ratios, never asserts on them.
 */
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { loadScenario } from '@probelab/sim-core';
import { readDtb } from '@probelab/dt-compiler';
import { boardDtbPath, bootScenario, mergeOverlay, repoRoot } from '@probelab/harness';

async function main(): Promise<void> {
  const lab = (f: string) => loadScenario(join(repoRoot(), 'boards', 'lab', f));
  const many = lab('many-masters-6.12.yaml');
  const two = lab('smmu-early-6.12.yaml');
  const { overlay: _overlay, ...qemuOwn } = two.machine;
  const plain = {
    ...two,
    name: 'bench-no-overlay',
    machine: qemuOwn,
    modules: two.modules.filter((m) => m.name === 'arm_smmu_v3'),
  };
  const out = join(tmpdir(), 'probelab-bench-lab');
  await bootScenario(plain, { out: join(out, 'warmup') }); // kernel build or cache, page cache
  const p = await bootScenario(plain, { out: join(out, 'plain') });
  const t = await bootScenario(two, { out: join(out, 'two') });
  const m = await bootScenario(many, { out: join(out, 'many') });
  const base = readFileSync(boardDtbPath('smmuv3'));
  const time = (f: () => unknown, n: number): number => {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) f();
    return Number(process.hrtime.bigint() - t0) / 1e9 / n;
  };
  const readOnly = time(() => readDtb(base, 'smmuv3.dtb'), 200);
  // A fresh merge each time (the cache is keyed by the fragment's bytes): a comment that changes.
  let i = 0;
  const frag = join(repoRoot(), 'boards', 'lab', 'many-masters.dtsi');
  const text = readFileSync(frag, 'utf8');
  const dir = mkdtempSync(join(tmpdir(), 'probelab-bench-frag-'));
  const merge = time(() => {
    const f = join(dir, 'many.dtsi');
    writeFileSync(f, `${text}// ${i++}\n`);
    return mergeOverlay(base, 'smmuv3.dtb', f);
  }, 20);
  const rows: Array<[string, string]> = [
    ['kernel', `${p.kernel.release} (source-6.12 with the lab drivers)`],
    ['reference: no fragment, wall', `${p.wallSeconds.toFixed(2)} s for ${plain.capture} s guest`],
    [
      '2-master lab board, wall',
      `${t.wallSeconds.toFixed(2)} s for ${two.capture} s guest; ratio to reference ${(t.wallSeconds / p.wallSeconds).toFixed(2)}`,
    ],
    [
      '48-master lab board, wall',
      `${m.wallSeconds.toFixed(2)} s for ${many.capture} s guest; ratio to reference ${(m.wallSeconds / p.wallSeconds).toFixed(2)}`,
    ],
    ['guest / wall, 48 masters', `${(many.capture / m.wallSeconds).toFixed(1)}x faster than real time`],
    ["reading QEMU's tree", `${(readOnly * 1000).toFixed(2)} ms`],
    [
      'merging the 48-master fragment',
      `${(merge * 1000).toFixed(1)} ms; ratio to reading ${(merge / readOnly).toFixed(0)}`,
    ],
  ];
  for (const [k, v] of rows) console.log(`${k.padEnd(34)} ${v}`);
}

main().catch((e) => {
  console.error(`bench: ${(e as Error).message}`);
  process.exit(2);
});
