/**
 * Kernel profiles: the static half from the package, the discovered half from
 * qemu/kernels/<kernel>.json (written by `probelab kernel discover`, checked by the tests).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KernelId, KernelProfile } from '@probelab/sim-core';
import { HarnessError } from './errors.js';
import type { DiscoveredProfile } from './discovery.js';
import { provisionKernel, staticProfile } from './kernels.js';
import { repoRoot } from './paths.js';

export function discoveredPath(id: KernelId): string {
  return join(repoRoot(), 'qemu', 'kernels', `${id}.json`);
}

export async function loadProfile(id: KernelId): Promise<KernelProfile & { moduleFiles: Map<string, string> }> {
  const k = await provisionKernel(id);
  const st = staticProfile(k);
  const file = discoveredPath(id);
  if (!existsSync(file)) throw new HarnessError(`no discovered profile for ${id} (${file}): run \`probelab kernel discover ${id}\``);
  const d = JSON.parse(readFileSync(file, 'utf8')) as DiscoveredProfile;
  if (d.packageSha256 !== k.packageSha256) {
    throw new HarnessError(`${file} was discovered on package ${d.packageVersion} (sha256 ${d.packageSha256.slice(0, 12)}…), but apt now provides ${k.packageVersion} (${k.packageSha256.slice(0, 12)}…): run \`probelab kernel discover ${id}\``);
  }
  return { ...st, drivers: d.drivers, builtinMatches: d.builtinMatches, ofDeclared: d.ofDeclared, timing: d.timing };
}
