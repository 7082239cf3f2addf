/** Human-readable renderings of outcomes and diffs. */
import type { Hazard, Outcome, OutcomeDiff } from '@probelab/sim-core';

export function renderOutcome(title: string, o: Outcome): string {
  const lines = [`${title}`, '  device              bus       driver              group  ignored-dep  deferred'];
  for (const d of o.devices) {
    lines.push(
      `  ${d.id.padEnd(19)} ${d.bus.padEnd(9)} ${(d.driver ?? '-').padEnd(19)} ${String(d.iommuGroup ?? '-').padEnd(6)} ${String(d.ignoredDependency).padEnd(12)} ${d.deferred}`,
    );
  }
  lines.push('  events:');
  for (const e of o.events) {
    if (e.kind === 'probe-deferred') continue;
    const extra = e.driver ? ` ${e.driver}` : e.module ? ` ${e.module}` : e.value !== undefined ? ` ${e.value}` : '';
    lines.push(`  ${e.t.toFixed(6).padStart(12)}  ${e.kind.padEnd(18)} ${e.device ?? ''}${extra}`);
  }
  const deferrals = o.events.filter((e) => e.kind === 'probe-deferred').length;
  if (deferrals) lines.push(`  (${deferrals} probe-deferred events not listed)`);
  return lines.join('\n');
}

export function renderDiff(d: OutcomeDiff, left = 'predicted', right = 'real'): string {
  const lines: string[] = [
    d.agree ? `AGREE: ${left} and ${right} outcomes are the same` : `DIFFER: ${left} and ${right} outcomes differ`,
  ];
  if (d.devices.length) {
    lines.push('  per device:');
    for (const x of d.devices)
      lines.push(`    ${x.id}: ${x.field} ${left}=${JSON.stringify(x.left)} ${right}=${JSON.stringify(x.right)}`);
  }
  if (d.sequences.length) {
    lines.push('  per device, event kinds in order (repeats collapsed):');
    for (const s of d.sequences)
      lines.push(
        `    ${s.device}:\n      ${left}: ${s.left.join(' → ') || '(none)'}\n      ${right}: ${s.right.join(' → ') || '(none)'}`,
      );
  }
  const t = d.timing.filter((x) => x.kind !== 'probe-deferred');
  if (t.length) {
    lines.push('  timing, first event of each kind (guest s):');
    for (const x of t)
      lines.push(
        `    ${(x.device ?? '(global)').padEnd(16)} ${x.kind.padEnd(18)} ${left} ${x.left.toFixed(3).padStart(8)}  ${right} ${x.right.toFixed(3).padStart(8)}  Δ ${(x.left - x.right).toFixed(3)}`,
      );
  }
  return lines.join('\n');
}

export function renderHazards(h: Hazard[]): string {
  if (!h.length) return '';
  return (
    [
      'hazards (predicted):',
      ...h.map((x) => `  ${x.device}: ${x.kind} at ${x.t.toFixed(3)} s — ${x.detail}\n    rule: ${x.rule}`),
    ].join('\n') + '\n'
  );
}
