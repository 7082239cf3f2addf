/**
 * A board: the devices the kernel creates from a device tree (of/platform.c:of_platform_populate)
 * plus the PCI functions QEMU puts behind the host bridge. Built from the DTB through dt-compiler.
 */
import { compatible, isAvailable, reg, string, type DeviceTree, type DtNode } from '@probelab/dt-compiler';
import type { Bus } from './profile.js';

export interface PciFunctionSpec {
  slot: number;
  /** QEMU device name, e.g. virtio-blk-pci; `host-bridge` for 00:00.0. */
  kind: string;
  vendor: number;
  device: number;
  subvendor: number;
  subdevice: number;
  classCode: number;
  /** Present for virtio transports: the virtio device ID the transport exposes. */
  virtioId?: number;
}

export interface PlatformDeviceSpec {
  id: string;
  bus: Extract<Bus, 'platform' | 'amba'>;
  node: DtNode;
}

export interface Board {
  tree: DeviceTree;
  /** Devices of_platform_populate creates, in creation order. */
  platform: PlatformDeviceSpec[];
  /** The PCI host controller's node, and the functions enumeration will find, in slot order. */
  pciHost: DtNode | null;
  pciFunctions: PciFunctionSpec[];
  /** Every available node with a compatible that early init did not claim: the nodes that can
   *  become devices (at populate or when a parent's probe creates them). */
  deviceNodes: Set<DtNode>;
}

/** of/platform.c:of_default_bus_match_table. */
const simpleBuses = ['simple-bus', 'simple-mfd', 'isa', 'arm,amba-bus'];

/**
 * of/platform.c:of_platform_bus_create with strict=true from the root: a node needs a
 * `compatible`, must be available, and is skipped if early init claimed it (OF_POPULATED set by
 * OF_DECLARE users such as irqchips and clocks: `ofDeclared`). `arm,primecell` nodes become AMBA
 * devices. Children are walked only below simple buses.
 */
export function buildBoard(tree: DeviceTree, pciFunctions: PciFunctionSpec[], ofDeclared: ReadonlySet<string>): Board {
  const platform: PlatformDeviceSpec[] = [];
  let pciHost: DtNode | null = null;
  const create = (node: DtNode): void => {
    const compat = compatible(node);
    if (!compat.length || !isAvailable(node)) return;
    if (compat.some((c) => ofDeclared.has(c))) return;
    const bus = compat.includes('arm,primecell') ? 'amba' : 'platform';
    platform.push({ id: busId(node), bus, node });
    if (string(node, 'device_type') === 'pci') pciHost = node;
    if (bus === 'platform' && compat.some((c) => simpleBuses.includes(c))) node.children.forEach(create);
  };
  const deviceNodes = new Set<DtNode>();
  const collect = (node: DtNode): void => {
    if (!isAvailable(node)) return;
    const compat = compatible(node);
    if (compat.length && !compat.some((c) => ofDeclared.has(c))) deviceNodes.add(node);
    node.children.forEach(collect);
  };
  for (const child of tree.root.children) {
    if (['chosen', 'aliases', 'memory', 'cpus', '__symbols__'].includes(child.name.split('@')[0]!)) continue;
    create(child);
    collect(child);
  }
  return { tree, platform, pciHost, pciFunctions, deviceNodes };
}

/**
 * of/platform.c:of_device_make_bus_id: "<translated reg address>[.<ffs(mask)-1>].<node name>" for the nearest
 * node with a reg, with intermediate node names joined by ':'; just the node name otherwise.
 */
export function busId(node: DtNode): string {
  let name = '';
  for (let n: DtNode | null = node; n && n.parent; n = n.parent) {
    const r = reg(n)[0];
    const base = n.name.split('@')[0]!;
    if (r) {
      const addr = translate(n, r.address).toString(16);
      // A `mask` property adds the index of its lowest set bit ("%llx.%x.%pOFn").
      const mask = cellsOf(n, 'mask', 0);
      const head = n.properties.has('mask')
        ? `${addr}.${(Math.clz32(mask & -mask) ^ 31).toString(16)}.${base}`
        : `${addr}.${base}`;
      return name ? `${head}:${name}` : head;
    }
    name = name ? `${n.name}:${name}` : n.name;
  }
  return name;
}

/** of/address.c:of_translate_address through each parent's `ranges` (empty ranges = identity). */
function translate(node: DtNode, address: bigint): bigint {
  let addr = address;
  for (let bus = node.parent; bus && bus.parent; bus = bus.parent) {
    const ranges = bus.properties.get('ranges');
    if (!ranges || ranges.value.length === 0) continue;
    const c = Array.from({ length: ranges.value.length / 4 }, (_, i) =>
      new DataView(ranges.value.buffer, ranges.value.byteOffset).getUint32(i * 4),
    );
    const childAc = cellsOf(bus, '#address-cells', 2);
    const parentAc = bus.parent ? cellsOf(bus.parent, '#address-cells', 2) : 2;
    const sc = cellsOf(bus, '#size-cells', 1);
    const num = (xs: number[]): bigint => xs.reduce((a, x) => (a << 32n) | BigInt(x), 0n);
    const step = childAc + parentAc + sc;
    for (let i = 0; i + step <= c.length; i += step) {
      const child = num(c.slice(i, i + childAc));
      const parent = num(c.slice(i + childAc, i + childAc + parentAc));
      const size = num(c.slice(i + childAc + parentAc, i + step));
      if (addr >= child && addr < child + size) {
        addr = addr - child + parent;
        break;
      }
    }
  }
  return addr;
}

function cellsOf(n: DtNode, prop: string, dflt: number): number {
  const p = n.properties.get(prop);
  return p && p.value.length === 4 ? new DataView(p.value.buffer, p.value.byteOffset).getUint32(0) : dflt;
}

/** The key that identifies what a device looks like to driver matching. */
export function matchKey(bus: Bus, modalias: string | null, node: DtNode | null): string {
  if ((bus === 'platform' || bus === 'amba') && node) return `of:${compatible(node).join(',')}`;
  return modalias ?? '';
}

/** drivers/of/module.c:of_modalias (6.12; 6.1: drivers/of/device.c:of_device_get_modalias): "of:N<name>T<device_type or (null)>C<compatible>..." */
export function ofModalias(node: DtNode): string {
  const t = string(node, 'device_type') ?? '(null)';
  const at = node.name.indexOf('@');
  let m = `of:N${at < 0 ? node.name : node.name.slice(0, at)}T${t}`;
  for (const c of compatible(node)) m += `C${c}`;
  return m;
}

const hex = (v: number, w: number): string => v.toString(16).toUpperCase().padStart(w, '0');

/** drivers/pci/pci-driver.c:pci_uevent MODALIAS. */
export function pciModalias(f: PciFunctionSpec): string {
  return `pci:v${hex(f.vendor, 8)}d${hex(f.device, 8)}sv${hex(f.subvendor, 8)}sd${hex(f.subdevice, 8)}bc${hex(f.classCode >> 16, 2)}sc${hex((f.classCode >> 8) & 0xff, 2)}i${hex(f.classCode & 0xff, 2)}`;
}

/** drivers/virtio/virtio.c:virtio_uevent MODALIAS (vendor = the transport's subsystem vendor). */
export function virtioModalias(id: number, vendor: number): string {
  return `virtio:d${hex(id, 8)}v${hex(vendor, 8)}`;
}
