/**
 * What a driver source file declares, read from its C text: of_device_id tables, the driver
 * structs that use them (platform, amba, i2c, spi), the initcall that registers each driver,
 * OF_DECLARE'd compatibles (claimed by early init: irqchips, timers, clocks), and what its probe
 * does that the simulator models (registers an IOMMU, creates child devices).
 * Regular expressions over kernel C, not a C parser: each pattern is the kernel's own idiom.
 */

export type ScanBus = 'platform' | 'amba' | 'i2c' | 'spi';

export interface ScannedDriver {
  /** The C variable (struct platform_driver <var>). */
  variable: string;
  bus: ScanBus;
  /** .driver.name, the name sysfs shows. */
  name: string;
  compatibles: string[];
  /** include/linux/init.h level: 1 core .. 7 late (x.5 = _sync); 6 for module_init. */
  level: number;
  /** The probe calls iommu_device_register() (drivers/iommu/iommu.c). */
  registersIommu: boolean;
  /** What the probe still does after iommu_device_register() succeeded (the instance is visible
   *  to of_iommu_xlate before it is ready): statements, logging and error paths left out. */
  afterRegister: string[];
  /** Its of_xlate / probe_device path reads what the probe sets after registering (drvdata or
   *  vdev->priv): configured inside the window, a master gets -ENODEV and binds untranslated. */
  xlateReadsLateState: boolean;
  /** The probe creates child devices: of_platform_populate, or an I2C/SPI controller's children. */
  children: 'platform' | 'i2c' | 'spi' | null;
}

export interface ScannedFile {
  drivers: ScannedDriver[];
  /** OF_DECLARE compatibles (IRQCHIP_DECLARE, TIMER_OF_DECLARE, CLK_OF_DECLARE, ...). */
  ofDeclared: string[];
  /** Compatibles an early_initcall provider marks FWNODE_FLAG_INITIALIZED without a driver
   *  (fwnode_dev_initialized(.., true), e.g. renesas rcar-sysc power domains). */
  initializedEarly: string[];
}

/** include/linux/init.h initcall levels. */
const levels: Record<string, number> = {
  pure_initcall: 0,
  core_initcall: 1,
  core_initcall_sync: 1.5,
  postcore_initcall: 2,
  postcore_initcall_sync: 2.5,
  arch_initcall: 3,
  arch_initcall_sync: 3.5,
  subsys_initcall: 4,
  subsys_initcall_sync: 4.5,
  fs_initcall: 5,
  fs_initcall_sync: 5.5,
  rootfs_initcall: 5.7,
  device_initcall: 6,
  device_initcall_sync: 6.5,
  module_init: 6,
  late_initcall: 7,
  late_initcall_sync: 7.5,
};

/** Macros that claim a node in early init (of_node set OF_POPULATED, no platform device). */
const declareMacros = [
  'IRQCHIP_DECLARE',
  'TIMER_OF_DECLARE',
  'CLK_OF_DECLARE',
  'OF_DECLARE_1',
  'OF_DECLARE_2',
  'RESERVEDMEM_OF_DECLARE',
  'CLOCKSOURCE_OF_DECLARE',
];

function stripComments(c: string): string {
  return c.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\/\/[^\n]*/g, '');
}

function stringDefines(c: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of c.matchAll(/^#define\s+(\w+)\s+"([^"]*)"/gm)) out.set(m[1]!, m[2]!);
  return out;
}

/** The body of a brace-delimited initialiser starting at `open` (index of '{'). */
function braceBody(c: string, open: number): string {
  let depth = 0;
  for (let i = open; i < c.length; i++) {
    if (c[i] === '{') depth++;
    else if (c[i] === '}' && --depth === 0) return c.slice(open + 1, i);
  }
  return c.slice(open + 1);
}

export function scanDriverFile(text: string, path: string): ScannedFile {
  const c = stripComments(text);
  const defs = stringDefines(c);
  const str = (expr: string): string | null => {
    const lit = /^"([^"]*)"$/.exec(expr.trim());
    if (lit) return lit[1]!;
    return defs.get(expr.trim()) ?? null;
  };

  const tables = new Map<string, string[]>();
  for (const m of c.matchAll(/struct\s+of_device_id\s+(\w+)\s*\[[^\]]*\][^=;]*=\s*\{/g)) {
    const body = braceBody(c, m.index! + m[0].length - 1);
    tables.set(
      m[1]!,
      [...body.matchAll(/\.compatible\s*=\s*"([^"]+)"/g)].map((x) => x[1]!),
    );
  }

  const registersIommu = /\biommu_device_register\s*\(/.test(c);
  const afterRegister = registersIommu ? workAfterIommuRegister(c) : [];
  const setsLate = afterRegister.some((a) => /(platform|dev)_set_drvdata|->priv\s*=/.test(a));
  const xlateReadsLateState =
    setsLate &&
    functionBodies(c, /_(of_xlate|probe_device|get_by_fwnode|init_platform_device)$/).some((b) =>
      /(platform|dev)_get_drvdata\s*\(|->priv\b/.test(b),
    );
  const populates = /\b(devm_)?of_platform_populate\s*\(/.test(c);
  const i2cController = /drivers\/i2c\/busses\//.test(path) && /\bi2c_add_(numbered_)?adapter\s*\(/.test(c);
  const spiController = /^drivers\/spi\//.test(path) && /\b(devm_)?spi_register_(controller|master)\s*\(/.test(c);

  const drivers: ScannedDriver[] = [];
  for (const m of c.matchAll(/struct\s+(platform|amba|i2c|spi)_driver\s+(\w+)(?:\s+__\w+)*\s*=\s*\{/g)) {
    const body = braceBody(c, m.index! + m[0].length - 1);
    const table = /\.of_match_table\s*=\s*(?:of_match_ptr\s*\(\s*)?(\w+)/.exec(body)?.[1];
    const nameExpr = /\.name\s*=\s*("[^"]*"|\w+)/.exec(body)?.[1];
    const name = nameExpr ? str(nameExpr) : null;
    const compatibles = table ? (tables.get(table) ?? []) : [];
    if (!name || !compatibles.length) continue;
    drivers.push({
      variable: m[2]!,
      bus: m[1] as ScanBus,
      name,
      compatibles,
      level: registrationLevel(c, m[2]!),
      registersIommu,
      afterRegister,
      xlateReadsLateState,
      children: i2cController ? 'i2c' : spiController ? 'spi' : populates ? 'platform' : null,
    });
  }

  const ofDeclared: string[] = [];
  for (const m of c.matchAll(new RegExp(`\\b(${declareMacros.join('|')})\\s*\\(\\s*\\w+\\s*,\\s*"([^"]+)"`, 'g')))
    ofDeclared.push(m[2]!);
  const initializedEarly =
    /\bfwnode_dev_initialized\s*\([^;]*,\s*true\s*\)/.test(c) && /\bearly_initcall\s*\(/.test(c)
      ? [...tables.values()].flat()
      : [];
  return { drivers, ofDeclared, initializedEarly };
}

/**
 * The initcall level that registers a driver: module_platform_driver() and friends are
 * module_init (device level when built in); otherwise the initcall whose function takes the
 * driver's address (`platform_driver_register(&var)`); drivers registered from another file's
 * array (exynos_drm_drv.c) default to module_init.
 */
function registrationLevel(c: string, variable: string): number {
  if (new RegExp(`\\b(?:module|builtin)_(?:platform|amba|i2c|spi)_driver(?:_probe)?\\s*\\(\\s*${variable}\\b`).test(c))
    return 6;
  if (new RegExp(`\\b(?:module|builtin)_driver\\s*\\(\\s*${variable}\\b`).test(c)) return 6;
  for (const ref of c.matchAll(new RegExp(`&${variable}\\b`, 'g'))) {
    const fn = enclosingFunction(c, ref.index!);
    if (!fn) continue;
    const call = new RegExp(`\\b(\\w+_initcall(?:_sync)?|module_init)\\s*\\(\\s*${fn}\\s*\\)`).exec(c);
    if (call && levels[call[1]!] !== undefined) return levels[call[1]!]!;
  }
  return 6;
}

function enclosingFunction(c: string, at: number): string | null {
  const before = c.slice(0, at);
  let best: string | null = null;
  for (const m of before.matchAll(/^[A-Za-z_][\w\s*]*?\b(\w+)\s*\([^;{)]*\)\s*\{/gm)) best = m[1]!;
  return best;
}

/** Statements between a successful iommu_device_register() and the probe's `return 0;`. */
export function workAfterIommuRegister(c: string): string[] {
  const at = /\biommu_device_register\s*\(/.exec(c);
  if (!at) return [];
  let i = c.indexOf(';', at.index) + 1;
  const end = c.indexOf('return 0;', i);
  if (end < 0) return [];
  let seg = c.slice(i, end);
  // Error paths: `if (ret) goto x;`, `if (ret) return ret;`, `if (err) { ... }`.
  for (;;) {
    const m = /if\s*\(\s*\w+\s*\)\s*\{/.exec(seg);
    if (!m) break;
    let depth = 0;
    let j = m.index + m[0].length - 1;
    for (; j < seg.length; j++) {
      if (seg[j] === '{') depth++;
      else if (seg[j] === '}' && --depth === 0) break;
    }
    seg = seg.slice(0, m.index) + seg.slice(j + 1);
  }
  seg = seg.replace(/if\s*\(\s*\w+\s*\)\s*(goto\s+\w+|return\s+\w+)\s*;/g, '').replace(/\}\s*$/, '');
  const out: string[] = [];
  for (const stmt of seg
    .split(';')
    .map((x) => x.replace(/\s+/g, ' ').trim())
    .filter(Boolean)) {
    if (/^(dev_(info|dbg|notice|warn)|pr_(info|debug|notice))\b/.test(stmt) || stmt === '}') continue;
    out.push(
      stmt
        .replace(/^\}\s*/, '')
        .replace(/^if \(.*\) \{ /, '')
        .slice(0, 60),
    );
  }
  return out.slice(0, 3);
}

/** Bodies of the functions whose name matches. */
function functionBodies(c: string, name: RegExp): string[] {
  const out: string[] = [];
  for (const m of c.matchAll(/^[A-Za-z_][\w\s*]*?\b(\w+)\s*\([^;{)]*\)\s*\{/gm)) {
    if (!name.test(m[1]!)) continue;
    out.push(braceBody(c, m.index! + m[0].length - 1));
  }
  return out;
}
