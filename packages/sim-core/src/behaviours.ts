/**
 * What a driver's probe does to the rest of the model, by driver name: a PCI host's scan
 * (drivers/pci/controller/pci-host-common.c:pci_host_common_probe), a virtio transport's device
 * (drivers/virtio/virtio_pci_common.c:virtio_pci_probe), an IOMMU's registration, a bus's
 * children. Each row cites the driver code it stands for. A driver not listed here just binds.
 */
export type ProbeBehaviour =
  /** drivers/pci/controller/pci-host-common.c:pci_host_common_probe -> pci_host_probe: scans the
   *  bus and device_add()s every function found (pci_bus_add_devices), in devfn order. */
  | { kind: 'pci-host' }
  /** drivers/virtio/virtio_pci_common.c:virtio_pci_probe -> register_virtio_device: one virtio
   *  device, index from the virtio_index_ida (lowest free). */
  | { kind: 'virtio-transport' }
  /** An IOMMU driver's probe ends in iommu_device_register() for its fwnode:
   *  arm-smmu-v3.c:arm_smmu_device_probe (its own DT node); virtio-iommu.c:viommu_probe
   *  (the node of the transport's parent PCI device). */
  | { kind: 'iommu'; fwnode: 'self' | 'transport-parent'; afterRegister?: string[]; xlateReadsLateState?: boolean }
  /** The probe creates devices for its node's children: of/platform.c:of_platform_populate
   *  (platform), i2c-core-of.c:of_i2c_register_devices (i2c, from i2c_add_adapter),
   *  spi.c:of_register_spi_devices (spi, from spi_register_controller). */
  | { kind: 'children'; bus: 'platform' | 'i2c' | 'spi' };

export const probeBehaviours: Record<string, ProbeBehaviour> = {
  'pci-host-generic': { kind: 'pci-host' },
  'virtio-pci': { kind: 'virtio-transport' },
  // arm-smmu-v3.c:arm_smmu_device_probe registers last: nothing follows but `return 0`.
  'arm-smmu-v3': { kind: 'iommu', fwnode: 'self' },
  // virtio-iommu.c:viommu_probe sets vdev->priv, which viommu_probe_device reads through
  // viommu_get_by_fwnode, after iommu_device_register().
  virtio_iommu: {
    kind: 'iommu',
    fwnode: 'transport-parent',
    afterRegister: ['vdev->priv = viommu'],
    xlateReadsLateState: true,
  },
};
