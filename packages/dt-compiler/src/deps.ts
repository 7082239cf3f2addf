/**
 * The supplier/consumer graph fw_devlink would build from a tree
 * (drivers/of/property.c:of_link_property over every property of every available node, as
 * core.c:fw_devlink_parse_fwtree does). Every link is listed, optional ones marked; whether a
 * link then blocks probing depends on fw_devlink=, .strict and the devices (sim-core).
 */
import { cells, phandleList, phandleNodes, idMap, compatible, isAvailablePath } from './decode.js';
import { supplierBindings, type KernelSeries, type SupplierBinding } from './bindings.js';
import type { DeviceTree, DtNode } from './tree.js';

export interface DtLink {
  consumer: DtNode;
  supplier: DtNode;
  property: string;
  binding: SupplierBinding;
}

/**
 * The property names a binding row claims, and their supplier nodes, for one node. `rows`: a
 * series' rows, or the rows a tree's own table has (bindingsOfTree).
 */
export function linksOfNode(
  tree: DeviceTree,
  node: DtNode,
  rows: KernelSeries | ReadonlyArray<SupplierBinding>,
): DtLink[] {
  const out: DtLink[] = [];
  eachLinkOfNode(tree, node, rows, (consumer, supplier, property, binding) =>
    out.push({ consumer, supplier, property, binding }),
  );
  return out;
}

/** linksOfNode's links one by one, none built (the simulator reads every node's once). */
export function eachLinkOfNode(
  tree: DeviceTree,
  node: DtNode,
  rows: KernelSeries | ReadonlyArray<SupplierBinding>,
  link: (consumer: DtNode, supplier: DtNode, property: string, binding: SupplierBinding) => void,
): void {
  const byName = rowsByName(rows);
  for (const prop of node.properties.keys()) {
    let candidates = byName.get(prop);
    if (!candidates) byName.set(prop, (candidates = rowsFor(tableOf(rows), prop)));
    // of_link_property: the first row that yields a supplier wins for this property.
    for (const b of candidates) {
      const sups = suppliers(tree, node, prop, b);
      if (sups === null) continue;
      let consumer = node;
      if (b.consumerIsPortParent) consumer = portParent(node) ?? node;
      for (const s of sups) link(consumer, s, prop, b);
      break;
    }
  }
}

const seriesTables = new Map<KernelSeries, ReadonlyArray<SupplierBinding>>();
const tableOf = (rows: KernelSeries | ReadonlyArray<SupplierBinding>): ReadonlyArray<SupplierBinding> => {
  if (typeof rows !== 'string') return rows;
  let t = seriesTables.get(rows);
  if (!t) seriesTables.set(rows, (t = supplierBindings.filter((b) => b.series.includes(rows))));
  return t;
};
/**
 * Per table, per property name: the rows whose name test can claim it, in table order (the
 * name test is all of a row's parser that does not read the value; of_link_property tries every
 * row on every property, which at 100,000 nodes is most of the work).
 */
const nameCaches = new WeakMap<object, Map<string, SupplierBinding[]>>();
const seriesNameCaches = new Map<KernelSeries, Map<string, SupplierBinding[]>>();
function rowsByName(rows: KernelSeries | ReadonlyArray<SupplierBinding>): Map<string, SupplierBinding[]> {
  if (typeof rows === 'string') {
    let m = seriesNameCaches.get(rows);
    if (!m) seriesNameCaches.set(rows, (m = new Map()));
    return m;
  }
  let m = nameCaches.get(rows);
  if (!m) nameCaches.set(rows, (m = new Map()));
  return m;
}
function rowsFor(table: ReadonlyArray<SupplierBinding>, prop: string): SupplierBinding[] {
  return table.filter((b) => {
    const p = b.parser;
    switch (p.kind) {
      case 'suffix':
        return prop.endsWith(b.property) && prop !== b.property && !(p.except && prop.endsWith(p.except));
      case 'gpio-compat':
        return prop === 'gpio' || prop === 'gpios';
      case 'interrupts':
        return prop === 'interrupts' || prop === 'interrupts-extended';
      default:
        return prop === b.property;
    }
  });
}

/** A parser's result, or null when the value does not parse or names no supplier (of_link_property moves on). */
function safe(f: () => DtNode[]): DtNode[] | null {
  try {
    const r = f();
    return r.length ? r : null;
  } catch {
    return null;
  }
}

/** A `<phandle args...>` list's nodes, or null as `safe` gives (the common case, without a closure). */
function listNodes(tree: DeviceTree, node: DtNode, prop: string, cellsName: string | null): DtNode[] | null {
  let list;
  try {
    list = phandleNodes(tree, node, prop, cellsName);
  } catch {
    return null;
  }
  return list.length ? list : null;
}

function suppliers(tree: DeviceTree, node: DtNode, prop: string, b: SupplierBinding): DtNode[] | null {
  const p = b.parser;
  switch (p.kind) {
    case 'simple':
      if (prop !== b.property) return null;
      return listNodes(tree, node, prop, p.cells);
    case 'suffix':
      if (!prop.endsWith(b.property) || prop === b.property || (p.except && prop.endsWith(p.except))) return null;
      return listNodes(tree, node, prop, p.cells);
    case 'gpio-compat':
      if ((prop !== 'gpio' && prop !== 'gpios') || node.properties.has('gpio-hog')) return null;
      return listNodes(tree, node, prop, '#gpio-cells');
    case 'iommu-map':
      if (prop !== 'iommu-map') return null;
      return safe(() => idMap(tree, node, 'iommu-map').map((e) => e.target));
    case 'interrupts':
      if (prop === 'interrupts-extended') return listNodes(tree, node, prop, '#interrupt-cells');
      if (prop !== 'interrupts') return null;
      return safe(() => {
        const parent = interruptParent(tree, node);
        return parent ? [parent] : [];
      });
    case 'interrupt-map':
      if (prop !== 'interrupt-map') return null;
      return safe(() => interruptMapParents(tree, node));
    case 'remote-endpoint': {
      if (prop !== 'remote-endpoint') return null;
      return safe(() => {
        const ep = phandleList(tree, node, prop, null)[0]?.node;
        const port = ep ? portParent(ep) : undefined;
        return port ? [port] : [];
      });
    }
  }
}

/** of/irq.c:of_irq_find_parent: `interrupt-parent` up the tree, else the parent node. */
function interruptParent(tree: DeviceTree, node: DtNode): DtNode | undefined {
  for (let n: DtNode | null = node; n; n = n.parent) {
    const ip = cells(n, 'interrupt-parent');
    if (ip) return tree.byPhandle(ip[0]!);
    if (n !== node && n.properties.has('interrupt-controller')) return n;
  }
  return undefined;
}

/** interrupt-map rows: child unit address, child specifier, parent phandle, parent address+specifier. */
function interruptMapParents(tree: DeviceTree, node: DtNode): DtNode[] {
  const map = cells(node, 'interrupt-map') ?? [];
  const addrCells = cells(node, '#address-cells')?.[0] ?? 0;
  const intCells = cells(node, '#interrupt-cells')?.[0] ?? 1;
  const out: DtNode[] = [];
  for (let i = 0; i < map.length;) {
    i += addrCells + intCells;
    const parent = tree.byPhandle(map[i++]!);
    if (!parent) break;
    out.push(parent);
    i += (cells(parent, '#address-cells')?.[0] ?? 0) + (cells(parent, '#interrupt-cells')?.[0] ?? 1);
  }
  return out;
}

/** of_graph_get_port_parent: the device node owning an endpoint (skipping port/ports). */
function portParent(ep: DtNode): DtNode | undefined {
  let n = ep.parent;
  while (n && /^(port|ports)(@.*)?$/.test(n.name)) n = n.parent;
  return n ?? undefined;
}

/** Every link in the tree, from every available node (in DTB order). */
export function supplierGraph(tree: DeviceTree, series: KernelSeries): DtLink[] {
  const out: DtLink[] = [];
  for (const n of tree.nodes) {
    if (!isAvailablePath(n)) continue;
    out.push(...linksOfNode(tree, n, series));
  }
  return out;
}

export function renderGraph(links: DtLink[], format: 'text' | 'json' | 'dot'): string {
  if (format === 'json') {
    return (
      JSON.stringify(
        links.map((l) => ({
          consumer: l.consumer.path,
          supplier: l.supplier.path,
          property: l.property,
          optional: l.binding.optional,
          ignore: !!l.binding.ignore,
        })),
        null,
        2,
      ) + '\n'
    );
  }
  if (format === 'dot') {
    const lines = ['digraph fw_devlink {', '  rankdir=LR;', '  node [shape=box, fontname="monospace"];'];
    const nodes = new Set<string>();
    for (const l of links) nodes.add(l.consumer.path).add(l.supplier.path);
    for (const n of [...nodes].sort()) lines.push(`  "${n}";`);
    for (const l of links) {
      const style = l.binding.optional ? ', style=dashed' : l.binding.ignore ? ', style=dotted' : '';
      lines.push(
        `  "${l.consumer.path}" -> "${l.supplier.path}" [label="${l.property}${l.binding.optional ? ' (optional)' : ''}"${style}];`,
      );
    }
    lines.push('}');
    return lines.join('\n') + '\n';
  }
  return (
    links
      .map(
        (l) =>
          `${l.consumer.path} -> ${l.supplier.path}  [${l.property}]${l.binding.optional ? ' optional' : ''}${l.binding.ignore ? ' ignored' : ''}${compatible(l.supplier)[0] ? `  (${compatible(l.supplier)[0]})` : ''}`,
      )
      .join('\n') + '\n'
  );
}
