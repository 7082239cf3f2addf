/**
 * The command table's rows for one scenario (cli-table.ts): predict, boot, check (against a boot,
 * a real log or a LAVA log), explain, sweep, shell.
 */
import { cmdBoot, cmdCheck, cmdExplain, cmdPredict } from './commands.js';
import { cmdSweep } from './sweep.js';
import { UsageError, type CommandSpec } from './cli-table.js';
import { cold, flag, json, policy, str, strs } from './cli-options.js';

export const scenarioCommands: CommandSpec[] = [
  {
    words: ['predict'],
    args: 'SCENARIO',
    count: [1, 1],
    options: { ...json },
    summary: [
      "the simulator's outcome (no QEMU boot); SCENARIO is a",
      'QEMU virt scenario or a board scenario (boards/*/)',
    ],
    run: ({ values, positionals }) => cmdPredict(positionals[0]!, flag(values, 'json')),
  },
  {
    words: ['boot'],
    args: 'SCENARIO',
    count: [1, 1],
    options: { ...json, ...cold },
    summary: ['boot the real kernel under QEMU and read the outcome'],
    run: ({ values, positionals }) => cmdBoot(positionals[0]!, flag(values, 'json')),
  },
  {
    words: ['check'],
    args: 'SCENARIO',
    count: [1, 1],
    options: {
      ...json,
      ...policy,
      log: { type: 'string', arg: 'LOG' },
      lava: { type: 'string', arg: 'LOG' },
      ...cold,
    },
    summary: [
      'boot and predict, and a diff; exit 0 agree, 1 differ,',
      '2 error; --require-translation: also 1 if an IOMMU',
      'master (iommus, iommu-map) ends untranslated;',
      '--log LOG: the prediction against any real boot log',
      '(parse), compared only on what the log shows; with',
      "--require-translation the board's masters the log shows",
      'bound without a group, or deferred, fail too;',
      "--lava LOG: against a LAVA run's log",
    ],
    run: async ({ values, positionals }) => {
      const file = positionals[0]!;
      const log = str(values, 'log');
      const lava = str(values, 'lava');
      if (log !== undefined && lava !== undefined)
        throw new UsageError('check: --log and --lava are two ways to check; give one');
      if (log !== undefined) {
        const { cmdCheckLog } = await import('./commands.js');
        return cmdCheckLog(file, log, flag(values, 'json'), flag(values, 'require-translation'));
      }
      if (lava !== undefined) {
        if (flag(values, 'require-translation'))
          throw new UsageError('check: --require-translation goes with a boot or --log, not --lava');
        const { cmdCheckLava } = await import('./commands.js');
        return cmdCheckLava(file, lava, flag(values, 'json'));
      }
      return cmdCheck(file, flag(values, 'json'), flag(values, 'require-translation'));
    },
  },
  {
    words: ['explain'],
    args: 'SCENARIO DEVICE',
    count: [2, 2],
    options: {},
    summary: ["the events and kernel rules behind one device's outcome"],
    run: ({ positionals }) => cmdExplain(positionals[0]!, positionals[1]!),
  },
  {
    words: ['sweep'],
    args: 'SCENARIO',
    count: [1, 1],
    options: {
      timeout: { type: 'string', arg: 'LIST', required: true },
      load: { type: 'string', arg: 'MODULE@LIST', required: true },
      ...json,
    },
    summary: [
      'the simulator over timeouts x load times: a table of',
      'translated/bypassed/deferred masters and an SVG chart',
    ],
    run: ({ values, positionals }) =>
      cmdSweep(positionals[0]!, str(values, 'timeout')!, str(values, 'load')!, flag(values, 'json')),
  },
  {
    words: ['shell'],
    args: 'SCENARIO',
    count: [1, 1],
    options: { module: { type: 'string', arg: 'NAME', multiple: true } },
    summary: [
      "boot as `boot` does, run the schedule, then the guest's",
      'shell on this terminal (real time; Ctrl-] q leaves):',
      'modprobe/rmmod by hand, probelab-state; on leaving the',
      'state is diffed against the prediction',
    ],
    run: async ({ values, positionals }) => {
      const mods = strs(values, 'module') ?? [];
      for (const m of mods)
        if (!/^[A-Za-z0-9_-]+$/.test(m))
          throw new UsageError('shell: --module takes a module name (the .ko base name)');
      const { cmdShell } = await import('./shell.js');
      return cmdShell(positionals[0]!, mods);
    },
  },
];
