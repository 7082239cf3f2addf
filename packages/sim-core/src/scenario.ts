/**
 * The scenario file (a stable contract: other tools read and write it). YAML, or the same
 * object as JSON. Validation names the file, line:column and field, and what was expected.
 */
import { dirname, resolve } from 'node:path';
import { LineCounter, isMap, isSeq, type Node as YamlNode } from 'yaml';
import { fieldName, parseYaml } from './yaml-input.js';
import { checkCmdline } from './cmdline.js';
import { nameExpected, namePattern } from './input-limits.js';
import { InputError, readInputFile } from './errors.js';

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

export function parseScenario(text: string, file = '<scenario>'): Scenario {
  const lc = new LineCounter();
  const doc = parseYaml(text, file, lc);
  const at = (node: YamlNode | null | undefined): { line?: number; column?: number } => {
    const r = node?.range;
    if (!r) return {};
    const p = lc.linePos(r[0]);
    return { line: p.line, column: p.col };
  };
  const fail = (field: string, expected: string, node?: YamlNode | null): never => {
    const p = at(node);
    throw new InputError(`field \`${field}\`: expected ${expected}`, file, p.line, p.column);
  };
  const root = doc.contents;
  if (!isMap(root)) fail('(top level)', 'a mapping with name, kernel, machine, cmdline, modules, capture', root);
  const known = new Set(['name', 'kernel', 'machine', 'cmdline', 'modules', 'unload', 'capture']);
  const top = root as import('yaml').YAMLMap;
  for (const item of top.items) {
    const k = fieldName(item.key);
    if (!known.has(k)) fail(k, `one of ${[...known].join(', ')} (unknown field)`, item.key as YamlNode);
  }
  const get = (map: import('yaml').YAMLMap, key: string): YamlNode | undefined =>
    map.get(key, true) as YamlNode | undefined;
  const scalar = (n: YamlNode | undefined): unknown =>
    n && 'value' in n ? (n as { value: unknown }).value : undefined;

  const nameNode = get(top, 'name');
  const name = scalar(nameNode);
  if (typeof name !== 'string' || !namePattern.test(name)) fail('name', nameExpected, nameNode ?? root);

  const kernelNode = get(top, 'kernel');
  const kernel = scalar(kernelNode);
  if (typeof kernel !== 'string' || !kernelIdPattern.test(kernel))
    fail('kernel', `one of ${kernels.join(' | ')} (source-X may add +<patch name>)`, kernelNode ?? root);

  const machineNode = get(top, 'machine');
  if (!isMap(machineNode)) fail('machine', 'a mapping with iommu and devices', machineNode ?? root);
  const mm = machineNode as import('yaml').YAMLMap;
  for (const item of mm.items) {
    const k = fieldName(item.key);
    if (!['iommu', 'devices', 'overlay', 'cpus'].includes(k))
      fail(`machine.${k}`, 'iommu, devices, overlay or cpus (unknown field)', item.key as YamlNode);
  }
  const iommuNode = get(mm, 'iommu');
  const iommu = scalar(iommuNode);
  if (typeof iommu !== 'string' || !(iommuKinds as readonly string[]).includes(iommu))
    fail('machine.iommu', `one of ${iommuKinds.join(' | ')}`, iommuNode ?? mm);
  const devNode = get(mm, 'devices');
  if (!isSeq(devNode)) fail('machine.devices', `a list of PCI endpoints (${pciEndpoints.join(', ')})`, devNode ?? mm);
  const devices: PciEndpoint[] = [];
  (devNode as import('yaml').YAMLSeq).items.forEach((it, i) => {
    const v = scalar(it as YamlNode);
    if (typeof v !== 'string' || !(pciEndpoints as readonly string[]).includes(v))
      fail(`machine.devices[${i}]`, `one of ${pciEndpoints.join(', ')}`, it as YamlNode);
    devices.push(v as PciEndpoint);
  });

  const overlayNode = get(mm, 'overlay');
  let overlay: string | undefined;
  if (overlayNode !== undefined) {
    const v = scalar(overlayNode);
    if (typeof v !== 'string' || !/\.dtsi?$/.test(v) || v.includes('\0'))
      fail('machine.overlay', 'the path of a DTS fragment (FILE.dtsi), relative to the scenario file', overlayNode);
    overlay = resolve(file.startsWith('<') ? '.' : dirname(file), v as string);
  }

  const cpusNode = get(mm, 'cpus');
  const cpus = cpusNode === undefined ? 1 : scalar(cpusNode);
  if (cpus !== 1 && cpus !== 2 && cpus !== 4)
    fail('machine.cpus', '1, 2 or 4 CPUs (QEMU -smp; boards/qemu-virt/dtb keeps those trees)', cpusNode);

  const cmdNode = get(top, 'cmdline');
  const cmdline = cmdNode === undefined ? '' : scalar(cmdNode);
  if (typeof cmdline !== 'string') fail('cmdline', 'a string of extra kernel parameters', cmdNode);
  const cmdProblem = checkCmdline(cmdline as string);
  if (cmdProblem) fail('cmdline', cmdProblem, cmdNode);

  const capNode = get(top, 'capture');
  const capture = scalar(capNode);
  if (typeof capture !== 'number' || !Number.isFinite(capture) || capture <= 0 || capture > 3600)
    fail('capture', 'a number of seconds of guest uptime, > 0 and <= 3600', capNode ?? root);

  const loads = (key: 'modules' | 'unload'): ModuleLoad[] => {
    const out: ModuleLoad[] = [];
    const modNode = get(top, key);
    if (modNode === undefined) return out;
    if (!isSeq(modNode)) fail(key, 'a list of { name, at }', modNode);
    (modNode as import('yaml').YAMLSeq).items.forEach((it, i) => {
      const itNode = it as YamlNode;
      if (!isMap(itNode)) fail(`${key}[${i}]`, 'a mapping { name, at }', itNode);
      const m = itNode as import('yaml').YAMLMap;
      for (const item of m.items) {
        const k = fieldName(item.key);
        if (k !== 'name' && k !== 'at' && !(k === 'params' && key === 'modules'))
          fail(
            `${key}[${i}].${k}`,
            key === 'modules' ? 'name, at or params (unknown field)' : 'name or at (unknown field)',
            item.key as YamlNode,
          );
      }
      const n = scalar(get(m, 'name'));
      if (typeof n !== 'string' || !/^[A-Za-z0-9_-]+$/.test(n))
        fail(`${key}[${i}].name`, 'a module name (the .ko base name)', get(m, 'name') ?? m);
      const a = scalar(get(m, 'at'));
      if (typeof a !== 'number' || !Number.isFinite(a) || a < 0)
        fail(`${key}[${i}].at`, 'a number of seconds of guest uptime, >= 0', get(m, 'at') ?? m);
      if ((a as number) >= (capture as number))
        fail(`${key}[${i}].at`, `a time before capture (${capture} s)`, get(m, 'at') ?? m);
      if (out.some((o) => moduleKey(o.name) === moduleKey(n as string)))
        fail(`${key}[${i}].name`, `each module once (${n} is listed twice in \`${key}\`)`, get(m, 'name') ?? m);
      const pn = get(m, 'params');
      const params = pn === undefined ? undefined : scalar(pn);
      // insmod's parameters: name=value words (kernel/params.c:parse_args), nothing the init's
      // shell would read otherwise.
      if (
        params !== undefined &&
        (typeof params !== 'string' ||
          !/^[A-Za-z0-9_.-]+(=[A-Za-z0-9_.,:-]*)?( [A-Za-z0-9_.-]+(=[A-Za-z0-9_.,:-]*)?)*$/.test(params))
      )
        fail(`${key}[${i}].params`, 'module parameters for insmod: name=value words separated by spaces', pn);
      out.push({ name: n as string, at: a as number, ...(params ? { params: params as string } : {}) });
    });
    return out;
  };
  const modules = loads('modules');
  const unload = loads('unload');
  return {
    name: name as string,
    kernel: kernel as KernelId,
    machine: {
      iommu: iommu as IommuKind,
      devices,
      ...(overlay ? { overlay } : {}),
      ...(cpus !== 1 ? { cpus: cpus as number } : {}),
    },
    cmdline: cmdline as string,
    modules,
    ...(unload.length ? { unload } : {}),
    capture: capture as number,
    file,
  };
}

/** Module names compare as modprobe compares them: '-' and '_' are the same. */
export function moduleKey(name: string): string {
  return name.replace(/-/g, '_');
}
