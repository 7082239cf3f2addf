/**
 * The IOMMU core, drivers/iommu/iommu.c: registered instances (iommu_device_register /
 * _unregister, iommu_ops_from_fwnode), the one-driver restriction of trees that have it,
 * bus_set_iommu's bus ops owner (4.x, seed 002), adding a master to a group
 * (iommu_probe_device -> iommu_group_alloc_device, IDA ids), the module reference each attached
 * master holds (iommu_init_device), and bus_iommu_probe's replay at registration.
 */
import type { DtNode } from '@probelab/dt-compiler';
import type { DriverCore } from './driver-core.js';
import type { Device, Driver, IommuInstance } from './model.js';
import type { DriverInfo } from './profile.js';
import { round6 } from './sim-time.js';

export class IommuCore {
  readonly instances: IommuInstance[] = [];
  private readonly instanceByFwnode = new Map<DtNode, IommuInstance>();
  /** Which IOMMU instance each attached master went to (each holds a reference on its module). */
  private readonly attachedTo = new Map<Device, IommuInstance>();
  private readonly groupIds = new Set<number>();
  private lowestFreeGroup = 0;
  /** platform_bus_type's iommu_ops owner when a driver claimed them at init (seed 002). */
  private platformBusOps: string | null = null;
  /** iommu.c:iommu_buses[]->iommu_ops where the tree allows one IOMMU driver (6.1.192). */
  private busIommuDriver: string | null = null;
  /** Devices a failed of_iommu_configure left a fwspec on (kept apart: replayed at every
   *  registration, and a board has up to 100k devices). */
  private readonly staleFwspecs = new Set<Device>();

  constructor(private readonly core: DriverCore) {}

  /** drivers/iommu/iommu.c:iommu_ops_from_fwnode: the first registered instance for the fwnode (indexed: a board has thousands). */
  instanceFor(node: DtNode): IommuInstance | undefined {
    return this.instanceByFwnode.get(node);
  }

  /** ipmmu-vmsa before the 2017 fix: ipmmu_init() -> bus_set_iommu(&platform_bus_type) right
   *  after platform_driver_register, hardware or not (seed 002). */
  driverRegistered(info: DriverInfo): void {
    if (this.core.profile.busOpsAtInit?.includes(info.name) && !this.platformBusOps) this.platformBusOps = info.name;
  }

  /** A fwspec of_iommu_configure did not free (of-iommu.ts), for bus_iommu_probe to replay. */
  keepStaleFwspec(dev: Device, fwspec: IommuInstance): void {
    dev.staleFwspec = fwspec;
    this.staleFwspecs.add(dev);
  }

  /** The masters attached to an instance of one of the module's drivers (each holds a reference). */
  holders(module: string, driverModule: (driver: string) => string | null): Device[] {
    return [...this.attachedTo].filter(([, inst]) => driverModule(inst.driver) === module).map(([d]) => d);
  }

  /** The master joins its IOMMU (iommu.c:iommu_probe_device), through the bus's ops when a driver owns them. */
  probeDevice(dev: Device, inst: IommuInstance): void {
    const c = this.core;
    if (this.platformBusOps && (dev.bus === 'platform' || dev.bus === 'amba') && inst.driver !== this.platformBusOps) {
      // 4.14: of_iommu_configure took arm-smmu's ops from the fwnode, but adding the device went
      // through platform_bus_type->iommu_ops, which ipmmu_init() had claimed (seed 002).
      if (c.firstReport('foreign-bus-ops', dev.id)) {
        c.hazards.push({
          kind: 'foreign-bus-ops',
          device: dev.id,
          t: round6(c.now),
          rule: 'drivers/iommu/iommu.c:bus_set_iommu (first caller owns a bus; ipmmu_init claimed platform_bus_type at init, seed 002)',
          detail: `its IOMMU ${inst.device.id} is driven by ${inst.driver}, but platform devices are added through ${this.platformBusOps}'s ops: no group, no translation (crashes on 4.14)`,
        });
      }
      return;
    }
    this.attachToGroup(dev, inst);
  }

  /** iommu.c:iommu_group_alloc_device: groups from an IDA, lowest free; "Adding to iommu group %d". */
  private attachToGroup(dev: Device, inst: IommuInstance): void {
    if (dev.iommuGroup !== null) return;
    this.attachedTo.set(dev, inst);
    // IDA: lowest free id. Groups are never freed here, so the lowest free only moves up.
    while (this.groupIds.has(this.lowestFreeGroup)) this.lowestFreeGroup++;
    const id = this.lowestFreeGroup;
    this.groupIds.add(id);
    dev.iommuGroup = id;
    this.core.emit({
      kind: 'iommu-group',
      device: dev.id,
      value: id,
      rule: 'drivers/iommu/iommu.c:iommu_group_alloc_device (IDA, lowest free id)',
    });
  }

  /** iommu.c:iommu_device_register -EBUSY where the tree allows a single IOMMU driver. */
  registerRefused(drv: Driver, dev: Device): boolean {
    const c = this.core;
    if (c.behaviours[drv.info.name]?.kind !== 'iommu') return false;
    if (!(c.profile.singleIommuDriver ?? c.profile.series === '6.1')) return false;
    if (this.busIommuDriver === null || this.busIommuDriver === drv.info.name) return false;
    c.emit({
      kind: 'probe-failed',
      device: dev.id,
      driver: drv.info.name,
      value: -16,
      rule: 'drivers/iommu/iommu.c:iommu_device_register (-EBUSY: "Temporarily enforce global restriction to a single driver")',
    });
    c.hazards.push({
      kind: 'iommu-register-refused',
      device: dev.id,
      t: round6(c.now),
      rule: 'drivers/iommu/iommu.c:iommu_device_register (iommu_buses[0]->iommu_ops belongs to another driver: -EBUSY)',
      detail: `${drv.info.name} cannot register: ${this.busIommuDriver} registered first and owns the buses' IOMMU ops; its masters wait for it like for an IOMMU not probed yet`,
    });
    return true;
  }

  /**
   * iommu.c:iommu_device_register -> bus_iommu_probe. DT masters get a usable fwspec only inside
   * their own of_iommu_configure, so masters already bound without the IOMMU are not replayed;
   * deferred masters attach on their next probe, which the IOMMU's own driver_bound triggers.
   */
  register(inst: IommuInstance, afterRegister: string[] = [], xlateReadsLateState = false): void {
    this.instances.push(inst);
    if (!this.instanceByFwnode.has(inst.fwnode)) this.instanceByFwnode.set(inst.fwnode, inst);
    this.busIommuDriver ??= inst.driver;
    if (afterRegister.length) this.raceWindow(inst, afterRegister, xlateReadsLateState);
    this.replayStaleFwspecs(inst);
    this.boundBeforeIommu(inst);
  }

  /** iommu.c:iommu_device_unregister, from the driver's remove. */
  unregister(dev: Device): void {
    const i = this.instances.findIndex((x) => x.device === dev);
    if (i < 0) return;
    const [gone] = this.instances.splice(i, 1);
    this.instanceByFwnode.delete(gone!.fwnode);
    const next = this.instances.find((x) => x.fwnode === gone!.fwnode);
    if (next) this.instanceByFwnode.set(next.fwnode, next);
  }

  /**
   * iommu.c:iommu_device_register -> bus_iommu_probe -> __iommu_probe_device for every device of
   * the bus without a group: the driver's probe_device accepts a device whose stale fwspec (left
   * by a failed of_iommu_configure) names one of its instances, bound or not.
   */
  private replayStaleFwspecs(inst: IommuInstance): void {
    const c = this.core;
    for (const dev of [...this.staleFwspecs].sort((a, b) => a.order - b.order)) {
      const stale = dev.staleFwspec!;
      if (stale.driver !== inst.driver || dev.iommuGroup !== null || !this.instances.includes(stale)) continue;
      this.staleFwspecs.delete(dev);
      this.attachToGroup(dev, stale);
      if (dev.driver) {
        c.hazards.push({
          kind: 'attached-while-bound',
          device: dev.id,
          t: round6(c.now),
          rule: 'drivers/iommu/iommu.c:iommu_device_register -> bus_iommu_probe (a stale fwspec from the failed of_iommu_configure is replayed)',
          detail: `bound untranslated by ${dev.driver}, now added to IOMMU group ${dev.iommuGroup} of ${stale.device.id} when ${inst.device.id} registered: its DMA changed under a bound driver`,
        });
      }
    }
  }

  /**
   * The instance is visible to of_iommu_xlate from iommu_device_register, but its probe still
   * runs `afterRegister`: on a real kernel the deferred-probe work (another CPU) can configure a
   * waiting master against it now (seed 000). A device link (`iommus` mandatory) makes the
   * master wait for the IOMMU's bind instead.
   */
  private raceWindow(inst: IommuInstance, afterRegister: string[], xlateReadsLateState: boolean): void {
    const c = this.core;
    // Before deferred_probe_initcall the deferred work cannot run (driver_deferred_probe_trigger
    // returns early while !driver_deferred_probe_enable): no concurrent retry, no window.
    if (!c.deferred.enabled) return;
    for (const dev of c.deferred.listed()) {
      if (!c.ofIommu.iommuTargets(dev)?.includes(inst.fwnode)) continue;
      if (c.devlink.linkedTo(dev, inst.device)) continue;
      c.hazards.push({
        kind: 'iommu-race-window',
        device: dev.id,
        t: round6(c.now),
        rule: "drivers/iommu/iommu.c:iommu_device_register (inside the IOMMU driver's probe) ; dd.c:deferred_probe_work_func runs concurrently; no device link orders them (`iommus` is an optional fw_devlink binding)",
        detail: `waits for ${inst.device.id}; may be configured against it while ${inst.driver}'s probe still runs: ${afterRegister.join('; ')}${xlateReadsLateState ? ` — ${inst.driver}'s of_xlate/probe_device reads that state, so inside the window it fails with -ENODEV and the master binds untranslated although its IOMMU is there` : ''}`,
      });
    }
  }

  /** Masters that gave up on this IOMMU and bound without it are not attached now (no replay). */
  private boundBeforeIommu(inst: IommuInstance): void {
    const c = this.core;
    for (const [dev, node] of c.ofIommu.gaveUpOn) {
      if (node !== inst.fwnode || !dev.driver) continue;
      c.hazards.push({
        kind: 'bound-before-iommu',
        device: dev.id,
        t: round6(c.now),
        rule: 'drivers/iommu/iommu.c:iommu_device_register -> bus_iommu_probe (no fwspec: DT masters are not replayed)',
        detail: `bound untranslated by ${dev.driver}${c.profile.iommuSetup === 'device-add' ? ' (its DMA was set up when it was created)' : ' after the deferred-probe timeout'}; ${inst.driver} registered its IOMMU at ${round6(c.now)} s and did not attach it (DMA from it now faults or bypasses)`,
      });
    }
  }
}
