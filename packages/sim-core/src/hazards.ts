/**
 * Hazards: outcomes a kernel developer needs told, each with the device, when, and the kernel
 * rule that produced it.
 */
export type HazardKind =
  /** Bound without translation; its IOMMU registered later and did not attach it. */
  | 'bound-before-iommu'
  /** Still waiting at capture, with no timeout left to end the wait. */
  | 'deferred-forever'
  /** Waits on a supplier that no device provides. */
  | 'missing-supplier'
  /** fw_devlink found a dependency cycle and stopped one of its links ordering probes. */
  | 'cycle-broken'
  /** Deferred-probe work may configure it against an IOMMU whose probe has not returned. */
  | 'iommu-race-window'
  /** Waited for an IOMMU whose probe failed for good, until the timeout; runs untranslated. */
  | 'iommu-probe-failed'
  /** Its IOMMU is driven by one driver but its bus's IOMMU ops belong to another (seed 002). */
  | 'foreign-bus-ops'
  /** Its probe failed for good, but it keeps its IOMMU group and pins the IOMMU module. */
  | 'group-after-failed-probe'
  /** of_iommu_configure failed (-EINVAL: its `iommus` entries name IOMMUs the fwspec cannot hold
   *  together at that moment); it binds untranslated without waiting. */
  | 'iommu-configure-failed'
  /** Added to an IOMMU group while bound to its driver: its DMA changed under the driver. */
  | 'attached-while-bound'
  /** An IOMMU whose registration the core refused: another driver already owns the buses. */
  | 'iommu-register-refused'
  /** Configured against an IOMMU registered but not ready (its driver's probe still running on
   *  another CPU): bound untranslated although the IOMMU is there (seed 000's window, realised). */
  | 'configured-in-window';

export interface Hazard {
  kind: HazardKind;
  device: string;
  t: number;
  /** The kernel file:function whose behaviour makes it so. */
  rule: string;
  detail: string;
}
