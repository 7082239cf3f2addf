/**
 * A survey's boards simulated on worker threads (worker.ts), one profile shared by every worker,
 * results in finishing order.
 */
import { Worker } from 'node:worker_threads';
import type { SourceProfile } from '@probelab/harness';
import type { BoardResult, SurveyOptions } from './board-run.js';

/** Simulate `boards` on `profile` in `jobs` worker threads; `done` for each board in finishing order. */
export async function runBoards(
  profile: SourceProfile,
  boards: Array<{ dts: string; board: string }>,
  options: SurveyOptions,
  jobs: number,
  done: (r: { board: string; result?: BoardResult; error?: string }) => void,
): Promise<void> {
  if (!boards.length) return;
  const queue = [...boards];
  const workers = Array.from(
    { length: Math.min(jobs, boards.length) },
    () => new Worker(new URL('./worker.js', import.meta.url), { workerData: { profile, options } }),
  );
  await Promise.all(
    workers.map(
      (w) =>
        new Promise<void>((resolveW, reject) => {
          const next = (): void => {
            const job = queue.shift();
            w.postMessage(job ?? null);
            if (!job) resolveW();
          };
          w.on('message', (m: { board: string; result?: BoardResult; error?: string }) => {
            done(m);
            next();
          });
          w.on('error', reject);
          next();
        }),
    ),
  );
  await Promise.all(workers.map((w) => w.terminate()));
}
