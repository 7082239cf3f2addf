/**
 * `probelab sweep SCENARIO --timeout LIST --load MODULE@LIST`: the simulator over a grid of
 * deferred_probe_timeout values and load times of one module; per cell what became of the IOMMU
 * masters (translated / bypassed / deferred), as a table and an SVG chart.
 */
import { join } from 'node:path';
import {
  loadAnyScenario,
  masterStates,
  moduleKey,
  predict,
  type MasterSummary,
  type ModuleLoad,
  type Prediction,
} from '@probelab/sim-core';
import {
  baseCmdline,
  loadMachine,
  loadProfile,
  machineTree,
  outDir,
  pciFunctions,
  predictBoard,
  writeAtomic,
} from '@probelab/harness';
import { renderSweepSvg } from './sweep-svg.js';

export interface SweepCell {
  timeout: number;
  at: number;
  summary: MasterSummary;
}
export interface Sweep {
  scenario: string;
  module: string;
  timeouts: number[];
  loads: number[];
  cells: SweepCell[];
}

/** `--timeout LIST` and `--load MODULE@LIST` checked (cli.ts parses the command line). */
export function parseSweepArgs(t: string, l: string): { timeouts: number[]; module: string; loads: number[] } | string {
  if (!/^[A-Za-z0-9_-]+@[\d.,]+$/.test(l)) return '--load MODULE@LIST is required (e.g. --load exynos-iommu@5,10,15)';
  const timeouts = t.split(',').map(Number);
  if (timeouts.some((x) => !Number.isInteger(x))) return `--timeout: expected whole numbers of seconds, got ${t}`;
  const [module, list] = l.split('@') as [string, string];
  const loads = list.split(',').map(Number);
  if (loads.some((x) => !Number.isFinite(x) || x < 0)) return `--load: expected seconds >= 0, got ${list}`;
  return { timeouts, module, loads };
}

function override(
  cmdline: string,
  modules: ModuleLoad[],
  timeout: number,
  module: string,
  at: number,
): { cmdline: string; modules: ModuleLoad[] } {
  const key = moduleKey(module);
  const rest = modules.filter((m) => moduleKey(m.name) !== key);
  return {
    cmdline:
      `${cmdline.replace(/(^|\s)deferred_probe_timeout=\S*/g, ' ').trim()} deferred_probe_timeout=${timeout}`.trim(),
    modules: [...rest, { name: module, at }].sort((a, b) => a.at - b.at),
  };
}

export async function runSweep(
  file: string,
  timeouts: number[],
  module: string,
  loads: number[],
  log: (l: string) => void,
): Promise<Sweep> {
  const any = loadAnyScenario(file);
  const cells: SweepCell[] = [];
  let name: string;
  let run: (timeout: number, at: number) => Promise<Prediction>;
  if (any.kind === 'board') {
    const s = any.scenario;
    name = s.name;
    run = async (timeout, at) =>
      predictBoard(
        { ...s, ...override(s.cmdline, s.modules, timeout, module, at), capture: Math.max(s.capture, at + 1) },
        log,
      );
  } else {
    const s = any.scenario;
    name = s.name;
    const profile = await loadProfile(s.kernel, log, { build: false });
    const tree = machineTree(s);
    const pci = pciFunctions(loadMachine(), s);
    run = async (timeout, at) =>
      predict({
        scenario: {
          ...s,
          ...override(s.cmdline, s.modules, timeout, module, at),
          capture: Math.max(s.capture, at + 1),
        },
        profile,
        tree,
        pciFunctions: pci,
        baseCmdline,
      });
  }
  for (const at of loads)
    for (const timeout of timeouts) cells.push({ timeout, at, summary: masterStates(await run(timeout, at)) });
  return { scenario: name, module, timeouts, loads, cells };
}

export function renderSweepTable(s: Sweep): string {
  const w = 14;
  const lines = [
    `${s.scenario}: ${s.module} load time (rows) x deferred_probe_timeout (columns); per cell translated/bypassed/deferred masters`,
  ];
  lines.push(`${'load \\ timeout'.padEnd(w)}${s.timeouts.map((t) => String(t).padStart(w)).join('')}`);
  for (const at of s.loads) {
    const row = s.timeouts.map((t) => {
      const c = s.cells.find((x) => x.at === at && x.timeout === t)!.summary.counts;
      return `${c.translated}/${c.bypassed}/${c.deferred}`.padStart(w);
    });
    lines.push(`${`${at} s`.padEnd(w)}${row.join('')}`);
  }
  return lines.join('\n');
}

export async function cmdSweep(file: string, timeout: string, load: string, json: boolean): Promise<number> {
  const parsed = parseSweepArgs(timeout, load);
  if (typeof parsed === 'string') {
    process.stderr.write(`probelab: sweep: ${parsed}\n`);
    return 2;
  }
  const sweep = await runSweep(file, parsed.timeouts, parsed.module, parsed.loads, (l) =>
    process.stderr.write(`${l}\n`),
  );
  const svg = join(outDir(), sweep.scenario, 'sweep.svg');
  writeAtomic(svg, renderSweepSvg(sweep));
  writeAtomic(join(outDir(), sweep.scenario, 'sweep.json'), JSON.stringify(sweep, null, 2) + '\n');
  process.stdout.write(json ? JSON.stringify(sweep, null, 2) + '\n' : `${renderSweepTable(sweep)}\nchart: ${svg}\n`);
  return 0;
}
