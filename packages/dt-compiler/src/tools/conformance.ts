/**
 * Conformance: compile kernel .dts files with dt-compiler (TypeScript cpp + dtc-wasm, one
 * process) and with the kernel's own pipeline (host cpp + the tree's scripts/dtc built
 * natively, one process pair per file, same flags), and count byte-identical DTBs. Also the
 * benchmark: both wall times, measured in the same run, and their ratio.
 *
 *   node packages/dt-compiler/dist/tools/conformance.js [--sample N] [--tree DIR] [--json]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileDtsFile, kernelDtcFlags } from '../compile.js';
import { DtError } from '../errors.js';
import { listKernelDts, type KernelDts } from './kernel-dts.js';

export interface ConformanceResult {
  total: number;
  identical: number;
  mismatches: Array<{ file: string; reason: string }>;
  oursSeconds: number;
  nativeSeconds: number;
}

export function kernelTree(): string {
  const script = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'scripts', 'kernel-tree.sh');
  return execFileSync('bash', [script], { encoding: 'utf8' }).trim();
}

/** A fixed sample: every k-th file of the sorted list, so that it spans vendors. */
export function sample(all: KernelDts[], n: number): KernelDts[] {
  if (n >= all.length) return all;
  const step = all.length / n;
  return Array.from({ length: n }, (_, i) => all[Math.floor(i * step)]!);
}

export function nativeCompile(tree: string, d: KernelDts, work: string): Uint8Array | string {
  const inc = join(tree, 'scripts', 'dtc', 'include-prefixes');
  const tmp = join(work, 'x.dts.tmp');
  const out = join(work, 'x.dtb');
  const pre = spawnSync(
    'cpp',
    ['-nostdinc', '-I', inc, '-undef', '-D__DTS__', '-x', 'assembler-with-cpp', '-o', tmp, d.file],
    { encoding: 'utf8' },
  );
  if (pre.status !== 0) return `cpp: ${pre.stderr.split('\n')[0]}`;
  const dtc = spawnSync(
    join(tree, 'scripts', 'dtc', 'dtc'),
    ['-o', out, '-b', '0', '-i', dirname(d.file), '-i', inc, ...kernelDtcFlags, ...d.flags, tmp],
    { encoding: 'utf8' },
  );
  if (dtc.status !== 0) return `dtc: ${dtc.stderr.split('\n').filter((l) => /ERROR|Error/.test(l))[0] ?? dtc.status}`;
  return new Uint8Array(readFileSync(out));
}

export function runConformance(
  tree: string,
  files: KernelDts[],
  onProgress?: (i: number, n: number) => void,
): ConformanceResult {
  const work = mkdtempSync(join(tmpdir(), 'dt-conf-'));
  try {
    const native = new Map<string, Uint8Array | string>();
    const t0 = process.hrtime.bigint();
    files.forEach((d) => native.set(d.file, nativeCompile(tree, d, work)));
    const t1 = process.hrtime.bigint();
    const ours = new Map<string, Uint8Array | string>();
    files.forEach((d, i) => {
      try {
        ours.set(d.file, compileDtsFile(d.file, { kernelTree: tree, flags: d.flags }).dtb);
      } catch (e) {
        ours.set(d.file, e instanceof DtError ? e.toString() : String(e));
      }
      onProgress?.(i + 1, files.length);
    });
    const t2 = process.hrtime.bigint();
    const mismatches: ConformanceResult['mismatches'] = [];
    let identical = 0;
    for (const d of files) {
      const a = native.get(d.file)!;
      const b = ours.get(d.file)!;
      const rel = relative(tree, d.file);
      if (typeof a === 'string') {
        mismatches.push({ file: rel, reason: `the kernel's pipeline failed: ${a}` });
        continue;
      }
      if (typeof b === 'string') {
        mismatches.push({ file: rel, reason: `dt-compiler failed: ${b}` });
        continue;
      }
      if (Buffer.from(a).equals(Buffer.from(b))) identical++;
      else mismatches.push({ file: rel, reason: `DTBs differ (${a.length} vs ${b.length} bytes)` });
    }
    return {
      total: files.length,
      identical,
      mismatches,
      nativeSeconds: Number(t1 - t0) / 1e9,
      oursSeconds: Number(t2 - t1) / 1e9,
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function main(argv: string[]): Promise<void> {
  const n = argv.includes('--sample') ? Number(argv[argv.indexOf('--sample') + 1]) : Infinity;
  const tree = argv.includes('--tree') ? argv[argv.indexOf('--tree') + 1]! : kernelTree();
  const all = listKernelDts(tree);
  const files = sample(all, n);
  const r = runConformance(tree, files, (i, total) => {
    if (process.stderr.isTTY) process.stderr.write(`\rdt-compiler: ${i}/${total}`);
  });
  if (process.stderr.isTTY) process.stderr.write('\n');
  if (argv.includes('--json')) {
    console.log(JSON.stringify(r, null, 2));
  } else {
    console.log(
      `${r.identical} of ${r.total} DTBs byte-identical (${relative(process.cwd(), tree) || tree}/arch/arm64/boot/dts, ${all.length} .dts in all)`,
    );
    for (const m of r.mismatches.slice(0, 30)) console.log(`  ${m.file}: ${m.reason}`);
    if (r.mismatches.length > 30) console.log(`  … ${r.mismatches.length - 30} more`);
    console.log(
      `wall: native per-file pipeline ${r.nativeSeconds.toFixed(2)} s, dt-compiler in one process ${r.oursSeconds.toFixed(2)} s, ratio native/dt-compiler ${(r.nativeSeconds / r.oursSeconds).toFixed(2)}`,
    );
  }
  process.exitCode = r.identical === r.total ? 0 : 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).catch((e) => {
    console.error(`conformance: ${e instanceof DtError ? e.toString() : (e as Error).message}`);
    process.exit(2);
  });
}
