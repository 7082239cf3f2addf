/**
 * The scenario file (a stable contract: other tools read and write it). YAML, or the same
 * object as JSON. Validation names the file, line:column and field, and what was expected.
 */
import { dirname, resolve } from 'node:path';
import { checkCmdline } from './cmdline.js';
import { readInputFile } from './errors.js';
import { ContractFile } from './schema-check.js';

export type IommuKind = 'none' | 'smmuv3' | 'virtio-iommu';
export const iommuKinds: ReadonlyArray<IommuKind> = ['none', 'smmuv3', 'virtio-iommu'];
export const pciEndpoints = ['virtio-blk-pci', 'virtio-rng-pci'] as const;
export type PciEndpoint = (typeof pciEndpoints)[number];
export const kernels = ['debian-6.12', 'debian-6.1', 'source-6.12', 'source-6.1'] as const;
/** Debian's kernels, or one built from Debian's source, optionally with qemu/patches/<name>.patch. */
export type KernelId = (typeof kernels)[number] | `source-${string}`;
export const kernelIdPattern = /^(debian-6\.12|debian-6\.1|source-(6\.12|6\.1)(\+[A-Za-z0-9_.-]+)*)$/;

/** `params`: module parameters for insmod (e.g. `async_probe=1`, kernel/module/main.c). */
export interface ModuleLoad {
  name: string;
  at: number;
  params?: string;
}

export interface Scenario {
  name: string;
  kernel: KernelId;
  /** `overlay`: a DTS fragment merged into QEMU's own tree (absolute path, resolved against the
   *  scenario file's directory), for lab boards (boards/lab). */
  machine: { iommu: IommuKind; devices: PciEndpoint[]; overlay?: string; cpus?: number };
  cmdline: string;
  modules: ModuleLoad[];
  /** rmmod by the guest's init, in time order with the loads (optional). */
  unload?: ModuleLoad[];
  capture: number;
  /** Where it was read from, for messages. */
  file: string;
}

export function loadScenario(file: string): Scenario {
  return parseScenario(readInputFile(file, 'scenario'), file);
}

/**
 * The file's shape is schemas/qemu-scenario.schema.json (checked with ajv, schema-check.ts);
 * what a schema cannot say is checked here: the kernel parameters, finite times, each module
 * once, loads before the capture.
 */
export function parseScenario(text: string, file = '<scenario>'): Scenario {
  const cf = new ContractFile(text, file);
  const data = cf.check<ScenarioData>('qemu-scenario');
  const { node, fail } = cf;
  const m = data.machine;
  const overlay = m.overlay === undefined ? undefined : resolve(file.startsWith('<') ? '.' : dirname(file), m.overlay);
  const cmdline = data.cmdline ?? '';
  const cmdProblem = checkCmdline(cmdline);
  if (cmdProblem) fail('cmdline', cmdProblem, node('cmdline'));
  // JSON Schema's numbers include .inf and .nan, which YAML can write.
  if (!Number.isFinite(data.capture))
    fail('capture', 'a number of seconds of guest uptime, > 0 and <= 3600', node('capture'));
  const loads = (key: 'modules' | 'unload'): ModuleLoad[] => {
    const out: ModuleLoad[] = [];
    (data[key] ?? []).forEach((x, i) => {
      if (!Number.isFinite(x.at))
        fail(`${key}[${i}].at`, 'a number of seconds of guest uptime, >= 0', node(key, i, 'at'));
      if (x.at >= data.capture)
        fail(`${key}[${i}].at`, `a time before capture (${data.capture} s)`, node(key, i, 'at'));
      if (out.some((o) => moduleKey(o.name) === moduleKey(x.name)))
        fail(`${key}[${i}].name`, `each module once (${x.name} is listed twice in \`${key}\`)`, node(key, i, 'name'));
      out.push({ name: x.name, at: x.at, ...(x.params ? { params: x.params } : {}) });
    });
    return out;
  };
  const modules = loads('modules');
  const unload = loads('unload');
  return {
    name: data.name,
    kernel: data.kernel as KernelId,
    machine: {
      iommu: m.iommu,
      devices: m.devices,
      ...(overlay ? { overlay } : {}),
      ...(m.cpus !== undefined && m.cpus !== 1 ? { cpus: m.cpus } : {}),
    },
    cmdline,
    modules,
    ...(unload.length ? { unload } : {}),
    capture: data.capture,
    file,
  };
}

/** What schemas/qemu-scenario.schema.json admits. */
interface ScenarioData {
  name: string;
  kernel: string;
  machine: { iommu: IommuKind; devices: PciEndpoint[]; overlay?: string; cpus?: number };
  cmdline?: string;
  modules?: Array<{ name: string; at: number; params?: string }>;
  unload?: Array<{ name: string; at: number; params?: string }>;
  capture: number;
}

/** Module names compare as modprobe compares them: '-' and '_' are the same. */
export function moduleKey(name: string): string {
  return name.replace(/-/g, '_');
}
