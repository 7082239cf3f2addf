/**
 * Benchmark: what icount time warp buys. Boots the 40 s guest scenario (virtio-iommu-late) and,
 * as the reference in the same run, the same machine with a 2 s capture (the cost of booting
 * alone); prints wall times and ratios, never asserts on them.
 */
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { loadScenario } from '@probelab/sim-core';
import { bootScenario, repoRoot } from '@probelab/harness';

async function main(): Promise<void> {
  const s = loadScenario(join(repoRoot(), 'boards', 'qemu-virt', 'virtio-iommu-late.yaml'));
  const ref = { ...s, name: `${s.name}-ref`, capture: 2, modules: s.modules.filter((m) => m.at < 1.5) };
  const out = join(tmpdir(), 'probelab-bench');
  await bootScenario(ref, { out: join(out, 'warmup') }); // page cache, package cache
  const r = await bootScenario(ref, { out: join(out, 'ref') });
  const b = await bootScenario(s, { out: join(out, 'long') });
  const idleGuest = s.capture - ref.capture;
  const rows: Array<[string, string]> = [
    ['scenario', `${s.name} (${s.kernel}, virt/${s.machine.iommu})`],
    ['guest time (capture)', `${s.capture.toFixed(1)} s`],
    ['wall time, 40 s guest', `${b.wallSeconds.toFixed(2)} s`],
    [
      'ratio wall / guest',
      `${(b.wallSeconds / s.capture).toFixed(3)}  (${(s.capture / b.wallSeconds).toFixed(1)}x faster than real time)`,
    ],
    ['reference: wall time, 2 s guest', `${r.wallSeconds.toFixed(2)} s`],
    [
      'ratio 40 s run / 2 s run',
      `${(b.wallSeconds / r.wallSeconds).toFixed(2)}  (guest time ratio ${(s.capture / ref.capture).toFixed(0)})`,
    ],
    ['wall per extra guest second', `${((b.wallSeconds - r.wallSeconds) / idleGuest).toFixed(4)} s`],
  ];
  for (const [k, v] of rows) console.log(`${k.padEnd(34)} ${v}`);
}

main().catch((e) => {
  console.error(`bench: ${(e as Error).message}`);
  process.exit(2);
});
