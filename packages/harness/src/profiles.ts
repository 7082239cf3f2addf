/**
 * Kernel profiles: the static half from the package, the discovered half from
 * qemu/kernels/<kernel>.json (written by `probelab kernel discover`, checked by the tests).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KernelId, KernelProfile } from '@probelab/sim-core';
import { HarnessError } from './errors.js';
import type { DiscoveredProfile } from './discovery.js';
import { parseSourceKernel, provisionKernel, staticProfile } from './kernels.js';
import { repoRoot } from './paths.js';

export function discoveredPath(id: KernelId): string {
  return join(repoRoot(), 'qemu', 'kernels', `${id}.json`);
}

export async function loadProfile(id: KernelId, log: (l: string) => void = () => {}): Promise<KernelProfile & { moduleFiles: Map<string, string> }> {
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
  return { ...st, drivers: d.drivers, builtinMatches: d.builtinMatches, ofDeclared: d.ofDeclared, timing: d.timing };
}
