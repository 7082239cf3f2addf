/**
 * A board scenario: any kernel .dts (read from the kernel source through dt-compiler), a kernel
 * profile read from that source and a .config (defconfig + fragment + patches), and what the
 * boot does: module loads and unloads at given times, probe faults, the command line. Simulated
 * only; QEMU scenarios (scenario.ts) also boot for real.
 */
import { dirname, resolve } from 'node:path';
import { InputError, readInputFile } from './errors.js';
import { moduleKey, type ModuleLoad } from './scenario.js';
import type { ProbeFault } from './probe-faults.js';
import { checkCmdline } from './cmdline.js';
import { ContractFile } from './schema-check.js';

/** Timing of a board boot; defaults stand for a typical arm64 board, a calibration file refines them. */
export interface BoardTimingParams {
  /** When the first built-in driver registers (guest s). */
  initcallStart: number;
  /** Time between two built-in driver registrations, in initcall order. */
  initcallStep: number;
  /** From the last built-in registration to dd.c:deferred_probe_initcall. */
  lateInitcallGap: number;
  /** When userspace can load modules (rootfs mounted, udev started). */
  initStart: number;
  moduleLoadLatency: Record<string, number>;
  defaultModuleLoadLatency: number;
  probeDuration: Record<string, number>;
  defaultProbeDuration: number;
  deferCost: number;
}

export const defaultBoardTiming: BoardTimingParams = {
  initcallStart: 0.1,
  initcallStep: 0.002,
  lateInitcallGap: 0.05,
  initStart: 3,
  moduleLoadLatency: {},
  defaultModuleLoadLatency: 0.03,
  probeDuration: {},
  defaultProbeDuration: 0.0005,
  deferCost: 0.00005,
};

export interface BoardKernel {
  source: string;
  /** Fragment over arch/arm64/configs/defconfig (absolute). */
  config?: string;
  patches: string[];
  iommuSetup: 'driver-bind' | 'device-add';
  busOpsAtInit: string[];
}

export interface BoardScenario {
  name: string;
  /** The .dts: absolute, or relative to the kernel's arch/arm64/boot/dts. */
  board: string;
  kernel: BoardKernel;
  cmdline: string;
  modules: ModuleLoad[];
  unload: ModuleLoad[];
  faults: ProbeFault[];
  timing: BoardTimingParams;
  capture: number;
  file: string;
}

export function isBoardScenarioText(text: string): boolean {
  return /^board:/m.test(text);
}

export function loadBoardScenario(file: string): BoardScenario {
  return parseBoardScenario(readInputFile(file, 'scenario'), file);
}

/**
 * The file's shape is schemas/board-scenario.schema.json, a timing file's
 * schemas/board-timing.schema.json (checked with ajv, schema-check.ts); what a schema cannot say
 * is checked here: the kernel parameters, finite times, each module once, loads before capture.
 */
export function parseBoardScenario(text: string, file = '<scenario>'): BoardScenario {
  const cf = new ContractFile(text, file);
  const data = cf.check<BoardScenarioData>('board-scenario');
  const { node, fail } = cf;
  const here = dirname(resolve(file));
  const k = data.kernel;
  const cmdline = data.cmdline ?? '';
  const cmdProblem = checkCmdline(cmdline);
  if (cmdProblem) fail('cmdline', cmdProblem, node('cmdline'));
  const capture = data.capture;
  if (!Number.isFinite(capture)) fail('capture', 'a number of seconds of uptime, > 0 and <= 3600', node('capture'));
  const loads = (key: 'modules' | 'unload'): ModuleLoad[] => {
    const seen = new Set<string>();
    return (data[key] ?? []).map((m, i) => {
      if (seen.has(moduleKey(m.name)))
        fail(`${key}[${i}].name`, `each module once (${m.name} is listed twice in \`${key}\`)`, node(key, i, 'name'));
      seen.add(moduleKey(m.name));
      if (!(m.at < capture))
        fail(`${key}[${i}].at`, `a number of seconds >= 0 and before capture (${capture} s)`, node(key, i, 'at'));
      return { name: m.name, at: m.at };
    });
  };
  const faults = (data.faults ?? []).map((f): ProbeFault => ({
    device: f.device,
    result: f.result,
    times: f.times ?? 1,
  }));
  // `timing:` inline, or the path of a calibration file (YAML/JSON with the same fields).
  let timing: BoardTimingParams = { ...defaultBoardTiming };
  if (typeof data.timing === 'string') {
    const f = resolve(here, data.timing);
    let t: string;
    try {
      t = readInputFile(f, 'calibration file');
    } catch (e) {
      return fail(
        'timing',
        `a timing mapping or a readable calibration file (${f}: ${(e as InputError).message.replace(/^cannot read [^:]*: /, '')})`,
        node('timing'),
      );
    }
    timing = readTiming(new ContractFile(t, f).check<TimingData>('board-timing'), f);
  } else if (data.timing) timing = readTiming(data.timing, file);
  return {
    name: data.name,
    board: data.board.startsWith('./') || data.board.startsWith('../') ? resolve(here, data.board) : data.board,
    kernel: {
      source: k.source,
      ...(k.config ? { config: resolve(here, k.config) } : {}),
      patches: (k.patches ?? []).map((x) => resolve(here, x)),
      iommuSetup: k.iommuSetup ?? 'driver-bind',
      busOpsAtInit: k.busOpsAtInit ?? [],
    },
    cmdline,
    modules: loads('modules'),
    unload: loads('unload'),
    faults,
    timing,
    capture,
    file,
  };
}

type TimingData = Partial<Omit<BoardTimingParams, 'moduleLoadLatency' | 'probeDuration'>> & {
  moduleLoadLatency?: Record<string, number>;
  probeDuration?: Record<string, number>;
};

/** What schemas/board-scenario.schema.json admits. */
interface BoardScenarioData {
  name: string;
  board: string;
  kernel: {
    source: string;
    config?: string;
    patches?: string[];
    iommuSetup?: BoardKernel['iommuSetup'];
    busOpsAtInit?: string[];
  };
  cmdline?: string;
  modules?: Array<{ name: string; at: number }>;
  unload?: Array<{ name: string; at: number }>;
  faults?: Array<{ device: string; result: ProbeFault['result']; times?: number }>;
  timing?: string | TimingData;
  capture: number;
}

/** Timing parameters over the defaults; a number the schema lets through must still be finite. */
function readTiming(t: TimingData, file: string): BoardTimingParams {
  const timing = { ...defaultBoardTiming };
  const finite = (k: string, v: number): number => {
    if (!Number.isFinite(v)) throw new InputError(`field \`${k}\`: expected a number of seconds >= 0`, file);
    return v;
  };
  for (const [key, v] of Object.entries(t) as Array<[keyof TimingData, unknown]>) {
    if (key === 'moduleLoadLatency' || key === 'probeDuration') {
      const table: Record<string, number> = {};
      for (const [name, x] of Object.entries(v as Record<string, number>)) table[name] = finite(`${key}.${name}`, x);
      timing[key] = table;
    } else timing[key] = finite(key, v as number);
  }
  return timing;
}
