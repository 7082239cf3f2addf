/** A newc ("070701") cpio writer, the initramfs format the kernel unpacks (init/initramfs.c). */
import { gzipSync } from 'node:zlib';

export type CpioEntry =
  | { path: string; type: 'dir'; mode?: number }
  | { path: string; type: 'file'; data: Uint8Array; mode?: number }
  | { path: string; type: 'symlink'; target: string };

export function writeCpio(entries: CpioEntry[]): Buffer {
  const chunks: Buffer[] = [];
  let ino = 1;
  const pad4 = (n: number): Buffer => Buffer.alloc((4 - (n % 4)) % 4);
  const header = (name: string, mode: number, size: number): void => {
    const fields = [ino++, mode, 0, 0, 1, 0, size, 0, 0, 0, 0, Buffer.byteLength(name) + 1, 0];
    const h = '070701' + fields.map((f) => f.toString(16).padStart(8, '0')).join('');
    const nameBuf = Buffer.concat([Buffer.from(h + name, 'latin1'), Buffer.from([0])]);
    chunks.push(nameBuf, pad4(nameBuf.length));
  };
  for (const e of entries) {
    const name = e.path.replace(/^\/+/, '');
    if (e.type === 'dir') header(name, 0o040000 | (e.mode ?? 0o755), 0);
    else if (e.type === 'symlink') {
      const t = Buffer.from(e.target);
      header(name, 0o120000 | 0o777, t.length);
      chunks.push(t, pad4(t.length));
    } else {
      header(name, 0o100000 | (e.mode ?? 0o644), e.data.length);
      chunks.push(Buffer.from(e.data), pad4(e.data.length));
    }
  }
  header('TRAILER!!!', 0, 0);
  return Buffer.concat(chunks);
}

export function gzipCpio(entries: CpioEntry[]): Buffer {
  return gzipSync(writeCpio(entries), { level: 1 });
}
