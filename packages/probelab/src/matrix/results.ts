/**
 * Matrix results: one JSON line per finished cell, appended as it finishes (one write per line),
 * so an interrupted run keeps what it finished and resumes from there. A torn last line (the
 * process killed mid-write) is dropped on the next read.
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import type { Hazard, MasterSummary, Outcome, OutcomeDiff, Scenario } from '@probelab/sim-core';
import { writeAtomic } from '@probelab/harness';

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
  baseline?: 'same' | 'changed' | 'new';
  consoleLog?: string;
  kernelRelease?: string;
  wallSeconds?: number;
  finishedAt: string;
}

export function readResults(file: string): CellResult[] {
  if (!existsSync(file)) return [];
  const lines = readFileSync(file, 'utf8').split('\n');
  const out: CellResult[] = [];
  let torn = false;
  for (const line of lines) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as CellResult);
    } catch {
      torn = true;
    }
  }
  if (torn) writeAtomic(file, out.map((r) => JSON.stringify(r)).join('\n') + (out.length ? '\n' : ''));
  return out;
}

export function appendResult(file: string, r: CellResult): void {
  appendFileSync(file, JSON.stringify(r) + '\n');
}

/** The latest result per cell id (a re-run cell supersedes its error). */
export function latestById(results: CellResult[]): Map<string, CellResult> {
  const m = new Map<string, CellResult>();
  for (const r of results) m.set(r.id, r);
  return m;
}
