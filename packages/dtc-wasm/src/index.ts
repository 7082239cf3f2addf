/**
 * The kernel's dtc (scripts/dtc of linux-source-6.12), compiled to wasm32-wasi and run
 * in-process on a small WASI host of our own (wasi-shim.ts), files in memory. One
 * WebAssembly.Module and one linear memory per process (the
 * module imports its memory): each run gets a fresh instance over the same memory, zeroed first,
 * so thousands of compilations neither leak nor reserve a new multi-GiB memory region each
 * (which exhausts the address space before the collector frees them).
 * Host directories dtc must read (include paths) are readable under their own absolute paths, so
 * file names in dtc's messages are the host's.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MEMORY_DIR, MessageFlood, ProcExit, WasiShim } from './wasi-shim.js';
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
  // 8 MiB of stack first (scripts/build-wasm.sh), then dtc's data and heap.
  if (!memory) memory = new WebAssembly.Memory({ initial: 192 });
  else new Uint8Array(memory.buffer, 0, highWater).fill(0);
  return memory;
}

/**
 * dtc.wasm stopped on a WebAssembly trap: with the stack first in memory, running out of its
 * 8 MiB stack (input nested deeper than native dtc's default stack would take) is an access out
 * of bounds.
 */
export class DtcTrap extends Error {
  constructor(readonly trap: string) {
    super(
      `dtc stopped: ${trap === 'memory access out of bounds' ? "out of stack (input nested too deeply for dtc's 8 MiB stack)" : trap}`,
    );
    this.name = 'DtcTrap';
  }
}

export interface DtcRun {
  exitCode: number;
  stdout: string;
  stderr: string;
  messages: DtcMessage[];
  /** Files dtc wrote into the work directory, by name. */
  outputs: Map<string, Uint8Array>;
}

/** Where inputs and outputs live inside the guest's in-memory file system. */
const WORK = MEMORY_DIR;

/**
 * Run dtc with `args`. `inputs` are in-memory files (referred to in args as `@WORK@/<name>`);
 * `outputs` are read back from memory; `readDirs` are host directories dtc may read.
 */
export function runDtc(
  args: string[],
  opts: { inputs?: Record<string, string | Uint8Array>; outputs?: string[]; readDirs?: string[] } = {},
): DtcRun {
  const files = new Map<string, Uint8Array>();
  for (const [name, data] of Object.entries(opts.inputs ?? {}))
    files.set(`${WORK}/${name}`, typeof data === 'string' ? new TextEncoder().encode(data) : data);
  const shim = new WasiShim({
    args: ['dtc', ...args.map((a) => a.split('@WORK@').join(WORK))],
    files,
    readDirs: (opts.readDirs ?? []).map((d) => resolve(d)),
  });
  const mem = freshMemory();
  shim.bind(mem);
  const instance = new WebAssembly.Instance(module(), {
    env: { memory: mem },
    wasi_snapshot_preview1: shim.imports(),
  } as unknown as WebAssembly.Imports);
  let exitCode = 0;
  try {
    (instance.exports._start as () => void)();
  } catch (e) {
    if (e instanceof ProcExit) exitCode = e.code;
    else if (e instanceof MessageFlood)
      exitCode = 2; // failed already; the messages so far stand
    else if (e instanceof WebAssembly.RuntimeError) throw new DtcTrap(e.message);
    // dtc's recursion also runs on the engine's own stack: a RangeError is the same exhaustion.
    else if (e instanceof RangeError) throw new DtcTrap('memory access out of bounds');
    else throw e;
  } finally {
    highWater = mem.buffer.byteLength;
  }
  const dec = new TextDecoder();
  const stderr = dec.decode(shim.stderr.bytes());
  const outputs = new Map<string, Uint8Array>();
  for (const name of opts.outputs ?? []) {
    const f = files.get(`${WORK}/${name}`);
    if (f) outputs.set(name, f);
  }
  return {
    exitCode,
    stdout: dec.decode(shim.stdout.bytes()),
    stderr,
    messages: parseDtcMessages(stderr.split(`${WORK}/`).join('')),
    outputs,
  };
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
export function compileDts(
  source: string | Uint8Array,
  opts: { fileName?: string; includeDirs?: string[]; flags?: string[] } = {},
): CompileResult {
  const name = opts.fileName ?? 'input.dts';
  const inc = (opts.includeDirs ?? []).flatMap((d) => ['-i', resolve(d)]);
  const r = runDtc(
    [
      '-q',
      '-I',
      'dts',
      '-O',
      'dtb',
      '-b',
      '0',
      ...inc,
      ...(opts.flags ?? []),
      '-o',
      '@WORK@/out.dtb',
      `@WORK@/${name}`,
    ],
    {
      inputs: { [name]: source },
      outputs: ['out.dtb'],
      readDirs: opts.includeDirs,
    },
  );
  const quietless = r.messages;
  return {
    dtb: r.exitCode === 0 ? (r.outputs.get('out.dtb') ?? null) : null,
    exitCode: r.exitCode,
    messages: quietless,
    stderr: r.stderr,
  };
}

/** DTB to DTS text (`dtc -I dtb -O dts`). */
export function decompileDtb(
  dtb: Uint8Array,
  opts: { flags?: string[] } = {},
): { dts: string | null; exitCode: number; messages: DtcMessage[] } {
  const r = runDtc(['-q', '-I', 'dtb', '-O', 'dts', ...(opts.flags ?? []), '-o', '@WORK@/out.dts', '@WORK@/in.dtb'], {
    inputs: { 'in.dtb': dtb },
    outputs: ['out.dts'],
  });
  const out = r.outputs.get('out.dts');
  return {
    dts: r.exitCode === 0 && out ? new TextDecoder().decode(out) : null,
    exitCode: r.exitCode,
    messages: r.messages,
  };
}
