/**
 * A source kernel's profile for predictions, without building the kernel. Three sources, none of
 * them a build:
 * - Kconfig's .config of the build the kernel id names: allnoconfig + the fragment on the
 *   patched tree with the lab drivers, as kernel-build.ts configures it (source-profile.ts runs
 *   Kconfig, which may probe the cross compiler);
 * - that tree's own source, for what the kernel decides (kernels.ts:sourceFacts) and the lab's
 *   drivers (lab-drivers.ts);
 * - the committed discovered profile (qemu/kernels/<kernel>.json) of that same build, named by
 *   its build key, for what only the build and its boots tell: the module table depmod wrote
 *   (modules.builtin, modules.dep, modules.alias), drivers, built-in matches, boot timing.
 * The kernel is built (and rediscovered) only when no committed profile is of this build, or a
 * patch changes what the module table is made of (Kbuild, Kconfig, exports, device tables).
 */
import { existsSync, readFileSync } from 'node:fs';
import type { KernelId } from '@probelab/sim-core';
import type { DiscoveredProfile } from './discovery.js';
import { buildKey, builtKernel } from './kernel-build.js';
import { readConfig } from './kbuild.js';
import { parseSourceKernel } from './kernels.js';
import { sourceProfile } from './source-profile.js';

export interface UnbuiltSource {
  /** The committed discovered profile the prediction reads (the baseline's for a patched kernel). */
  discovered: DiscoveredProfile & { modules: NonNullable<DiscoveredProfile['modules']> };
  /** The configured (patched, lab drivers added) tree and Kconfig's .config. */
  tree: string;
  config: Map<string, string>;
  /** The build key of the kernel id itself (patches included). */
  buildHash: string;
}

/** Lines of a patch that can change a module table: Kbuild and Kconfig files, exports, device tables. */
const tableFile = /^\+\+\+ b\/(?:.*\/)?(?:Makefile|Kbuild|Kconfig[^/]*)$/m;
const tableLine =
  /^[+-](?![+-]).*\b(?:EXPORT_SYMBOL\w*|MODULE_DEVICE_TABLE|MODULE_ALIAS\w*|of_device_id|module_\w*driver)\b/m;

export function patchChangesModuleTable(patchText: string): boolean {
  return tableFile.test(patchText) || tableLine.test(patchText);
}

/**
 * The unbuilt profile inputs of a source kernel id, or null when the kernel's own build must be
 * used: it is already built (then reading it costs nothing), or the committed profile is not of
 * this build (the reason is logged).
 */
export async function unbuiltSource(
  id: KernelId,
  discoveredPath: (id: KernelId) => string,
  log: (l: string) => void,
): Promise<UnbuiltSource | null> {
  const src = parseSourceKernel(id);
  if (!src) return null;
  const key = await buildKey({ source: src.series, patches: src.patches });
  if (builtKernel(key)) return null;
  const own = discoveredPath(id);
  const baseline = !existsSync(own) && src.patches.length > 0;
  const file = baseline ? discoveredPath(`source-${src.series}`) : own;
  if (!existsSync(file)) return null;
  const d = JSON.parse(readFileSync(file, 'utf8')) as DiscoveredProfile;
  const want = baseline ? (await buildKey({ source: src.series })).hash : key.hash;
  const because = (why: string): null => {
    log(`${id}: predicting needs the kernel's build: ${why}`);
    return null;
  };
  if (d.packageSha256 !== want)
    return because(
      `${file} is of build ${d.packageSha256}, the tree at hand builds ${want} (a new linux-source upload, or a changed fragment or lab driver)`,
    );
  if (!d.modules) return because(`${file} has no module table (rediscover it with \`probelab kernel discover ${id}\`)`);
  if (baseline)
    for (const p of src.patches)
      if (patchChangesModuleTable(readFileSync(p, 'utf8')))
        return because(
          `${p} changes Kbuild, Kconfig, an export or a device table, so ${file}'s module table may not hold`,
        );
  const sp = await sourceProfile(
    { source: src.series, base: 'allnoconfig', fragment: key.fragment, patches: src.patches },
    log,
  );
  return {
    discovered: d as UnbuiltSource['discovered'],
    tree: sp.tree,
    config: readConfig(readFileSync(sp.configFile, 'utf8')),
    buildHash: key.hash,
  };
}
