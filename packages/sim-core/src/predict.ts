/**
 * predict(): a scenario, its board and its kernel profile in; the simulator's Outcome out.
 * The boot is replayed as timed events: built-in driver registrations (init/main.c:do_initcalls,
 * by level and link order), the late initcall (drivers/base/dd.c:deferred_probe_initcall), late
 * registrations, the guest init's module loads, the deferred-probe timer, and the capture.
 */
import type { DeviceTree } from '@probelab/dt-compiler';
import { buildBoard, ofModalias, type PciFunctionSpec } from './board.js';
import { probeBehaviours, type ProbeBehaviour } from './behaviours.js';
import { kstrtobool, parseDriverCoreParams } from './cmdline.js';
import { DriverCore } from './driver-core.js';
import type { ProbeFault } from './probe-faults.js';
import { InputError } from './errors.js';
import { labDma, labFaults, labProbeTimes } from './lab-devices.js';
import { keepDevice, sortOutcome, type Outcome } from './outcome.js';
import { moduleClosure, type BootTiming, type KernelProfile } from './profile.js';
import { moduleKey, type ModuleLoad, type Scenario } from './scenario.js';
import type { Hazard } from './hazards.js';

export interface PredictInput {
  scenario: Scenario;
  profile: KernelProfile;
  /** QEMU's own device tree for the scenario's machine (`-machine dumpdtb=`). */
  tree: DeviceTree;
  pciFunctions: PciFunctionSpec[];
  /** Extra kernel parameters the harness always adds (they must not change behaviour). */
  baseCmdline?: string;
  /** Probe behaviours of drivers beyond the built-in table (behaviours.ts), by driver name. */
  behaviours?: Record<string, ProbeBehaviour>;
}

export interface Prediction {
  outcome: Outcome;
  /** What the developer needs told, per device, with the rule behind it. */
  hazards: Hazard[];
  /** The simulated state, for `explain`. */
  core: DriverCore;
}

export function predict(input: PredictInput): Prediction {
  const { scenario, profile } = input;
  const timing = profile.timing[scenario.machine.iommu];
  if (!timing)
    throw new InputError(
      `kernel profile ${profile.id} has no boot timing for machine.iommu=${scenario.machine.iommu}; run \`probelab kernel discover ${profile.id}\``,
      scenario.file,
    );
  return simulate({
    file: scenario.file,
    profile,
    timing,
    tree: input.tree,
    pciFunctions: input.pciFunctions,
    cmdline: `${input.baseCmdline ?? ''} ${scenario.cmdline}`,
    modules: scenario.modules,
    unloads: scenario.unload ?? [],
    capture: scenario.capture,
    cpus: scenario.machine.cpus ?? 1,
    ...(input.behaviours ? { behaviours: input.behaviours } : {}),
  });
}

export interface SimulationInput {
  /** The scenario file, for messages. */
  file: string;
  profile: KernelProfile;
  timing: BootTiming;
  tree: DeviceTree;
  pciFunctions: PciFunctionSpec[];
  cmdline: string;
  modules: ModuleLoad[];
  /** rmmod at a time, in the guest init's order with the loads. */
  unloads?: ModuleLoad[];
  faults?: ProbeFault[];
  capture: number;
  behaviours?: Record<string, ProbeBehaviour>;
  defaultProbeDuration?: number;
  /** QEMU -smp (machine.cpus): whether an async probe runs beside the init. */
  cpus?: number;
  /** List every DT device that was ever bound (board scenarios), not only those bound at capture. */
  listEveryBoundDevice?: boolean;
}

/**
 * A scenario's loads and unloads against the kernel, the one check for predict and for boot
 * (the initramfs builder calls it too): each loaded module is a module of the kernel (in
 * modules.dep) and not built in (insmod of a built-in module fails: there is no .ko), each
 * unloaded one is loaded by the scenario.
 */
export function checkModuleActions(
  profile: Pick<KernelProfile, 'id' | 'moduleDeps' | 'builtinModules'>,
  modules: ModuleLoad[],
  unloads: ModuleLoad[],
  file?: string,
): void {
  for (const m of modules) {
    const key = moduleKey(m.name);
    if (profile.builtinModules.has(key))
      throw new InputError(
        `field \`modules\`: ${m.name} is built into ${profile.id}; remove it from \`modules\``,
        file,
      );
    if (!profile.moduleDeps.has(key))
      throw new InputError(`field \`modules\`: ${m.name} is not a module of ${profile.id} (not in modules.dep)`, file);
  }
  for (const u of unloads) {
    if (!modules.some((m) => moduleKey(m.name) === moduleKey(u.name)))
      throw new InputError(`field \`unload\`: ${u.name} is not loaded by the scenario (add it to \`modules\`)`, file);
  }
}

/**
 * kernel/module/main.c:unknown_module_param_cb: `async_probe` (kstrtobool; no or a bad value
 * means true) sets the module's async_probe_requested, else module.async_probe's default.
 */
export function asyncProbeParam(params: string | undefined, dflt: boolean): boolean {
  let v = dflt;
  for (const w of (params ?? '').split(' ').filter(Boolean)) {
    const [k, val] = [w.split('=')[0], w.includes('=') ? w.slice(w.indexOf('=') + 1) : undefined];
    if (k === 'async_probe') v = val === undefined ? true : (kstrtobool(val) ?? true);
  }
  return v;
}

/** The boot replayed as timed events; any board, any kernel profile. */
export function simulate(input: SimulationInput): Prediction {
  const { profile, timing } = input;
  const params = parseDriverCoreParams(
    input.cmdline,
    profile.series,
    profile.modules,
    profile.deferredProbeTimeoutDefault,
    profile.fwDevlinkDefault,
  );
  const ofDeclared = new Set(profile.ofDeclared);
  const board = buildBoard(input.tree, input.pciFunctions, ofDeclared);
  const behaviours = { ...probeBehaviours, ...profile.behaviours, ...input.behaviours };
  const core = new DriverCore(
    board,
    profile,
    params,
    {
      probeDuration: timing.probeDuration,
      deferCost: timing.deferCost,
      ...(input.defaultProbeDuration !== undefined ? { defaultProbeDuration: input.defaultProbeDuration } : {}),
    },
    ofDeclared,
    behaviours,
  );
  // The lab's test devices fault and take time as their DT properties say; a scenario's own
  // faults come after them.
  core.setFaults([...labFaults(board), ...(input.faults ?? [])]);
  core.setProbeTimes(labProbeTimes(board));
  core.cpus = input.cpus ?? 1;

  checkModuleActions(profile, input.modules, input.unloads ?? [], input.file);
  const actions = [
    ...input.modules.map((m) => ({ ...m, unload: false })),
    ...(input.unloads ?? []).map((m) => ({ ...m, unload: true })),
  ].sort((a, b) => a.at - b.at);

  // of_platform_default_populate_init (arch_initcall_sync) creates the DT devices.
  // Platform devices carry their OF modalias (of/device.c:of_device_uevent_modalias); AMBA
  // modaliases come from the hardware's periphid, which the tree does not hold.
  for (const p of board.platform)
    core.addDevice({
      id: p.id,
      bus: p.bus,
      node: p.node,
      parent: null,
      modalias: p.bus === 'platform' ? ofModalias(p.node) : null,
    });

  type Ev = { t: number; run: () => void };
  const statics: Ev[] = [];
  const byName = new Map(profile.drivers.map((d) => [`${d.bus}/${d.name}`, d]));
  for (const r of timing.builtinRegistrations) {
    const info = byName.get(`${r.bus}/${r.driver}`);
    if (info) statics.push({ t: r.t, run: () => core.registerDriver(info) });
  }
  statics.push({ t: timing.lateInitcall, run: () => core.lateInitcall() });
  statics.push({ t: timing.lateInitcallEnd, run: () => core.armTimeout() });
  for (const t of timing.lateRegistrations) statics.push({ t, run: () => core.extendTimeout() });
  statics.sort((a, b) => a.t - b.t);

  // The guest init loads (and unloads) modules in order, each not before its `at` and after the previous one.
  let modIndex = 0;
  let initFree = timing.initStart;
  const nextModuleTime = (): number | null => {
    const m = actions[modIndex];
    if (!m) return null;
    const key = moduleKey(m.name);
    const latency = timing.moduleLoadLatency[key] ?? timing.defaultModuleLoadLatency;
    return Math.max(m.at, initFree, core.cpuBusyUntil) + latency;
  };

  let si = 0;
  for (;;) {
    const ts = statics[si]?.t ?? Infinity;
    const tm = nextModuleTime() ?? Infinity;
    const tt = core.timeoutTimerAt ?? Infinity;
    const ta = core.asyncSteps[0]?.t ?? Infinity;
    const t = Math.min(ts, tm, tt, ta);
    if (t > input.capture || t === Infinity) break;
    core.now = Math.max(core.now, t);
    if (t === ta) {
      core.asyncSteps.shift()!.run();
    } else if (t === ts) {
      statics[si++]!.run();
    } else if (t === tt) {
      core.timeoutFire();
    } else {
      const m = actions[modIndex++]!;
      const key = moduleKey(m.name);
      initFree = core.now + 0.001;
      if (m.unload) core.unloadModule(key);
      else {
        const async = asyncProbeParam(m.params, params.moduleAsyncProbe);
        for (const dep of moduleClosure(profile, key)) {
          if (profile.builtinModules.has(dep)) continue;
          core.loadModule(dep, dep === key ? async : params.moduleAsyncProbe);
        }
        initFree = core.now + 0.001;
        // do_init_module: a module without async_probe waits for every async probe still running.
        if (!async) initFree = Math.max(initFree, core.asyncUntil);
      }
    }
    core.runDeferredWork();
  }

  core.now = Math.max(core.now, input.capture);
  core.captureHazards();
  const scenarioModules = new Set(actions.map((m) => moduleKey(m.name)));
  const everBound = new Set(
    input.listEveryBoundDevice
      ? core.events.filter((e) => (e.kind === 'bound' || e.kind === 'probe-failed') && e.device).map((e) => e.device!)
      : [],
  );
  const devices = core.devices
    .map((d) => {
      const dma = labDma(d.driver, d.iommuGroup, params.iommuPassthrough);
      return {
        id: d.id,
        bus: d.bus,
        driver: d.driver,
        iommuGroup: d.iommuGroup,
        ignoredDependency: d.ignoredDependency,
        deferred: core.deferredNow(d),
        fromDt: d.node !== null,
        ...(dma ? { dma } : {}),
      };
    })
    .filter((d) => keepDevice(d) || (d.fromDt && everBound.has(d.id)))
    .map(({ fromDt: _f, ...d }) => d);
  const events = core.events.filter((e) => e.kind !== 'module-loaded' || scenarioModules.has(e.module ?? ''));
  return { outcome: sortOutcome({ devices, events }), hazards: core.hazards, core };
}
