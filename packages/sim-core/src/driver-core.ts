/**
 * The driver core as a discrete-event model: the object that wires the kernel files' models
 * together, holds what they share (devices, events, hazards, guest time) and keeps the
 * simulator's API. Here: drivers/base/core.c:device_add (addDevice) and
 * drivers/base/driver.c:driver_register (registerDriver). Each mechanism is in the file named
 * for the kernel file it mirrors, and owns its state the way that file owns its statics:
 * - bus-match.ts        drivers/base/bus.c and the buses' match(): driver and device registries
 * - dd-probe.ts         drivers/base/dd.c: __device_attach, driver_probe_device, really_probe, driver_bound
 * - deferred-probe.ts   drivers/base/dd.c: deferred lists, triggers, the late initcall, the timeout
 * - fw-devlink.ts       drivers/base/core.c: fw_devlink links, supplier checks, drivers_done, cycles
 * - of-iommu.ts         drivers/iommu/of_iommu.c (+ of/base.c:of_map_id, pci_dma_configure)
 * - iommu-core.ts       drivers/iommu/iommu.c: instances, registration, groups, module references
 * - module-loader.ts    kernel/module/main.c: load, refused unload
 * - of-platform.ts      drivers/of/platform.c, i2c and spi: the children a bus driver's probe creates
 * - probe-effects.ts    what a probe does beyond binding (behaviours.ts)
 * - probe-resources.ts  what the probe path takes from providers (genpd, lab clocks and resets)
 * - probe-faults.ts     scenario-imposed probe results and probe times
 */
import type { DeviceTree, DtNode } from '@probelab/dt-compiler';
import type { DriverCoreParams } from './cmdline.js';
import type { Device, Driver, IommuInstance, SupplierLink } from './model.js';
import type { DriverInfo, KernelProfile } from './profile.js';
import type { EventKind, ProbeEvent } from './outcome.js';
import { probeBehaviours, type ProbeBehaviour } from './behaviours.js';
import type { LabProbeTime } from './lab-devices.js';
import { matchKey, type Board } from './board.js';
import type { Hazard, HazardKind } from './hazards.js';
import { BusMatch } from './bus-match.js';
import { Probe } from './dd-probe.js';
import { DeferredProbe } from './deferred-probe.js';
import { FwDevlink } from './fw-devlink.js';
import { IommuCore } from './iommu-core.js';
import { ModuleLoader } from './module-loader.js';
import { OfIommu } from './of-iommu.js';
import { OfPlatform } from './of-platform.js';
import { ProbeEffects } from './probe-effects.js';
import { ProbeFaults, type ProbeFault } from './probe-faults.js';
import { ProbeResources } from './probe-resources.js';
import { round6 } from './sim-time.js';

/** The event kinds hasEvent answers for, by device. */
const indexedEventKinds = ['probe-failed', 'iommu-map-miss'] as const;
export type IndexedEventKind = (typeof indexedEventKinds)[number];

export interface CoreTiming {
  probeDuration: Record<string, number>;
  deferCost: number;
  defaultProbeDuration?: number;
}

export class DriverCore {
  readonly devices: Device[] = [];
  readonly events: ProbeEvent[] = [];
  readonly hazards: Hazard[] = [];
  /** Indices over events and hazards asked by device (searching them per master was quadratic on a large board). */
  private readonly eventIndex = new Map<EventKind, Set<string>>(indexedEventKinds.map((k) => [k, new Set()]));
  private readonly hazardsReported = new Set<string>();
  /** Guest time, in seconds. */
  now = 0;
  /** Timed steps of async probes; simulate() runs them in time order with everything else. */
  readonly asyncSteps: Array<{ t: number; run: () => void }> = [];
  /** QEMU -smp: with one CPU an async probe (no preemption, PREEMPT_NONE) holds it to the end. */
  cpus = 1;
  /** The end of the last async probe when it holds the only CPU: the init cannot run before. */
  cpuBusyUntil = 0;
  /** The end of the last async probe: a module loaded without async_probe waits for it
   *  (kernel/module/main.c:do_init_module -> async_synchronize_full). */
  asyncUntil = 0;
  /** Compatibles whose fwnode early init marks FWNODE_FLAG_INITIALIZED (profile.fwnodeInitialized). */
  readonly initialized: ReadonlySet<string>;
  private devOrder = 0;

  readonly bus: BusMatch;
  readonly faults = new ProbeFaults();
  readonly deferred: DeferredProbe;
  readonly probe: Probe;
  readonly devlink: FwDevlink;
  readonly iommu: IommuCore;
  readonly ofIommu: OfIommu;
  readonly modules: ModuleLoader;
  readonly platform: OfPlatform;
  readonly effects: ProbeEffects;
  readonly resources: ProbeResources;

  constructor(
    readonly board: Board,
    readonly profile: KernelProfile,
    readonly params: DriverCoreParams,
    readonly timing: CoreTiming,
    readonly ofDeclared: ReadonlySet<string>,
    readonly behaviours: Record<string, ProbeBehaviour> = probeBehaviours,
  ) {
    this.initialized = new Set(profile.fwnodeInitialized ?? []);
    this.bus = new BusMatch(profile, board.tree);
    this.deferred = new DeferredProbe(this);
    this.probe = new Probe(this);
    this.devlink = new FwDevlink(this);
    this.iommu = new IommuCore(this);
    this.ofIommu = new OfIommu(this);
    this.modules = new ModuleLoader(this);
    this.platform = new OfPlatform(this);
    this.effects = new ProbeEffects(this);
    this.resources = new ProbeResources(this);
  }

  get tree(): DeviceTree {
    return this.board.tree;
  }
  get drivers(): Driver[] {
    return this.bus.drivers;
  }
  get iommus(): IommuInstance[] {
    return this.iommu.instances;
  }
  get links(): SupplierLink[] {
    return this.devlink.links;
  }
  /** The deferred_probe_timeout_work timer: when it fires, or null when not pending. */
  get timeoutTimerAt(): number | null {
    return this.deferred.timeoutTimerAt;
  }

  emit(e: Omit<ProbeEvent, 't'>): void {
    this.events.push({ t: round6(this.now), ...e });
    if (e.device) this.eventIndex.get(e.kind)?.add(e.device);
  }

  /** Whether an event of this kind was emitted for the device. */
  hasEvent(kind: IndexedEventKind, device: string): boolean {
    return this.eventIndex.get(kind)!.has(device);
  }

  /** True the first time it is asked for this hazard kind and device: the hazards reported once per master. */
  firstReport(kind: HazardKind, device: string): boolean {
    const key = `${kind} ${device}`;
    if (this.hazardsReported.has(key)) return false;
    this.hazardsReported.add(key);
    return true;
  }

  /** Scenario-imposed probe results (a master whose probe fails and is retried; an IOMMU that fails for good). */
  setFaults(faults: ProbeFault[]): void {
    this.faults.setFaults(faults);
  }

  /** Busy work a probe does beyond its driver's measured duration, per device (lab-devices.ts). */
  setProbeTimes(times: Map<string, LabProbeTime>): void {
    this.faults.setProbeTimes(times);
  }

  /** core.c:device_add: fw_devlink links, then bus_probe_device (dd.c:__device_attach). */
  addDevice(
    spec: Omit<
      Device,
      | 'driver'
      | 'canMatch'
      | 'list'
      | 'iommuGroup'
      | 'ignoredDependency'
      | 'order'
      | 'matchKey'
      | 'suppliers'
      | 'deferRule'
      | 'ofIommus'
    >,
  ): Device {
    // Built field by field, one shape for every device (a spread of specs of varying shapes
    // costs more than the rest of device_add at 100,000 devices).
    const dev: Device = {
      id: spec.id,
      bus: spec.bus,
      node: spec.node,
      parent: spec.parent,
      modalias: spec.modalias,
      matchKey: matchKey(spec.bus, spec.modalias, spec.node),
      pci: spec.pci,
      virtioId: spec.virtioId,
      virtioVendor: spec.virtioVendor,
      driver: null,
      canMatch: false,
      list: null,
      iommuGroup: null,
      ignoredDependency: false,
      order: this.devOrder++,
      ofIommus: undefined,
      suppliers: [],
      deferRule: null,
      staleFwspec: spec.staleFwspec,
    };
    this.devices.push(dev);
    this.bus.addDevice(dev);
    this.devlink.linkDevice(dev);
    // Before 4.12 (seeds 001, 004): of_platform_device_create -> of_dma_configure at device add.
    if (this.profile.iommuSetup === 'device-add') this.ofIommu.atDeviceAdd(dev);
    this.probe.deviceAttach(dev);
    return dev;
  }

  /** driver.c:driver_register: bus_add_driver -> driver_attach, then deferred_probe_extend_timeout. */
  registerDriver(info: DriverInfo): void {
    const drv = this.bus.addDriver(info);
    if (!drv) return;
    this.iommu.driverRegistered(info);
    // dd.c:driver_attach -> __driver_attach for every device on the bus, in registration order.
    for (const dev of this.bus.candidatesFor(drv)) this.probe.driverAttach(drv, dev);
    this.deferred.extendTimeout();
  }

  /** The device of a node, or of its nearest ancestor that has one. */
  deviceOf(node: DtNode): Device | undefined {
    return this.bus.deviceOf(node);
  }

  /** The bus's match() (bus-match.ts). */
  matches(drv: Driver, dev: Device): boolean {
    return this.bus.matches(drv, dev);
  }

  /** The IOMMU nodes a master's DMA goes through, or null (of-iommu.ts). */
  iommuTargets(dev: Device, quiet = false): DtNode[] | null {
    return this.ofIommu.iommuTargets(dev, quiet);
  }

  lateInitcall(): void {
    this.deferred.lateInitcall();
  }
  armTimeout(): void {
    this.deferred.armTimeout();
  }
  extendTimeout(): void {
    this.deferred.extendTimeout();
  }
  timeoutFire(): void {
    this.deferred.timeoutFire();
  }
  runDeferredWork(): void {
    this.deferred.runWork();
  }
  loadModule(module: string, async = false): void {
    this.modules.load(module, async);
  }
  unloadModule(module: string): void {
    this.modules.unload(module);
  }
  captureHazards(): void {
    this.deferred.captureHazards();
  }
  deferredNow(dev: Device): boolean {
    return this.deferred.deferredNow(dev);
  }
}
