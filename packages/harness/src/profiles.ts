/**
 * Kernel profiles: the static half from the package, the discovered half from
 * qemu/kernels/<kernel>.json (written by `probelab kernel discover`, checked by the tests). When
 * apt has moved on from the build a committed profile was discovered on (a new linux-source
 * upload), the profile of the build at hand is discovered once into the cache and used instead.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readContract, type BootTiming, type IommuKind, type KernelId, type KernelProfile } from '@probelab/sim-core';
import { writeAtomic } from './atomic.js';
import { HarnessError } from './errors.js';
import { discover, type DiscoveredProfile } from './discovery.js';
import { parseSourceKernel, provisionKernel, sourceFacts, staticProfile, type KernelArtefacts } from './kernels.js';
import { unbuiltSource } from './unbuilt-profile.js';
import { labDrivers } from './lab-drivers.js';
import { waitForLock } from './out-lock.js';
import { cacheDir, repoRoot } from './paths.js';

export function discoveredPath(id: KernelId): string {
  return join(repoRoot(), 'qemu', 'kernels', `${id}.json`);
}

/** A kernel's calibration (written by `probelab calibrate`): timing fitted to real boots. */
export interface Calibration {
  kernel: KernelId;
  fittedAt: string;
  /** Per machine variant: the BootTiming fields the fit replaced. */
  timing: Partial<Record<IommuKind, Partial<BootTiming>>>;
  parameters: Array<{
    iommu: IommuKind;
    name: string;
    before: number;
    after: number;
    residualBefore: number;
    residualAfter: number;
    n: number;
  }>;
  eventKinds: Array<{
    iommu: IommuKind;
    kind: string;
    n: number;
    meanAbsBefore: number;
    meanAbsAfter: number;
    maxAbsAfter: number;
  }>;
}

/** qemu/calibration/<kernel>.json, or under PROBELAB_CALIBRATION (tests, experiments). */
export function calibrationPath(id: KernelId): string {
  return join(process.env.PROBELAB_CALIBRATION ?? join(repoRoot(), 'qemu', 'calibration'), `${id}.json`);
}

/** The calibration file, checked against schemas/calibration.schema.json (a hand edit that
 *  breaks it is a file:line:column error, not a silent misfit). */
export function readCalibration(id: KernelId): Calibration | null {
  const f = calibrationPath(id);
  return existsSync(f) ? (readContract('calibration', readFileSync(f, 'utf8'), f) as Calibration) : null;
}

/** Discovered timing with a calibration's fitted fields laid over it. */
export function calibratedTiming(timing: KernelProfile['timing'], cal: Calibration | null): KernelProfile['timing'] {
  if (!cal) return timing;
  const out: KernelProfile['timing'] = { ...timing };
  for (const [iommu, t] of Object.entries(cal.timing) as Array<[IommuKind, Partial<BootTiming>]>) {
    const base = timing[iommu];
    if (base)
      out[iommu] = {
        ...base,
        ...t,
        moduleLoadLatency: { ...base.moduleLoadLatency, ...t.moduleLoadLatency },
        probeDuration: { ...base.probeDuration, ...t.probeDuration },
      };
  }
  return out;
}

/**
 * A kernel's profile. `build: false` (predictions): a source kernel that is not built yet is read
 * without building it (unbuilt-profile.ts) when a committed profile is of its build; boots keep
 * the default, which builds.
 */
export async function loadProfile(
  id: KernelId,
  log: (l: string) => void = () => {},
  opts: { calibration?: boolean; build?: boolean } = {},
): Promise<KernelProfile & { moduleFiles: Map<string, string> }> {
  const unbuilt = opts.build === false ? await unbuiltSource(id, discoveredPath, log) : null;
  let st: ReturnType<typeof staticProfile>;
  let d: DiscoveredProfile;
  let tree: string | undefined;
  let config: Map<string, string>;
  if (unbuilt) {
    ({ discovered: d, tree, config } = unbuilt);
    st = unbuiltStatic(id, unbuilt.discovered, unbuilt.tree, config);
  } else {
    const k = await provisionKernel(id, log);
    st = staticProfile(k);
    ({ tree, config } = k);
    let file = discoveredPath(id);
    // A patched source kernel without a discovered profile of its own takes its baseline's
    // (driver names, built-in matches, boot timing); what the patches change in dd.c and
    // property.c comes from its own source (staticProfile -> sourceFacts).
    const src = parseSourceKernel(id);
    const fallback = !existsSync(file) && src && src.patches.length > 0;
    if (fallback) file = discoveredPath(`source-${src!.series}`);
    if (!existsSync(file))
      throw new HarnessError(`no discovered profile for ${id} (${file}): run \`probelab kernel discover ${id}\``);
    d = JSON.parse(readFileSync(file, 'utf8')) as DiscoveredProfile;
    if (!fallback && d.packageSha256 !== k.packageSha256) d = await discoveredFor(id, k, d, file, log);
  }
  // The simulator uses a kernel's calibration when one exists (`probelab calibrate` fits it).
  const cal = opts.calibration === false ? null : readCalibration(id);
  // The lab's drivers come from the build's tree (lab-drivers.ts); a discovered entry of the same
  // driver gives way to the one read from source, which knows its match table.
  const lab = tree ? labDrivers(tree, config) : { drivers: [], behaviours: {} };
  const labKey = new Set(lab.drivers.map((x) => `${x.bus}/${x.name}`));
  const drivers = [...d.drivers.filter((x) => !labKey.has(`${x.bus}/${x.name}`)), ...lab.drivers];
  return {
    ...st,
    drivers,
    builtinMatches: d.builtinMatches,
    ofDeclared: d.ofDeclared,
    timing: calibratedTiming(d.timing, cal),
    ...(Object.keys(lab.behaviours).length ? { behaviours: lab.behaviours } : {}),
  };
}

/** staticProfile's half from a committed module table and the configured tree (no build). */
function unbuiltStatic(
  id: KernelId,
  d: DiscoveredProfile & { modules: NonNullable<DiscoveredProfile['modules']> },
  tree: string,
  config: Map<string, string>,
): ReturnType<typeof staticProfile> {
  const src = parseSourceKernel(id)!;
  return {
    id,
    series: src.series,
    release: d.release,
    hz: Number(config.get('CONFIG_HZ') ?? '250'),
    modules: config.get('CONFIG_MODULES') === 'y',
    builtinModules: new Set(d.modules.builtin),
    moduleDeps: new Map(d.modules.dep),
    moduleAliases: d.modules.alias.map(([pattern, module]) => ({ pattern, module })),
    moduleFiles: new Map(),
    ...sourceFacts(tree),
  };
}

/**
 * The discovered profile of the build at hand when the committed one is of another build:
 * cache/discovered/<kernel>@<build>.json, made by discovery boots the first time it is asked
 * for (one process at a time; the others wait and read it). `probelab kernel discover` writes the
 * committed file itself.
 */
async function discoveredFor(
  id: KernelId,
  k: KernelArtefacts,
  committed: DiscoveredProfile,
  file: string,
  log: (l: string) => void,
): Promise<DiscoveredProfile> {
  const dir = join(cacheDir(), 'discovered');
  const cached = join(dir, `${id}@${k.packageSha256}.json`);
  const read = (): DiscoveredProfile | null =>
    existsSync(cached) ? (JSON.parse(readFileSync(cached, 'utf8')) as DiscoveredProfile) : null;
  if (read()) return read()!;
  const release = await waitForLock(dir, log);
  try {
    const again = read();
    if (again) return again;
    log(
      `${file} is of ${committed.packageVersion} (${committed.release}); the kernel at hand is ${k.packageVersion} (${k.release}: a new linux-source upload, or a changed config fragment or lab driver): discovering its profile into ${cached} (\`probelab kernel discover ${id}\` updates the committed file)`,
    );
    const d = await discover(id, log);
    writeAtomic(cached, `${JSON.stringify(d, null, 2)}\n`);
    return d;
  } finally {
    release();
  }
}
