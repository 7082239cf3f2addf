/**
 * `probelab calibrate [MATRIX]`: boot the reference cells (ci/calibration.yaml), then fit, per
 * kernel and machine variant, each timing parameter the simulator uses to the real events it
 * times, and write qemu/calibration/<kernel>.json (which loadProfile then applies):
 *   - builtinShift: all built-in driver registrations   <- `bound` before the late initcall
 *   - lateInitcall (+ its end and later registrations)  <- `late-initcall`
 *   - moduleLoadLatency[module]                         <- `module-loaded` of that module
 *   - probeDuration[driver] (drivers bound after the late initcall) <- their `bound` events
 * Each fit is the median residual (real - predicted) of its events, repeated until it settles
 * (the parameters interact only through later events). The timer's own rounding is modelled, so
 * timeout-driven events follow from these.
 */
import type { BootTiming, IommuKind, KernelId, KernelProfile, Outcome, Scenario } from '@probelab/sim-core';
import { round6 } from '@probelab/sim-core';
import { predict } from '@probelab/sim-core';
import {
  baseCmdline,
  calibrationPath,
  loadMachine,
  loadProfile,
  machineTree,
  pciFunctions,
  writeAtomic,
  type Calibration,
} from '@probelab/harness';
import type { CellResult } from './results.js';
import { runMatrix, type MatrixOptions } from './run.js';

interface RefCell {
  scenario: Scenario;
  real: Outcome;
}

const median = (xs: number[]): number => {
  if (!xs.length) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

function first(o: Outcome, pred: (e: Outcome['events'][number]) => boolean): number | undefined {
  return o.events.filter(pred).sort((a, b) => a.t - b.t)[0]?.t;
}

type Param = {
  name: string;
  get: (t: BootTiming) => number;
  set: (t: BootTiming, v: number) => BootTiming;
  residuals: (p: Outcome, r: Outcome) => number[];
};

function paramsFor(cells: RefCell[]): Param[] {
  const lateOf = (o: Outcome): number => first(o, (e) => e.kind === 'late-initcall') ?? Infinity;
  const params: Param[] = [
    {
      name: 'builtinShift',
      get: (t) => t.builtinRegistrations[0]?.t ?? 0,
      set: (t, v) => {
        const d = v - (t.builtinRegistrations[0]?.t ?? 0);
        return { ...t, builtinRegistrations: t.builtinRegistrations.map((r) => ({ ...r, t: r.t + d })) };
      },
      residuals: (p, r) => {
        const out: number[] = [];
        for (const e of r.events) {
          if (e.kind !== 'bound' || e.t >= lateOf(r)) continue;
          const pt = first(p, (x) => x.kind === 'bound' && x.device === e.device);
          if (pt !== undefined && pt < lateOf(p)) out.push(e.t - pt);
        }
        return out;
      },
    },
    {
      name: 'lateInitcall',
      get: (t) => t.lateInitcall,
      set: (t, v) => {
        const d = v - t.lateInitcall;
        return {
          ...t,
          lateInitcall: v,
          lateInitcallEnd: t.lateInitcallEnd + d,
          lateRegistrations: t.lateRegistrations.map((x) => x + d),
        };
      },
      residuals: (p, r) => {
        const a = first(r, (e) => e.kind === 'late-initcall');
        const b = first(p, (e) => e.kind === 'late-initcall');
        return a !== undefined && b !== undefined ? [a - b] : [];
      },
    },
  ];
  // Probe time of drivers that bind after the late initcall (the IOMMU, the transports, their
  // children): each one's `bound` events, after the module load that registers it.
  const lateDrivers = [
    ...new Set(
      cells.flatMap((c) =>
        c.real.events.filter((e) => e.kind === 'bound' && e.t > lateOf(c.real) && e.driver).map((e) => e.driver!),
      ),
    ),
  ].sort();
  for (const d of lateDrivers) {
    params.push({
      name: `probeDuration.${d}`,
      get: (t) => t.probeDuration[d] ?? 0.0002,
      set: (t, v) => ({ ...t, probeDuration: { ...t.probeDuration, [d]: Math.max(0, v) } }),
      residuals: (p, r) => {
        const out: number[] = [];
        for (const e of r.events) {
          if (e.kind !== 'bound' || e.driver !== d || e.t <= lateOf(r)) continue;
          const pt = first(p, (x) => x.kind === 'bound' && x.device === e.device);
          if (pt !== undefined) out.push(e.t - pt);
        }
        return out;
      },
    });
  }
  const modules = [...new Set(cells.flatMap((c) => c.scenario.modules.map((m) => m.name.replace(/-/g, '_'))))].sort();
  for (const m of modules) {
    params.push({
      name: `moduleLoadLatency.${m}`,
      get: (t) => t.moduleLoadLatency[m] ?? t.defaultModuleLoadLatency,
      set: (t, v) => ({ ...t, moduleLoadLatency: { ...t.moduleLoadLatency, [m]: v } }),
      residuals: (p, r) => {
        const a = first(r, (e) => e.kind === 'module-loaded' && e.module === m);
        const b = first(p, (e) => e.kind === 'module-loaded' && e.module === m);
        return a !== undefined && b !== undefined ? [a - b] : [];
      },
    });
  }
  return params;
}

function errorsByKind(p: Outcome, r: Outcome): Map<string, number[]> {
  const m = new Map<string, number[]>();
  const seen = new Set<string>();
  for (const e of [...r.events].sort((a, b) => a.t - b.t)) {
    if (e.kind === 'probe-deferred' || e.kind === 'iommu-fault') continue;
    const key = `${e.device}|${e.kind}|${e.module ?? ''}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const pt = first(p, (x) => x.kind === e.kind && x.device === e.device && (x.module ?? '') === (e.module ?? ''));
    if (pt === undefined) continue;
    m.set(e.kind, [...(m.get(e.kind) ?? []), pt - e.t]);
  }
  return m;
}

export function fitKernel(
  profile: KernelProfile,
  iommu: IommuKind,
  cells: RefCell[],
): { timing: BootTiming; parameters: Calibration['parameters']; eventKinds: Calibration['eventKinds'] } {
  const machine = loadMachine();
  const base = profile.timing[iommu]!;
  const run = (t: BootTiming, c: RefCell): Outcome =>
    predict({
      scenario: c.scenario,
      profile: { ...profile, timing: { ...profile.timing, [iommu]: t } },
      tree: machineTree(c.scenario),
      pciFunctions: pciFunctions(machine, c.scenario),
      baseCmdline,
    }).outcome;
  const params = paramsFor(cells);
  const residualsOf = (t: BootTiming, prm: Param): number[] => cells.flatMap((c) => prm.residuals(run(t, c), c.real));
  let timing = base;
  for (let round = 0; round < 4; round++) {
    for (const prm of params) {
      const d = median(residualsOf(timing, prm));
      if (Math.abs(d) > 1e-6) timing = prm.set(timing, prm.get(timing) + d);
    }
  }
  const meanAbs = (xs: number[]): number => (xs.length ? xs.reduce((a, b) => a + Math.abs(b), 0) / xs.length : 0);
  const parameters = params.map((prm) => {
    const before = residualsOf(base, prm);
    const after = residualsOf(timing, prm);
    return {
      iommu,
      name: prm.name,
      before: round6(prm.get(base)),
      after: round6(prm.get(timing)),
      residualBefore: round6(median(before.map(Math.abs))),
      residualAfter: round6(median(after.map(Math.abs))),
      n: after.length,
    };
  });
  const kindsBefore = new Map<string, number[]>();
  const kindsAfter = new Map<string, number[]>();
  for (const c of cells) {
    for (const [k, v] of errorsByKind(run(base, c), c.real)) kindsBefore.set(k, [...(kindsBefore.get(k) ?? []), ...v]);
    for (const [k, v] of errorsByKind(run(timing, c), c.real)) kindsAfter.set(k, [...(kindsAfter.get(k) ?? []), ...v]);
  }
  const eventKinds = [...kindsAfter].map(([kind, after]) => ({
    iommu,
    kind,
    n: after.length,
    meanAbsBefore: round6(meanAbs(kindsBefore.get(kind) ?? [])),
    meanAbsAfter: round6(meanAbs(after)),
    maxAbsAfter: round6(after.reduce((m, x) => Math.max(m, Math.abs(x)), 0)),
  }));
  return { timing, parameters, eventKinds };
}

export async function runCalibration(
  matrixFile: string,
  opts: MatrixOptions = {},
  log: (l: string) => void = () => {},
): Promise<Calibration[]> {
  const m = await runMatrix(matrixFile, { ...opts, calibration: false });
  const ok = m.results.filter((r): r is CellResult & { real: Outcome } => r.real !== undefined);
  const failed = m.results.filter((r) => r.status === 'error');
  if (failed.length)
    log(`${failed.length} reference cell(s) failed and are left out: ${failed.map((r) => r.id).join(', ')}`);
  const out: Calibration[] = [];
  for (const kernel of [...new Set(ok.map((r) => r.scenario.kernel))] as KernelId[]) {
    const profile = await loadProfile(kernel, log, { calibration: false });
    const cal: Calibration = { kernel, fittedAt: new Date().toISOString(), timing: {}, parameters: [], eventKinds: [] };
    for (const iommu of [
      ...new Set(ok.filter((r) => r.scenario.kernel === kernel).map((r) => r.scenario.machine.iommu)),
    ]) {
      const cells = ok
        .filter((r) => r.scenario.kernel === kernel && r.scenario.machine.iommu === iommu)
        .map((r) => ({ scenario: { ...r.scenario, file: matrixFile }, real: r.real }));
      const f = fitKernel(profile, iommu, cells);
      cal.timing[iommu] = {
        builtinRegistrations: f.timing.builtinRegistrations,
        lateInitcall: f.timing.lateInitcall,
        lateInitcallEnd: f.timing.lateInitcallEnd,
        lateRegistrations: f.timing.lateRegistrations,
        moduleLoadLatency: f.timing.moduleLoadLatency,
        probeDuration: f.timing.probeDuration,
      };
      cal.parameters.push(...f.parameters);
      cal.eventKinds.push(...f.eventKinds);
    }
    writeAtomic(calibrationPath(kernel), JSON.stringify(cal, null, 2) + '\n');
    out.push(cal);
  }
  return out;
}

export function renderCalibration(cals: Calibration[]): string {
  const lines: string[] = [];
  for (const c of cals) {
    lines.push(`${c.kernel}: wrote ${calibrationPath(c.kernel)}`);
    lines.push(
      '  parameter                                   before       after   |residual| median before -> after (n)',
    );
    for (const p of c.parameters)
      lines.push(
        `  ${`${p.iommu} ${p.name}`.padEnd(42)} ${p.before.toFixed(4).padStart(9)} ${p.after.toFixed(4).padStart(11)}   ${(p.residualBefore * 1000).toFixed(1).padStart(7)} ms -> ${(p.residualAfter * 1000).toFixed(1).padStart(6)} ms (${p.n})`,
      );
    lines.push('  event kind                      mean |error| before -> after, max after (n)');
    for (const k of c.eventKinds)
      lines.push(
        `  ${`${k.iommu} ${k.kind}`.padEnd(32)} ${(k.meanAbsBefore * 1000).toFixed(1).padStart(7)} ms -> ${(k.meanAbsAfter * 1000).toFixed(1).padStart(6)} ms, max ${(k.maxAbsAfter * 1000).toFixed(1).padStart(6)} ms (${k.n})`,
      );
  }
  return lines.join('\n');
}
