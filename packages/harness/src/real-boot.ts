/**
 * `probelab boot`: provision the kernel, build the initramfs, boot QEMU under icount time warp,
 * parse the console into an Outcome. The raw console log is always kept.
 */
import { join } from 'node:path';
import type { Outcome, Scenario } from '@probelab/sim-core';
import { HarnessError } from './errors.js';
import { ensureDir, writeFile } from './atomic.js';
import { lockOutputDir } from './out-lock.js';
import { checkBoardMatchesQemu } from './boards.js';
import { buildInitramfs, type HandOff, type ShellGuest } from './initramfs.js';
import { ensureSnapshot, restoreSnapshot, scheduleInput, SnapshotUnavailable } from './snapshot.js';
import { handedBoot } from './handed-boot.js';
import { provisionKernel, staticProfile, type KernelArtefacts } from './kernels.js';
import { loadMachine, type MachineDef } from './machine.js';
import { bootCommand, shellLine } from './qemu-command.js';
import { outDir } from './paths.js';
import { requireQemu, runQemu, wallLimit } from './qemu-run.js';
import { outcomeFromConsole, parseConsole, type ParsedConsole } from './console-parser.js';

/**
 * Always on the command line of a real boot. They only add log lines (debug level, so kept in the
 * ring buffer and off the console), a trace of workqueue starts, and a bigger log buffer:
 * initcall_debug for "calling"/"probe of ... returned", dd.c dyndbg for binds and list moves.
 */
export const baseCmdline = [
  'initcall_debug',
  'log_buf_len=16M',
  'dyndbg="file drivers/base/dd.c +p"',
  'trace_event=workqueue:workqueue_execute_start',
  'trace_buf_size=4M',
  'panic=-1',
].join(' ');

export interface RealBoot {
  outcome: Outcome;
  parsed: ParsedConsole;
  consoleLog: string;
  wallSeconds: number;
  kernel: KernelArtefacts;
  /** Restored from a boot snapshot (snapshot.ts), or booted from the firmware. */
  from: 'snapshot' | 'cold';
}

/**
 * `snapshot`: restore a boot snapshot (snapshot.ts) instead of booting from the firmware, when
 * every scheduled action comes after the snapshot point (else the boot is cold, and says so).
 * Default: on, unless PROBELAB_SNAPSHOT=0 (what the command line's --cold sets).
 */
export interface BootOptions {
  out?: string;
  extraCmdline?: string;
  log?: (l: string) => void;
  snapshot?: boolean;
}

export async function bootScenario(s: Scenario, opts: BootOptions = {}): Promise<RealBoot> {
  const dir = opts.out ?? join(outDir(), s.name);
  ensureDir(dir);
  const release = lockOutputDir(dir);
  try {
    return await bootInto(dir, s, opts);
  } finally {
    release();
  }
}

/** `dtb`: the lab board QEMU boots with `-dtb` (dir/machine.dtb), null when QEMU boots its own tree. */
export interface PreparedBoot {
  machine: MachineDef;
  kernel: KernelArtefacts;
  initrd: string;
  cmdline: string;
  dtb: string | null;
}

/**
 * Everything a boot of `s` needs before QEMU starts, the same for `boot` and `shell`: QEMU's
 * own board checked, the kernel provisioned, the initramfs built into `dir`, the command line.
 */
export async function prepareBoot(
  dir: string,
  s: Scenario,
  opts: { extraCmdline?: string; log?: (l: string) => void; shell?: ShellGuest; handOff?: HandOff } = {},
): Promise<PreparedBoot> {
  const m = loadMachine();
  requireQemu(m.binary);
  await checkBoardMatchesQemu(s, dir);
  const kernel = await provisionKernel(s.kernel, opts.log);
  const prof = staticProfile(kernel);
  const initrd = join(dir, 'initramfs.cpio.gz');
  writeFile(initrd, await buildInitramfs(s, kernel, prof, opts.shell, opts.handOff));
  const cmdline = `console=${m.console} ${baseCmdline} ${opts.extraCmdline ?? ''} ${s.cmdline}`
    .replace(/\s+/g, ' ')
    .trim();
  return { machine: m, kernel, initrd, cmdline, dtb: s.machine.overlay ? join(dir, 'machine.dtb') : null };
}

/**
 * Guest seconds a restored init may take to have its schedule after the snapshot point (3-25 ms
 * measured on Debian 6.12 under TCG): an action closer to the point than this boots cold rather
 * than be restored and found late.
 */
export const handOffMargin = 0.05;

async function bootInto(dir: string, s: Scenario, opts: BootOptions): Promise<RealBoot> {
  const consoleLog = join(dir, 'console.log');
  // Under icount a guest second costs well under a wall second; a boot that takes longer than
  // this has hung. PROBELAB_WALL_LIMIT (seconds) overrides it.
  const limit = wallLimit(120 + s.capture * 2);
  const snapshot = opts.snapshot ?? process.env.PROBELAB_SNAPSHOT !== '0';
  let run: { console: string; wallSeconds: number } | null = null;
  let restored = false;
  // The image a snapshot is taken from: the schedule's 0 s actions in it, the rest handed over
  // at the init's ready point, by a restore or, for a cold boot, by handed-boot.ts.
  let handed: { late: string; capture: string; at: number[] } | null = null;
  const prep = await prepareBoot(dir, s, {
    ...opts,
    handOff: { scheduleOnConsole: true, onSchedule: (late, capture, at) => (handed = { late, capture, at }) },
  });
  const h = handed as { late: string; capture: string; at: number[] } | null;
  if (!h) throw new HarnessError('internal: the initramfs builder did not hand the schedule over');
  const { machine: m, kernel, initrd, cmdline, dtb } = prep;
  const args = (console: { file: string } | { pipe: string }): string[] =>
    bootCommand(m, s, {
      kernelImage: kernel.image,
      initrd,
      cmdline,
      console,
      timeWarp: true,
      ...(dtb ? { dtb } : {}),
    }).args;
  const first = Math.min(...h.at);
  // The init acts at absolute guest times; one that had its schedule only after an action's time
  // would have run that action late. Never kept: such a boot is done again the classic way.
  const lateSchedule = (console: string, how: string): boolean => {
    if (!console.includes('@@probelab-ready')) return false; // never got there: reported as it is
    const got = /^\[\s*(\d+\.\d{6})\] probelab: schedule received\r?$/m.exec(console);
    if (got && Number(got[1]) < first) return false;
    opts.log?.(
      `${s.name}: the ${how} guest had its schedule at ${got ? `${got[1]} s` : 'no time'}, after its first action (${first} s): booting cold with the whole schedule in the image`,
    );
    return true;
  };
  if (snapshot) {
    const snap = await ensureSnapshot(
      m.binary,
      (pipe) => args({ pipe }),
      [kernel.image, initrd, ...(dtb ? [dtb] : [])],
      limit,
      opts.log,
    ).catch((e: unknown) => {
      if (!(e instanceof SnapshotUnavailable)) throw e;
      opts.log?.(`${s.name}: no boot snapshot (${e.message}): booting cold`);
      return null;
    });
    // No snapshot: booted cold below, which reports the panic or the hang as any cold boot does.
    if (snap && first <= snap.meta.readyAt + handOffMargin) {
      opts.log?.(
        `${s.name}: an action at ${first} s comes before the boot snapshot's point (${snap.meta.readyAt} s, and ${handOffMargin * 1000} ms to hand the schedule over): booting cold`,
      );
    } else if (snap) {
      writeFile(
        join(dir, 'qemu-command.txt'),
        `${shellLine({ binary: m.binary, args: [...args({ pipe: `${consoleLog}.pipe` }), '-incoming', `exec:cat ${snap.state}`] })}\n`,
      );
      run = await restoreSnapshot(
        m.binary,
        (pipe) => args({ pipe }),
        snap,
        scheduleInput(h.late, h.capture),
        consoleLog,
        limit,
      );
      restored = true;
      if (lateSchedule(run.console, 'restored')) {
        run = null;
        restored = false;
      }
    }
  } else {
    writeFile(
      join(dir, 'qemu-command.txt'),
      `${shellLine({ binary: m.binary, args: args({ pipe: `${consoleLog}.pipe` }) })}\n# the schedule after 0 s is written to ${consoleLog}.pipe.in once the console says @@probelab-ready (handed-boot.ts)\n`,
    );
    const hb = await handedBoot(
      m.binary,
      (pipe) => args({ pipe }),
      scheduleInput(h.late, h.capture, true),
      first,
      handOffMargin,
      consoleLog,
      limit,
    );
    if (!hb.handed)
      opts.log?.(
        `${s.name}: an action at ${first} s comes before the init's ready point (${hb.readyAt} s, and ${handOffMargin * 1000} ms to hand the schedule over): booting cold with the whole schedule in the image`,
      );
    else if (!lateSchedule(hb.console, 'booted')) run = hb;
  }
  if (!run) {
    const { machine: m, kernel, initrd, cmdline, dtb } = await prepareBoot(dir, s, opts);
    const cmd = bootCommand(m, s, {
      kernelImage: kernel.image,
      initrd,
      cmdline,
      console: { file: consoleLog },
      timeWarp: true,
      ...(dtb ? { dtb } : {}),
    });
    writeFile(join(dir, 'qemu-command.txt'), shellLine(cmd) + '\n');
    run = await runQemu(m.binary, cmd.args, consoleLog, limit);
  }
  const parsed = parseConsole(run.console);
  if (parsed.panic)
    throw new HarnessError(`the guest kernel panicked: ${parsed.panic}; console log kept in ${consoleLog}`, consoleLog);
  if (!parsed.complete)
    throw new HarnessError(
      `the console ended before the guest's state dump (phase: ${parsed.phase}); console log kept in ${consoleLog}`,
      consoleLog,
    );
  return {
    outcome: outcomeFromConsole(
      parsed,
      s.modules.map((x) => x.name),
    ),
    parsed,
    consoleLog,
    wallSeconds: run.wallSeconds,
    kernel,
    from: restored ? 'snapshot' : 'cold',
  };
}
