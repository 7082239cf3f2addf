/**
 * dtc's diagnostics as data. dtc prints (srcpos.c:srcpos_string, checks.c:check_msg,
 * dtc-parser.y:yyerror):
 *   "<file>:<line>.<col>-<col2>: Warning (<check>): <path>: <text>"
 *   "<file>:<line>.<col>-<line2>.<col2>: ERROR (<check>): ..."
 *   "Error: <file>:<line>.<col>-<col2> syntax error"
 *   "FATAL ERROR: <text>"
 */
export interface DtcMessage {
  severity: 'warning' | 'error' | 'fatal';
  file?: string;
  line?: number;
  column?: number;
  check?: string;
  text: string;
}

export function parseDtcMessages(stderr: string): DtcMessage[] {
  const out: DtcMessage[] = [];
  for (const raw of stderr.split('\n')) {
    const line = raw.trimEnd();
    if (!line) continue;
    let m = /^(.+?):(\d+)\.(\d+)-[\d.]+: (Warning|ERROR) \(([\w-]+)\): (.*)$/.exec(line);
    if (m) {
      out.push({
        severity: m[4] === 'Warning' ? 'warning' : 'error',
        file: m[1]!,
        line: Number(m[2]),
        column: Number(m[3]),
        check: m[5]!,
        text: m[6]!,
      });
      continue;
    }
    m = /^(.+?): (Warning|ERROR) \(([\w-]+)\): (.*)$/.exec(line);
    if (m) {
      out.push({ severity: m[2] === 'Warning' ? 'warning' : 'error', file: m[1]!, check: m[3]!, text: m[4]! });
      continue;
    }
    m = /^Error: (.+?):(\d+)\.(\d+)-[\d.]+ (.*)$/.exec(line);
    if (m) {
      out.push({ severity: 'error', file: m[1]!, line: Number(m[2]), column: Number(m[3]), text: m[4]! });
      continue;
    }
    m = /^FATAL ERROR: (.*)$/.exec(line);
    if (m) {
      out.push({ severity: 'fatal', text: m[1]! });
      continue;
    }
    m = /^(Warning|ERROR) \(([\w-]+)\): (.*)$/.exec(line);
    if (m) {
      out.push({ severity: m[1] === 'Warning' ? 'warning' : 'error', check: m[2]!, text: m[3]! });
      continue;
    }
    out.push({ severity: /^Warning/i.test(line) ? 'warning' : 'error', text: line });
  }
  return out;
}
