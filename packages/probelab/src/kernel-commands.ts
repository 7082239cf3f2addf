/** `probelab kernel build` and `probelab validate`. */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import {
  diffOutcomes,
  expandMatrix,
  loadMatrixFile,
  loadScenario,
  InputError,
  type Outcome,
  type OutcomeDiff,
  type Scenario,
} from '@probelab/sim-core';
import {
  bootScenario,
  buildKernel,
  outDir,
  registerPatch,
  repoRoot,
  writeAtomic,
  HarnessError,
} from '@probelab/harness';
import { parse as parseYaml } from 'yaml';
import { predictScenario } from './commands.js';
import { renderDiff } from './report.js';

const progress = (l: string): void => {
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[2K${l.slice(0, (process.stderr.columns ?? 100) - 1)}`);
  else process.stderr.write(`${l}\n`);
};
const endProgress = (): void => {
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[2K');
};

/** `kernel build`: --patch files in order, then each --series directory's patches. */
export async function cmdKernelBuild(o: {
  source?: string;
  config?: string;
  patch?: string[];
  series?: string[];
}): Promise<number> {
  const source = o.source ?? '6.12';
  const fragment = o.config;
  const patches = [...(o.patch ?? []), ...(o.series ?? []).flatMap(seriesDir)];
  const b = await buildKernel({ source, ...(fragment ? { fragment } : {}), patches }, progress);
  endProgress();
  process.stdout.write(
    `${b.fromCache ? 'cached' : `built in ${b.buildSeconds.toFixed(0)} s`}: ${b.release} (${b.hash})\n  Image ${b.image}\n  modules ${join(b.modulesRoot, b.release)}\n  System.map ${b.systemMap}\n  .config ${b.configFile}\n`,
  );
  return 0;
}

/** A series directory: its `series` file's order if there is one, else the *.patch files sorted. */
function seriesDir(dir: string): string[] {
  try {
    const s = readFileSync(join(dir, 'series'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    return s.map((f) => join(dir, f));
  } catch {
    return readdirSync(dir)
      .filter((f) => f.endsWith('.patch'))
      .sort()
      .map((f) => join(dir, f));
  }
}

interface SideResult {
  real: Outcome;
  predicted: Outcome;
  simAgrees: boolean;
}
interface ValidateRow {
  scenario: string;
  baseline: SideResult;
  patched: SideResult;
  realChange: OutcomeDiff;
  predictedChange: OutcomeDiff;
}

/**
 * The scenarios `validate` runs: the source-kernel ones of boards/qemu-virt/ by default; with
 * --matrix, a list (`scenarios: [files]`) or a matrix file as `probelab matrix` takes it, every
 * cell on a kernel built from source (the patch applies to those).
 */
function matrixScenarios(file: string | undefined): Array<{ label: string; scenario: Scenario }> {
  if (!file) {
    const dir = join(repoRoot(), 'boards', 'qemu-virt');
    return readdirSync(dir)
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => join(dir, f))
      .sort()
      .map((f) => ({ label: relative(process.cwd(), f), scenario: loadScenario(f) }))
      .filter((x) => x.scenario.kernel.startsWith('source-'));
  }
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new InputError(`cannot read the matrix: ${(e as Error).message.split('\n')[0]}`, file);
  }
  const list = (doc as { scenarios?: unknown })?.scenarios;
  if (list === undefined && doc && typeof doc === 'object' && 'base' in doc) {
    const all = expandMatrix(loadMatrixFile(file));
    const cells = all.filter((c) => c.scenario.kernel.startsWith('source-'));
    if (!cells.length)
      throw new InputError(
        "no cell of this matrix is on a kernel built from source (kernel: source-6.12 or source-6.1): a patch cannot apply to Debian's packaged kernels",
        file,
      );
    if (cells.length < all.length)
      process.stderr.write(
        `validate: ${all.length - cells.length} of the ${all.length} cells of ${file} are on Debian's packaged kernels, which a patch cannot change: validating the other ${cells.length}\n`,
      );
    return cells.map((c) => ({ label: `${relative(process.cwd(), file)}#${c.id}`, scenario: c.scenario }));
  }
  if (!Array.isArray(list) || !list.every((x) => typeof x === 'string'))
    throw new InputError(
      'field `scenarios`: expected a list of scenario files (or a matrix file: base, variants, axes)',
      file,
    );
  return list
    .map((f) => resolve(dirname(file), f as string))
    .map((f) => ({ label: relative(process.cwd(), f), scenario: loadScenario(f) }));
}

export async function cmdValidate(
  o: { patch?: string[]; series?: string[]; matrix?: string },
  json: boolean,
): Promise<number> {
  const patches = [...(o.patch ?? []), ...(o.series ?? []).flatMap(seriesDir)];
  const matrix = o.matrix;
  if (!patches.length) throw new InputError('validate: give at least one --patch FILE (or --series DIR)');
  const names = patches.map(registerPatch);
  const rows: ValidateRow[] = [];
  for (const { label: file, scenario: base } of matrixScenarios(matrix)) {
    if (!base.kernel.startsWith('source-'))
      throw new HarnessError(
        `${file}: validate needs scenarios on kernels built from source (kernel: source-6.12 or source-6.1), not ${base.kernel}`,
      );
    const patched: Scenario = {
      ...base,
      name: `${base.name}+patched`,
      kernel: `${base.kernel}+${names.join('+')}` as Scenario['kernel'],
    };
    const side = async (s: Scenario): Promise<SideResult> => {
      const predicted = await predictScenario(s, progress);
      const real = (await bootScenario(s, { log: progress })).outcome;
      endProgress();
      return { real, predicted, simAgrees: diffOutcomes(predicted, real).agree };
    };
    const b = await side(base);
    const p = await side(patched);
    rows.push({
      scenario: file,
      baseline: b,
      patched: p,
      realChange: diffOutcomes(b.real, p.real),
      predictedChange: diffOutcomes(b.predicted, p.predicted),
    });
  }
  const changed = rows.filter((r) => !r.realChange.agree);
  writeAtomic(join(outDir(), 'validate.json'), JSON.stringify({ patches, rows }, null, 2) + '\n');
  if (json)
    process.stdout.write(JSON.stringify({ patches, changed: changed.map((r) => r.scenario), rows }, null, 2) + '\n');
  else {
    for (const r of rows) {
      process.stdout.write(
        `\n== ${r.scenario}: ${r.realChange.agree ? 'unchanged' : 'CHANGED'} by the patch (real); simulator ${r.predictedChange.agree ? 'predicts no change' : 'predicts a change'}; sim vs real: baseline ${r.baseline.simAgrees ? 'agree' : 'DIFFER'}, patched ${r.patched.simAgrees ? 'agree' : 'DIFFER'}\n`,
      );
      if (!r.realChange.agree)
        process.stdout.write(
          renderDiff(r.realChange, 'baseline', 'patched')
            .split('\n')
            .filter((l) => !/timing|Δ/.test(l))
            .join('\n') + '\n',
        );
    }
    process.stdout.write(`\n${changed.length} of ${rows.length} scenario(s) changed by ${patches.join(', ')}\n`);
  }
  return changed.length ? 1 : 0;
}
