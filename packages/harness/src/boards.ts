/**
 * The qemu-virt board's device trees. QEMU makes them (`-machine dumpdtb=`); probelab keeps them
 * in boards/qemu-virt/dtb/<iommu>.dtb so that `predict` needs no QEMU, and every real boot checks
 * that QEMU's tree is the same board (the random /chosen seeds aside). QEMU's tree depends only
 * on the QEMU binary and the machine's arguments, so a boot dumps it once per those (cached under
 * the cache directory, keyed by the binary's path, size and time and the arguments): a dump is
 * a QEMU start, 0.1-0.2 s of every boot here.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readDtb, type DeviceTree } from '@probelab/dt-compiler';
import { InputError, type IommuKind, type Scenario } from '@probelab/sim-core';
import { writeAtomic, writeFile } from './atomic.js';
import { HarnessError } from './errors.js';
import { mergeOverlay } from './machine-overlay.js';
import { loadMachine, machineArgs } from './machine.js';
import { cacheDir, repoRoot } from './paths.js';
import { dumpDtb, requireQemu } from './qemu-run.js';

/** The CPU counts kept (machine.cpus): QEMU's tree has a node per CPU and a cpu-map. */
export const boardCpuCounts = [1, 2, 4] as const;

export function boardDtbPath(iommu: IommuKind, cpus = 1): string {
  return join(repoRoot(), 'boards', 'qemu-virt', 'dtb', `${iommu}${cpus > 1 ? `-smp${cpus}` : ''}.dtb`);
}

function qemuDtb(s: Scenario): { bytes: Uint8Array; file: string } {
  const f = boardDtbPath(s.machine.iommu, s.machine.cpus ?? 1);
  try {
    return { bytes: readFileSync(f), file: f };
  } catch {
    throw new HarnessError(`${f} is missing: run \`probelab board dump\``);
  }
}

/** The scenario's board: QEMU's tree, with the scenario's lab fragment merged in if it has one. */
export function machineTree(s: Scenario): DeviceTree {
  const { bytes, file } = qemuDtb(s);
  if (!s.machine.overlay) return readDtb(bytes, file);
  return overlaid(s, bytes, file).tree;
}

/** The DTB QEMU is given with `-dtb` (lab boards), or null when QEMU boots its own tree. */
export function machineDtb(s: Scenario): Uint8Array | null {
  if (!s.machine.overlay) return null;
  const { bytes, file } = qemuDtb(s);
  return overlaid(s, bytes, file).dtb;
}

function overlaid(s: Scenario, bytes: Uint8Array, file: string): { tree: DeviceTree; dtb: Uint8Array } {
  if (!existsSync(s.machine.overlay!))
    throw new InputError(
      `field \`machine.overlay\`: expected a DTS fragment; ${s.machine.overlay} does not exist`,
      s.file,
    );
  return mergeOverlay(bytes, file, s.machine.overlay!);
}

/** Dump QEMU's tree for a scenario's machine to `out`. */
export async function dumpMachineTree(s: Scenario, out: string): Promise<DeviceTree> {
  const m = loadMachine();
  await dumpDtb(m.binary, machineArgs(m, s), out);
  return readDtb(readFileSync(out), out);
}

/** Firmware seeds QEMU draws at random for every run (hw/arm/virt.c:create_fdt). */
const randomProps = new Set(['/chosen/rng-seed', '/chosen/kaslr-seed']);

/** The paths and property values that differ between two trees, random seeds excepted. */
export function treeDifferences(a: DeviceTree, b: DeviceTree): string[] {
  const flat = (t: DeviceTree): Map<string, string> => {
    const m = new Map<string, string>();
    for (const n of t.nodes) {
      m.set(n.path, '(node)');
      for (const p of n.properties.values()) {
        const key = `${n.path === '/' ? '' : n.path}/${p.name}`;
        m.set(key, randomProps.has(key) ? '(random)' : Buffer.from(p.value).toString('hex'));
      }
    }
    return m;
  };
  const fa = flat(a);
  const fb = flat(b);
  const out: string[] = [];
  for (const k of new Set([...fa.keys(), ...fb.keys()])) if (fa.get(k) !== fb.get(k)) out.push(k);
  return out.sort();
}

/**
 * QEMU's own tree must be the one kept under boards/qemu-virt; out/<scenario>/machine.dtb is then
 * the tree the guest boots (QEMU's, or the merged lab board).
 */
export async function checkBoardMatchesQemu(s: Scenario, dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const m = loadMachine();
  const args = machineArgs(m, s);
  const binary = requireQemu(m.binary);
  const st = statSync(binary);
  const key = createHash('sha256')
    .update(JSON.stringify({ binary, size: st.size, mtime: st.mtimeMs, args }))
    .digest('hex')
    .slice(0, 20);
  const cached = join(cacheDir(), 'machine-trees', `${key}.dtb`);
  let dumped: DeviceTree;
  if (existsSync(cached)) {
    const bytes = readFileSync(cached);
    writeFile(join(dir, 'machine.dtb'), bytes);
    dumped = readDtb(bytes, cached);
  } else {
    dumped = await dumpMachineTree(s, join(dir, 'machine.dtb'));
    writeAtomic(cached, readFileSync(join(dir, 'machine.dtb')));
  }
  const { bytes, file } = qemuDtb(s);
  const diffs = treeDifferences(readDtb(bytes, file), dumped);
  if (diffs.length) {
    throw new HarnessError(
      `QEMU's device tree for virt/${s.machine.iommu} differs from ${boardDtbPath(s.machine.iommu, s.machine.cpus ?? 1)} (${diffs.slice(0, 5).join(', ')}${diffs.length > 5 ? ', …' : ''}): predictions would use a stale board; run \`probelab board dump\``,
    );
  }
  const lab = machineDtb(s);
  if (lab) writeFile(join(dir, 'machine.dtb'), lab);
}
