/** `probelab dt compile|decompile|deps FILE`: dt-compiler from the command line. */
import { basename } from 'node:path';
import {
  readDtbFile,
  compileDtsFile,
  dtbToDts,
  findKernelTree,
  readTreeFile,
  renderGraph,
  supplierGraph,
  DtError,
  type KernelSeries,
} from '@probelab/dt-compiler';
import { writeAtomic } from '@probelab/harness';

export interface DtArgs {
  file: string;
  out?: string;
  includeDirs: string[];
  kernelTree?: string;
  flags: string[];
  format: 'text' | 'json' | 'dot';
  kernel: KernelSeries;
}

export function parseDtArgs(args: string[]): DtArgs | string {
  const a: DtArgs = { file: '', includeDirs: [], flags: [], format: 'text', kernel: '6.12' };
  for (let i = 0; i < args.length; i++) {
    const x = args[i]!;
    const val = (): string => {
      const v = args[++i];
      if (v === undefined) throw new DtError(`option ${x} needs a value`, { file: '(command line)' });
      return v;
    };
    if (x === '-o') a.out = val();
    else if (x === '-I') a.includeDirs.push(val());
    else if (x === '--kernel-tree') a.kernelTree = val();
    else if (x === '--dtc-flag') a.flags.push(val());
    else if (x === '--format') {
      const f = val();
      if (f !== 'text' && f !== 'json' && f !== 'dot') return `--format: expected text, json or dot, not ${f}`;
      a.format = f;
    } else if (x === '--kernel') {
      const k = val();
      if (k !== '6.1' && k !== '6.12') return `--kernel: expected 6.1 or 6.12, not ${k}`;
      a.kernel = k;
    } else if (x.startsWith('-')) return `unknown option ${x}`;
    else if (!a.file) a.file = x;
    else return `unexpected argument ${x}`;
  }
  return a.file ? a : 'missing FILE';
}

export function cmdDt(sub: string, a: DtArgs): number {
  const opts = {
    ...(a.includeDirs.length ? { includeDirs: a.includeDirs } : {}),
    ...(a.kernelTree ? { kernelTree: a.kernelTree } : {}),
    ...(a.flags.length ? { flags: a.flags } : {}),
  };
  if (sub === 'compile') {
    const kernelTree = a.kernelTree ?? (a.includeDirs.length ? undefined : findKernelTree(a.file));
    const r = compileDtsFile(a.file, { ...opts, ...(kernelTree ? { kernelTree } : {}) });
    const out = a.out ?? basename(a.file).replace(/\.dts$/, '') + '.dtb';
    writeAtomic(out, Buffer.from(r.dtb) as unknown as string);
    for (const w of r.warnings)
      process.stderr.write(
        `${w.file ?? a.file}${w.line ? `:${w.line}:${w.column ?? 1}` : ''}: warning${w.check ? ` (${w.check})` : ''}: ${w.text}\n`,
      );
    process.stderr.write(`wrote ${out} (${r.dtb.length} bytes, ${r.files.length} source files)\n`);
    return 0;
  }
  if (sub === 'decompile') {
    const dts = dtbToDts(readDtbFile(a.file), a.file);
    if (a.out) writeAtomic(a.out, dts);
    else process.stdout.write(dts);
    return 0;
  }
  if (sub === 'deps') {
    const tree = readTreeFile(a.file, opts);
    const text = renderGraph(supplierGraph(tree, a.kernel), a.format);
    if (a.out) writeAtomic(a.out, text);
    else process.stdout.write(text);
    return 0;
  }
  throw new DtError(`unknown dt command ${sub}: expected compile, decompile or deps`, { file: '(command line)' });
}
