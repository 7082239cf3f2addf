/**
 * The survey's outputs beside results.jsonl: which boards a patch changed (per device, before and
 * after), the HTML report (an overview per vendor directory, a drill-down per board, as the
 * matrix report does per cell) and JUnit (a test case per board).
 */
import type { BoardResult } from './board-run.js';
import type { SurveySummary } from './command.js';

interface Row {
  board: string;
  result?: BoardResult;
  error?: string;
}
export interface BoardChange {
  board: string;
  devices: Array<{ id: string; before: string; after: string }>;
}

const esc = (s: string): string =>
  s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' })[c]!);

/** A device's state in a board result: an IOMMU master's translation state, deferred, or absent. */
function states(r: BoardResult | undefined): Map<string, string> {
  const m = new Map<string, string>();
  for (const x of r?.masters ?? []) m.set(x.id, x.state);
  for (const d of r?.deferred ?? []) if (!m.has(d.id)) m.set(d.id, 'deferred');
  return m;
}

export function boardChanges(base: Row[], patched: Row[]): BoardChange[] {
  const after = new Map(patched.map((r) => [r.board, r]));
  const out: BoardChange[] = [];
  for (const b of base) {
    const p = after.get(b.board);
    if (!p) continue;
    const s0 = states(b.result);
    const s1 = states(p.result);
    const devices: BoardChange['devices'] = [];
    for (const id of [...new Set([...s0.keys(), ...s1.keys()])].sort()) {
      const before = s0.get(id) ?? (b.result ? 'not deferred' : `error`);
      const after1 = s1.get(id) ?? (p.result ? 'not deferred' : 'error');
      if (before !== after1) devices.push({ id, before, after: after1 });
    }
    if ((b.error ?? '') !== (p.error ?? ''))
      devices.push({ id: '(board)', before: b.error ?? 'ok', after: p.error ?? 'ok' });
    if (devices.length) out.push({ board: b.board, devices });
  }
  return out;
}

const vendor = (board: string): string => board.split('/')[0] ?? board;
const colour: Record<string, string> = {
  translated: '#2e7d32',
  identity: '#f9a825',
  bypassed: '#c62828',
  deferred: '#6a1b9a',
  unbound: '#9e9e9e',
};

export function renderSurveyReport(s: SurveySummary, base: Row[], patched: Row[], changes: BoardChange[]): string {
  const changed = new Map(changes.map((c) => [c.board, c]));
  const vendors = [...new Set(base.map((r) => vendor(r.board)))].sort();
  const count = (rs: Row[], st: string): number =>
    rs.reduce((n, r) => n + (r.result?.masters.filter((m) => m.state === st).length ?? 0), 0);
  const overview = vendors
    .map((v) => {
      const rs = base.filter((r) => vendor(r.board) === v);
      const cells = ['translated', 'identity', 'bypassed', 'deferred', 'unbound']
        .map((st) => `<td class="n">${count(rs, st) || ''}</td>`)
        .join('');
      return `<tr><td><a href="#v-${esc(v)}">${esc(v)}</a></td><td class="n">${rs.length}</td>${cells}<td class="n">${rs.filter((r) => r.result?.deferred.length).length || ''}</td><td class="n">${rs.filter((r) => changed.has(r.board)).length || ''}</td><td class="n">${rs.filter((r) => r.error).length || ''}</td></tr>`;
    })
    .join('\n');
  const after = new Map(patched.map((r) => [r.board, r]));
  const boardHtml = (r: Row): string => {
    const res = r.result;
    const c = changed.get(r.board);
    const badge = res
      ? res.masters
          .map(
            (m) =>
              `<span class="dot" style="background:${colour[m.state]}" title="${esc(`${m.id}: ${m.state}`)}"></span>`,
          )
          .join('')
      : '';
    const masters = res?.masters.length
      ? `<table><tr><th>IOMMU master</th><th>state</th><th>group</th><th>rule</th>${after.has(r.board) ? '<th>patched</th>' : ''}</tr>${res.masters.map((m) => `<tr><td>${esc(m.id)}</td><td style="color:${colour[m.state]}">${m.state}</td><td>${m.group ?? ''}</td><td>${esc(m.rule ?? '')}</td>${after.has(r.board) ? `<td>${esc(after.get(r.board)!.result?.masters.find((x) => x.id === m.id)?.state ?? '')}</td>` : ''}</tr>`).join('')}</table>`
      : '<p>no IOMMU masters</p>';
    const deferred = res?.deferred.length
      ? `<p>deferred at the end:</p><ul>${res.deferred.map((d) => `<li>${esc(d.id)}: ${esc(d.reason)}</li>`).join('')}</ul>`
      : '';
    const hazards = res?.hazards.length
      ? `<p>hazards:</p><ul>${res.hazards.map((h) => `<li>${esc(h.kind)} ${esc(h.device)}: ${esc(h.rule)}</li>`).join('')}</ul>`
      : '';
    const change = c
      ? `<p class="changed">changed by the patch: ${c.devices.map((d) => `${esc(d.id)} ${esc(d.before)} → ${esc(d.after)}`).join(', ')}</p>`
      : '';
    const mods = res?.modules.length ? `<p>coldplug: ${res.modules.map(esc).join(' ')}</p>` : '';
    return `<details class="board${c ? ' has-change' : ''}" id="b-${esc(r.board)}"><summary>${esc(r.board)} ${badge}${c ? ' <b>changed</b>' : ''}${r.error ? ` <b>error</b>` : ''}</summary>${r.error ? `<p class="err">${esc(r.error)}</p>` : ''}${change}<p>${res?.devices ?? 0} devices</p>${masters}${deferred}${hazards}${mods}</details>`;
  };
  const sections = vendors
    .map(
      (v) =>
        `<h2 id="v-${esc(v)}">${esc(v)}</h2>\n${base
          .filter((r) => vendor(r.board) === v)
          .map(boardHtml)
          .join('\n')}`,
    )
    .join('\n');
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>probelab survey: linux ${esc(s.source)}</title>
<style>body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 6px;font-size:13px}td.n{text-align:right}.dot{display:inline-block;width:9px;height:9px;border-radius:50%;margin-left:2px}details{margin:2px 0}.changed{color:#c62828}.has-change>summary{background:#fff3e0}.err{color:#c62828}</style></head>
<body><h1>probelab survey: ${s.boards} arm64 boards, linux ${esc(s.source)}${s.config ? ` + ${esc(s.config)}` : ''}</h1>
<p id="summary">coldplug at ${s.coldplugAt} s${s.cmdline ? `, cmdline ${esc(s.cmdline)}` : ''}${s.patches.length ? `, patch ${s.patches.map(esc).join(' ')}: <b>${s.changedBoards}</b> boards changed` : ''}; ${s.untranslatedBoards.length} boards leave IOMMU masters untranslated; ${s.errors.length} errors; ${s.wallSeconds} s</p>
<table id="overview"><tr><th>vendor</th><th>boards</th><th>translated</th><th>identity</th><th>bypassed</th><th>deferred</th><th>unbound</th><th>boards with deferred devices</th><th>changed</th><th>errors</th></tr>
${overview}</table>
${sections}
<script>
// #b-<board> opens that board's drill-down (links from CI, from the JUnit, from a mail).
function openHash() {
  const id = decodeURIComponent(location.hash.slice(1));
  const el = id && document.getElementById(id);
  if (el && el.tagName === 'DETAILS') { el.open = true; el.scrollIntoView(); }
}
window.addEventListener('hashchange', openHash);
openHash();
</script>
</body></html>
`;
}

export function renderSurveyJUnit(base: Row[], changes: BoardChange[], requireTranslation: boolean): string {
  const changed = new Map(changes.map((c) => [c.board, c]));
  const vendors = [...new Set(base.map((r) => vendor(r.board)))].sort();
  const untranslated = (r: Row): string[] =>
    (r.result?.masters ?? [])
      .filter((m) => m.state === 'bypassed' || m.state === 'deferred' || m.state === 'identity')
      .map((m) => `${m.id} ${m.state}: ${m.rule ?? ''}`);
  const failing = (r: Row): boolean => changed.has(r.board) || (requireTranslation && untranslated(r).length > 0);
  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="probelab survey" tests="${base.length}" failures="${base.filter(failing).length}" errors="${base.filter((r) => r.error).length}">`,
  ];
  for (const v of vendors) {
    const rs = base.filter((r) => vendor(r.board) === v);
    out.push(
      `  <testsuite name="${esc(v)}" tests="${rs.length}" failures="${rs.filter(failing).length}" errors="${rs.filter((r) => r.error).length}">`,
    );
    for (const r of rs) {
      out.push(`    <testcase classname="survey.${esc(v)}" name="${esc(r.board)}">`);
      if (r.error) out.push(`      <error message="${esc(r.error)}"/>`);
      else if (changed.has(r.board))
        out.push(
          `      <failure message="the patch changes this board's outcome">${esc(
            changed
              .get(r.board)!
              .devices.map((d) => `${d.id}: ${d.before} -> ${d.after}`)
              .join('\n'),
          )}</failure>`,
        );
      else if (requireTranslation && untranslated(r).length)
        out.push(
          `      <failure message="IOMMU masters not translated (--require-translation)">${esc(untranslated(r).join('\n'))}</failure>`,
        );
      out.push('    </testcase>');
    }
    out.push('  </testsuite>');
  }
  out.push('</testsuites>');
  return `${out.join('\n')}\n`;
}
