/** The simulator's state: devices, drivers and IOMMU instances, named for the domain. */
import type { DtNode } from '@probelab/dt-compiler';
import type { Bus, DriverInfo } from './profile.js';

export interface Device {
  /** dev_name(). */
  id: string;
  bus: Bus;
  node: DtNode | null;
  parent: Device | null;
  modalias: string | null;
  matchKey: string;
  /** PCI: requester ID (bus << 8 | devfn) and the host controller's node, for of_iommu. */
  pci?: { rid: number; host: DtNode };
  /** virtio transports: the virtio device ID they expose; virtio devices: their ID. */
  virtioId?: number;
  virtioVendor?: number;
  driver: string | null;
  /** dd.c: dev->can_match. */
  canMatch: boolean;
  /** dd.c: which deferred list the device is on. */
  list: 'pending' | 'active' | null;
  iommuGroup: number | null;
  ignoredDependency: boolean;
  /** Registration order on its bus (bus_for_each_dev order). */
  order: number;
  /** Its `iommus` entries' nodes, all available, or null (of-iommu.ts; read once: the tree does not change). */
  ofIommus: DtNode[] | null | undefined;
  /** core.c: dev->links.suppliers, the links fw_devlink made to its suppliers (fw-devlink.ts). */
  suppliers: SupplierLink[];
  /** The rule of its last -EPROBE_DEFER, as dev->p->deferred_probe_reason keeps the last reason
   *  (dd-probe.ts reports a deferral only when it changes). */
  deferRule: string | null;
  /** A fwspec a failed of_iommu_configure left behind (trees that do not free it): the IOMMU
   *  instance its first `iommus` entry named. */
  staleFwspec?: IommuInstance;
}

export interface Driver {
  info: DriverInfo;
  /** Registration order on its bus (bus_for_each_drv order). */
  order: number;
}

/** A supplier link fw_devlink made for a consumer (core.c:fw_devlink_create_devlink). */
export interface SupplierLink {
  consumer: Device;
  supplierNode: DtNode;
  binding: string;
  optional: boolean;
  /** core.c:fw_devlink_relax_link turned it SYNC_STATE_ONLY: it no longer blocks probe. */
  relaxed: boolean;
  /** The supplier node's own device, once it exists (devices are never removed: it stays). */
  supplier: Device | null;
}

export interface IommuInstance {
  fwnode: DtNode;
  driver: string;
  device: Device;
  /** Registered by an async probe still running: not usable before this time. */
  readyAt?: number;
}
