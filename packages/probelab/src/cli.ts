/**
 * probelab's command line. Exit status: 0 success/agreement, 1 disagreement, 2 bad input or
 * infrastructure failure. Errors are one clear message, never a stack trace.
 */
import { InputError, kernelIdPattern, kernels, type KernelId } from '@probelab/sim-core';
import { DtError } from '@probelab/dt-compiler';
import { HarnessError, installLifetime } from '@probelab/harness';
import { cmdBoardDump, cmdBoot, cmdCheck, cmdDiscover, cmdExplain, cmdPredict } from './commands.js';
import { cmdDt, parseDtArgs } from './dt-commands.js';
import { cmdKernelBuild, cmdValidate } from './kernel-commands.js';
import { cmdSweep } from './sweep.js';
import { cmdCalibrate, cmdMatrix } from './matrix/command.js';

const usage = `probelab: how a kernel orders device probing when IOMMU drivers are modules

usage:
  probelab predict SCENARIO [--json]     the simulator's outcome (no QEMU boot); SCENARIO is a
                                         QEMU virt scenario or a board scenario (boards/*/)
  probelab boot SCENARIO [--json]        boot the real kernel under QEMU and read the outcome
  probelab check SCENARIO [--json] [--require-translation]
                                         both, and a diff; exit 0 agree, 1 differ, 2 error;
                                         --require-translation: also 1 if an IOMMU master (iommus,
                                         iommu-map) ends untranslated, real or predicted
  probelab explain SCENARIO DEVICE       the events and kernel rules behind one device's outcome
  probelab sweep SCENARIO --timeout LIST --load MODULE@LIST
                                         the simulator over timeouts x load times: a table of
                                         translated/bypassed/deferred masters and an SVG chart
  probelab matrix FILE [--jobs N] [--baseline RESULTS.jsonl] [--out DIR]
                                         every cell of a matrix file (ci/*.yaml) booted and
                                         predicted in parallel, resumable; results.jsonl,
                                         report.html, junit.xml; exit 1 on any disagreement
                                         or change from the baseline; --shard K/N: one shard's cells;
                                         --require-translation: untranslated IOMMU masters fail
  probelab matrix merge DIR... --out DIR [--baseline RESULTS.jsonl]
                                         shards merged into one run's results, report, JUnit
  probelab calibrate [MATRIX] [--jobs N]  boot the reference cells (default ci/calibration.yaml),
                                         fit the simulator's timing per kernel, write
                                         qemu/calibration/KERNEL.json, print residuals
  probelab lava job SCENARIO --device-type TYPE [--artifacts-url URL] [-o DIR] [--kernel-build DIR]
                                         a LAVA job for the scenario and its artefacts (qemu: the
                                         boot of \`boot\`, with a device dictionary for lava-run;
                                         a real board: TFTP + U-Boot, its DTB, your kernel build)
  probelab lava parse LOG [--json]       a LAVA log (output.yaml, lava-run's output) or console
                                         log of a probelab guest -> the outcome
  probelab check SCENARIO --lava LOG     the prediction against a LAVA run's log
  probelab survey [--source 6.12|6.1|PATH] [--config FRAGMENT] [--patch FILE]... [--boards GLOB]
         [--cmdline ...] [--userspace coldplug@SECONDS] [--jobs N] [--out DIR] [--require-translation]
                                         every arm64 board of the tree simulated as it boots (built-ins,
                                         then udev coldplug loading modules, default at 13 s): IOMMU
                                         masters translated/bypassed/deferred, devices deferred and why;
                                         with --patch, baseline vs patched and the boards that changed;
                                         results.jsonl (resumable), report.html, junit.xml
  probelab check SCENARIO --log LOG [--require-translation]
                                         the prediction against any real boot log (parse), compared
                                         only on what the log shows; exit 1 where they differ;
                                         --require-translation: the board's IOMMU masters the log
                                         shows bound without a group, or deferred, fail too
  probelab parse LOG [--require-translation --board BOARD-SCENARIO] [--json]
                                         any board's boot log (serial capture, dmesg, LAVA or
                                         KernelCI log, a log pasted in a mail) -> per device: the
                                         driver, IOMMU group, ignored dependency, deferred at the
                                         end and why; '?' (null + evidence) where the log cannot tell
  probelab shell SCENARIO [--module NAME]...
                                         boot as \`boot\` does, run the schedule, then the guest's
                                         shell on this terminal (real time; Ctrl-] q leaves):
                                         modprobe/rmmod by hand, probelab-state; on leaving the
                                         state is diffed against the prediction
  probelab board dump                    write QEMU's virt device trees to boards/qemu-virt/dtb/
  probelab board transplant BOARD-SCENARIO [-o OUT.yaml] [--smmuv3]
                                         a lab scenario + fragment rebuilding a board's IOMMU
                                         masters, IOMMUs and their suppliers from the lab's test
                                         devices (default boards/lab/<name>-lab.yaml), and both
                                         predictions side by side
  probelab kernel build [--source 6.12|6.1|PATH] [--patch FILE]... [--series DIR] [--config FRAGMENT]
                                         cross-build an arm64 kernel for virt (cached by inputs)
  probelab validate --patch FILE... [--matrix FILE] [--json]
                                         baseline vs patched kernel on the same scenarios, real
                                         and simulated; exit 1 if the patch changed an outcome
  probelab kernel discover KERNEL        read driver names, built-in matches and boot timing
                                         from discovery boots; writes qemu/kernels/KERNEL.json
                                         (KERNEL: ${kernels.join(' | ')})
  probelab dt compile FILE.dts [-o OUT.dtb] [--kernel-tree DIR | -I DIR...] [--dtc-flag F]
                                         DTS to DTB as the kernel builds it (cpp + dtc)
  probelab dt decompile FILE.dtb [-o OUT.dts]
  probelab dt deps FILE [--format text|json|dot] [--kernel 6.1|6.12]
                                         the supplier/consumer graph fw_devlink would build
  probelab --help

Real boots restore a boot snapshot when the scenario's actions all come after the point where
the guest's init is ready (cached under ~/.cache/probelab/snapshots, keyed by everything before
it); --cold (boot, check, matrix, calibrate, validate) boots from the firmware every time.
Results and console logs go to ./out/<scenario>/ (PROBELAB_OUT), downloads to
~/.cache/probelab (PROBELAB_CACHE).
`;

export async function main(argv: string[]): Promise<number> {
  // --cold: boot from the firmware every time, not from a boot snapshot (harness snapshot.ts).
  if (argv.includes('--cold')) {
    process.env.PROBELAB_SNAPSHOT = '0';
    argv = argv.filter((a) => a !== '--cold');
  }
  const json = argv.includes('--json');
  const args = argv.filter((a) => a !== '--json');
  const [cmd, a1, a2] = args;
  installLifetime();
  try {
    if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
      process.stdout.write(usage);
      return cmd ? 0 : 2;
    }
    if (cmd === 'sweep') return await cmdSweep(args.slice(1), json);
    if (cmd === 'matrix') return await cmdMatrix(args.slice(1));
    if (cmd === 'calibrate') return await cmdCalibrate(args.slice(1));
    if (cmd === 'survey') {
      const { cmdSurvey } = await import('./survey/command.js');
      return await cmdSurvey(args.slice(1), json);
    }
    if (cmd === 'parse') {
      const { cmdParse } = await import('./parse/command.js');
      return await cmdParse(args.slice(1), json);
    }
    if (cmd === 'lava') {
      const { cmdLava } = await import('./lava/command.js');
      return await cmdLava(args.slice(1), json);
    }
    if (cmd === 'check' && args.includes('--log')) {
      const i = args.indexOf('--log');
      const log = args[i + 1];
      const rest = args.slice(1).filter((_, j) => j !== i - 1 && j !== i);
      const policyFlag = rest.includes('--require-translation');
      const files = rest.filter((a) => a !== '--require-translation');
      if (!log || files.length !== 1 || files[0]!.startsWith('-'))
        return fail('check: usage: probelab check SCENARIO --log LOG [--require-translation] [--json]');
      const { cmdCheckLog } = await import('./commands.js');
      return await cmdCheckLog(files[0]!, log, json, policyFlag);
    }
    if (cmd === 'check' && args.includes('--lava')) {
      const i = args.indexOf('--lava');
      const log = args[i + 1];
      const rest = args.slice(1).filter((_, j) => j !== i - 1 && j !== i);
      if (!log || rest.length !== 1) return fail('check: usage: probelab check SCENARIO --lava LOG [--json]');
      const { cmdCheckLava } = await import('./commands.js');
      return await cmdCheckLava(rest[0]!, log, json);
    }
    if (cmd === 'shell') {
      const rest = args.slice(1);
      const mods: string[] = [];
      let file: string | undefined;
      for (let i = 0; i < rest.length; i++) {
        if (rest[i] === '--module') {
          const m = rest[++i];
          if (!m || !/^[A-Za-z0-9_-]+$/.test(m)) return fail('shell: --module takes a module name (the .ko base name)');
          mods.push(m);
        } else if (rest[i]!.startsWith('-')) return fail(`shell: unknown option ${rest[i]}`);
        else if (!file) file = rest[i];
        else return fail(`shell: unexpected argument ${rest[i]}`);
      }
      if (!file) return fail('shell: missing SCENARIO (a QEMU scenario file)');
      const { cmdShell } = await import('./shell.js');
      return await cmdShell(file, mods);
    }
    if (cmd === 'board' && a1 === 'transplant') {
      const { cmdBoardTransplant } = await import('./transplant-command.js');
      return await cmdBoardTransplant(argv.slice(2));
    }
    const requireTranslation = cmd === 'check' && args.includes('--require-translation');
    const unknownFlag =
      cmd === 'dt' || cmd === 'validate' || (cmd === 'kernel' && a1 === 'build')
        ? undefined
        : args.find((a) => a.startsWith('-') && !(requireTranslation && a === '--require-translation'));
    if (unknownFlag) return fail(`unknown option ${unknownFlag}\n\n${usage}`);
    if (cmd === 'predict' || cmd === 'boot' || cmd === 'check') {
      if (!a1) return fail(`${cmd}: missing SCENARIO (a .yaml or .json scenario file)`);
      if (cmd === 'check') return await cmdCheck(a1, json, requireTranslation);
      return await (cmd === 'predict' ? cmdPredict : cmdBoot)(a1, json);
    }
    if (cmd === 'board' && a1 === 'dump') return await cmdBoardDump();
    if (cmd === 'explain') {
      if (!a1 || !a2) return fail('explain: usage: probelab explain SCENARIO DEVICE');
      return await cmdExplain(a1, a2);
    }
    if (cmd === 'dt') {
      const parsed = parseDtArgs(argv.slice(2));
      if (typeof parsed === 'string') return fail(`dt ${a1 ?? ''}: ${parsed}`);
      return cmdDt(a1 ?? '', parsed);
    }
    if (cmd === 'kernel' && a1 === 'build') return await cmdKernelBuild(argv.slice(2));
    if (cmd === 'validate')
      return await cmdValidate(
        argv.slice(1).filter((a) => a !== '--json'),
        json,
      );
    if (cmd === 'kernel' && a1 === 'discover') {
      if (!a2 || !kernelIdPattern.test(a2)) return fail(`kernel discover: expected one of ${kernels.join(', ')}`);
      return await cmdDiscover(a2 as KernelId);
    }
    return fail(`unknown command ${cmd}\n\n${usage}`);
  } catch (e) {
    if (e instanceof InputError || e instanceof DtError || e instanceof HarnessError)
      return fail(e.toString().replace(/^(\w*Error: )/, ''));
    return fail(`internal error: ${(e as Error)?.message ?? String(e)}`);
  }
}

function fail(msg: string): number {
  process.stderr.write(`probelab: ${msg}\n`);
  return 2;
}
