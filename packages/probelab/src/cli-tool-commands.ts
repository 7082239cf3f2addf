/**
 * The command table's rows for kernels, boards and device trees (cli-table.ts): board dump, board
 * transplant, kernel build, kernel discover, dt compile / decompile / deps.
 */
import { kernelIdPattern, kernels, type KernelId } from '@probelab/sim-core';
import { cmdBoardDump, cmdDiscover } from './commands.js';
import { cmdDt, parseDtArgs } from './dt-commands.js';
import { cmdKernelBuild } from './kernel-commands.js';
import { UsageError, type CommandSpec } from './cli-table.js';
import { flag, str } from './cli-options.js';

export const toolCommands: CommandSpec[] = [
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
