/**
 * Kernel profiles: the static half from the package, the discovered half from
 * qemu/kernels/<kernel>.json (written by `probelab kernel discover`, checked by the tests).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BootTiming, IommuKind, KernelId, KernelProfile } from '@probelab/sim-core';
import { HarnessError } from './errors.js';
import type { DiscoveredProfile } from './discovery.js';
import { parseSourceKernel, provisionKernel, staticProfile } from './kernels.js';
import { repoRoot } from './paths.js';

export function discoveredPath(id: KernelId): string {
  return join(repoRoot(), 'qemu', 'kernels', `${id}.json`);
}

/** A kernel's calibration (written by `probelab calibrate`): timing fitted to real boots. */
export interface Calibration {
  kernel: KernelId;
  fittedAt: string;
  /** Per machine variant: the BootTiming fields the fit replaced. */
  timing: Partial<Record<IommuKind, Partial<BootTiming>>>;
  parameters: Array<{ iommu: IommuKind; name: string; before: number; after: number; residualBefore: number; residualAfter: number; n: number }>;
  eventKinds: Array<{ iommu: IommuKind; kind: string; n: number; meanAbsBefore: number; meanAbsAfter: number; maxAbsAfter: number }>;
}

/** qemu/calibration/<kernel>.json, or under PROBELAB_CALIBRATION (tests, experiments). */
export function calibrationPath(id: KernelId): string {
  return join(process.env.PROBELAB_CALIBRATION ?? join(repoRoot(), 'qemu', 'calibration'), `${id}.json`);
}

export function readCalibration(id: KernelId): Calibration | null {
  const f = calibrationPath(id);
  return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as Calibration) : null;
}

/** Discovered timing with a calibration's fitted fields laid over it. */
export function calibratedTiming(timing: KernelProfile['timing'], cal: Calibration | null): KernelProfile['timing'] {
  if (!cal) return timing;
  const out: KernelProfile['timing'] = { ...timing };
  for (const [iommu, t] of Object.entries(cal.timing) as Array<[IommuKind, Partial<BootTiming>]>) {
    const base = timing[iommu];
    if (base) out[iommu] = { ...base, ...t, moduleLoadLatency: { ...base.moduleLoadLatency, ...t.moduleLoadLatency }, probeDuration: { ...base.probeDuration, ...t.probeDuration } };
  }
  return out;
}

export async function loadProfile(id: KernelId, log: (l: string) => void = () => {}, opts: { calibration?: boolean } = {}): Promise<KernelProfile & { moduleFiles: Map<string, string> }> {
  const k = await provisionKernel(id, log);
  const st = staticProfile(k);
  let file = discoveredPath(id);
  // A patched source kernel without a discovered profile of its own takes its baseline's
  // (driver names, built-in matches, boot timing); what the patches change in dd.c and
  // property.c comes from its own source (staticProfile -> sourceFacts).
  const src = parseSourceKernel(id);
  const fallback = !existsSync(file) && src && src.patches.length > 0;
  if (fallback) file = discoveredPath(`source-${src!.series}`);
  if (!existsSync(file)) throw new HarnessError(`no discovered profile for ${id} (${file}): run \`probelab kernel discover ${id}\``);
  const d = JSON.parse(readFileSync(file, 'utf8')) as DiscoveredProfile;
  if (!fallback && d.packageSha256 !== k.packageSha256) {
    throw new HarnessError(`${file} was discovered on package ${d.packageVersion} (sha256 ${d.packageSha256.slice(0, 12)}…), but apt now provides ${k.packageVersion} (${k.packageSha256.slice(0, 12)}…): run \`probelab kernel discover ${id}\``);
  }
  // The simulator uses a kernel's calibration when one exists (`probelab calibrate` fits it).
  const cal = opts.calibration === false ? null : readCalibration(id);
  return { ...st, drivers: d.drivers, builtinMatches: d.builtinMatches, ofDeclared: d.ofDeclared, timing: calibratedTiming(d.timing, cal) };
}
