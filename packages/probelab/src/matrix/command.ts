/**
 * `probelab matrix`, `matrix merge` and `calibrate` (their options are in cli.ts's table): the
 * options' values checked, the run, and its summary.
 */
import { runMatrix, untranslated, type MatrixRun } from './run.js';
import { mergeShards, parseShard, type Shard } from './shard.js';

export interface MatrixFlags {
  jobs?: string;
  baseline?: string;
  out?: string;
  shard?: string;
  'require-translation'?: boolean;
}

/** The values of `matrix` and `calibrate` (cli.ts parses them; what each must be is checked here). */
export function matrixOptions(
  o: MatrixFlags,
): { jobs?: number; baseline?: string; out?: string; shard?: Shard; requireTranslation?: boolean } | string {
  const r: { jobs?: number; baseline?: string; out?: string; shard?: Shard; requireTranslation?: boolean } = {};
  if (o.jobs !== undefined) {
    const n = Number(o.jobs);
    if (!Number.isInteger(n) || n < 1) return `--jobs: expected a whole number >= 1, got ${o.jobs}`;
    r.jobs = n;
  }
  if (o.baseline !== undefined) {
    if (!o.baseline) return '--baseline: expected a results.jsonl file';
    r.baseline = o.baseline;
  }
  if (o.out !== undefined) {
    if (!o.out) return '--out: expected a directory';
    r.out = o.out;
  }
  if (o.shard !== undefined) {
    const sh = parseShard(o.shard);
    if (typeof sh === 'string') return sh;
    r.shard = sh;
  }
  if (o['require-translation']) r.requireTranslation = true;
  return r;
}

export async function cmdMatrix(file: string, o: MatrixFlags): Promise<number> {
  const p = matrixOptions(o);
  if (typeof p === 'string') {
    process.stderr.write(`probelab: matrix: ${p}\n`);
    return 2;
  }
  const r = await runMatrix(file, p);
  return summarize(r, p.requireTranslation ?? false);
}

export function cmdMatrixMerge(
  dirs: string[],
  o: { out: string; baseline?: string; requireTranslation: boolean },
): number {
  return summarize(mergeShards(dirs, o.out, o.baseline, o.requireTranslation), o.requireTranslation);
}

function summarize(r: MatrixRun, requireTranslation = false): number {
  const agree = r.results.filter((x) => x.status === 'agree').length;
  const differ = r.results.filter((x) => x.status === 'differ');
  const failed = r.results.filter((x) => x.status === 'error');
  const changed = r.results.filter((x) => x.baseline === 'changed');
  const lines = [
    `${r.matrix.name}: ${r.results.length} cells, ${agree} agree, ${differ.length} differ, ${failed.length} failed${changed.length ? `, ${changed.length} changed from the baseline` : ''}`,
  ];
  for (const x of differ) lines.push(`  DIFFER ${x.id}`);
  for (const x of changed) lines.push(`  CHANGED ${x.id}`);
  for (const x of failed) lines.push(`  FAILED ${x.id}: ${x.error}`);
  if (requireTranslation) {
    const bad = r.results.filter(untranslated);
    lines.push(
      `DMA protection (--require-translation): ${bad.length} of ${r.results.length} cells leave IOMMU masters untranslated`,
    );
    for (const x of bad)
      lines.push(
        `  UNTRANSLATED ${x.id}: ${[...new Set([...x.translation!.real, ...x.translation!.predicted].map((f) => `${f.device} ${f.state}`))].join(', ')}`,
      );
  }
  lines.push(`results: ${r.resultsFile}`, `report:  ${r.reportFile}`, `junit:   ${r.junitFile}`);
  process.stdout.write(lines.join('\n') + '\n');
  return r.exitCode;
}

export async function cmdCalibrate(file: string, o: MatrixFlags): Promise<number> {
  const { runCalibration, renderCalibration } = await import('./calibrate.js');
  const p = matrixOptions(o);
  if (typeof p === 'string') {
    process.stderr.write(`probelab: calibrate: ${p}\n`);
    return 2;
  }
  const cals = await runCalibration(
    file,
    { ...(p.jobs ? { jobs: p.jobs } : {}), ...(p.out ? { out: p.out } : {}) },
    (l) => process.stderr.write(`${l}\n`),
  );
  process.stdout.write(renderCalibration(cals) + '\n');
  return cals.length ? 0 : 2;
}
