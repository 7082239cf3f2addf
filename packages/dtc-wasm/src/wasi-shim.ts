/**
 * A WASI preview1 host for dtc alone, in memory: the fifteen calls dtc.wasm imports. Files dtc
 * reads come from an in-memory map (inputs) or, read-only, from host directories it is allowed;
 * files it writes stay in memory. Nothing is opened on the host that outlives a call, which
 * node:wasi cannot promise (its pre-opened directories hold descriptors until collected).
 */
import { readFileSync, statSync } from 'node:fs';
import { resolve, sep } from 'node:path';

/** The sandbox directory of in-memory files (inputs and outputs): a name no host path starts
 *  with, since messages drop it (a host file under /work once lost that prefix in every message). */
export const MEMORY_DIR = '/.probelab-dtc-memory';

const E = { SUCCESS: 0, ACCES: 2, BADF: 8, INVAL: 28, ISDIR: 31, NOENT: 44, NOSYS: 52, NOTDIR: 54 } as const;
const FILETYPE = { CHAR: 2, DIR: 3, FILE: 4 } as const;
const O_CREAT = 1;
const O_DIRECTORY = 2;
const O_TRUNC = 8;

export class ProcExit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

/**
 * dtc stopped by the shim: it had printed an ERROR (so the compile has failed, whatever follows)
 * and then more than `floodBytes` of messages. dtc's checks report every pair of duplicates, so
 * 750 copies of one property make 281,000 messages (native dtc: 7 s); nothing after the first
 * megabyte changes the result.
 */
export class MessageFlood extends Error {
  constructor(readonly bytes: number) {
    super(`stopped after ${bytes} bytes of error messages`);
  }
}
export const floodBytes = 1024 * 1024;

interface OpenFile {
  kind: 'file' | 'dir' | 'stdio';
  path: string;
  data: Uint8Array;
  size: number;
  pos: number;
  writable: boolean;
}

export interface ShimOptions {
  args: string[];
  /** In-memory files by absolute path. */
  files: Map<string, Uint8Array>;
  /** Host directories dtc may read below (absolute). */
  readDirs: string[];
}

export class WasiShim {
  private memory!: WebAssembly.Memory;
  private fds = new Map<number, OpenFile>();
  private nextFd = 4;
  readonly stdout = new ByteSink();
  readonly stderr = new ByteSink();
  /** dtc printed an ERROR message (not only warnings): its run has failed. */
  sawError = false;

  constructor(private readonly opts: ShimOptions) {
    this.fds.set(0, { kind: 'stdio', path: '<stdin>', data: new Uint8Array(0), size: 0, pos: 0, writable: false });
    this.fds.set(1, { kind: 'stdio', path: '<stdout>', data: new Uint8Array(0), size: 0, pos: 0, writable: true });
    this.fds.set(2, { kind: 'stdio', path: '<stderr>', data: new Uint8Array(0), size: 0, pos: 0, writable: true });
    this.fds.set(3, { kind: 'dir', path: '/', data: new Uint8Array(0), size: 0, pos: 0, writable: false });
  }

  bind(memory: WebAssembly.Memory): void {
    this.memory = memory;
  }

  private get view(): DataView {
    return new DataView(this.memory.buffer);
  }
  private get bytes(): Uint8Array {
    return new Uint8Array(this.memory.buffer);
  }
  private str(ptr: number, len: number): string {
    return new TextDecoder().decode(this.bytes.subarray(ptr, ptr + len));
  }

  /** A host file dtc may read: below one of the allowed directories. */
  private hostAllowed(p: string): boolean {
    const abs = resolve(p);
    return this.opts.readDirs.some((d) => abs === d || abs.startsWith(d.endsWith(sep) ? d : d + sep));
  }

  private lookup(path: string): { type: 'file'; data: Uint8Array } | { type: 'dir' } | null {
    const mem = this.opts.files.get(path);
    if (mem) return { type: 'file', data: mem };
    for (const k of this.opts.files.keys())
      if (k.startsWith(path.endsWith('/') ? path : path + '/')) return { type: 'dir' };
    if (!this.hostAllowed(path)) return null;
    try {
      const st = statSync(path);
      if (st.isDirectory()) return { type: 'dir' };
      if (st.isFile()) return { type: 'file', data: new Uint8Array(readFileSync(path)) };
    } catch {
      return null;
    }
    return null;
  }

  imports(): Record<string, (...a: number[] & bigint[]) => number> {
    const self = this;
    const w = {
      args_sizes_get(argc: number, bufSize: number): number {
        const enc = self.opts.args.map((a) => new TextEncoder().encode(a + '\0'));
        self.view.setUint32(argc, enc.length, true);
        self.view.setUint32(
          bufSize,
          enc.reduce((n, b) => n + b.length, 0),
          true,
        );
        return E.SUCCESS;
      },
      args_get(argv: number, buf: number): number {
        let p = buf;
        self.opts.args.forEach((a, i) => {
          const b = new TextEncoder().encode(a + '\0');
          self.bytes.set(b, p);
          self.view.setUint32(argv + i * 4, p, true);
          p += b.length;
        });
        return E.SUCCESS;
      },
      fd_prestat_get(fd: number, buf: number): number {
        if (fd !== 3) return E.BADF;
        self.view.setUint8(buf, 0);
        self.view.setUint32(buf + 4, 1, true);
        return E.SUCCESS;
      },
      fd_prestat_dir_name(fd: number, ptr: number, len: number): number {
        if (fd !== 3 || len < 1) return E.BADF;
        self.bytes[ptr] = 47; // "/"
        return E.SUCCESS;
      },
      fd_fdstat_get(fd: number, buf: number): number {
        const f = self.fds.get(fd);
        if (!f) return E.BADF;
        self.view.setUint8(buf, f.kind === 'dir' ? FILETYPE.DIR : f.kind === 'stdio' ? FILETYPE.CHAR : FILETYPE.FILE);
        self.view.setUint16(buf + 2, 0, true);
        self.view.setBigUint64(buf + 8, 0xffffffffffffffffn, true);
        self.view.setBigUint64(buf + 16, 0xffffffffffffffffn, true);
        return E.SUCCESS;
      },
      fd_fdstat_set_flags(): number {
        return E.SUCCESS;
      },
      path_open(
        dirfd: number,
        _dirflags: number,
        pathPtr: number,
        pathLen: number,
        oflags: number,
        rightsBase: bigint,
        _ri: bigint,
        _fdflags: number,
        fdOut: number,
      ): number {
        if (!self.fds.has(dirfd)) return E.BADF;
        const path = '/' + self.str(pathPtr, pathLen).replace(/^\/+/, '');
        const wantsWrite = (oflags & (O_CREAT | O_TRUNC)) !== 0 || (BigInt(rightsBase) & 0x40n) !== 0n; // RIGHT_FD_WRITE
        let f: OpenFile;
        if (wantsWrite) {
          if (!path.startsWith(`${MEMORY_DIR}/`)) return E.ACCES;
          const existing = self.opts.files.get(path);
          const data = existing && !(oflags & O_TRUNC) ? existing : new Uint8Array(0);
          f = { kind: 'file', path, data, size: data.length, pos: 0, writable: true };
          self.opts.files.set(path, data);
        } else {
          const hit = self.lookup(path);
          if (!hit) return E.NOENT;
          if (hit.type === 'dir') f = { kind: 'dir', path, data: new Uint8Array(0), size: 0, pos: 0, writable: false };
          else {
            if (oflags & O_DIRECTORY) return E.NOTDIR;
            f = { kind: 'file', path, data: hit.data, size: hit.data.length, pos: 0, writable: false };
          }
        }
        const fd = self.nextFd++;
        self.fds.set(fd, f);
        self.view.setUint32(fdOut, fd, true);
        return E.SUCCESS;
      },
      fd_close(fd: number): number {
        const f = self.fds.get(fd);
        if (!f) return E.BADF;
        if (f.kind === 'file' && f.writable) self.opts.files.set(f.path, f.data.subarray(0, f.size));
        self.fds.delete(fd);
        return E.SUCCESS;
      },
      fd_read(fd: number, iovs: number, iovsLen: number, nread: number): number {
        const f = self.fds.get(fd);
        if (!f) return E.BADF;
        if (f.kind === 'dir') return E.ISDIR;
        let total = 0;
        for (let i = 0; i < iovsLen; i++) {
          const ptr = self.view.getUint32(iovs + i * 8, true);
          const len = self.view.getUint32(iovs + i * 8 + 4, true);
          const n = Math.max(0, Math.min(len, f.size - f.pos));
          self.bytes.set(f.data.subarray(f.pos, f.pos + n), ptr);
          f.pos += n;
          total += n;
          if (n < len) break;
        }
        self.view.setUint32(nread, total, true);
        return E.SUCCESS;
      },
      fd_write(fd: number, iovs: number, iovsLen: number, nwritten: number): number {
        const f = self.fds.get(fd);
        if (!f || !f.writable) return E.BADF;
        let total = 0;
        for (let i = 0; i < iovsLen; i++) {
          const ptr = self.view.getUint32(iovs + i * 8, true);
          const len = self.view.getUint32(iovs + i * 8 + 4, true);
          const chunk = self.bytes.subarray(ptr, ptr + len);
          if (fd === 1) self.stdout.push(chunk);
          else if (fd === 2) {
            self.stderr.push(chunk);
            if (!self.sawError && Buffer.from(chunk).includes('ERROR')) self.sawError = true;
            if (self.sawError && self.stderr.length > floodBytes) throw new MessageFlood(self.stderr.length);
          } else {
            const end = f.pos + len;
            if (end > f.data.length) {
              const grown = new Uint8Array(Math.max(end, f.data.length * 2, 4096));
              grown.set(f.data.subarray(0, f.size));
              f.data = grown;
            }
            f.data.set(chunk, f.pos);
            f.pos = end;
            f.size = Math.max(f.size, end);
            // dtc may exit without closing (libc flushes, but closes nothing): keep the map current
            self.opts.files.set(f.path, f.data.subarray(0, f.size));
          }
          total += len;
        }
        self.view.setUint32(nwritten, total, true);
        return E.SUCCESS;
      },
      fd_seek(fd: number, offset: bigint, whence: number, newOffset: number): number {
        const f = self.fds.get(fd);
        if (!f || f.kind !== 'file') return E.BADF;
        const base = whence === 0 ? 0 : whence === 1 ? f.pos : f.size;
        const pos = base + Number(offset);
        if (pos < 0) return E.INVAL;
        f.pos = pos;
        self.view.setBigUint64(newOffset, BigInt(pos), true);
        return E.SUCCESS;
      },
      path_filestat_get(dirfd: number, _flags: number, pathPtr: number, pathLen: number, buf: number): number {
        if (!self.fds.has(dirfd)) return E.BADF;
        const path = '/' + self.str(pathPtr, pathLen).replace(/^\/+/, '');
        const hit = self.lookup(path);
        if (!hit) return E.NOENT;
        self.bytes.fill(0, buf, buf + 64);
        self.view.setUint8(buf + 16, hit.type === 'dir' ? FILETYPE.DIR : FILETYPE.FILE);
        self.view.setBigUint64(buf + 24, 1n, true);
        self.view.setBigUint64(buf + 32, BigInt(hit.type === 'file' ? hit.data.length : 0), true);
        return E.SUCCESS;
      },
      fd_readdir(): number {
        return E.NOSYS; // only dtc's -I fs input reads directories
      },
      proc_exit(code: number): number {
        throw new ProcExit(code);
      },
    };
    return w as unknown as Record<string, (...a: number[] & bigint[]) => number>;
  }
}

/**
 * A growing byte buffer for stdout/stderr (doubling, so a dtc message of any size costs linear
 * time), capped at 64 MiB: what comes after the cap is dropped and `truncated` says so.
 */
export class ByteSink {
  private buf = new Uint8Array(4096);
  private len = 0;
  truncated = false;
  static readonly cap = 64 * 1024 * 1024;

  push(chunk: Uint8Array): void {
    const room = ByteSink.cap - this.len;
    if (chunk.length > room) {
      this.truncated = true;
      chunk = chunk.subarray(0, room);
    }
    if (this.len + chunk.length > this.buf.length) {
      const grown = new Uint8Array(Math.max(this.len + chunk.length, this.buf.length * 2));
      grown.set(this.buf.subarray(0, this.len));
      this.buf = grown;
    }
    this.buf.set(chunk, this.len);
    this.len += chunk.length;
  }

  bytes(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }

  get length(): number {
    return this.len;
  }
}
