/**
 * The command table's rows that read or write logs of real boards (cli-table.ts): lava job, lava
 * parse, parse.
 */
import type { CommandSpec } from './cli-table.js';
import { flag, json, policy, str } from './cli-options.js';

export const logCommands: CommandSpec[] = [
  {
    words: ['lava', 'job'],
    args: 'SCENARIO',
    count: [1, 1],
    options: {
      'device-type': { type: 'string', arg: 'TYPE', required: true },
      'artifacts-url': { type: 'string', arg: 'URL' },
      o: { type: 'string', short: 'o', arg: 'DIR' },
      'kernel-build': { type: 'string', arg: 'DIR' },
    },
    summary: [
      'a LAVA job for the scenario and its artefacts (qemu: the',
      'boot of `boot`, with a device dictionary for lava-run;',
      'a real board: TFTP + U-Boot, its DTB, your kernel build)',
    ],
    run: async ({ values, positionals }) => {
      const { cmdLavaJob } = await import('./lava/command.js');
      return cmdLavaJob(positionals[0]!, {
        deviceType: str(values, 'device-type')!,
        ...(str(values, 'artifacts-url') !== undefined ? { artifactsUrl: str(values, 'artifacts-url')! } : {}),
        ...(str(values, 'o') !== undefined ? { out: str(values, 'o')! } : {}),
        ...(str(values, 'kernel-build') !== undefined ? { kernelBuild: str(values, 'kernel-build')! } : {}),
      });
    },
  },
  {
    words: ['lava', 'parse'],
    args: 'LOG',
    count: [1, 1],
    options: { ...json },
    summary: ["a LAVA log (output.yaml, lava-run's output) or console", 'log of a probelab guest -> the outcome'],
    run: async ({ values, positionals }) => {
      const { cmdLavaParse } = await import('./lava/command.js');
      return cmdLavaParse(positionals[0]!, flag(values, 'json'));
    },
  },
  {
    words: ['parse'],
    args: 'LOG',
    count: [1, 1],
    options: { ...policy, board: { type: 'string', arg: 'BOARD-SCENARIO' }, ...json },
    synopsis: 'probelab parse LOG [--require-translation --board BOARD-SCENARIO] [--json]',
    summary: [
      "any board's boot log (serial capture, dmesg, LAVA or",
      'KernelCI log, a log pasted in a mail) -> per device: the',
      'driver, IOMMU group, ignored dependency, deferred at the',
      "end and why; '?' (null + evidence) where the log cannot tell",
    ],
    run: async ({ values, positionals }) => {
      const { cmdParse } = await import('./parse/command.js');
      return cmdParse(positionals[0]!, str(values, 'board'), flag(values, 'require-translation'), flag(values, 'json'));
    },
  },
];
