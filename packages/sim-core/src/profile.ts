/**
 * A kernel profile: what the simulator knows of one kernel build. Everything in it is read from
 * the kernel's own artefacts (see packages/harness: .config, modules.builtin, modules.dep,
 * modules.alias from the package; driver names, the built-in match table and boot timing from a
 * discovery boot of that very kernel), never typed by hand.
 */
import type { IommuKind } from './scenario.js';
import type { ProbeBehaviour } from './behaviours.js';
import type { SupplierTable } from '@probelab/dt-compiler';

export type Bus = 'platform' | 'amba' | 'pci' | 'virtio' | 'i2c' | 'spi';

export interface DriverInfo {
  name: string;
  bus: Bus;
  /** The module that provides the driver (the `module` link in sysfs), normalised with '_'. */
  module: string | null;
  builtin: boolean;
  /** Compatibles of its of_device_id table, when read from source (matching by OF). */
  ofCompatibles?: string[];
  /** Built-in drivers read from source: initcall level (include/linux/init.h) and link order. */
  level?: number;
  linkOrder?: number;
}

/** A built-in driver binding, seen in the discovery boot: the device's match key and the driver. */
export interface BuiltinMatch {
  bus: Bus;
  key: string;
  driver: string;
}

/** Boot timing of one machine variant, measured in the discovery boot (guest seconds). */
export interface BootTiming {
  /** When each built-in driver that binds a board device registered (enclosing initcall start). */
  builtinRegistrations: Array<{ t: number; driver: string; bus: Bus }>;
  /** dd.c:deferred_probe_initcall start, and when it returned (the timer is armed then). */
  lateInitcall: number;
  lateInitcallEnd: number;
  /** Built-in driver_register calls after the late initcall (each may extend the timeout). */
  lateRegistrations: number[];
  /** "Run /init as init process". */
  initStart: number;
  /** Time from the guest init starting an insmod to the module's init function running. */
  moduleLoadLatency: Record<string, number>;
  defaultModuleLoadLatency: number;
  /** Wall of one probe attempt, by driver; a deferral costs `deferCost`. */
  probeDuration: Record<string, number>;
  deferCost: number;
}

export interface KernelProfile {
  id: string;
  series: '6.1' | '6.12';
  release: string;
  /** CONFIG_HZ. */
  hz: number;
  /** CONFIG_MODULES. */
  modules: boolean;
  /** Names from modules.builtin, '_' normalised. */
  builtinModules: Set<string>;
  /** modules.dep: module -> its dependencies, '_' normalised. */
  moduleDeps: Map<string, string[]>;
  /** modules.alias: glob pattern -> module. */
  moduleAliases: Array<{ pattern: string; module: string }>;
  drivers: DriverInfo[];
  builtinMatches: BuiltinMatch[];
  /** Compatibles of DT nodes that early init claims without a device (OF_DECLARE). */
  ofDeclared: string[];
  timing: Partial<Record<IommuKind, BootTiming>>;
  /** From the kernel's source when it has one: dd.c's default deferred_probe_timeout. */
  deferredProbeTimeoutDefault?: number;
  /** From the kernel's source: property.c's `.optional` flag per binding, where it differs. */
  optionalBindings?: Record<string, boolean>;
  /**
   * From the kernel's source (drivers/iommu/iommu.c:iommu_fwspec_init): an `iommus` entry whose
   * IOMMU has not registered defers (-EPROBE_DEFER) even when an earlier entry already made the
   * device's fwspec (6.12's order). When false (6.1.192's order: the fwspec's ops are compared
   * first), such an entry fails with -EINVAL and the master binds untranslated. Absent: by series.
   */
  fwspecInitDefersFirst?: boolean;
  /**
   * From the kernel's source (drivers/iommu/of_iommu.c:of_iommu_configure): the fwspec of a
   * failed configuration is freed (6.12). When false (6.1.192), it stays, and the next
   * iommu_device_register() of its driver (bus_iommu_probe) adds the bound device to a group.
   * Absent: by series.
   */
  fwspecFreedOnError?: boolean;
  /**
   * From the kernel's source (drivers/base/core.c): how fw_devlink breaks dependency cycles —
   * '__fw_devlink_relax_cycles' (6.12, and 6.1.192 by backport) or 'fw_devlink_relax_cycle'
   * (older 6.1). Both stop the links of a cycle ordering probes; the hazards cite the one the
   * tree has. Absent (no tree read): '__fw_devlink_relax_cycles', what both shipped trees have.
   */
  fwDevlinkCycleRule?: '__fw_devlink_relax_cycles' | 'fw_devlink_relax_cycle';
  /**
   * From the kernel's source (drivers/iommu/iommu.c:iommu_device_register): the first IOMMU
   * driver to register owns the buses' iommu_ops and any other driver's registration fails with
   * -EBUSY ("Temporarily enforce global restriction to a single driver", 6.1.192). Absent: by series.
   */
  singleIommuDriver?: boolean;
  /** From the kernel's source (drivers/base/core.c: `static u32 fw_devlink_flags = …`): the
   *  fw_devlink mode without fw_devlink= on the command line. Absent: by series (on / rpm). */
  fwDevlinkDefault?: 'off' | 'permissive' | 'on' | 'rpm';
  /** From the kernel's source (drivers/of/property.c): the supplier-binding table as the tree
   *  declares it (which rows exist, with which cells). Absent: the series' rows. */
  supplierTable?: SupplierTable;
  /** What probes do beyond binding (behaviours.ts), by driver name, when read from source. */
  behaviours?: Record<string, ProbeBehaviour>;
  /**
   * Where a DT device's IOMMU is set up. 'driver-bind' (4.12 and later, both 6.1 and 6.12):
   * really_probe -> dma_configure -> of_iommu_configure, which can defer. 'device-add' (before
   * 4.12, seeds 001 and 004): of_platform_device_create -> of_dma_configure when the device is
   * created; an IOMMU not registered then is never used, nothing defers.
   */
  iommuSetup?: 'driver-bind' | 'device-add';
  /**
   * IOMMU drivers whose init claims the platform bus's IOMMU ops whether or not their hardware
   * exists (bus_set_iommu() in ipmmu_init() before the 2017 fix, seed 002).
   */
  busOpsAtInit?: string[];
  /** Compatibles whose fwnode early init marks initialized without binding a driver to the
   *  device (core.c:fw_devlink_create_devlink: "Not linking %pfwf - dev might never probe"). */
  fwnodeInitialized?: string[];
}

/** fnmatch as used by modprobe on modules.alias (only `*`, `?` and `[...]` occur there). */
export function aliasRegExp(pattern: string): RegExp {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end < 0) re += '\\[';
      else {
        re += '[' + pattern.slice(i + 1, end).replace(/\\/g, '\\\\') + ']';
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(re + '$');
}

export function aliasMatches(pattern: string, modalias: string): boolean {
  return aliasRegExp(pattern).test(modalias);
}

/** Modules whose aliases match a modalias (what udev's modprobe would load). */
export function modulesFor(profile: Pick<KernelProfile, 'moduleAliases'>, modalias: string): string[] {
  const out = new Set<string>();
  for (const a of profile.moduleAliases) if (aliasMatches(a.pattern, modalias)) out.add(a.module);
  return [...out];
}

/** A module and its dependencies, dependencies first (modules.dep order, depth first). */
export function moduleClosure(profile: Pick<KernelProfile, 'moduleDeps'>, module: string): string[] {
  const out: string[] = [];
  const visit = (m: string): void => {
    if (out.includes(m)) return;
    for (const d of profile.moduleDeps.get(m) ?? []) visit(d);
    out.push(m);
  };
  visit(module);
  return out;
}
