/** Any device tree file in: `.dtb` read directly, `.dts` compiled as the kernel would first. */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { compileDtsFile, type CompileOptions } from './compile.js';
import { DtError } from './errors.js';
import { readDtb, readDtbFile } from './fdt.js';
import type { DeviceTree } from './tree.js';

/** The kernel tree a .dts lives in (the nearest ancestor with scripts/dtc/include-prefixes). */
export function findKernelTree(file: string): string | undefined {
  for (let d = dirname(resolve(file)); d !== dirname(d); d = dirname(d)) {
    if (existsSync(join(d, 'scripts', 'dtc', 'include-prefixes'))) return d;
  }
  return undefined;
}

export function readTreeFile(file: string, opts: CompileOptions = {}): DeviceTree {
  if (!existsSync(file)) throw new DtError('No such file or directory', { file });
  if (file.endsWith('.dts') || file.endsWith('.dtsi')) {
    const kernelTree = opts.kernelTree ?? (opts.includeDirs ? undefined : findKernelTree(file));
    const out = compileDtsFile(file, { ...opts, ...(kernelTree ? { kernelTree } : {}) });
    return readDtb(out.dtb, file);
  }
  return readDtb(readDtbFile(file), file);
}
