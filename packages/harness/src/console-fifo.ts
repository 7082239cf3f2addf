/**
 * The FIFO a QEMU console reads its input from (QEMU's pipe chardev opens `<path>.in` read-write,
 * so it never sees an end): made fresh, and written whole while QEMU runs. Used to hand a waiting
 * guest its schedule (handed-boot.ts) and to tell a saved VM to print its ring buffer
 * (snapshot.ts).
 */
import { closeSync, constants, openSync, rmSync, writeSync } from 'node:fs';
import { HarnessError } from './errors.js';
import { runChild } from './lifetime.js';

/** A new FIFO at `path` (an old file there removed). */
export async function makeFifo(path: string): Promise<void> {
  rmSync(path, { force: true });
  const made = await runChild('mkfifo', [path], { reject: false, stdin: 'ignore', all: true });
  if (made.exitCode !== 0) throw new HarnessError(`could not make the FIFO ${path}: ${String(made.all ?? '').trim()}`);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * All of `data` into the FIFO QEMU reads (a pipe holds 64 KiB: a longer schedule waits for the
 * guest to read), until QEMU is gone: its console then ends early, and says so.
 */
export async function writeFifo(fifo: string, data: Buffer, gone: () => boolean): Promise<void> {
  let fd: number;
  try {
    fd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
  } catch {
    return; // ENXIO: no reader left
  }
  try {
    for (let off = 0; off < data.length && !gone();) {
      try {
        off += writeSync(fd, data, off);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') return; // EPIPE: QEMU exited
        await sleep(2);
      }
    }
  } finally {
    closeSync(fd);
  }
}
