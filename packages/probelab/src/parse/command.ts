/**
 * `probelab parse LOG [--json]`: any boot log (log-lines.ts) read into what it shows of each
 * device (log-outcome.ts). Text: one row per device, `?` where the log cannot tell (--json has
 * the evidence of every field).
 */
import { readInputFile } from '@probelab/sim-core';
import { logLines } from './log-lines.js';
import { logOutcome, type LogOutcome } from './log-outcome.js';

/** Real logs run to a few MB (a 6.x arm64 boot with initcall_debug is ~2 MB). */
export const logBytes = 64 * 1024 * 1024;

export function parseLogFile(file: string): LogOutcome {
  return logOutcome(logLines(readInputFile(file, 'boot log', logBytes), file));
}

const show = (v: string | number | boolean | null): string => (v === null ? '?' : String(v));

export function renderLogOutcome(file: string, o: LogOutcome): string {
  const head = `${file}: ${o.format === 'lava' ? 'LAVA log' : 'boot log'}, kernel ${o.kernel ?? '?'}, machine ${o.machine ?? '?'}; ${o.records} lines, ${o.timestamped} with timestamps; ${o.devices.length} devices`;
  const rows = o.devices.map((d) => {
    const notes = [d.deferredReason !== undefined ? `deferred: ${d.deferredReason}` : '', ...(d.probeFailures ?? []).map((f) => `${f.driver ?? 'probe'} failed ${f.error}`)].filter(Boolean).join('; ');
    return `  ${d.id.padEnd(44)} ${show(d.bus).padEnd(9)} ${show(d.driver).padEnd(20)} ${show(d.iommuGroup).padEnd(6)} ${show(d.ignoredDependency).padEnd(12)} ${show(d.deferred).padEnd(9)}${notes ? ` ${notes}` : ''}`.trimEnd();
  });
  const faults = o.faults.map((f) => `  fault ${f.t !== null ? f.t.toFixed(6) : '?'} ${f.iommu}: ${f.message}`);
  return [head, `  ${'device'.padEnd(44)} ${'bus'.padEnd(9)} ${'driver'.padEnd(20)} ${'group'.padEnd(6)} ${'ignored-dep'.padEnd(12)} deferred`, ...rows, ...faults, '  ? = the log does not show it (--json gives the evidence for every field)'].join('\n') + '\n';
}

export function cmdParse(args: string[], json: boolean): number {
  const fail = (m: string): number => {
    process.stderr.write(`probelab: parse: ${m}\n`);
    return 2;
  };
  const files = args.filter((a) => !a.startsWith('-'));
  const flag = args.find((a) => a.startsWith('-'));
  if (flag) return fail(`unknown option ${flag} (usage: probelab parse LOG [--json])`);
  if (files.length !== 1) return fail('usage: probelab parse LOG [--json]');
  const o = parseLogFile(files[0]!);
  process.stdout.write(json ? `${JSON.stringify(o, null, 2)}\n` : renderLogOutcome(files[0]!, o));
  return 0;
}
