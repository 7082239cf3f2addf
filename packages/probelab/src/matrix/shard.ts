/**
 * Shards of a matrix: `--shard K/N` runs the cells whose id hashes to shard K (FNV-1a of the id,
 * so a cell keeps its shard when others are added or removed), each shard in a directory of its
 * own with `shard.json` (which matrix — by a digest of every cell's scenario —, K, N, its cells);
 * `probelab matrix merge` checks the shards fit together and writes the one results.jsonl,
 * report.html and junit.xml an unsharded run would have written (finishRun in run.ts).
 */
import { createHash } from 'node:crypto';
import { cpSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  InputError,
  expandMatrix,
  loadMatrixFile,
  readInputFile,
  type MatrixCell,
  type MatrixFile,
} from '@probelab/sim-core';
import { ensureDir, lockOutputDir, writeAtomic } from '@probelab/harness';
import { latestById, readResults, type CellResult } from './results.js';
import { finishRun, type MatrixRun } from './run.js';

export interface Shard {
  k: number;
  n: number;
}

interface ShardFile {
  matrix: string;
  file: string;
  digest: string;
  k: number;
  n: number;
  cells: string[];
}

/** `K/N` with 1 <= K <= N, or what was expected. */
export function parseShard(s: string): Shard | string {
  const m = /^(\d+)\/(\d+)$/.exec(s);
  const k = Number(m?.[1]);
  const n = Number(m?.[2]);
  if (!m || n < 1 || k < 1 || k > n || n > 1000) return `--shard: expected K/N with 1 <= K <= N <= 1000, got ${s}`;
  return { k, n };
}

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

export function shardOf(id: string, n: number): number {
  return (fnv1a(id) % n) + 1;
}

export function shardCells(cells: MatrixCell[], s: Shard): MatrixCell[] {
  return cells.filter((c) => shardOf(c.id, s.n) === s.k);
}

/** Every cell's id and scenario: two shards belong together only if this is the same. */
export function matrixDigest(m: MatrixFile): string {
  const cells = expandMatrix(m).map((c) => [c.id, { ...c.scenario, file: undefined }]);
  return createHash('sha256')
    .update(JSON.stringify([m.name, m.capture, cells]))
    .digest('hex')
    .slice(0, 16);
}

export function writeShardFile(dir: string, m: MatrixFile, s: Shard, cells: MatrixCell[]): void {
  const f: ShardFile = {
    matrix: m.name,
    file: resolve(m.file),
    digest: matrixDigest(m),
    k: s.k,
    n: s.n,
    cells: cells.map((c) => c.id),
  };
  writeAtomic(join(dir, 'shard.json'), JSON.stringify(f, null, 2) + '\n');
}

function readShardFile(dir: string): ShardFile {
  const file = join(dir, 'shard.json');
  if (!existsSync(file))
    throw new InputError(
      `not a shard directory (no shard.json): give the --out of a \`probelab matrix FILE --shard K/N\` run`,
      dir,
    );
  let f: ShardFile;
  try {
    f = JSON.parse(readInputFile(file, 'shard file')) as ShardFile;
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`not valid JSON (${(e as Error).message})`, file);
  }
  if (
    typeof f?.matrix !== 'string' ||
    typeof f.digest !== 'string' ||
    !Number.isInteger(f.k) ||
    !Number.isInteger(f.n) ||
    !Array.isArray(f.cells)
  )
    throw new InputError('expected a shard file (matrix, file, digest, k, n, cells)', file);
  return f;
}

/** Merge shard directories into `out`: one run's results, report and JUnit. */
export function mergeShards(dirs: string[], out: string, baselineFile?: string, requireTranslation = false): MatrixRun {
  if (!dirs.length) throw new InputError('matrix merge: expected at least one shard directory', '(command line)');
  const shards = dirs.map((d) => ({ dir: resolve(d), f: readShardFile(resolve(d)) }));
  const first = shards[0]!.f;
  for (const s of shards) {
    if (s.f.digest !== first.digest || s.f.matrix !== first.matrix)
      throw new InputError(
        `shard of another matrix (${s.f.matrix} ${s.f.digest}, not ${first.matrix} ${first.digest})`,
        join(s.dir, 'shard.json'),
      );
    if (s.f.n !== first.n)
      throw new InputError(
        `shard ${s.f.k}/${s.f.n} of a split into ${s.f.n}, not ${first.n}`,
        join(s.dir, 'shard.json'),
      );
  }
  for (let k = 1; k <= first.n; k++) {
    const got = shards.filter((s) => s.f.k === k);
    if (got.length === 0) throw new InputError(`shard ${k}/${first.n} is missing`, '(command line)');
    if (got.length > 1)
      throw new InputError(
        `shard ${k}/${first.n} is given twice (${got.map((g) => g.dir).join(', ')})`,
        '(command line)',
      );
  }
  const matrix = loadMatrixFile(first.file);
  if (matrixDigest(matrix) !== first.digest)
    throw new InputError(
      `the matrix file changed since the shards ran (digest ${matrixDigest(matrix)}, shards ${first.digest})`,
      first.file,
    );
  const dir = resolve(out);
  if (shards.some((s) => s.dir === dir))
    throw new InputError('matrix merge: --out must not be one of the shard directories', dir);
  const baseline = baselineFile ? latestById(readResults(resolve(baselineFile), 'baseline')) : null;
  const release = lockOutputDir(dir, 'wait for it, or give this merge another --out');
  try {
    const byId = new Map<string, { r: CellResult; dir: string }>();
    for (const s of shards) {
      const rows = latestById(readResults(join(s.dir, 'results.jsonl'), 'baseline'));
      for (const id of s.f.cells) {
        const r = rows.get(id);
        if (!r)
          throw new InputError(
            `cell ${id} of shard ${s.f.k}/${s.f.n} has no result: the shard did not finish (run it again to resume)`,
            join(s.dir, 'results.jsonl'),
          );
        if (byId.has(id))
          throw new InputError(
            `cell ${id} is in two shards (${byId.get(id)!.dir} and ${s.dir})`,
            join(s.dir, 'shard.json'),
          );
        byId.set(id, { r, dir: s.dir });
      }
    }
    const cells = expandMatrix(matrix);
    const missing = cells.filter((c) => !byId.has(c.id));
    if (missing.length)
      throw new InputError(
        `${missing.length} cell(s) in no shard (${missing
          .slice(0, 3)
          .map((c) => c.id)
          .join(', ')}…)`,
        '(command line)',
      );
    ensureDir(dir);
    const results = cells.map((c) => {
      const { r, dir: from } = byId.get(c.id)!;
      const cellDir = join(from, 'cells', c.id);
      if (existsSync(cellDir)) cpSync(cellDir, join(dir, 'cells', c.id), { recursive: true });
      return r;
    });
    writeAtomic(join(dir, 'results.jsonl'), results.map((r) => JSON.stringify(r)).join('\n') + '\n');
    return finishRun(matrix, results, dir, baseline, requireTranslation);
  } finally {
    release();
  }
}
