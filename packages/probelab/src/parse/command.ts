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
    const notes = [
      d.deferredReason !== undefined ? `deferred: ${d.deferredReason}` : '',
      ...(d.probeFailures ?? []).map((f) => `${f.driver ?? 'probe'} failed ${f.error}`),
    ]
      .filter(Boolean)
      .join('; ');
    return `  ${d.id.padEnd(44)} ${show(d.bus).padEnd(9)} ${show(d.driver).padEnd(20)} ${show(d.iommuGroup).padEnd(6)} ${show(d.ignoredDependency).padEnd(12)} ${show(d.deferred).padEnd(9)}${notes ? ` ${notes}` : ''}`.trimEnd();
  });
  const faults = o.faults.map((f) => `  fault ${f.t !== null ? f.t.toFixed(6) : '?'} ${f.iommu}: ${f.message}`);
  return (
    [
      head,
      `  ${'device'.padEnd(44)} ${'bus'.padEnd(9)} ${'driver'.padEnd(20)} ${'group'.padEnd(6)} ${'ignored-dep'.padEnd(12)} deferred`,
      ...rows,
      ...faults,
      '  ? = the log does not show it (--json gives the evidence for every field)',
    ].join('\n') + '\n'
  );
}

export const parseSynopsis = 'probelab parse LOG [--require-translation --board BOARD-SCENARIO] [--json]';
const usage = `usage: ${parseSynopsis}`;

/**
 * `--require-translation --board BOARD-SCENARIO`: the DMA-protection policy on the log alone. A
 * log does not say which devices are IOMMU masters; the board's tree does (`iommus`,
 * `iommu-map`: sim-core translation-policy.ts), so the board scenario names them.
 */
export async function cmdParse(
  file: string,
  board: string | undefined,
  policy: boolean,
  json: boolean,
): Promise<number> {
  const fail = (m: string): number => {
    process.stderr.write(`probelab: parse: ${m}\n`);
    return 2;
  };
  const files = [file];
  if (policy !== (board !== undefined))
    return fail(
      `--require-translation and --board go together: the board's tree says which devices are IOMMU masters (${usage})`,
    );
  const o = parseLogFile(files[0]!);
  if (!policy) {
    process.stdout.write(json ? `${JSON.stringify(o, null, 2)}\n` : renderLogOutcome(files[0]!, o));
    return 0;
  }
  const { loadAnyScenario, iommuMasters } = await import('@probelab/sim-core');
  const { predictBoard } = await import('@probelab/harness');
  const { logTranslationFailures } = await import('./log-compare.js');
  const any = loadAnyScenario(board!);
  if (any.kind !== 'board')
    return fail(`--board ${board}: expected a board scenario (board: <dts>), not a QEMU scenario`);
  const masters = iommuMasters((await predictBoard(any.scenario, (l) => void process.stderr.write(`${l}\n`))).core);
  const failures = logTranslationFailures(masters, o);
  const shown = masters.filter((m) => o.devices.some((d) => d.id === m));
  if (json)
    process.stdout.write(
      `${JSON.stringify({ ...o, requireTranslation: { masters, failed: failures.length > 0, real: failures } }, null, 2)}\n`,
    );
  else {
    process.stdout.write(renderLogOutcome(files[0]!, o));
    process.stdout.write(
      failures.length
        ? `DMA protection (--require-translation): FAILED, IOMMU masters not translated\n${failures.map((f) => `  ${f.device.padEnd(22)} ${f.state.padEnd(9)} ${f.rule}`).join('\n')}\n`
        : `DMA protection (--require-translation): the log shows ${shown.length} of the board's ${masters.length} IOMMU master(s), none bound untranslated or deferred\n`,
    );
  }
  return failures.length ? 1 : 0;
}
