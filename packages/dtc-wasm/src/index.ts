/**
 * The kernel's dtc (scripts/dtc of linux-source-6.12), compiled to wasm32-wasi and run
 * in-process through node:wasi. One WebAssembly.Module and one linear memory per process (the
 * module imports its memory): each run gets a fresh instance over the same memory, zeroed first,
 * so thousands of compilations neither leak nor reserve a new multi-GiB memory region each
 * (which exhausts the address space before the collector frees them).
 * Inputs and outputs go through a private temporary directory; host directories dtc must read
 * (include paths) are pre-opened read-only under their own absolute paths, so file names in
 * dtc's messages are the host's.
 */
import { mkdtempSync, openSync, closeSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { parseDtcMessages, type DtcMessage } from './messages.js';

export type { DtcMessage } from './messages.js';
export { parseDtcMessages } from './messages.js';

export const wasmPath = join(dirname(fileURLToPath(import.meta.url)), '..', 'dtc.wasm');

let compiled: WebAssembly.Module | null = null;
function module(): WebAssembly.Module {
  if (!compiled) compiled = new WebAssembly.Module(readFileSync(wasmPath));
  return compiled;
}

let memory: WebAssembly.Memory | null = null;
let highWater = 0;
/** The shared linear memory, zeroed up to what the previous run used. */
function freshMemory(): WebAssembly.Memory {
  if (!memory) memory = new WebAssembly.Memory({ initial: 64 });
  else new Uint8Array(memory.buffer, 0, highWater).fill(0);
  return memory;
}

// node:wasi prints an ExperimentalWarning on first use in Node 20; keep it off users' screens.
let warningFiltered = false;
let WASIClass: typeof import('node:wasi').WASI | null = null;
/** node:wasi, loaded after the filter is in place (it warns when first loaded). */
function wasiClass(): typeof import('node:wasi').WASI {
  quietWasiWarning();
  if (!WASIClass) WASIClass = (createRequire(import.meta.url)('node:wasi') as typeof import('node:wasi')).WASI;
  return WASIClass;
}
function quietWasiWarning(): void {
  if (warningFiltered) return;
  warningFiltered = true;
  const orig = process.emitWarning.bind(process);
  process.emitWarning = ((w: string | Error, ...rest: unknown[]) => {
    const text = typeof w === 'string' ? w : w.message;
    if (/WASI/.test(text)) return;
    return (orig as (...a: unknown[]) => void)(w, ...rest);
  }) as typeof process.emitWarning;
}

export interface DtcRun {
  exitCode: number;
  stdout: string;
  stderr: string;
  messages: DtcMessage[];
  /** Files dtc wrote into the work directory, by name. */
  outputs: Map<string, Uint8Array>;
}

/**
 * Run dtc with `args`. `inputs` are written into the work directory (referred to in args as
 * `@WORK@/<name>`); `outputs` are read back from it; `readDirs` are host directories dtc may read.
 */
let workDir: string | null = null;
/** One private work directory per process (runs are synchronous), removed at exit. */
function workDirectory(): string {
  if (!workDir) {
    workDir = mkdtempSync(join(tmpdir(), 'dtc-wasm-'));
    const dir = workDir;
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return workDir;
}

export function runDtc(args: string[], opts: { inputs?: Record<string, string | Uint8Array>; outputs?: string[]; readDirs?: string[] } = {}): DtcRun {
  const WASI = wasiClass();
  const work = workDirectory();
  for (const f of readdirSync(work)) rmSync(join(work, f), { force: true });
  {
    for (const [name, data] of Object.entries(opts.inputs ?? {})) writeFileSync(join(work, name), data);
    const preopens: Record<string, string> = { [work]: work };
    for (const d of opts.readDirs ?? []) {
      const abs = resolve(d);
      if (existsSync(abs)) preopens[abs] = abs;
    }
    const outFd = openSync(join(work, '.stdout'), 'w');
    const errFd = openSync(join(work, '.stderr'), 'w');
    let exitCode: number;
    try {
      const wasi = new WASI({
        version: 'preview1',
        args: ['dtc', ...args.map((a) => a.split('@WORK@').join(work))],
        env: {},
        preopens,
        stdin: 0,
        stdout: outFd,
        stderr: errFd,
        returnOnExit: true,
      });
      const mem = freshMemory();
      const imports = { ...(wasi.getImportObject() as WebAssembly.Imports), env: { memory: mem } };
      const instance = new WebAssembly.Instance(module(), imports);
      try {
        exitCode = wasi.start({ exports: { ...instance.exports, memory: mem } } as unknown as WebAssembly.Instance);
      } finally {
        highWater = mem.buffer.byteLength;
      }
    } finally {
      closeSync(outFd);
      closeSync(errFd);
    }
    const stderr = readFileSync(join(work, '.stderr'), 'utf8');
    const outputs = new Map<string, Uint8Array>();
    for (const name of opts.outputs ?? []) {
      const f = join(work, name);
      if (existsSync(f)) outputs.set(name, new Uint8Array(readFileSync(f)));
    }
    return { exitCode, stdout: readFileSync(join(work, '.stdout'), 'utf8'), stderr, messages: parseDtcMessages(stderr.split(work + '/').join('')), outputs };
  }
}

export interface CompileResult {
  dtb: Uint8Array | null;
  exitCode: number;
  messages: DtcMessage[];
  stderr: string;
}

/**
 * DTS (already preprocessed, line markers allowed) to DTB, as the kernel's cmd_dtc runs dtc:
 * `-O dtb -b 0 -i <dirs> <flags>`.
 */
export function compileDts(source: string | Uint8Array, opts: { fileName?: string; includeDirs?: string[]; flags?: string[] } = {}): CompileResult {
  const name = opts.fileName ?? 'input.dts';
  const inc = (opts.includeDirs ?? []).flatMap((d) => ['-i', resolve(d)]);
  const r = runDtc(['-q', '-I', 'dts', '-O', 'dtb', '-b', '0', ...inc, ...(opts.flags ?? []), '-o', '@WORK@/out.dtb', `@WORK@/${name}`], {
    inputs: { [name]: source }, outputs: ['out.dtb'], readDirs: opts.includeDirs,
  });
  const quietless = r.messages;
  return { dtb: r.exitCode === 0 ? r.outputs.get('out.dtb') ?? null : null, exitCode: r.exitCode, messages: quietless, stderr: r.stderr };
}

/** DTB to DTS text (`dtc -I dtb -O dts`). */
export function decompileDtb(dtb: Uint8Array, opts: { flags?: string[] } = {}): { dts: string | null; exitCode: number; messages: DtcMessage[] } {
  const r = runDtc(['-q', '-I', 'dtb', '-O', 'dts', ...(opts.flags ?? []), '-o', '@WORK@/out.dts', '@WORK@/in.dtb'], { inputs: { 'in.dtb': dtb }, outputs: ['out.dts'] });
  const out = r.outputs.get('out.dts');
  return { dts: r.exitCode === 0 && out ? new TextDecoder().decode(out) : null, exitCode: r.exitCode, messages: r.messages };
}
