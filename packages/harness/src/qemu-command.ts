/**
 * The QEMU command line of a scenario's boot, built in one place for `boot` and `shell`: the
 * machine (machine.ts, from qemu/machines/virt.json), the kernel, the initramfs, the command line,
 * the console (a file chardev for boots, the terminal for a shell) and the time base (icount
 * time warp with a fixed random seed and wall clock for boots, real time for a person at a
 * prompt), and for lab boards the merged tree (`-dtb`, machine-overlay.ts). `shellLine` is what
 * qemu-command.txt holds: one line a user can paste to run the same boot by hand.
 */
import type { Scenario } from '@probelab/sim-core';
import { machineArgs, type MachineDef } from './machine.js';

export interface QemuCommand {
  binary: string;
  args: string[];
}

/**
 * A file; `{ pipe }`: QEMU's pipe chardev on two regular files, `<pipe>.in` what the guest reads
 * from its console (a restored snapshot's schedule) and `<pipe>.out` the log; or the terminal.
 */
export type ConsoleTo = { file: string } | { pipe: string } | 'terminal';

export function bootCommand(
  m: MachineDef,
  s: Scenario,
  o: { kernelImage: string; initrd: string; cmdline: string; console: ConsoleTo; timeWarp: boolean; dtb?: string },
): QemuCommand {
  // A file chardev for boots: a pipe the host reads slowly would stall the guest's UART, and
  // under icount that stall is guest time. For a shell the terminal, with Ctrl-C passed to the
  // guest (signal=off) instead of stopping QEMU.
  const consoleArgs =
    o.console === 'terminal'
      ? ['-chardev', 'stdio,id=probelab-console,signal=off', '-serial', 'chardev:probelab-console']
      : 'pipe' in o.console
        ? ['-chardev', `pipe,id=probelab-console,path=${o.console.pipe}`, '-serial', 'chardev:probelab-console']
        : ['-chardev', `file,id=probelab-console,path=${o.console.file}`, '-serial', 'chardev:probelab-console'];
  // A boot's time base, and what makes it repeatable: under icount with the same random inputs
  // and wall clock, two boots of a scenario are the same boot (virt.json `_determinism`), so a
  // snapshot's prefix is the cold boot's. A shell runs in real time with the host's randomness.
  const time = o.timeWarp ? ['-icount', m.icount, '-seed', String(m.seed), '-rtc', m.rtc] : [];
  return {
    binary: m.binary,
    args: [
      ...consoleArgs,
      ...machineArgs(m, s),
      '-no-reboot',
      ...time,
      '-kernel',
      o.kernelImage,
      '-initrd',
      o.initrd,
      ...(o.dtb ? ['-dtb', o.dtb] : []),
      '-append',
      o.cmdline,
    ],
  };
}

/** POSIX shell quoting: plain words stay bare, anything else in single quotes. */
export function shellQuote(a: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}

export function shellLine(c: QemuCommand): string {
  return [c.binary, ...c.args].map(shellQuote).join(' ');
}
