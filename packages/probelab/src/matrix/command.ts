/** `probelab matrix FILE [--jobs N] [--baseline RESULTS.jsonl] [--out DIR]`. */
import { runMatrix } from './run.js';

export function parseMatrixArgs(args: string[]): { file: string; jobs?: number; baseline?: string; out?: string } | string {
  let file: string | undefined;
  const o: { jobs?: number; baseline?: string; out?: string } = {};
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
    } else if (a.startsWith('-')) return `unknown option ${a}`;
    else if (!file) file = a;
    else return `unexpected argument ${a}`;
  }
  if (!file) return 'missing FILE (a matrix file, e.g. ci/nightly.yaml)';
  return { file, ...o };
}

export async function cmdMatrix(args: string[]): Promise<number> {
  const p = parseMatrixArgs(args);
  if (typeof p === 'string') {
    process.stderr.write(`probelab: matrix: ${p}\n`);
    return 2;
  }
  const r = await runMatrix(p.file, { ...(p.jobs ? { jobs: p.jobs } : {}), ...(p.baseline ? { baseline: p.baseline } : {}), ...(p.out ? { out: p.out } : {}) });
  const agree = r.results.filter((x) => x.status === 'agree').length;
  const differ = r.results.filter((x) => x.status === 'differ');
  const failed = r.results.filter((x) => x.status === 'error');
  const changed = r.results.filter((x) => x.baseline === 'changed');
  const lines = [`${r.matrix.name}: ${r.results.length} cells, ${agree} agree, ${differ.length} differ, ${failed.length} failed${changed.length ? `, ${changed.length} changed from the baseline` : ''}`];
  for (const x of differ) lines.push(`  DIFFER ${x.id}`);
  for (const x of changed) lines.push(`  CHANGED ${x.id}`);
  for (const x of failed) lines.push(`  FAILED ${x.id}: ${x.error}`);
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
  const cals = await runCalibration(p.file, { ...(p.jobs ? { jobs: p.jobs } : {}), ...(p.out ? { out: p.out } : {}) }, (l) => process.stderr.write(`${l}\n`));
  process.stdout.write(renderCalibration(cals) + '\n');
  return cals.length ? 0 : 2;
}
