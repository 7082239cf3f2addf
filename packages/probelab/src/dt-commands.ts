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

/** The values of `dt compile|decompile|deps` checked (cli.ts parses the command line). */
export function parseDtArgs(
  file: string,
  f: {
    o?: string;
    include?: string[];
    'kernel-tree'?: string;
    'dtc-flag'?: string[];
    format?: string;
    kernel?: string;
  },
): DtArgs | string {
  const a: DtArgs = {
    file,
    includeDirs: f.include ?? [],
    flags: f['dtc-flag'] ?? [],
    format: 'text',
    kernel: '6.12',
    ...(f.o !== undefined ? { out: f.o } : {}),
    ...(f['kernel-tree'] !== undefined ? { kernelTree: f['kernel-tree'] } : {}),
  };
  if (f.format !== undefined) {
    if (f.format !== 'text' && f.format !== 'json' && f.format !== 'dot')
      return `--format: expected text, json or dot, not ${f.format}`;
    a.format = f.format;
  }
  if (f.kernel !== undefined) {
    if (f.kernel !== '6.1' && f.kernel !== '6.12') return `--kernel: expected 6.1 or 6.12, not ${f.kernel}`;
    a.kernel = f.kernel;
  }
  return a;
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
