/**
 * Reading a probelab guest's console. A small state machine of phases (kernel console, then the
 * init's state block, then the ring buffer dump); the dmesg lines that become events are the
 * `qemu` rows of the rule table (console-rules.ts, each citing its printk); a truncated log is a
 * state ("incomplete"), not a crash. Checked against real boots kept in test/fixtures.
 */
import type { EventKind, LabDma, Outcome, OutcomeDevice, ProbeEvent } from '@probelab/sim-core';
import { keepDevice, moduleKey, sortOutcome } from '@probelab/sim-core';
import { consoleRules, matchRule, ridToBdf } from './console-rules.js';

export interface DmesgLine {
  level: number;
  t: number;
  text: string;
}
export interface StateDevice {
  bus: string;
  id: string;
  driver: string | null;
  group: number | null;
  modalias: string | null;
  ofNode: string | null;
  dma?: LabDma;
}
export interface StateDriver {
  bus: string;
  name: string;
  module: string | null;
}

export interface ParsedConsole {
  phase: 'kernel' | 'state' | 'dmesg' | 'done';
  complete: boolean;
  panic: string | null;
  devices: StateDevice[];
  drivers: StateDriver[];
  deferred: Array<{ id: string; reason: string }>;
  modules: string[];
  /** workqueue_execute_start trace lines for the deferred-probe works: [time, function]. */
  works: Array<{ t: number; fn: string }>;
  dmesg: DmesgLine[];
}

export function parseConsole(text: string): ParsedConsole {
  const out: ParsedConsole = {
    phase: 'kernel',
    complete: false,
    panic: null,
    devices: [],
    drivers: [],
    deferred: [],
    modules: [],
    works: [],
    dmesg: [],
  };
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/\r$/, '');
    if (out.phase === 'kernel' || out.phase === 'state') {
      const p = /Kernel panic - not syncing: (.*)$/.exec(line);
      if (p && !out.panic) out.panic = p[1]!;
    }
    if (line === '@@probelab-state-begin') {
      out.phase = 'state';
      continue;
    }
    if (line === '@@probelab-dmesg-begin') {
      out.phase = 'dmesg';
      continue;
    }
    if (line === '@@probelab-dmesg-end') {
      out.phase = 'state';
      continue;
    }
    if (line === '@@probelab-state-end') {
      out.phase = 'done';
      out.complete = true;
      continue;
    }
    if (out.phase === 'state') {
      const f = line.split('\t');
      if (f[0] === '@dev' && f.length >= 7) {
        const dma = f[7] === 'translated' || f[7] === 'identity' || f[7] === 'bypassed' ? f[7] : null;
        out.devices.push({
          bus: f[1]!,
          id: f[2]!,
          driver: dash(f[3]!),
          group: f[4] === '-' ? null : Number(f[4]),
          modalias: dash(f[5]!),
          ofNode: dash(f[6]!),
          ...(dma ? { dma } : {}),
        });
      } else if (f[0] === '@drv' && f.length >= 4) {
        out.drivers.push({ bus: f[1]!, name: f[2]!, module: dash(f[3]!) });
      } else if (line.startsWith('@deferred ')) {
        const [id, ...rest] = line.slice(10).split('\t');
        out.deferred.push({ id: id!, reason: rest.join('\t') });
      } else if (line.startsWith('@module ')) {
        out.modules.push(line.slice(8));
      } else if (line.startsWith('@trace ')) {
        const m = /\s(\d+\.\d+): workqueue_execute_start: .*function (\w+)/.exec(line);
        if (m) out.works.push({ t: Number(m[1]), fn: m[2]! });
      }
    } else if (out.phase === 'dmesg') {
      const m = /^<(\d+)>\[\s*(\d+\.\d+)\] (.*)$/.exec(line);
      if (m) out.dmesg.push({ level: Number(m[1]) & 7, t: Number(m[2]), text: m[3]! });
      else if (out.dmesg.length && line) out.dmesg[out.dmesg.length - 1]!.text += `\n${line}`;
    }
  }
  return out;
}

const dash = (s: string): string | null => (s === '-' || s === '' ? null : s);

const qemuRules = consoleRules.filter((r) => r.qemu);

export function dmesgEvents(lines: DmesgLine[]): ProbeEvent[] {
  const events: ProbeEvent[] = [];
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    // arm-smmu-v3.c:arm_smmu_evtq_thread: "event 0x%02x received:", then the event's dwords;
    // the StreamID (the PCI requester ID on virt) is dword 0 bits [63:32].
    const ev = /^arm-smmu-v3 \S+: event 0x([0-9a-f]{2}) received:$/.exec(l.text);
    if (ev) {
      const d0 = /^arm-smmu-v3 \S+: \t0x([0-9a-f]{16})$/.exec(lines[i + 1]?.text ?? '');
      if (d0)
        events.push({
          t: l.t,
          kind: 'iommu-fault',
          device: ridToBdf(Number(BigInt('0x' + d0[1]) >> 32n)),
          value: Number.parseInt(ev[1]!, 16),
        });
      continue;
    }
    const m = matchRule(l.text, qemuRules);
    if (!m) continue;
    const { device, driver, module, value } = m.hit;
    const kind = m.rule.kind as EventKind;
    const named = kind === 'bound' || kind === 'ignored-dependency';
    events.push({
      t: l.t,
      kind,
      device,
      ...(named && driver !== undefined ? { driver } : {}),
      ...(module !== undefined ? { module } : {}),
      ...(value !== undefined ? { value } : {}),
    });
  }
  return events;
}

/** The real Outcome of a boot, in the simulator's schema. */
export function outcomeFromConsole(p: ParsedConsole, scenarioModules: string[]): Outcome {
  const wanted = new Set(scenarioModules.map(moduleKey));
  const events = dmesgEvents(p.dmesg).filter((e) => e.kind !== 'module-loaded' || wanted.has(e.module ?? ''));
  for (const w of p.works)
    if (w.fn === 'deferred_probe_timeout_work_func') events.push({ t: w.t, kind: 'timeout-fired', device: null });
  const deferred = new Set(p.deferred.map((d) => d.id));
  const ignored = new Set(events.filter((e) => e.kind === 'ignored-dependency').map((e) => e.device));
  const devices: OutcomeDevice[] = p.devices
    .filter((d) => ['platform', 'amba', 'pci', 'virtio'].includes(d.bus))
    .map((d) => ({
      id: d.id,
      bus: d.bus,
      driver: d.driver,
      iommuGroup: d.group,
      ignoredDependency: ignored.has(d.id),
      deferred: deferred.has(d.id),
      fromDt: d.ofNode !== null,
      ...(d.dma ? { dma: d.dma } : {}),
    }))
    .filter(keepDevice)
    .map(({ fromDt: _f, ...d }) => d);
  return sortOutcome({ devices, events });
}
