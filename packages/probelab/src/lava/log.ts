/**
 * A LAVA job's log as the console it carries: LAVA's `output.yaml` (a YAML list, one flow
 * mapping per line: `- {"dt": …, "lvl": "target", "msg": "…"}`) or what `lava-run` prints (the
 * same mappings as JSON lines). The device's console is the `target` lines (and `feedback`, what
 * LAVA reads after the last prompt matched); anything else is LAVA's own. A plain console log is
 * taken as it is. Then the harness's console parser (console-parser.ts) makes the outcome.
 */
import { parse } from 'yaml';
import { InputError, readInputFile, type Outcome } from '@probelab/sim-core';
import { outcomeFromConsole, parseConsole, type ParsedConsole } from '@probelab/harness';

const lavaLine = /^(- )?\{\s*"?dt"?\s*:/;

/** The console text of a LAVA log (or the text itself when it is not one). */
export function lavaConsole(text: string, file = '<log>'): { console: string; lava: boolean } {
  const lines = text.split('\n');
  const first = lines.find((l) => l.trim());
  if (!first || !lavaLine.test(first)) return { console: text, lava: false };
  const out: string[] = [];
  lines.forEach((raw, i) => {
    if (!raw.trim()) return;
    const body = raw.replace(/^- /, '');
    type Row = { lvl?: unknown; msg?: unknown } | null;
    let row: Row;
    try {
      row = JSON.parse(body) as Row;
    } catch {
      // LAVA writes one console line per row (a kernel record is at most 1 KiB): a row this long
      // is not LAVA's, and the YAML reader would take seconds over it.
      if (body.length > 64 * 1024)
        throw new InputError(
          'a LAVA log line longer than 64 KiB that is not JSON (expected {dt, lvl, msg})',
          file,
          i + 1,
          1,
        );
      try {
        row = parse(body) as Row;
      } catch {
        // A torn last line of a log cut off mid-write is a state, not an error.
        if (i >= lines.length - 2) return;
        throw new InputError('not a LAVA log line (expected {dt, lvl, msg})', file, i + 1, 1);
      }
    }
    if ((row?.lvl === 'target' || row?.lvl === 'feedback') && typeof row.msg === 'string') out.push(row.msg);
  });
  return { console: out.join('\n') + '\n', lava: true };
}

/** Modules the guest's init loaded, from its kernel-log markers (no scenario needed). */
export function modulesLoaded(p: ParsedConsole): string[] {
  return p.dmesg.map((l) => /^probelab: module load begin (\S+)$/.exec(l.text)?.[1]).filter((m): m is string => !!m);
}

export interface LavaOutcome {
  outcome: Outcome;
  parsed: ParsedConsole;
  lava: boolean;
}

export function readLavaLog(file: string): LavaOutcome {
  const { console, lava } = lavaConsole(readInputFile(file, 'LAVA log', 256 * 1024 * 1024), file);
  const parsed = parseConsole(console);
  if (!parsed.complete)
    throw new InputError(
      `the log ends before the guest's state dump (phase: ${parsed.phase}): not a complete probelab boot`,
      file,
    );
  return { outcome: outcomeFromConsole(parsed, modulesLoaded(parsed)), parsed, lava };
}
