/**
 * fw_devlink's supplier bindings: drivers/of/property.c:of_supplier_bindings[], one row per
 * entry, in table order, with the series (6.1, 6.12) in which the row exists, its `.optional`
 * flag (parsed only under fw_devlink.strict=1) and how its property is parsed. Read from both
 * trees' property.c (DEFINE_SIMPLE_PROP / DEFINE_SUFFIX_PROP and the hand-written parsers).
 * Adding a binding is adding a row.
 */
export type KernelSeries = '6.1' | '6.12';

export type BindingParser =
  /** DEFINE_SIMPLE_PROP: `<&phandle args...>` entries sized by a cells property (or bare phandles). */
  | { kind: 'simple'; cells: string | null }
  /** DEFINE_SUFFIX_PROP: any property ending in the suffix. */
  | { kind: 'suffix'; cells: string | null; except?: string }
  /** parse_gpio_compat: `gpio` or `gpios`, skipped in gpio-hog nodes. */
  | { kind: 'gpio-compat' }
  /** parse_iommu_maps: the phandle of every 4-cell `iommu-map` entry. */
  | { kind: 'iommu-map' }
  /** parse_interrupts: the interrupt parent of `interrupts`/`interrupts-extended` (OF_IRQ). */
  | { kind: 'interrupts' }
  /** parse_interrupt_map: the parents named in `interrupt-map`. */
  | { kind: 'interrupt-map' }
  /** parse_remote_endpoint: the remote port's parent device (index 0 only). */
  | { kind: 'remote-endpoint' };

export interface SupplierBinding {
  readonly property: string;
  readonly parser: BindingParser;
  readonly optional: boolean;
  readonly series: ReadonlyArray<KernelSeries>;
  /** 6.12 post-init-providers: FWLINK_FLAG_IGNORE (never blocks, no cycle detection). */
  readonly ignore?: boolean;
  /** 6.1 remote-endpoint: .node_not_dev; 6.12: .get_con_dev = of_graph_get_port_parent. */
  readonly consumerIsPortParent?: boolean;
}

const both: KernelSeries[] = ['6.1', '6.12'];
const only612: KernelSeries[] = ['6.12'];
const only61: KernelSeries[] = ['6.1'];
const simple = (
  property: string,
  cells: string | null,
  series: KernelSeries[] = both,
  optional = false,
): SupplierBinding => ({ property, parser: { kind: 'simple', cells }, optional, series });

export const supplierBindings: ReadonlyArray<SupplierBinding> = [
  simple('clocks', '#clock-cells'),
  simple('interconnects', '#interconnect-cells'),
  simple('iommus', '#iommu-cells', both, true),
  { property: 'iommu-map', parser: { kind: 'iommu-map' }, optional: true, series: both },
  simple('mboxes', '#mbox-cells'),
  simple('io-channels', '#io-channel-cells'),
  simple('io-backends', '#io-backend-cells', only612),
  simple('interrupt-parent', null, only61),
  simple('dmas', '#dma-cells', both, true),
  simple('power-domains', '#power-domain-cells'),
  simple('hwlocks', '#hwlock-cells'),
  simple('extcon', null),
  simple('nvmem-cells', null, only61),
  simple('nvmem-cells', '#nvmem-cell-cells', only612),
  simple('phys', '#phy-cells'),
  simple('wakeup-parent', null),
  ...[0, 1, 2, 3, 4, 5, 6, 7, 8].map((i) => simple(`pinctrl-${i}`, null)),
  {
    property: 'remote-endpoint',
    parser: { kind: 'remote-endpoint' },
    optional: false,
    series: both,
    consumerIsPortParent: true,
  },
  simple('pwms', '#pwm-cells'),
  simple('resets', '#reset-cells'),
  simple('leds', null),
  simple('backlight', null),
  simple('panel', null),
  simple('msi-parent', '#msi-cells', only612),
  simple('pses', '#pse-cells', only612),
  simple('power-supplies', null, only612),
  { property: 'gpio', parser: { kind: 'gpio-compat' }, optional: false, series: both },
  { property: 'interrupts', parser: { kind: 'interrupts' }, optional: false, series: both },
  { property: 'interrupt-map', parser: { kind: 'interrupt-map' }, optional: false, series: only612 },
  simple('access-controllers', '#access-controller-cells', only612),
  { property: '-supply', parser: { kind: 'suffix', cells: null }, optional: false, series: both },
  { property: '-gpio', parser: { kind: 'suffix', cells: '#gpio-cells' }, optional: false, series: both },
  {
    property: '-gpios',
    parser: { kind: 'suffix', cells: '#gpio-cells', except: ',nr-gpios' },
    optional: false,
    series: both,
  },
  { ...simple('post-init-providers', null, only612), ignore: true },
];

/**
 * What a tree's drivers/of/property.c declares: the parse functions listed in
 * of_supplier_bindings[], and the properties and cells of its DEFINE_SIMPLE_PROP /
 * DEFINE_SUFFIX_PROP parsers (read by the harness, kernels.ts:sourceFacts).
 */
export interface SupplierTable {
  parsers: string[];
  simple: Array<{ fn: string; property: string; cells: string | null }>;
  suffix: Array<{ fn: string; property: string; cells: string | null }>;
}

const handWritten: Record<string, string> = {
  'iommu-map': 'parse_iommu_maps',
  'gpio-compat': 'parse_gpio_compat',
  interrupts: 'parse_interrupts',
  'interrupt-map': 'parse_interrupt_map',
  'remote-endpoint': 'parse_remote_endpoint',
};

/** The rows of supplierBindings a tree's table has (each matched by parser, property and cells). */
export function bindingsOfTree(t: SupplierTable): SupplierBinding[] {
  const listed = new Set(t.parsers);
  return supplierBindings.filter((b) => {
    const p = b.parser;
    // parse_gpios is written by hand (it skips ",nr-gpios"), not with DEFINE_SUFFIX_PROP.
    if (p.kind === 'suffix' && p.except) return listed.has(`parse_${b.property.replace(/^-/, '').replace(/-/g, '_')}`);
    if (p.kind === 'simple' || p.kind === 'suffix') {
      const decl = (p.kind === 'simple' ? t.simple : t.suffix).find(
        (d) => d.property === b.property && d.cells === p.cells,
      );
      return !!decl && listed.has(`parse_${decl.fn}`);
    }
    return listed.has(handWritten[p.kind]!);
  });
}
