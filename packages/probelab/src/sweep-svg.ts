/** The sweep grid as an SVG chart: one square per (load time, timeout), coloured by the worst master state. */
import type { Sweep } from './sweep.js';

const colours: Record<string, string> = {
  translated: '#3a9d5d',
  unbound: '#9aa0a6',
  bypassed: '#e8a33d',
  deferred: '#c8423b',
  'no-masters': '#dddddd',
};

const esc = (s: string): string =>
  s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);

export function renderSweepSvg(s: Sweep): string {
  const cw = 86;
  const ch = 44;
  const left = 90;
  const top = 64;
  const width = left + cw * s.timeouts.length + 20;
  const height = top + ch * s.loads.length + 70;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<text x="10" y="20" font-size="14" font-weight="bold">${esc(s.scenario)}</text>`,
    `<text x="10" y="38">rows: ${esc(s.module)} loaded at (s); columns: deferred_probe_timeout (s); cell: translated/bypassed/deferred masters</text>`,
  ];
  s.timeouts.forEach((t, i) =>
    out.push(`<text x="${left + i * cw + cw / 2}" y="${top - 8}" text-anchor="middle">${t}</text>`),
  );
  s.loads.forEach((at, j) => {
    out.push(`<text x="${left - 8}" y="${top + j * ch + ch / 2 + 4}" text-anchor="end">${at}</text>`);
    s.timeouts.forEach((t, i) => {
      const c = s.cells.find((x) => x.at === at && x.timeout === t)!.summary;
      const x = left + i * cw;
      const y = top + j * ch;
      out.push(
        `<rect x="${x + 1}" y="${y + 1}" width="${cw - 2}" height="${ch - 2}" fill="${colours[c.worst]}"><title>timeout ${t} s, ${esc(s.module)} at ${at} s: ${esc(JSON.stringify(c.states))}</title></rect>`,
      );
      out.push(
        `<text x="${x + cw / 2}" y="${y + ch / 2 + 4}" text-anchor="middle" fill="#fff">${c.counts.translated}/${c.counts.bypassed}/${c.counts.deferred}</text>`,
      );
    });
  });
  const ly = top + ch * s.loads.length + 24;
  ['translated', 'bypassed', 'deferred', 'unbound'].forEach((k, i) => {
    out.push(
      `<rect x="${10 + i * 110}" y="${ly}" width="14" height="14" fill="${colours[k]}"/><text x="${30 + i * 110}" y="${ly + 11}">${k === 'translated' ? 'all translated' : k === 'bypassed' ? 'some bypassed' : k === 'deferred' ? 'deferred forever' : 'some unbound'}</text>`,
    );
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
