/**
 * The guest's initramfs: busybox-static (arm64, from Debian), the scenario's modules with their
 * dependencies (modules.dep), qemu/guest/init as /init, the guest programs (guest-programs.ts),
 * and the schedule it follows. For `probelab shell` also: the modules the person may load by
 * hand under /lib/modules/<release>/ with a modules.dep for busybox modprobe, the logging
 * modprobe/rmmod (qemu/guest/probelab-modprobe, profile), and the terminal's size.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runChild } from './lifetime.js';
import { checkModuleActions, moduleClosure, moduleKey, type KernelProfile, type Scenario } from '@probelab/sim-core';
import { gzipCpio, type CpioEntry } from './cpio.js';
import { provisionPackage } from './debian.js';
import { HarnessError } from './errors.js';
import { guestProgram } from './guest-programs.js';
import type { KernelArtefacts } from './kernels.js';
import { repoRoot } from './paths.js';

const applets = [
  'sh',
  'mount',
  'echo',
  'cat',
  'awk',
  'sleep',
  'grep',
  'tr',
  'basename',
  'readlink',
  'insmod',
  'dmesg',
  'poweroff',
  'sed',
  'ls',
];

/** A module decompressed once per process (a matrix puts the same ones in every cell's image). */
const decompressed = new Map<string, Promise<Uint8Array>>();

function moduleBytes(path: string): Promise<Uint8Array> {
  let p = decompressed.get(path);
  if (!p) {
    p = decompress(path);
    decompressed.set(path, p);
    p.catch(() => decompressed.delete(path));
  }
  return p;
}

async function decompress(path: string): Promise<Uint8Array> {
  if (path.endsWith('.ko')) return readFileSync(path);
  const tool = path.endsWith('.xz') ? 'xz' : path.endsWith('.zst') ? 'zstd' : 'gzip';
  const r = await runChild(tool, ['-dc', path], { encoding: 'buffer', reject: false });
  if (r.exitCode !== 0)
    throw new HarnessError(
      `cannot decompress ${path} with ${tool}: install it (Debian package ${tool === 'xz' ? 'xz-utils' : tool})`,
    );
  return r.stdout as Uint8Array;
}

/** What a shell guest adds: modules loadable by hand (with their dependencies) and the terminal size. */
export interface ShellGuest {
  modules: string[];
  optional: string[];
  rows: number;
  cols: number;
}

/** Applets a person at the prompt expects (a boot only needs `applets`). */
const shellApplets = [
  'ls',
  'find',
  'head',
  'tail',
  'wc',
  'sort',
  'cut',
  'xargs',
  'ps',
  'kill',
  'lsmod',
  'stty',
  'setsid',
  'cttyhack',
  'uname',
  'more',
  'less',
  'vi',
  'clear',
  'reset',
  'resize',
  'env',
  'mkdir',
  'rm',
  'cp',
  'mv',
  'ln',
  'touch',
  'date',
  'uptime',
  'free',
  'top',
  'hexdump',
  'od',
  'printf',
  'test',
  'true',
  'false',
];

/** A schedule time as the guest's probelab-wait reads it: decimal, never an exponent (1e-7). */
export function guestSeconds(t: number): string {
  return t.toFixed(9).replace(/\.?0+$/, '');
}

/**
 * `scheduleOnConsole`: for a snapshot boot (snapshot.ts) only the schedule's actions at
 * `earlyActions` seconds (0: as soon as the init starts, in a cold boot too) are in the image, so
 * they are part of the prefix; the init then waits for the rest on the console, handed to
 * `onSchedule` with the capture time. Any later action is handed over, and is honoured only if
 * it comes after the snapshot point (the caller decides: real-boot.ts).
 */
export interface HandOff {
  scheduleOnConsole: true;
  onSchedule: (late: string, capture: string, lateActions: number[]) => void;
}

export const earlyActions = 0;

export async function buildInitramfs(
  s: Scenario,
  k: KernelArtefacts,
  profile: Pick<KernelProfile, 'builtinModules' | 'moduleDeps'> & { moduleFiles: Map<string, string> },
  shell?: ShellGuest,
  handOff?: HandOff,
): Promise<Buffer> {
  const bb = await provisionPackage('busybox-static:arm64');
  const entries: CpioEntry[] = ['bin', 'dev', 'proc', 'sys', 'probelab', 'lib', 'lib/modules'].map((p) => ({
    path: p,
    type: 'dir' as const,
  }));
  entries.push({ path: 'bin/busybox', type: 'file', data: readFileSync(join(bb.root, 'bin', 'busybox')), mode: 0o755 });
  for (const a of applets) entries.push({ path: `bin/${a}`, type: 'symlink', target: 'busybox' });
  const guest = (f: string): Buffer => readFileSync(join(repoRoot(), 'qemu', 'guest', f));
  entries.push({ path: 'init', type: 'file', data: guest('init'), mode: 0o755 });
  entries.push({ path: 'bin/probelab-state', type: 'file', data: await guestProgram('probelab-state'), mode: 0o755 });
  entries.push({ path: 'bin/probelab-wait', type: 'file', data: await guestProgram('probelab-wait'), mode: 0o755 });
  // The same check predict makes (sim-core predict.ts), against this kernel's modules.dep.
  checkModuleActions(
    { id: k.def.id, moduleDeps: profile.moduleDeps, builtinModules: profile.builtinModules },
    s.modules,
    s.unload ?? [],
    s.file,
  );
  const schedule: Array<{ at: number; line: string }> = [];
  const added = new Set<string>();
  const addModule = async (dep: string): Promise<string> => {
    const rel = profile.moduleFiles.get(dep)!;
    const base = `${rel
      .split('/')
      .pop()!
      .replace(/\.ko.*$/, '')}.ko`;
    if (!added.has(base)) {
      entries.push({ path: `lib/modules/${base}`, type: 'file', data: await moduleBytes(join(k.modulesDir, rel)) });
      added.add(base);
    }
    return base;
  };
  for (const m of s.modules) {
    const key = moduleKey(m.name);
    const files: string[] = [];
    for (const dep of moduleClosure(profile, key)) files.push(await addModule(dep));
    // "-- <params>": insmod parameters for the module itself (the last file), not its dependencies.
    schedule.push({
      at: m.at,
      line: `${guestSeconds(m.at)} ${m.name} ${files.join(' ')}${m.params ? ` -- ${m.params}` : ''}`,
    });
  }
  // rmmod lines: "<at> !<module>", in time order with the loads (loads first at equal times).
  for (const u of s.unload ?? []) {
    schedule.push({ at: u.at, line: `${guestSeconds(u.at)} !${moduleKey(u.name)}` });
  }
  schedule.sort((a, b) => a.at - b.at);
  const text = (xs: typeof schedule): string => xs.map((x) => x.line).join('\n') + '\n';
  if (handOff) {
    const late = schedule.filter((x) => x.at > earlyActions);
    entries.push({
      path: 'probelab/schedule',
      type: 'file',
      data: Buffer.from(text(schedule.filter((x) => x.at <= earlyActions))),
    });
    entries.push({ path: 'probelab/wait-schedule', type: 'file', data: Buffer.from('\n') });
    handOff.onSchedule(
      late.length ? text(late) : '',
      guestSeconds(s.capture),
      late.map((x) => x.at),
    );
  } else {
    const scheduleText = text(schedule);
    entries.push({ path: 'probelab/schedule', type: 'file', data: Buffer.from(scheduleText) });
    entries.push({ path: 'probelab/capture', type: 'file', data: Buffer.from(`${guestSeconds(s.capture)}\n`) });
  }
  if (shell) {
    // modules.dep as depmod writes it: "m.ko: deps", a module's dependencies last-loaded first.
    const dep: string[] = [];
    const optional = new Set(shell.optional.map(moduleKey).filter((k) => profile.moduleFiles.has(k)));
    const wanted = new Set([...s.modules.map((m) => moduleKey(m.name)), ...shell.modules.map(moduleKey), ...optional]);
    for (const key of wanted) {
      if (profile.builtinModules.has(key)) continue;
      if (!profile.moduleFiles.has(key))
        throw new HarnessError(`${s.file}: ${key} is not a module of ${k.def.id} (not in modules.dep)`);
      const closure = moduleClosure(profile, key);
      const bases: string[] = [];
      for (const d of closure) bases.push(await addModule(d));
      for (let i = 0; i < closure.length; i++) {
        const line = `${bases[i]}:${bases
          .slice(0, i)
          .reverse()
          .map((b) => ` ${b}`)
          .join('')}`;
        if (!dep.includes(line)) dep.push(line);
      }
    }
    const mdir = `lib/modules/${k.release}`;
    entries.push({ path: mdir, type: 'dir' });
    for (const b of added) entries.push({ path: `${mdir}/${b}`, type: 'symlink', target: `../${b}` });
    entries.push({ path: `${mdir}/modules.dep`, type: 'file', data: Buffer.from(dep.join('\n') + '\n') });
    entries.push({ path: 'etc', type: 'dir' });
    entries.push({ path: 'etc/profile', type: 'file', data: guest('profile') });
    entries.push({ path: 'bin/probelab-modprobe', type: 'file', data: guest('probelab-modprobe'), mode: 0o755 });
    for (const a of shellApplets.filter((x) => !applets.includes(x)))
      entries.push({ path: `bin/${a}`, type: 'symlink', target: 'busybox' });
    entries.push({ path: 'probelab/shell', type: 'file', data: Buffer.from(`${shell.rows} ${shell.cols}\n`) });
  }
  return gzipCpio(entries);
}
