/**
 * The kernel parameters the driver core reads, parsed as the kernel parses them: the command
 * line split as lib/cmdline.c:next_arg does, deferred_probe_timeout
 * (drivers/base/dd.c:deferred_probe_timeout_setup), fw_devlink and fw_devlink.strict
 * (drivers/base/core.c:fw_devlink_setup, fw_devlink_strict_setup), module.async_probe
 * (kernel/module/main.c), iommu.passthrough (drivers/iommu/iommu.c:iommu_set_def_domain_type).
 */
export type FwDevlinkMode = 'off' | 'permissive' | 'on' | 'rpm';

export interface DriverCoreParams {
  /** dd.c: default 10 with CONFIG_MODULES, 0 without; negative = never time out. */
  deferredProbeTimeout: number;
  fwDevlink: FwDevlinkMode;
  fwDevlinkStrict: boolean;
  /** iommu.passthrough (drivers/iommu/iommu.c:iommu_set_def_domain_type): identity default domains. */
  iommuPassthrough: boolean;
  /** module.async_probe (kernel/module/main.c: the default of every module's async_probe). */
  moduleAsyncProbe: boolean;
}

/** Split a command line into tokens, honouring double quotes as lib/cmdline.c:next_arg does. */
export function tokens(cmdline: string): Array<{ key: string; value: string | undefined }> {
  const out: Array<{ key: string; value: string | undefined }> = [];
  const re = /\s*((?:"[^"]*"|[^\s"])+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(cmdline))) {
    const tok = m[1]!;
    const eq = tok.indexOf('=');
    const key = (eq < 0 ? tok : tok.slice(0, eq)).replace(/"/g, '');
    const value = eq < 0 ? undefined : tok.slice(eq + 1).replace(/^"(.*)"$/, '$1');
    out.push({ key, value });
  }
  return out;
}

/** lib/kstrtox.c:kstrtoint(s, 10): optional sign, decimal digits, an optional trailing newline. */
function kstrtoint(s: string): number | undefined {
  if (!/^[+-]?\d+\n?$/.test(s)) return undefined;
  const v = Number.parseInt(s, 10);
  return v >= -2147483648 && v <= 2147483647 ? v : undefined;
}

/** lib/kstrtox.c:kstrtobool: first character y/Y/1/t/T or n/N/0/f/F, or on/off. */
export function kstrtobool(s: string): boolean | undefined {
  const c = s[0]?.toLowerCase();
  if (c === 'y' || c === '1' || c === 't') return true;
  if (c === 'n' || c === '0' || c === 'f') return false;
  if (c === 'o') {
    if (s[1]?.toLowerCase() === 'n') return true;
    if (s[1]?.toLowerCase() === 'f') return false;
  }
  return undefined;
}

export function parseDriverCoreParams(
  cmdline: string,
  series: '6.1' | '6.12',
  modules: boolean,
  timeoutDefault = 10,
  fwDevlinkDefault?: FwDevlinkMode,
): DriverCoreParams {
  const p: DriverCoreParams = {
    // dd.c: driver_deferred_probe_timeout = 10 under CONFIG_MODULES, else 0.
    deferredProbeTimeout: modules ? timeoutDefault : 0,
    // core.c: fw_devlink_flags, as the tree sets it (FW_DEVLINK_FLAGS_ON in 6.1, _RPM in 6.12).
    fwDevlink: fwDevlinkDefault ?? (series === '6.1' ? 'on' : 'rpm'),
    fwDevlinkStrict: false,
    // The lab kernels' default (CONFIG_IOMMU_DEFAULT_DMA_STRICT): translated.
    iommuPassthrough: false,
    moduleAsyncProbe: false,
  };
  for (const { key, value } of tokens(cmdline)) {
    if (key === 'deferred_probe_timeout' && value !== undefined) {
      // dd.c:deferred_probe_timeout_setup: a malformed value is ignored, the default stays.
      const v = kstrtoint(value);
      if (v !== undefined) p.deferredProbeTimeout = v;
    } else if (key === 'fw_devlink' && value !== undefined) {
      // core.c:fw_devlink_setup: unknown values are ignored.
      if (value === 'off' || value === 'permissive' || value === 'on' || value === 'rpm') p.fwDevlink = value;
    } else if (key === 'fw_devlink.strict' && value !== undefined) {
      const v = kstrtobool(value);
      if (v !== undefined) p.fwDevlinkStrict = v;
    } else if (key === 'module.async_probe' && value !== undefined) {
      const v = kstrtobool(value);
      if (v !== undefined) p.moduleAsyncProbe = v;
    } else if (key === 'iommu.passthrough' && value !== undefined) {
      // iommu_set_def_domain_type: kstrtobool; true -> identity, false -> translated.
      const v = kstrtobool(value);
      if (v !== undefined) p.iommuPassthrough = v;
    }
  }
  return p;
}

/**
 * arm64's COMMAND_LINE_SIZE (arch/arm64/include/uapi/asm/setup.h): the bootloader's command line
 * is cut there, so a longer one would not boot what was predicted.
 */
export const commandLineSize = 2048;

/**
 * What is wrong with a scenario's extra command line for both predict and boot, or null: QEMU
 * passes `-append` as a C string (a NUL ends it) and the init reads it line by line, so only
 * printable characters and spaces; leave room for probelab's own parameters (about 200 bytes).
 */
export function checkCmdline(cmdline: string): string | null {
  const bad = [...cmdline].findIndex((c) => c < ' ' || c > '~');
  if (bad >= 0)
    return `printable ASCII and spaces only (character ${bad + 1} is U+${cmdline.codePointAt(bad)!.toString(16).toUpperCase().padStart(4, '0')})`;
  if (cmdline.length > commandLineSize - 512)
    return `at most ${commandLineSize - 512} characters (COMMAND_LINE_SIZE is ${commandLineSize} on arm64, with probelab's own parameters)`;
  return null;
}
