// Fuzzing in the suite: 10,000 mutated real inputs for each reader a user's file reaches
// (src/fuzz/targets.ts), deterministic (seed 1; any failure is regenerated from its index and
// saved under out/fuzz/), each in a worker with a heap limit and a hang watchdog. A crash is
// anything thrown that is not probelab's own error; an input slower than 3 s is a failure too.
// `npm run fuzz` is the longer run (100,000 each).
import { describe, expect, it } from 'vitest';
import { runFuzz } from '../dist/fuzz/run.js';

const count = Number(process.env.PROBELAB_FUZZ_COUNT ?? 10_000);

describe('fuzzing', () => {
  for (const target of ['scenario', 'matrix', 'console', 'boot-log', 'dts-preprocess', 'dts-compile', 'dtb']) {
    it(`${target}: ${count} mutated inputs, no crash, none slow, no memory blow-up`, async () => {
      const r = await runFuzz({ target, count, seed: 1 });
      console.log(
        `fuzz ${target}: ${r.count} inputs in ${(r.wallMs / 1000).toFixed(1)} s, ${r.rejected} rejected cleanly, slowest ${r.maxMs.toFixed(0)} ms, peak RSS ${r.peakRssMb.toFixed(0)} MB`,
      );
      expect(r.failures).toEqual([]);
      expect(r.count).toBe(count);
    }, 900_000);
  }
});
