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
  | 'missing-supplier';

export interface Hazard {
  kind: HazardKind;
  device: string;
  t: number;
  /** The kernel file:function whose behaviour makes it so. */
  rule: string;
  detail: string;
}
