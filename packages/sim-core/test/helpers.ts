import { execFileSync } from 'node:child_process';
import { readDtb, type DeviceTree } from '@probelab/dt-compiler';
import type { BootTiming, DriverInfo, KernelProfile, Scenario } from '@probelab/sim-core';

/** A small tree for one rule, compiled with the host's dtc. */
export function dts(src: string): DeviceTree {
  const dtb = execFileSync('dtc', ['-q', '-I', 'dts', '-O', 'dtb'], { input: `/dts-v1/;\n${src}` });
  return readDtb(new Uint8Array(dtb), 'test.dts');
}

export const timing: BootTiming = {
  builtinRegistrations: [],
  lateInitcall: 0.6,
  lateInitcallEnd: 0.61,
  lateRegistrations: [],
  initStart: 0.9,
  moduleLoadLatency: {},
  defaultModuleLoadLatency: 0.01,
  probeDuration: {},
  deferCost: 0.00001,
};

/** A profile for a test: built-in drivers with their match keys, module drivers with aliases. */
export function profile(opts: {
  builtin?: Array<{ name: string; compat: string; t: number }>;
  modules?: Array<{ name: string; module: string; compat: string }>;
  modulesEnabled?: boolean;
  series?: '6.1' | '6.12';
}): KernelProfile {
  const drivers: DriverInfo[] = [];
  const b = opts.builtin ?? [];
  const m = opts.modules ?? [];
  for (const d of b) drivers.push({ name: d.name, bus: 'platform', module: null, builtin: true });
  for (const d of m) drivers.push({ name: d.name, bus: 'platform', module: d.module, builtin: false });
  return {
    id: 'test',
    series: opts.series ?? '6.12',
    release: 'test',
    hz: 250,
    modules: opts.modulesEnabled ?? true,
    builtinModules: new Set(),
    moduleDeps: new Map(m.map((d) => [d.module, []])),
    moduleAliases: m.map((d) => ({ pattern: `of:N*T*C${d.compat}`, module: d.module })),
    drivers,
    builtinMatches: b.map((d) => ({ bus: 'platform', key: `of:${d.compat}`, driver: d.name })),
    ofDeclared: [],
    timing: { none: { ...timing, builtinRegistrations: b.map((d) => ({ t: d.t, driver: d.name, bus: 'platform' })) } },
  };
}

export function scenario(cmdline: string, modules: Array<{ name: string; at: number }> = [], capture = 30): Scenario {
  return {
    name: 't',
    kernel: 'debian-6.12',
    machine: { iommu: 'none', devices: [] },
    cmdline,
    modules,
    capture,
    file: 't.yaml',
  };
}
