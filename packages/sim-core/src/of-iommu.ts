/**
 * IOMMU configuration of bus masters, as drivers/iommu/of_iommu.c:of_iommu_configure does it
 * from bus->dma_configure (drivers/of/device.c:of_dma_configure_id for platform and AMBA
 * devices, drivers/pci/pci-driver.c:pci_dma_configure for PCI through the host's `iommu-map`,
 * drivers/of/base.c:of_map_id): which IOMMUs a master names, the fwspec its entries make, the
 * -EPROBE_DEFER while an IOMMU is not registered, and going on without one after the timeout.
 */
import { isAvailable, mapId, phandleNodes, type DtNode } from '@probelab/dt-compiler';
import type { DriverCore } from './driver-core.js';
import type { Device, Driver, IommuInstance } from './model.js';
import { round6 } from './sim-time.js';

export class OfIommu {
  /** Masters that gave up on an IOMMU node, to flag when that IOMMU registers after all. */
  readonly gaveUpOn = new Map<Device, DtNode>();

  constructor(private readonly core: DriverCore) {}

  /**
   * The IOMMU nodes a master's DMA goes through, or null when none is declared (case 1 of seed
   * 001). DT masters: every `iommus` entry (of_iommu.c:of_iommu_configure_device iterates them
   * all: a master behind several Exynos SYSMMUs needs each). PCI: the host's `iommu-map` for
   * the RID (pci_for_each_dma_alias -> of_pci_iommu_init -> of_map_id).
   */
  iommuTargets(dev: Device, quiet = false): DtNode[] | null {
    const c = this.core;
    if (dev.bus === 'pci' && dev.pci) {
      const host = dev.pci.host;
      if (!host.properties.has('iommu-map')) return null;
      const m = mapId(c.tree, host, 'iommu-map', dev.pci.rid);
      if (!m) {
        // of/base.c:of_map_id: "no iommu-map translation for id 0x%x on (null)"; no IOMMU.
        if (!quiet && !dev.driver && !c.hasEvent('iommu-map-miss', dev.id))
          c.emit({
            kind: 'iommu-map-miss',
            device: dev.id,
            value: dev.pci.rid,
            rule: 'drivers/of/base.c:of_map_id (no iommu-map entry covers the RID: no IOMMU)',
          });
        return null;
      }
      return [m.target];
    }
    if (dev.ofIommus !== undefined) return dev.ofIommus;
    let targets: DtNode[] | null = null;
    if ((dev.bus === 'platform' || dev.bus === 'amba') && dev.node && dev.node.properties.has('iommus')) {
      const list = phandleNodes(c.tree, dev.node, 'iommus', '#iommu-cells');
      // of_iommu_xlate: an unavailable IOMMU node is -ENODEV, and the master runs without one.
      targets = list.length && list.every(isAvailable) ? list : null;
    }
    dev.ofIommus = targets;
    return targets;
  }

  /** Whether of_iommu_configure would defer now (no side effects). */
  wouldDefer(dev: Device): boolean {
    const targets = this.iommuTargets(dev, true);
    return (
      !!targets && targets.some((t) => !this.core.iommu.instanceFor(t)) && this.core.deferred.checkState() === 'defer'
    );
  }

  /**
   * of/device.c:of_dma_configure_id -> of_iommu.c:of_iommu_configure, which walks the `iommus`
   * entries in order (of_iommu_configure_device -> of_iommu_xlate -> iommu_fwspec_init). The
   * first entry makes the device's fwspec; a later entry must name an IOMMU of the same ops.
   * An entry whose IOMMU has not registered defers, except where the tree compares the fwspec
   * first (fwspecInitDefersFirst false, 6.1.192): after an earlier entry made the fwspec, it
   * fails with -EINVAL, and of_dma_configure_id lets the master probe without its IOMMU.
   */
  dmaConfigure(dev: Device, drv: Driver): 'ok' | 'defer' {
    const c = this.core;
    const iommu = c.iommu;
    const targets = this.iommuTargets(dev);
    if (!targets) return 'ok';
    const defersFirst = c.profile.fwspecInitDefersFirst ?? c.profile.series !== '6.1';
    let fwspec: IommuInstance | null = null;
    for (const t of targets) {
      const inst = iommu.instanceFor(t) ?? null;
      if (!inst && (defersFirst || !fwspec)) break; // the -EPROBE_DEFER path below
      if (fwspec && (!inst || inst.driver !== fwspec.driver)) return this.configureFailed(dev, fwspec, t);
      fwspec ??= inst;
    }
    const missing = targets.filter((t) => !iommu.instanceFor(t));
    if (!missing.length) {
      // Registered, but its driver's probe has not finished setting it up (an async probe inside
      // its register-before-ready window): probe_device answers -ENODEV, of_iommu_configure fails,
      // of_dma_configure_id goes on without an IOMMU.
      const early = targets.map((t) => iommu.instanceFor(t)!).find((i) => i.readyAt !== undefined && i.readyAt > c.now);
      if (early) {
        c.hazards.push({
          kind: 'configured-in-window',
          device: dev.id,
          t: round6(c.now),
          rule: "drivers/iommu/iommu.c:iommu_device_register (inside the IOMMU driver's probe) -> of_iommu.c:of_iommu_configure -> iommu_probe_device (-ENODEV from probe_device)",
          detail: `configured against ${early.device.id} ${round6(early.readyAt! - c.now)} s before its driver's probe finished; bound untranslated although its IOMMU is there`,
        });
        return 'ok';
      }
      iommu.probeDevice(dev, iommu.instanceFor(targets[0]!)!);
      return 'ok';
    }
    // of_iommu.c:of_iommu_xlate: no iommu_device registered for the fwnode ->
    // driver_deferred_probe_check_state(dev).
    const st = c.deferred.checkState();
    if (st === 'defer') return 'defer';
    // dd.c:driver_deferred_probe_check_state warns (prefix = driver name, dev->driver is set),
    // of_dma_configure_id swallows the error: the master probes without its IOMMU.
    dev.ignoredDependency = true;
    this.gaveUpOn.set(dev, missing[0]!);
    c.emit({
      kind: 'ignored-dependency',
      device: dev.id,
      driver: drv.info.name,
      rule: `drivers/base/dd.c:driver_deferred_probe_check_state (${st === 'enodev' ? '-ENODEV: !CONFIG_MODULES and initcalls done' : '-ETIMEDOUT: timeout is 0 and initcalls done'}); of_dma_configure_id goes on without the IOMMU`,
    });
    for (const t of missing) {
      const iommuDev = c.deviceOf(t);
      const failed = iommuDev && c.hasEvent('probe-failed', iommuDev.id);
      if (failed) {
        c.hazards.push({
          kind: 'iommu-probe-failed',
          device: dev.id,
          t: round6(c.now),
          rule: 'drivers/iommu/of_iommu.c:of_iommu_xlate -> dd.c:driver_deferred_probe_check_state (case 3c of seed 001: a failed IOMMU looks like one not probed yet)',
          detail: `its IOMMU ${iommuDev!.id} failed to probe for good; the master waited for it until the deferred-probe timeout, then ran untranslated`,
        });
      }
    }
    return 'ok';
  }

  /**
   * iommu_fwspec_init -EINVAL: "Adding to IOMMU failed: -22" (dev_dbg), and of_dma_configure_id
   * goes on without an IOMMU. Where of_iommu_configure does not free the failed fwspec
   * (fwspecFreedOnError false, 6.1.192) it stays, naming the first entry's instance.
   */
  private configureFailed(dev: Device, fwspec: IommuInstance, entry: DtNode): 'ok' {
    const c = this.core;
    const freed = c.profile.fwspecFreedOnError ?? c.profile.series !== '6.1';
    if (!freed) c.iommu.keepStaleFwspec(dev, fwspec);
    if (c.firstReport('iommu-configure-failed', dev.id)) {
      const inst = c.iommu.instanceFor(entry);
      c.hazards.push({
        kind: 'iommu-configure-failed',
        device: dev.id,
        t: round6(c.now),
        rule: "drivers/iommu/of_iommu.c:of_iommu_xlate -> iommu.c:iommu_fwspec_init (-EINVAL: the fwspec holds another IOMMU's ops) ; of/device.c:of_dma_configure_id ignores the error",
        detail: `its \`iommus\` entry for ${entry.path} ${inst ? `is driven by ${inst.driver}, not ${fwspec.driver}` : 'names an IOMMU not registered yet'}; it binds untranslated without waiting${freed ? '' : `, keeping a fwspec for ${fwspec.device.id}`}`,
      });
    }
    return 'ok';
  }

  /** Before 4.12: of_dma_configure when the device is created; an IOMMU not there yet is never used. */
  atDeviceAdd(dev: Device): void {
    const targets = this.iommuTargets(dev);
    if (!targets) return;
    const missing = targets.filter((t) => !this.core.iommu.instanceFor(t));
    if (!missing.length) this.core.iommu.probeDevice(dev, this.core.iommu.instanceFor(targets[0]!)!);
    else this.gaveUpOn.set(dev, missing[0]!);
  }
}
