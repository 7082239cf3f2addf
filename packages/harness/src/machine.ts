/**
 * The QEMU machine definition (qemu/machines/virt.json) turned into the PCI functions a scenario
 * has and the QEMU command line that creates them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PciFunctionSpec, Scenario } from '@probelab/sim-core';
import { repoRoot } from './paths.js';

interface EndpointDef {
  vendor: string;
  device: string;
  subvendor: string;
  subdevice: string;
  class: string;
  virtioId?: number;
  args: string[];
  deviceOptions?: string;
}
export interface MachineDef {
  binary: string;
  machine: string;
  cpu: string;
  memoryMiB: number;
  console: string;
  icount: string;
  /** QEMU -seed: the guest's random inputs (dtb seeds, virtio-rng) the same at every boot. */
  seed: number;
  /** QEMU -rtc: the guest's wall clock, fixed and counted in guest time. */
  rtc: string;
  iommu: Record<string, { machineOptions: string; device: string | null; module: string | null }>;
  pci: { hostBridge: EndpointDef & { slot: number }; endpoints: Record<string, EndpointDef> };
}

export function loadMachine(): MachineDef {
  return JSON.parse(readFileSync(join(repoRoot(), 'qemu', 'machines', 'virt.json'), 'utf8')) as MachineDef;
}

const num = (h: string): number => Number.parseInt(h, 16);

/** PCI functions in slot order: the host bridge, the IOMMU if it is a PCI device, the endpoints. */
export function pciFunctions(m: MachineDef, s: Scenario): Array<PciFunctionSpec & { def: EndpointDef }> {
  const kinds: string[] = [];
  const iommuDevice = m.iommu[s.machine.iommu]!.device;
  if (iommuDevice) kinds.push(iommuDevice);
  kinds.push(...s.machine.devices);
  const spec = (kind: string, slot: number, d: EndpointDef): PciFunctionSpec & { def: EndpointDef } => ({
    slot,
    kind,
    vendor: num(d.vendor),
    device: num(d.device),
    subvendor: num(d.subvendor),
    subdevice: num(d.subdevice),
    classCode: num(d.class),
    ...(d.virtioId !== undefined ? { virtioId: d.virtioId } : {}),
    def: d,
  });
  return [
    spec('host-bridge', m.pci.hostBridge.slot, m.pci.hostBridge),
    ...kinds.map((k, i) => spec(k, i + 1, m.pci.endpoints[k]!)),
  ];
}

/** QEMU arguments for the machine (no kernel, initrd or console options). */
export function machineArgs(m: MachineDef, s: Scenario): string[] {
  const opts = [m.machine, m.iommu[s.machine.iommu]!.machineOptions].filter(Boolean).join(',');
  const args = [
    '-M',
    opts,
    '-cpu',
    m.cpu,
    ...(s.machine.cpus && s.machine.cpus > 1 ? ['-smp', String(s.machine.cpus)] : []),
    '-m',
    String(m.memoryMiB),
    '-nodefaults',
    '-no-user-config',
    '-display',
    'none',
  ];
  for (const f of pciFunctions(m, s)) {
    if (f.kind === 'host-bridge') continue;
    const slot = `0x${f.slot.toString(16)}`;
    args.push(...f.def.args.map((a) => a.replace(/\{slot\}/g, String(f.slot))));
    const extra = f.def.deviceOptions ? `,${f.def.deviceOptions.replace(/\{slot\}/g, String(f.slot))}` : '';
    args.push('-device', `${f.kind},addr=${slot}${extra}`);
  }
  return args;
}
