/**
 * A boot log's lines as kernel records: whatever carried the console — a serial capture, `dmesg`,
 * a LAVA log (output.yaml's YAML lines or the text timestamps of KernelCI's reports), a log
 * pasted into a mail (`> ` quoting) — down to (time, level, message). The record format is
 * kernel/printk/printk.c:info_print_prefix: an optional `<level>` (syslog facility*8 + level),
 * `[%5lu.%06lu]` and, with CONFIG_PRINTK_CALLER, `[T<pid>]`/`[C<cpu>]`. A record may start in
 * the middle of a line when the kernel's console output interleaves with a shell's, as it does
 * after a LAVA prompt; the text before it is not the kernel's.
 */
import { lavaConsole } from '../lava/log.js';

export interface LogRecord {
  /** 1-based line of the console text (of the LAVA log's console lines for a LAVA log). */
  line: number;
  /** Seconds since boot, or null for a line printed without a timestamp. */
  t: number | null;
  /** The console loglevel (0 emerg … 7 debug) where the line carries `<N>`, else null. */
  level: number | null;
  text: string;
}

export interface LogLines {
  format: 'console' | 'lava';
  records: LogRecord[];
  /** How many records carried a timestamp. */
  timestamped: number;
}

const ansi = /\x1b\[[0-9;?]*[A-Za-z]/g;
const quote = /^\s*(?:>\s?)+/;
const isoStamp = /^\s*\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?\s+/;
const record = /(?:<(\d{1,3})>)?\[\s*(\d+)\.(\d{6})\]\s?(?:\[\s*[TC]\d+\]\s?)?(.*)$/;
const wallStamp = /^\[(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}\]\s?/;
const levelOnly = /^<(\d{1,3})>(?=\S)/;

/**
 * A kernel record is at most 1024 bytes (kernel/printk/printk.c: PRINTK_MESSAGE_MAX), its
 * prefixes some dozens more: a longer line is not one record, and only its head is read (which
 * also keeps the patterns linear on hostile input).
 */
const lineMax = 2048;

/** The records of a log's text (LAVA logs are reduced to their console first). */
export function logLines(text: string, file: string): LogLines {
  const lava = lavaConsole(text, file);
  const out: LogRecord[] = [];
  let timestamped = 0;
  lava.console.split('\n').forEach((raw, i) => {
    let s = (raw.length > lineMax ? raw.slice(0, lineMax) : raw).replace(/\r$/, '').replace(ansi, '');
    s = s.replace(quote, '').replace(isoStamp, '');
    const m = record.exec(s);
    if (m) {
      timestamped++;
      out.push({
        line: i + 1,
        t: Number(`${m[2]}.${m[3]}`),
        level: m[1] !== undefined ? Number(m[1]) & 7 : null,
        text: m[4]!.trimEnd(),
      });
      return;
    }
    s = s.replace(wallStamp, '').trim();
    if (!s) return;
    const l = levelOnly.exec(s);
    out.push({ line: i + 1, t: null, level: l ? Number(l[1]) & 7 : null, text: l ? s.slice(l[0].length) : s });
  });
  return { format: lava.lava ? 'lava' : 'console', records: out, timestamped };
}
