/**
 * Comparing two outcomes (simulated vs real, or baseline vs patched): per device, every field;
 * per device and event kind, the sequence of kinds with repeats collapsed (how many times a
 * device re-deferred depends on how many binds happened meanwhile, which is noise, while
 * "deferred, then bound" vs "deferred forever" is the signal). Times are reported, not judged.
 */
import { observedOnlyKinds, type EventKind, type Outcome, type OutcomeDevice, type ProbeEvent } from './outcome.js';

export interface DeviceDiff {
  id: string;
  field: keyof OutcomeDevice | 'present';
  left: unknown;
  right: unknown;
}
export interface SequenceDiff {
  device: string;
  left: string[];
  right: string[];
}
export interface TimingDelta {
  device: string | null;
  kind: EventKind;
  left: number;
  right: number;
}

export interface OutcomeDiff {
  agree: boolean;
  devices: DeviceDiff[];
  sequences: SequenceDiff[];
  /** First occurrence of each (device, kind) in both, with its times. */
  timing: TimingDelta[];
}

/** Kinds compared as sequences; `module-loaded`, `late-initcall`, `timeout-fired` are global. */
export function collapseKinds(events: ProbeEvent[], device: string | null): string[] {
  const out: string[] = [];
  for (const e of [...events].sort((a, b) => a.t - b.t)) {
    if (e.device !== device || observedOnlyKinds.has(e.kind)) continue;
    const label =
      e.kind === 'module-loaded'
        ? `module-loaded:${e.module}`
        : e.kind === 'bound'
          ? `bound:${e.driver}`
          : e.kind === 'iommu-group'
            ? `iommu-group:${e.value}`
            : e.kind;
    if (out[out.length - 1] !== label) out.push(label);
  }
  return out;
}

export function diffOutcomes(left: Outcome, right: Outcome): OutcomeDiff {
  const devices: DeviceDiff[] = [];
  const ids = new Set([...left.devices.map((d) => d.id), ...right.devices.map((d) => d.id)]);
  for (const id of [...ids].sort()) {
    const l = left.devices.find((d) => d.id === id);
    const r = right.devices.find((d) => d.id === id);
    if (!l || !r) {
      devices.push({ id, field: 'present', left: !!l, right: !!r });
      continue;
    }
    for (const f of ['driver', 'iommuGroup', 'ignoredDependency', 'deferred', 'dma'] as const) {
      if (l[f] !== r[f]) devices.push({ id, field: f, left: l[f], right: r[f] });
    }
  }
  const sequences: SequenceDiff[] = [];
  const evDevices = new Set<string | null>([
    null,
    ...left.events.map((e) => e.device),
    ...right.events.map((e) => e.device),
  ]);
  for (const dev of evDevices) {
    const l = collapseKinds(left.events, dev);
    const r = collapseKinds(right.events, dev);
    if (l.join('|') !== r.join('|')) sequences.push({ device: dev ?? '(global)', left: l, right: r });
  }
  const timing: TimingDelta[] = [];
  const firsts = (o: Outcome): Map<string, ProbeEvent> => {
    const m = new Map<string, ProbeEvent>();
    for (const e of [...o.events].sort((a, b) => a.t - b.t)) {
      const k = `${e.device}\u0000${e.kind}\u0000${e.module ?? ''}`;
      if (!m.has(k)) m.set(k, e);
    }
    return m;
  };
  const fl = firsts(left);
  const fr = firsts(right);
  for (const [k, e] of fl) {
    const o = fr.get(k);
    if (o) timing.push({ device: e.device, kind: e.kind, left: e.t, right: o.t });
  }
  return { agree: devices.length === 0 && sequences.length === 0, devices, sequences, timing };
}
