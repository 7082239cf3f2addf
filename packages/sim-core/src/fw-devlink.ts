/**
 * fw_devlink: supplier links from the device tree (drivers/of/property.c:of_link_property,
 * drivers/base/core.c:fw_devlink_link_device), and whether a consumer may probe
 * (core.c:device_links_check_suppliers).
 */
import { linksOfNode, type DeviceTree, type DtNode, type KernelSeries } from '@probelab/dt-compiler';
import type { DriverCoreParams } from './cmdline.js';
import type { Device, SupplierLink } from './model.js';

/**
 * Supplier nodes of a consumer node, per binding (dt-compiler's linksOfNode: the table of
 * of/property.c). of_link_property skips `.optional` rows unless fw_devlink_is_strict()
 * (= strict && !permissive); nothing is parsed with fw_devlink=off (core.c:fw_devlink_link_device
 * returns early); post-init-providers links (6.12, FWLINK_FLAG_IGNORE) never block.
 */
export function supplierNodes(tree: DeviceTree, node: DtNode, series: KernelSeries, params: DriverCoreParams, optionalOverride: Record<string, boolean> = {}): Array<{ node: DtNode; binding: string; optional: boolean }> {
  if (params.fwDevlink === 'off') return [];
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
export function linksFor(dev: Device, tree: DeviceTree, series: KernelSeries, params: DriverCoreParams, ofDeclared: ReadonlySet<string>, optionalOverride: Record<string, boolean> = {}): SupplierLink[] {
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
  for (let x: DtNode | null = n; x; x = x.parent) {
    const st = x.properties.get('status');
    if (st) {
      const v = new TextDecoder().decode(st.value).replace(/\0.*$/, '');
      if (v !== 'okay' && v !== 'ok') return false;
    }
  }
  return true;
}

/** The node or an ancestor was claimed by early init (OF_DECLARE: fwnode_dev_initialized). */
function claimedEarly(n: DtNode, ofDeclared: ReadonlySet<string>): boolean {
  for (let x: DtNode | null = n; x; x = x.parent) {
    const compat = x.properties.get('compatible');
    if (compat && new TextDecoder().decode(compat.value).split('\0').some((c) => ofDeclared.has(c))) return true;
  }
  return false;
}
