/**
 * Modules, as kernel/module/main.c loads and unloads them: do_init_module registers the
 * module's drivers (async_probe_requested from its async_probe parameter), delete_module refuses
 * a module still referenced (-EWOULDBLOCK) and otherwise its exit unregisters its drivers.
 */
import type { DriverCore } from './driver-core.js';

export class ModuleLoader {
  /** Modules whose probes run asynchronously (kernel/module/main.c: async_probe_requested). */
  private readonly asyncModules = new Set<string>();

  constructor(private readonly core: DriverCore) {}

  isAsync(module: string): boolean {
    return this.asyncModules.has(module);
  }

  /** A module's init: register each of its drivers (kernel/module/main.c:do_init_module);
   *  `async`: its async_probe parameter (or module.async_probe) was set. */
  load(module: string, async = false): void {
    const c = this.core;
    if (async) this.asyncModules.add(module);
    c.emit({
      kind: 'module-loaded',
      device: null,
      module,
      rule: 'kernel/module/main.c:do_init_module -> driver_register (driver_attach, deferred_probe_extend_timeout)',
    });
    for (const info of c.profile.drivers.filter((d) => d.module === module && !d.builtin)) c.registerDriver(info);
  }

  /**
   * rmmod: kernel/module/main.c:delete_module refuses a module whose reference count is not zero;
   * every master attached to one of its IOMMU instances holds one (iommu.c:iommu_init_device ->
   * try_module_get(ops->owner)). Otherwise driver_unregister unbinds its devices, each after its
   * consumers (core.c:device_links_unbind_consumers: managed links that are not SYNC_STATE_ONLY).
   */
  unload(module: string): void {
    const c = this.core;
    const holders = c.iommu.holders(module, (driver) => this.driverModule(driver)).map((d) => d.id);
    if (holders.length) {
      c.emit({
        kind: 'module-unload-refused',
        device: null,
        module,
        rule: `kernel/module/main.c:delete_module (-EWOULDBLOCK: in use; drivers/iommu/iommu.c:iommu_init_device holds a reference for each of ${holders.join(', ')})`,
      });
      return;
    }
    for (const drv of c.bus.drivers.filter((d) => d.info.module === module && !d.info.builtin)) {
      for (const dev of c.devices.filter((d) => d.driver === drv.info.name && d.bus === drv.info.bus))
        c.probe.releaseDriver(dev, 'drivers/base/dd.c:driver_detach (driver_unregister)');
      c.bus.removeDriver(drv);
    }
    c.emit({
      kind: 'module-unloaded',
      device: null,
      module,
      rule: "kernel/module/main.c:delete_module -> the module's exit: driver_unregister",
    });
  }

  private driverModule(driver: string): string | null {
    return this.core.profile.drivers.find((d) => d.name === driver)?.module ?? null;
  }
}
