/**
 * `probelab matrix FILE`: every cell booted for real and predicted, `jobs` QEMUs at a time,
 * resumable (cells already in results.jsonl are not re-run), the report and JUnit written at the
 * end. Exit: 1 if a cell's real outcome differs from its prediction, or (with --baseline) from
 * the baseline's; 2 if cells failed to run; 0 otherwise.
 */
import { cpus } from 'node:os';
import { join, relative, resolve } from 'node:path';
import {
  diffOutcomes,
  expandMatrix,
  iommuMasters,
  translationFailures,
  loadMatrixFile,
  masterStates,
  outcomeMasterStates,
  predict,
  type KernelId,
  type KernelProfile,
  type MatrixCell,
  type MatrixFile,
  type OutcomeDiff,
} from '@probelab/sim-core';
import {
  lockOutputDir,
  baseCmdline,
  bootScenario,
  loadMachine,
  loadProfile,
  machineTree,
  outDir,
  pciFunctions,
  writeAtomic,
} from '@probelab/harness';
import { appendResult, latestById, readResults, type CellResult, type TimingError } from './results.js';
import { Progress } from './progress.js';
import { renderJUnit } from './junit.js';
import { renderReport } from './report.js';
import { shardCells, writeShardFile, type Shard } from './shard.js';

export interface MatrixOptions {
  jobs?: number;
  out?: string;
  baseline?: string;
  calibration?: boolean;
  /** Run only shard k of n (1-based): the cells whose id hashes to it (shard.ts). */
  shard?: Shard;
  /** The DMA-protection policy: a cell whose IOMMU masters end untranslated fails. */
  requireTranslation?: boolean;
}

export interface MatrixRun {
  matrix: MatrixFile;
  results: CellResult[];
  dir: string;
  reportFile: string;
  junitFile: string;
  resultsFile: string;
  exitCode: number;
}

/**
 * Timeout-driven events: the timer's own `timeout-fired`, the "deferred probe pending" dump, and
 * the masters that gave up once it fired (ignored-dependency at or after it). With timeout 0 the
 * give-ups happen in the late initcall instead: initcall-driven, reported in `maxAbs` only.
 */
export function timingError(d: OutcomeDiff): TimingError {
  const ts = d.timing.filter((x) => x.kind !== 'probe-deferred');
  const fired = ts.find((x) => x.kind === 'timeout-fired' && x.device === null);
  const driven = (x: (typeof ts)[number]): boolean =>
    x.kind === 'timeout-fired' ||
    x.kind === 'deferred-pending' ||
    (x.kind === 'ignored-dependency' && fired !== undefined && x.right >= fired.right - 1e-6);
  const timeoutEvents = ts.filter(driven).map((x) => ({
    device: x.device,
    kind: x.kind,
    predicted: x.left,
    real: x.right,
    rel: x.right > 0 ? Math.abs(x.left - x.right) / x.right : 0,
  }));
  return {
    maxAbs: ts.reduce((m, x) => Math.max(m, Math.abs(x.left - x.right)), 0),
    timeoutEvents,
    maxTimeoutRel: timeoutEvents.reduce((m, x) => Math.max(m, x.rel), 0),
  };
}

export async function runMatrix(file: string, opts: MatrixOptions = {}): Promise<MatrixRun> {
  const matrix = loadMatrixFile(file);
  const all = expandMatrix(matrix);
  const cells = opts.shard ? shardCells(all, opts.shard) : all;
  const dir = resolve(
    opts.out ??
      join(outDir(), 'matrix', matrix.name, ...(opts.shard ? [`shard-${opts.shard.k}-of-${opts.shard.n}`] : [])),
  );
  const baseline = opts.baseline ? latestById(readResults(resolve(opts.baseline), 'baseline')) : null;
  const release = lockOutputDir(dir, 'wait for it, or give this run another --out');
  try {
    return await runLocked(matrix, cells, dir, baseline, opts);
  } finally {
    release();
  }
}

async function runLocked(
  matrix: MatrixFile,
  cells: MatrixCell[],
  dir: string,
  baseline: Map<string, CellResult> | null,
  opts: MatrixOptions,
): Promise<MatrixRun> {
  const resultsFile = join(dir, 'results.jsonl');
  if (opts.shard) writeShardFile(dir, matrix, opts.shard, cells);
  const previous = latestById(readResults(resultsFile, 'resume'));
  const todo = cells.filter((c) => {
    const p = previous.get(c.id);
    return !p || p.status === 'error';
  });
  const jobs = Math.max(1, opts.jobs ?? cpus().length);
  const progress = new Progress(cells.length, cells.length - todo.length, jobs);

  const profiles = new Map<KernelId, Promise<KernelProfile>>();
  const profileOf = (k: KernelId): Promise<KernelProfile> => {
    let p = profiles.get(k);
    if (!p) profiles.set(k, (p = loadProfile(k, () => {}, { calibration: opts.calibration !== false })));
    return p;
  };
  // Provision each kernel once before the workers start (downloads, builds).
  for (const k of new Set(todo.map((c) => c.scenario.kernel))) await profileOf(k);

  const machine = loadMachine();
  const runCell = async (cell: MatrixCell): Promise<CellResult> => {
    const started = Date.now();
    const { file: _file, ...scenario } = cell.scenario;
    const base = { id: cell.id, matrix: matrix.name, variant: cell.variant, params: cell.params, scenario };
    try {
      const profile = await profileOf(cell.scenario.kernel);
      const p = predict({
        scenario: cell.scenario,
        profile,
        tree: machineTree(cell.scenario),
        pciFunctions: pciFunctions(machine, cell.scenario),
        baseCmdline,
      });
      const real = await bootScenario(cell.scenario, { out: join(dir, 'cells', cell.id) });
      const diff = diffOutcomes(p.outcome, real.outcome);
      const ps = masterStates(p);
      const r: CellResult = {
        ...base,
        status: diff.agree ? 'agree' : 'differ',
        predicted: p.outcome,
        real: real.outcome,
        hazards: p.hazards,
        diff,
        timing: timingError(diff),
        masters: { predicted: ps, real: outcomeMasterStates(real.outcome, Object.keys(ps.states)) },
        translation: {
          real: translationFailures(iommuMasters(p.core), real.outcome),
          predicted: translationFailures(iommuMasters(p.core), p.outcome, p.hazards),
        },
        consoleLog: relative(dir, real.consoleLog),
        kernelRelease: real.kernel.release,
        wallSeconds: (Date.now() - started) / 1000,
        finishedAt: new Date().toISOString(),
      };
      return r;
    } catch (e) {
      return {
        ...base,
        status: 'error',
        error: (e as Error).message.split('\n')[0]!,
        wallSeconds: (Date.now() - started) / 1000,
        finishedAt: new Date().toISOString(),
      };
    }
  };

  const queue = [...todo];
  const worker = async (): Promise<void> => {
    for (let cell = queue.shift(); cell; cell = queue.shift()) {
      progress.start(cell.id);
      const r = await runCell(cell);
      appendResult(resultsFile, r);
      previous.set(r.id, r);
      progress.finish(cell.id, r.status, r.wallSeconds ?? 0);
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, todo.length) }, worker));
  progress.end();

  const results = cells.map((c) => previous.get(c.id)!).filter(Boolean);
  return finishRun(matrix, results, dir, baseline, opts.requireTranslation ?? false);
}

/** A cell whose IOMMU masters end untranslated, real or predicted. */
export function untranslated(r: CellResult): boolean {
  return !!r.translation && (r.translation.real.length > 0 || r.translation.predicted.length > 0);
}

/**
 * The end of a run, the same for a run and for merged shards: each result compared with the
 * baseline, report.html and junit.xml written, the exit status (1 differ or changed, 2 failed).
 */
export function finishRun(
  matrix: MatrixFile,
  results: CellResult[],
  dir: string,
  baseline: Map<string, CellResult> | null,
  requireTranslation = false,
): MatrixRun {
  if (baseline) {
    for (const r of results) {
      const b = baseline.get(r.id);
      if (!r.real) continue;
      r.baseline = !b?.real ? 'new' : diffOutcomes(b.real, r.real).devices.length === 0 ? 'same' : 'changed';
    }
  }
  const resultsFile = join(dir, 'results.jsonl');
  const reportFile = join(dir, 'report.html');
  const junitFile = join(dir, 'junit.xml');
  writeAtomic(reportFile, renderReport(matrix, results, dir));
  writeAtomic(junitFile, renderJUnit(matrix, results, requireTranslation));
  const differ = results.some(
    (r) => r.status === 'differ' || r.baseline === 'changed' || (requireTranslation && untranslated(r)),
  );
  const failed = results.some((r) => r.status === 'error');
  return { matrix, results, dir, reportFile, junitFile, resultsFile, exitCode: differ ? 1 : failed ? 2 : 0 };
}
