/**
 * Child devices a bus driver's probe creates from its node: of_platform_populate
 * (drivers/of/platform.c, the same rules as at boot, board.ts), of_i2c_register_devices
 * ("<adapter nr>-<addr %04x>", drivers/i2c/i2c-core-base.c:i2c_dev_set_name; the adapter number
 * is its `i2cN` alias, else the next free), of_register_spi_devices ("spi<bus>.<cs>",
 * drivers/spi/spi.c:spi_dev_set_name).
 */
import { cells, compatible, isAvailable, type DtNode } from '@probelab/dt-compiler';
import { busId, ofModalias } from './board.js';
import type { DriverCore } from './driver-core.js';
import type { Device } from './model.js';

export class OfPlatform {
  private i2cAdapters = 0;

  constructor(private readonly core: DriverCore) {}

  addChildren(dev: Device, bus: 'platform' | 'i2c' | 'spi'): void {
    const c = this.core;
    const node = dev.node!;
    if (bus === 'platform') {
      for (const child of node.children) {
        if (!compatible(child).length || !isAvailable(child) || c.bus.hasDevice(child)) continue;
        if (compatible(child).some((x) => c.ofDeclared.has(x))) continue;
        c.addDevice({ id: busId(child), bus: 'platform', node: child, parent: dev, modalias: ofModalias(child) });
      }
      return;
    }
    const alias = this.aliasIndex(node, bus === 'i2c' ? 'i2c' : 'spi');
    const nr = alias ?? (bus === 'i2c' ? 100 + this.i2cAdapters++ : 100 + this.i2cAdapters++);
    for (const child of node.children) {
      if (!compatible(child).length || !isAvailable(child) || c.bus.hasDevice(child)) continue;
      const r = cells(child, 'reg')?.[0] ?? 0;
      const id = bus === 'i2c' ? `${nr}-${r.toString(16).padStart(4, '0')}` : `spi${nr}.${r}`;
      c.addDevice({ id, bus, node: child, parent: dev, modalias: ofModalias(child) });
    }
  }

  /** drivers/of/base.c:of_alias_get_id: the N of an `<stem>N` alias naming the node. */
  private aliasIndex(node: DtNode, stem: string): number | null {
    const aliases = this.core.tree.root.children.find((x) => x.name === 'aliases');
    if (!aliases) return null;
    for (const [name, p] of aliases.properties) {
      const m = new RegExp(`^${stem}(\\d+)$`).exec(name);
      if (m && new TextDecoder().decode(p.value).replace(/\0.*$/s, '') === node.path) return Number(m[1]);
    }
    return null;
  }
}
