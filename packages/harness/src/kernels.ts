/**
 * The kernels a scenario can name, and what probelab reads from each: Image, modules, .config,
 * modules.builtin, modules.dep and modules.alias (generated with depmod, as the package's
 * postinst would).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runChild } from './lifetime.js';
import type { KernelId, KernelProfile } from '@probelab/sim-core';
import { provisionPackage } from './debian.js';
import { HarnessError } from './errors.js';
import { buildKernel } from './kernel-build.js';
import { repoRoot } from './paths.js';

export interface KernelDef {
  id: KernelId;
  package: string;
  series: '6.1' | '6.12';
}

export const kernelDefs: Record<'debian-6.12' | 'debian-6.1', KernelDef> = {
  'debian-6.12': { id: 'debian-6.12', package: 'linux-image-6.12.100+deb12-arm64:arm64', series: '6.12' },
  'debian-6.1': { id: 'debian-6.1', package: 'linux-image-6.1.0-50-arm64:arm64', series: '6.1' },
};

/** `source-6.12`, `source-6.1+name+name`: Debian's linux-source-X built with qemu/patches/<name>.patch. */
export function parseSourceKernel(id: string): { series: '6.12' | '6.1'; patches: string[] } | null {
  const m = /^source-(6\.12|6\.1)((?:\+[A-Za-z0-9_.-]+)*)$/.exec(id);
  if (!m) return null;
  const names = m[2] ? m[2].slice(1).split('+') : [];
  return {
    series: m[1] as '6.12' | '6.1',
    patches: names.map((n) => registeredPatches.get(n) ?? join(repoRoot(), 'qemu', 'patches', `${n}.patch`)),
  };
}

/** Patches outside qemu/patches (e.g. `probelab validate --patch ~/x.patch`), by the name used in kernel ids. */
const registeredPatches = new Map<string, string>();
export function registerPatch(file: string): string {
  const name = `${file
    .split('/')
    .pop()!
    .replace(/\.(patch|diff)$/, '')
    .replace(/[^A-Za-z0-9_.-]/g, '_')}`;
  registeredPatches.set(name, file);
  return name;
}

export interface KernelArtefacts {
  def: KernelDef;
  /** For kernels built from source: the (patched) tree, whose source the profile reads. */
  tree?: string;
  release: string;
  packageVersion: string;
  packageSha256: string;
  image: string;
  modulesDir: string;
  config: Map<string, string>;
}

export async function provisionKernel(id: KernelId, log: (l: string) => void = () => {}): Promise<KernelArtefacts> {
  const src = parseSourceKernel(id);
  if (src) {
    const b = await buildKernel({ source: src.series, patches: src.patches }, log);
    const modulesDir = join(b.modulesRoot, b.release);
    return {
      def: { id, package: `linux-source-${src.series}`, series: src.series },
      release: b.release,
      packageVersion: `build ${b.hash}`,
      packageSha256: b.hash,
      image: b.image,
      modulesDir,
      config: readConfig(b.configFile),
      tree: b.tree,
    };
  }
  const def = kernelDefs[id as keyof typeof kernelDefs];
  if (!def) throw new HarnessError(`unknown kernel ${id}`);
  const pkg = await provisionPackage(def.package);
  const modRoot = join(pkg.root, 'lib', 'modules');
  const release = readdirSync(modRoot)[0];
  if (!release) throw new HarnessError(`${def.package}: no lib/modules in the package`);
  const modulesDir = join(modRoot, release);
  if (!existsSync(join(modulesDir, 'modules.dep'))) {
    const r = await runChild('depmod', ['-b', pkg.root, release], { reject: false });
    if (r.exitCode !== 0) throw new HarnessError(`depmod failed for ${release}: ${r.stderr || 'is kmod installed?'}`);
  }
  const image = join(pkg.root, 'boot', `vmlinuz-${release}`);
  return {
    def,
    release,
    packageVersion: pkg.version,
    packageSha256: pkg.sha256,
    image,
    modulesDir,
    config: readConfig(join(pkg.root, 'boot', `config-${release}`)),
  };
}

/**
 * A kernel someone built themselves for a board (`make Image modules` and `make modules_install
 * INSTALL_MOD_PATH=DIR`, with `Image` and the `.config` copied into DIR as `Image` and `config`):
 * its artefacts as probelab's own builds give them, for LAVA jobs on real boards.
 */
export function userKernelBuild(dir: string, series: '6.1' | '6.12'): KernelArtefacts {
  const root = resolve(dir);
  const need = (f: string): string => {
    if (!existsSync(join(root, f)))
      throw new HarnessError(
        `${root}: no ${f} (a kernel build dir holds Image, config and lib/modules/<release>/ from make modules_install INSTALL_MOD_PATH=)`,
      );
    return join(root, f);
  };
  const release = readdirSync(need(join('lib', 'modules')))[0];
  if (!release) throw new HarnessError(`${root}/lib/modules: no release directory`);
  return {
    def: { id: `source-${series}` as KernelId, package: `kernel build in ${root}`, series },
    release,
    packageVersion: `user build ${release}`,
    packageSha256: '',
    image: need('Image'),
    modulesDir: need(join('lib', 'modules', release)),
    config: readConfig(need('config')),
  };
}

function readConfig(file: string): Map<string, string> {
  const config = new Map<string, string>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^(CONFIG_\w+)=(.*)$/.exec(line);
    if (m) config.set(m[1]!, m[2]!.replace(/^"(.*)"$/, '$1'));
  }
  return config;
}

const norm = (s: string): string => s.replace(/-/g, '_');
const modName = (path: string): string =>
  norm(
    path
      .split('/')
      .pop()!
      .replace(/\.ko(\.xz|\.zst|\.gz)?$/, ''),
  );

/** The static half of a kernel profile, from the package alone. */
export function staticProfile(
  k: KernelArtefacts,
): Pick<
  KernelProfile,
  'id' | 'series' | 'release' | 'hz' | 'modules' | 'builtinModules' | 'moduleDeps' | 'moduleAliases'
> & { moduleFiles: Map<string, string> } {
  const read = (f: string): string => readFileSync(join(k.modulesDir, f), 'utf8');
  const builtinModules = new Set(read('modules.builtin').split('\n').filter(Boolean).map(modName));
  const moduleDeps = new Map<string, string[]>();
  const moduleFiles = new Map<string, string>();
  for (const line of read('modules.dep').split('\n')) {
    const m = /^([^:]+):\s*(.*)$/.exec(line);
    if (!m) continue;
    moduleFiles.set(modName(m[1]!), m[1]!);
    moduleDeps.set(modName(m[1]!), m[2]!.split(/\s+/).filter(Boolean).map(modName));
  }
  const moduleAliases: Array<{ pattern: string; module: string }> = [];
  for (const line of read('modules.alias').split('\n')) {
    const m = /^alias (\S+) (\S+)$/.exec(line);
    if (m) moduleAliases.push({ pattern: m[1]!, module: norm(m[2]!) });
  }
  const hz = Number(k.config.get('CONFIG_HZ') ?? '250');
  return {
    id: k.def.id,
    series: k.def.series,
    release: k.release,
    hz,
    modules: k.config.get('CONFIG_MODULES') === 'y',
    builtinModules,
    moduleDeps,
    moduleAliases,
    moduleFiles,
    ...(k.tree ? sourceFacts(k.tree) : {}),
  };
}

/**
 * What the simulator takes from a kernel's own source when it has one: the default
 * deferred_probe_timeout (drivers/base/dd.c) and which supplier bindings are `.optional`
 * (drivers/of/property.c:of_supplier_bindings[]), so that a patch to either shows in predictions.
 */
export type SourceFacts = Pick<
  KernelProfile,
  | 'deferredProbeTimeoutDefault'
  | 'optionalBindings'
  | 'fwspecInitDefersFirst'
  | 'fwspecFreedOnError'
  | 'fwDevlinkCycleRule'
  | 'singleIommuDriver'
  | 'fwDevlinkDefault'
  | 'supplierTable'
>;

export function sourceFacts(tree: string): SourceFacts {
  const out: SourceFacts = {};
  const dd = readFileSync(join(tree, 'drivers', 'base', 'dd.c'), 'utf8');
  const t = /^(?:static )?int driver_deferred_probe_timeout = (-?\d+);/m.exec(dd);
  if (t) out.deferredProbeTimeoutDefault = Number(t[1]);
  const prop = readFileSync(join(tree, 'drivers', 'of', 'property.c'), 'utf8');
  const table = /of_supplier_bindings\[\] = \{([\s\S]*?)\n\};/.exec(prop)?.[1] ?? '';
  const parsers: Record<string, string> = {
    parse_iommus: 'iommus',
    parse_iommu_maps: 'iommu-map',
    parse_dmas: 'dmas',
    parse_clocks: 'clocks',
  };
  const optional: Record<string, boolean> = {};
  for (const m of table.matchAll(/\{\s*\.parse_prop = (\w+)([^}]*)\}/g)) {
    const name = parsers[m[1]!];
    if (name) optional[name] = /\.optional = true/.test(m[2]!);
  }
  if (Object.keys(optional).length) out.optionalBindings = optional;
  // The table's rows: which parse functions it lists, and what each DEFINE_*_PROP parses.
  const listed = [...table.matchAll(/\.parse_prop = (parse_\w+)/g)].map((m) => m[1]!);
  if (listed.length) {
    const decls = (macro: string): Array<{ fn: string; property: string; cells: string | null }> =>
      [...prop.matchAll(new RegExp(`^${macro}\\((\\w+), "([^"]+)", (NULL|"[^"]+")\\)`, 'gm'))].map((m) => ({
        fn: m[1]!,
        property: m[2]!,
        cells: m[3] === 'NULL' ? null : m[3]!.slice(1, -1),
      }));
    out.supplierTable = { parsers: listed, simple: decls('DEFINE_SIMPLE_PROP'), suffix: decls('DEFINE_SUFFIX_PROP') };
  }
  // drivers/iommu/iommu.c:iommu_fwspec_init: does "no ops -> -EPROBE_DEFER" come before the
  // comparison with an existing fwspec? (In 6.1.192 the missing-ops case is of_iommu_xlate's,
  // after iommu_fwspec_init compared.)
  const iommu = readIf(join(tree, 'drivers', 'iommu', 'iommu.c'));
  const init = iommu && functionBody(iommu, /^int iommu_fwspec_init\(/m);
  if (init) {
    const defer = init.search(/if \(!ops\)\s*return -EPROBE_DEFER;/);
    const compare = init.search(/if \(fwspec\)/);
    if (compare >= 0) out.fwspecInitDefersFirst = defer >= 0 && defer < compare;
  }
  // drivers/iommu/iommu.c:iommu_device_register: does a second driver get -EBUSY?
  const reg = iommu && functionBody(iommu, /^int iommu_device_register\(/m);
  if (reg) out.singleIommuDriver = /iommu_ops\s*!=\s*ops\)\s*return -EBUSY;/.test(reg);
  // drivers/iommu/of_iommu.c:of_iommu_configure: is the fwspec of a failed configuration freed?
  const ofIommu = readIf(join(tree, 'drivers', 'iommu', 'of_iommu.c'));
  const conf = ofIommu && functionBody(ofIommu, /^(?:const struct iommu_ops \*|int )of_iommu_configure\(/m);
  if (conf) out.fwspecFreedOnError = /if \(err[^)]*\)\s*iommu_fwspec_free\(dev\)/.test(conf);
  // drivers/base/core.c: fw_devlink's default mode.
  const core = readIf(join(tree, 'drivers', 'base', 'core.c'));
  const flags = core && /^static u32 fw_devlink_flags = FW_DEVLINK_FLAGS_(ON|RPM|PERMISSIVE);/m.exec(core);
  if (flags) out.fwDevlinkDefault = flags[1]!.toLowerCase() as SourceFacts['fwDevlinkDefault'];
  // drivers/base/core.c: the function that relaxes fw_devlink cycles in this tree.
  if (core && /^static bool __fw_devlink_relax_cycles\(/m.test(core))
    out.fwDevlinkCycleRule = '__fw_devlink_relax_cycles';
  else if (core && /^static int fw_devlink_relax_cycle\(/m.test(core))
    out.fwDevlinkCycleRule = 'fw_devlink_relax_cycle';
  return out;
}

const readIf = (f: string): string | null => (existsSync(f) ? readFileSync(f, 'utf8') : null);

/** A C function's text from its signature to the closing brace at column 0. */
function functionBody(c: string, signature: RegExp): string | null {
  const start = c.search(signature);
  if (start < 0) return null;
  const end = c.indexOf('\n}\n', start);
  return end < 0 ? null : c.slice(start, end + 2);
}
