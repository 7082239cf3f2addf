/**
 * Benchmark: `probelab survey` over every arm64 board of the 6.12 tree (defconfig + the IOMMU
 * drivers as modules, coldplug at 13 s) on 2 worker threads, against references measured in the
 * same run: reading (preprocessing and compiling) every board's tree on one thread, which any
 * survey must do, and issue 14's budget of 5 minutes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { listKernelDts, readTreeFile } from '@probelab/dt-compiler';
import { repoRoot, sourceProfile } from '@probelab/harness';
import { cmdSurvey } from '../survey/command.js';

const root = repoRoot();
const config = join(root, 'boards', 'survey', 'iommu-modules.config');
const profile = await sourceProfile({ source: '6.12', fragment: config, patches: [] });
const boards = listKernelDts(profile.tree).filter((d) => d.file.includes('/arch/arm64/'));
let t = performance.now();
for (const b of boards) readTreeFile(b.file);
const read = (performance.now() - t) / 1000;
const out = mkdtempSync(join(tmpdir(), 'probelab-bench-survey-'));
t = performance.now();
const write = process.stdout.write.bind(process.stdout);
process.stdout.write = (() => true) as typeof process.stdout.write;
const errWrite = process.stderr.write.bind(process.stderr);
process.stderr.write = (() => true) as typeof process.stderr.write;
try {
  await cmdSurvey({ config, jobs: '2', out }, false);
} finally {
  process.stdout.write = write;
  process.stderr.write = errWrite;
}
const survey = (performance.now() - t) / 1000;
rmSync(out, { recursive: true, force: true });
console.log(
  `survey, ${boards.length} boards, 2 jobs: ${survey.toFixed(1)} s (${((survey / boards.length) * 1000).toFixed(1)} ms a board)`,
);
console.log(
  `  reading every board's tree on one thread (reference): ${read.toFixed(1)} s; survey / reference = ${(survey / read).toFixed(2)}`,
);
console.log(`  survey / issue 14's 5-minute budget = ${(survey / 300).toFixed(2)}`);
