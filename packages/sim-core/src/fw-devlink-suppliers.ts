/**
 * fw_devlink's supplier nodes of a consumer node: drivers/of/property.c:of_link_property over
 * the node's properties (the supplier table, dt-compiler's linksOfNode), the `.optional` rows and
 * fw_devlink= / fw_devlink.strict (drivers/base/core.c:fw_devlink_link_device), and the suppliers
 * of/property.c:of_link_to_phandle refuses (unavailable, claimed early, the consumer's own
 * descendants).
 */
import {
  compatible,
  eachLinkOfNode,
  type DeviceTree,
  type DtNode,
  type KernelSeries,
  type SupplierBinding,
} from '@probelab/dt-compiler';
import type { DriverCoreParams } from './cmdline.js';

/**
 * Supplier nodes of a consumer node, per binding (dt-compiler's linksOfNode: the table of
 * of/property.c). of_link_property skips `.optional` rows unless fw_devlink_is_strict()
 * (= strict && !permissive); nothing is parsed with fw_devlink=off (core.c:fw_devlink_link_device
 * returns early); post-init-providers links (6.12, FWLINK_FLAG_IGNORE) never block.
 */
export type Supplier = { node: DtNode; binding: string; optional: boolean };
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
export const noOverrides: Record<string, boolean> = Object.freeze({}) as Record<string, boolean>;
const overrideKeys = new WeakMap<Record<string, boolean>, string>();
/** The overrides as a key, once per overrides object (every node of a board asks with the same one). */
function overrideKey(o: Record<string, boolean>): string {
  let k = overrideKeys.get(o);
  if (k === undefined) overrideKeys.set(o, (k = JSON.stringify(o)));
  return k;
}
/** The cache key of (rows, fw_devlink, strict, overrides), kept for the last combination asked. */
let last: { series: BindingRows; params: DriverCoreParams; override: Record<string, boolean>; key: string } | null =
  null;
function cacheKey(series: BindingRows, params: DriverCoreParams, override: Record<string, boolean>): string {
  if (last && last.series === series && last.params === params && last.override === override) return last.key;
  const key = `${rowsKey(series)}/${params.fwDevlink}/${params.fwDevlinkStrict}/${overrideKey(override)}`;
  last = { series, params, override, key };
  return key;
}
/**
 * Per node and per key: cycle detection and device_add both ask. Kept on the node (a symbol
 * key): one slot for the key a board's simulation uses, a map only when a node is asked under
 * several (a WeakMap of maps per node cost more memory than the devices at 100,000 nodes).
 */
const suppliersKey = Symbol('suppliers');
type SupplierSlot = { key: string; list: Supplier[]; more?: Map<string, Supplier[]> };

export function supplierNodes(
  tree: DeviceTree,
  node: DtNode,
  series: BindingRows,
  params: DriverCoreParams,
  optionalOverride: Record<string, boolean> = noOverrides,
): Supplier[] {
  if (params.fwDevlink === 'off') return [];
  const key = cacheKey(series, params, optionalOverride);
  const holder = node as DtNode & { [suppliersKey]?: SupplierSlot };
  const slot = holder[suppliersKey];
  if (slot) {
    if (slot.key === key) return slot.list;
    const hit = slot.more?.get(key);
    if (hit) return hit;
  }
  const out = computeSuppliers(tree, node, series, params, optionalOverride);
  if (!slot) holder[suppliersKey] = { key, list: out };
  else (slot.more ??= new Map()).set(key, out);
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
  const out: Supplier[] = [];
  eachLinkOfNode(tree, node, series, (consumer, supplier, property, binding) => {
    if (consumer !== node || binding.ignore) return;
    const opt = optional(binding);
    if (!opt || strict) out.push({ node: supplier, binding: property, optional: opt });
  });
  return out.slice(); // its exact size: kept for every node of the board
}

export function isAncestor(a: DtNode, b: DtNode): boolean {
  for (let n = b.parent; n; n = n.parent) if (n === a) return true;
  return false;
}

/** The node or an ancestor was claimed by early init (OF_DECLARE: fwnode_dev_initialized). */
export function claimedEarly(n: DtNode, ofDeclared: ReadonlySet<string>): boolean {
  if (!ofDeclared.size) return false;
  for (let x: DtNode | null = n; x; x = x.parent) if (compatible(x).some((c) => ofDeclared.has(c))) return true;
  return false;
}
