/**
 * What the probe path takes from providers, checked when it runs (not through device links):
 * - drivers/base/platform.c:platform_probe and amba's amba_probe -> dev_pm_domain_attach ->
 *   genpd (drivers/pmdomain/core.c, 6.1's drivers/base/power/domain.c):__genpd_dev_pm_attach:
 *   no provider registered -> driver_deferred_probe_check_state: -EPROBE_DEFER, after the
 *   timeout -ETIMEDOUT (a failed probe, "failed with error -110");
 * - qemu/lab/probelab/probelab_master.c:probelab_master_probe: devm_clk_bulk_get_all and
 *   devm_reset_control_array_get_optional_exclusive: -EPROBE_DEFER while a provider is missing.
 * A provider is there when its device is bound, or when early init provides it without one
 * (OF_DECLARE'd clocks, fwnodeInitialized providers).
 */
import { compatible, phandleNodes, type DtNode } from '@probelab/dt-compiler';
import type { DriverCore } from './driver-core.js';
import type { Device, Driver } from './model.js';

export type MissingResource = { result: 'defer'; rule: string } | { result: 'fail'; errno: number; rule: string };

export class ProbeResources {
  constructor(private readonly core: DriverCore) {}

  /** A provider early init made without a device (OF_DECLARE'd, fwnodeInitialized). */
  private early(n: DtNode): boolean {
    const c = this.core;
    if (!c.ofDeclared.size && !c.initialized.size) return false;
    return compatible(n).some((x) => c.ofDeclared.has(x) || c.initialized.has(x));
  }

  /** The first provider in a phandle list that is not there yet: neither early nor bound. */
  private absent(list: readonly DtNode[]): DtNode | undefined {
    for (const n of list) if (!this.early(n) && !this.core.deviceOf(n)?.driver) return n;
    return undefined;
  }

  missing(dev: Device, drv: Driver): MissingResource | null {
    const c = this.core;
    const node = dev.node;
    if (!node || (dev.bus !== 'platform' && dev.bus !== 'amba')) return null;
    // genpd_dev_pm_attach handles a single domain only (several are the driver's to attach).
    const domains = phandleNodes(c.tree, node, 'power-domains', '#power-domain-cells');
    const pd = domains.length === 1 ? this.absent(domains) : undefined;
    if (pd) {
      const st = c.deferred.checkState();
      return st === 'defer'
        ? {
            result: 'defer',
            rule: `drivers/pmdomain/core.c:__genpd_dev_pm_attach (no PM domain provider for ${pd.path} yet) -> dd.c:driver_deferred_probe_check_state`,
          }
        : st === 'enodev'
          ? {
              result: 'fail',
              errno: -19,
              rule: `drivers/pmdomain/core.c:__genpd_dev_pm_attach -> dd.c:driver_deferred_probe_check_state (-ENODEV: !CONFIG_MODULES and initcalls done; ${pd.path} provides no power domain)`,
            }
          : {
              result: 'fail',
              errno: -110,
              rule: `drivers/pmdomain/core.c:__genpd_dev_pm_attach -> dd.c:driver_deferred_probe_check_state (-ETIMEDOUT: ${pd.path} never provided its power domain)`,
            };
    }
    if (drv.info.name === 'probelab-master') {
      const clk =
        this.absent(phandleNodes(c.tree, node, 'clocks', '#clock-cells')) ??
        this.absent(phandleNodes(c.tree, node, 'resets', '#reset-cells'));
      if (clk)
        return {
          result: 'defer',
          rule: `qemu/lab/probelab/probelab_master.c:probelab_master_probe (devm_clk_bulk_get_all / reset get: ${clk.path} has not registered its provider, -EPROBE_DEFER)`,
        };
    }
    return null;
  }
}
