/**
 * `probelab matrix FILE [--jobs N] [--baseline RESULTS.jsonl] [--out DIR] [--shard K/N]
 * [--require-translation]` and `probelab matrix merge DIR... --out DIR [--baseline RESULTS.jsonl]
 * [--require-translation]`.
 */
import { runMatrix, untranslated, type MatrixRun } from './run.js';
import { mergeShards, parseShard, type Shard } from './shard.js';

export function parseMatrixArgs(
  args: string[],
):
  | { file: string; jobs?: number; baseline?: string; out?: string; shard?: Shard; requireTranslation?: boolean }
  | string {
  let file: string | undefined;
  const o: { jobs?: number; baseline?: string; out?: string; shard?: Shard; requireTranslation?: boolean } = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--jobs') {
      const n = Number(args[++i]);
      if (!Number.isInteger(n) || n < 1) return `--jobs: expected a whole number >= 1, got ${args[i] ?? '(nothing)'}`;
      o.jobs = n;
    } else if (a === '--baseline') {
      const f = args[++i];
      if (!f) return '--baseline: expected a results.jsonl file';
      o.baseline = f;
    } else if (a === '--out') {
      const d = args[++i];
      if (!d) return '--out: expected a directory';
      o.out = d;
    } else if (a === '--shard') {
      const sh = parseShard(args[++i] ?? '(nothing)');
      if (typeof sh === 'string') return sh;
      o.shard = sh;
    } else if (a === '--require-translation') o.requireTranslation = true;
    else if (a.startsWith('-')) return `unknown option ${a}`;
    else if (!file) file = a;
    else return `unexpected argument ${a}`;
  }
  if (!file) return 'missing FILE (a matrix file, e.g. ci/nightly.yaml)';
  return { file, ...o };
}

function parseMergeArgs(
  args: string[],
): { dirs: string[]; out: string; baseline?: string; requireTranslation: boolean } | string {
  const dirs: string[] = [];
  let out: string | undefined;
  let baseline: string | undefined;
  let requireTranslation = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--require-translation') requireTranslation = true;
    else if (a === '--out') out = args[++i];
    else if (a === '--baseline') baseline = args[++i];
    else if (a.startsWith('-')) return `unknown option ${a}`;
    else dirs.push(a);
  }
  if (!out) return '--out: expected the directory for the merged results';
  if (!dirs.length) return 'expected the shard directories (the --out of each `--shard K/N` run)';
  return { dirs, out, requireTranslation, ...(baseline ? { baseline } : {}) };
}

export async function cmdMatrix(args: string[]): Promise<number> {
  if (args[0] === 'merge') {
    const m = parseMergeArgs(args.slice(1));
    if (typeof m === 'string') {
      process.stderr.write(`probelab: matrix merge: ${m}\n`);
      return 2;
    }
    return summarize(mergeShards(m.dirs, m.out, m.baseline, m.requireTranslation), m.requireTranslation);
  }
  const p = parseMatrixArgs(args);
  if (typeof p === 'string') {
    process.stderr.write(`probelab: matrix: ${p}\n`);
    return 2;
  }
  const r = await runMatrix(p.file, {
    ...(p.jobs ? { jobs: p.jobs } : {}),
    ...(p.baseline ? { baseline: p.baseline } : {}),
    ...(p.out ? { out: p.out } : {}),
    ...(p.shard ? { shard: p.shard } : {}),
    ...(p.requireTranslation ? { requireTranslation: true } : {}),
  });
  return summarize(r, p.requireTranslation ?? false);
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

export async function cmdCalibrate(args: string[]): Promise<number> {
  const { runCalibration, renderCalibration } = await import('./calibrate.js');
  const p = parseMatrixArgs(args.length && !args[0]!.startsWith('-') ? args : ['ci/calibration.yaml', ...args]);
  if (typeof p === 'string') {
    process.stderr.write(`probelab: calibrate: ${p}\n`);
    return 2;
  }
  const cals = await runCalibration(
    p.file,
    { ...(p.jobs ? { jobs: p.jobs } : {}), ...(p.out ? { out: p.out } : {}) },
    (l) => process.stderr.write(`${l}\n`),
  );
  process.stdout.write(renderCalibration(cals) + '\n');
  return cals.length ? 0 : 2;
}
