/**
 * A QMP client (QEMU's machine protocol, docs/interop/qmp-spec.rst): a unix socket QEMU listens
 * on (`-qmp unix:PATH,server=on,wait=off`), the greeting, `qmp_capabilities`, then one command
 * at a time, each answered by `return` or `error`; asynchronous events are skipped.
 */
import { connect, type Socket } from 'node:net';
import { HarnessError } from './errors.js';

export interface Qmp {
  execute<T = unknown>(command: string, args?: Record<string, unknown>): Promise<T>;
  close(): void;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Connect to QEMU's QMP socket, retrying while QEMU starts (up to `timeoutMs`). */
export async function qmpConnect(path: string, timeoutMs = 10_000, gone: () => boolean = () => false): Promise<Qmp> {
  const end = Date.now() + timeoutMs;
  let sock: Socket | null = null;
  while (!sock) {
    try {
      sock = await new Promise<Socket>((resolve, reject) => {
        const s = connect(path, () => resolve(s));
        s.once('error', reject);
      });
    } catch (e) {
      if (gone()) throw new HarnessError(`QEMU exited before opening its QMP socket ${path}`);
      if (Date.now() > end)
        throw new HarnessError(
          `QEMU's QMP socket ${path} did not open within ${timeoutMs / 1000} s: ${(e as Error).message}`,
        );
      await sleep(5);
    }
  }
  const s = sock;
  let buf = '';
  const waiting: Array<(msg: Record<string, unknown>) => void> = [];
  const queued: Array<Record<string, unknown>> = [];
  let closed: Error | null = null;
  s.setEncoding('utf8');
  s.on('data', (d: string) => {
    buf += d;
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const line = buf.slice(0, i).trim();
      buf = buf.slice(i + 1);
      if (!line) continue;
      const msg = JSON.parse(line) as Record<string, unknown>;
      if ('event' in msg) continue;
      const w = waiting.shift();
      if (w) w(msg);
      else queued.push(msg);
    }
  });
  s.on('close', () => {
    closed = new Error('QEMU closed its QMP socket');
    for (const w of waiting.splice(0)) w({ error: { desc: closed.message } });
  });
  s.on('error', () => {});
  const next = (): Promise<Record<string, unknown>> => {
    const q = queued.shift();
    if (q) return Promise.resolve(q);
    if (closed) return Promise.resolve({ error: { desc: (closed as Error).message } });
    return new Promise((r) => waiting.push(r));
  };
  const greeting = await next();
  if (!('QMP' in greeting))
    throw new HarnessError(`QEMU's QMP socket ${path} did not greet: ${JSON.stringify(greeting)}`);
  const q: Qmp = {
    async execute<T>(command: string, args?: Record<string, unknown>): Promise<T> {
      s.write(`${JSON.stringify({ execute: command, ...(args ? { arguments: args } : {}) })}\n`);
      const r = await next();
      if ('error' in r)
        throw new HarnessError(`QMP ${command}: ${(r.error as { desc?: string }).desc ?? JSON.stringify(r.error)}`);
      return r.return as T;
    },
    close: () => s.destroy(),
  };
  await q.execute('qmp_capabilities');
  return q;
}
