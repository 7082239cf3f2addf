/**
 * Board transplants: a real board's dependency graph around its IOMMU masters, rebuilt from the
 * driver-core lab's test devices (qemu/lab/probelab) so that a QEMU `virt` lab board boots the
 * same story on a real kernel. Read from the board's simulation (its DriverCore: devices, fw_devlink
 * links as drivers/base/core.c:fw_devlink_create_devlink made them, IOMMU targets as
 * of_iommu.c:of_iommu_configure_device walks them):
 *   - each master with `iommus` -> a probelab,dma-master with the same entries, one
 *     probelab,iommu per original IOMMU instance (or QEMU's SMMUv3 when there is one instance);
 *   - each device a master or an IOMMU waits for through fw_devlink (clocks, power domains,
 *     resets, pinctrl, …, transitively) -> a probelab,supplier that the consumer references with
 *     the same binding for clocks, power domains and resets, and with `clocks` for any other (all
 *     mandatory bindings, as the original's are); a supplier no driver ever matched keeps a
 *     compatible no driver has;
 *   - placement: the module of each role loaded when the original's driver registered (built-in
 *     drivers at the init's start), the original's probe faults as probelab,* properties, its
 *     timeout and fw_devlink parameters.
 */
import { compatible, phandleList, type DtNode } from '@probelab/dt-compiler';
import type { Prediction } from './predict.js';
import type { Device } from './model.js';
import type { ModuleLoad } from './scenario.js';
import { moduleKey } from './scenario.js';
import type { ProbeFault } from './probe-faults.js';
import type { KernelProfile } from './profile.js';
import { tokens } from './cmdline.js';
import { InputError } from './errors.js';

export interface TransplantInput {
  /** The original board's simulation. */
  prediction: Prediction;
  profile: KernelProfile;
  name: string;
  /** The original scenario's loads, unloads, faults, command line and capture time. */
  modules: ModuleLoad[];
  unload: ModuleLoad[];
  faults: ProbeFault[];
  cmdline: string;
  capture: number;
  /** qemu/patches names among the original's patches (kept on the lab kernel). */
  qemuPatches: string[];
  /** Map a single IOMMU instance to QEMU's SMMUv3 (stream IDs) instead of a probelab,iommu. */
  smmuv3?: boolean;
  file: string;
}

export interface TransplantNode {
  /** The lab node's name (also its dev_name: no unit address, no reg). */
  name: string;
  role: 'master' | 'iommu' | 'supplier';
  /** The original device it stands for. */
  original: string;
}

export interface Transplant {
  /** The fragment (machine.overlay). */
  dtsi: string;
  /** The lab scenario, with `overlay:` naming `dtsiFile`. */
  scenario: string;
  nodes: TransplantNode[];
  /** What the transplant could not carry over. */
  notes: string[];
}

const labName = (d: Device): string => {
  const n = d.node!;
  const [base, unit] = n.name.split('@');
  return `${base}${unit ? `-${unit}` : ''}`.replace(/[^A-Za-z0-9,._+-]/g, '-').slice(0, 31);
};

export function transplant(t: TransplantInput, dtsiFile: string): Transplant {
  const core = t.prediction.core;
  const notes: string[] = [];
  if (t.profile.iommuSetup === 'device-add')
    throw new InputError(
      "the board's kernel sets up IOMMUs at device add (before 4.12): the lab kernels do it at driver bind; nothing to transplant to",
      t.file,
    );
  if (t.profile.busOpsAtInit?.length)
    notes.push(
      `busOpsAtInit (${t.profile.busOpsAtInit.join(', ')}) is a pre-2017 ipmmu-vmsa behaviour the lab kernels do not have: left out`,
    );

  const withIommus = core.devices.filter(
    (d) => (d.bus === 'platform' || d.bus === 'amba') && d.node && core.iommuTargets(d, true),
  );
  // A master no registered driver matches (its module never loaded, or not built) never probes:
  // nothing of it to transplant.
  const hasDriver = (d: Device): boolean => !!d.driver || d.canMatch || core.drivers.some((x) => core.matches(x, d));
  const masters = withIommus.filter(hasDriver);
  const idle = withIommus.filter((d) => !hasDriver(d));
  if (idle.length)
    notes.push(
      `${idle.length} master(s) with \`iommus\` whose driver never registers on the board left out: ${idle
        .map((d) => d.id)
        .slice(0, 4)
        .join(', ')}${idle.length > 4 ? ', …' : ''}`,
    );
  if (!masters.length)
    throw new InputError('the board has no master with `iommus` to an available IOMMU: nothing to transplant', t.file);
  const instanceNodes: DtNode[] = [];
  for (const m of masters)
    for (const n of core.iommuTargets(m, true)!) if (!instanceNodes.includes(n)) instanceNodes.push(n);
  if (t.smmuv3 && instanceNodes.length !== 1)
    throw new InputError(
      `--smmuv3 maps one IOMMU instance to QEMU's SMMUv3; this board's masters use ${instanceNodes.length}`,
      t.file,
    );
  const instances = instanceNodes.map((n) => core.deviceOf(n)).filter((d): d is Device => !!d);

  // Suppliers: what the masters and IOMMUs wait for through fw_devlink, transitively.
  const linkBindings = new Set(['iommus', 'iommu-map']);
  const suppliersOf = new Map<Device, Device[]>();
  /** The lab binding each (consumer, supplier) pair uses: clocks, power-domains or resets. */
  const bindingOf = new Map<string, 'clocks' | 'power-domains' | 'resets'>();
  const labBinding = (b: string): 'clocks' | 'power-domains' | 'resets' =>
    b === 'power-domains' || b === 'resets' ? b : 'clocks';
  const suppliers: Device[] = [];
  const todo = [...masters, ...instances];
  const seen = new Set<Device>(todo);
  while (todo.length) {
    const d = todo.shift()!;
    const sups: Device[] = [];
    for (const l of core.links.filter((x) => x.consumer === d && !linkBindings.has(x.binding))) {
      const s = core.deviceOf(l.supplierNode);
      if (!s || s === d || !s.node || sups.includes(s)) continue;
      sups.push(s);
      bindingOf.set(`${d.id}\0${s.id}`, labBinding(l.binding));
      if (!seen.has(s)) {
        seen.add(s);
        if (!masters.includes(s) && !instances.includes(s)) suppliers.push(s);
        todo.push(s);
      }
    }
    suppliersOf.set(d, sups);
  }

  const early = new Set([...(t.profile.fwnodeInitialized ?? []), ...t.profile.ofDeclared]);
  const earlyProvider = (d: Device): boolean => !!d.node && compatible(d.node).some((c) => early.has(c));
  const names = new Map<Device, string>();
  const used = new Set<string>();
  for (const d of [...suppliers, ...instances, ...masters]) {
    let n = labName(d);
    for (let i = 2; used.has(n); i++) n = `${labName(d).slice(0, 28)}-${i}`;
    used.add(n);
    names.set(d, n);
  }
  const label = (d: Device): string => names.get(d)!.replace(/[^A-Za-z0-9_]/g, '_');
  const failedForGood = (d: Device): boolean => core.hasEvent('probe-failed', d.id);
  const faultProps = (d: Device): string[] => {
    const out: string[] = [];
    for (const f of t.faults.filter((x) => x.device === d.id)) {
      if (f.result === 'defer') out.push(`probelab,defer-count = <${f.times}>;`);
      else out.push('probelab,probe-error;');
    }
    if (!out.length && failedForGood(d)) out.push('probelab,probe-error;');
    return out;
  };
  const providedBy = new Map<Device, Set<string>>();
  for (const [key, b] of bindingOf) {
    const sup = [...suppliersOf.values()].flat().find((x) => x.id === key.split('\0')[1]);
    if (sup) providedBy.set(sup, (providedBy.get(sup) ?? new Set()).add(b));
  }
  const clocks = (d: Device): string[] => {
    const out: string[] = [];
    for (const b of ['clocks', 'power-domains', 'resets'] as const) {
      const s = (suppliersOf.get(d) ?? []).filter((x) => bindingOf.get(`${d.id}\0${x.id}`) === b);
      if (s.length) out.push(`${b} = ${s.map((x) => `<&${label(x)}${b === 'resets' ? ' 0' : ''}>`).join(', ')};`);
    }
    return out;
  };
  const cellsOf = (s: Device): string[] => {
    const p = providedBy.get(s) ?? new Set(['clocks']);
    return [
      ...(p.has('clocks') ? ['#clock-cells = <0>;'] : []),
      ...(p.has('power-domains') ? ['#power-domain-cells = <0>;'] : []),
      ...(p.has('resets') ? ['#reset-cells = <1>;'] : []),
    ];
  };

  const lines: string[] = [
    `// Transplanted by \`probelab board transplant\` from ${t.file}:`,
    `// ${masters.length} masters, ${instances.length} IOMMU instance(s), ${suppliers.length} supplier(s).`,
    '/ {',
  ];
  const node = (d: Device, props: string[], comment: string): void => {
    lines.push(`\t/* ${comment} */`, `\t${label(d)}: ${names.get(d)} {`, ...props.map((p) => `\t\t${p}`), '\t};', '');
  };
  for (const s of suppliers) {
    // A supplier that no driver ever matched (dev->can_match false) stays driverless: fw_devlink
    // relaxes links to it at the timeout (core.c:fw_devlink_drivers_done), as on the board.
    // One that matched but never bound (deferred to the end) defers for good here too. A node
    // early init provides for without a driver (OF_DECLARE clocks, rcar-sysc's power domains:
    // profile.ofDeclared / fwnodeInitialized) does provide: a supplier bound at the start.
    const driverless = !s.canMatch && !s.driver && !earlyProvider(s);
    const stuck = s.canMatch && !s.driver ? ['probelab,defer-count = <1000000>;'] : [];
    node(
      s,
      [
        driverless ? 'compatible = "probelab,no-driver";' : 'compatible = "probelab,supplier";',
        ...cellsOf(s),
        ...clocks(s),
        ...(driverless ? [] : [...faultProps(s), ...stuck]),
      ],
      `${s.id} (${s.driver ?? (earlyProvider(s) ? 'provided by early init, no driver' : driverless ? 'no driver' : 'matched, never bound')})`,
    );
  }
  if (!t.smmuv3) {
    for (const i of instances)
      node(
        i,
        ['compatible = "probelab,iommu";', '#iommu-cells = <1>;', ...clocks(i), ...faultProps(i)],
        `${i.id} (${i.driver ?? 'not bound at capture'})`,
      );
  }
  let streamId = 0x100;
  for (const m of masters) {
    const entries = phandleList(core.board.tree, m.node!, 'iommus', '#iommu-cells');
    const iommus = entries.map((e, k) => {
      const inst = core.deviceOf(e.node)!;
      return t.smmuv3 ? `<&smmu ${hex(streamId++)}>` : `<&${label(inst)} ${hex(e.args[0] ?? k)}>`;
    });
    node(
      m,
      ['compatible = "probelab,dma-master";', `iommus = ${iommus.join(', ')};`, ...clocks(m), ...faultProps(m)],
      `${m.id} (${m.driver ?? 'not bound at capture'}, ${compatible(m.node!)[0] ?? ''})`,
    );
  }
  lines.push('};', '');
  // QEMU's SMMUv3 standing for the instance: what the instance waited for, on QEMU's node.
  const smmuProps = t.smmuv3 ? clocks(instances[0]!) : [];
  if (smmuProps.length) lines.push('&smmu {', ...smmuProps.map((p) => `\t${p}`), '};', '');

  // When each role's module loads: the original driver's registration (built-in: at the init's start).
  const driverOf = (d: Device): { module: string | null; builtin: boolean } => {
    const name =
      d.driver ??
      core.drivers.find((x) => core.matches(x, d))?.info.name ??
      t.profile.drivers.find((x) => x.ofCompatibles?.some((c) => d.node && compatible(d.node).includes(c)))?.name;
    const info = t.profile.drivers.find((x) => x.name === name && x.bus === d.bus);
    return { module: info?.module ?? null, builtin: info?.builtin ?? true };
  };
  const loadAt = (ds: Device[]): number | null => {
    let at: number | null = null;
    for (const d of ds) {
      if (earlyProvider(d) && !d.driver) {
        at = at === null ? 0 : Math.min(at, 0);
        continue;
      }
      const drv = driverOf(d);
      const t0 = drv.builtin ? 0 : t.modules.find((x) => moduleKey(x.name) === drv.module)?.at;
      if (t0 === undefined) continue; // a module the original never loads
      at = at === null ? t0 : Math.min(at, t0);
    }
    return at;
  };
  const roles: Array<[string, Device[]]> = [
    ['probelab_supplier', suppliers.filter((s) => s.canMatch || s.driver || earlyProvider(s))],
    [t.smmuv3 ? 'arm_smmu_v3' : 'probelab_iommu', instances],
    ['probelab_master', masters],
  ];
  const loads: ModuleLoad[] = [];
  for (const [mod, ds] of roles) {
    if (!ds.length) continue;
    const at = loadAt(ds);
    if (at === null)
      notes.push(
        `${mod}: the original never loads the drivers of ${ds
          .map((d) => d.id)
          .slice(0, 3)
          .join(', ')}${ds.length > 3 ? ', …' : ''}: not loaded`,
      );
    else loads.push({ name: mod, at });
  }
  const moduleTimes = new Set(masters.map((m) => loadAt([m])));
  if (moduleTimes.size > 1)
    notes.push(
      `the masters' drivers register at ${[...moduleTimes].join(', ')} s on the board; probelab_master is one module, loaded at the earliest`,
    );
  const unloads: ModuleLoad[] = [];
  for (const u of t.unload) {
    const role = roles.find(([, ds]) => ds.some((d) => driverOf(d).module === moduleKey(u.name)));
    if (role && loads.some((l) => l.name === role[0])) unloads.push({ name: role[0], at: u.at });
    else notes.push(`unload of ${u.name}: no transplanted role uses it`);
  }
  const keep = tokens(t.cmdline).filter((x) =>
    /^(deferred_probe_timeout|fw_devlink|fw_devlink\.strict|iommu\.passthrough)$/.test(x.key),
  );
  const cmdline = keep.map((x) => (x.value === undefined ? x.key : `${x.key}=${x.value}`)).join(' ');
  const kernel = `source-${t.profile.series}${t.qemuPatches.map((p) => `+${p}`).join('')}`;
  const yaml = [
    `# Transplanted by \`probelab board transplant\` from ${t.file}:`,
    `# the board's IOMMU masters, their IOMMU instances and the suppliers they wait for, as`,
    `# probelab lab devices on QEMU virt.`,
    `name: ${`${t.name}`.slice(0, 96)}-lab`,
    `kernel: ${kernel}`,
    'machine:',
    `  iommu: ${t.smmuv3 ? 'smmuv3' : 'none'}`,
    '  devices: []',
    `  overlay: ${dtsiFile}`,
    `cmdline: ${JSON.stringify(cmdline)}`,
    'modules:',
    ...loads.sort((a, b) => a.at - b.at).map((l) => `  - { name: ${l.name}, at: ${l.at} }`),
    ...(unloads.length ? ['unload:', ...unloads.map((l) => `  - { name: ${l.name}, at: ${l.at} }`)] : []),
    `capture: ${t.capture}`,
    '',
  ].join('\n');
  const nodes: TransplantNode[] = [
    ...suppliers.map((d) => ({ name: names.get(d)!, role: 'supplier' as const, original: d.id })),
    ...(t.smmuv3 ? [] : instances.map((d) => ({ name: names.get(d)!, role: 'iommu' as const, original: d.id }))),
    ...masters.map((d) => ({ name: names.get(d)!, role: 'master' as const, original: d.id })),
  ];
  return { dtsi: lines.join('\n'), scenario: yaml, nodes, notes };
}

const hex = (n: number): string => `0x${n.toString(16)}`;
