// The driver-core lab without QEMU: the lab drivers put into a build's tree (never through the
// hard links to the pristine tree), read back from their source as the profile reads them, the
// IOMMU rules read from both linux-source trees, and lab fragments merged into QEMU's tree.
import { existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bindingsOfTree, DtError, phandleList, supplierBindings } from '@probelab/dt-compiler';
import {
  addLabDrivers,
  boardDtbPath,
  labDrivers,
  mergeOverlay,
  pristineTree,
  qemuLabels,
  repoRoot,
  sourceFacts,
} from '@probelab/harness';

const root = repoRoot();

function fakeTree(): { pristine: string; tree: string } {
  const base = mkdtempSync(join(tmpdir(), 'lab-tree-'));
  const pristine = join(base, 'pristine');
  const tree = join(base, 'tree');
  for (const d of [pristine, tree]) mkdirSync(join(d, 'drivers'), { recursive: true });
  writeFileSync(
    join(pristine, 'drivers', 'Kconfig'),
    'menu "Device Drivers"\nsource "drivers/base/Kconfig"\nendmenu\n',
  );
  writeFileSync(join(pristine, 'drivers', 'Makefile'), 'obj-y += base/\n');
  for (const f of ['Kconfig', 'Makefile']) linkSync(join(pristine, 'drivers', f), join(tree, 'drivers', f));
  return { pristine, tree };
}

describe('lab drivers in a build tree (kernel-build.ts:addLabDrivers)', () => {
  it('hooks drivers/probelab into Kconfig and Makefile by new files, leaving the pristine tree as it was', () => {
    const { pristine, tree } = fakeTree();
    addLabDrivers(tree);
    expect(readFileSync(join(pristine, 'drivers', 'Kconfig'), 'utf8')).not.toMatch(/probelab/);
    expect(readFileSync(join(pristine, 'drivers', 'Makefile'), 'utf8')).toBe('obj-y += base/\n');
    expect(readFileSync(join(tree, 'drivers', 'Kconfig'), 'utf8')).toMatch(
      /source "drivers\/probelab\/Kconfig"\n\nendmenu\n$/,
    );
    expect(readFileSync(join(tree, 'drivers', 'Makefile'), 'utf8')).toMatch(
      /obj-\$\(CONFIG_PROBELAB_LAB\)\t+\+= probelab\/\n$/,
    );
    expect(statSync(join(tree, 'drivers', 'Kconfig')).ino).not.toBe(statSync(join(pristine, 'drivers', 'Kconfig')).ino);
    for (const f of [
      'probelab_master.c',
      'probelab_supplier.c',
      'probelab_iommu.c',
      'probelab_lab.h',
      'Kconfig',
      'Makefile',
    ])
      expect(existsSync(join(tree, 'drivers', 'probelab', f))).toBe(true);
  });

  it('the profile reads them from source: names, modules, match tables, and the IOMMU driver registering', () => {
    const { tree } = fakeTree();
    addLabDrivers(tree);
    const config = new Map([
      ['CONFIG_PROBELAB_LAB', 'y'],
      ['CONFIG_PROBELAB_MASTER', 'm'],
      ['CONFIG_PROBELAB_SUPPLIER', 'y'],
      ['CONFIG_PROBELAB_IOMMU', 'm'],
    ]);
    const lab = labDrivers(tree, config);
    expect(lab.drivers.map((d) => [d.name, d.module, d.builtin, d.ofCompatibles])).toEqual([
      ['probelab-master', 'probelab_master', false, ['probelab,dma-master']],
      ['probelab-supplier', 'probelab_supplier', true, ['probelab,supplier']],
      ['probelab-iommu', 'probelab_iommu', false, ['probelab,iommu']],
    ]);
    // Nothing runs after iommu_device_register() unconditionally: the register-before-ready
    // window is a DT property's doing (sim-core lab-devices.ts), not the driver's code path.
    expect(lab.behaviours['probelab-iommu']).toEqual({ kind: 'iommu', fwnode: 'self' });
    config.delete('CONFIG_PROBELAB_MASTER');
    expect(labDrivers(tree, config).drivers.map((d) => d.name)).toEqual(['probelab-supplier', 'probelab-iommu']);
    config.set('CONFIG_PROBELAB_LAB', 'n');
    expect(labDrivers(tree, config).drivers).toEqual([]);
  });
});

describe('IOMMU and fw_devlink rules read from the tree, not the series (kernels.ts:sourceFacts)', () => {
  it('linux-source-6.1 (6.1.192) and linux-source-6.12', async () => {
    const t61 = (await pristineTree('6.1')).tree;
    const t612 = (await pristineTree('6.12')).tree;
    expect(sourceFacts(t61)).toMatchObject({
      fwspecInitDefersFirst: false,
      fwspecFreedOnError: false,
      fwDevlinkCycleRule: '__fw_devlink_relax_cycles',
      singleIommuDriver: true,
      fwDevlinkDefault: 'on',
    });
    expect(sourceFacts(t612)).toMatchObject({
      fwspecInitDefersFirst: true,
      fwspecFreedOnError: true,
      fwDevlinkCycleRule: '__fw_devlink_relax_cycles',
      singleIommuDriver: false,
      fwDevlinkDefault: 'rpm',
    });
    // of_supplier_bindings[] as each tree has it: the rows (and their order) the series table
    // was written from, nvmem-cells with its cells in 6.12 and without in 6.1.
    for (const [t, series] of [
      [t61, '6.1'],
      [t612, '6.12'],
    ] as const) {
      const rows = bindingsOfTree(sourceFacts(t).supplierTable!);
      expect(rows).toEqual(supplierBindings.filter((b) => b.series.includes(series)));
    }
    expect(sourceFacts(t612).supplierTable!.simple.find((d) => d.property === 'nvmem-cells')!.cells).toBe(
      '#nvmem-cell-cells',
    );
    expect(sourceFacts(t61).supplierTable!.simple.find((d) => d.property === 'nvmem-cells')!.cells).toBeNull();
  }, 300_000);
});

describe("lab fragments merged into QEMU's tree (machine-overlay.ts)", () => {
  const smmuv3 = readFileSync(boardDtbPath('smmuv3'));
  const none = readFileSync(boardDtbPath('none'));
  // In a directory named work: dtc.wasm's messages once dropped every "/work/" from paths.
  const frag = (text: string): string => {
    const dir = join(mkdtempSync(join(tmpdir(), 'lab-frag-')), 'work');
    mkdirSync(dir);
    const f = join(dir, 'board.dtsi');
    writeFileSync(f, text);
    return f;
  };
  const where = (run: () => unknown): DtError['where'] & { message: string } => {
    try {
      run();
    } catch (e) {
      expect(e).toBeInstanceOf(DtError);
      return { ...(e as DtError).where, message: (e as DtError).message };
    }
    throw new Error('no error');
  };

  it("a master with iommus = <&smmu 0x100> points at QEMU's SMMUv3, whose phandle is QEMU's", () => {
    const m = mergeOverlay(smmuv3, boardDtbPath('smmuv3'), join(root, 'boards', 'lab', 'smmu-masters.dtsi'));
    const master = m.tree.byPath('/dma-master-0')!;
    const [entry] = phandleList(m.tree, master, 'iommus', '#iommu-cells');
    expect(entry!.node.path).toBe('/smmuv3@9050000');
    expect(entry!.args).toEqual([0x100]);
    expect(m.tree.byPath('/smmuv3@9050000')!.properties.get('phandle')!.value).toEqual(
      new Uint8Array([0, 0, 0x80, 0x04]),
    );
    // QEMU's own nodes are all still there.
    expect(m.tree.nodes.length).toBe(mergeOverlay(smmuv3, 'x', frag('/ { };\n')).tree.nodes.length + 3);
  });

  it("every documented label of QEMU's nodes can be used", () => {
    const uses = qemuLabels.map((l, i) => `\tuser-${i} { compatible = "x,y"; ref = <&${l.label}>; };`).join('\n');
    const m = mergeOverlay(smmuv3, 'smmuv3.dtb', frag(`/ {\n${uses}\n};\n`));
    expect(qemuLabels.map((l) => l.label)).toEqual(expect.arrayContaining(['smmu', 'gic', 'pcie', 'gpio', 'clk24mhz']));
    expect(m.tree.nodes.filter((n) => n.name.startsWith('user-')).length).toBe(qemuLabels.length);
  });

  it("a syntax error names the fragment's file and line", () => {
    const f = frag('/ {\n\tok { compatible = "a"; };\n\tbad { compatible = "a" }\n};\n');
    expect(where(() => mergeOverlay(smmuv3, 'smmuv3.dtb', f))).toMatchObject({ file: f, line: 3 });
  });

  it("a phandle to nothing names the fragment's file and the line of the node (dtc's phandle_references check)", () => {
    const f = frag('/ {\n\tm {\n\t\tiommus = <&nosuch 1>;\n\t};\n};\n');
    const w = where(() => mergeOverlay(smmuv3, 'smmuv3.dtb', f));
    expect(w).toMatchObject({ file: f, line: 2 });
    expect(w.message).toMatch(/nosuch/);
  });

  it('&smmu on a machine without one is an error in the fragment', () => {
    const f = frag('/ {\n\tm { iommus = <&smmu 1>; };\n};\n');
    expect(where(() => mergeOverlay(none, 'none.dtb', f))).toMatchObject({ file: f, line: 2 });
  });

  it('#include of another fragment, relative to the fragment', () => {
    const f = frag('#include "part.dtsi"\n/ { b { compatible = "x,b"; }; };\n');
    writeFileSync(join(f, '..', 'part.dtsi'), '/ { a { compatible = "x,a"; }; };\n');
    const m = mergeOverlay(none, 'none.dtb', f);
    expect(['/a', '/b'].every((p) => m.tree.byPath(p))).toBe(true);
    expect(m.files).toContain(join(f, '..', 'part.dtsi'));
  });
});
