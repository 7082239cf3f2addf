/**
 * What a successful probe does beyond binding, by the driver's behaviour (behaviours.ts): a PCI
 * host bridge enumerates its functions (drivers/pci/probe.c:pci_scan_root_bus_bridge), a virtio
 * transport adds its virtio device (drivers/virtio/virtio.c:register_virtio_device, "virtio%u"
 * from an IDA), an IOMMU driver registers its instance (drivers/iommu/iommu.c:
 * iommu_device_register, iommu-core.ts), a bus driver creates its children (of-platform.ts).
 */
import { cells, type DtNode } from '@probelab/dt-compiler';
import { pciModalias, virtioModalias } from './board.js';
import type { DriverCore } from './driver-core.js';
import type { Device, Driver } from './model.js';

export class ProbeEffects {
  /** drivers/virtio/virtio.c's virtio_index_ida. */
  private readonly virtioIds = new Set<number>();

  constructor(private readonly core: DriverCore) {}

  run(drv: Driver, dev: Device): void {
    const c = this.core;
    const b = c.behaviours[drv.info.name];
    if (!b) return;
    if (b.kind === 'pci-host') {
      for (const f of c.board.pciFunctions) {
        const node = dev.node?.children.find((x) => pciDevfn(x) === f.slot << 3) ?? null;
        c.addDevice({
          id: `0000:00:${hex2(f.slot)}.0`,
          bus: 'pci',
          node,
          parent: dev,
          modalias: pciModalias(f),
          pci: { rid: f.slot << 3, host: dev.node! },
          ...(f.virtioId !== undefined ? { virtioId: f.virtioId, virtioVendor: f.subvendor } : {}),
        });
      }
    } else if (b.kind === 'virtio-transport' && dev.virtioId !== undefined) {
      let idx = 0;
      while (this.virtioIds.has(idx)) idx++;
      this.virtioIds.add(idx);
      c.addDevice({
        id: `virtio${idx}`,
        bus: 'virtio',
        node: null,
        parent: dev,
        modalias: virtioModalias(dev.virtioId, dev.virtioVendor ?? 0x1af4),
        virtioId: dev.virtioId,
      });
    } else if (b.kind === 'iommu') {
      const fwnode = b.fwnode === 'self' ? dev.node : (dev.parent?.node ?? null);
      // probelab,register-before-ready: the lab IOMMU's probe_device reads `ready`, set after registering.
      const lab = c.faults.probeTime(dev)?.window;
      if (fwnode)
        c.iommu.register(
          { fwnode, driver: drv.info.name, device: dev },
          [...(b.afterRegister ?? []), ...(lab ?? [])],
          b.xlateReadsLateState || !!lab,
        );
      // What the probe still does after registering (probelab,register-before-ready).
      c.now += c.faults.probeTime(dev)?.afterRegister ?? 0;
    } else if (b.kind === 'children' && dev.node) {
      c.platform.addChildren(dev, b.bus);
    }
  }
}

function pciDevfn(node: DtNode): number | undefined {
  const r = cells(node, 'reg');
  return r ? (r[0]! >> 8) & 0xff : undefined;
}

const hex2 = (n: number): string => n.toString(16).padStart(2, '0');
