/**
 * The matrix report: one self-contained HTML file. Per variant a grid (rows: load time of the
 * module, columns: deferred_probe_timeout) coloured by the real outcome of the IOMMU masters
 * (all translated / some bypassed / deferred forever), disagreement with the simulator and
 * baseline changes marked; per cell the diff, the timing error, the hazards, a timeline of real
 * and predicted events, and the raw console log (embedded, gzip + base64, opened on click).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { MatrixFile } from '@probelab/sim-core';
import type { CellResult } from './results.js';
import { renderTimeline } from './timeline-svg.js';

const esc = (s: string): string =>
  s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' })[c]!);

export type CellClass = 'translated' | 'bypassed' | 'deferred' | 'disagree' | 'error' | 'no-masters';

export function cellClass(r: CellResult): CellClass {
  if (r.status === 'error') return 'error';
  if (r.status === 'differ') return 'disagree';
  const w = r.masters?.real.worst ?? 'no-masters';
  return w === 'unbound' ? 'bypassed' : w;
}

const legend: Array<[CellClass, string]> = [
  ['translated', 'all masters translated'],
  ['bypassed', 'some masters bypassed (untranslated)'],
  ['deferred', 'deferred forever'],
  ['disagree', 'real differs from the simulator'],
  ['error', 'cell failed to run'],
  ['no-masters', 'no IOMMU masters'],
];

function detail(r: CellResult, dir: string): string {
  const parts: string[] = [];
  parts.push(
    `<h3>${esc(r.id)}</h3><p>${esc(r.scenario.kernel)} (${esc(r.kernelRelease ?? '?')}), virt/${esc(r.scenario.machine.iommu)}, devices ${esc(r.params.devices.join(', '))}; cmdline <code>${esc(r.scenario.cmdline)}</code>; modules ${esc(r.scenario.modules.map((m) => `${m.name}@${m.at}s`).join(', '))}; capture ${r.scenario.capture} s; ${r.wallSeconds?.toFixed(1) ?? '?'} s wall</p>`,
  );
  if (r.status === 'error') parts.push(`<p class="err">error: ${esc(r.error ?? '')}</p>`);
  if (r.diff) {
    parts.push(
      `<p class="verdict ${r.status}">${r.status === 'agree' ? 'real and predicted outcomes agree' : 'real and predicted outcomes DIFFER'}${r.baseline ? ` — baseline: ${r.baseline}` : ''}</p>`,
    );
    if (r.diff.devices.length || r.diff.sequences.length) {
      parts.push(
        '<ul class="diff">' +
          r.diff.devices
            .map(
              (d) =>
                `<li>${esc(d.id)}: ${esc(d.field)} predicted=${esc(JSON.stringify(d.left))} real=${esc(JSON.stringify(d.right))}</li>`,
            )
            .join('') +
          r.diff.sequences
            .map(
              (s) =>
                `<li>${esc(s.device)}: predicted ${esc(s.left.join(' → ') || '(none)')}<br>real ${esc(s.right.join(' → ') || '(none)')}</li>`,
            )
            .join('') +
          '</ul>',
      );
    }
  }
  if (r.masters) {
    parts.push(
      '<table class="masters"><tr><th>master</th><th>predicted</th><th>real</th></tr>' +
        Object.keys(r.masters.real.states)
          .map(
            (id) =>
              `<tr><td>${esc(id)}</td><td class="s-${r.masters!.predicted.states[id]}">${r.masters!.predicted.states[id]}</td><td class="s-${r.masters!.real.states[id]}">${r.masters!.real.states[id]}</td></tr>`,
          )
          .join('') +
        '</table>',
    );
  }
  if (r.timing && r.diff) {
    const rows = r.diff.timing
      .filter((t) => t.kind !== 'probe-deferred')
      .map(
        (t) =>
          `<tr><td>${esc(t.device ?? '(global)')}</td><td>${esc(t.kind)}</td><td>${t.left.toFixed(3)}</td><td>${t.right.toFixed(3)}</td><td>${((t.left - t.right) * 1000).toFixed(1)}</td></tr>`,
      )
      .join('');
    parts.push(
      `<p>timing error: max ${(r.timing.maxAbs * 1000).toFixed(1)} ms; timeout-driven events within ${(r.timing.maxTimeoutRel * 100).toFixed(3)}%</p><details><summary>event times (first of each kind per device)</summary><table class="times"><tr><th>device</th><th>kind</th><th>predicted s</th><th>real s</th><th>Δ ms</th></tr>${rows}</table></details>`,
    );
  }
  if (r.hazards?.length)
    parts.push(
      '<p>hazards (predicted):</p><ul>' +
        r.hazards
          .map(
            (h) =>
              `<li><b>${esc(h.device)}</b>: ${esc(h.kind)} at ${h.t.toFixed(3)} s — ${esc(h.detail)}<br><small>${esc(h.rule)}</small></li>`,
          )
          .join('') +
        '</ul>',
    );
  if (r.predicted && r.real) parts.push(renderTimeline(r.predicted, r.real, r.scenario.capture));
  const log = r.consoleLog ? join(dir, r.consoleLog) : null;
  if (log && existsSync(log)) {
    const b64 = gzipSync(readFileSync(log)).toString('base64');
    parts.push(
      `<p><button class="log" data-log="log-${esc(r.id)}">raw console log</button> <small>(${esc(r.consoleLog!)})</small></p><script type="application/gzip-base64" id="log-${esc(r.id)}">${b64}</script>`,
    );
  }
  return parts.join('\n');
}

export function renderReport(m: MatrixFile, results: CellResult[], dir: string): string {
  const agree = results.filter((r) => r.status === 'agree').length;
  const differ = results.filter((r) => r.status === 'differ').length;
  const errors = results.filter((r) => r.status === 'error').length;
  const changed = results.filter((r) => r.baseline === 'changed').length;
  const maxRel = results.reduce((x, r) => Math.max(x, r.timing?.maxTimeoutRel ?? 0), 0);
  const wall = results.reduce((s, r) => s + (r.wallSeconds ?? 0), 0);
  const guest = results.reduce((s, r) => s + r.scenario.capture, 0);
  const groups = new Map<string, CellResult[]>();
  for (const r of results) {
    const key = `${r.variant}${r.params.fwDevlink ? ` · fw_devlink=${r.params.fwDevlink}` : ''} · ${r.params.devices.join(', ') || 'no devices'}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const grids: string[] = [];
  const details: string[] = [];
  for (const [key, rs] of groups) {
    const timeouts = [...new Set(rs.map((r) => r.params.timeout))].sort((a, b) => a - b);
    const loads = [...new Set(rs.map((r) => r.params.loadAt))].sort((a, b) => a - b);
    const mod = rs[0]!.scenario.modules.find((x) => x.at === rs[0]!.params.loadAt)?.name ?? 'module';
    let g = `<section class="grid"><h2>${esc(key)}</h2><table><tr><th>${esc(mod)} at ↓ / timeout →</th>${timeouts.map((t) => `<th>${t} s</th>`).join('')}</tr>`;
    for (const at of loads) {
      g += `<tr><th>${at} s</th>`;
      for (const t of timeouts) {
        const r = rs.find((x) => x.params.timeout === t && x.params.loadAt === at);
        if (!r) {
          g += '<td></td>';
          continue;
        }
        const c = cellClass(r);
        const counts = r.masters
          ? `${r.masters.real.counts.translated}/${r.masters.real.counts.bypassed}/${r.masters.real.counts.deferred}`
          : '—';
        const ms = r.timing ? `${(r.timing.maxAbs * 1000).toFixed(0)} ms` : '';
        g += `<td><button class="cell c-${c}${r.baseline === 'changed' ? ' changed' : ''}" data-cell="${esc(r.id)}" title="${esc(r.id)}: ${c}">${counts}<br><small>${ms}</small></button></td>`;
      }
      g += '</tr>';
    }
    grids.push(g + '</table></section>');
    for (const r of rs) details.push(`<template id="cell-${esc(r.id)}">${detail(r, dir)}</template>`);
  }
  const css = `body{font-family:sans-serif;margin:20px;color:#222}h1{font-size:20px}h2{font-size:15px;margin:18px 0 6px}
table{border-collapse:collapse}th{font-weight:normal;color:#555;padding:3px 6px;font-size:12px}td{padding:2px}
button.cell{width:78px;height:42px;border:2px solid transparent;border-radius:4px;color:#fff;font-size:12px;cursor:pointer}
button.cell.selected{outline:3px solid #222}button.cell.changed{border:3px dashed #000}
.c-translated{background:#3a9d5d}.c-bypassed{background:#e8a33d}.c-deferred{background:#c8423b}.c-disagree{background:#7b3fb5}.c-error{background:#333}.c-no-masters{background:#bbb}
.legend span{display:inline-block;margin-right:14px;font-size:12px}.legend i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-2px;border-radius:2px}
#detail{margin-top:20px;padding:12px;border:1px solid #ddd;border-radius:6px;min-height:40px}
.verdict.agree{color:#276749}.verdict.differ{color:#7b3fb5;font-weight:bold}.err{color:#c8423b}
.masters td,.times td{padding:2px 8px;font-size:12px;border-bottom:1px solid #eee}.s-translated{color:#276749}.s-bypassed{color:#b7791f}.s-deferred{color:#c8423b}
pre.log{max-height:500px;overflow:auto;background:#f7f7f7;padding:8px;font-size:11px}`;
  const js = `const detail=document.getElementById('detail');
function show(id){document.querySelectorAll('button.cell').forEach(b=>b.classList.toggle('selected',b.dataset.cell===id));
const t=document.getElementById('cell-'+id);detail.innerHTML='';detail.appendChild(t.content.cloneNode(true));
detail.querySelectorAll('button.log').forEach(b=>b.addEventListener('click',()=>openLog(b.dataset.log)));location.hash=id;}
async function openLog(id){const b64=document.getElementById(id).textContent.trim();const bytes=Uint8Array.from(atob(b64),c=>c.charCodeAt(0));
const text=await new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'))).text();
let pre=detail.querySelector('pre.log');if(!pre){pre=document.createElement('pre');pre.className='log';detail.appendChild(pre);}pre.textContent=text;}
document.querySelectorAll('button.cell').forEach(b=>b.addEventListener('click',()=>show(b.dataset.cell)));
const first=decodeURIComponent(location.hash.slice(1))||(document.querySelector('button.cell.c-disagree,button.cell.changed,button.cell.c-error')||document.querySelector('button.cell'))?.dataset.cell;if(first&&document.getElementById('cell-'+first))show(first);`;
  return `<!doctype html><html><head><meta charset="utf-8"><title>probelab matrix ${esc(m.name)}</title><style>${css}</style></head><body>
<h1>probelab matrix <code>${esc(m.name)}</code></h1>
<p>${results.length} cells: ${agree} agree, ${differ} differ, ${errors} failed${changed ? `, <b>${changed} changed from the baseline</b>` : ''}. Timeout-driven events within ${(maxRel * 100).toFixed(3)}% of the real times. Boots took ${wall.toFixed(0)} s of wall time in all (summed over cells, run in parallel) for ${guest.toFixed(0)} s of guest time.</p>
<p class="legend">${legend.map(([c, t]) => `<span><i class="c-${c}"></i>${t}</span>`).join('')}<span>cell: real translated/bypassed/deferred masters, max timing error</span></p>
${grids.join('\n')}
<div id="detail"><p>Click a cell.</p></div>
${details.join('\n')}
<script>${js}</script>
</body></html>
`;
}
