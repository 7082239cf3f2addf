/**
 * Matrix results: one JSON line per finished cell, appended as it finishes (one write per line),
 * so an interrupted run keeps what it finished and resumes from there. A torn last line (the
 * process killed mid-write) is cut off on the next resume.
 */
import { existsSync, truncateSync } from 'node:fs';
import {
  InputError,
  readInputFile,
  type Hazard,
  type PolicyFailure,
  MasterSummary,
  Outcome,
  OutcomeDiff,
  Scenario,
} from '@probelab/sim-core';
import { appendLine } from '@probelab/harness';

export interface TimingError {
  /** Largest |predicted - real| over the first event of each kind per device (s). */
  maxAbs: number;
  /** Events the deferred-probe timeout drives: their relative error (|p - r| / r). */
  timeoutEvents: Array<{ device: string | null; kind: string; predicted: number; real: number; rel: number }>;
  maxTimeoutRel: number;
}

export interface CellResult {
  id: string;
  matrix: string;
  variant: string;
  params: { timeout: number; loadAt: number; fwDevlink: string | null; devices: string[] };
  scenario: Omit<Scenario, 'file'>;
  status: 'agree' | 'differ' | 'error';
  error?: string;
  predicted?: Outcome;
  real?: Outcome;
  hazards?: Hazard[];
  diff?: OutcomeDiff;
  timing?: TimingError;
  masters?: { predicted: MasterSummary; real: MasterSummary };
  /** IOMMU masters that ended untranslated (translation-policy.ts), real and predicted; a
   *  failure of the cell under --require-translation. */
  translation?: { real: PolicyFailure[]; predicted: PolicyFailure[] };
  baseline?: 'same' | 'changed' | 'new';
  consoleLog?: string;
  kernelRelease?: string;
  wallSeconds?: number;
  finishedAt: string;
}

/**
 * The rows of a results file. Every row must be a cell result (a JSON object with a string `id`
 * and a known `status`); a bad row is an InputError naming file:line. The one exception is a torn
 * last line (no newline after it: the writer was killed mid-row), which is left out. With
 * `resume`, the file is ours to append to: the torn tail is cut off so the next row starts on a
 * line of its own. A baseline is read-only input and is never written.
 */
export function readResults(file: string, mode: 'resume' | 'baseline' = 'baseline'): CellResult[] {
  let text: string;
  if (mode === 'baseline') text = readInputFile(file, 'baseline results (a results.jsonl)');
  else if (!existsSync(file)) return [];
  else text = readInputFile(file, 'results');
  if (text.length > 512 * 1024 * 1024) throw new InputError('results file larger than 512 MiB', file);
  const lines = text.split('\n');
  const out: CellResult[] = [];
  const statuses = ['agree', 'differ', 'error'];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line.trim()) continue;
    const last = i === lines.length - 1; // no newline after it
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch (e) {
      if (last) {
        if (mode === 'resume') truncateSync(file, Buffer.byteLength(text) - Buffer.byteLength(line));
        break;
      }
      throw new InputError(`not a JSON row (${(e as Error).message.split('\n')[0]})`, file, i + 1, 1);
    }
    const r = row as Partial<CellResult> | null;
    if (
      !r ||
      typeof r !== 'object' ||
      Array.isArray(r) ||
      typeof r.id !== 'string' ||
      !statuses.includes(r.status as string)
    ) {
      throw new InputError(
        `expected a cell result (a JSON object with a string id and a status of ${statuses.join(', ')}), got ${JSON.stringify(row)?.slice(0, 60)}`,
        file,
        i + 1,
        1,
      );
    }
    out.push(r as CellResult);
  }
  return out;
}

export function appendResult(file: string, r: CellResult): void {
  appendLine(file, JSON.stringify(r) + '\n');
}

/** The latest result per cell id (a re-run cell supersedes its error). */
export function latestById(results: CellResult[]): Map<string, CellResult> {
  const m = new Map<string, CellResult>();
  for (const r of results) m.set(r.id, r);
  return m;
}
