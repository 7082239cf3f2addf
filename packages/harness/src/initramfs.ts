/**
 * The guest's initramfs: busybox-static (arm64, from Debian), the scenario's modules with their
 * dependencies (modules.dep), qemu/guest/init as /init, and the schedule it follows.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnChild } from './lifetime.js';
import { moduleClosure, moduleKey, type KernelProfile, type Scenario } from '@probelab/sim-core';
import { gzipCpio, type CpioEntry } from './cpio.js';
import { provisionPackage } from './debian.js';
import { HarnessError } from './errors.js';
import type { KernelArtefacts } from './kernels.js';
import { repoRoot } from './paths.js';

const applets = ['sh', 'mount', 'echo', 'cat', 'awk', 'sleep', 'grep', 'tr', 'basename', 'readlink', 'insmod', 'dmesg', 'poweroff', 'sed'];

async function moduleBytes(path: string): Promise<Uint8Array> {
  if (path.endsWith('.ko')) return readFileSync(path);
  const tool = path.endsWith('.xz') ? 'xz' : path.endsWith('.zst') ? 'zstd' : 'gzip';
  const r = await spawnChild(tool, ['-dc', path], { encoding: 'buffer', reject: false });
  if (r.exitCode !== 0) throw new HarnessError(`cannot decompress ${path} with ${tool}: install it (Debian package ${tool === 'xz' ? 'xz-utils' : tool})`);
  return r.stdout as Uint8Array;
}

export async function buildInitramfs(s: Scenario, k: KernelArtefacts, profile: Pick<KernelProfile, 'builtinModules' | 'moduleDeps'> & { moduleFiles: Map<string, string> }): Promise<Buffer> {
  const bb = await provisionPackage('busybox-static:arm64');
  const entries: CpioEntry[] = ['bin', 'dev', 'proc', 'sys', 'probelab', 'lib', 'lib/modules'].map((p) => ({ path: p, type: 'dir' as const }));
  entries.push({ path: 'bin/busybox', type: 'file', data: readFileSync(join(bb.root, 'bin', 'busybox')), mode: 0o755 });
  for (const a of applets) entries.push({ path: `bin/${a}`, type: 'symlink', target: 'busybox' });
  entries.push({ path: 'init', type: 'file', data: readFileSync(join(repoRoot(), 'qemu', 'guest', 'init')), mode: 0o755 });
  const schedule: Array<{ at: number; line: string }> = [];
  const added = new Set<string>();
  for (const m of s.modules) {
    const key = moduleKey(m.name);
    if (profile.builtinModules.has(key)) throw new HarnessError(`${s.file}: module ${m.name} is built into ${k.def.id}; remove it from \`modules\``);
    if (!profile.moduleFiles.has(key)) throw new HarnessError(`${s.file}: field \`modules\`: ${m.name} is not a module of ${k.def.id} (not in modules.dep)`);
    const files: string[] = [];
    for (const dep of moduleClosure(profile, key)) {
      const rel = profile.moduleFiles.get(dep)!;
      const base = `${rel.split('/').pop()!.replace(/\.ko.*$/, '')}.ko`;
      if (!added.has(base)) {
        entries.push({ path: `lib/modules/${base}`, type: 'file', data: await moduleBytes(join(k.modulesDir, rel)) });
        added.add(base);
      }
      files.push(base);
    }
    schedule.push({ at: m.at, line: `${m.at} ${m.name} ${files.join(' ')}` });
  }
  // rmmod lines: "<at> !<module>", in time order with the loads (loads first at equal times).
  for (const u of s.unload ?? []) {
    if (!s.modules.some((m) => moduleKey(m.name) === moduleKey(u.name))) throw new HarnessError(`${s.file}: field \`unload\`: ${u.name} is not loaded by the scenario (add it to \`modules\`)`);
    schedule.push({ at: u.at, line: `${u.at} !${moduleKey(u.name)}` });
  }
  schedule.sort((a, b) => a.at - b.at);
  entries.push({ path: 'probelab/schedule', type: 'file', data: Buffer.from(schedule.map((x) => x.line).join('\n') + '\n') });
  entries.push({ path: 'probelab/capture', type: 'file', data: Buffer.from(`${s.capture}\n`) });
  return gzipCpio(entries);
}
