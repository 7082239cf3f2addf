/**
 * `probelab explain`: the chain of events and rules that led to one device's outcome — its own
 * events, the global ones (module loads, late initcall, timeout), the binding of the IOMMU its
 * DMA goes through, and its hazards.
 */
import { mapId, cells, type DtNode } from '@probelab/dt-compiler';
import type { Prediction } from './predict.js';

export function explainDevice(p: Prediction, id: string): string {
  const dev = p.core.devices.find((d) => d.id === id);
  if (!dev) return `${id}: no such device in this scenario (devices: ${p.outcome.devices.map((d) => d.id).join(', ')})`;
  const out = p.outcome.devices.find((d) => d.id === id);
  let iommuNode: DtNode | null = null;
  if (dev.pci && dev.pci.host.properties.has('iommu-map'))
    iommuNode = mapId(p.core.board.tree, dev.pci.host, 'iommu-map', dev.pci.rid)?.target ?? null;
  else if (dev.node && cells(dev.node, 'iommus'))
    iommuNode = p.core.board.tree.byPhandle(cells(dev.node, 'iommus')![0]!) ?? null;
  const iommuDevs = new Set(p.core.iommus.filter((i) => i.fwnode === iommuNode).map((i) => i.device.id));
  const iommuDev = iommuNode ? p.core.devices.find((d) => d.node === iommuNode) : undefined;
  if (iommuDev) iommuDevs.add(iommuDev.id);
  const lines = [
    `${id} (${dev.bus}): ${out ? `driver ${out.driver ?? '-'}, iommu group ${out.iommuGroup ?? '-'}, ignored dependency ${out.ignoredDependency}, deferred ${out.deferred}` : 'not listed in the outcome'}`,
    iommuNode
      ? `  its DMA goes through ${iommuNode.path}${iommuDevs.size ? ` (${[...iommuDevs].join(', ')})` : ''}`
      : '  no IOMMU is declared for it',
    '  timeline:',
  ];
  let lastKind = '';
  for (const e of p.core.events) {
    const mine = e.device === id;
    const relevant = mine || e.device === null || (e.device !== null && iommuDevs.has(e.device) && e.kind === 'bound');
    if (!relevant) continue;
    const label = `${e.kind}${e.driver ? ` ${e.driver}` : ''}${e.module ? ` ${e.module}` : ''}${e.value !== undefined ? ` ${e.value}` : ''}`;
    if (mine && e.kind === 'probe-deferred' && lastKind === 'probe-deferred') continue; // repeats
    lastKind = mine ? e.kind : lastKind;
    lines.push(`    ${e.t.toFixed(6).padStart(11)}  ${(e.device ?? '(global)').padEnd(16)} ${label}`);
    if (e.rule) lines.push(`                 ${''.padEnd(16)} ← ${e.rule}`);
  }
  const hz = p.hazards.filter((h) => h.device === id);
  if (hz.length) {
    lines.push('  hazards:');
    for (const h of hz) lines.push(`    ${h.kind} at ${h.t.toFixed(3)} s: ${h.detail}`, `      ← ${h.rule}`);
  }
  return lines.join('\n') + '\n';
}
