/**
 * `probelab kernel discover`: what the package alone cannot tell about a kernel, read from the
 * kernel itself in a discovery boot per machine variant: every driver's name and module
 * (/sys/bus/X/drivers/Y/module), which device each built-in driver binds (the built-in match
 * table is compiled into the Image), which DT nodes early init claims without a device
 * (OF_DECLARE), and boot timing (initcall_debug and dd.c debug lines). All modules that match a
 * board device are loaded at once, and the deferred-probe timer is left pending.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compatible } from '@probelab/dt-compiler';
import {
  buildBoard,
  matchKey,
  modulesFor,
  ofModalias,
  pciModalias,
  virtioModalias,
  type BootTiming,
  type Bus,
  type BuiltinMatch,
  type DriverInfo,
  type IommuKind,
  type KernelId,
  type Scenario,
} from '@probelab/sim-core';
import { round6 } from '@probelab/sim-core';
import { provisionKernel, staticProfile } from './kernels.js';
import { loadMachine, pciFunctions } from './machine.js';
import { machineTree } from './boards.js';
import { bootScenario } from './real-boot.js';
import type { DmesgLine, ParsedConsole } from './console-parser.js';
import { timingRules } from './console-rules.js';

export interface DiscoveredProfile {
  kernel: KernelId;
  release: string;
  packageVersion: string;
  packageSha256: string;
  generatedBy: string;
  drivers: DriverInfo[];
  builtinMatches: BuiltinMatch[];
  ofDeclared: string[];
  timing: Partial<Record<IommuKind, BootTiming>>;
  /**
   * A kernel built from source: the build's module table (modules.builtin, modules.dep,
   * modules.alias as depmod wrote them), so that a prediction on it needs no build of its own
   * (unbuilt-profile.ts). Debian's packaged kernels are read from the package instead.
   */
  modules?: ModuleTable;
}

export interface ModuleTable {
  builtin: string[];
  dep: Array<[string, string[]]>;
  alias: Array<[string, string]>;
}

/** Machine variants a kernel can boot: virtio-iommu needs CONFIG_VIRTIO_IOMMU. */
export function variantsFor(config: Map<string, string>): IommuKind[] {
  const v: IommuKind[] = ['none', 'smmuv3'];
  if (config.get('CONFIG_VIRTIO_IOMMU')) v.push('virtio-iommu');
  return v;
}

export async function discover(kernelId: KernelId, log: (s: string) => void = () => {}): Promise<DiscoveredProfile> {
  const k = await provisionKernel(kernelId);
  const st = staticProfile(k);
  const m = loadMachine();
  const drivers = new Map<string, DriverInfo>();
  const matches = new Map<string, BuiltinMatch>();
  const declared = new Set<string>();
  const timing: Partial<Record<IommuKind, BootTiming>> = {};
  for (const iommu of variantsFor(k.config)) {
    const base: Scenario = {
      name: `discover-${kernelId}-${iommu}`,
      kernel: kernelId,
      machine: { iommu, devices: ['virtio-blk-pci', 'virtio-rng-pci'] },
      cmdline: 'deferred_probe_timeout=30',
      modules: [],
      capture: 4,
      file: '<discovery>',
    };
    const tree = machineTree(base);
    // Every module whose alias matches a device of this board, as udev would load them.
    const wanted = new Set<string>();
    const board = buildBoard(tree, [], new Set());
    for (const p of board.platform) modulesFor(st, ofModalias(p.node)).forEach((x) => wanted.add(x));
    for (const f of pciFunctions(m, base)) {
      modulesFor(st, pciModalias(f)).forEach((x) => wanted.add(x));
      if (f.virtioId !== undefined)
        modulesFor(st, virtioModalias(f.virtioId, f.subvendor)).forEach((x) => wanted.add(x));
    }
    const scenario: Scenario = {
      ...base,
      modules: [...wanted]
        .filter((x) => !st.builtinModules.has(x))
        .sort()
        .map((name) => ({ name, at: 0 })),
    };
    log(
      `discovery boot: ${kernelId} on virt/${iommu}, loading ${scenario.modules.map((x) => x.name).join(', ') || 'no modules'}`,
    );
    const boot = await bootScenario(scenario, { out: join(tmpdir(), `probelab-discover-${kernelId}-${iommu}`) });
    const p = boot.parsed;
    for (const d of p.drivers) {
      if (!isBus(d.bus)) continue;
      const module = d.module ? d.module.replace(/-/g, '_') : null;
      drivers.set(`${d.bus}/${d.name}`, {
        name: d.name,
        bus: d.bus,
        module,
        builtin: module === null || st.builtinModules.has(module),
      });
    }
    for (const d of p.devices) {
      if (!isBus(d.bus) || !d.driver) continue;
      const info = drivers.get(`${d.bus}/${d.driver}`);
      if (!info?.builtin) continue;
      const node = d.ofNode ? (tree.byPath(d.ofNode) ?? null) : null;
      if ((d.bus === 'platform' || d.bus === 'amba') && !node) continue;
      const key = matchKey(d.bus, d.modalias, node);
      matches.set(`${d.bus}/${key}/${d.driver}`, { bus: d.bus, key, driver: d.driver });
    }
    const withDevice = new Set(p.devices.map((d) => d.ofNode).filter(Boolean));
    for (const spec of board.platform)
      if (!withDevice.has(spec.node.path)) compatible(spec.node).forEach((c) => declared.add(c));
    timing[iommu] = bootTiming(p, drivers);
  }
  return {
    kernel: kernelId,
    release: k.release,
    packageVersion: k.packageVersion,
    packageSha256: k.packageSha256,
    generatedBy: `probelab kernel discover ${kernelId} (discovery boots of ${k.def.package}, ${k.release})`,
    drivers: [...drivers.values()].sort((a, b) => (a.bus + a.name < b.bus + b.name ? -1 : 1)),
    builtinMatches: [...matches.values()].sort((a, b) =>
      a.bus + a.key + a.driver < b.bus + b.key + b.driver ? -1 : 1,
    ),
    ofDeclared: [...declared].sort(),
    timing,
    ...(k.tree
      ? {
          modules: {
            builtin: [...st.builtinModules].sort(),
            dep: [...st.moduleDeps].sort((a, b) => (a[0] < b[0] ? -1 : 1)),
            alias: st.moduleAliases.map((a): [string, string] => [a.pattern, a.module]),
          },
        }
      : {}),
  };
}

const isBus = (b: string): b is Bus => b === 'platform' || b === 'amba' || b === 'pci' || b === 'virtio';

/** Boot timing from initcall_debug and dd.c debug lines. */
export function bootTiming(p: ParsedConsole, drivers: Map<string, DriverInfo>): BootTiming {
  const d = p.dmesg;
  const find = (re: RegExp): DmesgLine | undefined => d.find((l) => re.test(l.text));
  const late = find(timingRules.lateInitcallStart);
  const lateEnd = find(timingRules.lateInitcallEnd);
  const init = find(timingRules.initStart);
  if (!late || !lateEnd || !init)
    throw new Error('discovery boot: initcall_debug lines missing (late initcall or /init)');
  const builtinRegistrations: BootTiming['builtinRegistrations'] = [];
  let calling: DmesgLine | null = null;
  const seen = new Set<string>();
  for (const l of d) {
    if (l.t >= late.t) break;
    if (timingRules.builtinInitcall.test(l.text)) calling = l;
    // dd.c:__driver_probe_device debug line, 6.12 then 6.1 form.
    const m = timingRules.matched612.exec(l.text) ?? timingRules.matched61.exec(l.text);
    if (!m || !calling) continue;
    const key = `${m[1]}/${m[2]}`;
    const info = drivers.get(key);
    if (!info?.builtin || seen.has(key)) continue;
    seen.add(key);
    builtinRegistrations.push({ t: calling.t, driver: info.name, bus: info.bus });
  }
  // Extensions of the timer by built-in registrations between the late initcall and /init.
  const lateRegistrations = d
    .filter((l) => l.t > lateEnd.t && l.t < init.t && timingRules.timeoutExtended.test(l.text))
    .map((l) => l.t);
  const moduleLoadLatency: Record<string, number> = {};
  for (const l of d) {
    const b = timingRules.moduleLoadBegin.exec(l.text);
    if (!b) continue;
    const key = b[1]!.replace(/-/g, '_');
    const started = timingRules.moduleInitcall(key);
    const c = d.find((x) => x.t >= l.t && started.test(x.text));
    if (c) moduleLoadLatency[key] = round6(c.t - l.t);
  }
  const lat = Object.values(moduleLoadLatency);
  // "probe of %s returned %d after %lld usecs", joined with the bind line that precedes it.
  const probeDuration: Record<string, number> = {};
  const deferCosts: number[] = [];
  let lastBound: string | null = null;
  for (const l of d) {
    const bnd = timingRules.bound.exec(l.text);
    if (bnd) lastBound = bnd[1]!;
    const pr = timingRules.probeReturned.exec(l.text);
    if (!pr) continue;
    const us = Number(pr[2]) / 1e6;
    if (Math.abs(Number(pr[1])) === 517) deferCosts.push(us);
    else if (pr[1] === '0' && lastBound && probeDuration[lastBound] === undefined) probeDuration[lastBound] = us;
  }
  return {
    builtinRegistrations,
    lateInitcall: late.t,
    lateInitcallEnd: lateEnd.t,
    lateRegistrations,
    initStart: init.t,
    moduleLoadLatency,
    defaultModuleLoadLatency: lat.length ? round6(lat.reduce((a, b) => a + b, 0) / lat.length) : 0.05,
    probeDuration,
    deferCost: deferCosts.length ? round6(median(deferCosts)) : 0.000015,
  };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
