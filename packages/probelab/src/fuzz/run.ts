/**
 * The fuzzing run: `count` inputs of one target (targets.ts) from `seed`, in a worker process
 * with a heap limit, watched from here. An input that runs longer than `hangMs` is a hang (the worker
 * is stopped and restarted after it), one over the heap limit a memory blow-up, one slower than
 * `slowMs` is reported as slow. Every failing input is saved under out/fuzz/ with the
 * (seed, index) that regenerates it.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { writeAtomic, repoRoot } from '@probelab/harness';
import { mutant } from './mutate.js';
import { fuzzTargets } from './targets.js';

export interface FuzzFailure {
  kind: 'crash' | 'slow' | 'hang' | 'memory';
  index: number;
  message: string;
  saved: string;
}
export interface FuzzReport {
  target: string;
  seed: number;
  count: number;
  wallMs: number;
  maxMs: number;
  meanMs: number;
  rejected: number;
  peakRssMb: number;
  failures: FuzzFailure[];
}
export interface FuzzOptions {
  target: string;
  count: number;
  seed?: number;
  slowMs?: number;
  hangMs?: number;
  heapMb?: number;
}

const workerFile = fileURLToPath(new URL('./worker.js', import.meta.url));

export async function runFuzz(o: FuzzOptions): Promise<FuzzReport> {
  const seed = o.seed ?? 1;
  const slowMs = o.slowMs ?? 3000;
  const hangMs = o.hangMs ?? 15000;
  const heapMb = o.heapMb ?? 1536;
  const started = performance.now();
  const report: FuzzReport = {
    target: o.target,
    seed,
    count: o.count,
    wallMs: 0,
    maxMs: 0,
    meanMs: 0,
    rejected: 0,
    peakRssMb: 0,
    failures: [],
  };
  let totalMs = 0;
  const target = fuzzTargets().find((t) => t.name === o.target);
  if (!target)
    throw new Error(
      `no fuzz target ${o.target} (one of ${fuzzTargets()
        .map((t) => t.name)
        .join(', ')})`,
    );
  let corpus: Uint8Array[] | null = null;
  const save = (kind: FuzzFailure['kind'], index: number, message: string): void => {
    corpus ??= target.corpus();
    const file = join(repoRoot(), 'out', 'fuzz', `${o.target}-seed${seed}-${index}.input`);
    writeAtomic(file, mutant(corpus, target.dict, seed, target.name, index, target.maxBytes));
    report.failures.push({ kind, index, message, saved: file });
  };
  let next = 0;
  while (next < o.count) {
    const job = { target: o.target, start: next, count: o.count - next, seed, slowMs };
    const w = fork(workerFile, [JSON.stringify(job)], {
      execArgv: [`--max-old-space-size=${heapMb}`],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let current = next;
    const at = { load: (): number => current };
    const end = await new Promise<{ resumeAt: number }>((resolve) => {
      let last = at.load();
      let since = performance.now();
      let settled = false;
      // The worker's counts as of its last report: kept when it dies on an input.
      let seen = { maxMs: 0, totalMs: 0, rejected: 0 };
      const finish = (r: { resumeAt: number }): void => {
        if (settled) return;
        settled = true;
        clearInterval(watch);
        report.maxMs = Math.max(report.maxMs, seen.maxMs);
        totalMs += seen.totalMs;
        report.rejected += seen.rejected;
        resolve(r);
      };
      const watch = setInterval(() => {
        const now = at.load();
        if (now !== last) {
          last = now;
          since = performance.now();
        } else if (performance.now() - since > hangMs) {
          save('hang', now, `still running after ${hangMs} ms`);
          w.kill('SIGKILL');
          finish({ resumeAt: now + 1 });
        }
      }, 200);
      w.on(
        'message',
        (m: {
          kind: string;
          index: number;
          message?: string;
          stack?: string;
          ms?: number;
          maxMs?: number;
          totalMs?: number;
          rejected?: number;
          rss?: number;
        }) => {
          if (m.kind === 'at') current = m.index;
          if (m.kind === 'progress') seen = { maxMs: m.maxMs!, totalMs: m.totalMs!, rejected: m.rejected! };
          if (m.rss) report.peakRssMb = Math.max(report.peakRssMb, m.rss / 1048576);
          if (m.kind === 'crash') save('crash', m.index, `${m.message} (${m.stack})`);
          else if (m.kind === 'slow') save('slow', m.index, `${m.ms!.toFixed(0)} ms`);
          else if (m.kind === 'done') {
            seen = { maxMs: m.maxMs!, totalMs: m.totalMs!, rejected: m.rejected! };
            finish({ resumeAt: o.count });
          }
        },
      );
      let stderr = '';
      w.stderr?.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-4000)));
      w.on('exit', (code, signal) => {
        if (settled) return;
        // Exited before 'done': the input it was on killed it.
        const i = at.load();
        const memory = /heap out of memory|Allocation failed/i.test(stderr);
        save(
          memory ? 'memory' : 'crash',
          i,
          memory
            ? `over the ${heapMb} MB heap limit`
            : `worker died (${signal ?? `status ${code}`}): ${stderr.trim().split('\n').pop() ?? ''}`,
        );
        finish({ resumeAt: i + 1 });
      });
    });
    next = end.resumeAt;
  }
  report.wallMs = performance.now() - started;
  report.meanMs = totalMs / o.count;
  return report;
}
