/**
 * The fuzzer's worker process: runs inputs [start, start+count) of one target, telling the
 * parent (run.ts) the index it starts on every 16 inputs and every input that crashed or was
 * slow. A process, not a thread: a heap blow-up ends only this process, which the parent
 * reports as a memory failure at the last index it was told.
 */
import { mutant } from './mutate.js';
import { fuzzTargets, isOwnError } from './targets.js';

interface Job {
  target: string;
  start: number;
  count: number;
  seed: number;
  slowMs: number;
}
const job = JSON.parse(process.argv[2]!) as Job;
const parentPort = { postMessage: (m: unknown): void => void process.send!(m) };
const t = fuzzTargets().find((x) => x.name === job.target);
if (!t) throw new Error(`no fuzz target ${job.target}`);
const corpus = t.corpus();
let maxMs = 0;
let totalMs = 0;
let rejected = 0;
// The loop never yields, so a closed IPC channel is never seen: a parent that died (killed by a
// timeout, say) shows as a changed parent pid, and the worker ends with it.
const parentPid = process.ppid;
for (let i = job.start; i < job.start + job.count; i++) {
  if (process.ppid !== parentPid) process.exit(1);
  parentPort.postMessage({ kind: 'at', index: i });
  const input = mutant(corpus, t.dict, job.seed, t.name, i, t.maxBytes);
  const t0 = performance.now();
  try {
    t.run(input);
  } catch (e) {
    if (isOwnError(e)) rejected++;
    else
      parentPort.postMessage({
        kind: 'crash',
        index: i,
        message: `${(e as Error)?.name ?? 'thrown'}: ${String((e as Error)?.message ?? e).split('\n')[0]}`,
        stack: String((e as Error)?.stack ?? '')
          .split('\n')
          .slice(1, 4)
          .join(' | '),
      });
  }
  const ms = performance.now() - t0;
  totalMs += ms;
  if (ms > maxMs) maxMs = ms;
  if (ms > job.slowMs) parentPort.postMessage({ kind: 'slow', index: i, ms });
  if ((i - job.start) % 250 === 0)
    parentPort.postMessage({ kind: 'progress', index: i, rss: process.memoryUsage().rss, maxMs, totalMs, rejected });
}
parentPort.postMessage({ kind: 'done', maxMs, totalMs, rejected, rss: process.memoryUsage().rss });
process.disconnect();
