/**
 * The outcome schema shared by the simulator and the real-kernel harness (a stable contract,
 * printed by `--json`). Times are guest seconds since boot.
 */
/**
 * The event kinds, one table: what each means (with the kernel function or line it stands for)
 * and whether a check compares it or only shows it. Only a real boot shows `iommu-fault`: whether
 * a bypassed master faults depends on whether it does DMA after its IOMMU turns on, which the
 * model does not know.
 */
export const eventKindTable = {
  'module-loaded': { meaning: "the guest's init finished loading a module (module: name)", compared: true },
  'late-initcall': { meaning: 'drivers/base/dd.c:deferred_probe_initcall starts', compared: true },
  'timeout-fired': { meaning: 'drivers/base/dd.c:deferred_probe_timeout_work_func runs', compared: true },
  'probe-deferred': { meaning: 'a probe returned -EPROBE_DEFER (either sign)', compared: true },
  'probe-failed': { meaning: 'a probe failed for good (value: errno)', compared: true },
  bound: { meaning: 'a driver bound (driver: name)', compared: true },
  'ignored-dependency': {
    meaning: 'drivers/base/dd.c:driver_deferred_probe_check_state gave up waiting',
    compared: true,
  },
  'iommu-group': { meaning: '"Adding to iommu group N" (value: N)', compared: true },
  'iommu-map-miss': { meaning: 'drivers/of/base.c:of_map_id found no translation for this RID', compared: true },
  'deferred-pending': { meaning: 'listed by the timeout\'s "deferred probe pending" dump', compared: true },
  'iommu-fault': { meaning: 'the IOMMU reported a fault for this master (real boots only)', compared: false },
  unbound: { meaning: 'the driver let go of the device (driver: name)', compared: true },
  'module-unloaded': { meaning: 'rmmod succeeded (module: name)', compared: true },
  'module-unload-refused': { meaning: 'rmmod failed: the module is in use (module: name)', compared: true },
} as const satisfies Record<string, { meaning: string; compared: boolean }>;

export type EventKind = keyof typeof eventKindTable;

/** Kinds reported, not compared (the table's `compared: false`). */
export const observedOnlyKinds: ReadonlySet<EventKind> = new Set(
  (Object.keys(eventKindTable) as EventKind[]).filter((k) => !eventKindTable[k].compared),
);

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
  // By bus, then by id within each: the order of the concatenated bus + id (no bus name is a
  // prefix of another), without building 100,000 concatenations to compare.
  const byBus = new Map<string, OutcomeDevice[]>();
  for (const d of o.devices) {
    const l = byBus.get(d.bus);
    if (l) l.push(d);
    else byBus.set(d.bus, [d]);
  }
  const devices: OutcomeDevice[] = [];
  const ids = new Set<string>();
  for (const bus of [...byBus.keys()].sort()) {
    const l = byBus.get(bus)!;
    l.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    for (const d of l) {
      devices.push(d);
      ids.add(d.id);
    }
  }
  const events = o.events.filter((e) => e.device === null || ids.has(e.device)).sort((a, b) => a.t - b.t);
  return { devices, events };
}
