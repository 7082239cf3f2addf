/**
 * The console rule table: every kernel message probelab reads, one row each, with the printk it
 * comes from. `qemu` rows are the ones the harness reads from its own guests' ring buffer
 * (console-parser.ts: the outcome of a QEMU boot); every row, `qemu` or not, is read by
 * `probelab parse` from any board's log (probelab/src/parse/), which must also know the forms
 * older kernels printed. A message format is taken from the source of the tree named in the
 * row, or, for forms neither 6.1 nor 6.12 prints, from the real log kept in
 * probelab/test/fixtures/boot-logs/ that shows it.
 *
 * dev_printk lines read "<driver or bus name> <dev_name>: <message>"
 * (drivers/base/core.c:__dev_printk, the name from dev_driver_string: the bound — or probing —
 * driver, else the bus, else the class).
 */
import type { EventKind } from '@probelab/sim-core';

/** What a line says, beyond its kind. */
export interface RuleHit {
  device: string | null;
  driver?: string;
  module?: string;
  value?: number;
  /** The bus the line names in place of a driver (dev_driver_string with no driver). */
  bus?: string;
  /** A deferral's reason, as the kernel printed it. */
  reason?: string;
}

/** Kinds beyond the outcome's: what a log can say that the outcome contract has no event for. */
export type LogOnlyKind = 'iommu-group-removed' | 'iommu-context-fault';

export interface ConsoleRule {
  kind: EventKind | LogOnlyKind;
  re: RegExp;
  /** The printk the row reads: file:function, and the series where they differ. */
  printk: string;
  /** Read from the harness's own QEMU guests too (not only by `probelab parse`). */
  qemu: boolean;
  hit: (m: RegExpExecArray) => RuleHit | null;
}

/**
 * The names dev_driver_string gives a device with no driver: its bus_type's .name — every
 * `struct bus_type` in the 6.12 tree's drivers/, sound/, kernel/ and mm/ — so a line prefixed
 * with one of these says "no driver bound at this moment", any other prefix names the driver.
 */
export const busNames: ReadonlySet<string> = new Set(
  (
    'ac97 ac97bus acpi amba anybuss aoa-soundbus ap aprbus arm_ffa auxiliary bcma bttv-sub ccw ccwgroup cdmm cdx ' +
    'clockevents clocksource coreboot coresight counter cpu css cxl dax dfl dio dp-aux dsa edac eisa event_source ' +
    'fcoe firewire fsi fsl-mc gadget gameport gbphy genpd gpio greybus hdaudio hid host1x host1x-context hsi i2c ' +
    'i3c ibm_rtl iio intc intel_th ipack isa iscsi_flashnode ishtp macio maple matrix mcb mcp mdev mdio_bus mei ' +
    'memory_tiering memstick mhi mhi_ep mipi-dsi mmc mmc_rpmb most moxtet nd node ntb ntb_transport nubus nvmem ' +
    'nvmem-layout parport pci pci-epf pci_express pcmcia peci platform pnp pseudo pwrseq rapidio rbd rmi4 rpmsg ' +
    'scm scmi_protocol scsi sdio serial serial-base serio siox slimbus snd_seq soc soundwire spi spmi ssb ' +
    'surface_aggregator tc tcm_loop_bus tee thunderbolt tifm typec ulpi usb usb-serial vchiq-bus vdpa virtio vme ' +
    'w1 wmi workqueue xen_cpu zorro'
  ).split(' '),
);

const named = (prefix: string): { driver: string } | { bus: string } =>
  busNames.has(prefix) ? { bus: prefix } : { driver: prefix };

export const consoleRules: readonly ConsoleRule[] = [
  {
    kind: 'probe-deferred',
    qemu: true,
    printk: 'drivers/base/dd.c:really_probe_debug (initcall_debug): "probe of %s returned %d after %lld usecs"',
    re: /^probe of (\S+) returned (-?517) after/,
    hit: (m) => ({ device: m[1]! }),
  },
  {
    kind: 'probe-failed',
    qemu: true,
    printk: 'drivers/base/dd.c:really_probe_debug (initcall_debug): "probe of %s returned %d after %lld usecs"',
    re: /^probe of (\S+) returned (-?\d+) after/,
    hit: (m) => (m[2] === '0' || Math.abs(Number(m[2])) === 517 ? null : { device: m[1]!, value: Number(m[2]) }),
  },
  {
    kind: 'bound',
    qemu: true,
    printk: 'drivers/base/dd.c:driver_bound (6.12 dev_dbg): "bus: \'%s\': %s: bound device to driver %s"',
    re: /^\S+ (\S+): bus: '\w+': really_probe: bound device to driver (\S+)$/,
    hit: (m) => ({ device: m[1]!, driver: m[2]! }),
  },
  {
    kind: 'bound',
    qemu: true,
    printk: 'drivers/base/dd.c:driver_bound (6.1 pr_debug): "bus: \'%s\': %s: bound device %s to driver %s"',
    re: /^bus: '\w+': really_probe: bound device (\S+) to driver (\S+)$/,
    hit: (m) => ({ device: m[1]!, driver: m[2]! }),
  },
  {
    kind: 'ignored-dependency',
    qemu: true,
    printk: 'drivers/base/dd.c:driver_deferred_probe_check_state (6.1, 6.12; 5.x dev_WARN, the Juno log)',
    re: /^(\S+) (\S+): (deferred probe timeout, ignoring dependency|ignoring dependency for device, assuming no driver)$/,
    hit: (m) => ({ device: m[2]!, driver: m[1]! }),
  },
  {
    kind: 'iommu-group',
    qemu: true,
    printk:
      'drivers/iommu/iommu.c:iommu_group_alloc_device (6.12; 6.1 iommu_group_add_device): "Adding to iommu group %d"',
    re: /^(\S+) (\S+): Adding to iommu group (\d+)$/,
    hit: (m) => ({ device: m[2]!, value: Number(m[3]), ...named(m[1]!) }),
  },
  {
    kind: 'iommu-map-miss',
    qemu: true,
    printk: 'drivers/of/base.c:of_map_id: "%pOF: no %s translation for id 0x%x on %pOF"',
    re: /^OF: \S+: no iommu-map translation for id 0x([0-9a-f]+) on /,
    hit: (m) => ({ device: ridToBdf(Number.parseInt(m[1]!, 16)), value: Number.parseInt(m[1]!, 16) }),
  },
  {
    kind: 'deferred-pending',
    qemu: true,
    printk:
      'drivers/base/dd.c:deferred_probe_timeout_work_func (6.1 dev_info "deferred probe pending"; 6.12 dev_warn "deferred probe pending: %s")',
    re: /^(\S+) (\S+): deferred probe pending(?::\s?(.*))?$/,
    hit: (m) => ({ device: m[2]!, ...named(m[1]!), ...(m[3] !== undefined ? { reason: m[3] } : {}) }),
  },
  {
    kind: 'late-initcall',
    qemu: true,
    printk: 'init/main.c:do_one_initcall (initcall_debug): "calling  %pS @ %i"',
    re: /^calling {2}deferred_probe_initcall\+/,
    hit: () => ({ device: null }),
  },
  {
    kind: 'module-loaded',
    qemu: true,
    printk: 'init/main.c:do_one_initcall (initcall_debug): "calling  %pS @ %i" of a module\'s init',
    re: /^calling {2}\S+ \[(\w+)\] @ \d+$/,
    hit: (m) => ({ device: null, module: m[1]! }),
  },
  {
    kind: 'module-unloaded',
    qemu: true,
    printk: 'qemu/guest/init after rmmod: "probelab: module unload end <module> rc=<status>"',
    re: /^probelab: module unload end (\w+) rc=0$/,
    hit: (m) => ({ device: null, module: m[1]! }),
  },
  {
    kind: 'module-unload-refused',
    qemu: true,
    printk: 'qemu/guest/init after rmmod: "probelab: module unload end <module> rc=<status>"',
    re: /^probelab: module unload end (\w+) rc=[1-9]\d*$/,
    hit: (m) => ({ device: null, module: m[1]! }),
  },
  // Read from board logs only.
  {
    kind: 'probe-failed',
    qemu: false,
    printk: 'drivers/base/dd.c:call_driver_probe (6.12 dev_err): "probe with driver %s failed with error %d"',
    re: /^\S+ (\S+): probe with driver (\S+) failed with error (-?\d+)$/,
    hit: (m) => ({ device: m[1]!, driver: m[2]!, value: Number(m[3]) }),
  },
  {
    kind: 'probe-failed',
    qemu: false,
    printk:
      'drivers/base/dd.c:call_driver_probe (6.1 pr_warn; 4.x, 5.x really_probe): "%s: probe of %s failed with error %d"',
    re: /^(\S+): probe of (\S+) failed with error (-?\d+)$/,
    hit: (m) => ({ device: m[2]!, driver: m[1]!, value: Number(m[3]) }),
  },
  {
    kind: 'iommu-group',
    qemu: false,
    printk:
      'drivers/iommu/iommu.c:iommu_group_add_device (4.x pr_info, pr_fmt "iommu: ": the Rock64 4.4 log): "Adding device %s to group %d"',
    re: /^iommu: Adding device (\S+) to group (\d+)$/,
    hit: (m) => ({ device: m[1]!, value: Number(m[2]) }),
  },
  {
    kind: 'iommu-group-removed',
    qemu: false,
    printk: 'drivers/iommu/iommu.c:iommu_group_remove_device (6.1, 6.12): "Removing from iommu group %d"',
    re: /^(\S+) (\S+): Removing from iommu group (\d+)$/,
    hit: (m) => ({ device: m[2]!, value: Number(m[3]), ...named(m[1]!) }),
  },
  {
    kind: 'iommu-context-fault',
    qemu: false,
    printk:
      'drivers/iommu/arm/arm-smmu/arm-smmu.c:arm_smmu_print_context_fault_info, qcom_iommu.c:qcom_iommu_fault: "Unhandled context fault: fsr=0x%x, …"',
    re: /^(\S+) (\S+): (Unhandled context fault: .*)$/,
    hit: (m) => ({ device: m[2]!, reason: m[3]! }),
  },
  {
    kind: 'iommu-context-fault',
    qemu: false,
    printk: 'drivers/iommu/ipmmu-vmsa.c:ipmmu_domain_irq: "Unhandled fault: status 0x%08x iova 0x%lx"',
    re: /^(ipmmu-vmsa) (\S+): (Unhandled fault: .*)$/,
    hit: (m) => ({ device: m[2]!, reason: m[3]! }),
  },
  {
    kind: 'iommu-context-fault',
    qemu: false,
    printk: 'drivers/iommu/rockchip-iommu.c:rk_iommu_irq: "Page fault at %pad of type %s"',
    re: /^(rk_iommu) (\S+): (Page fault at .*)$/,
    hit: (m) => ({ device: m[2]!, reason: m[3]! }),
  },
  {
    kind: 'iommu-context-fault',
    qemu: false,
    printk: 'drivers/iommu/apple-dart.c:apple_dart_t8020_irq: "translation fault: status:0x%x stream:%d …"',
    re: /^(apple-dart) (\S+): (translation fault: .*)$/,
    hit: (m) => ({ device: m[2]!, reason: m[3]! }),
  },
  {
    kind: 'iommu-context-fault',
    qemu: false,
    printk: 'drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.c:arm_smmu_evtq_thread: "event 0x%02x received:"',
    re: /^(arm-smmu-v3) (\S+): (event 0x[0-9a-f]{2} received:)$/,
    hit: (m) => ({ device: m[2]!, reason: m[3]! }),
  },
];

/** The first row a message matches (rows of one kind are tried in table order). */
export function matchRule(
  text: string,
  rows: readonly ConsoleRule[] = consoleRules,
): { rule: ConsoleRule; hit: RuleHit } | null {
  for (const rule of rows) {
    const m = rule.re.exec(text);
    if (!m) continue;
    const hit = rule.hit(m);
    if (hit) return { rule, hit };
  }
  return null;
}

/** A PCI requester ID as the device's name on virt's segment 0. */
export function ridToBdf(rid: number): string {
  const h = (n: number): string => n.toString(16).padStart(2, '0');
  return `0000:${h(rid >> 8)}:${h((rid >> 3) & 0x1f)}.${rid & 7}`;
}

/**
 * The lines kernel discovery reads for boot timing (discovery.ts:bootTiming), by name: the same
 * file, so "where is the console parsed?" has one answer.
 */
export const timingRules = {
  /** init/main.c:trace_initcall_start_cb (initcall_debug): "calling  %pS @ %i". */
  lateInitcallStart: /^calling {2}deferred_probe_initcall\+/,
  /** init/main.c:trace_initcall_finish_cb: "initcall %pS returned %d after %lld usecs". */
  lateInitcallEnd: /^initcall deferred_probe_initcall\+\S+ returned/,
  /** init/main.c:run_init_process: "Run %s as init process". */
  initStart: /^Run \/init as init process/,
  /** init/main.c:trace_initcall_start_cb of a built-in initcall (pid 1). */
  builtinInitcall: /^calling {2}\S+ @ 1$/,
  /** drivers/base/dd.c:__driver_probe_device (6.12 dev_dbg): "bus: '%s': %s: matched device with driver %s". */
  matched612: /^\S+ \S+: bus: '(\w+)': __driver_probe_device: matched device with driver (\S+)$/,
  /** drivers/base/dd.c:__driver_probe_device (6.1 pr_debug): "bus: '%s': %s: matched device %s with driver %s". */
  matched61: /^bus: '(\w+)': __driver_probe_device: matched device \S+ with driver (\S+)$/,
  /** drivers/base/dd.c:deferred_probe_extend_timeout (pr_debug): "Extended deferred probe timeout by %d secs". */
  timeoutExtended: /^Extended deferred probe timeout by/,
  /** qemu/guest/init before insmod: "probelab: module load begin <name>". */
  moduleLoadBegin: /^probelab: module load begin (\S+)$/,
  /** init/main.c:trace_initcall_start_cb of a module's init: "calling  <fn> [<module>] @ <pid>". */
  moduleInitcall: (module: string): RegExp => new RegExp(`^calling {2}\\S+ \\[${module}\\] @`),
  /** drivers/base/dd.c:driver_bound, either series' form (the device name is in 6.1's only). */
  bound: /really_probe: bound device (?:\S+ )?to driver (\S+)$/,
  /** drivers/base/dd.c:really_probe_debug: "probe of %s returned %d after %lld usecs". */
  probeReturned: /^probe of \S+ returned (-?\d+) after (\d+) usecs$/,
} as const;
