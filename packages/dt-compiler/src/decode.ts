/**
 * Decoders for the properties the driver core reads. Each follows the kernel's reading:
 * of/base.c (of_device_is_available, of_n_addr_cells, of_map_id), of/property.c.
 */
import { DtError } from './errors.js';
import { decodedSlot, factsSlot, readU32, type DeviceTree, type DtNode, type DtProperty } from './tree.js';

const decoder = new TextDecoder();

/**
 * Decoded forms kept on the property object itself, for the value they were decoded from: the
 * simulator asks for the same `compatible`, `iommus`, `clocks` at every probe. (WeakMaps keyed by
 * value cost the garbage collector more than the decoding at 100,000 nodes.)
 */
interface Decoded {
  of: Uint8Array;
  strings: readonly string[] | undefined;
  phandles: PhandleCache | undefined;
}
/** A `<phandle args...>` property's parsed lists: the tree they resolve in, one slot for the cells
 *  name it is read with, a map only for a second one. */
interface PhandleCache {
  tree: DeviceTree;
  cellsName: string | null;
  /** The entries' target nodes (phandleNodes: what the driver core asks at every probe). */
  nodes: DtNode[];
  /** The entries with their arguments, made when first asked (phandleList). */
  list: readonly PhandleArgs[] | undefined;
  more: Map<string | null, readonly PhandleArgs[]> | undefined;
}
const decodedKey = decodedSlot;
function decoded(p: DtProperty): Decoded {
  const holder = p as DtProperty & { [decodedKey]?: Decoded };
  let d = holder[decodedKey];
  if (!d || d.of !== p.value) {
    // A symbol key: JSON, Object.keys and for-in never see it (a copied property carries it
    // along, still valid: it is for the value it was decoded from). Every slot from the start:
    // one shape, no property store grown later (at 100,000 nodes grown stores cost more than
    // the decoding).
    d = { of: p.value, strings: undefined, phandles: undefined };
    holder[decodedKey] = d;
  }
  return d;
}

/** A string-list property; the array is shared, callers must not change it. */
export function strings(node: DtNode, prop: string): string[] {
  const p = node.properties.get(prop);
  if (!p || p.value.length === 0) return [];
  const d = decoded(p);
  return (d.strings ??= decodeStrings(p.value)) as string[];
}

const scratch: number[] = [];

/** NUL-terminated strings; ASCII (nearly every compatible and name) without a TextDecoder call. */
function decodeStrings(v: Uint8Array): string[] {
  const out: string[] = [];
  let start = 0;
  let ascii = true;
  for (let i = 0; i < v.length; i++) {
    const c = v[i]!;
    if (c === 0) {
      if (ascii && i - start < 4096) {
        // Through a plain array: faster than a subarray view per string (measured 2.5x).
        scratch.length = 0;
        for (let k = start; k < i; k++) scratch.push(v[k]!);
        out.push(String.fromCharCode.apply(null, scratch));
      } else out.push(decoder.decode(v.subarray(start, i)));
      start = i + 1;
      ascii = true;
    } else if (c > 0x7f) ascii = false;
  }
  // A value that does not end in NUL: its last piece is not a string (as split().slice(0, -1) drops it).
  return out;
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

/**
 * What the driver core asks of a node at every match and every supplier, kept on the node (one
 * slot, every field from the start): its compatible list, whether it is available, and whether
 * it and every ancestor are. Only the DTB reader sets properties, so a node's answers never change.
 */
interface NodeFacts {
  compatible: string[] | undefined;
  available: boolean | undefined;
  availablePath: boolean | undefined;
  /** The last `#...-cells` asked of it as a provider, and its value (providers are asked one name). */
  cellsName: string | undefined;
  cells: number | undefined;
}
const factsKey = factsSlot;
function facts(node: DtNode): NodeFacts {
  const holder = node as DtNode & { [factsKey]?: NodeFacts };
  return (holder[factsKey] ??= {
    compatible: undefined,
    available: undefined,
    availablePath: undefined,
    cellsName: undefined,
    cells: undefined,
  });
}

/** The `compatible` list; the array is shared, callers must not change it. */
export function compatible(node: DtNode): string[] {
  const f = facts(node);
  return (f.compatible ??= strings(node, 'compatible'));
}

/** of/base.c:__of_device_is_available: no status, "okay" or "ok". */
export function isAvailable(node: DtNode): boolean {
  const f = facts(node);
  if (f.available === undefined) {
    const s = string(node, 'status');
    f.available = s === undefined || s === 'okay' || s === 'ok';
  }
  return f.available;
}

/**
 * The node and every ancestor available (of/property.c:of_link_to_phandle's walk up with
 * of_device_is_available): fw_devlink asks it for every supplier of every consumer.
 */
export function isAvailablePath(node: DtNode): boolean {
  const f = facts(node);
  return (f.availablePath ??= isAvailable(node) && (node.parent === null || isAvailablePath(node.parent)));
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
  const d = decoded(p);
  const pc = d.phandles;
  if (pc && pc.tree === tree) {
    if (pc.cellsName === cellsName)
      return (pc.list ??= parsePhandles(tree, node, prop, cellsName, file, true).list!) as PhandleArgs[];
    const hit = pc.more?.get(cellsName);
    if (hit) return hit as PhandleArgs[];
  }
  const parsed = parsePhandles(tree, node, prop, cellsName, file, true);
  if (!pc || pc.tree !== tree)
    d.phandles = { tree, cellsName, nodes: parsed.nodes, list: parsed.list, more: undefined };
  else (pc.more ??= new Map()).set(cellsName, parsed.list!);
  return parsed.list as PhandleArgs[];
}

/**
 * phandleList's target nodes alone, without building the entries' arguments: the list the
 * driver core reads at every probe and fw_devlink at every node. Shared: callers must not change it.
 */
export function phandleNodes(
  tree: DeviceTree,
  node: DtNode,
  prop: string,
  cellsName: string | null,
  file = '<dtb>',
): DtNode[] {
  const p = node.properties.get(prop);
  if (!p) return [];
  const d = decoded(p);
  const pc = d.phandles;
  if (pc && pc.tree === tree) {
    if (pc.cellsName === cellsName) return pc.nodes;
    return phandleList(tree, node, prop, cellsName, file).map((x) => x.node);
  }
  const parsed = parsePhandles(tree, node, prop, cellsName, file, false);
  d.phandles = { tree, cellsName, nodes: parsed.nodes, list: undefined, more: undefined };
  return parsed.nodes;
}

/** A provider's `#...-cells` (u32), kept on it for the name last asked: every consumer asks. */
function providerCells(target: DtNode, cellsName: string): number | undefined {
  const f = facts(target);
  if (f.cellsName !== cellsName) {
    f.cells = u32(target, cellsName);
    f.cellsName = cellsName;
  }
  return f.cells;
}

/** The argument list of an entry without arguments, shared (lists are shared: never changed). */
const noArgs: number[] = Object.freeze([]) as unknown as number[];

/** The entries' nodes, and with `withArgs` the entries themselves; every array of its exact size. */
function parsePhandles(
  tree: DeviceTree,
  node: DtNode,
  prop: string,
  cellsName: string | null,
  file: string,
  withArgs: boolean,
): { nodes: DtNode[]; list: PhandleArgs[] | undefined } {
  const v = node.properties.get(prop)?.value;
  if (!v) return { nodes: [], list: withArgs ? [] : undefined };
  if (v.length % 4)
    throw new DtError(`${node.path}: property ${prop} is ${v.length} bytes, not a whole number of cells`, { file });
  // The cells read in place (no intermediate array: each property is parsed once per tree).
  const count = v.length / 4;
  const nodes: DtNode[] = [];
  const list: PhandleArgs[] = [];
  for (let i = 0; i < count;) {
    const ph = readU32(v, i * 4);
    const target = tree.byPhandle(ph);
    if (!target)
      throw new DtError(`${node.path}: ${prop}[${i}] refers to phandle 0x${ph.toString(16)}, which no node has`, {
        file,
      });
    const n = cellsName ? providerCells(target, cellsName) : 0;
    if (n === undefined) throw new DtError(`${node.path}: ${prop} target ${target.path} has no ${cellsName}`, { file });
    if (i + 1 + n > count)
      throw new DtError(`${node.path}: ${prop} ends inside the arguments of ${target.path} (needs ${n} cells)`, {
        file,
      });
    nodes.push(target);
    if (withArgs) {
      let args = noArgs;
      if (n) {
        args = new Array<number>(n);
        for (let k = 0; k < n; k++) args[k] = readU32(v, (i + 1 + k) * 4);
      }
      list.push({ node: target, args });
    }
    i += 1 + n;
  }
  // Exact sizes: a list built by push keeps room for 16 more, which at 100,000 nodes was most of
  // the simulator's memory.
  return { nodes: nodes.slice(), list: withArgs ? list.slice() : undefined };
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
