/**
 * The device tree in memory (the role of dtc's livetree.c): nodes with their full paths,
 * properties as raw bytes, phandles and labels. Decoders live in decode.ts.
 */
export interface DtProperty {
  readonly name: string;
  readonly value: Uint8Array;
}

export interface DtNode {
  /** Node name with unit address, e.g. `pcie@10000000`; `` for the root. */
  readonly name: string;
  /** Full path, e.g. `/pcie@10000000`; `/` for the root. */
  readonly path: string;
  readonly parent: DtNode | null;
  readonly children: DtNode[];
  readonly properties: Map<string, DtProperty>;
}

/**
 * The decoders' caches (decode.ts) live on the objects they decode, under these keys. A node or a
 * property made by makeNode / makeProperty declares its slot from the start, so the cache
 * added later does not grow a property store on each of them (33 bytes an object, measured).
 */
export const decodedSlot: unique symbol = Symbol('decoded');
export const factsSlot: unique symbol = Symbol('nodeFacts');
const indexSlot: unique symbol = Symbol('nodeIndex');

/** A property as the DTB reader makes it. */
export function makeProperty(name: string, value: Uint8Array): DtProperty {
  return { name, value, [decodedSlot]: undefined } as DtProperty;
}

/** A node as the DTB reader makes it (no children or properties yet). */
export function makeNode(name: string, path: string, parent: DtNode | null): DtNode {
  return {
    name,
    path,
    parent,
    children: [],
    properties: new Map<string, DtProperty>(),
    [factsSlot]: undefined,
    [indexSlot]: -1,
  } as DtNode;
}

/**
 * The node's position in `tree.nodes`, or -1 when it is not that tree's (a node another tree was
 * built over since, or one never in a tree): per-run state of a large tree kept in arrays by this
 * index instead of maps keyed by node (a map lookup at 100,000 nodes is a cache miss or two).
 */
export function nodeIndex(tree: DeviceTree, node: DtNode): number {
  const i = (node as DtNode & { [indexSlot]: number })[indexSlot];
  return i >= 0 && tree.nodes[i] === node ? i : -1;
}

export interface DeviceTree {
  readonly root: DtNode;
  /** DTB header fields worth keeping. */
  readonly bootCpuId: number;
  readonly memoryReservations: ReadonlyArray<{ address: bigint; size: bigint }>;
  /** Every node, in depth-first (DTB) order. */
  readonly nodes: ReadonlyArray<DtNode>;
  byPath(path: string): DtNode | undefined;
  byPhandle(phandle: number): DtNode | undefined;
  /** Labels from `/__symbols__` (present when the DTB was compiled with `-@`). */
  byLabel(label: string): DtNode | undefined;
}

export function buildTree(root: DtNode, bootCpuId: number, rsv: Array<{ address: bigint; size: bigint }>): DeviceTree {
  const nodes: DtNode[] = [];
  const paths = new Map<string, DtNode>();
  const phandles = new Map<number, DtNode>();
  // Depth first, in document order, without recursion.
  const todo: DtNode[] = [root];
  while (todo.length) {
    const n = todo.pop()!;
    (n as DtNode & { [indexSlot]: number })[indexSlot] = nodes.length;
    nodes.push(n);
    paths.set(n.path, n);
    for (const key of ['phandle', 'linux,phandle']) {
      const p = n.properties.get(key);
      if (p && p.value.length === 4) phandles.set(readU32(p.value, 0), n);
    }
    for (let i = n.children.length - 1; i >= 0; i--) todo.push(n.children[i]!);
  }
  const symbols = paths.get('/__symbols__');
  return {
    root,
    bootCpuId,
    memoryReservations: rsv,
    nodes,
    byPath: (p) => paths.get(p === '' ? '/' : p),
    byPhandle: (h) => phandles.get(h),
    byLabel: (l) => {
      const prop = symbols?.properties.get(l);
      return prop ? paths.get(decodeString(prop.value)) : undefined;
    },
  };
}

export function readU32(b: Uint8Array, off: number): number {
  return ((b[off]! << 24) >>> 0) + (b[off + 1]! << 16) + (b[off + 2]! << 8) + b[off + 3]!;
}

function decodeString(b: Uint8Array): string {
  const end = b.indexOf(0);
  return new TextDecoder().decode(end < 0 ? b : b.subarray(0, end));
}
