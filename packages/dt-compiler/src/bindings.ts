/**
 * fw_devlink's supplier bindings: drivers/of/property.c:of_supplier_bindings[], one row per
 * binding, in table order, with the kernel series in which the row exists and whether it is
 * `.optional` (only parsed under fw_devlink.strict=1). Adding a binding is adding a row.
 */
export type KernelSeries = '6.1' | '6.12';

export interface SupplierBinding {
  /** Property name, or a suffix match when `suffix` is set (e.g. `-supply`). */
  readonly property: string;
  readonly suffix?: boolean;
  /** Cells property in the supplier that sizes each entry; null: a plain phandle list. */
  readonly cells: string | null;
  readonly optional: boolean;
  readonly series: ReadonlyArray<KernelSeries>;
}

const both: KernelSeries[] = ['6.1', '6.12'];
const only612: KernelSeries[] = ['6.12'];

export const supplierBindings: ReadonlyArray<SupplierBinding> = [
  { property: 'clocks', cells: '#clock-cells', optional: false, series: both },
  { property: 'interconnects', cells: '#interconnect-cells', optional: false, series: both },
  { property: 'iommus', cells: '#iommu-cells', optional: true, series: both },
  { property: 'iommu-map', cells: null, optional: true, series: both },
  { property: 'mboxes', cells: '#mbox-cells', optional: false, series: both },
  { property: 'io-channels', cells: '#io-channel-cells', optional: false, series: both },
  { property: 'io-backends', cells: '#io-backend-cells', optional: false, series: only612 },
  { property: 'interrupt-parent', cells: null, optional: false, series: ['6.1'] },
  { property: 'dmas', cells: '#dma-cells', optional: true, series: both },
  { property: 'power-domains', cells: '#power-domain-cells', optional: false, series: both },
  { property: 'hwlocks', cells: '#hwlock-cells', optional: false, series: both },
  { property: 'extcon', cells: null, optional: false, series: both },
  { property: 'nvmem-cells', cells: null, optional: false, series: both },
  { property: 'phys', cells: '#phy-cells', optional: false, series: both },
  { property: 'wakeup-parent', cells: null, optional: false, series: both },
  { property: 'pinctrl-0', cells: null, optional: false, series: both },
  { property: 'remote-endpoint', cells: null, optional: false, series: both },
  { property: 'pwms', cells: '#pwm-cells', optional: false, series: both },
  { property: 'resets', cells: '#reset-cells', optional: false, series: both },
  { property: 'leds', cells: null, optional: false, series: both },
  { property: 'backlight', cells: null, optional: false, series: both },
  { property: 'panel', cells: null, optional: false, series: both },
  { property: 'msi-parent', cells: '#msi-cells', optional: false, series: only612 },
  { property: 'pses', cells: '#pse-cells', optional: false, series: only612 },
  { property: 'power-supplies', cells: null, optional: false, series: only612 },
  { property: 'gpios', cells: '#gpio-cells', optional: false, series: both },
  { property: 'interrupts', cells: null, optional: false, series: both },
  { property: 'interrupt-map', cells: null, optional: false, series: only612 },
  { property: 'access-controllers', cells: '#access-controller-cells', optional: false, series: only612 },
  { property: '-supply', suffix: true, cells: null, optional: false, series: both },
  { property: '-gpios', suffix: true, cells: '#gpio-cells', optional: false, series: both },
];
