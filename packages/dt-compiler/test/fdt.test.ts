import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { DtError, compatible, idMap, mapId, phandleList, readDtb, reg, isAvailable } from '@probelab/dt-compiler';

const fx = (f: string): Uint8Array => readFileSync(join(import.meta.dirname, 'fixtures', f));

describe('readDtb on QEMU virt device trees', () => {
  it('reads the whole tree with paths, phandles and properties', () => {
    const t = readDtb(fx('smmuv3.dtb'));
    expect(t.root.path).toBe('/');
    expect(compatible(t.root)).toEqual(['linux,dummy-virt']);
    const pcie = t.byPath('/pcie@10000000')!;
    expect(compatible(pcie)).toEqual(['pci-host-ecam-generic']);
    expect(reg(pcie)[0]).toEqual({ address: 0x4010000000n, size: 0x10000000n });
    const map = idMap(t, pcie, 'iommu-map');
    expect(map).toHaveLength(1);
    expect(compatible(map[0]!.target)).toEqual(['arm,smmu-v3']);
    expect(map[0]).toMatchObject({ idBase: 0, outBase: 0, length: 0x10000 });
    expect(t.nodes.length).toBeGreaterThan(40);
  });

  it('agrees with dtc on every node path and property size', () => {
    const dts = execFileSync('dtc', ['-I', 'dtb', '-O', 'dts', join(import.meta.dirname, 'fixtures', 'viommu.dtb')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const t = readDtb(fx('viommu.dtb'));
    const nodeCount = (dts.match(/\{\s*$/gm) ?? []).length;
    expect(t.nodes.length).toBe(nodeCount);
  });

  it('maps PCI requester IDs through iommu-map as of_map_id does, with the IOMMU itself left out', () => {
    const t = readDtb(fx('viommu.dtb'));
    const pcie = t.byPath('/pcie@10000000')!;
    const viommu = t.byPath('/pcie@10000000/virtio_iommu@1,0')!;
    expect(mapId(t, pcie, 'iommu-map', 0x08)).toBeNull(); // 00:01.0, the virtio-iommu
    expect(mapId(t, pcie, 'iommu-map', 0x10)).toEqual({ target: viommu, id: 0x10 });
    expect(mapId(t, pcie, 'iommu-map', 0x00)).toEqual({ target: viommu, id: 0 });
  });

  it('has no iommu-map without an IOMMU', () => {
    const t = readDtb(fx('none.dtb'));
    expect(t.byPath('/pcie@10000000')!.properties.has('iommu-map')).toBe(false);
    expect(isAvailable(t.byPath('/pcie@10000000')!)).toBe(true);
  });

  it('decodes phandle lists with their #cells', () => {
    const t = readDtb(fx('smmuv3.dtb'));
    const keys = t.nodes.find((n) => compatible(n).includes('gpio-keys'))!;
    const gpios = phandleList(t, keys.children[0]!, 'gpios', '#gpio-cells');
    expect(compatible(gpios[0]!.node)).toContain('arm,pl061');
    expect(gpios[0]!.args).toHaveLength(2);
  });

  it('rejects bad input with the byte offset, not a crash', () => {
    expect(() => readDtb(new Uint8Array(10), 'x.dtb')).toThrow(DtError);
    const bad = fx('none.dtb').slice();
    bad[0] = 0;
    expect(() => readDtb(bad, 'x.dtb')).toThrow(/bad magic/);
    const cut = fx('none.dtb').slice(0, 200);
    try {
      readDtb(cut, 'cut.dtb');
      expect.unreachable();
    } catch (e) {
      expect(String(e)).toMatch(/^cut\.dtb \(byte 4\): header totalsize/);
    }
  });
});
