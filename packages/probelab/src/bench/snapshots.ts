/**
 * Benchmark: boot snapshots (harness snapshot.ts) against cold boots, measured in the same run.
 * The 40 s Debian 6.12 scenario (virtio-iommu-late) cold, then restored from a warm snapshot; and
 * a sample of the nightly's cells (ci/nightly.yaml: its Debian 6.12 variant, three timeouts, two
 * load times, and a cell of each other variant) both ways, printing per cell the wall times, whether the outcomes are identical and
 * the largest difference of a timeout-driven event's time and of any event's — and, as the
 * reference for those, the same between two cold boots of the cell (handed-boot.ts: the image a
 * snapshot is taken from, booted from the firmware).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootScenario, repoRoot } from '@probelab/harness';
import { diffOutcomes, expandMatrix, loadMatrixFile, loadScenario, type Outcome } from '@probelab/sim-core';

const out = mkdtempSync(join(tmpdir(), 'probelab-bench-snap-'));
const timed = (o: Outcome) => o.events.filter((e) => e.kind === 'timeout-fired' || e.kind === 'ignored-dependency');
// The outcome contract's agreement (sim-core diff.ts: devices, each device's event sequence),
// and whether the events also came in the same global order.
const same = (a: Outcome, b: Outcome): string =>
  `${diffOutcomes(a, b).agree}${JSON.stringify(a.events.map((e) => [e.kind, e.device])) === JSON.stringify(b.events.map((e) => [e.kind, e.device])) ? '' : ' (global order differs)'}`;
const maxDt = (a: Outcome, b: Outcome, pick: (o: Outcome) => Outcome['events'] = timed): number =>
  Math.max(0, ...pick(a).map((e, i) => Math.abs(e.t - (pick(b)[i]?.t ?? Infinity))));
const every = (o: Outcome) => o.events;
const ms = (x: number): string => `${(x * 1000).toFixed(3)} ms`;

const s = loadScenario(join(repoRoot(), 'boards', 'qemu-virt', 'virtio-iommu-late.yaml'));
await bootScenario(s, { out: join(out, 'warm-up'), snapshot: true }); // the snapshot, the page cache
const cold = await bootScenario(s, { out: join(out, 'cold'), snapshot: false });
const warm = await bootScenario(s, { out: join(out, 'warm'), snapshot: true });
console.log(
  `40 s Debian 6.12 scenario (${s.name}): cold ${cold.wallSeconds.toFixed(2)} s, restored ${warm.wallSeconds.toFixed(2)} s (${warm.from}); restored / cold = ${(warm.wallSeconds / cold.wallSeconds).toFixed(2)}; ${(s.capture / warm.wallSeconds).toFixed(1)}x real time restored`,
);
console.log(
  `  outcome identical: ${same(cold.outcome, warm.outcome)}; max |restored - cold|: timeout-driven events ${ms(maxDt(cold.outcome, warm.outcome))}, every event ${ms(maxDt(cold.outcome, warm.outcome, every))}`,
);

// Its Debian 6.12 variant over three timeouts and two load times, and one cell of every other
// variant (a source-built kernel, Debian 6.1, a lab board booted with -dtb).
const cells = expandMatrix(loadMatrixFile(join(repoRoot(), 'ci', 'nightly.yaml'))).filter((c) =>
  c.variant === 'virtio-iommu-6.12'
    ? [0, 5, 10].includes(c.params.timeout) && [4, 15].includes(c.params.loadAt)
    : c.params.timeout === 5 && c.params.loadAt === 15,
);
let tc = 0;
let tw = 0;
console.log(`nightly sample: ${cells.length} cells, each cold and restored`);
for (const c of cells) {
  await bootScenario(c.scenario, { out: join(out, 'prefix', c.id), snapshot: true });
  const a = await bootScenario(c.scenario, { out: join(out, 'cold', c.id), snapshot: false });
  const a2 = await bootScenario(c.scenario, { out: join(out, 'cold2', c.id), snapshot: false });
  const b = await bootScenario(c.scenario, { out: join(out, 'warm', c.id), snapshot: true });
  tc += a.wallSeconds;
  tw += b.wallSeconds;
  console.log(
    `  ${c.id.padEnd(34)} cold ${a.wallSeconds.toFixed(2)} s  restored ${b.wallSeconds.toFixed(2)} s (${b.from})  identical ${same(a.outcome, b.outcome)}  max |dt| timeout events ${ms(maxDt(a.outcome, b.outcome))}, every event ${ms(maxDt(a.outcome, b.outcome, every))}; cold vs cold ${same(a.outcome, a2.outcome)}, ${ms(maxDt(a.outcome, a2.outcome))}, ${ms(maxDt(a.outcome, a2.outcome, every))}`,
  );
}
console.log(
  `  summed: cold ${tc.toFixed(1)} s, restored ${tw.toFixed(1)} s; restored / cold = ${(tw / tc).toFixed(2)}`,
);
