/**
 * A matrix file (ci/*.yaml): a base QEMU scenario and the axes to vary, expanded to one scenario
 * per cell. Variants (kernel, IOMMU kind, which module the load axis moves) are combined with
 * every value of every axis.
 */
import { dirname, resolve } from 'node:path';
import { isSeq, type Node as YamlNode } from 'yaml';
import { readInputFile } from './errors.js';
import {
  iommuKinds,
  kernelIdPattern,
  loadScenario,
  moduleKey,
  pciEndpoints,
  type IommuKind,
  type KernelId,
  type ModuleLoad,
  type PciEndpoint,
  type Scenario,
} from './scenario.js';
import { YamlInput } from './yaml-input.js';
import { nameExpected, namePattern } from './input-limits.js';

export interface MatrixVariant {
  name: string;
  kernel?: KernelId;
  iommu?: IommuKind;
  /** The module the `loadAt` axis moves (e.g. virtio-iommu, arm_smmu_v3, virtio_pci). */
  load: string;
  /** Replaces the base scenario's module list (the load module is added by the axis). */
  modules?: ModuleLoad[];
  /** A lab board's fragment (machine.overlay), relative to the matrix file; replaces the base's. */
  overlay?: string;
}

export interface MatrixAxes {
  timeout: number[];
  loadAt: number[];
  fwDevlink: string[];
  devices: PciEndpoint[][];
}

export interface MatrixFile {
  name: string;
  file: string;
  base: Scenario;
  variants: MatrixVariant[];
  axes: MatrixAxes;
  capture: number;
}

export interface MatrixCell {
  /** Stable across runs and nights: variant and axis values. */
  id: string;
  variant: string;
  params: { timeout: number; loadAt: number; fwDevlink: string | null; devices: PciEndpoint[] };
  scenario: Scenario;
}

export function loadMatrixFile(file: string): MatrixFile {
  return parseMatrixFile(readInputFile(file, 'matrix file'), file);
}

export function parseMatrixFile(text: string, file = '<matrix>'): MatrixFile {
  const y = new YamlInput(text, file, 'a mapping with name, base, variants, axes');
  const top = y.root;
  y.only(top, '', ['name', 'base', 'variants', 'axes', 'capture']);
  const name = y.string(top, 'name', 'name', nameExpected, (s) => namePattern.test(s));
  const baseRel = y.string(top, 'base', 'base', 'the path of a QEMU scenario (relative to this file)');
  const base = loadScenario(resolve(dirname(resolve(file)), baseRel));

  const variants: MatrixVariant[] = y
    .list(top, 'variants', 'variants', 'a list of { name, kernel, iommu, load, modules, overlay }')
    .map((it) => {
      const m = y.asMap(it, 'a mapping { name, kernel, iommu, load, modules, overlay }');
      y.only(m, it.path, ['name', 'kernel', 'iommu', 'load', 'modules', 'overlay']);
      const overlayRel = y.optionalString(
        m,
        'overlay',
        `${it.path}.overlay`,
        'the path of a DTS fragment (FILE.dtsi), relative to this file',
        (s) => /\.dtsi?$/.test(s) && !s.includes('\0'),
      );
      const kernel = y.optionalString(
        m,
        'kernel',
        `${it.path}.kernel`,
        'a kernel id (debian-6.12, debian-6.1, source-6.12[+patch], ...)',
        (s) => kernelIdPattern.test(s),
      ) as KernelId | undefined;
      const iommu = y.optionalString(m, 'iommu', `${it.path}.iommu`, `one of ${iommuKinds.join(' | ')}`, (s) =>
        (iommuKinds as readonly string[]).includes(s),
      ) as IommuKind | undefined;
      const modules =
        y.node(m, 'modules') === undefined
          ? undefined
          : y.list(m, 'modules', `${it.path}.modules`, 'a list of { name, at }').map((mi) => {
              const mm = y.asMap(mi, 'a mapping { name, at }');
              y.only(mm, mi.path, ['name', 'at']);
              return {
                name: y.string(mm, 'name', `${mi.path}.name`, 'a module name', (s) => /^[A-Za-z0-9_-]+$/.test(s)),
                at: y.number(mm, 'at', `${mi.path}.at`, 'seconds >= 0', (n) => n >= 0),
              };
            });
      return {
        name: y.string(m, 'name', `${it.path}.name`, nameExpected, (s) => namePattern.test(s)),
        ...(kernel ? { kernel } : {}),
        ...(iommu ? { iommu } : {}),
        load: y.string(m, 'load', `${it.path}.load`, 'the module the loadAt axis moves', (s) =>
          /^[A-Za-z0-9_-]+$/.test(s),
        ),
        ...(modules ? { modules } : {}),
        ...(overlayRel ? { overlay: resolve(dirname(resolve(file)), overlayRel) } : {}),
      };
    });
  if (!variants.length) y.fail('variants', 'at least one variant', y.node(top, 'variants') ?? top);
  const seen = new Set<string>();
  variants.forEach((v, i) => {
    if (seen.has(v.name))
      y.fail(`variants[${i}].name`, `a unique name (${v.name} is used twice)`, y.node(top, 'variants'));
    seen.add(v.name);
  });

  const axes = y.map(top, 'axes', 'axes', 'a mapping with timeout and loadAt lists (fwDevlink, devices optional)');
  y.only(axes, 'axes', ['timeout', 'loadAt', 'fwDevlink', 'devices']);
  const numbers = (key: string, test: (n: number) => boolean, expected: string): number[] => {
    const items = y.list(axes, key, `axes.${key}`, `a list of ${expected}`);
    if (!items.length) y.fail(`axes.${key}`, `a non-empty list of ${expected}`, y.node(axes, key) ?? axes);
    return items.map((it) => y.scalar(it, expected, (v) => typeof v === 'number' && test(v)) as number);
  };
  const timeout = numbers(
    'timeout',
    (n) => Number.isInteger(n) && n >= -1,
    'whole seconds >= -1 (deferred_probe_timeout)',
  );
  const capture =
    y.optionalNumber(
      top,
      'capture',
      'capture',
      'seconds of guest uptime, > 0 and <= 3600',
      (n) => n > 0 && n <= 3600,
    ) ?? base.capture;
  const loadAt = numbers('loadAt', (n) => n >= 0 && n < capture, `seconds >= 0 and before capture (${capture} s)`);
  const fwDevlink = y
    .list(axes, 'fwDevlink', 'axes.fwDevlink', 'a list of fw_devlink modes')
    .map(
      (it) =>
        y.scalar(
          it,
          'off | permissive | on | rpm',
          (v) => typeof v === 'string' && ['off', 'permissive', 'on', 'rpm'].includes(v),
        ) as string,
    );
  const devices = y.list(axes, 'devices', 'axes.devices', 'a list of device lists').map((it) => {
    if (!isSeq(it.node)) y.fail(it.path, `a list of PCI endpoints (${pciEndpoints.join(', ')})`, it.node);
    return (it.node as import('yaml').YAMLSeq).items.map(
      (d, j) =>
        y.scalar(
          { node: d as YamlNode, path: `${it.path}[${j}]` },
          `one of ${pciEndpoints.join(', ')}`,
          (v) => typeof v === 'string' && (pciEndpoints as readonly string[]).includes(v),
        ) as PciEndpoint,
    );
  });
  return { name, file, base, variants, axes: { timeout, loadAt, fwDevlink, devices }, capture };
}

/** Every cell: variants x devices x fwDevlink x loadAt x timeout, in that nesting order. */
export function expandMatrix(m: MatrixFile): MatrixCell[] {
  const cells: MatrixCell[] = [];
  const devSets = m.axes.devices.length ? m.axes.devices : [m.base.machine.devices];
  const fwModes: Array<string | null> = m.axes.fwDevlink.length ? m.axes.fwDevlink : [null];
  for (const v of m.variants) {
    for (const devices of devSets) {
      for (const fw of fwModes) {
        for (const loadAt of m.axes.loadAt) {
          for (const timeout of m.axes.timeout) {
            const parts = [v.name, `t${timeout}`, `load${loadAt}`];
            if (fw) parts.push(`fw-${fw}`);
            if (m.axes.devices.length) parts.push(devices.map((d) => d.replace(/-pci$/, '')).join('+') || 'nodev');
            const id = parts.join('_');
            const key = moduleKey(v.load);
            const others = (v.modules ?? m.base.modules).filter((x) => moduleKey(x.name) !== key);
            let cmdline = m.base.cmdline.replace(/(^|\s)(deferred_probe_timeout|fw_devlink)=\S*/g, ' ');
            cmdline = `${cmdline} deferred_probe_timeout=${timeout}${fw ? ` fw_devlink=${fw}` : ''}`
              .replace(/\s+/g, ' ')
              .trim();
            cells.push({
              id,
              variant: v.name,
              params: { timeout, loadAt, fwDevlink: fw, devices },
              scenario: {
                name: id,
                kernel: v.kernel ?? m.base.kernel,
                machine: {
                  iommu: v.iommu ?? m.base.machine.iommu,
                  devices,
                  ...((v.overlay ?? m.base.machine.overlay) ? { overlay: v.overlay ?? m.base.machine.overlay } : {}),
                },
                cmdline,
                modules: [...others, { name: v.load, at: loadAt }].sort((a, b) => a.at - b.at),
                capture: m.capture,
                file: m.file,
              },
            });
          }
        }
      }
    }
  }
  return cells;
}
