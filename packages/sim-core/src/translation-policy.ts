/**
 * The DMA-protection policy (`--require-translation`): every IOMMU master — a DT device with
 * `iommus`, a PCI function its host's `iommu-map` covers (the devices
 * of_iommu.c:of_iommu_configure would put behind an IOMMU) — that ends bound must end translated:
 * in an IOMMU group whose domain is not identity. A master bound without (the deferred-probe
 * timeout gave up on its IOMMU, it was configured before its IOMMU registered, …) or still
 * deferred at the end is a failure, with the rule that left it so. Vendor CIs treat a DMA master
 * without its IOMMU as a security failure.
 */
import type { DriverCore } from './driver-core.js';
import type { Hazard } from './hazards.js';
import type { Outcome } from './outcome.js';

export interface PolicyFailure {
  device: string;
  state: 'bypassed' | 'identity' | 'deferred';
  rule: string;
}

/** The masters of the board the core simulated (the same board the real boot ran). */
export function iommuMasters(core: DriverCore): string[] {
  return core.devices.filter((d) => core.iommuTargets(d, true) !== null).map((d) => d.id);
}

/** The masters that ended bound or deferred (the ones the policy judges). */
export function judgedMasters(masters: string[], outcome: Outcome): string[] {
  return masters.filter((id) => outcome.devices.some((d) => d.id === id && (d.driver || d.deferred)));
}

export function translationFailures(masters: string[], outcome: Outcome, hazards: Hazard[] = []): PolicyFailure[] {
  const out: PolicyFailure[] = [];
  for (const id of masters) {
    const d = outcome.devices.find((x) => x.id === id);
    if (!d || (!d.driver && !d.deferred)) continue; // never bound: it does no DMA
    const state = d.deferred
      ? 'deferred'
      : d.iommuGroup === null
        ? 'bypassed'
        : d.dma === 'identity'
          ? 'identity'
          : null;
    if (!state) continue;
    // The direct cause first: the wait given up, then what the model's hazards say, then the
    // generic case.
    const h =
      hazards.find((x) => x.device === id && x.kind !== 'bound-before-iommu') ?? hazards.find((x) => x.device === id);
    const rule =
      state === 'deferred'
        ? 'drivers/base/dd.c:driver_deferred_probe_add (still waiting at the end)'
        : state === 'identity'
          ? 'drivers/iommu/iommu.c:iommu_set_def_domain_type (iommu.passthrough: an identity default domain)'
          : d.ignoredDependency
            ? 'drivers/base/dd.c:driver_deferred_probe_check_state (the wait for its IOMMU ended; of_dma_configure_id went on without it)'
            : h
              ? h.rule
              : 'drivers/iommu/of_iommu.c:of_iommu_configure (no IOMMU attached when it probed)';
    out.push({ device: id, state, rule });
  }
  return out;
}
