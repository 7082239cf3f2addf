/**
 * fw_devlink: supplier links from the device tree (drivers/of/property.c:of_link_property,
 * drivers/base/core.c:fw_devlink_link_device), and whether a consumer may probe
 * (core.c:device_links_check_suppliers).
 */
import { phandleList, idMap, supplierBindings, type DeviceTree, type DtNode, type KernelSeries } from '@probelab/dt-compiler';
import type { DriverCoreParams } from './cmdline.js';
import type { Device, SupplierLink } from './model.js';

/**
 * Supplier nodes of a consumer node, per binding. of/property.c:of_link_property skips
 * `.optional` rows unless fw_devlink_is_strict() (= strict && !permissive); nothing is parsed
 * with fw_devlink=off (core.c:fw_devlink_link_device returns early).
 */
export function supplierNodes(tree: DeviceTree, node: DtNode, series: KernelSeries, params: DriverCoreParams): Array<{ node: DtNode; binding: string; optional: boolean }> {
  if (params.fwDevlink === 'off') return [];
  const strict = params.fwDevlinkStrict && params.fwDevlink !== 'permissive';
  const out: Array<{ node: DtNode; binding: string; optional: boolean }> = [];
  for (const row of supplierBindings) {
    if (!row.series.includes(series)) continue;
    if (row.optional && !strict) continue;
    for (const prop of node.properties.keys()) {
      const hit = row.suffix ? prop.endsWith(row.property) && prop !== row.property : prop === row.property;
      if (!hit) continue;
      if (row.property === '-gpios' && prop.endsWith(',nr-gpios')) continue;
      let targets: DtNode[] = [];
      try {
        if (row.property === 'iommu-map') targets = idMap(tree, node, 'iommu-map').map((e) => e.target);
        else if (row.cells && !['interrupts', 'interrupt-map'].includes(row.property)) targets = phandleList(tree, node, prop, row.cells).map((p) => p.node);
        else if (row.property !== 'interrupts' && row.property !== 'interrupt-map') targets = phandleList(tree, node, prop, null).map((p) => p.node);
        else targets = interruptParents(tree, node, row.property);
      } catch {
        continue; // of/property.c: a property that does not parse yields no link
      }
      for (const t of targets) out.push({ node: t, binding: prop, optional: row.optional });
    }
  }
  return out;
}

function interruptParents(tree: DeviceTree, node: DtNode, prop: string): DtNode[] {
  if (prop === 'interrupt-map') {
    return []; // of/property.c:parse_interrupt_map: parents are interrupt controllers (OF_DECLARE on virt)
  }
  for (let n: DtNode | null = node; n; n = n.parent) {
    const ip = n.properties.get('interrupt-parent');
    if (ip && ip.value.length === 4) {
      const h = new DataView(ip.value.buffer, ip.value.byteOffset).getUint32(0);
      const t = tree.byPhandle(h);
      return t ? [t] : [];
    }
  }
  return [];
}

/**
 * A device's supplier links, as core.c:fw_devlink_create_devlink would leave them: none to an
 * unavailable supplier (of/property.c:of_link_to_phandle), none to a node early init claimed
 * without a device ("Not linking %pfwf - might never become dev"), none to a descendant of the
 * consumer (of_link_to_phandle refuses a consumer that is an ancestor of its supplier).
 */
export function linksFor(dev: Device, tree: DeviceTree, series: KernelSeries, params: DriverCoreParams, ofDeclared: ReadonlySet<string>): SupplierLink[] {
  if (!dev.node) return [];
  const links: SupplierLink[] = [];
  for (const s of supplierNodes(tree, dev.node, series, params)) {
    if (isAncestor(dev.node, s.node)) continue;
    if (!availablePath(s.node)) continue;
    const compat = s.node.properties.get('compatible');
    if (compat && new TextDecoder().decode(compat.value).split('\0').some((c) => ofDeclared.has(c))) continue;
    links.push({ consumer: dev, supplierNode: s.node, binding: s.binding, optional: s.optional, relaxed: false });
  }
  return links;
}

function isAncestor(a: DtNode, b: DtNode): boolean {
  for (let n = b.parent; n; n = n.parent) if (n === a) return true;
  return false;
}

function availablePath(n: DtNode): boolean {
  for (let x: DtNode | null = n; x; x = x.parent) {
    const st = x.properties.get('status');
    if (st) {
      const v = new TextDecoder().decode(st.value).replace(/\0.*$/, '');
      if (v !== 'okay' && v !== 'ok') return false;
    }
  }
  return true;
}
