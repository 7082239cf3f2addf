/**
 * `npm run fuzz [-- --count N] [--seed S] [--target NAME]`: the long fuzzing run over every
 * target (targets.ts), 100,000 inputs each by default; prints one line per target and every
 * failure with the file that reproduces it. Exit 1 on any failure.
 */
import { fuzzTargets } from './targets.js';
import { runFuzz } from './run.js';

const args = process.argv.slice(2);
const opt = (k: string): string | undefined => {
  const i = args.indexOf(k);
  return i >= 0 ? args[i + 1] : undefined;
};
const count = Number(opt('--count') ?? 100000);
const seed = Number(opt('--seed') ?? 1);
if (!Number.isInteger(count) || count < 1 || !Number.isInteger(seed)) {
  process.stderr.write('fuzz: --count takes a whole number >= 1, --seed a whole number\n');
  process.exit(2);
}
const names = opt('--target') ? [opt('--target')!] : fuzzTargets().map((t) => t.name);
let failed = 0;
for (const target of names) {
  const r = await runFuzz({ target, count, seed });
  failed += r.failures.length;
  process.stdout.write(
    `${target.padEnd(15)} ${r.count} inputs (seed ${seed}) in ${(r.wallMs / 1000).toFixed(1)} s: ${r.rejected} rejected cleanly, ${r.failures.length} failures; mean ${r.meanMs.toFixed(2)} ms, slowest ${r.maxMs.toFixed(0)} ms, peak RSS ${r.peakRssMb.toFixed(0)} MB\n`,
  );
  for (const f of r.failures) process.stdout.write(`  ${f.kind} at input ${f.index}: ${f.message}\n    ${f.saved}\n`);
}
process.exit(failed ? 1 : 0);
