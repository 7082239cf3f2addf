/**
 * The outcome schema shared by the simulator and the real-kernel harness (a stable contract,
 * printed by `--json`). Times are guest seconds since boot.
 */
export type EventKind =
  | 'module-loaded'        // the guest's init finished loading a module (module: name)
  | 'late-initcall'        // dd.c:deferred_probe_initcall starts
  | 'timeout-fired'        // dd.c:deferred_probe_timeout_work_func runs
  | 'probe-deferred'       // a probe returned -EPROBE_DEFER (either sign)
  | 'probe-failed'         // a probe failed for good (value: errno)
  | 'bound'                // driver bound (driver: name)
  | 'ignored-dependency'   // dd.c:driver_deferred_probe_check_state gave up waiting
  | 'iommu-group'          // "Adding to iommu group N" (value: N)
  | 'iommu-map-miss'       // of/base.c:of_map_id found no translation for this RID
  | 'deferred-pending'     // listed by the timeout's "deferred probe pending" dump
  | 'iommu-fault'          // the IOMMU reported a fault for this master (real boots only)
  | 'unbound'              // the driver let go of the device (driver: name)
  | 'module-unloaded'      // rmmod succeeded (module: name)
  | 'module-unload-refused'; // rmmod failed: the module is in use (module: name)

export const eventKinds: ReadonlyArray<EventKind> = [
  'module-loaded', 'late-initcall', 'timeout-fired', 'probe-deferred', 'probe-failed', 'bound',
  'ignored-dependency', 'iommu-group', 'iommu-map-miss', 'deferred-pending', 'iommu-fault',
  'unbound', 'module-unloaded', 'module-unload-refused',
];

/**
 * Kinds only a real boot shows: whether a bypassed master faults depends on whether it does
 * DMA after its IOMMU turns on, which the model does not know. Reported, not compared.
 */
export const observedOnlyKinds: ReadonlySet<EventKind> = new Set(['iommu-fault']);

export interface ProbeEvent {
  t: number;
  kind: EventKind;
  /** dev_name of the device, or null for global events. */
  device: string | null;
  driver?: string;
  module?: string;
  value?: number;
  /** Simulator only: the kernel file:function whose rule produced the event. */
  rule?: string;
}

/** Where a bound lab master's DMA goes (its sysfs `probelab_dma`, qemu/lab/probelab/probelab_master.c). */
export type LabDma = 'translated' | 'identity' | 'bypassed';

export interface OutcomeDevice {
  id: string;
  bus: string;
  driver: string | null;
  iommuGroup: number | null;
  ignoredDependency: boolean;
  deferred: boolean;
  /** Lab masters bound to probelab-master only. */
  dma?: LabDma;
}

export interface Outcome {
  devices: OutcomeDevice[];
  events: ProbeEvent[];
}

/** Buses whose devices the outcome lists (platform and amba only when DT-backed and bound or deferred). */
export function keepDevice(d: OutcomeDevice & { fromDt: boolean }): boolean {
  if (d.bus === 'pci' || d.bus === 'virtio') return true;
  return d.fromDt && (d.driver !== null || d.deferred);
}

/** Devices in bus/id order, and only the events of listed devices (or global ones), in time order. */
export function sortOutcome(o: Outcome): Outcome {
  const devices = [...o.devices].sort((a, b) => (a.bus + a.id < b.bus + b.id ? -1 : a.bus + a.id > b.bus + b.id ? 1 : 0));
  const ids = new Set(devices.map((d) => d.id));
  const events = o.events.filter((e) => e.device === null || ids.has(e.device)).sort((a, b) => a.t - b.t);
  return { devices, events };
}
