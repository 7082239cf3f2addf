/**
 * One board of the survey, simulated as such a system boots: the built-in drivers at their
 * initcalls, then userspace loading modules the way udev's coldplug does (systemd-udev-trigger:
 * an "add" uevent per device in the order devices were added, and for each `kmod load
 * $MODALIAS`, which loads every module whose alias matches — for an OF device, every module
 * whose of_device_id table has one of its compatibles, scripts/mod/file2alias.c:do_of_entry_multi),
 * one after the other, each taking its module's load latency, starting at the coldplug time.
 * The devices a first pass (built-ins only) has added by the coldplug time give the coldplug
 * list — every device's, bound or not: udev triggers them all, and a bound device's modalias can
 * match another driver's module too; the second pass runs it and goes on until the last
 * deferred-probe timeout (extended by each registration, drivers/base/dd.c:deferred_probe_extend_timeout)
 * has fired and its retries settled. AMBA devices match by periphid, which the tree does not
 * hold: their modules are not coldplugged (listed in `notColdplugged`).
 */
import { compatible, readTreeFile } from '@probelab/dt-compiler';
import {
  boardTiming,
  defaultBoardTiming,
  iommuMasters,
  moduleKey,
  parseDriverCoreParams,
  simulate,
  translationFailures,
  type KernelProfile,
  type ModuleLoad,
  type Prediction,
} from '@probelab/sim-core';

export interface MasterState {
  id: string;
  state: 'translated' | 'identity' | 'bypassed' | 'deferred' | 'unbound';
  group: number | null;
  rule?: string;
}

export interface BoardResult {
  board: string;
  devices: number;
  /** Modules coldplug loaded, in order. */
  modules: string[];
  /** When the simulation stopped (after the last timeout and its retries), and the timeout (s). */
  capture: number;
  timeout: number;
  masters: MasterState[];
  /** Devices still deferred at the end: why (the kernel's reason or the model's rule). */
  deferred: Array<{ id: string; reason: string }>;
  hazards: Array<{ kind: string; device: string; rule: string }>;
  notColdplugged: string[];
}

export interface SurveyOptions {
  cmdline: string;
  /** When udev starts loading modules (guest s). */
  coldplugAt: number;
}

/** The coldplug list of a first pass: the modules matching its devices, in device order. */
function coldplugModules(p: Prediction, profile: KernelProfile): { modules: string[]; amba: string[] } {
  const byCompat = new Map<string, string[]>();
  for (const d of profile.drivers) {
    // What modprobe can load: a module of modules.dep that is not built in (the check a
    // scenario's loads get, predict.ts:checkModuleActions).
    if (
      !d.module ||
      d.builtin ||
      profile.builtinModules.has(moduleKey(d.module)) ||
      !profile.moduleDeps.has(moduleKey(d.module))
    )
      continue;
    for (const c of d.ofCompatibles ?? []) byCompat.set(c, [...(byCompat.get(c) ?? []), d.module]);
  }
  const seen = new Set<string>();
  const modules: string[] = [];
  const amba: string[] = [];
  for (const dev of p.core.devices) {
    if (!dev.node) continue;
    const mods = compatible(dev.node).flatMap((c) => byCompat.get(c) ?? []);
    if (dev.bus === 'amba') {
      if (mods.length) amba.push(dev.id);
      continue;
    }
    for (const m of mods) {
      if (seen.has(m)) continue;
      seen.add(m);
      modules.push(m);
    }
  }
  return { modules, amba };
}

export function surveyBoard(dts: string, board: string, profile: KernelProfile, o: SurveyOptions): BoardResult {
  const tree = readTreeFile(dts);
  const timing = boardTiming(profile, {
    ...defaultBoardTiming,
    initStart: Math.min(defaultBoardTiming.initStart, o.coldplugAt),
  });
  const run = (modules: ModuleLoad[], capture: number): Prediction =>
    simulate({
      file: dts,
      profile,
      timing,
      tree,
      pciFunctions: [],
      cmdline: o.cmdline,
      modules,
      capture,
      defaultProbeDuration: defaultBoardTiming.defaultProbeDuration,
      listEveryBoundDevice: true,
    });
  const first = run([], o.coldplugAt);
  const { modules, amba } = coldplugModules(first, profile);
  const t = parseDriverCoreParams(
    o.cmdline,
    profile.series,
    profile.modules,
    profile.deferredProbeTimeoutDefault,
    profile.fwDevlinkDefault,
  ).deferredProbeTimeout;
  const loadsEnd =
    o.coldplugAt +
    modules.reduce(
      (s, m) => s + (defaultBoardTiming.moduleLoadLatency[m] ?? defaultBoardTiming.defaultModuleLoadLatency),
      0,
    );
  const capture = Math.max(timing.lateInitcallEnd, loadsEnd) + (t >= 0 ? t : 30) + 5;
  const p = run(
    modules.map((name) => ({ name, at: o.coldplugAt })),
    capture,
  );
  const ids = iommuMasters(p.core);
  // The policy's rule for each master left untranslated (translation-policy.ts).
  const failures = new Map(translationFailures(ids, p.outcome, p.hazards).map((f) => [f.device, f]));
  const masters: MasterState[] = ids.map((id) => {
    const d = p.outcome.devices.find((x) => x.id === id);
    if (!d || (!d.driver && !d.deferred)) return { id, state: 'unbound', group: null };
    const f = failures.get(id);
    return f
      ? { id, state: f.state, group: d.iommuGroup, rule: f.rule }
      : { id, state: 'translated', group: d.iommuGroup };
  });
  const deferred = p.outcome.devices
    .filter((d) => d.deferred)
    .map((d) => {
      const h = p.hazards.find((x) => x.device === d.id);
      const ev = [...p.outcome.events].reverse().find((e) => e.device === d.id && e.rule);
      return {
        id: d.id,
        reason: h?.rule ?? ev?.rule ?? 'drivers/base/dd.c:driver_deferred_probe_add (no rule recorded)',
      };
    });
  return {
    board,
    devices: p.core.devices.length,
    modules,
    capture: Math.round(capture * 1000) / 1000,
    timeout: t,
    masters,
    deferred,
    hazards: p.hazards.map((h) => ({ kind: h.kind, device: h.device, rule: h.rule })),
    notColdplugged: amba,
  };
}
