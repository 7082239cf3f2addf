/**
 * Decoders for the properties the driver core reads. Each follows the kernel's reading:
 * of/base.c (of_device_is_available, of_n_addr_cells, of_map_id), of/property.c.
 */
import { DtError } from './errors.js';
import { readU32, type DeviceTree, type DtNode } from './tree.js';

const decoder = new TextDecoder();
/** Decoded string lists by property value: the simulator asks for the same `compatible` often. */
const stringCache = new WeakMap<Uint8Array, readonly string[]>();

/** A string-list property; the array is shared, callers must not change it. */
export function strings(node: DtNode, prop: string): string[] {
  const p = node.properties.get(prop);
  if (!p || p.value.length === 0) return [];
  let out = stringCache.get(p.value);
  if (!out) {
    out = decoder.decode(p.value).split('\0').slice(0, -1);
    stringCache.set(p.value, out);
  }
  return out as string[];
}

export function string(node: DtNode, prop: string): string | undefined {
  return strings(node, prop)[0];
}

export function cells(node: DtNode, prop: string, file = '<dtb>'): number[] | undefined {
  const p = node.properties.get(prop);
  if (!p) return undefined;
  if (p.value.length % 4)
    throw new DtError(`${node.path}: property ${prop} is ${p.value.length} bytes, not a whole number of cells`, {
      file,
    });
  const out: number[] = [];
  for (let i = 0; i < p.value.length; i += 4) out.push(readU32(p.value, i));
  return out;
}

export function u32(node: DtNode, prop: string): number | undefined {
  const p = node.properties.get(prop);
  if (!p) return undefined;
  if (p.value.length % 4) return cells(node, prop)?.[0]; // its error
  return p.value.length ? readU32(p.value, 0) : undefined;
}

export function compatible(node: DtNode): string[] {
  return strings(node, 'compatible');
}

/** of/base.c:__of_device_is_available: no status, "okay" or "ok". */
export function isAvailable(node: DtNode): boolean {
  const s = string(node, 'status');
  return s === undefined || s === 'okay' || s === 'ok';
}

/** of/base.c:of_n_addr_cells / of_n_size_cells: inherited from the nearest ancestor that says. */
export function addressCells(node: DtNode): number {
  for (let n = node.parent; n; n = n.parent) {
    const v = u32(n, '#address-cells');
    if (v !== undefined) return v;
  }
  return 2;
}
export function sizeCells(node: DtNode): number {
  for (let n = node.parent; n; n = n.parent) {
    const v = u32(n, '#size-cells');
    if (v !== undefined) return v;
  }
  return 1;
}

export interface RegEntry {
  address: bigint;
  size: bigint;
}

export function reg(node: DtNode, file = '<dtb>'): RegEntry[] {
  const c = cells(node, 'reg', file);
  if (!c) return [];
  const ac = addressCells(node);
  const sc = sizeCells(node);
  const step = ac + sc;
  if (step === 0 || c.length % step)
    throw new DtError(
      `${node.path}: reg has ${c.length} cells, not a multiple of #address-cells(${ac}) + #size-cells(${sc})`,
      { file },
    );
  const num = (xs: number[]): bigint => xs.reduce((acc, x) => (acc << 32n) | BigInt(x), 0n);
  const out: RegEntry[] = [];
  for (let i = 0; i < c.length; i += step)
    out.push({ address: num(c.slice(i, i + ac)), size: num(c.slice(i + ac, i + step)) });
  return out;
}

export interface PhandleArgs {
  node: DtNode;
  args: number[];
}

/** Parsed lists by tree, property value and cells name: the simulator re-reads `iommus`, `clocks`, … at every probe. */
const phandleCache = new WeakMap<DeviceTree, WeakMap<Uint8Array, Map<string | null, readonly PhandleArgs[]>>>();

/**
 * include/linux/of.h:of_parse_phandle_with_args (drivers/of/base.c:__of_parse_phandle_with_args) semantics for a `<phandle args...>` list whose
 * argument count comes from `cellsName` in the target (e.g. `iommus` / `#iommu-cells`).
 * The list is shared, callers must not change it.
 */
export function phandleList(
  tree: DeviceTree,
  node: DtNode,
  prop: string,
  cellsName: string | null,
  file = '<dtb>',
): PhandleArgs[] {
  const p = node.properties.get(prop);
  if (!p) return [];
  let perTree = phandleCache.get(tree);
  if (!perTree) phandleCache.set(tree, (perTree = new WeakMap()));
  let perValue = perTree.get(p.value);
  if (!perValue) perTree.set(p.value, (perValue = new Map()));
  let out = perValue.get(cellsName);
  if (!out) perValue.set(cellsName, (out = parsePhandleList(tree, node, prop, cellsName, file)));
  return out as PhandleArgs[];
}

function parsePhandleList(
  tree: DeviceTree,
  node: DtNode,
  prop: string,
  cellsName: string | null,
  file: string,
): PhandleArgs[] {
  const c = cells(node, prop, file);
  if (!c) return [];
  const out: PhandleArgs[] = [];
  for (let i = 0; i < c.length;) {
    const ph = c[i]!;
    const target = tree.byPhandle(ph);
    if (!target)
      throw new DtError(`${node.path}: ${prop}[${i}] refers to phandle 0x${ph.toString(16)}, which no node has`, {
        file,
      });
    const n = cellsName ? u32(target, cellsName) : 0;
    if (n === undefined) throw new DtError(`${node.path}: ${prop} target ${target.path} has no ${cellsName}`, { file });
    if (i + 1 + n > c.length)
      throw new DtError(`${node.path}: ${prop} ends inside the arguments of ${target.path} (needs ${n} cells)`, {
        file,
      });
    out.push({ node: target, args: c.slice(i + 1, i + 1 + n) });
    i += 1 + n;
  }
  return out;
}

export interface IdMapEntry {
  idBase: number;
  target: DtNode;
  outBase: number;
  length: number;
}

/** `iommu-map` / `msi-map`: <id-base phandle out-base length> (of/base.c:of_map_id, with #iommu-cells = 1). */
export function idMap(tree: DeviceTree, node: DtNode, prop: 'iommu-map' | 'msi-map', file = '<dtb>'): IdMapEntry[] {
  const c = cells(node, prop, file);
  if (!c) return [];
  if (c.length % 4) throw new DtError(`${node.path}: Error: Bad ${prop} length: ${c.length * 4}`, { file });
  const out: IdMapEntry[] = [];
  for (let i = 0; i < c.length; i += 4) {
    const target = tree.byPhandle(c[i + 1]!);
    if (!target)
      throw new DtError(
        `${node.path}: ${prop} entry ${i / 4} refers to phandle 0x${c[i + 1]!.toString(16)}, which no node has`,
        { file },
      );
    out.push({ idBase: c[i]!, target, outBase: c[i + 2]!, length: c[i + 3]! });
  }
  return out;
}

/**
 * of/base.c:of_map_id: translate `id` through a map, after masking with `<prop>-mask`.
 * Returns null when the map exists but covers no entry for the id ("no %s translation").
 */
export function mapId(
  tree: DeviceTree,
  node: DtNode,
  prop: 'iommu-map' | 'msi-map',
  id: number,
): { target: DtNode; id: number } | null {
  const mask = u32(node, `${prop}-mask`) ?? 0xffffffff;
  const masked = (id & mask) >>> 0;
  for (const e of idMap(tree, node, prop)) {
    if (masked >= e.idBase && masked < e.idBase + e.length)
      return { target: e.target, id: masked - e.idBase + e.outBase };
  }
  return null;
}
