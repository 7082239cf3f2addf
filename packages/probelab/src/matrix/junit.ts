/** JUnit XML for any CI: one test suite per variant, one test case per cell. */
import type { MatrixFile } from '@probelab/sim-core';
import type { CellResult } from './results.js';

const esc = (s: string): string =>
  s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);

function describe(r: CellResult): string {
  const lines: string[] = [];
  if (r.diff) {
    for (const d of r.diff.devices)
      lines.push(`${d.id}: ${d.field} predicted=${JSON.stringify(d.left)} real=${JSON.stringify(d.right)}`);
    for (const s of r.diff.sequences)
      lines.push(`${s.device}: predicted ${s.left.join(' > ') || '(none)'}; real ${s.right.join(' > ') || '(none)'}`);
  }
  if (r.timing)
    lines.push(
      `timing: max |predicted - real| ${(r.timing.maxAbs * 1000).toFixed(1)} ms; timeout-driven events within ${(r.timing.maxTimeoutRel * 100).toFixed(2)}%`,
    );
  if (r.masters) lines.push(`masters real: ${JSON.stringify(r.masters.real.counts)}`);
  if (r.consoleLog) lines.push(`console log: ${r.consoleLog}`);
  return lines.join('\n');
}

/** `requireTranslation`: a cell whose IOMMU masters end untranslated is a failure too. */
export function renderJUnit(m: MatrixFile, results: CellResult[], requireTranslation = false): string {
  const variants = [...new Set(results.map((r) => r.variant))];
  const out = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const policy = (r: CellResult): boolean =>
    requireTranslation && !!r.translation && (r.translation.real.length > 0 || r.translation.predicted.length > 0);
  const failing = (r: CellResult): boolean =>
    r.status === 'differ' || r.baseline === 'changed' || (r.status !== 'error' && policy(r));
  const fails = results.filter(failing).length;
  const errors = results.filter((r) => r.status === 'error').length;
  const total = results.reduce((s, r) => s + (r.wallSeconds ?? 0), 0);
  out.push(
    `<testsuites name="${esc(m.name)}" tests="${results.length}" failures="${fails}" errors="${errors}" time="${total.toFixed(3)}">`,
  );
  for (const v of variants) {
    const rs = results.filter((r) => r.variant === v);
    out.push(
      `  <testsuite name="${esc(`${m.name}.${v}`)}" tests="${rs.length}" failures="${rs.filter(failing).length}" errors="${rs.filter((r) => r.status === 'error').length}" time="${rs.reduce((s, r) => s + (r.wallSeconds ?? 0), 0).toFixed(3)}">`,
    );
    for (const r of rs) {
      const name = `timeout=${r.params.timeout} load@${r.params.loadAt}s${r.params.fwDevlink ? ` fw_devlink=${r.params.fwDevlink}` : ''} [${r.params.devices.join(',')}]`;
      out.push(
        `    <testcase classname="${esc(`${m.name}.${v}`)}" name="${esc(name)}" time="${(r.wallSeconds ?? 0).toFixed(3)}">`,
      );
      if (r.status === 'error') out.push(`      <error message="${esc(r.error ?? 'error')}"/>`);
      else if (r.status === 'differ')
        out.push(`      <failure message="real outcome differs from the prediction">${esc(describe(r))}</failure>`);
      else if (r.baseline === 'changed')
        out.push(`      <failure message="real outcome changed from the baseline">${esc(describe(r))}</failure>`);
      else if (policy(r))
        out.push(
          `      <failure message="IOMMU masters not translated (--require-translation)">${esc([...r.translation!.real.map((f) => `real ${f.device} ${f.state}: ${f.rule}`), ...r.translation!.predicted.map((f) => `predicted ${f.device} ${f.state}: ${f.rule}`)].join('\n'))}</failure>`,
        );
      out.push(`      <system-out>${esc(describe(r))}</system-out>`);
      out.push('    </testcase>');
    }
    out.push('  </testsuite>');
  }
  out.push('</testsuites>');
  return out.join('\n') + '\n';
}
