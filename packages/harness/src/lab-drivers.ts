/**
 * The driver-core lab's drivers in a source kernel's profile: read from the build's own tree
 * (drivers/probelab, put there by kernel-build.ts:addLabDrivers) like any driver of a tree in
 * source-profile.ts — names, match tables and initcall levels from the C source
 * (driver-scan.ts), module or built-in from Kbuild and the .config (kbuild.ts), what the probe
 * does (registers an IOMMU) from the probe's body — not from a list kept by hand.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DriverInfo, ProbeBehaviour } from '@probelab/sim-core';
import { scanDriverFile } from './driver-scan.js';
import { parseKbuildMakefile } from './kbuild.js';

export interface LabDrivers {
  drivers: DriverInfo[];
  behaviours: Record<string, ProbeBehaviour>;
}

export function labDrivers(tree: string, config: Map<string, string>): LabDrivers {
  const dir = join(tree, 'drivers', 'probelab');
  const out: LabDrivers = { drivers: [], behaviours: {} };
  if (!existsSync(join(dir, 'Makefile')) || config.get('CONFIG_PROBELAB_LAB') !== 'y') return out;
  for (const a of parseKbuildMakefile(readFileSync(join(dir, 'Makefile'), 'utf8'))) {
    const sym = /^\$\((CONFIG_\w+)\)$/.exec(a.cond)?.[1];
    if (a.target !== 'obj' || !sym) continue;
    const state = config.get(sym);
    if (state !== 'y' && state !== 'm') continue;
    for (const w of a.words.filter((x) => x.endsWith('.o'))) {
      const module = w.slice(0, -2).replace(/-/g, '_');
      const rel = `drivers/probelab/${w.slice(0, -2)}.c`;
      const scan = scanDriverFile(readFileSync(join(tree, rel), 'utf8'), rel);
      for (const d of scan.drivers) {
        if (d.bus !== 'platform' && d.bus !== 'amba') continue;
        out.drivers.push({
          name: d.name,
          bus: d.bus,
          module,
          builtin: state === 'y',
          ofCompatibles: d.compatibles,
          level: d.level,
        });
        if (d.registersIommu) {
          out.behaviours[d.name] = {
            kind: 'iommu',
            fwnode: 'self',
            ...(d.afterRegister.length ? { afterRegister: d.afterRegister } : {}),
            ...(d.xlateReadsLateState ? { xlateReadsLateState: true } : {}),
          };
        }
      }
    }
  }
  return out;
}
