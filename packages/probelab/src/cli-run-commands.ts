/**
 * The command table's rows that run many scenarios or boards (cli-table.ts): matrix, matrix
 * merge, calibrate, validate, survey.
 */
import { cmdValidate } from './kernel-commands.js';
import { cmdCalibrate, cmdMatrix, cmdMatrixMerge } from './matrix/command.js';
import type { CommandSpec } from './cli-table.js';
import { cold, flag, json, policy, str } from './cli-options.js';

export const runCommands: CommandSpec[] = [
  {
    words: ['matrix'],
    args: 'FILE',
    count: [1, 1],
    options: {
      jobs: { type: 'string', arg: 'N' },
      baseline: { type: 'string', arg: 'RESULTS.jsonl' },
      out: { type: 'string', arg: 'DIR' },
      shard: { type: 'string', arg: 'K/N' },
      ...policy,
      ...cold,
    },
    summary: [
      'every cell of a matrix file (ci/*.yaml) booted and',
      'predicted in parallel, resumable; results.jsonl,',
      'report.html, junit.xml; exit 1 on any disagreement',
      "or change from the baseline; --shard K/N: one shard's cells;",
      '--require-translation: untranslated IOMMU masters fail',
    ],
    run: ({ values, positionals }) => cmdMatrix(positionals[0]!, values),
  },
  {
    words: ['matrix', 'merge'],
    args: 'DIR...',
    count: [1, Infinity],
    options: {
      out: { type: 'string', arg: 'DIR', required: true },
      baseline: { type: 'string', arg: 'RESULTS.jsonl' },
      ...policy,
    },
    summary: ["shards merged into one run's results, report, JUnit"],
    run: ({ values, positionals }) =>
      cmdMatrixMerge(positionals, {
        out: str(values, 'out')!,
        ...(str(values, 'baseline') !== undefined ? { baseline: str(values, 'baseline')! } : {}),
        requireTranslation: flag(values, 'require-translation'),
      }),
  },
  {
    words: ['calibrate'],
    args: '[MATRIX]',
    count: [0, 1],
    options: { jobs: { type: 'string', arg: 'N' }, out: { type: 'string', arg: 'DIR' }, ...cold },
    summary: [
      'boot the reference cells (default ci/calibration.yaml),',
      "fit the simulator's timing per kernel, write",
      'qemu/calibration/KERNEL.json, print residuals',
    ],
    run: ({ values, positionals }) => cmdCalibrate(positionals[0] ?? 'ci/calibration.yaml', values),
  },
  {
    words: ['survey'],
    args: '',
    count: [0, 0],
    options: {
      source: { type: 'string', arg: '6.12|6.1|PATH' },
      config: { type: 'string', arg: 'FRAGMENT' },
      patch: { type: 'string', arg: 'FILE', multiple: true },
      boards: { type: 'string', arg: 'GLOB' },
      cmdline: { type: 'string', arg: '...' },
      userspace: { type: 'string', arg: 'coldplug@SECONDS' },
      jobs: { type: 'string', arg: 'N' },
      out: { type: 'string', arg: 'DIR' },
      ...policy,
      ...json,
    },
    summary: [
      'every arm64 board of the tree simulated as it boots (built-ins,',
      'then udev coldplug loading modules, default at 13 s): IOMMU',
      'masters translated/bypassed/deferred, devices deferred and why;',
      'with --patch, baseline vs patched and the boards that changed;',
      'results.jsonl (resumable), report.html, junit.xml',
    ],
    run: async ({ values }) => {
      const { cmdSurvey } = await import('./survey/command.js');
      return cmdSurvey(values, flag(values, 'json'));
    },
  },
  {
    words: ['validate'],
    args: '',
    count: [0, 0],
    options: {
      patch: { type: 'string', arg: 'FILE', multiple: true },
      series: { type: 'string', arg: 'DIR', multiple: true },
      matrix: { type: 'string', arg: 'FILE' },
      ...json,
      ...cold,
    },
    summary: [
      'baseline vs patched kernel on the same scenarios, real',
      'and simulated; exit 1 if the patch changed an outcome',
    ],
    run: ({ values }) => cmdValidate(values, flag(values, 'json')),
  },
];
