// The decoders' caches (decode.ts: a property's parsed phandle lists, a node's facts, a
// provider's #...-cells) give what an uncached read gives, whatever order they are asked in:
// of_parse_phandle_with_args' reading (drivers/of/base.c:__of_parse_phandle_with_args) of one
// property under two cells names, nodes before entries, availability up the tree
// (of/property.c:of_link_to_phandle's walk with of_device_is_available).
import { describe, expect, it } from 'vitest';
import {
  buildTree,
  compatible,
  isAvailable,
  isAvailablePath,
  makeNode,
  makeProperty,
  phandleList,
  phandleNodes,
  type DtNode,
} from '@probelab/dt-compiler';

const u32s = (...xs: number[]): Uint8Array => {
  const b = new Uint8Array(xs.length * 4);
  xs.forEach((x, i) => new DataView(b.buffer).setUint32(i * 4, x));
  return b;
};
const str = (...s: string[]): Uint8Array => new TextEncoder().encode(s.map((x) => `${x}\0`).join(''));

function tree() {
  const root = makeNode('', '/', null);
  const add = (name: string, parent: DtNode, props: Array<[string, Uint8Array]>): DtNode => {
    const n = makeNode(name, `${parent.path === '/' ? '' : parent.path}/${name}`, parent);
    for (const [k, v] of props) n.properties.set(k, makeProperty(k, v));
    parent.children.push(n);
    return n;
  };
  const clk = add('clk@1000', root, [
    ['compatible', str('vendor,clk')],
    ['phandle', u32s(1)],
    ['#clock-cells', u32s(1)],
    ['#foo-cells', u32s(2)],
  ]);
  const pd = add('pd@2000', root, [
    ['phandle', u32s(2)],
    ['#clock-cells', u32s(0)],
  ]);
  const off = add('bus@3000', root, [
    ['compatible', str('simple-bus')],
    ['status', str('disabled')],
  ]);
  const inner = add('dev@3100', off, [['compatible', str('vendor,inner', 'vendor,fallback')]]);
  const dev = add('dev@4000', root, [
    ['compatible', str('vendor,dev')],
    ['clocks', u32s(1, 5, 2)],
  ]);
  return { t: buildTree(root, 0, []), clk, pd, off, inner, dev };
}

describe('decoder caches', () => {
  it('one property read under two cells names: each its own parse', () => {
    const { t, clk, pd, dev } = tree();
    // Nodes first (no entries built), then the entries with their arguments.
    expect(phandleNodes(t, dev, 'clocks', '#clock-cells')).toEqual([clk, pd]);
    expect(phandleList(t, dev, 'clocks', '#clock-cells')).toEqual([
      { node: clk, args: [5] },
      { node: pd, args: [] },
    ]);
    // #foo-cells = 2 on the first provider: <1 5 2> is one entry whose arguments are 5 and 2
    // (the second provider's phandle read as an argument), not the cached list.
    expect(phandleList(t, dev, 'clocks', '#foo-cells')).toEqual([{ node: clk, args: [5, 2] }]);
    expect(phandleNodes(t, dev, 'clocks', '#foo-cells')).toEqual([clk]);
    // The provider's #clock-cells, asked again after #foo-cells: still 1.
    expect(phandleList(t, dev, 'clocks', '#clock-cells').map((e) => e.args)).toEqual([[5], []]);
    expect(phandleNodes(t, dev, 'clocks', '#clock-cells')).toBe(phandleNodes(t, dev, 'clocks', '#clock-cells'));
  });

  it('entries first, then nodes: the same nodes', () => {
    const { t, clk, pd, dev } = tree();
    expect(phandleList(t, dev, 'clocks', '#clock-cells').map((e) => e.node)).toEqual([clk, pd]);
    expect(phandleNodes(t, dev, 'clocks', '#clock-cells')).toEqual([clk, pd]);
  });

  it('a node under a disabled bus is available itself, not on the path; compatible lists every string', () => {
    const { off, inner, dev } = tree();
    expect(isAvailable(inner)).toBe(true);
    expect(isAvailablePath(inner)).toBe(false);
    expect(isAvailablePath(off)).toBe(false);
    expect(isAvailablePath(dev)).toBe(true);
    // Asked in the other order on a fresh tree: the same answers.
    const again = tree();
    expect(isAvailablePath(again.inner)).toBe(false);
    expect(isAvailable(again.inner)).toBe(true);
    expect(compatible(inner)).toEqual(['vendor,inner', 'vendor,fallback']);
    expect(compatible(inner)).toBe(compatible(inner));
  });
});
