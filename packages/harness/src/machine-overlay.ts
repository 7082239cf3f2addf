/**
 * Lab boards: a scenario's `machine.overlay` (a DTS fragment) merged into QEMU's own `virt` tree.
 * QEMU's tree (boards/qemu-virt/dtb/<iommu>.dtb, checked against QEMU on every boot) is
 * decompiled, labels are given to QEMU's nodes (`smmu`, `gic`, `pcie`, `gpio`, `clk24mhz`, …),
 * and the fragment is compiled after it the way a board .dts includes its SoC .dtsi: preprocessed
 * (#include, macros), then dtc, whose messages name the fragment's file:line. The merged DTB is
 * what QEMU boots (`-dtb`), what is kept as out/<scenario>/machine.dtb and what the simulator
 * reads. QEMU's phandles stay as QEMU made them (dtc keeps a node's explicit `phandle`).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  compatible,
  compileDtsFile,
  dtbToDts,
  DtError,
  readDtb,
  type DeviceTree,
  type DtNode,
} from '@probelab/dt-compiler';
import { HarnessError } from './errors.js';

/** The labels a fragment may use, and how each of QEMU's nodes is recognised. */
export const qemuLabels: ReadonlyArray<{ label: string; what: string; find: (n: DtNode) => boolean }> = [
  { label: 'smmu', what: 'the SMMUv3 (iommu: smmuv3)', find: (n) => compatible(n).includes('arm,smmu-v3') },
  {
    label: 'gic',
    what: 'the interrupt controller',
    find: (n) => n.properties.has('interrupt-controller') && n.parent?.parent === null,
  },
  { label: 'pcie', what: 'the PCI host bridge', find: (n) => compatible(n).includes('pci-host-ecam-generic') },
  { label: 'gpio', what: 'the PL061 GPIO controller', find: (n) => compatible(n).includes('arm,pl061') },
  { label: 'clk24mhz', what: 'the 24 MHz apb-pclk fixed clock', find: (n) => n.name === 'apb-pclk' },
  { label: 'cpu0', what: 'the first CPU', find: (n) => n.parent?.name === 'cpus' && n.name.startsWith('cpu@') },
];

export interface MergedTree {
  dtb: Uint8Array;
  tree: DeviceTree;
  files: string[];
}

const merged = new Map<string, MergedTree>();

/** QEMU's tree with the fragment merged in; errors name the fragment's file:line. */
export function mergeOverlay(base: Uint8Array, baseFile: string, overlay: string): MergedTree {
  if (!existsSync(overlay)) throw new HarnessError(`machine.overlay: ${overlay} not found`);
  const key = createHash('sha256')
    .update(base)
    .update('\0')
    .update(overlay)
    .update('\0')
    .update(readFileSync(overlay))
    .digest('hex');
  const hit = merged.get(key);
  if (hit && hit.files.every((f) => f === overlay || existsSync(f))) return hit;
  const baseTree = readDtb(base, baseFile);
  const labels: string[] = [];
  for (const l of qemuLabels) {
    const node = baseTree.nodes.find(l.find);
    if (node) labels.push(`${l.label}: &{${node.path}} { };`);
  }
  const work = mkdtempSync(join(tmpdir(), 'probelab-overlay-'));
  try {
    // QEMU's tree goes in through dtc's /include/ (not the preprocessor: its text is dtc's
    // output, not a source); the fragment through #include, so its own #includes and macros work
    // and dtc's messages point into it.
    writeFileSync(join(work, 'qemu-virt.dts'), dtbToDts(base, baseFile));
    const top = join(work, 'lab-board.dts');
    writeFileSync(
      top,
      `/include/ "qemu-virt.dts"\n\n/* QEMU's nodes, by label (machine-overlay.ts:qemuLabels) */\n${labels.join('\n')}\n\n#include "${overlay}"\n`,
    );
    let out;
    try {
      out = compileDtsFile(top, { includeDirs: [dirname(overlay)], flags: [] });
    } catch (e) {
      // A message about the fragment names its file:line; one about the glue (a label of QEMU's
      // the fragment extends wrongly, say) is put on the fragment as a whole.
      if (e instanceof DtError && e.where.file.startsWith(work)) throw new DtError(e.message, { file: overlay });
      throw e;
    }
    const tree = readDtb(out.dtb, overlay);
    const m: MergedTree = { dtb: out.dtb, tree, files: out.files.filter((f) => f !== top) };
    merged.set(key, m);
    return m;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
