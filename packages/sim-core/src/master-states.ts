/**
 * What became of each IOMMU master (a device whose DMA is declared to go through an IOMMU): the
 * summary `sweep` and reports show per cell. 'unbound': a driver matched but it is not bound
 * (its probe failed, or it was unbound).
 */
import type { Prediction } from './predict.js';

export type MasterState = 'translated' | 'bypassed' | 'deferred' | 'unbound';

export interface MasterSummary {
  states: Record<string, MasterState>;
  counts: Record<MasterState, number>;
  /** The worst state any master reached: deferred > bypassed > unbound > translated. */
  worst: MasterState | 'no-masters';
}

const severity: MasterState[] = ['translated', 'unbound', 'bypassed', 'deferred'];

export function masterStates(p: Prediction): MasterSummary {
  const states: Record<string, MasterState> = {};
  for (const dev of p.core.devices) {
    // Masters no driver of this kernel matches are not part of the question.
    if (!dev.canMatch || !p.core.iommuTargets(dev, true)) continue;
    const deferred = p.core.deferredNow(dev);
    states[dev.id] = deferred
      ? 'deferred'
      : dev.iommuGroup !== null
        ? 'translated'
        : dev.driver
          ? 'bypassed'
          : 'unbound';
  }
  return summarise(states);
}

/** The same classification read from an outcome alone (a real boot), for the given master ids. */
export function outcomeMasterStates(o: import('./outcome.js').Outcome, masters: string[]): MasterSummary {
  const states: Record<string, MasterState> = {};
  for (const id of masters) {
    const d = o.devices.find((x) => x.id === id);
    states[id] = !d
      ? 'unbound'
      : d.deferred
        ? 'deferred'
        : d.iommuGroup !== null
          ? 'translated'
          : d.driver
            ? 'bypassed'
            : 'unbound';
  }
  return summarise(states);
}

function summarise(states: Record<string, MasterState>): MasterSummary {
  const counts: Record<MasterState, number> = { translated: 0, bypassed: 0, deferred: 0, unbound: 0 };
  for (const s of Object.values(states)) counts[s]++;
  const present = severity.filter((s) => counts[s] > 0);
  return { states, counts, worst: present.at(-1) ?? 'no-masters' };
}
