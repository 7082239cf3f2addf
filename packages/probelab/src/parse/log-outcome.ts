/**
 * What a real boot log says about each device, in the outcome contract's terms (driver, IOMMU
 * group, ignored dependency, deferred at the end), each field either shown by a line of the log —
 * cited in `evidence` — or null, with `evidence` saying why the log cannot tell. Nothing is
 * guessed: an absence proves something only where the kernel prints a complete list (the
 * deferred-probe timeout's dump, drivers/base/dd.c:deferred_probe_timeout_work_func, names every
 * device still pending). Lines are read with the console rule table (harness console-rules.ts);
 * the rest of a device's lines count for its driver through dev_printk's prefix
 * (drivers/base/core.c:dev_driver_string: the bound or probing driver, else the bus).
 */
import { busNames, matchRule, type RuleHit } from '@probelab/harness';
import type { LogLines, LogRecord } from './log-lines.js';

export interface LogEvidence {
  bus: string;
  driver: string;
  iommuGroup: string;
  ignoredDependency: string;
  deferred: string;
}

export interface LogDevice {
  id: string;
  bus: string | null;
  driver: string | null;
  iommuGroup: number | null;
  ignoredDependency: boolean | null;
  deferred: boolean | null;
  /** The reason the kernel printed for a device deferred at the end. */
  deferredReason?: string;
  /** Probes the log shows failing for good: driver (where the line names it), errno, time. */
  probeFailures?: Array<{ driver: string | null; error: number; t: number | null; line: number }>;
  evidence: LogEvidence;
}

export interface LogEvent {
  t: number | null;
  line: number;
  kind: string;
  device: string | null;
  driver?: string;
  value?: number;
  reason?: string;
}
export interface LogFault {
  t: number | null;
  line: number;
  iommu: string;
  message: string;
}

export interface LogOutcome {
  format: 'console' | 'lava';
  kernel: string | null;
  machine: string | null;
  /** Lines read as kernel records, and how many carried a timestamp. */
  records: number;
  timestamped: number;
  devices: LogDevice[];
  events: LogEvent[];
  /** IOMMU faults: the kernel names the IOMMU that faulted, not the master. */
  faults: LogFault[];
}

/** dev_name forms of bus devices: DT platform/amba (unit address), PCI, I2C, ACPI, SPI. */
const deviceName =
  /^(?:[0-9a-f]{1,16}\.[\w,.@:+-]+|[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]|\d+-[0-9a-f]{4}|[A-Z][A-Z0-9]{2,7}:\d{2}|spi\d+\.\d+)$/;
/** "<driver or bus> <dev_name>[ <netdev or sub-name>]: message" (dev_printk, netdev_printk). */
const devPrintk = /^(\S+) (\S+?)(?: \S+)?: /;

interface State {
  id: string;
  bus: { name: string; why: string } | null;
  bound: { driver: string; why: string } | null;
  /** The last driver a line named, and where; cleared by a failure or deferral after it. */
  named: { driver: string; line: number; t: number | null } | null;
  noDriver: { why: string } | null;
  group: { n: number; why: string } | null;
  groupRemoved: string | null;
  ignored: string | null;
  deferred: { reason: string | null; why: string; line: number } | null;
  undeferred: { why: string; line: number } | null;
  failures: Array<{ driver: string | null; error: number; t: number | null; line: number }>;
  firstLine: number;
}

const at = (r: LogRecord): string => `line ${r.line}${r.t !== null ? ` (${r.t.toFixed(6)} s)` : ''}`;
const quote = (r: LogRecord): string => `"${r.text.length > 100 ? `${r.text.slice(0, 97)}...` : r.text}" at ${at(r)}`;

export function logOutcome(lines: LogLines): LogOutcome {
  const devices = new Map<string, State>();
  const events: LogEvent[] = [];
  const faults: LogFault[] = [];
  let kernel: string | null = null;
  let machine: string | null = null;
  let dumpLine: { line: number; t: number | null } | null = null;
  let inDeferredList = false;
  const dev = (id: string, r: LogRecord): State => {
    let d = devices.get(id);
    if (!d) {
      d = {
        id,
        bus: null,
        bound: null,
        named: null,
        noDriver: null,
        group: null,
        groupRemoved: null,
        ignored: null,
        deferred: null,
        undeferred: null,
        failures: [],
        firstLine: r.line,
      };
      devices.set(id, d);
    }
    return d;
  };
  const prefixed = (d: State, hit: RuleHit, r: LogRecord): void => {
    if (hit.driver && busNames.has(hit.driver)) {
      const { driver: bus, ...rest } = hit;
      hit = { ...rest, bus };
    }
    if (hit.bus) {
      d.bus ??= { name: hit.bus, why: `${quote(r)}: the bus names the device in place of a driver` };
      if (d.named && !d.bound) d.named = null;
      d.noDriver = { why: `${quote(r)} names the bus, not a driver: none was bound then` };
    } else if (hit.driver) {
      d.named = { driver: hit.driver, line: r.line, t: r.t };
      d.noDriver = null;
    }
  };

  for (const r of lines.records) {
    const text = r.text;
    kernel ??= /^Linux version (\S+)/.exec(text)?.[1] ?? null;
    machine ??=
      /^Machine model: (.+)$/.exec(text)?.[1] ??
      /^Hardware name: (.+?)(?: \((?:DT|ACPI)\))?(?:, BIOS .*)?$/.exec(text)?.[1] ??
      null;
    // debugfs devices_deferred (drivers/base/dd.c:deferred_devs_show): "%s\t%s" per device.
    if (/\bdevices_deferred\b/.test(text)) {
      inDeferredList = true;
      continue;
    }
    if (inDeferredList) {
      const m = /^(\S+)\t(.*)$/.exec(r.text);
      if (m) {
        const d = dev(m[1]!, r);
        d.deferred = { reason: m[2]!.trim() || null, why: `listed in devices_deferred ${quote(r)}`, line: r.line };
        dumpLine ??= { line: r.line, t: r.t };
        continue;
      }
      inDeferredList = false;
    }
    const m = matchRule(text);
    if (m) {
      const { hit, rule } = m;
      const byDriver = hit.driver && !busNames.has(hit.driver);
      events.push({
        t: r.t,
        line: r.line,
        kind: rule.kind,
        device: hit.device,
        ...(byDriver ? { driver: hit.driver } : {}),
        ...(hit.value !== undefined ? { value: hit.value } : {}),
        ...(hit.reason !== undefined ? { reason: hit.reason } : {}),
      });
      if (rule.kind === 'iommu-context-fault') {
        faults.push({ t: r.t, line: r.line, iommu: hit.device!, message: hit.reason! });
        continue;
      }
      if (hit.device === null) continue;
      const d = dev(hit.device, r);
      switch (rule.kind) {
        case 'bound':
          d.bound = { driver: hit.driver!, why: `${quote(r)} (drivers/base/dd.c:driver_bound)` };
          d.undeferred = { why: `bound at ${at(r)}`, line: r.line };
          break;
        case 'ignored-dependency':
          d.ignored = `${quote(r)} (${rule.printk.split(' ')[0]})`;
          prefixed(d, hit, r);
          break;
        case 'iommu-group':
          d.group = { n: hit.value!, why: quote(r) };
          d.groupRemoved = null;
          prefixed(d, hit, r);
          break;
        case 'iommu-group-removed':
          d.group = null;
          d.groupRemoved = `${quote(r)}: removed from its group`;
          prefixed(d, hit, r);
          break;
        case 'probe-failed':
          d.failures.push({ driver: hit.driver ?? null, error: hit.value!, t: r.t, line: r.line });
          if (!hit.driver || d.named?.driver === hit.driver) d.named = null;
          d.noDriver = { why: `${quote(r)}: the probe failed` };
          if (d.bound && (!hit.driver || d.bound.driver === hit.driver)) d.bound = null;
          break;
        case 'probe-deferred':
          d.named = null;
          d.noDriver = { why: `${quote(r)}: the probe deferred` };
          d.deferred = { reason: null, why: `${quote(r)}: deferred, and no line shows it probing again`, line: r.line };
          d.undeferred = null;
          break;
        case 'deferred-pending':
          d.deferred = {
            reason: hit.reason ?? null,
            why: `${quote(r)} (drivers/base/dd.c:deferred_probe_timeout_work_func)`,
            line: r.line,
          };
          d.undeferred = null;
          dumpLine ??= { line: r.line, t: r.t };
          prefixed(d, hit, r);
          break;
        default:
          break;
      }
      continue;
    }
    const p = devPrintk.exec(text);
    if (!p || !deviceName.test(p[2]!)) continue;
    const d = dev(p[2]!, r);
    prefixed(d, busNames.has(p[1]!) ? { device: p[2]!, bus: p[1]! } : { device: p[2]!, driver: p[1]! }, r);
    if (!busNames.has(p[1]!) && d.deferred && d.deferred.line < r.line) {
      d.undeferred = { why: `${quote(r)} names driver ${p[1]} after the deferral`, line: r.line };
    }
  }

  const out: LogDevice[] = [...devices.values()].map((d) => finish(d, dumpLine));
  out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return {
    format: lines.format,
    kernel,
    machine,
    records: lines.records.length,
    timestamped: lines.timestamped,
    devices: out,
    events,
    faults,
  };
}

function finish(d: State, dump: { line: number; t: number | null } | null): LogDevice {
  const ev: LogEvidence = { bus: '', driver: '', iommuGroup: '', ignoredDependency: '', deferred: '' };
  let bus: string | null = d.bus?.name ?? null;
  if (d.bus) ev.bus = d.bus.why;
  else if (/^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/.test(d.id)) {
    bus = 'pci';
    ev.bus = 'the name is a PCI address (domain:bus:device.function)';
  } else if (/^\d+-[0-9a-f]{4}$/.test(d.id)) {
    bus = 'i2c';
    ev.bus = 'the name is an I2C client address (adapter-address)';
  } else ev.bus = 'the log names the device only after its driver, never its bus';

  let driver: string | null = null;
  if (d.bound) {
    driver = d.bound.driver;
    ev.driver = d.bound.why;
  } else if (d.named) {
    driver = d.named.driver;
    ev.driver = `messages from ${d.named.driver} (line ${d.named.line}) and no failure or deferral after them: dev_driver_string names the bound or probing driver`;
  } else if (d.noDriver) ev.driver = d.noDriver.why;
  else ev.driver = 'no line names a driver for this device';

  let group: number | null = null;
  if (d.group) {
    group = d.group.n;
    ev.iommuGroup = d.group.why;
  } else
    ev.iommuGroup =
      d.groupRemoved ??
      'no "Adding to iommu group" line for this device: not an IOMMU master, or the log does not reach it';

  const ignored = d.ignored !== null ? true : null;
  ev.ignoredDependency = d.ignored ?? 'no "ignoring dependency" line for this device (a log does not prove an absence)';

  let deferred: boolean | null = null;
  let reason: string | undefined;
  if (d.deferred && !(d.undeferred && d.undeferred.line > d.deferred.line) && !(driver !== null && d.bound)) {
    deferred = true;
    ev.deferred = d.deferred.why;
    if (d.deferred.reason !== null) reason = d.deferred.reason;
  } else if (d.undeferred) {
    deferred = false;
    ev.deferred = d.undeferred.why;
  } else if (dump && !d.deferred) {
    deferred = false;
    ev.deferred = `not in the deferred-probe dump at line ${dump.line}, which lists every device still pending (drivers/base/dd.c:deferred_probe_timeout_work_func)`;
  } else ev.deferred = 'the log shows no deferred-probe list (no timeout dump, no devices_deferred)';

  return {
    id: d.id,
    bus,
    driver,
    iommuGroup: group,
    ignoredDependency: ignored,
    deferred,
    ...(reason !== undefined ? { deferredReason: reason } : {}),
    ...(d.failures.length ? { probeFailures: d.failures } : {}),
    evidence: ev,
  };
}
