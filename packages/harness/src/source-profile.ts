/**
 * A kernel profile for any board, read from a kernel's source and the .config Kconfig makes of
 * it (no build, no boot): arch/arm64/configs/defconfig plus a fragment through `make
 * alldefconfig`; which drivers bind which compatibles from their of_device_id tables; built-in or
 * module, and the module's name, from Kbuild (kbuild.ts); initcall level and link order of
 * built-in drivers (driver-scan.ts, kbuild.ts); OF_DECLARE'd compatibles; what probes do.
 * Modules get the aliases modpost would write (scripts/mod/file2alias.c:do_of_entry_multi).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { runChild } from './lifetime.js';
import type { DriverInfo, KernelProfile, ProbeBehaviour } from '@probelab/sim-core';
import { HarnessError } from './errors.js';
import { checkFragment } from './config-fragment.js';
import { addLabDrivers, labSourceHash } from './lab-tree.js';
import { applyPatches, pristineTree } from './source-tree.js';
import { kbuildIndex, readConfig } from './kbuild.js';
import { scanDriverFile } from './driver-scan.js';
import { sourceFacts } from './kernels.js';
import { cacheDir } from './paths.js';

export interface SourceProfileRequest {
  /** '6.12' | '6.1' (Debian's linux-source) or a kernel tree. */
  source: string;
  /** Config fragment applied over the base config. */
  fragment?: string;
  /** arch/arm64/configs/defconfig (boards) or allnoconfig (as `probelab kernel build` does). */
  base?: 'defconfig' | 'allnoconfig';
  patches?: string[];
}

export interface SourceProfile extends KernelProfile {
  /** The .config Kconfig produced, and the tree (patched) the profile was read from. */
  configFile: string;
  tree: string;
}

const sha = (s: string | Buffer): string => createHash('sha256').update(s).digest('hex');
const PROFILE_FORMAT = 9;

export async function sourceProfile(
  req: SourceProfileRequest,
  log: (l: string) => void = () => {},
): Promise<SourceProfile> {
  const fragment = req.fragment ? resolve(req.fragment) : null;
  if (fragment && !existsSync(fragment)) throw new HarnessError(`${req.fragment}: config fragment not found`);
  const patches = (req.patches ?? []).map((p) => resolve(p));
  for (const p of patches) if (!existsSync(p)) throw new HarnessError(`${p}: patch not found`);
  const { tree: pristine, id } = await pristineTree(req.source);
  const base = req.base ?? 'defconfig';
  const hash = sha(
    JSON.stringify({
      PROFILE_FORMAT,
      id,
      base,
      fragment: fragment ? readFileSync(fragment, 'utf8') : '',
      patches: patches.map((p) => sha(readFileSync(p))),
      lab: base === 'allnoconfig' ? labSourceHash() : '',
    }),
  ).slice(0, 16);
  const dir = join(cacheDir(), 'profiles', hash);
  const done = join(dir, 'profile.json');
  if (existsSync(done)) return revive(JSON.parse(readFileSync(done, 'utf8')) as Json);

  // Everything is made in a private directory and moved into place at the end, so that
  // concurrent callers (parallel tests, sweeps) never see or disturb a half-made profile.
  const work = `${dir}.tmp-${process.pid}-${Date.now()}`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  let tree = pristine;
  // probelab's own kernels (allnoconfig + the virt fragment) carry the lab drivers, as
  // kernel-build.ts builds them: the profile reads the tree the build compiles.
  const lab = base === 'allnoconfig';
  if (patches.length || lab) {
    tree = join(work, 'tree');
    log(`linking ${basename(pristine)}${patches.length ? ` and applying ${patches.length} patch(es)` : ''}`);
    // The real directory, never a symlink to it: `cp -a` would copy the link, and the patches and
    // lab drivers would then go into the pristine tree every other build and profile reads.
    await runChild('cp', ['-al', realpathSync(pristine), tree]);
    if (lab) addLabDrivers(tree);
    await applyPatches(tree, patches);
  }
  // Kconfig: the base, then the fragment wins (KCONFIG_ALLCONFIG over alldefconfig/allnoconfig),
  // with the cross compiler the build would use (compiler-dependent symbols follow it).
  const obj = join(work, 'build');
  mkdirSync(obj, { recursive: true });
  const allConfig = join(work, 'all.config');
  const defconfig =
    base === 'defconfig' ? readFileSync(join(tree, 'arch', 'arm64', 'configs', 'defconfig'), 'utf8') : '';
  writeFileSync(allConfig, defconfig + (fragment ? readFileSync(fragment, 'utf8') : ''));
  log(`configuring: ${base}${fragment ? ` + ${basename(fragment)}` : ''}`);
  const cross =
    (await runChild('sh', ['-c', 'command -v aarch64-linux-gnu-gcc'], { reject: false })).exitCode === 0
      ? ['CROSS_COMPILE=aarch64-linux-gnu-']
      : [];
  const r = await runChild(
    'make',
    ['-C', tree, `O=${obj}`, 'ARCH=arm64', ...cross, base === 'defconfig' ? 'alldefconfig' : 'allnoconfig'],
    { env: { KCONFIG_ALLCONFIG: allConfig }, reject: false, all: true },
  );
  if (r.exitCode !== 0) {
    rmSync(work, { recursive: true, force: true });
    throw new HarnessError(
      `Kconfig failed in ${tree}: ${(r.all ?? '').split('\n').find((l) => /error|\*\*\*/i.test(l)) ?? `make exited ${r.exitCode}`}`,
    );
  }
  const configText = readFileSync(join(obj, '.config'), 'utf8');
  if (fragment) {
    try {
      checkFragment(configText, fragment);
    } catch (e) {
      rmSync(work, { recursive: true, force: true });
      throw e;
    }
  }
  const config = readConfig(configText);

  log('reading Kbuild and driver sources');
  const places = kbuildIndex(tree, config);
  const files = await runChild(
    'grep',
    ['-rlE', '--include=*.c', 'of_device_id|_OF_DECLARE|IRQCHIP_DECLARE', 'drivers', 'sound'],
    { cwd: tree, reject: false },
  );
  const drivers: DriverInfo[] = [];
  const behaviours: Record<string, ProbeBehaviour> = {};
  const ofDeclared = new Set<string>();
  const initializedEarly = new Set<string>();
  const moduleAliases: Array<{ pattern: string; module: string }> = [];
  const modules = new Set<string>();
  const builtinModules = new Set<string>();
  for (const rel of files.stdout.split('\n').filter(Boolean).sort()) {
    const place = places.get(rel);
    if (!place || place.state === 'n') continue;
    const scan = scanDriverFile(readFileSync(join(tree, rel), 'utf8'), rel);
    if (place.state === 'y') for (const c of scan.ofDeclared) ofDeclared.add(c);
    if (place.state === 'y') for (const c of scan.initializedEarly) initializedEarly.add(c);
    if (place.state === 'y') builtinModules.add(place.module);
    else modules.add(place.module);
    for (const d of scan.drivers) {
      const builtin = place.state === 'y';
      drivers.push({
        name: d.name,
        bus: d.bus,
        module: place.module,
        builtin,
        ofCompatibles: d.compatibles,
        level: d.level,
        linkOrder: place.order,
      });
      if (!builtin)
        for (const c of d.compatibles)
          moduleAliases.push(
            { pattern: `of:N*T*C${c}`, module: place.module },
            { pattern: `of:N*T*C${c}C*`, module: place.module },
          );
      if (d.registersIommu)
        behaviours[d.name] = {
          kind: 'iommu',
          fwnode: 'self',
          ...(d.afterRegister.length ? { afterRegister: d.afterRegister } : {}),
          ...(d.xlateReadsLateState ? { xlateReadsLateState: true } : {}),
        };
      else if (d.children) behaviours[d.name] = { kind: 'children', bus: d.children };
    }
  }
  const hz = Number(config.get('CONFIG_HZ') ?? '250');
  const release = /^VERSION = (\d+)\nPATCHLEVEL = (\d+)\nSUBLEVEL = (\d+)/m.exec(
    readFileSync(join(tree, 'Makefile'), 'utf8'),
  );
  const series = release && release[2] === '1' && release[1] === '6' ? '6.1' : '6.12';
  const profile: SourceProfile = {
    id: `source-${req.source === '6.12' || req.source === '6.1' ? req.source : relative(process.cwd(), resolve(req.source))}${patches.map((p) => `+${basename(p, '.patch')}`).join('')}`,
    series,
    release: release ? `${release[1]}.${release[2]}.${release[3]}` : 'unknown',
    hz,
    modules: config.get('CONFIG_MODULES') === 'y',
    builtinModules,
    moduleDeps: new Map([...modules].map((m) => [m, []])),
    moduleAliases,
    drivers,
    builtinMatches: [],
    ofDeclared: [...ofDeclared].sort(),
    timing: {},
    ...sourceFacts(tree),
    behaviours,
    fwnodeInitialized: [...initializedEarly].sort(),
    configFile: join(dir, 'build', '.config'),
    tree: patches.length || lab ? join(dir, 'tree') : pristine,
  };
  writeFileSync(join(work, 'profile.json'), JSON.stringify(toJson(profile)));
  try {
    renameSync(work, dir);
  } catch {
    // Another process finished the same profile first (or an old partial one is in the way).
    if (!existsSync(done)) {
      rmSync(dir, { recursive: true, force: true });
      renameSync(work, dir);
    }
  }
  rmSync(work, { recursive: true, force: true });
  return revive(JSON.parse(readFileSync(done, 'utf8')) as Json);
}

type Json = Omit<SourceProfile, 'builtinModules' | 'moduleDeps'> & {
  builtinModules: string[];
  moduleDeps: Array<[string, string[]]>;
};

function toJson(p: SourceProfile): Json {
  return { ...p, builtinModules: [...p.builtinModules], moduleDeps: [...p.moduleDeps] };
}

function revive(j: Json): SourceProfile {
  return { ...j, builtinModules: new Set(j.builtinModules), moduleDeps: new Map(j.moduleDeps) };
}
