/**
 * A cold boot of a snapshot's image: booted from the firmware with the initramfs a boot snapshot
 * is taken from (the schedule's 0 s actions in it, initramfs.ts `scheduleOnConsole`), and handed
 * the rest of its schedule on the console when its init says it is ready, as a restored guest is
 * (qemu/guest/init). Up to that point it is the boot the snapshot saved, so the cold boot a
 * restore is held against differs from it only by the save and the restore.
 *
 * The classic cold boot, the whole schedule in the initramfs, boots another image; under icount
 * any other byte the kernel unpacks moves the rest of the boot: two schedules that differ in one
 * action's time put the init's start 8-40 ms apart (bpf_tcp_ca_kfunc_init and the unpacking
 * worker share the one CPU differently). It stays for what cannot be handed over: an action at or
 * before the ready point (real-boot.ts).
 *
 * The console is QEMU's pipe chardev: `<pipe>.out` a regular file (the log, never waited on),
 * `<pipe>.in` a FIFO QEMU opens read-write, written once the init printed "@@probelab-ready":
 * before it, no byte reaches the guest's UART.
 */
import { readFileSync, rmSync } from 'node:fs';
import { writeFile } from './atomic.js';
import { makeFifo, writeFifo } from './console-fifo.js';
import { registerTemp, releaseTemp } from './lifetime.js';
import { startQemu } from './qemu-run.js';
import { readyPoint, SnapshotUnavailable, untilConsole } from './snapshot.js';

export type HandedBoot =
  | { console: string; wallSeconds: number; handed: true }
  /** The init was ready only after (or too close to) the first action: boot the classic way. */
  | { readyAt: number; handed: false };

/**
 * Boot `args(pipe)` (QEMU's command with the console at `pipe`), hand `input` over at the ready
 * point unless the first late action (`first`, guest seconds) is within `margin` of it. A guest
 * that never gets there (a panic, a hang) is reported as a cold boot reports it: its console is
 * returned, or the wall limit's error thrown.
 */
export async function handedBoot(
  binary: string,
  args: (pipe: string) => string[],
  input: string,
  first: number,
  margin: number,
  consoleLog: string,
  wallLimitSeconds: number,
): Promise<HandedBoot> {
  const pipe = `${consoleLog}.pipe`;
  const out = `${pipe}.out`;
  const fifo = `${pipe}.in`;
  for (const f of [out, fifo]) registerTemp(f);
  writeFile(out, '');
  writeFile(consoleLog, '');
  await makeFifo(fifo);
  const q = await startQemu(binary, args(pipe), wallLimitSeconds, consoleLog);
  try {
    const ready = await untilConsole(out, '@@probelab-ready', wallLimitSeconds * 1000, () => !q.exited()).catch(
      (e: unknown) => {
        if (e instanceof SnapshotUnavailable) return null;
        throw e;
      },
    );
    if (ready !== null) {
      const readyAt = readyPoint(ready);
      if (first <= readyAt + margin) return { readyAt, handed: false };
      await writeFifo(fifo, Buffer.from(input), q.exited);
    }
    let wallSeconds: number;
    try {
      wallSeconds = await q.finished();
    } finally {
      writeFile(consoleLog, readFileSync(out, 'utf8'));
    }
    return { console: readFileSync(consoleLog, 'utf8'), wallSeconds, handed: true };
  } finally {
    q.stop();
    for (const f of [out, fifo]) {
      rmSync(f, { force: true });
      releaseTemp(f);
    }
  }
}
