/**
 * `probelab board transplant BOARD-SCENARIO [-o OUT.yaml] [--smmuv3]`: a lab scenario (and its
 * fragment, OUT.dtsi beside it) that rebuilds a real board's IOMMU masters, IOMMU instances and
 * the suppliers they wait for from the driver-core lab's test devices (sim-core transplant.ts),
 * then predicts both: the board's masters and their lab stand-ins, side by side.
 */
import { basename, dirname, join, relative, resolve } from 'node:path';
import { InputError, loadBoardScenario, transplant, loadScenario, type OutcomeDevice } from '@probelab/sim-core';
import { predictBoard, repoRoot, writeAtomic } from '@probelab/harness';
import { predictQemuScenario } from './commands.js';

export async function cmdBoardTransplant(file: string, out: string | undefined, smmuv3: boolean): Promise<number> {
  const s = loadBoardScenario(file);
  const yamlOut = resolve(out ?? join('boards', 'lab', `${s.name}-lab.yaml`));
  if (!/\.ya?ml$/.test(yamlOut)) throw new InputError(`board transplant: -o expects a .yaml file, not ${out}`);
  const dtsiOut = yamlOut.replace(/\.ya?ml$/, '.dtsi');
  const log = (l: string): void => void process.stderr.write(`${l}\n`);
  const p = await predictBoard(s, log);
  const patchesDir = join(repoRoot(), 'qemu', 'patches');
  const qemuPatches = s.kernel.patches
    .filter((x) => resolve(dirname(x)) === patchesDir)
    .map((x) => basename(x).replace(/\.patch$/, ''));
  const dropped = s.kernel.patches.filter((x) => resolve(dirname(x)) !== patchesDir).map((x) => basename(x));
  const t = transplant(
    {
      prediction: p,
      profile: p.profile,
      name: s.name,
      modules: s.modules,
      unload: s.unload,
      faults: s.faults,
      cmdline: s.cmdline,
      capture: s.capture,
      qemuPatches,
      smmuv3,
      file: relative(process.cwd(), resolve(s.file)),
    },
    basename(dtsiOut),
  );
  if (dropped.length)
    t.notes.push(
      `board patches not carried to the lab kernel: ${dropped.join(', ')} (they change the board's own drivers)`,
    );
  if (s.kernel.config)
    t.notes.push(
      `the board's config fragment ${basename(s.kernel.config)} is not the lab kernel's: the lab's test drivers stand in for the board's`,
    );
  // The lab scenario must be one probelab reads: write both, then load and predict it.
  writeAtomic(dtsiOut, t.dtsi);
  writeAtomic(yamlOut, t.scenario);
  const lab = loadScenario(yamlOut);
  const lp = await predictQemuScenario(lab, log);
  // A DT device whose probe failed is listed on a board (every device ever bound) but not in a
  // QEMU outcome: both are "not bound".
  const state = (d: OutcomeDevice | undefined): string =>
    !d
      ? 'not bound'
      : d.deferred
        ? 'deferred'
        : !d.driver
          ? 'not bound'
          : d.iommuGroup !== null
            ? 'translated'
            : 'bypassed';
  process.stdout.write(
    `wrote ${relative(process.cwd(), yamlOut)} and ${relative(process.cwd(), dtsiOut)}: ${t.nodes.filter((n) => n.role === 'master').length} masters, ${t.nodes.filter((n) => n.role === 'iommu').length || (smmuv3 ? 'the SMMUv3 as' : 0)} IOMMU instance(s), ${t.nodes.filter((n) => n.role === 'supplier').length} suppliers\n`,
  );
  process.stdout.write(
    `  ${'board device'.padEnd(34)} ${'on the board'.padEnd(11)} ${'lab device'.padEnd(32)} predicted on the lab\n`,
  );
  let same = 0;
  const masters = t.nodes.filter((n) => n.role === 'master');
  for (const n of masters) {
    const a = state(p.outcome.devices.find((d) => d.id === n.original));
    const b = state(lp.outcome.devices.find((d) => d.id === n.name));
    if (a === b) same++;
    process.stdout.write(
      `  ${n.original.padEnd(34)} ${a.padEnd(11)} ${n.name.padEnd(32)} ${b}${a === b ? '' : '   <- differs'}\n`,
    );
  }
  process.stdout.write(
    `${same} of ${masters.length} masters end the same on the lab board as on ${basename(s.board)}\n`,
  );
  for (const n of t.notes) process.stdout.write(`note: ${n}\n`);
  return 0;
}
