/**
 * Hazards: outcomes a kernel developer needs told, each with the device, when, and the kernel
 * rule that produced it; `raisedIn` names the file and function of the rule that raises each.
 */
/**
 * Every hazard kind, one table (as dtc declares its checks in checks.c): what it tells, and the
 * simulator function that raises it (each instance carries the kernel rule behind it). A new
 * hazard is a row here and a push where its rule is modelled.
 */
export const hazardTable = {
  'bound-before-iommu': {
    summary: 'Bound without translation; its IOMMU registered later and did not attach it.',
    raisedIn: "iommu-core.ts:boundBeforeIommu (at the IOMMU's registration)",
  },
  'deferred-forever': {
    summary: 'Still waiting at capture, with no timeout left to end the wait.',
    raisedIn: 'deferred-probe.ts:captureHazards',
  },
  'missing-supplier': {
    summary: 'Waits on a supplier that no device provides.',
    raisedIn: 'fw-devlink.ts:missingSupplierHazards (at capture)',
  },
  'cycle-broken': {
    summary: 'fw_devlink found a dependency cycle and stopped one of its links ordering probes.',
    raisedIn: 'fw-devlink.ts:constructor (fw-devlink-cycles.ts:cycleEdges)',
  },
  'iommu-race-window': {
    summary: 'Deferred-probe work may configure it against an IOMMU whose probe has not returned.',
    raisedIn: 'iommu-core.ts:raceWindow',
  },
  'iommu-probe-failed': {
    summary: 'Waited for an IOMMU whose probe failed for good, until the timeout; runs untranslated.',
    raisedIn: 'of-iommu.ts:dmaConfigure',
  },
  'foreign-bus-ops': {
    summary: "Its IOMMU is driven by one driver but its bus's IOMMU ops belong to another (seed 002).",
    raisedIn: 'iommu-core.ts:probeDevice',
  },
  'group-after-failed-probe': {
    summary: 'Its probe failed for good, but it keeps its IOMMU group and pins the IOMMU module.',
    raisedIn: 'dd-probe.ts:reallyProbe',
  },
  'iommu-configure-failed': {
    summary:
      'of_iommu_configure failed (-EINVAL: its `iommus` entries name IOMMUs the fwspec cannot hold together at that moment); it binds untranslated without waiting.',
    raisedIn: 'of-iommu.ts:configureFailed',
  },
  'attached-while-bound': {
    summary: 'Added to an IOMMU group while bound to its driver: its DMA changed under the driver.',
    raisedIn: 'iommu-core.ts:replayStaleFwspecs',
  },
  'iommu-register-refused': {
    summary: 'An IOMMU whose registration the core refused: another driver already owns the buses.',
    raisedIn: 'iommu-core.ts:registerRefused',
  },
  'configured-in-window': {
    summary:
      "Configured against an IOMMU registered but not ready (its driver's probe still running on another CPU): bound untranslated although the IOMMU is there (seed 000's window, realised).",
    raisedIn: 'of-iommu.ts:dmaConfigure',
  },
} as const satisfies Record<string, { summary: string; raisedIn: string }>;

export type HazardKind = keyof typeof hazardTable;

export interface Hazard {
  kind: HazardKind;
  device: string;
  t: number;
  /** The kernel file:function whose behaviour makes it so. */
  rule: string;
  detail: string;
}
