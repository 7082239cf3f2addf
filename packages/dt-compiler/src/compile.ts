/**
 * DTS to DTB the way the kernel's build does it (scripts/Makefile.dtbs: cmd_dtc): preprocess
 * with the tree's include-prefixes, then dtc with `-O dtb -b 0 -i <dts dir> -i <include-prefixes>`
 * and the flags the build uses for that file. Errors name file:line:column through the include
 * chain (DtError), never a stack.
 */
import { dirname, join, resolve } from 'node:path';
import { compileDts, decompileDtb, DtcTrap, type DtcMessage } from '@probelab/dtc-wasm';
import { DtError } from './errors.js';
import { preprocess } from './cpp/preprocess.js';
import { kernelFlagsFor } from './tools/kernel-dts.js';

/** scripts/Makefile.dtbs: the warnings every kernel DTB build turns off (no effect on the DTB). */
export const kernelDtcFlags = [
  '-Wno-unique_unit_address',
  '-Wno-unit_address_vs_reg',
  '-Wno-avoid_unnecessary_addr_size',
  '-Wno-alias_paths',
  '-Wno-graph_child_address',
  '-Wno-simple_bus_reg',
];

export interface CompileOptions {
  /** The kernel tree (for scripts/dtc/include-prefixes); or give includeDirs yourself. */
  kernelTree?: string;
  includeDirs?: string[];
  /** Extra dtc flags (e.g. `-@`). Default, for a file inside `kernelTree`: the flags its
   *  directory's Makefile gives it (DTC_FLAGS_<board>, `-@` for an overlay's base). */
  flags?: string[];
}

export interface CompileOutput {
  dtb: Uint8Array;
  warnings: DtcMessage[];
  /** The files the preprocessor read. */
  files: string[];
}

export function includeDirsFor(opts: CompileOptions): string[] {
  return (
    opts.includeDirs ?? (opts.kernelTree ? [join(resolve(opts.kernelTree), 'scripts', 'dtc', 'include-prefixes')] : [])
  );
}

export function compileDtsFile(file: string, opts: CompileOptions = {}): CompileOutput {
  const inc = includeDirsFor(opts);
  const pre = preprocess(file, { includeDirs: inc });
  const extra = opts.flags ?? (opts.kernelTree ? kernelFlagsFor(resolve(file)) : []);
  const r = trapAsDtError(file, () =>
    compileDts(pre.text, {
      fileName: 'preprocessed.dts',
      includeDirs: [dirname(resolve(file)), ...inc],
      flags: [...kernelDtcFlags, ...extra],
    }),
  );
  const errors = r.messages.filter((m) => m.severity !== 'warning');
  if (!r.dtb || errors.length) {
    const e = errors.find((x) => x.file) ?? errors[0];
    throw new DtError(e ? `${e.check ? `${e.check}: ` : ''}${e.text}` : `dtc failed (exit ${r.exitCode})`, {
      file: e?.file ?? file,
      ...(e?.line !== undefined ? { line: e.line, column: e.column ?? 1 } : {}),
    });
  }
  return { dtb: r.dtb, warnings: r.messages.filter((m) => m.severity === 'warning'), files: pre.files };
}

export function dtbToDts(dtb: Uint8Array, file = '<dtb>'): string {
  const r = trapAsDtError(file, () => decompileDtb(dtb));
  if (r.dts === null)
    throw new DtError(r.messages[0]?.text ?? `dtc could not read the DTB (exit ${r.exitCode})`, { file });
  return r.dts;
}

/** A trap in dtc.wasm (its stack exhausted by deep nesting) as a DtError on the input file. */
function trapAsDtError<T>(file: string, run: () => T): T {
  try {
    return run();
  } catch (e) {
    if (e instanceof DtcTrap) throw new DtError(e.message, { file });
    throw e;
  }
}
