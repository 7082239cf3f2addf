/**
 * A survey worker thread: boards from the parent, one result (or the board's error) back each.
 * The profile comes once, in workerData (read from the tree once per survey, in the parent).
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { KernelProfile } from '@probelab/sim-core';
import { surveyBoard, type SurveyOptions } from './board-run.js';

const { profile, options } = workerData as { profile: KernelProfile; options: SurveyOptions };
parentPort!.on('message', (job: { dts: string; board: string } | null) => {
  if (job === null) process.exit(0);
  try {
    parentPort!.postMessage({ board: job.board, result: surveyBoard(job.dts, job.board, profile, options) });
  } catch (e) {
    parentPort!.postMessage({ board: job.board, error: (e as Error)?.message ?? String(e) });
  }
});
