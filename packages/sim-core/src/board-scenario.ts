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
import { YamlInput } from './yaml-input.js';
import { checkCmdline } from './cmdline.js';
import { nameExpected, namePattern } from './input-limits.js';

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

const moduleName = /^[A-Za-z0-9_-]+$/;

export function parseBoardScenario(text: string, file = '<scenario>'): BoardScenario {
  const y = new YamlInput(text, file, 'a mapping with name, board, kernel, cmdline, modules, capture');
  const top = y.root;
  y.only(top, '', ['name', 'board', 'kernel', 'cmdline', 'modules', 'unload', 'faults', 'timing', 'capture']);
  const here = dirname(resolve(file));
  const name = y.string(top, 'name', 'name', nameExpected, (s) => namePattern.test(s));
  const board = y.string(
    top,
    'board',
    'board',
    "a .dts path (relative to the kernel's arch/arm64/boot/dts, or to this file when it starts with ./)",
    (s) => /\.dts$/.test(s),
  );

  const k = y.map(
    top,
    'kernel',
    'kernel',
    'a mapping with source, and optionally config, patches, iommuSetup, busOpsAtInit',
  );
  y.only(k, 'kernel', ['source', 'config', 'patches', 'iommuSetup', 'busOpsAtInit']);
  const source = y.string(k, 'source', 'kernel.source', "'6.12', '6.1' or a kernel tree path", (s) => s.length > 0);
  const config = y.optionalString(k, 'config', 'kernel.config', 'a config fragment path (relative to this file)');
  const patches = y
    .list(k, 'patches', 'kernel.patches', 'a list of patch paths')
    .map((it) => resolve(here, y.scalar(it, 'a patch path', (v) => typeof v === 'string') as string));
  const iommuSetup = (y.optionalString(
    k,
    'iommuSetup',
    'kernel.iommuSetup',
    'driver-bind or device-add',
    (s) => s === 'driver-bind' || s === 'device-add',
  ) ?? 'driver-bind') as BoardKernel['iommuSetup'];
  const busOpsAtInit = y
    .list(k, 'busOpsAtInit', 'kernel.busOpsAtInit', 'a list of driver names')
    .map((it) => y.scalar(it, 'a driver name', (v) => typeof v === 'string') as string);

  const cmdline = y.optionalString(top, 'cmdline', 'cmdline', 'a string of kernel parameters') ?? '';
  const cmdProblem = checkCmdline(cmdline);
  if (cmdProblem) y.fail('cmdline', cmdProblem, y.node(top, 'cmdline'));
  const capture = y.number(
    top,
    'capture',
    'capture',
    'a number of seconds of uptime, > 0 and <= 3600',
    (n) => n > 0 && n <= 3600,
  );
  const loads = (key: 'modules' | 'unload'): ModuleLoad[] => {
    const seen = new Set<string>();
    return y.list(top, key, key, 'a list of { name, at }').map((it) => {
      const m = y.asMap(it, 'a mapping { name, at }');
      y.only(m, it.path, ['name', 'at']);
      const name = y.string(m, 'name', `${it.path}.name`, 'a module name', (s) => moduleName.test(s));
      if (seen.has(moduleKey(name)))
        y.fail(`${it.path}.name`, `each module once (${name} is listed twice in \`${key}\`)`, y.node(m, 'name'));
      seen.add(moduleKey(name));
      return {
        name,
        at: y.number(
          m,
          'at',
          `${it.path}.at`,
          `a number of seconds >= 0 and before capture (${capture} s)`,
          (n) => n >= 0 && n < capture,
        ),
      };
    });
  };
  const faults = y.list(top, 'faults', 'faults', 'a list of { device, result, times }').map((it): ProbeFault => {
    const m = y.asMap(it, 'a mapping { device, result, times }');
    y.only(m, it.path, ['device', 'result', 'times']);
    return {
      device: y.string(m, 'device', `${it.path}.device`, 'a device name (dev_name, e.g. 13900000.decon)'),
      result: y.string(
        m,
        'result',
        `${it.path}.result`,
        'defer (-EPROBE_DEFER) or error (fails for good)',
        (s) => s === 'defer' || s === 'error',
      ) as ProbeFault['result'],
      times:
        y.optionalNumber(
          m,
          'times',
          `${it.path}.times`,
          'a whole number of probes >= 1',
          (n) => Number.isInteger(n) && n >= 1,
        ) ?? 1,
    };
  });
  // `timing:` inline, or the path of a calibration file (YAML/JSON with the same fields).
  let timing: BoardTimingParams = { ...defaultBoardTiming };
  const tnode = y.node(top, 'timing');
  if (tnode !== undefined) {
    if ('value' in tnode && typeof (tnode as { value: unknown }).value === 'string') {
      const f = resolve(here, (tnode as { value: string }).value);
      let t: string;
      try {
        t = readInputFile(f, 'calibration file');
      } catch (e) {
        return y.fail(
          'timing',
          `a timing mapping or a readable calibration file (${f}: ${(e as InputError).message.replace(/^cannot read [^:]*: /, '')})`,
          tnode,
        );
      }
      const ty = new YamlInput(t, f, 'a mapping of timing parameters');
      timing = readTiming(ty, ty.root, '');
    } else {
      timing = readTiming(
        y,
        y.map(top, 'timing', 'timing', 'a mapping of timing parameters, or a calibration file path'),
        'timing',
      );
    }
  }
  return {
    name,
    board: board.startsWith('./') || board.startsWith('../') ? resolve(here, board) : board,
    kernel: { source, ...(config ? { config: resolve(here, config) } : {}), patches, iommuSetup, busOpsAtInit },
    cmdline,
    modules: loads('modules'),
    unload: loads('unload'),
    faults,
    timing,
    capture,
    file,
  };
}

function readTiming(y: YamlInput, t: import('yaml').YAMLMap, path: string): BoardTimingParams {
  const timing = { ...defaultBoardTiming };
  const at = (k: string): string => (path ? `${path}.${k}` : k);
  const scalars = [
    'initcallStart',
    'initcallStep',
    'lateInitcallGap',
    'initStart',
    'defaultModuleLoadLatency',
    'defaultProbeDuration',
    'deferCost',
  ] as const;
  y.only(t, path, [...scalars, 'moduleLoadLatency', 'probeDuration']);
  for (const key of scalars) {
    const v = y.optionalNumber(t, key, at(key), 'a number of seconds >= 0', (n) => n >= 0);
    if (v !== undefined) timing[key] = v;
  }
  timing.moduleLoadLatency = y.numberTable(t, 'moduleLoadLatency', at('moduleLoadLatency'));
  timing.probeDuration = y.numberTable(t, 'probeDuration', at('probeDuration'));
  return timing;
}
