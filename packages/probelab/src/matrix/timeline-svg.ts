/**
 * One cell's timeline: real and predicted events side by side on a shared guest-time axis, one
 * row per device (predicted lane above, real lane below), global events as vertical lines.
 */
import type { Outcome, ProbeEvent } from '@probelab/sim-core';

export const kindColours: Record<string, string> = {
  bound: '#3a9d5d',
  'iommu-group': '#2b6cb0',
  'ignored-dependency': '#e8a33d',
  'probe-deferred': '#9aa0a6',
  'deferred-pending': '#c8423b',
  'iommu-map-miss': '#805ad5',
  'probe-failed': '#000000',
  'iommu-fault': '#d53f8c',
  'timeout-fired': '#c8423b',
  'late-initcall': '#4a5568',
  'module-loaded': '#2b6cb0',
  unbound: '#718096',
};

const esc = (s: string): string =>
  s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);

export function renderTimeline(predicted: Outcome, real: Outcome, capture: number): string {
  const devices = [
    ...new Set([...predicted.events, ...real.events].map((e) => e.device).filter((d): d is string => d !== null)),
  ].sort();
  const left = 150;
  const width = 900;
  const plot = width - left - 20;
  const rowH = 26;
  const top = 40;
  const height = top + devices.length * rowH + 40;
  const x = (t: number): number => left + (Math.min(t, capture) / capture) * plot;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="timeline" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
  ];
  // Axis with ticks every 5 s (or 1 s for short captures).
  const step = capture > 20 ? 5 : capture > 5 ? 1 : 0.5;
  for (let t = 0; t <= capture + 1e-9; t += step) {
    out.push(
      `<line x1="${x(t)}" y1="${top - 6}" x2="${x(t)}" y2="${height - 30}" stroke="#eee"/><text x="${x(t)}" y="${top - 10}" text-anchor="middle" fill="#666">${+t.toFixed(1)}s</text>`,
    );
  }
  const globals = (o: Outcome, lane: 'predicted' | 'real'): void => {
    for (const e of o.events.filter((ev) => ev.device === null)) {
      const dash = lane === 'predicted' ? '4,3' : '';
      out.push(
        `<line x1="${x(e.t)}" y1="${top}" x2="${x(e.t)}" y2="${height - 30}" stroke="${kindColours[e.kind] ?? '#333'}" stroke-width="1.5" stroke-dasharray="${dash}"><title>${lane}: ${esc(e.kind)}${e.module ? ` ${esc(e.module)}` : ''} at ${e.t.toFixed(3)} s</title></line>`,
      );
    }
  };
  globals(predicted, 'predicted');
  globals(real, 'real');
  devices.forEach((dev, i) => {
    const y = top + i * rowH;
    out.push(
      `<text x="${left - 6}" y="${y + 16}" text-anchor="end">${esc(dev)}</text><line x1="${left}" y1="${y + rowH}" x2="${width - 20}" y2="${y + rowH}" stroke="#f3f3f3"/>`,
    );
    const lane = (events: ProbeEvent[], dy: number, name: string): void => {
      for (const e of events.filter((ev) => ev.device === dev)) {
        const c = kindColours[e.kind] ?? '#333';
        const shape =
          name === 'predicted'
            ? `<rect x="${x(e.t) - 3}" y="${y + dy}" width="6" height="8" fill="${c}"`
            : `<circle cx="${x(e.t)}" cy="${y + dy + 4}" r="4" fill="${c}"`;
        out.push(
          `${shape}><title>${name}: ${esc(e.kind)}${e.driver ? ` ${esc(e.driver)}` : ''}${e.value !== undefined ? ` ${e.value}` : ''} at ${e.t.toFixed(3)} s</title>${name === 'predicted' ? '</rect>' : '</circle>'}`,
        );
      }
    };
    lane(predicted.events, 3, 'predicted');
    lane(real.events, 14, 'real');
  });
  const ly = height - 14;
  out.push(
    `<rect x="${left}" y="${ly - 8}" width="6" height="8" fill="#555"/><text x="${left + 10}" y="${ly}">predicted (squares, dashed lines)</text><circle cx="${left + 230}" cy="${ly - 4}" r="4" fill="#555"/><text x="${left + 238}" y="${ly}">real (dots, solid lines)</text>`,
  );
  out.push('</svg>');
  return out.join('');
}
