/**
 * A matrix file (ci/*.yaml): a base QEMU scenario and the axes to vary, expanded to one scenario
 * per cell. Variants (kernel, IOMMU kind, which module the load axis moves) are combined with
 * every value of every axis.
 */
import { dirname, resolve } from 'node:path';
import { isMap } from 'yaml';
import { readInputFile } from './errors.js';
import {
  loadScenario,
  moduleKey,
  type IommuKind,
  type KernelId,
  type ModuleLoad,
  type PciEndpoint,
  type Scenario,
} from './scenario.js';
import { ContractFile } from './schema-check.js';

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

/**
 * The file's shape is schemas/matrix.schema.json (checked with ajv, schema-check.ts); the base
 * scenario is read first (its own errors come first), and what a schema cannot say is checked
 * here: unique variant names, loads before the capture.
 */
export function parseMatrixFile(text: string, file = '<matrix>'): MatrixFile {
  const cf = new ContractFile(text, file);
  const { doc, node, fail } = cf;
  const baseRel = isMap(doc.contents) ? doc.get('base') : undefined;
  const base = typeof baseRel === 'string' ? loadScenario(resolve(dirname(resolve(file)), baseRel)) : null;
  const data = cf.check<MatrixData>('matrix');
  const variants: MatrixVariant[] = data.variants.map((v) => ({
    name: v.name,
    ...(v.kernel ? { kernel: v.kernel as KernelId } : {}),
    ...(v.iommu ? { iommu: v.iommu } : {}),
    load: v.load,
    ...(v.modules ? { modules: v.modules.map((m) => ({ name: m.name, at: m.at })) } : {}),
    ...(v.overlay ? { overlay: resolve(dirname(resolve(file)), v.overlay) } : {}),
  }));
  const seen = new Set<string>();
  variants.forEach((v, i) => {
    if (seen.has(v.name)) fail(`variants[${i}].name`, `a unique name (${v.name} is used twice)`, node('variants'));
    seen.add(v.name);
  });
  const capture = data.capture ?? base!.capture;
  if (!Number.isFinite(capture)) fail('capture', 'seconds of guest uptime, > 0 and <= 3600', node('capture'));
  data.axes.loadAt.forEach((x, i) => {
    if (!(x < capture))
      fail(`axes.loadAt[${i}]`, `seconds >= 0 and before capture (${capture} s)`, node('axes', 'loadAt', i));
  });
  return {
    name: data.name,
    file,
    base: base!,
    variants,
    axes: {
      timeout: data.axes.timeout,
      loadAt: data.axes.loadAt,
      fwDevlink: data.axes.fwDevlink ?? [],
      devices: data.axes.devices ?? [],
    },
    capture,
  };
}

/** What schemas/matrix.schema.json admits. */
interface MatrixData {
  name: string;
  base: string;
  capture?: number;
  variants: Array<{
    name: string;
    kernel?: string;
    iommu?: IommuKind;
    load: string;
    modules?: Array<{ name: string; at: number }>;
    overlay?: string;
  }>;
  axes: { timeout: number[]; loadAt: number[]; fwDevlink?: string[]; devices?: PciEndpoint[][] };
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
