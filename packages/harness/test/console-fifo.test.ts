// The console FIFO's writer (harness console-fifo.ts): a schedule longer than a pipe
// holds reaches a reader that takes its time, whole; a FIFO nobody reads any more is no error.
// The boots that use it are checked on real kernels (probelab snapshot-qemu.test.ts).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFifo } from '../src/console-fifo.js';

describe('writeFifo', () => {
  it('writes 300 KiB through a 64 KiB pipe to a slow reader, every byte in order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'probelab-fifo-'));
    const fifo = join(dir, 'in');
    execFileSync('mkfifo', [fifo]);
    const out = join(dir, 'out');
    // A reader holding the FIFO open read-write, as QEMU does, draining it in small slow reads.
    const reader = spawn('sh', [
      '-c',
      `exec 3<>"${fifo}"; while :; do dd bs=4096 count=1 status=none <&3 >>"${out}"; sleep 0.01; done`,
    ]);
    await new Promise((r) => setTimeout(r, 200));
    const data = Buffer.alloc(300 * 1024);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7 + (i >> 12)) & 0xff;
    let exited = false;
    await writeFifo(fifo, data, () => exited);
    for (let i = 0; i < 400 && readFileSync(out, { flag: 'a+' }).length < data.length; i++)
      await new Promise((r) => setTimeout(r, 20));
    reader.kill('SIGKILL');
    exited = true;
    expect(readFileSync(out).equals(data)).toBe(true);
  }, 30_000);

  it('returns when nothing reads the FIFO', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'probelab-fifo-'));
    const fifo = join(dir, 'in');
    execFileSync('mkfifo', [fifo]);
    await expect(writeFifo(fifo, Buffer.from('S 8 x\n'), () => false)).resolves.toBeUndefined();
  });
});
