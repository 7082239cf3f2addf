/**
 * A prediction against a real log, on what the log shows only (`probelab check SCENARIO --log
 * LOG`): for each device the log names and the prediction has, each field the log tells
 * (non-null in log-outcome.ts) is compared; a field the log cannot tell is not. IOMMU groups are
 * compared as membership (the kernel numbers groups in the order it creates them; a board's
 * numbering depends on everything else it probed), the numbers shown.
 */
import type { Outcome } from '@probelab/sim-core';
import type { LogOutcome } from './log-outcome.js';

export interface LogMismatch {
  device: string;
  field: 'driver' | 'iommuGroup' | 'ignoredDependency' | 'deferred';
  predicted: string;
  log: string;
  evidence: string;
}

export interface LogComparison {
  agree: boolean;
  /** Fields compared (the log showed them and the prediction has the device). */
  compared: number;
  mismatches: LogMismatch[];
  /** Devices the log names that the prediction does not list. */
  notPredicted: string[];
}

const s = (v: unknown): string => (v === null || v === undefined ? '-' : String(v));

export function compareWithLog(predicted: Outcome, log: LogOutcome): LogComparison {
  const byId = new Map(predicted.devices.map((d) => [d.id, d]));
  const mismatches: LogMismatch[] = [];
  const notPredicted: string[] = [];
  let compared = 0;
  for (const l of log.devices) {
    const p = byId.get(l.id);
    if (!p) {
      notPredicted.push(l.id);
      continue;
    }
    const check = (field: LogMismatch['field'], same: boolean, pv: unknown, lv: unknown): void => {
      compared++;
      if (!same) mismatches.push({ device: l.id, field, predicted: s(pv), log: s(lv), evidence: l.evidence[field] });
    };
    if (l.driver !== null) check('driver', p.driver === l.driver, p.driver, l.driver);
    else if (l.probeFailures?.length && /the probe failed$/.test(l.evidence.driver)) {
      // A probe that failed for good (not -EPROBE_DEFER) leaves the device without that driver
      // until another driver registers (drivers/base/dd.c:really_probe): the log shows "none".
      const f = l.probeFailures[l.probeFailures.length - 1]!;
      check('driver', p.driver === null, p.driver, `none (${f.driver ?? 'probe'} failed ${f.error})`);
    }
    if (l.iommuGroup !== null)
      check(
        'iommuGroup',
        p.iommuGroup !== null,
        p.iommuGroup === null ? 'no group' : `group ${p.iommuGroup}`,
        `group ${l.iommuGroup}`,
      );
    if (l.ignoredDependency !== null)
      check('ignoredDependency', p.ignoredDependency === l.ignoredDependency, p.ignoredDependency, l.ignoredDependency);
    if (l.deferred !== null) check('deferred', p.deferred === l.deferred, p.deferred, l.deferred);
  }
  return { agree: mismatches.length === 0, compared, mismatches, notPredicted };
}

export function renderLogComparison(name: string, logFile: string, c: LogComparison): string {
  const lines = [
    `${name} against ${logFile}: ${c.agree ? 'agree' : 'DIFFER'} on the ${c.compared} fields the log shows`,
  ];
  for (const m of c.mismatches)
    lines.push(
      `  ${m.device.padEnd(28)} ${m.field.padEnd(18)} predicted ${m.predicted.padEnd(12)} log ${m.log}\n      ${m.evidence}`,
    );
  if (c.notPredicted.length)
    lines.push(
      `  not in the prediction (named differently, or not on this board's tree): ${c.notPredicted.join(', ')}`,
    );
  return `${lines.join('\n')}\n`;
}

export interface LogPolicyFailure {
  device: string;
  state: 'bypassed' | 'deferred';
  rule: string;
}

/**
 * The DMA-protection policy on a real log: each IOMMU master of the board (the prediction's
 * tree says which) that the log shows bound without an "Adding to iommu group" line, or still
 * deferred, fails — with the lines that show it. A master the log does not show bound or
 * deferred is not judged (it may do no DMA, or the log may not reach it).
 */
export function logTranslationFailures(masters: string[], log: LogOutcome): LogPolicyFailure[] {
  const out: LogPolicyFailure[] = [];
  for (const id of masters) {
    const d = log.devices.find((x) => x.id === id);
    if (!d || d.iommuGroup !== null) continue;
    if (d.deferred)
      out.push({
        device: id,
        state: 'deferred',
        rule: `drivers/base/dd.c:deferred_probe_timeout_work_func: ${d.evidence.deferred}`,
      });
    else if (d.driver !== null) {
      const why = d.ignoredDependency ? ` after ${d.evidence.ignoredDependency}` : '';
      out.push({
        device: id,
        state: 'bypassed',
        rule: `bound (${d.evidence.driver}) with no "Adding to iommu group" line (drivers/iommu/iommu.c:iommu_group_alloc_device)${why}`,
      });
    }
  }
  return out;
}
