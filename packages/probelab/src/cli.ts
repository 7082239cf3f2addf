/**
 * probelab's command line: the command table (cli-table.ts has the parser and the usage
 * generator). Exit status: 0 success/agreement, 1 disagreement, 2 bad input or infrastructure
 * failure. Errors are one clear message, never a stack trace.
 */
import { InputError, kernelIdPattern, kernels, type KernelId } from '@probelab/sim-core';
import { DtError } from '@probelab/dt-compiler';
import { HarnessError, installLifetime } from '@probelab/harness';
import { cmdBoardDump, cmdBoot, cmdCheck, cmdDiscover, cmdExplain, cmdPredict } from './commands.js';
import { cmdDt, parseDtArgs } from './dt-commands.js';
import { cmdKernelBuild, cmdValidate } from './kernel-commands.js';
import { cmdSweep } from './sweep.js';
import { cmdCalibrate, cmdMatrix, cmdMatrixMerge } from './matrix/command.js';
import { findCommand, parseCommand, renderUsage, UsageError, type CommandSpec, type OptionSpec } from './cli-table.js';

type V = Record<string, string | boolean | string[] | undefined>;
const str = (v: V, k: string): string | undefined => v[k] as string | undefined;
const strs = (v: V, k: string): string[] | undefined => v[k] as string[] | undefined;
const flag = (v: V, k: string): boolean => v[k] === true;

const json: Record<string, OptionSpec> = { json: { type: 'boolean' } };
const cold: Record<string, OptionSpec> = { cold: { type: 'boolean', hidden: true } };
const policy: Record<string, OptionSpec> = { 'require-translation': { type: 'boolean' } };

export const commands: CommandSpec[] = [
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
  {
    words: ['board', 'dump'],
    args: '',
    count: [0, 0],
    options: {},
    summary: ["write QEMU's virt device trees to boards/qemu-virt/dtb/"],
    run: () => cmdBoardDump(),
  },
  {
    words: ['board', 'transplant'],
    args: 'BOARD-SCENARIO',
    count: [1, 1],
    options: {
      o: { type: 'string', short: 'o', arg: 'OUT.yaml' },
      out: { type: 'string', arg: 'OUT.yaml', hidden: true },
      smmuv3: { type: 'boolean' },
    },
    summary: [
      "a lab scenario + fragment rebuilding a board's IOMMU",
      "masters, IOMMUs and their suppliers from the lab's test",
      'devices (default boards/lab/<name>-lab.yaml), and both',
      'predictions side by side',
    ],
    run: async ({ values, positionals }) => {
      const { cmdBoardTransplant } = await import('./transplant-command.js');
      return cmdBoardTransplant(positionals[0]!, str(values, 'o') ?? str(values, 'out'), flag(values, 'smmuv3'));
    },
  },
  {
    words: ['kernel', 'build'],
    args: '',
    count: [0, 0],
    options: {
      source: { type: 'string', arg: '6.12|6.1|PATH' },
      patch: { type: 'string', arg: 'FILE', multiple: true },
      series: { type: 'string', arg: 'DIR', multiple: true },
      config: { type: 'string', arg: 'FRAGMENT' },
    },
    summary: [
      'cross-build an arm64 kernel for virt (cached by inputs);',
      "the --patch files in order, then each --series DIR's",
    ],
    run: ({ values }) => cmdKernelBuild(values),
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
  {
    words: ['kernel', 'discover'],
    args: 'KERNEL',
    count: [1, 1],
    options: {},
    summary: [
      'read driver names, built-in matches and boot timing',
      'from discovery boots; writes qemu/kernels/KERNEL.json',
      `(KERNEL: ${kernels.join(' | ')})`,
    ],
    run: ({ positionals }) => {
      const k = positionals[0]!;
      if (!kernelIdPattern.test(k)) throw new UsageError(`kernel discover: expected one of ${kernels.join(', ')}`);
      return cmdDiscover(k as KernelId);
    },
  },
  ...(['compile', 'decompile', 'deps'] as const).map((sub): CommandSpec => ({
    words: ['dt', sub],
    args: 'FILE',
    count: [1, 1],
    options:
      sub === 'compile'
        ? {
            o: { type: 'string', short: 'o', arg: 'OUT.dtb' },
            'kernel-tree': { type: 'string', arg: 'DIR' },
            include: { type: 'string', short: 'I', arg: 'DIR', multiple: true },
            'dtc-flag': { type: 'string', arg: 'F', multiple: true },
          }
        : sub === 'decompile'
          ? { o: { type: 'string', short: 'o', arg: 'OUT.dts' } }
          : { format: { type: 'string', arg: 'text|json|dot' }, kernel: { type: 'string', arg: '6.1|6.12' } },
    ...(sub === 'compile'
      ? { synopsis: 'probelab dt compile FILE.dts [-o OUT.dtb] [--kernel-tree DIR | -I DIR...] [--dtc-flag F]...' }
      : sub === 'decompile'
        ? { synopsis: 'probelab dt decompile FILE.dtb [-o OUT.dts]' }
        : {}),
    summary:
      sub === 'compile'
        ? ['DTS to DTB as the kernel builds it (cpp + dtc)']
        : sub === 'decompile'
          ? ['DTB to DTS (dtc -I dtb -O dts)']
          : ['the supplier/consumer graph fw_devlink would build'],
    run: ({ values, positionals }) => {
      const parsed = parseDtArgs(positionals[0]!, values);
      if (typeof parsed === 'string') throw new UsageError(`dt ${sub}: ${parsed}`);
      return cmdDt(sub, parsed);
    },
  })),
];

const head = 'probelab: how a kernel orders device probing when IOMMU drivers are modules';
const tail = `Real boots restore a boot snapshot when the scenario's actions all come after the point where
the guest's init is ready (cached under ~/.cache/probelab/snapshots, keyed by everything before
it); --cold (boot, check, matrix, calibrate, validate) boots from the firmware every time.
Predictions never build a kernel: a source kernel not built yet is read from its source, its
Kconfig and its committed profile. Results and console logs go to ./out/<scenario>/
(PROBELAB_OUT), downloads and builds to ~/.cache/probelab (PROBELAB_CACHE).`;

export const usage = renderUsage(commands, head, tail);

export async function main(argv: string[]): Promise<number> {
  installLifetime();
  try {
    const [cmd] = argv;
    if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
      process.stdout.write(usage);
      return cmd ? 0 : 2;
    }
    const c = findCommand(commands, argv);
    if (!c) {
      const known = commands.some((x) => x.words[0] === cmd);
      return fail(
        known
          ? `${cmd}: expected one of ${commands
              .filter((x) => x.words[0] === cmd)
              .map((x) => `\`${x.words.join(' ')}\``)
              .join(', ')}`
          : `unknown command ${cmd} (probelab --help lists the commands)`,
      );
    }
    const p = parseCommand(c, argv.slice(c.words.length));
    // --cold: boot from the firmware every time, not from a boot snapshot (harness snapshot.ts).
    if (p.values.cold) process.env.PROBELAB_SNAPSHOT = '0';
    return await c.run(p);
  } catch (e) {
    if (e instanceof UsageError) return fail(e.message);
    if (e instanceof InputError || e instanceof DtError || e instanceof HarnessError)
      return fail(e.toString().replace(/^(\w*Error: )/, ''));
    return fail(`internal error: ${(e as Error)?.message ?? String(e)}`);
  }
}

function fail(msg: string): number {
  process.stderr.write(`probelab: ${msg}\n`);
  return 2;
}
