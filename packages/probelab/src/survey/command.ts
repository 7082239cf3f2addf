/**
 * `probelab survey`: every arm64 board of a kernel tree simulated as it boots (board-run.ts),
 * boards in parallel on worker threads (worker.ts), one kernel profile read per tree; with
 * `--patch`, the baseline and the patched tree both, and the boards whose outcome changed. Results
 * as JSON lines (resumable: a board already in results.jsonl for the same inputs is not run
 * again), an HTML report (survey-report.ts) and JUnit.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { listKernelDts } from '@probelab/dt-compiler';
import { appendLine, ensureDir, lockOutputDir, pristineTree, sourceProfile, writeAtomic } from '@probelab/harness';
import { InputError } from '@probelab/sim-core';
import type { BoardResult, SurveyOptions } from './board-run.js';
import { globRegExp } from './board-glob.js';
import { runBoards } from './worker-pool.js';
import { boardChanges, renderSurveyJUnit, renderSurveyReport, type BoardChange } from './survey-report.js';

export interface SurveyArgs {
  source: string;
  config?: string;
  patches: string[];
  boards: string;
  cmdline: string;
  coldplugAt: number;
  jobs: number;
  out: string;
  requireTranslation: boolean;
}

export interface SurveyFlags {
  source?: string;
  config?: string;
  patch?: string[];
  boards?: string;
  cmdline?: string;
  userspace?: string;
  jobs?: string;
  out?: string;
  'require-translation'?: boolean;
}

/** The values of `survey` checked (cli.ts parses the command line). */
export function parseSurveyArgs(f: SurveyFlags): SurveyArgs | string {
  const a: SurveyArgs = {
    source: f.source ?? '6.12',
    patches: f.patch ?? [],
    boards: f.boards ?? '**',
    cmdline: f.cmdline ?? '',
    coldplugAt: 13,
    jobs: Math.max(1, Math.min(cpus().length, 8)),
    out: f.out ?? 'out/survey',
    requireTranslation: f['require-translation'] ?? false,
    ...(f.config !== undefined ? { config: f.config } : {}),
  };
  if (f.jobs !== undefined) {
    const n = Number(f.jobs);
    if (!Number.isInteger(n) || n < 1 || n > 64) return `--jobs: expected a whole number from 1 to 64`;
    a.jobs = n;
  }
  if (f.userspace !== undefined) {
    const m = /^coldplug@(\d+(?:\.\d+)?)$/.exec(f.userspace);
    if (!m || Number(m[1]) > 3600) return '--userspace: expected coldplug@SECONDS (0 to 3600), e.g. coldplug@13';
    a.coldplugAt = Number(m[1]);
  }
  for (const p of a.patches) if (!existsSync(p)) return `--patch ${p}: no such file`;
  if (a.config && !existsSync(a.config)) return `--config ${a.config}: no such file`;
  return a;
}

interface Row {
  tree: 'baseline' | 'patched';
  key: string;
  board: string;
  result?: BoardResult;
  error?: string;
}

const sha = (s: string): string => createHash('sha256').update(s).digest('hex').slice(0, 16);

export async function cmdSurvey(flags: SurveyFlags, json: boolean): Promise<number> {
  const a = parseSurveyArgs(flags);
  if (typeof a === 'string') {
    process.stderr.write(`probelab: survey: ${a}\n`);
    return 2;
  }
  const log = (l: string): void => void process.stderr.write(`${l}\n`);
  const out = resolve(a.out);
  ensureDir(out);
  const release = lockOutputDir(out, 'wait for it, or give this survey another --out');
  try {
    const trees: Array<{ tree: 'baseline' | 'patched'; patches: string[] }> = [{ tree: 'baseline', patches: [] }];
    if (a.patches.length) trees.push({ tree: 'patched', patches: a.patches });
    const options: SurveyOptions = { cmdline: a.cmdline, coldplugAt: a.coldplugAt };
    const results = join(out, 'results.jsonl');
    const previous = new Map<string, Row>();
    if (existsSync(results)) {
      let text = readFileSync(results, 'utf8');
      // A survey killed mid-row leaves a torn last line: cut it off, so the next row starts on a
      // line of its own (that board runs again).
      if (text && !text.endsWith('\n')) {
        text = text.slice(0, text.lastIndexOf('\n') + 1);
        writeAtomic(results, text);
      }
      for (const line of text.split('\n')) {
        if (!line) continue;
        try {
          const r = JSON.parse(line) as Row;
          if (r && typeof r.key === 'string') previous.set(`${r.key} ${r.board}`, r);
        } catch {
          // a torn last row: that board runs again
        }
      }
    }
    // --boards is checked against the source's own boards before any Kconfig run, so that a
    // GLOB matching nothing is the only line printed.
    const { tree: pristine } = await pristineTree(a.source);
    const pristineDts = join(pristine, 'arch', 'arm64', 'boot', 'dts');
    if (!listKernelDts(pristine).some((d) => globRegExp(a.boards).test(relative(pristineDts, d.file))))
      throw new InputError(
        `survey: --boards ${a.boards} matches none of the tree's arm64 boards (e.g. 'rockchip/*', 'qcom/sc7180-*.dts')`,
      );
    const rows: Row[] = [];
    const t0 = Date.now();
    for (const t of trees) {
      const profile = await sourceProfile(
        { source: a.source, ...(a.config ? { fragment: a.config } : {}), patches: t.patches },
        log,
      );
      const dtsRoot = join(profile.tree, 'arch', 'arm64', 'boot', 'dts');
      const re = globRegExp(a.boards);
      const boards = listKernelDts(profile.tree)
        .map((d) => ({ dts: d.file, board: relative(dtsRoot, d.file) }))
        .filter((b) => !b.board.startsWith('..') && re.test(b.board))
        .sort((x, y) => x.board.localeCompare(y.board));
      if (!boards.length)
        throw new InputError(
          `survey: --boards ${a.boards} matches none of the tree's arm64 boards (e.g. 'rockchip/*', 'qcom/sc7180-*.dts')`,
        );
      // Everything that makes a board's result: the profile (its hash covers source, config, patches), the options, the .dts text.
      const key = sha(
        JSON.stringify({
          profile: profile.id,
          config: profile.configFile,
          patches: t.patches.map((p) => readFileSync(p, 'utf8')),
          options,
        }),
      );
      const todo: typeof boards = [];
      for (const b of boards) {
        const k = `${key} ${b.board}`;
        const prev = previous.get(k);
        if (prev) rows.push(prev);
        else todo.push(b);
      }
      log(
        `survey ${t.tree}: ${boards.length} boards (${boards.length - todo.length} already in ${relative(process.cwd(), results) || results}), ${a.jobs} jobs`,
      );
      let n = 0;
      await runBoards(profile, todo, options, a.jobs, (m) => {
        const row: Row = {
          tree: t.tree,
          key,
          board: m.board,
          ...(m.result ? { result: m.result } : { error: m.error }),
        };
        appendLine(results, `${JSON.stringify(row)}\n`);
        rows.push(row);
        n++;
        if (n % 100 === 0 || n === todo.length)
          log(`  ${t.tree}: ${n}/${todo.length} boards, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      });
    }
    const base = rows.filter((r) => r.tree === 'baseline').sort((x, y) => x.board.localeCompare(y.board));
    const patched = rows.filter((r) => r.tree === 'patched').sort((x, y) => x.board.localeCompare(y.board));
    const changes: BoardChange[] = a.patches.length ? boardChanges(base, patched) : [];
    const summary = summarise(base, patched, changes, a, (Date.now() - t0) / 1000);
    writeAtomic(join(out, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
    writeAtomic(join(out, 'report.html'), renderSurveyReport(summary, base, patched, changes));
    writeAtomic(join(out, 'junit.xml'), renderSurveyJUnit(base, changes, a.requireTranslation));
    if (json) process.stdout.write(`${JSON.stringify({ ...summary, changes }, null, 2)}\n`);
    else process.stdout.write(renderSummary(summary, changes, out));
    const untranslated = summary.untranslatedBoards.length;
    return changes.length || (a.requireTranslation && untranslated) ? 1 : 0;
  } finally {
    release();
  }
}

export interface SurveySummary {
  source: string;
  config: string | null;
  patches: string[];
  coldplugAt: number;
  cmdline: string;
  boards: number;
  errors: Array<{ board: string; error: string }>;
  masters: Record<string, number>;
  /** Boards with an IOMMU master bound or deferred without translation (baseline tree). */
  untranslatedBoards: Array<{ board: string; masters: string[] }>;
  deferredBoards: number;
  changedBoards: number;
  wallSeconds: number;
}

function summarise(base: Row[], patched: Row[], changes: BoardChange[], a: SurveyArgs, wall: number): SurveySummary {
  const masters: Record<string, number> = {};
  for (const r of base) for (const m of r.result?.masters ?? []) masters[m.state] = (masters[m.state] ?? 0) + 1;
  return {
    source: a.source,
    config: a.config ?? null,
    patches: a.patches,
    coldplugAt: a.coldplugAt,
    cmdline: a.cmdline,
    boards: base.length,
    errors: [...base, ...patched].filter((r) => r.error).map((r) => ({ board: r.board, error: r.error! })),
    masters,
    untranslatedBoards: base
      .filter((r) =>
        r.result?.masters.some((m) => m.state === 'bypassed' || m.state === 'deferred' || m.state === 'identity'),
      )
      .map((r) => ({
        board: r.board,
        masters: r
          .result!.masters.filter((m) => m.state !== 'translated' && m.state !== 'unbound')
          .map((m) => `${m.id} ${m.state}`),
      })),
    deferredBoards: base.filter((r) => r.result?.deferred.length).length,
    changedBoards: changes.length,
    wallSeconds: Math.round(wall * 10) / 10,
  };
}

function renderSummary(s: SurveySummary, changes: BoardChange[], out: string): string {
  const lines = [
    `survey of ${s.boards} arm64 boards (linux ${s.source}${s.config ? ` + ${s.config}` : ''}${s.patches.length ? `, patched: ${s.patches.join(' ')}` : ''}; coldplug at ${s.coldplugAt} s${s.cmdline ? `; ${s.cmdline}` : ''}) in ${s.wallSeconds} s`,
    `  IOMMU masters: ${
      Object.entries(s.masters)
        .map(([k, v]) => `${v} ${k}`)
        .join(', ') || 'none'
    }`,
    `  boards with masters left untranslated: ${s.untranslatedBoards.length}; with devices deferred at the end: ${s.deferredBoards}`,
  ];
  if (s.errors.length)
    lines.push(
      `  errors: ${s.errors.length} (${s.errors
        .slice(0, 3)
        .map((e) => `${e.board}: ${e.error}`)
        .join('; ')})`,
    );
  if (s.patches.length) {
    lines.push(`  boards whose outcome the patch changes: ${changes.length}`);
    for (const c of changes.slice(0, 40))
      lines.push(`    ${c.board}: ${c.devices.map((d) => `${d.id} ${d.before} -> ${d.after}`).join(', ')}`);
    if (changes.length > 40) lines.push(`    … ${changes.length - 40} more in ${join(out, 'report.html')}`);
  }
  lines.push(`  ${join(out, 'results.jsonl')}, ${join(out, 'report.html')}, ${join(out, 'junit.xml')}`);
  return `${lines.join('\n')}\n`;
}
