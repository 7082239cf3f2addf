/**
 * fw_devlink: supplier links from the device tree (drivers/of/property.c:of_link_property,
 * drivers/base/core.c:fw_devlink_link_device), and whether a consumer may probe
 * (core.c:device_links_check_suppliers).
 */
import {
  compatible,
  isAvailable,
  linksOfNode,
  type DeviceTree,
  type DtNode,
  type KernelSeries,
  type SupplierBinding,
} from '@probelab/dt-compiler';
import type { DriverCoreParams } from './cmdline.js';
import type { Device, SupplierLink } from './model.js';
import type { Board } from './board.js';

/**
 * Supplier nodes of a consumer node, per binding (dt-compiler's linksOfNode: the table of
 * of/property.c). of_link_property skips `.optional` rows unless fw_devlink_is_strict()
 * (= strict && !permissive); nothing is parsed with fw_devlink=off (core.c:fw_devlink_link_device
 * returns early); post-init-providers links (6.12, FWLINK_FLAG_IGNORE) never block.
 */
type Supplier = { node: DtNode; binding: string; optional: boolean };
/** A series' binding rows, or the rows of a tree's own table (dt-compiler bindingsOfTree). */
export type BindingRows = KernelSeries | ReadonlyArray<SupplierBinding>;
const rowIds = new WeakMap<ReadonlyArray<SupplierBinding>, number>();
const rowsKey = (r: BindingRows): string => {
  if (typeof r === 'string') return r;
  let id = rowIds.get(r);
  if (id === undefined) rowIds.set(r, (id = nextRowId++));
  return `rows${id}`;
};
let nextRowId = 0;
/** Per node and per (rows, fw_devlink, strict, overrides): cycle detection and device_add both ask. */
const supplierCache = new WeakMap<DtNode, Map<string, Supplier[]>>();

export function supplierNodes(
  tree: DeviceTree,
  node: DtNode,
  series: BindingRows,
  params: DriverCoreParams,
  optionalOverride: Record<string, boolean> = {},
): Supplier[] {
  if (params.fwDevlink === 'off') return [];
  const key = `${rowsKey(series)}/${params.fwDevlink}/${params.fwDevlinkStrict}/${JSON.stringify(optionalOverride)}`;
  let perNode = supplierCache.get(node);
  if (!perNode) supplierCache.set(node, (perNode = new Map()));
  const hit = perNode.get(key);
  if (hit) return hit;
  const out = computeSuppliers(tree, node, series, params, optionalOverride);
  perNode.set(key, out);
  return out;
}

function computeSuppliers(
  tree: DeviceTree,
  node: DtNode,
  series: BindingRows,
  params: DriverCoreParams,
  optionalOverride: Record<string, boolean>,
): Supplier[] {
  const strict = params.fwDevlinkStrict && params.fwDevlink !== 'permissive';
  const optional = (b: { property: string; optional: boolean }): boolean => optionalOverride[b.property] ?? b.optional;
  return linksOfNode(tree, node, series)
    .filter((l) => l.consumer === node && !l.binding.ignore && (!optional(l.binding) || strict))
    .map((l) => ({ node: l.supplier, binding: l.property, optional: optional(l.binding) }));
}

/**
 * A device's supplier links, as core.c:fw_devlink_create_devlink would leave them: none to an
 * unavailable supplier (of/property.c:of_link_to_phandle), none to a node early init claimed
 * without a device ("Not linking %pfwf - might never become dev"), none to a descendant of the
 * consumer (of_link_to_phandle refuses a consumer that is an ancestor of its supplier).
 */
export function linksFor(
  dev: Device,
  tree: DeviceTree,
  series: BindingRows,
  params: DriverCoreParams,
  ofDeclared: ReadonlySet<string>,
  optionalOverride: Record<string, boolean> = {},
): SupplierLink[] {
  if (!dev.node) return [];
  const links: SupplierLink[] = [];
  for (const s of supplierNodes(tree, dev.node, series, params, optionalOverride)) {
    if (isAncestor(dev.node, s.node)) continue;
    if (!availablePath(s.node)) continue;
    if (claimedEarly(s.node, ofDeclared)) continue;
    links.push({ consumer: dev, supplierNode: s.node, binding: s.binding, optional: s.optional, relaxed: false });
  }
  return links;
}

function isAncestor(a: DtNode, b: DtNode): boolean {
  for (let n = b.parent; n; n = n.parent) if (n === a) return true;
  return false;
}

function availablePath(n: DtNode): boolean {
  for (let x: DtNode | null = n; x; x = x.parent) if (!isAvailable(x)) return false;
  return true;
}

/** The node or an ancestor was claimed by early init (OF_DECLARE: fwnode_dev_initialized). */
function claimedEarly(n: DtNode, ofDeclared: ReadonlySet<string>): boolean {
  if (!ofDeclared.size) return false;
  for (let x: DtNode | null = n; x; x = x.parent) if (compatible(x).some((c) => ofDeclared.has(c))) return true;
  return false;
}

/**
 * Dependency cycles among the board's device nodes, as fw_devlink finds them when it creates
 * links (drivers/base/core.c:__fw_devlink_relax_cycles, "Fixed dependency cycle(s) with", in
 * 6.12 and in 6.1.192 by backport; trees before the backport have fw_devlink_relax_cycle, which
 * kernels.ts:sourceFacts detects in the source): every link inside a strongly connected component is made
 * SYNC_STATE_ONLY and no longer orders probing. Returns consumer node -> supplier nodes whose
 * link is relaxed. Tarjan's algorithm, iterative.
 */
export function cycleEdges(
  board: Board,
  series: BindingRows,
  params: DriverCoreParams,
  ofDeclared: ReadonlySet<string>,
  optionalOverride: Record<string, boolean> = {},
): Map<DtNode, Set<DtNode>> {
  const out = new Map<DtNode, Set<DtNode>>();
  if (params.fwDevlink === 'off') return out;
  const deviceNodeOf = (n: DtNode): DtNode | null => {
    for (let x: DtNode | null = n; x; x = x.parent) if (board.deviceNodes.has(x)) return x;
    return null;
  };
  const edges = new Map<DtNode, DtNode[]>();
  for (const node of board.deviceNodes) {
    const sups: DtNode[] = [];
    for (const s of supplierNodes(board.tree, node, series, params, optionalOverride)) {
      if (isAncestor(node, s.node) || !availablePath(s.node) || claimedEarly(s.node, ofDeclared)) continue;
      const d = deviceNodeOf(s.node);
      if (d && d !== node && !isAncestor(d, node)) sups.push(d);
    }
    if (sups.length) edges.set(node, sups);
  }
  const index = new Map<DtNode, number>();
  const low = new Map<DtNode, number>();
  const onStack = new Set<DtNode>();
  const stack: DtNode[] = [];
  const comp = new Map<DtNode, number>();
  let counter = 0;
  let comps = 0;
  const sizes: number[] = [];
  for (const start of edges.keys()) {
    if (index.has(start)) continue;
    const work: Array<{ v: DtNode; i: number }> = [{ v: start, i: 0 }];
    index.set(start, counter);
    low.set(start, counter++);
    stack.push(start);
    onStack.add(start);
    while (work.length) {
      const top = work[work.length - 1]!;
      const succ = edges.get(top.v) ?? [];
      if (top.i < succ.length) {
        const w = succ[top.i++]!;
        if (!index.has(w)) {
          index.set(w, counter);
          low.set(w, counter++);
          stack.push(w);
          onStack.add(w);
          work.push({ v: w, i: 0 });
        } else if (onStack.has(w)) low.set(top.v, Math.min(low.get(top.v)!, index.get(w)!));
        continue;
      }
      work.pop();
      if (work.length) {
        const p = work[work.length - 1]!.v;
        low.set(p, Math.min(low.get(p)!, low.get(top.v)!));
      }
      if (low.get(top.v) === index.get(top.v)) {
        let size = 0;
        for (;;) {
          const w = stack.pop()!;
          onStack.delete(w);
          comp.set(w, comps);
          size++;
          if (w === top.v) break;
        }
        sizes.push(size);
        comps++;
      }
    }
  }
  for (const [con, sups] of edges) {
    const c = comp.get(con)!;
    if (sizes[c]! < 2) continue;
    for (const s of sups) {
      if (comp.get(s) !== c) continue;
      const set = out.get(con) ?? new Set<DtNode>();
      set.add(s);
      out.set(con, set);
    }
  }
  return out;
}
