/**
 * The driver core as a discrete-event model: drivers/base/dd.c (probe, deferred lists, timeout),
 * drivers/base/core.c (fw_devlink blocking), drivers/iommu/of_iommu.c (IOMMU configuration of
 * bus masters), drivers/iommu/iommu.c (registration, groups). Rules cite the function mirrored.
 */
import { mapId, cells, isAvailable, type DeviceTree, type DtNode } from '@probelab/dt-compiler';
import type { DriverCoreParams } from './cmdline.js';
import type { Device, Driver, IommuInstance, SupplierLink } from './model.js';
import type { Bus, DriverInfo, KernelProfile } from './profile.js';
import { aliasMatches } from './profile.js';
import type { ProbeEvent } from './outcome.js';
import { probeBehaviours, type ProbeBehaviour } from './behaviours.js';
import { linksFor } from './fw-devlink.js';
import { matchKey, pciModalias, virtioModalias, type Board } from './board.js';
import { timerFireTime } from './timer-wheel.js';
import type { Hazard } from './hazards.js';

export interface CoreTiming {
  probeDuration: Record<string, number>;
  deferCost: number;
}

type ProbeResult = 'bound' | 'defer' | 'failed';

export class DriverCore {
  readonly devices: Device[] = [];
  readonly drivers: Driver[] = [];
  readonly iommus: IommuInstance[] = [];
  readonly links: SupplierLink[] = [];
  readonly events: ProbeEvent[] = [];
  readonly hazards: Hazard[] = [];
  /** Masters that gave up on an IOMMU node, to flag when that IOMMU registers after all. */
  private gaveUpOn = new Map<Device, DtNode>();
  now = 0;
  private lastDeferRule = '';

  // dd.c globals
  private deferredProbeEnable = false; // driver_deferred_probe_enable
  private initcallsDone = false;
  private timeout: number; // driver_deferred_probe_timeout
  private triggerCount = 0; // deferred_trigger_count
  private pending: Device[] = [];
  private active: Device[] = [];
  private workQueued = false;
  /** The deferred_probe_timeout_work timer: when it fires, or null when not pending. */
  timeoutTimerAt: number | null = null;
  private groupIds = new Set<number>();
  private virtioIds = new Set<number>();
  private devOrder = 0;
  private drvOrder = 0;

  constructor(
    readonly board: Board,
    readonly profile: KernelProfile,
    readonly params: DriverCoreParams,
    readonly timing: CoreTiming,
    private readonly ofDeclared: ReadonlySet<string>,
    private readonly behaviours: Record<string, ProbeBehaviour> = probeBehaviours,
  ) {
    this.timeout = params.deferredProbeTimeout;
  }

  private get tree(): DeviceTree {
    return this.board.tree;
  }

  private emit(e: Omit<ProbeEvent, 't'>): void {
    this.events.push({ t: round6(this.now), ...e });
  }

  // ---------------------------------------------------------------- devices and drivers

  /** core.c:device_add: fw_devlink links, then bus_probe_device (dd.c:__device_attach). */
  addDevice(spec: Omit<Device, 'driver' | 'canMatch' | 'list' | 'iommuGroup' | 'ignoredDependency' | 'order' | 'matchKey'>): Device {
    const dev: Device = {
      ...spec,
      matchKey: matchKey(spec.bus, spec.modalias, spec.node),
      driver: null,
      canMatch: false,
      list: null,
      iommuGroup: null,
      ignoredDependency: false,
      order: this.devOrder++,
    };
    this.devices.push(dev);
    this.links.push(...linksFor(dev, this.tree, this.profile.series, this.params, this.ofDeclared, this.profile.optionalBindings));
    this.deviceAttach(dev);
    return dev;
  }

  /** driver.c:driver_register: bus_add_driver -> driver_attach, then deferred_probe_extend_timeout. */
  registerDriver(info: DriverInfo): void {
    if (this.drivers.some((d) => d.info.name === info.name && d.info.bus === info.bus)) return;
    const drv: Driver = { info, order: this.drvOrder++ };
    this.drivers.push(drv);
    // dd.c:driver_attach -> __driver_attach for every device on the bus, in registration order.
    for (const dev of this.devicesOn(info.bus)) {
      if (dev.driver || !this.matches(drv, dev)) continue;
      this.driverProbeDevice(drv, dev);
    }
    this.extendTimeout();
  }

  private devicesOn(bus: Bus): Device[] {
    return this.devices.filter((d) => d.bus === bus).sort((a, b) => a.order - b.order);
  }

  /** The bus's match(): built-in drivers by the discovered match table, modules by modules.alias. */
  matches(drv: Driver, dev: Device): boolean {
    if (drv.info.bus !== dev.bus) return false;
    if (drv.info.builtin) return this.profile.builtinMatches.some((m) => m.bus === dev.bus && m.driver === drv.info.name && m.key === dev.matchKey);
    if (!dev.modalias || !drv.info.module) return false;
    return this.profile.moduleAliases.some((a) => a.module === drv.info.module && aliasMatches(a.pattern, dev.modalias!));
  }

  /** dd.c:__device_attach: try each driver of the bus in registration order; stop on bind or defer. */
  private deviceAttach(dev: Device): void {
    const drivers = this.drivers.filter((d) => d.info.bus === dev.bus).sort((a, b) => a.order - b.order);
    for (const drv of drivers) {
      if (dev.driver) return;
      if (!this.matches(drv, dev)) continue;
      const r = this.driverProbeDevice(drv, dev);
      if (r === 'bound' || r === 'defer') return; // __device_attach_driver: 0 or <0 stops the walk
    }
  }

  /** dd.c:driver_probe_device. */
  private driverProbeDevice(drv: Driver, dev: Device): ProbeResult {
    const tc = this.triggerCount;
    dev.canMatch = true; // dd.c:__driver_probe_device
    const r = this.reallyProbe(drv, dev);
    if (r === 'defer') {
      this.emit({ kind: 'probe-deferred', device: dev.id, driver: drv.info.name, rule: this.lastDeferRule });
      this.deferredAdd(dev);
      // A bind happened while this device probed: retry at once (the race re-trigger).
      if (tc !== this.triggerCount) this.trigger();
    }
    return r;
  }

  /** dd.c:really_probe. */
  private reallyProbe(drv: Driver, dev: Device): ProbeResult {
    // core.c:device_links_check_suppliers, first thing in really_probe.
    if (this.blockedBySupplier(dev)) {
      this.now += this.timing.deferCost;
      this.lastDeferRule = 'drivers/base/core.c:device_links_check_suppliers (a supplier link is not available)';
      return 'defer';
    }
    // bus->dma_configure: platform/amba -> of_dma_configure(dev->of_node); pci -> the host
    // bridge's node (pci-driver.c:pci_dma_configure). The virtio bus has none.
    const dma = this.dmaConfigure(dev, drv);
    if (dma === 'defer') {
      this.now += this.timing.deferCost;
      this.lastDeferRule = 'drivers/iommu/of_iommu.c:of_iommu_configure -> dd.c:driver_deferred_probe_check_state (-EPROBE_DEFER: IOMMU not registered yet)';
      return 'defer';
    }
    this.now += this.timing.probeDuration[drv.info.name] ?? 0.0002;
    this.runBehaviour(drv, dev);
    this.driverBound(dev, drv);
    return 'bound';
  }

  /** dd.c:driver_bound: links, deferred_del, then driver_deferred_probe_trigger(). */
  private driverBound(dev: Device, drv: Driver): void {
    dev.driver = drv.info.name;
    this.emit({ kind: 'bound', device: dev.id, driver: drv.info.name, rule: 'drivers/base/dd.c:driver_bound (then driver_deferred_probe_trigger)' });
    this.deferredDel(dev);
    this.trigger();
  }

  private runBehaviour(drv: Driver, dev: Device): void {
    const b = this.behaviours[drv.info.name];
    if (!b) return;
    if (b.kind === 'pci-host') {
      for (const f of this.board.pciFunctions) {
        const node = dev.node?.children.find((c) => pciDevfn(c) === f.slot << 3) ?? null;
        this.addDevice({
          id: `0000:00:${hex2(f.slot)}.0`, bus: 'pci', node, parent: dev,
          modalias: pciModalias(f),
          pci: { rid: f.slot << 3, host: dev.node! },
          ...(f.virtioId !== undefined ? { virtioId: f.virtioId, virtioVendor: f.subvendor } : {}),
        });
      }
    } else if (b.kind === 'virtio-transport' && dev.virtioId !== undefined) {
      let idx = 0;
      while (this.virtioIds.has(idx)) idx++;
      this.virtioIds.add(idx);
      this.addDevice({ id: `virtio${idx}`, bus: 'virtio', node: null, parent: dev, modalias: virtioModalias(dev.virtioId, dev.virtioVendor ?? 0x1af4), virtioId: dev.virtioId });
    } else if (b.kind === 'iommu') {
      const fwnode = b.fwnode === 'self' ? dev.node : dev.parent?.node ?? null;
      if (fwnode) this.registerIommu({ fwnode, driver: drv.info.name, device: dev });
    }
  }

  // ---------------------------------------------------------------- fw_devlink

  /** core.c:device_links_check_suppliers: a managed, non-relaxed link to an unbound supplier blocks. */
  private blockedBySupplier(dev: Device): boolean {
    if (this.params.fwDevlink === 'permissive' || this.params.fwDevlink === 'off') return false;
    return this.links.some((l) => l.consumer === dev && !l.relaxed && !this.deviceOf(l.supplierNode)?.driver);
  }

  private deviceOf(node: DtNode): Device | undefined {
    for (let n: DtNode | null = node; n; n = n.parent) {
      const d = this.devices.find((x) => x.node === n);
      if (d) return d;
    }
    return undefined;
  }

  /** core.c:fw_devlink_drivers_done: relax links whose supplier device exists but never matched. */
  private fwDevlinkDriversDoneNow(): void {
    for (const l of this.links) {
      const sup = this.deviceOf(l.supplierNode);
      if (sup && !sup.canMatch) l.relaxed = true;
    }
  }

  // ---------------------------------------------------------------- IOMMU

  /** of/device.c:of_dma_configure_id -> of_iommu.c:of_iommu_configure. */
  private dmaConfigure(dev: Device, drv: Driver): 'ok' | 'defer' {
    let target: DtNode | null = null;
    if (dev.bus === 'pci' && dev.pci) {
      const host = dev.pci.host;
      if (!host.properties.has('iommu-map')) return 'ok';
      const m = mapId(this.tree, host, 'iommu-map', dev.pci.rid);
      if (!m) {
        // of/base.c:of_map_id: "no iommu-map translation for id 0x%x on (null)"; no IOMMU.
        if (!dev.driver && !this.events.some((e) => e.kind === 'iommu-map-miss' && e.device === dev.id)) this.emit({ kind: 'iommu-map-miss', device: dev.id, value: dev.pci.rid, rule: 'drivers/of/base.c:of_map_id (no iommu-map entry covers the RID: no IOMMU)' });
        return 'ok';
      }
      target = m.target;
    } else if ((dev.bus === 'platform' || dev.bus === 'amba') && dev.node) {
      const iommus = cells(dev.node, 'iommus');
      if (!iommus) return 'ok';
      target = this.tree.byPhandle(iommus[0]!) ?? null;
      if (!target) return 'ok';
    } else {
      return 'ok';
    }
    if (!isAvailable(target)) return 'ok';
    const inst = this.iommus.find((i) => i.fwnode === target);
    if (inst) {
      this.attachToGroup(dev);
      return 'ok';
    }
    // of_iommu.c:of_iommu_xlate: no iommu_device registered for the fwnode ->
    // driver_deferred_probe_check_state(dev).
    const st = this.checkState();
    if (st === 'defer') return 'defer';
    // dd.c:driver_deferred_probe_check_state warns (prefix = driver name, dev->driver is set),
    // of_dma_configure_id swallows the error: the master probes without its IOMMU.
    dev.ignoredDependency = true;
    this.gaveUpOn.set(dev, target);
    this.emit({ kind: 'ignored-dependency', device: dev.id, driver: drv.info.name, rule: `drivers/base/dd.c:driver_deferred_probe_check_state (${st === 'enodev' ? '-ENODEV: !CONFIG_MODULES and initcalls done' : '-ETIMEDOUT: timeout is 0 and initcalls done'}); of_dma_configure_id goes on without the IOMMU` });
    return 'ok';
  }

  /** dd.c:driver_deferred_probe_check_state. */
  private checkState(): 'defer' | 'enodev' | 'etimedout' {
    if (!this.profile.modules && this.initcallsDone) return 'enodev';
    if (this.timeout === 0 && this.initcallsDone) return 'etimedout';
    return 'defer';
  }

  /** iommu.c:iommu_group_alloc_device: groups from an IDA, lowest free; "Adding to iommu group %d". */
  private attachToGroup(dev: Device): void {
    if (dev.iommuGroup !== null) return;
    let id = 0;
    while (this.groupIds.has(id)) id++;
    this.groupIds.add(id);
    dev.iommuGroup = id;
    this.emit({ kind: 'iommu-group', device: dev.id, value: id, rule: 'drivers/iommu/iommu.c:iommu_group_alloc_device (IDA, lowest free id)' });
  }

  /**
   * iommu.c:iommu_device_register -> bus_iommu_probe. DT masters get a usable fwspec only inside
   * their own of_iommu_configure, so masters already bound without the IOMMU are not replayed;
   * deferred masters attach on their next probe, which the IOMMU's own driver_bound triggers.
   */
  private registerIommu(inst: IommuInstance): void {
    this.iommus.push(inst);
    for (const [dev, node] of this.gaveUpOn) {
      if (node !== inst.fwnode || !dev.driver) continue;
      this.hazards.push({
        kind: 'bound-before-iommu', device: dev.id, t: round6(this.now),
        rule: 'drivers/iommu/iommu.c:iommu_device_register -> bus_iommu_probe (no fwspec: DT masters are not replayed)',
        detail: `bound untranslated by ${dev.driver} after the deferred-probe timeout; ${inst.driver} registered its IOMMU at ${round6(this.now)} s and did not attach it (DMA from it now faults or bypasses)`,
      });
    }
  }

  // ---------------------------------------------------------------- deferred probing

  /** dd.c:driver_deferred_probe_add: only devices that matched a driver; keeps position. */
  private deferredAdd(dev: Device): void {
    if (!dev.canMatch || dev.list) return;
    dev.list = 'pending';
    this.pending.push(dev);
  }

  private deferredDel(dev: Device): void {
    if (dev.list === 'pending') this.pending = this.pending.filter((d) => d !== dev);
    if (dev.list === 'active') this.active = this.active.filter((d) => d !== dev);
    dev.list = null;
  }

  /** dd.c:driver_deferred_probe_trigger: splice pending onto active and queue the work. */
  private trigger(): void {
    if (!this.deferredProbeEnable) return;
    this.triggerCount++;
    for (const d of this.pending) d.list = 'active';
    this.active.push(...this.pending);
    this.pending = [];
    this.workQueued = true;
  }

  /** dd.c:deferred_probe_work_func, run to its fixpoint (what flush_work waits for). */
  runDeferredWork(): void {
    while (this.workQueued) {
      this.workQueued = false;
      while (this.active.length) {
        const dev = this.active.shift()!;
        dev.list = null;
        this.deviceAttach(dev); // 6.1: bus_probe_device; 6.12: bus_probe_device_deferred
      }
    }
  }

  /** dd.c:deferred_probe_initcall, the late_initcall. */
  lateInitcall(): void {
    this.emit({ kind: 'late-initcall', device: null, rule: 'drivers/base/dd.c:deferred_probe_initcall (enable, two passes, arm the timer)' });
    this.deferredProbeEnable = true;
    this.trigger();
    this.runDeferredWork();
    this.initcallsDone = true;
    if (!this.profile.modules) this.fwDevlinkDriversDoneNow();
    this.trigger();
    this.runDeferredWork();
  }

  /** The end of deferred_probe_initcall: the only place the timer is armed. */
  armTimeout(): void {
    if (this.timeout > 0) this.timeoutTimerAt = timerFireTime(this.now, this.timeout * this.profile.hz, this.profile.hz);
  }

  /** dd.c:deferred_probe_extend_timeout: a pending timer is reset to now + timeout. */
  extendTimeout(): void {
    if (this.timeoutTimerAt !== null && this.timeoutTimerAt > this.now) {
      this.timeoutTimerAt = timerFireTime(this.now, this.timeout * this.profile.hz, this.profile.hz);
    }
  }

  /** dd.c:deferred_probe_timeout_work_func. */
  timeoutFire(): void {
    this.timeoutTimerAt = null;
    this.emit({ kind: 'timeout-fired', device: null, rule: 'drivers/base/dd.c:deferred_probe_timeout_work_func (timeout := 0, retry all)' });
    this.fwDevlinkDriversDoneNow();
    this.timeout = 0;
    this.trigger();
    this.runDeferredWork();
    for (const dev of this.pending) this.emit({ kind: 'deferred-pending', device: dev.id, rule: 'drivers/base/dd.c:deferred_probe_timeout_work_func ("deferred probe pending")' });
  }

  /** A module's init: register each of its drivers (kernel/module/main.c:do_init_module). */
  loadModule(module: string): void {
    this.emit({ kind: 'module-loaded', device: null, module, rule: 'kernel/module/main.c:do_init_module -> driver_register (driver_attach, deferred_probe_extend_timeout)' });
    for (const info of this.profile.drivers.filter((d) => d.module === module && !d.builtin)) this.registerDriver(info);
  }

  /** Hazards that only the state at capture shows. */
  captureHazards(): void {
    for (const dev of this.devices) {
      if (!this.deferredNow(dev)) continue;
      const timerLeft = this.timeoutTimerAt !== null;
      if (!timerLeft) {
        this.hazards.push({
          kind: 'deferred-forever', device: dev.id, t: round6(this.now),
          rule: this.timeout < 0 ? 'drivers/base/dd.c:deferred_probe_initcall (timeout < 0: the timer is never armed)' : 'drivers/base/dd.c:driver_deferred_probe_check_state (no timeout ends this wait)',
          detail: `still on the deferred list at capture, and nothing scheduled will end the wait`,
        });
      }
      for (const l of this.links.filter((x) => x.consumer === dev && !x.relaxed && !this.deviceOf(x.supplierNode))) {
        this.hazards.push({
          kind: 'missing-supplier', device: dev.id, t: round6(this.now),
          rule: 'drivers/base/core.c:fw_devlink_create_devlink (-EAGAIN: no supplier device, the fwnode link stays)',
          detail: `waits on ${l.supplierNode.path} (${l.binding}), which no device provides`,
        });
      }
    }
  }

  deferredNow(dev: Device): boolean {
    return dev.list === 'pending' || dev.list === 'active';
  }
}

function pciDevfn(node: DtNode): number | undefined {
  const r = cells(node, 'reg');
  return r ? (r[0]! >> 8) & 0xff : undefined;
}

const hex2 = (n: number): string => n.toString(16).padStart(2, '0');
const round6 = (t: number): number => Math.round(t * 1e6) / 1e6;
