/**
 * fw_devlink's device links, drivers/base/core.c: the links device_add makes from the supplier
 * nodes (fw_devlink_create_devlink, with both of its "not linking" branches: a supplier
 * of_link_to_phandle refuses, and one early init marked FWNODE_FLAG_INITIALIZED while its device
 * has no driver), the supplier check before a probe (device_links_check_suppliers), relaxing at
 * fw_devlink_drivers_done, cycles (__fw_devlink_relax_cycles, fw-devlink-cycles.ts), consumers of
 * a supplier that unbinds (device_links_unbind_consumers).
 */
import { bindingsOfTree, compatible, isAvailablePath, type DeviceTree, type DtNode } from '@probelab/dt-compiler';
import { busId } from './board.js';
import type { DriverCoreParams } from './cmdline.js';
import type { DriverCore } from './driver-core.js';
import { cycleEdges } from './fw-devlink-cycles.js';
import { claimedEarly, isAncestor, noOverrides, supplierNodes, type BindingRows } from './fw-devlink-suppliers.js';
import type { Device, SupplierLink } from './model.js';
import { push } from './multimap.js';
import { round6 } from './sim-time.js';

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
  optionalOverride: Record<string, boolean> = noOverrides,
): SupplierLink[] {
  if (!dev.node) return [];
  const links: SupplierLink[] = [];
  for (const s of supplierNodes(tree, dev.node, series, params, optionalOverride)) {
    if (isAncestor(dev.node, s.node)) continue;
    if (!isAvailablePath(s.node)) continue;
    if (claimedEarly(s.node, ofDeclared)) continue;
    links.push({
      consumer: dev,
      supplierNode: s.node,
      binding: s.binding,
      optional: s.optional,
      relaxed: false,
      supplier: null,
    });
  }
  return links;
}

export class FwDevlink {
  readonly links: SupplierLink[] = [];
  private readonly consumersOf = new Map<DtNode, SupplierLink[]>();
  /** fw_devlink cycles, found once over the board (core.c:__fw_devlink_relax_cycles). */
  private readonly cycles: Map<DtNode, Set<DtNode>>;
  private readonly bindingRows: BindingRows;

  constructor(private readonly core: DriverCore) {
    const { profile, params, board } = core;
    // The binding rows of the tree's own property.c when the profile has them, else the series'.
    this.bindingRows = profile.supplierTable ? bindingsOfTree(profile.supplierTable) : profile.series;
    this.cycles = cycleEdges(board, this.bindingRows, params, core.ofDeclared, profile.optionalBindings);
    for (const [con, sups] of this.cycles) {
      for (const sup of sups) {
        core.hazards.push({
          kind: 'cycle-broken',
          device: busId(con),
          t: 0,
          rule:
            (profile.fwDevlinkCycleRule ?? '__fw_devlink_relax_cycles') === '__fw_devlink_relax_cycles'
              ? 'drivers/base/core.c:fw_devlink_create_devlink -> __fw_devlink_relax_cycles ("Fixed dependency cycle(s) with")'
              : 'drivers/base/core.c:fw_devlink_relax_cycle (device_link_add found a cycle: links made SYNC_STATE_ONLY)',
          detail: `${con.path} and ${sup.path} depend on each other; the link from ${con.path} to ${sup.path} no longer orders probing`,
        });
      }
    }
  }

  /** core.c:device_add -> fw_devlink_link_device: the new device's links to its suppliers. */
  linkDevice(dev: Device): void {
    const c = this.core;
    const links = linksFor(dev, c.tree, this.bindingRows, c.params, c.ofDeclared, c.profile.optionalBindings);
    const inCycle = dev.node ? this.cycles.get(dev.node) : undefined;
    const kept: SupplierLink[] = [];
    for (const l of links) {
      // core.c:fw_devlink_create_devlink: no link to a supplier that early init marked
      // FWNODE_FLAG_INITIALIZED while its device has no driver ("dev might never probe").
      if (c.initialized.size) {
        const sup = c.deviceOf(l.supplierNode);
        if (sup && !sup.driver && sup.node && compatible(sup.node).some((x) => c.initialized.has(x))) continue;
      }
      if (inCycle?.has(this.deviceNodeOf(l.supplierNode))) l.relaxed = true;
      this.links.push(l);
      kept.push(l);
      push(this.consumersOf, l.supplierNode, l);
    }
    if (kept.length) dev.suppliers = kept.slice(); // its exact size: kept for every device
  }

  /** The node whose device a supplier node's device link points at (itself or its device ancestor). */
  private deviceNodeOf(node: DtNode): DtNode {
    for (let n: DtNode | null = node; n; n = n.parent) if (this.core.board.deviceNodes.has(n)) return n;
    return node;
  }

  /** The device a link points at: the supplier node's, or its nearest ancestor's (kept once it is the node's own). */
  private supplierOf(l: SupplierLink): Device | undefined {
    if (l.supplier) return l.supplier;
    const d = this.core.deviceOf(l.supplierNode);
    if (d && d.node === l.supplierNode) l.supplier = d;
    return d;
  }

  /** core.c:device_links_check_suppliers: a managed, non-relaxed link to an unbound supplier blocks. */
  blockedBySupplier(dev: Device): boolean {
    const c = this.core;
    if (c.params.fwDevlink === 'permissive' || c.params.fwDevlink === 'off') return false;
    for (const l of dev.suppliers) if (!l.relaxed && !this.supplierOf(l)?.driver) return true;
    return false;
  }

  /** A managed link orders the consumer after this supplier device. */
  linkedTo(dev: Device, supplier: Device): boolean {
    return dev.suppliers.some((l) => !l.relaxed && this.supplierOf(l) === supplier);
  }

  /** core.c:fw_devlink_drivers_done: relax links whose supplier device exists but never matched. */
  driversDone(): void {
    for (const l of this.links) {
      const sup = this.supplierOf(l);
      if (sup && !sup.canMatch) l.relaxed = true;
    }
  }

  /** The links whose supplier is this device (device_links_unbind_consumers walks them). */
  consumersOfDevice(dev: Device): SupplierLink[] {
    const out: SupplierLink[] = [];
    for (const [node, links] of this.consumersOf) if (this.core.deviceOf(node) === dev) out.push(...links);
    return out;
  }

  /** At capture: a deferred device's links to a supplier no device provides. */
  missingSupplierHazards(dev: Device): void {
    const c = this.core;
    for (const l of dev.suppliers.filter((x) => !x.relaxed && !this.supplierOf(x))) {
      c.hazards.push({
        kind: 'missing-supplier',
        device: dev.id,
        t: round6(c.now),
        rule: 'drivers/base/core.c:fw_devlink_create_devlink (-EAGAIN: no supplier device, the fwnode link stays)',
        detail: `waits on ${l.supplierNode.path} (${l.binding}), which no device provides`,
      });
    }
  }
}
