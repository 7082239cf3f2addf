/**
 * Bus matching and the registries it walks: drivers/base/bus.c (bus_add_driver,
 * bus_for_each_drv / bus_for_each_dev order), each bus's match() (platform.c:platform_match ->
 * include/linux/of_device.h:of_driver_match_device; modules by modules.alias), and the device
 * indices the driver core looks devices up by (of_find_device_by_node).
 */
import { compatible, nodeIndex, type DeviceTree, type DtNode } from '@probelab/dt-compiler';
import type { Device, Driver } from './model.js';
import { push } from './multimap.js';
import { aliasRegExp, type Bus, type DriverInfo, type KernelProfile } from './profile.js';

export class BusMatch {
  /** Registered drivers, in registration order. */
  readonly drivers: Driver[] = [];
  private drvOrder = 0;
  // Indices (the model must stay near-linear on 100k devices).
  /** Devices by their node's index in the tree (dt-compiler nodeIndex); a map for a node not in it. */
  private readonly byIndex: Array<Device | undefined>;
  private readonly byOtherNode = new Map<DtNode, Device>();
  private readonly byBus = new Map<Bus, Device[]>();
  private readonly byCompat = new Map<string, Device[]>();
  private readonly driversByBus = new Map<Bus, Driver[]>();
  private readonly driverCompat = new Map<Driver, Set<string>>();
  /** Registered drivers by a compatible of their OF table, and the bus's drivers without one: __device_attach's walk visits only drivers whose match() can succeed. */
  private readonly driversByCompat = new Map<string, Driver[]>();
  private readonly nonOfDriversByBus = new Map<Bus, Driver[]>();
  private readonly aliasRe = new Map<string, RegExp>();

  constructor(
    private readonly profile: KernelProfile,
    private readonly tree: DeviceTree,
  ) {
    this.byIndex = new Array<Device | undefined>(tree.nodes.length).fill(undefined);
  }

  private byNode(node: DtNode): Device | undefined {
    const i = nodeIndex(this.tree, node);
    return i >= 0 ? this.byIndex[i] : this.byOtherNode.get(node);
  }

  /** A device added to its bus (device_add -> bus_add_device). */
  addDevice(dev: Device): void {
    if (dev.node) {
      const i = nodeIndex(this.tree, dev.node);
      if (i >= 0) this.byIndex[i] = dev;
      else this.byOtherNode.set(dev.node, dev);
    }
    push(this.byBus, dev.bus, dev);
    if (dev.node) for (const c of compatible(dev.node)) push(this.byCompat, c, dev);
  }

  /** Whether a node already has its device (of_platform_populate skips OF_POPULATED nodes). */
  hasDevice(node: DtNode): boolean {
    return this.byNode(node) !== undefined;
  }

  /** The device of a node, or of its nearest ancestor that has one. */
  deviceOf(node: DtNode): Device | undefined {
    for (let n: DtNode | null = node; n; n = n.parent) {
      const d = this.byNode(n);
      if (d) return d;
    }
    return undefined;
  }

  /** bus.c:bus_add_driver: a driver joins its bus's list; null when one of that name is there. */
  addDriver(info: DriverInfo): Driver | null {
    if (this.drivers.some((d) => d.info.name === info.name && d.info.bus === info.bus)) return null;
    const drv: Driver = { info, order: this.drvOrder++ };
    this.drivers.push(drv);
    push(this.driversByBus, info.bus, drv);
    if (info.ofCompatibles) {
      this.driverCompat.set(drv, new Set(info.ofCompatibles));
      for (const c of new Set(info.ofCompatibles)) push(this.driversByCompat, c, drv);
    } else push(this.nonOfDriversByBus, info.bus, drv);
    return drv;
  }

  /** bus.c:bus_remove_driver (driver_unregister). */
  removeDriver(drv: Driver): void {
    this.drivers.splice(this.drivers.indexOf(drv), 1);
    const list = this.driversByBus.get(drv.info.bus)!;
    list.splice(list.indexOf(drv), 1);
    for (const l of [...this.driversByCompat.values(), this.nonOfDriversByBus.get(drv.info.bus) ?? []])
      if (l.includes(drv)) l.splice(l.indexOf(drv), 1);
  }

  /** Devices driver_attach walks that could match: by compatible when the driver matches by OF. */
  candidatesFor(drv: Driver): Device[] {
    const compat = this.driverCompat.get(drv);
    if (!compat) return [...(this.byBus.get(drv.info.bus) ?? [])];
    const out = new Set<Device>();
    for (const c of compat) for (const d of this.byCompat.get(c) ?? []) if (d.bus === drv.info.bus) out.add(d);
    return [...out].sort((a, b) => a.order - b.order);
  }

  /**
   * The bus's drivers in registration order (bus_for_each_drv), less those whose OF table shares
   * no compatible with the device: their match() is false, so the walk would pass them by.
   */
  attachCandidates(dev: Device): Driver[] {
    const other = this.nonOfDriversByBus.get(dev.bus) ?? [];
    if (!dev.node) return other; // of_driver_match_device needs an of_node
    const compat = compatible(dev.node);
    if (compat.length === 1 && !other.length) return this.driversByCompat.get(compat[0]!) ?? [];
    const out = new Set<Driver>(other);
    for (const c of compat) for (const d of this.driversByCompat.get(c) ?? []) out.add(d);
    return [...out].sort((a, b) => a.order - b.order);
  }

  /**
   * The bus's match(). Drivers read from source match by OF (include/linux/of_device.h:of_driver_match_device:
   * any of the device's compatibles in the driver's table); otherwise built-in drivers by the
   * discovered match table and modules by modules.alias.
   */
  matches(drv: Driver, dev: Device): boolean {
    if (drv.info.bus !== dev.bus) return false;
    const compat = this.driverCompat.get(drv);
    if (compat) return dev.node !== null && compatible(dev.node).some((c) => compat.has(c));
    if (drv.info.builtin)
      return this.profile.builtinMatches.some(
        (m) => m.bus === dev.bus && m.driver === drv.info.name && m.key === dev.matchKey,
      );
    if (!dev.modalias || !drv.info.module) return false;
    return this.profile.moduleAliases.some(
      (a) => a.module === drv.info.module && this.alias(a.pattern).test(dev.modalias!),
    );
  }

  private alias(pattern: string): RegExp {
    let re = this.aliasRe.get(pattern);
    if (!re) {
      re = aliasRegExp(pattern);
      this.aliasRe.set(pattern, re);
    }
    return re;
  }
}
