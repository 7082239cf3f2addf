/**
 * The kernels a scenario can name, and what probelab reads from each: Image, modules, .config,
 * modules.builtin, modules.dep and modules.alias (generated with depmod, as the package's
 * postinst would).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import type { KernelId, KernelProfile } from '@probelab/sim-core';
import { provisionPackage } from './debian.js';
import { HarnessError } from './errors.js';

export interface KernelDef { id: KernelId; package: string; series: '6.1' | '6.12' }

export const kernelDefs: Record<KernelId, KernelDef> = {
  'debian-6.12': { id: 'debian-6.12', package: 'linux-image-6.12.100+deb12-arm64:arm64', series: '6.12' },
  'debian-6.1': { id: 'debian-6.1', package: 'linux-image-6.1.0-50-arm64:arm64', series: '6.1' },
};

export interface KernelArtefacts {
  def: KernelDef;
  release: string;
  packageVersion: string;
  packageSha256: string;
  image: string;
  modulesDir: string;
  config: Map<string, string>;
}

export async function provisionKernel(id: KernelId): Promise<KernelArtefacts> {
  const def = kernelDefs[id];
  const pkg = await provisionPackage(def.package);
  const modRoot = join(pkg.root, 'lib', 'modules');
  const release = readdirSync(modRoot)[0];
  if (!release) throw new HarnessError(`${def.package}: no lib/modules in the package`);
  const modulesDir = join(modRoot, release);
  if (!existsSync(join(modulesDir, 'modules.dep'))) {
    const r = await execa('depmod', ['-b', pkg.root, release], { reject: false });
    if (r.exitCode !== 0) throw new HarnessError(`depmod failed for ${release}: ${r.stderr || 'is kmod installed?'}`);
  }
  const image = join(pkg.root, 'boot', `vmlinuz-${release}`);
  const config = new Map<string, string>();
  for (const line of readFileSync(join(pkg.root, 'boot', `config-${release}`), 'utf8').split('\n')) {
    const m = /^(CONFIG_\w+)=(.*)$/.exec(line);
    if (m) config.set(m[1]!, m[2]!.replace(/^"(.*)"$/, '$1'));
  }
  return { def, release, packageVersion: pkg.version, packageSha256: pkg.sha256, image, modulesDir, config };
}

const norm = (s: string): string => s.replace(/-/g, '_');
const modName = (path: string): string => norm(path.split('/').pop()!.replace(/\.ko(\.xz|\.zst|\.gz)?$/, ''));

/** The static half of a kernel profile, from the package alone. */
export function staticProfile(k: KernelArtefacts): Pick<KernelProfile, 'id' | 'series' | 'release' | 'hz' | 'modules' | 'builtinModules' | 'moduleDeps' | 'moduleAliases'> & { moduleFiles: Map<string, string> } {
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
    id: k.def.id, series: k.def.series, release: k.release, hz,
    modules: k.config.get('CONFIG_MODULES') === 'y',
    builtinModules, moduleDeps, moduleAliases, moduleFiles,
  };
}
