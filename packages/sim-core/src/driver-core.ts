/**
 * The driver core as a discrete-event model: drivers/base/dd.c (probe, deferred lists, timeout),
 * drivers/base/core.c (fw_devlink blocking), drivers/iommu/of_iommu.c (IOMMU configuration of
 * bus masters), drivers/iommu/iommu.c (registration, groups). Rules cite the function mirrored.
 */
import {
  bindingsOfTree,
  mapId,
  cells,
  compatible,
  isAvailable,
  phandleList,
  type DeviceTree,
  type DtNode,
} from '@probelab/dt-compiler';
import type { DriverCoreParams } from './cmdline.js';
import type { Device, Driver, IommuInstance, SupplierLink } from './model.js';
import type { Bus, DriverInfo, KernelProfile } from './profile.js';
import { aliasRegExp } from './profile.js';
import type { ProbeEvent } from './outcome.js';
import { probeBehaviours, type ProbeBehaviour } from './behaviours.js';
import type { LabProbeTime } from './lab-devices.js';
import { linksFor, cycleEdges, type BindingRows } from './fw-devlink.js';
import { busId, matchKey, ofModalias, pciModalias, virtioModalias, type Board } from './board.js';
import { timerFireTime } from './timer-wheel.js';
import type { Hazard } from './hazards.js';

export interface CoreTiming {
  probeDuration: Record<string, number>;
  deferCost: number;
  defaultProbeDuration?: number;
}

type ProbeResult = 'bound' | 'defer' | 'failed';

/** A probe result the scenario (or a lab device's DT properties, lab-devices.ts) imposes on a
 *  device's driver, after DMA configuration; `value` is the error an 'error' probe returns. */
export interface ProbeFault {
  device: string;
  result: 'defer' | 'error';
  times: number;
  value?: number;
}

export class DriverCore {
  readonly devices: Device[] = [];
  readonly drivers: Driver[] = [];
  readonly iommus: IommuInstance[] = [];
  readonly links: SupplierLink[] = [];
  readonly events: ProbeEvent[] = [];
  readonly hazards: Hazard[] = [];
  /** Masters that gave up on an IOMMU node, to flag when that IOMMU registers after all. */
  private gaveUpOn = new Map<Device, DtNode>();
  /** Which IOMMU instance each attached master went to (each holds a reference on its module). */
  private attachedTo = new Map<Device, IommuInstance>();
  now = 0;
  private lastDeferRule = '';

  // dd.c globals
  private deferredProbeEnable = false; // driver_deferred_probe_enable
  private initcallsDone = false;
  private timeout: number; // driver_deferred_probe_timeout
  private triggerCount = 0; // deferred_trigger_count
  /** dd.c's deferred_probe_pending_list and _active_list: insertion-ordered sets (list_add_tail, list_del_init). */
  private pending = new Set<Device>();
  /** The active list as a queue; an entry counts only while its sequence number is current. */
  private active: Array<[Device, number]> = [];
  private activeHead = 0;
  private activeSeq = new Map<Device, number>();
  private seq = 0;
  private workQueued = false;
  /** The deferred_probe_timeout_work timer: when it fires, or null when not pending. */
  timeoutTimerAt: number | null = null;
  private groupIds = new Set<number>();
  private lowestFreeGroup = 0;
  private virtioIds = new Set<number>();
  private devOrder = 0;
  private drvOrder = 0;
  // Indices (the model must stay near-linear on 100k devices).
  private byNode = new Map<DtNode, Device>();
  private byBus = new Map<Bus, Device[]>();
  private byCompat = new Map<string, Device[]>();
  private driversByBus = new Map<Bus, Driver[]>();
  private driverCompat = new Map<Driver, Set<string>>();
  /** Registered drivers by a compatible of their OF table, and the bus's drivers without one: __device_attach's walk visits only drivers whose match() can succeed. */
  private driversByCompat = new Map<string, Driver[]>();
  private nonOfDriversByBus = new Map<Bus, Driver[]>();
  private linksOf = new Map<Device, SupplierLink[]>();
  private consumersOf = new Map<DtNode, SupplierLink[]>();
  private aliasRe = new Map<string, RegExp>();
  /** fw_devlink cycles, found once over the board (core.c:__fw_devlink_relax_cycles). */
  private cycles: Map<DtNode, Set<DtNode>>;
  /** platform_bus_type's iommu_ops owner when a driver claimed them at init (seed 002). */
  private platformBusOps: string | null = null;
  /** Modules whose probes run asynchronously (kernel/module/main.c: async_probe_requested). */
  private asyncModules = new Set<string>();
  /** Probes running in async workers (dd.c:__driver_attach_async_helper), by device. */
  private probing = new Set<Device>();
  /** Timed steps of async probes; simulate() runs them in time order with everything else. */
  readonly asyncSteps: Array<{ t: number; run: () => void }> = [];
  /** QEMU -smp: with one CPU an async probe (no preemption, PREEMPT_NONE) holds it to the end. */
  cpus = 1;
  /** The end of the last async probe when it holds the only CPU: the init cannot run before. */
  cpuBusyUntil = 0;
  /** The end of the last async probe: a module loaded without async_probe waits for it
   *  (kernel/module/main.c:do_init_module -> async_synchronize_full). */
  asyncUntil = 0;
  /** iommu.c:iommu_buses[]->iommu_ops where the tree allows one IOMMU driver (6.1.192). */
  private busIommuDriver: string | null = null;
  private faults = new Map<string, ProbeFault[]>();
  private readonly bindingRows: BindingRows;
  private staleFwspecs = new Set<Device>();
  private probeTimes = new Map<string, LabProbeTime>();
  private i2cAdapters = 0;
  private lastDeferred = new Map<Device, string>();
  private initialized: ReadonlySet<string>;

  constructor(
    readonly board: Board,
    readonly profile: KernelProfile,
    readonly params: DriverCoreParams,
    readonly timing: CoreTiming,
    private readonly ofDeclared: ReadonlySet<string>,
    private readonly behaviours: Record<string, ProbeBehaviour> = probeBehaviours,
  ) {
    this.timeout = params.deferredProbeTimeout;
    this.initialized = new Set(profile.fwnodeInitialized ?? []);
    // The binding rows of the tree's own property.c when the profile has them, else the series'.
    this.bindingRows = profile.supplierTable ? bindingsOfTree(profile.supplierTable) : profile.series;
    this.cycles = cycleEdges(board, this.bindingRows, params, ofDeclared, profile.optionalBindings);
    for (const [con, sups] of this.cycles) {
      for (const sup of sups) {
        this.hazards.push({
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

  /** Scenario-imposed probe results (a master whose probe fails and is retried; an IOMMU that fails for good). */
  setFaults(faults: ProbeFault[]): void {
    for (const f of faults) push(this.faults, f.device, { ...f });
  }

  /** Busy work a probe does beyond its driver's measured duration, per device (lab-devices.ts). */
  setProbeTimes(times: Map<string, LabProbeTime>): void {
    for (const [d, t] of times) this.probeTimes.set(d, t);
  }

  private get tree(): DeviceTree {
    return this.board.tree;
  }

  private emit(e: Omit<ProbeEvent, 't'>): void {
    this.events.push({ t: round6(this.now), ...e });
  }

  // ---------------------------------------------------------------- devices and drivers

  /** core.c:device_add: fw_devlink links, then bus_probe_device (dd.c:__device_attach). */
  addDevice(
    spec: Omit<Device, 'driver' | 'canMatch' | 'list' | 'iommuGroup' | 'ignoredDependency' | 'order' | 'matchKey'>,
  ): Device {
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
    if (dev.node) this.byNode.set(dev.node, dev);
    push(this.byBus, dev.bus, dev);
    if (dev.node) for (const c of compatible(dev.node)) push(this.byCompat, c, dev);
    const links = linksFor(
      dev,
      this.tree,
      this.bindingRows,
      this.params,
      this.ofDeclared,
      this.profile.optionalBindings,
    );
    for (const l of links) {
      // core.c:fw_devlink_create_devlink: no link to a supplier that early init marked
      // FWNODE_FLAG_INITIALIZED while its device has no driver ("dev might never probe").
      const sup = this.deviceOf(l.supplierNode);
      if (sup && !sup.driver && sup.node && compatible(sup.node).some((c) => this.initialized.has(c))) continue;
      if (this.cycles.get(dev.node!)?.has(this.deviceNodeOf(l.supplierNode))) l.relaxed = true;
      this.links.push(l);
      push(this.linksOf, dev, l);
      push(this.consumersOf, l.supplierNode, l);
    }
    // Before 4.12 (seeds 001, 004): of_platform_device_create -> of_dma_configure at device add.
    if (this.profile.iommuSetup === 'device-add') this.iommuAtDeviceAdd(dev);
    this.deviceAttach(dev);
    return dev;
  }

  /** The node whose device a supplier node's device link points at (itself or its device ancestor). */
  private deviceNodeOf(node: DtNode): DtNode {
    for (let n: DtNode | null = node; n; n = n.parent) if (this.board.deviceNodes.has(n)) return n;
    return node;
  }

  /** driver.c:driver_register: bus_add_driver -> driver_attach, then deferred_probe_extend_timeout. */
  registerDriver(info: DriverInfo): void {
    if (this.drivers.some((d) => d.info.name === info.name && d.info.bus === info.bus)) return;
    const drv: Driver = { info, order: this.drvOrder++ };
    this.drivers.push(drv);
    push(this.driversByBus, info.bus, drv);
    if (info.ofCompatibles) {
      this.driverCompat.set(drv, new Set(info.ofCompatibles));
      for (const c of new Set(info.ofCompatibles)) push(this.driversByCompat, c, drv);
    } else push(this.nonOfDriversByBus, info.bus, drv);
    // ipmmu-vmsa before the 2017 fix: ipmmu_init() -> bus_set_iommu(&platform_bus_type) right
    // after platform_driver_register, hardware or not (seed 002).
    if (this.profile.busOpsAtInit?.includes(info.name) && !this.platformBusOps) this.platformBusOps = info.name;
    // dd.c:driver_attach -> __driver_attach for every device on the bus, in registration order.
    for (const dev of this.candidatesFor(drv)) {
      if (dev.driver || this.probing.has(dev) || !this.matches(drv, dev)) continue;
      // __driver_attach: driver_allows_async_probing -> async_schedule_dev(__driver_attach_async_helper).
      if (info.module && this.asyncModules.has(info.module)) this.asyncProbe(drv, dev);
      else this.driverProbeDevice(drv, dev);
    }
    this.extendTimeout();
  }

  /** Devices driver_attach walks that could match: by compatible when the driver matches by OF. */
  private candidatesFor(drv: Driver): Device[] {
    const compat = this.driverCompat.get(drv);
    if (!compat) return [...(this.byBus.get(drv.info.bus) ?? [])];
    const out = new Set<Device>();
    for (const c of compat) for (const d of this.byCompat.get(c) ?? []) if (d.bus === drv.info.bus) out.add(d);
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

  /** dd.c:__device_attach: try each driver of the bus in registration order; stop on bind or defer. */
  private deviceAttach(dev: Device): void {
    for (const drv of this.attachCandidates(dev)) {
      if (dev.driver || this.probing.has(dev)) return;
      if (!this.matches(drv, dev)) continue;
      const r = this.driverProbeDevice(drv, dev);
      if (r === 'bound' || r === 'defer') return; // __device_attach_driver: 0 or <0 stops the walk
    }
  }

  /**
   * The bus's drivers in registration order (bus_for_each_drv), less those whose OF table shares
   * no compatible with the device: their match() is false, so the walk would pass them by.
   */
  private attachCandidates(dev: Device): Driver[] {
    const other = this.nonOfDriversByBus.get(dev.bus) ?? [];
    if (!dev.node) return other; // of_driver_match_device needs an of_node
    const compat = compatible(dev.node);
    if (compat.length === 1 && !other.length) return this.driversByCompat.get(compat[0]!) ?? [];
    const out = new Set<Driver>(other);
    for (const c of compat) for (const d of this.driversByCompat.get(c) ?? []) out.add(d);
    return [...out].sort((a, b) => a.order - b.order);
  }

  /** dd.c:driver_probe_device. */
  private driverProbeDevice(drv: Driver, dev: Device): ProbeResult {
    const tc = this.triggerCount;
    dev.canMatch = true; // dd.c:__driver_probe_device
    const r = this.reallyProbe(drv, dev);
    if (r === 'defer') {
      // Repeated identical deferrals are one event (the diff collapses repeats anyway).
      if (this.lastDeferred.get(dev) !== this.lastDeferRule)
        this.emit({ kind: 'probe-deferred', device: dev.id, driver: drv.info.name, rule: this.lastDeferRule });
      this.lastDeferred.set(dev, this.lastDeferRule);
      this.deferredAdd(dev);
      // A bind happened while this device probed: retry at once (the race re-trigger).
      if (tc !== this.triggerCount) this.trigger();
    }
    return r;
  }

  /**
   * A probe in an async worker (dd.c:__driver_attach_async_helper -> driver_probe_device), run
   * while the module's loader goes on (insmod ... async_probe=1: do_init_module skips
   * async_synchronize_full). Its supplier checks and DMA set-up happen when it starts; an IOMMU
   * driver's iommu_device_register() after the probe's own work, its instance ready only when the
   * probe's remaining work (afterRegister) is done — a master configured in between gets
   * -ENODEV from probe_device and runs untranslated (seed 000's window, on a real kernel only with
   * a second CPU); the bind at the end. Faults and other behaviours run as a synchronous probe.
   */
  private asyncProbe(drv: Driver, dev: Device): void {
    const b = this.behaviours[drv.info.name];
    if (
      (b && b.kind !== 'iommu') ||
      this.faults.get(dev.id)?.some((f) => f.times > 0) ||
      this.blockedBySupplier(dev) ||
      this.dmaConfigureWouldDefer(dev)
    ) {
      this.driverProbeDevice(drv, dev);
      return;
    }
    dev.canMatch = true;
    this.probing.add(dev);
    this.dmaConfigure(dev, drv); // really_probe -> dma_configure, when the worker starts
    const lab = this.probeTimes.get(dev.id);
    const start = this.now;
    const registered =
      start +
      (this.timing.probeDuration[drv.info.name] ?? this.timing.defaultProbeDuration ?? 0.0002) +
      (lab?.everyProbe ?? 0);
    const end = registered + (b?.kind === 'iommu' ? (lab?.afterRegister ?? 0) : 0);
    if (this.cpus === 1) this.cpuBusyUntil = Math.max(this.cpuBusyUntil, end);
    this.asyncUntil = Math.max(this.asyncUntil, end);
    if (b?.kind === 'iommu' && dev.node) {
      this.asyncSteps.push({
        t: registered,
        run: () => {
          this.registerIommu(
            { fwnode: dev.node!, driver: drv.info.name, device: dev, readyAt: end },
            [...(b.afterRegister ?? []), ...(lab?.window ?? [])],
            b.xlateReadsLateState || !!lab?.window,
          );
        },
      });
    }
    this.asyncSteps.push({
      t: end,
      run: () => {
        this.probing.delete(dev);
        const inst = this.iommus.find((i) => i.device === dev);
        if (inst) delete inst.readyAt;
        this.driverBound(dev, drv);
      },
    });
    this.asyncSteps.sort((x, y) => x.t - y.t);
  }

  /** Whether of_iommu_configure would defer now (no side effects). */
  private dmaConfigureWouldDefer(dev: Device): boolean {
    const targets = this.iommuTargets(dev, true);
    return !!targets && targets.some((t) => !this.instanceFor(t)) && this.checkState() === 'defer';
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
    const dma = this.profile.iommuSetup === 'device-add' ? 'ok' : this.dmaConfigure(dev, drv);
    if (dma === 'defer') {
      this.now += this.timing.deferCost;
      this.lastDeferRule =
        'drivers/iommu/of_iommu.c:of_iommu_configure -> dd.c:driver_deferred_probe_check_state (-EPROBE_DEFER: IOMMU not registered yet)';
      return 'defer';
    }
    // Resources the probe path takes whether or not a device link ordered it (a relaxed or
    // missing link lets it probe first): the bus's power domain, a lab master's clocks/resets.
    const res = this.missingResource(dev, drv);
    if (res) {
      this.now += this.timing.deferCost;
      if (res.result === 'defer') {
        this.lastDeferRule = res.rule;
        return 'defer';
      }
      // dd.c:driver_deferred_probe_check_state warns before returning its error ("deferred probe
      // timeout, ignoring dependency" / "ignoring dependency for device, assuming no driver",
      // seen on real 6.12 boots of boards/lab/relaxed-links-timeout and on the Rock Pi 4B log of
      // test/fixtures/boot-logs); genpd passes the error on and the probe fails with it.
      dev.ignoredDependency = true;
      this.emit({ kind: 'ignored-dependency', device: dev.id, driver: drv.info.name, rule: res.rule });
      this.emit({ kind: 'probe-failed', device: dev.id, driver: drv.info.name, value: res.errno, rule: res.rule });
      return 'failed';
    }
    this.now += this.timing.probeDuration[drv.info.name] ?? this.timing.defaultProbeDuration ?? 0.0002;
    this.now += this.probeTimes.get(dev.id)?.everyProbe ?? 0;
    const fault = this.faults.get(dev.id)?.find((f) => f.times > 0);
    if (fault) {
      fault.times--;
      // dd.c:really_probe, probe_failed: the bus's dma_cleanup runs, but the IOMMU group the
      // device joined in of_iommu_configure stays until the device is removed (seed 004).
      if (fault.result === 'defer') {
        this.lastDeferRule = `${drv.info.name}'s probe returned -EPROBE_DEFER (a scenario fault, or probelab,defer-count); dd.c:really_probe keeps its IOMMU group`;
        return 'defer';
      }
      this.emit({
        kind: 'probe-failed',
        device: dev.id,
        driver: drv.info.name,
        value: fault.value ?? -19,
        rule: 'drivers/base/dd.c:really_probe (probe failed: not on the deferred list, not retried until a new driver matches)',
      });
      if (dev.iommuGroup !== null) {
        this.hazards.push({
          kind: 'group-after-failed-probe',
          device: dev.id,
          t: round6(this.now),
          rule: 'drivers/base/dd.c:really_probe (probe_failed: bus dma_cleanup only) ; drivers/iommu/iommu.c:iommu_init_device (module reference until iommu_release_device)',
          detail: `probe failed for good but the device stays in IOMMU group ${dev.iommuGroup} and pins its IOMMU driver's module`,
        });
      }
      return 'failed';
    }
    if (this.registerRefused(drv, dev)) return 'failed';
    this.runBehaviour(drv, dev);
    this.driverBound(dev, drv);
    return 'bound';
  }

  /**
   * iommu.c:iommu_device_register in a tree that allows one IOMMU driver: another driver's
   * registration returns -EBUSY, and the driver's probe fails with it ("probe of %s returned -16").
   */
  private registerRefused(drv: Driver, dev: Device): boolean {
    if (this.behaviours[drv.info.name]?.kind !== 'iommu') return false;
    if (!(this.profile.singleIommuDriver ?? this.profile.series === '6.1')) return false;
    if (this.busIommuDriver === null || this.busIommuDriver === drv.info.name) return false;
    this.emit({
      kind: 'probe-failed',
      device: dev.id,
      driver: drv.info.name,
      value: -16,
      rule: 'drivers/iommu/iommu.c:iommu_device_register (-EBUSY: "Temporarily enforce global restriction to a single driver")',
    });
    this.hazards.push({
      kind: 'iommu-register-refused',
      device: dev.id,
      t: round6(this.now),
      rule: 'drivers/iommu/iommu.c:iommu_device_register (iommu_buses[0]->iommu_ops belongs to another driver: -EBUSY)',
      detail: `${drv.info.name} cannot register: ${this.busIommuDriver} registered first and owns the buses' IOMMU ops; its masters wait for it like for an IOMMU not probed yet`,
    });
    return true;
  }

  /**
   * What the probe path gets from providers, checked when it runs (not through device links):
   * - platform.c:platform_probe and amba's amba_probe -> dev_pm_domain_attach -> genpd (pmdomain/core.c, 6.1's
   *   base/power/domain.c):__genpd_dev_pm_attach: no provider registered ->
   *   driver_deferred_probe_check_state: -EPROBE_DEFER, after the timeout -ETIMEDOUT (a failed
   *   probe, "failed with error -110");
   * - probelab_master.c:probelab_master_probe: devm_clk_bulk_get_all and
   *   devm_reset_control_array_get_optional_exclusive: -EPROBE_DEFER while a provider is missing.
   * A provider is there when its device is bound, or when early init provides it without one
   * (OF_DECLARE'd clocks, fwnodeInitialized providers).
   */
  private missingResource(
    dev: Device,
    drv: Driver,
  ): { result: 'defer'; rule: string } | { result: 'fail'; errno: number; rule: string } | null {
    const node = dev.node;
    if (!node || (dev.bus !== 'platform' && dev.bus !== 'amba')) return null;
    const early = (n: DtNode): boolean => compatible(n).some((c) => this.ofDeclared.has(c) || this.initialized.has(c));
    const absent = (prop: string, cellsName: string): DtNode | undefined => {
      for (const p of phandleList(this.tree, node, prop, cellsName)) {
        const provider = this.deviceOf(p.node);
        if (!early(p.node) && !provider?.driver) return p.node;
      }
      return undefined;
    };
    // genpd_dev_pm_attach handles a single domain only (several are the driver's to attach).
    const pd =
      phandleList(this.tree, node, 'power-domains', '#power-domain-cells').length === 1
        ? absent('power-domains', '#power-domain-cells')
        : undefined;
    if (pd) {
      const st = this.checkState();
      return st === 'defer'
        ? {
            result: 'defer',
            rule: `drivers/pmdomain/core.c:__genpd_dev_pm_attach (no PM domain provider for ${pd.path} yet) -> dd.c:driver_deferred_probe_check_state`,
          }
        : st === 'enodev'
          ? {
              result: 'fail',
              errno: -19,
              rule: `drivers/pmdomain/core.c:__genpd_dev_pm_attach -> dd.c:driver_deferred_probe_check_state (-ENODEV: !CONFIG_MODULES and initcalls done; ${pd.path} provides no power domain)`,
            }
          : {
              result: 'fail',
              errno: -110,
              rule: `drivers/pmdomain/core.c:__genpd_dev_pm_attach -> dd.c:driver_deferred_probe_check_state (-ETIMEDOUT: ${pd.path} never provided its power domain)`,
            };
    }
    if (drv.info.name === 'probelab-master') {
      const clk = absent('clocks', '#clock-cells') ?? absent('resets', '#reset-cells');
      if (clk)
        return {
          result: 'defer',
          rule: `qemu/lab/probelab/probelab_master.c:probelab_master_probe (devm_clk_bulk_get_all / reset get: ${clk.path} has not registered its provider, -EPROBE_DEFER)`,
        };
    }
    return null;
  }

  /** dd.c:driver_bound: links, deferred_del, then driver_deferred_probe_trigger(). */
  private driverBound(dev: Device, drv: Driver): void {
    dev.driver = drv.info.name;
    this.emit({
      kind: 'bound',
      device: dev.id,
      driver: drv.info.name,
      rule: 'drivers/base/dd.c:driver_bound (then driver_deferred_probe_trigger)',
    });
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
          id: `0000:00:${hex2(f.slot)}.0`,
          bus: 'pci',
          node,
          parent: dev,
          modalias: pciModalias(f),
          pci: { rid: f.slot << 3, host: dev.node! },
          ...(f.virtioId !== undefined ? { virtioId: f.virtioId, virtioVendor: f.subvendor } : {}),
        });
      }
    } else if (b.kind === 'virtio-transport' && dev.virtioId !== undefined) {
      let idx = 0;
      while (this.virtioIds.has(idx)) idx++;
      this.virtioIds.add(idx);
      this.addDevice({
        id: `virtio${idx}`,
        bus: 'virtio',
        node: null,
        parent: dev,
        modalias: virtioModalias(dev.virtioId, dev.virtioVendor ?? 0x1af4),
        virtioId: dev.virtioId,
      });
    } else if (b.kind === 'iommu') {
      const fwnode = b.fwnode === 'self' ? dev.node : (dev.parent?.node ?? null);
      // probelab,register-before-ready: the lab IOMMU's probe_device reads `ready`, set after registering.
      const lab = this.probeTimes.get(dev.id)?.window;
      if (fwnode)
        this.registerIommu(
          { fwnode, driver: drv.info.name, device: dev },
          [...(b.afterRegister ?? []), ...(lab ?? [])],
          b.xlateReadsLateState || !!lab,
        );
      // What the probe still does after registering (probelab,register-before-ready).
      this.now += this.probeTimes.get(dev.id)?.afterRegister ?? 0;
    } else if (b.kind === 'children' && dev.node) {
      this.addChildren(dev, b.bus);
    }
  }

  /**
   * Child devices a probe creates: of_platform_populate (platform; of/platform.c, same rules as at
   * boot), of_i2c_register_devices ("<adapter nr>-<addr %04x>", i2c-core-base.c:i2c_dev_set_name;
   * the adapter number is its `i2cN` alias, else the next free), of_register_spi_devices
   * ("spi<bus>.<cs>", spi.c:spi_dev_set_name).
   */
  private addChildren(dev: Device, bus: 'platform' | 'i2c' | 'spi'): void {
    const node = dev.node!;
    if (bus === 'platform') {
      for (const child of node.children) {
        if (!compatible(child).length || !isAvailable(child) || this.byNode.has(child)) continue;
        if (compatible(child).some((c) => this.ofDeclared.has(c))) continue;
        this.addDevice({ id: busId(child), bus: 'platform', node: child, parent: dev, modalias: ofModalias(child) });
      }
      return;
    }
    const alias = this.aliasIndex(node, bus === 'i2c' ? 'i2c' : 'spi');
    const nr = alias ?? (bus === 'i2c' ? 100 + this.i2cAdapters++ : 100 + this.i2cAdapters++);
    for (const child of node.children) {
      if (!compatible(child).length || !isAvailable(child) || this.byNode.has(child)) continue;
      const r = cells(child, 'reg')?.[0] ?? 0;
      const id = bus === 'i2c' ? `${nr}-${r.toString(16).padStart(4, '0')}` : `spi${nr}.${r}`;
      this.addDevice({ id, bus, node: child, parent: dev, modalias: ofModalias(child) });
    }
  }

  private aliasIndex(node: DtNode, stem: string): number | null {
    const aliases = this.tree.root.children.find((c) => c.name === 'aliases');
    if (!aliases) return null;
    for (const [name, p] of aliases.properties) {
      const m = new RegExp(`^${stem}(\\d+)$`).exec(name);
      if (m && new TextDecoder().decode(p.value).replace(/\0.*$/s, '') === node.path) return Number(m[1]);
    }
    return null;
  }

  // ---------------------------------------------------------------- fw_devlink

  /** core.c:device_links_check_suppliers: a managed, non-relaxed link to an unbound supplier blocks. */
  private blockedBySupplier(dev: Device): boolean {
    if (this.params.fwDevlink === 'permissive' || this.params.fwDevlink === 'off') return false;
    return (this.linksOf.get(dev) ?? []).some((l) => !l.relaxed && !this.deviceOf(l.supplierNode)?.driver);
  }

  deviceOf(node: DtNode): Device | undefined {
    for (let n: DtNode | null = node; n; n = n.parent) {
      const d = this.byNode.get(n);
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

  /**
   * The IOMMU nodes a master's DMA goes through, or null when none is declared (case 1 of seed
   * 001). DT masters: every `iommus` entry (of_iommu.c:of_iommu_configure_device iterates them
   * all: a master behind several Exynos SYSMMUs needs each). PCI: the host's `iommu-map` for
   * the RID (pci_for_each_dma_alias -> of_pci_iommu_init -> of_map_id).
   */
  iommuTargets(dev: Device, quiet = false): DtNode[] | null {
    if (dev.bus === 'pci' && dev.pci) {
      const host = dev.pci.host;
      if (!host.properties.has('iommu-map')) return null;
      const m = mapId(this.tree, host, 'iommu-map', dev.pci.rid);
      if (!m) {
        // of/base.c:of_map_id: "no iommu-map translation for id 0x%x on (null)"; no IOMMU.
        if (!quiet && !dev.driver && !this.events.some((e) => e.kind === 'iommu-map-miss' && e.device === dev.id))
          this.emit({
            kind: 'iommu-map-miss',
            device: dev.id,
            value: dev.pci.rid,
            rule: 'drivers/of/base.c:of_map_id (no iommu-map entry covers the RID: no IOMMU)',
          });
        return null;
      }
      return [m.target];
    }
    if ((dev.bus === 'platform' || dev.bus === 'amba') && dev.node && dev.node.properties.has('iommus')) {
      const list = phandleList(this.tree, dev.node, 'iommus', '#iommu-cells').map((p) => p.node);
      // of_iommu_xlate: an unavailable IOMMU node is -ENODEV, and the master runs without one.
      return list.length && list.every(isAvailable) ? list : null;
    }
    return null;
  }

  /** drivers/iommu/iommu.c:iommu_ops_from_fwnode: the first registered instance for the fwnode (indexed: a board has thousands). */
  private instanceFor(node: DtNode): IommuInstance | undefined {
    return this.instanceByFwnode.get(node);
  }
  private readonly instanceByFwnode = new Map<DtNode, IommuInstance>();

  /**
   * of/device.c:of_dma_configure_id -> of_iommu.c:of_iommu_configure, which walks the `iommus`
   * entries in order (of_iommu_configure_device -> of_iommu_xlate -> iommu_fwspec_init). The
   * first entry makes the device's fwspec; a later entry must name an IOMMU of the same ops.
   * An entry whose IOMMU has not registered defers, except where the tree compares the fwspec
   * first (fwspecInitDefersFirst false, 6.1.192): after an earlier entry made the fwspec, it
   * fails with -EINVAL, and of_dma_configure_id lets the master probe without its IOMMU.
   */
  private dmaConfigure(dev: Device, drv: Driver): 'ok' | 'defer' {
    const targets = this.iommuTargets(dev);
    if (!targets) return 'ok';
    const defersFirst = this.profile.fwspecInitDefersFirst ?? this.profile.series !== '6.1';
    let fwspec: IommuInstance | null = null;
    for (const t of targets) {
      const inst = this.instanceFor(t) ?? null;
      if (!inst && (defersFirst || !fwspec)) break; // the -EPROBE_DEFER path below
      if (fwspec && (!inst || inst.driver !== fwspec.driver)) return this.configureFailed(dev, fwspec, t);
      fwspec ??= inst;
    }
    const missing = targets.filter((t) => !this.instanceFor(t));
    if (!missing.length) {
      // Registered, but its driver's probe has not finished setting it up (an async probe inside
      // its register-before-ready window): probe_device answers -ENODEV, of_iommu_configure fails,
      // of_dma_configure_id goes on without an IOMMU.
      const early = targets
        .map((t) => this.instanceFor(t)!)
        .find((i) => i.readyAt !== undefined && i.readyAt > this.now);
      if (early) {
        this.hazards.push({
          kind: 'configured-in-window',
          device: dev.id,
          t: round6(this.now),
          rule: "drivers/iommu/iommu.c:iommu_device_register (inside the IOMMU driver's probe) -> of_iommu.c:of_iommu_configure -> iommu_probe_device (-ENODEV from probe_device)",
          detail: `configured against ${early.device.id} ${round6(early.readyAt! - this.now)} s before its driver's probe finished; bound untranslated although its IOMMU is there`,
        });
        return 'ok';
      }
      this.attach(dev, targets);
      return 'ok';
    }
    // of_iommu.c:of_iommu_xlate: no iommu_device registered for the fwnode ->
    // driver_deferred_probe_check_state(dev).
    const st = this.checkState();
    if (st === 'defer') return 'defer';
    // dd.c:driver_deferred_probe_check_state warns (prefix = driver name, dev->driver is set),
    // of_dma_configure_id swallows the error: the master probes without its IOMMU.
    dev.ignoredDependency = true;
    this.gaveUpOn.set(dev, missing[0]!);
    this.emit({
      kind: 'ignored-dependency',
      device: dev.id,
      driver: drv.info.name,
      rule: `drivers/base/dd.c:driver_deferred_probe_check_state (${st === 'enodev' ? '-ENODEV: !CONFIG_MODULES and initcalls done' : '-ETIMEDOUT: timeout is 0 and initcalls done'}); of_dma_configure_id goes on without the IOMMU`,
    });
    for (const t of missing) {
      const iommuDev = this.deviceOf(t);
      const failed = iommuDev && this.events.some((e) => e.kind === 'probe-failed' && e.device === iommuDev.id);
      if (failed) {
        this.hazards.push({
          kind: 'iommu-probe-failed',
          device: dev.id,
          t: round6(this.now),
          rule: 'drivers/iommu/of_iommu.c:of_iommu_xlate -> dd.c:driver_deferred_probe_check_state (case 3c of seed 001: a failed IOMMU looks like one not probed yet)',
          detail: `its IOMMU ${iommuDev!.id} failed to probe for good; the master waited for it until the deferred-probe timeout, then ran untranslated`,
        });
      }
    }
    return 'ok';
  }

  /**
   * iommu_fwspec_init -EINVAL: "Adding to IOMMU failed: -22" (dev_dbg), and of_dma_configure_id
   * goes on without an IOMMU. Where of_iommu_configure does not free the failed fwspec
   * (fwspecFreedOnError false, 6.1.192) it stays, naming the first entry's instance.
   */
  private configureFailed(dev: Device, fwspec: IommuInstance, entry: DtNode): 'ok' {
    const freed = this.profile.fwspecFreedOnError ?? this.profile.series !== '6.1';
    if (!freed) {
      dev.staleFwspec = fwspec;
      this.staleFwspecs.add(dev);
    }
    if (!this.hazards.some((h) => h.kind === 'iommu-configure-failed' && h.device === dev.id)) {
      this.hazards.push({
        kind: 'iommu-configure-failed',
        device: dev.id,
        t: round6(this.now),
        rule: "drivers/iommu/of_iommu.c:of_iommu_xlate -> iommu.c:iommu_fwspec_init (-EINVAL: the fwspec holds another IOMMU's ops) ; of/device.c:of_dma_configure_id ignores the error",
        detail: `its \`iommus\` entry for ${entry.path} ${this.instanceFor(entry) ? `is driven by ${this.instanceFor(entry)!.driver}, not ${fwspec.driver}` : 'names an IOMMU not registered yet'}; it binds untranslated without waiting${freed ? '' : `, keeping a fwspec for ${fwspec.device.id}`}`,
      });
    }
    return 'ok';
  }

  /** The master joins its IOMMU (iommu.c:iommu_probe_device), through the bus's ops when a driver owns them. */
  private attach(dev: Device, targets: DtNode[]): void {
    const inst = this.instanceFor(targets[0]!)!;
    if (this.platformBusOps && (dev.bus === 'platform' || dev.bus === 'amba') && inst.driver !== this.platformBusOps) {
      // 4.14: of_iommu_configure took arm-smmu's ops from the fwnode, but adding the device went
      // through platform_bus_type->iommu_ops, which ipmmu_init() had claimed (seed 002).
      if (!this.hazards.some((h) => h.kind === 'foreign-bus-ops' && h.device === dev.id)) {
        this.hazards.push({
          kind: 'foreign-bus-ops',
          device: dev.id,
          t: round6(this.now),
          rule: 'drivers/iommu/iommu.c:bus_set_iommu (first caller owns a bus; ipmmu_init claimed platform_bus_type at init, seed 002)',
          detail: `its IOMMU ${inst.device.id} is driven by ${inst.driver}, but platform devices are added through ${this.platformBusOps}'s ops: no group, no translation (crashes on 4.14)`,
        });
      }
      return;
    }
    this.attachToGroup(dev, inst);
  }

  /** Before 4.12: of_dma_configure when the device is created; an IOMMU not there yet is never used. */
  private iommuAtDeviceAdd(dev: Device): void {
    const targets = this.iommuTargets(dev);
    if (!targets) return;
    const missing = targets.filter((t) => !this.instanceFor(t));
    if (!missing.length) this.attach(dev, targets);
    else this.gaveUpOn.set(dev, missing[0]!);
  }

  /** dd.c:driver_deferred_probe_check_state. */
  private checkState(): 'defer' | 'enodev' | 'etimedout' {
    if (!this.profile.modules && this.initcallsDone) return 'enodev';
    if (this.timeout === 0 && this.initcallsDone) return 'etimedout';
    return 'defer';
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
    this.emit({
      kind: 'iommu-group',
      device: dev.id,
      value: id,
      rule: 'drivers/iommu/iommu.c:iommu_group_alloc_device (IDA, lowest free id)',
    });
  }

  /**
   * iommu.c:iommu_device_register -> bus_iommu_probe. DT masters get a usable fwspec only inside
   * their own of_iommu_configure, so masters already bound without the IOMMU are not replayed;
   * deferred masters attach on their next probe, which the IOMMU's own driver_bound triggers.
   */
  private registerIommu(inst: IommuInstance, afterRegister: string[] = [], xlateReadsLateState = false): void {
    this.iommus.push(inst);
    if (!this.instanceByFwnode.has(inst.fwnode)) this.instanceByFwnode.set(inst.fwnode, inst);
    this.busIommuDriver ??= inst.driver;
    if (afterRegister.length) this.raceWindow(inst, afterRegister, xlateReadsLateState);
    this.replayStaleFwspecs(inst);
    this.boundBeforeIommu(inst);
  }

  /**
   * iommu.c:iommu_device_register -> bus_iommu_probe -> __iommu_probe_device for every device of
   * the bus without a group: the driver's probe_device accepts a device whose stale fwspec (left
   * by a failed of_iommu_configure) names one of its instances, bound or not.
   */
  private replayStaleFwspecs(inst: IommuInstance): void {
    // Only devices a failed configuration left a fwspec on (kept apart: this runs at every
    // registration, and a board has up to 100k devices).
    for (const dev of [...this.staleFwspecs].sort((a, b) => a.order - b.order)) {
      const stale = dev.staleFwspec!;
      if (stale.driver !== inst.driver || dev.iommuGroup !== null || !this.iommus.includes(stale)) continue;
      this.staleFwspecs.delete(dev);
      this.attachToGroup(dev, stale);
      if (dev.driver) {
        this.hazards.push({
          kind: 'attached-while-bound',
          device: dev.id,
          t: round6(this.now),
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
    // Before deferred_probe_initcall the deferred work cannot run (driver_deferred_probe_trigger
    // returns early while !driver_deferred_probe_enable): no concurrent retry, no window.
    if (!this.deferredProbeEnable) return;
    for (const dev of [...this.pending, ...[...this.activeSeq.keys()]]) {
      if (!this.iommuTargets(dev)?.includes(inst.fwnode)) continue;
      const linked = (this.linksOf.get(dev) ?? []).some(
        (l) => !l.relaxed && this.deviceOf(l.supplierNode) === inst.device,
      );
      if (linked) continue;
      this.hazards.push({
        kind: 'iommu-race-window',
        device: dev.id,
        t: round6(this.now),
        rule: "drivers/iommu/iommu.c:iommu_device_register (inside the IOMMU driver's probe) ; dd.c:deferred_probe_work_func runs concurrently; no device link orders them (`iommus` is an optional fw_devlink binding)",
        detail: `waits for ${inst.device.id}; may be configured against it while ${inst.driver}'s probe still runs: ${afterRegister.join('; ')}${xlateReadsLateState ? ` — ${inst.driver}'s of_xlate/probe_device reads that state, so inside the window it fails with -ENODEV and the master binds untranslated although its IOMMU is there` : ''}`,
      });
    }
  }

  /** Masters that gave up on this IOMMU and bound without it are not attached now (no replay). */
  private boundBeforeIommu(inst: IommuInstance): void {
    for (const [dev, node] of this.gaveUpOn) {
      if (node !== inst.fwnode || !dev.driver) continue;
      this.hazards.push({
        kind: 'bound-before-iommu',
        device: dev.id,
        t: round6(this.now),
        rule: 'drivers/iommu/iommu.c:iommu_device_register -> bus_iommu_probe (no fwspec: DT masters are not replayed)',
        detail: `bound untranslated by ${dev.driver}${this.profile.iommuSetup === 'device-add' ? ' (its DMA was set up when it was created)' : ' after the deferred-probe timeout'}; ${inst.driver} registered its IOMMU at ${round6(this.now)} s and did not attach it (DMA from it now faults or bypasses)`,
      });
    }
  }

  // ---------------------------------------------------------------- deferred probing

  /** dd.c:driver_deferred_probe_add: only devices that matched a driver; keeps position. */
  private deferredAdd(dev: Device): void {
    if (!dev.canMatch || dev.list) return;
    dev.list = 'pending';
    this.pending.add(dev);
  }

  private deferredDel(dev: Device): void {
    if (dev.list === 'pending') this.pending.delete(dev);
    if (dev.list === 'active') this.activeSeq.delete(dev);
    dev.list = null;
  }

  /** dd.c:driver_deferred_probe_trigger: splice pending onto active and queue the work. */
  private trigger(): void {
    if (!this.deferredProbeEnable) return;
    this.triggerCount++;
    for (const d of this.pending) {
      d.list = 'active';
      const n = ++this.seq;
      this.activeSeq.set(d, n);
      this.active.push([d, n]);
    }
    this.pending.clear();
    this.workQueued = true;
  }

  /** dd.c:deferred_probe_work_func, run to its fixpoint (what flush_work waits for). */
  runDeferredWork(): void {
    while (this.workQueued) {
      this.workQueued = false;
      while (this.activeHead < this.active.length) {
        const [dev, n] = this.active[this.activeHead++]!;
        if (this.activeSeq.get(dev) !== n) continue;
        this.activeSeq.delete(dev);
        dev.list = null;
        this.deviceAttach(dev); // 6.1: bus_probe_device; 6.12: bus_probe_device_deferred
      }
      this.active = [];
      this.activeHead = 0;
    }
  }

  /** dd.c:deferred_probe_initcall, the late_initcall. */
  lateInitcall(): void {
    this.emit({
      kind: 'late-initcall',
      device: null,
      rule: 'drivers/base/dd.c:deferred_probe_initcall (enable, two passes, arm the timer)',
    });
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
    if (this.timeout > 0)
      this.timeoutTimerAt = timerFireTime(this.now, this.timeout * this.profile.hz, this.profile.hz);
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
    this.emit({
      kind: 'timeout-fired',
      device: null,
      rule: 'drivers/base/dd.c:deferred_probe_timeout_work_func (timeout := 0, retry all)',
    });
    this.fwDevlinkDriversDoneNow();
    this.timeout = 0;
    this.trigger();
    this.runDeferredWork();
    for (const dev of this.pending)
      this.emit({
        kind: 'deferred-pending',
        device: dev.id,
        rule: 'drivers/base/dd.c:deferred_probe_timeout_work_func ("deferred probe pending")',
      });
  }

  /** A module's init: register each of its drivers (kernel/module/main.c:do_init_module);
   *  `async`: its async_probe parameter (or module.async_probe) was set. */
  loadModule(module: string, async = false): void {
    if (async) this.asyncModules.add(module);
    this.emit({
      kind: 'module-loaded',
      device: null,
      module,
      rule: 'kernel/module/main.c:do_init_module -> driver_register (driver_attach, deferred_probe_extend_timeout)',
    });
    for (const info of this.profile.drivers.filter((d) => d.module === module && !d.builtin)) this.registerDriver(info);
  }

  /**
   * rmmod: kernel/module/main.c:delete_module refuses a module whose reference count is not zero;
   * every master attached to one of its IOMMU instances holds one (iommu.c:iommu_init_device ->
   * try_module_get(ops->owner)). Otherwise driver_unregister unbinds its devices, each after its
   * consumers (core.c:device_links_unbind_consumers: managed links that are not SYNC_STATE_ONLY).
   */
  unloadModule(module: string): void {
    const holders = [...this.attachedTo]
      .filter(([, inst]) => this.driverModule(inst.driver) === module)
      .map(([d]) => d.id);
    if (holders.length) {
      this.emit({
        kind: 'module-unload-refused',
        device: null,
        module,
        rule: `kernel/module/main.c:delete_module (-EWOULDBLOCK: in use; drivers/iommu/iommu.c:iommu_init_device holds a reference for each of ${holders.join(', ')})`,
      });
      return;
    }
    for (const drv of this.drivers.filter((d) => d.info.module === module && !d.info.builtin)) {
      for (const dev of this.devices.filter((d) => d.driver === drv.info.name && d.bus === drv.info.bus))
        this.releaseDriver(dev, 'drivers/base/dd.c:driver_detach (driver_unregister)');
      this.drivers.splice(this.drivers.indexOf(drv), 1);
      const list = this.driversByBus.get(drv.info.bus)!;
      list.splice(list.indexOf(drv), 1);
      for (const l of [...this.driversByCompat.values(), this.nonOfDriversByBus.get(drv.info.bus) ?? []])
        if (l.includes(drv)) l.splice(l.indexOf(drv), 1);
    }
    this.emit({
      kind: 'module-unloaded',
      device: null,
      module,
      rule: "kernel/module/main.c:delete_module -> the module's exit: driver_unregister",
    });
  }

  private driverModule(driver: string): string | null {
    return this.profile.drivers.find((d) => d.name === driver)?.module ?? null;
  }

  /** dd.c:__device_release_driver: consumers first, then the device; an IOMMU unregisters. */
  private releaseDriver(dev: Device, rule: string): void {
    if (!dev.driver) return;
    for (const l of this.consumersOfDevice(dev)) {
      if (l.relaxed || !l.consumer.driver) continue;
      this.releaseDriver(
        l.consumer,
        `drivers/base/core.c:device_links_unbind_consumers (supplier ${dev.id} is unbinding)`,
      );
    }
    const driver = dev.driver;
    dev.driver = null;
    this.emit({ kind: 'unbound', device: dev.id, driver, rule });
    const i = this.iommus.findIndex((x) => x.device === dev);
    if (i >= 0) {
      const [gone] = this.iommus.splice(i, 1); // iommu.c:iommu_device_unregister from the driver's remove
      this.instanceByFwnode.delete(gone!.fwnode);
      const next = this.iommus.find((x) => x.fwnode === gone!.fwnode);
      if (next) this.instanceByFwnode.set(next.fwnode, next);
    }
  }

  private consumersOfDevice(dev: Device): SupplierLink[] {
    const out: SupplierLink[] = [];
    for (const [node, links] of this.consumersOf) if (this.deviceOf(node) === dev) out.push(...links);
    return out;
  }

  /** Hazards that only the state at capture shows. */
  captureHazards(): void {
    for (const dev of this.devices) {
      if (!this.deferredNow(dev)) continue;
      const timerLeft = this.timeoutTimerAt !== null;
      if (!timerLeft) {
        this.hazards.push({
          kind: 'deferred-forever',
          device: dev.id,
          t: round6(this.now),
          rule:
            this.timeout < 0
              ? 'drivers/base/dd.c:deferred_probe_initcall (timeout < 0: the timer is never armed)'
              : 'drivers/base/dd.c:driver_deferred_probe_check_state (no timeout ends this wait)',
          detail: `still on the deferred list at capture, and nothing scheduled will end the wait`,
        });
      }
      for (const l of (this.linksOf.get(dev) ?? []).filter((x) => !x.relaxed && !this.deviceOf(x.supplierNode))) {
        this.hazards.push({
          kind: 'missing-supplier',
          device: dev.id,
          t: round6(this.now),
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

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const l = m.get(k);
  if (l) l.push(v);
  else m.set(k, [v]);
}

const hex2 = (n: number): string => n.toString(16).padStart(2, '0');
const round6 = (t: number): number => Math.round(t * 1e6) / 1e6;
