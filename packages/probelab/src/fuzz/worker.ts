/**
 * The fuzzer's worker thread: runs inputs [start, start+count) of one target, publishing the
 * index it is on in shared memory (so the watchdog in run.ts can name an input that hangs) and
 * posting every crash and every slow input as it happens.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { mutant } from './mutate.js';
import { fuzzTargets, isOwnError } from './targets.js';

interface Job { target: string; start: number; count: number; seed: number; slowMs: number; shared: SharedArrayBuffer }
const job = workerData as Job;
const t = fuzzTargets().find((x) => x.name === job.target);
if (!t) throw new Error(`no fuzz target ${job.target}`);
const corpus = t.corpus();
const at = new Int32Array(job.shared);
let maxMs = 0;
let totalMs = 0;
let rejected = 0;
for (let i = job.start; i < job.start + job.count; i++) {
  Atomics.store(at, 0, i);
  const input = mutant(corpus, t.dict, job.seed, t.name, i, t.maxBytes);
  const t0 = performance.now();
  try {
    t.run(input);
  } catch (e) {
    if (isOwnError(e)) rejected++;
    else parentPort!.postMessage({ kind: 'crash', index: i, message: `${(e as Error)?.name ?? 'thrown'}: ${String((e as Error)?.message ?? e).split('\n')[0]}`, stack: String((e as Error)?.stack ?? '').split('\n').slice(1, 4).join(' | ') });
  }
  const ms = performance.now() - t0;
  totalMs += ms;
  if (ms > maxMs) maxMs = ms;
  if (ms > job.slowMs) parentPort!.postMessage({ kind: 'slow', index: i, ms });
  if ((i - job.start) % 250 === 0) parentPort!.postMessage({ kind: 'progress', index: i, rss: process.memoryUsage().rss });
}
parentPort!.postMessage({ kind: 'done', maxMs, totalMs, rejected, rss: process.memoryUsage().rss });
