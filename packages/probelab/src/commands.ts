/** The commands: predict, boot, check, kernel discover. Each returns an exit status. */
import { join } from 'node:path';
import { mkdirSync, writeFileSync } from 'node:fs';
import {
  diffOutcomes,
  explainDevice,
  iommuMasters,
  judgedMasters,
  loadAnyScenario,
  loadScenario,
  predict,
  translationFailures,
  type Outcome,
  type PolicyFailure,
  type Prediction,
  type Scenario,
} from '@probelab/sim-core';
import {
  startRun,
  predictBoard,
  baseCmdline,
  boardCpuCounts,
  boardDtbPath,
  bootScenario,
  discover,
  discoveredPath,
  dumpMachineTree,
  loadMachine,
  loadProfile,
  machineTree,
  outDir,
  pciFunctions,
  writeAtomic,
} from '@probelab/harness';
import { iommuKinds } from '@probelab/sim-core';
import type { KernelId } from '@probelab/sim-core';
import { renderDiff, renderHazards, renderOutcome } from './report.js';
import type { Hazard } from '@probelab/sim-core';

/** The one way a QEMU virt scenario is predicted: its kernel's profile, QEMU's tree, its PCI functions. */
export async function predictQemuScenario(s: Scenario, log: (l: string) => void = () => {}): Promise<Prediction> {
  // A prediction never waits for a kernel build (profiles.ts:loadProfile, unbuilt-profile.ts).
  const profile = await loadProfile(s.kernel, log, { build: false });
  return predict({
    scenario: s,
    profile,
    tree: machineTree(s),
    pciFunctions: pciFunctions(loadMachine(), s),
    baseCmdline,
  });
}

export async function predictFull(
  s: Scenario,
  log: (l: string) => void = () => {},
): Promise<{ outcome: Outcome; hazards: Hazard[]; masters: string[] }> {
  const p = await predictQemuScenario(s, log);
  return { outcome: p.outcome, hazards: p.hazards, masters: iommuMasters(p.core) };
}

/** Predict any scenario file: QEMU virt (discovered profile) or a board (profile from source). */
export async function predictFile(
  file: string,
  log: (l: string) => void = () => {},
): Promise<{ name: string; prediction: Prediction; title: string }> {
  const any = loadAnyScenario(file);
  if (any.kind === 'board') {
    const s = any.scenario;
    const p = await predictBoard(s, log);
    return {
      name: s.name,
      prediction: p,
      title: `${s.name}: predicted (${p.profile.id}, ${p.dts.split('/arch/arm64/boot/dts/').pop()}, ${p.core.devices.length} devices, ${p.profile.drivers.length} drivers in the profile)`,
    };
  }
  const s = any.scenario;
  return { name: s.name, prediction: await predictQemuScenario(s, log), title: `${s.name}: predicted` };
}

export async function cmdExplain(file: string, device: string): Promise<number> {
  const { prediction: p } = await predictFile(file, (l) => process.stderr.write(`${l}\n`));
  const text = explainDevice(p, device);
  process.stdout.write(text);
  return p.core.devices.some((d) => d.id === device) ? 0 : 2;
}

export async function predictScenario(s: Scenario, log: (l: string) => void = () => {}): Promise<Outcome> {
  return (await predictFull(s, log)).outcome;
}

export async function cmdPredict(file: string, json: boolean): Promise<number> {
  const { prediction: p, title } = await predictFile(file, (l) => process.stderr.write(`${l}\n`));
  process.stdout.write(
    json
      ? JSON.stringify({ ...p.outcome, hazards: p.hazards }, null, 2) + '\n'
      : `${renderOutcome(title, p.outcome)}\n${renderHazards(p.hazards)}`,
  );
  return 0;
}

export async function cmdBoot(file: string, json: boolean): Promise<number> {
  const s = loadScenario(file);
  const dir = join(outDir(), s.name);
  startRun(dir);
  const b = await bootScenario(s, { log: (l) => void process.stderr.write(`${l}\n`) });
  writeAtomic(join(dir, 'real.json'), JSON.stringify(b.outcome, null, 2) + '\n');
  process.stdout.write(
    json
      ? JSON.stringify(b.outcome, null, 2) + '\n'
      : renderOutcome(
          `${s.name}: real (${b.kernel.release}, ${b.wallSeconds.toFixed(1)} s wall for ${s.capture} s guest${b.from === 'snapshot' ? ', restored from a boot snapshot' : ''}; console log ${b.consoleLog})`,
          b.outcome,
        ) + '\n',
  );
  return 0;
}

/** `requireTranslation`: the DMA-protection policy (translation-policy.ts) on both outcomes. */
export async function cmdCheck(file: string, json: boolean, requireTranslation = false): Promise<number> {
  const s = loadScenario(file);
  const dir = join(outDir(), s.name);
  startRun(dir);
  const { outcome: predicted, hazards, masters } = await predictFull(s);
  const real = await bootScenario(s, { log: (l) => void process.stderr.write(`${l}\n`) });
  const d = diffOutcomes(predicted, real.outcome);
  const policy = requireTranslation
    ? { predicted: translationFailures(masters, predicted, hazards), real: translationFailures(masters, real.outcome) }
    : null;
  const failed = !!policy && (policy.predicted.length > 0 || policy.real.length > 0);
  const result = {
    scenario: s.name,
    agree: d.agree,
    predicted,
    hazards,
    real: real.outcome,
    diff: d,
    ...(policy ? { requireTranslation: { masters, failed, ...policy } } : {}),
    consoleLog: real.consoleLog,
    wallSeconds: real.wallSeconds,
  };
  writeAtomic(join(dir, 'check.json'), JSON.stringify(result, null, 2) + '\n');
  if (json) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  else
    process.stdout.write(
      `${s.name} (${real.kernel.release}, virt/${s.machine.iommu}; ${real.wallSeconds.toFixed(1)} s wall for ${s.capture} s guest${real.from === 'snapshot' ? ', restored from a boot snapshot' : ''})\n${renderDiff(d)}\n${renderHazards(hazards)}${policy ? renderPolicy(judgedMasters(masters, real.outcome), policy) : ''}console log: ${real.consoleLog}\n`,
    );
  return d.agree && !failed ? 0 : 1;
}

function renderPolicy(masters: string[], p: { predicted: PolicyFailure[]; real: PolicyFailure[] }): string {
  if (!p.predicted.length && !p.real.length)
    return `DMA protection (--require-translation): all ${masters.length} bound IOMMU master(s) translated, real and predicted\n`;
  const lines = [`DMA protection (--require-translation): FAILED, IOMMU masters not translated`];
  for (const [side, list] of [
    ['real', p.real],
    ['predicted', p.predicted],
  ] as const) {
    for (const f of list) lines.push(`  ${side.padEnd(9)} ${f.device.padEnd(22)} ${f.state.padEnd(9)} ${f.rule}`);
  }
  return `${lines.join('\n')}\n`;
}

export async function cmdDiscover(kernel: KernelId): Promise<number> {
  const p = await discover(kernel, (l) => process.stderr.write(`${l}\n`));
  const file = discoveredPath(kernel);
  mkdirSync(join(file, '..'), { recursive: true });
  writeAtomic(file, JSON.stringify(p, null, 2) + '\n');
  writeFileSync(
    process.stderr.fd,
    `wrote ${file}: ${p.drivers.length} drivers, ${p.builtinMatches.length} built-in matches, timing for ${Object.keys(p.timing).join(', ')}\n`,
  );
  return 0;
}

export async function cmdBoardDump(): Promise<number> {
  for (const iommu of iommuKinds)
    for (const cpus of boardCpuCounts) {
      const s: Scenario = {
        name: `board-${iommu}`,
        kernel: 'debian-6.12',
        machine: { iommu, devices: [], ...(cpus > 1 ? { cpus } : {}) },
        cmdline: '',
        modules: [],
        capture: 1,
        file: '<board dump>',
      };
      const f = boardDtbPath(iommu, cpus);
      mkdirSync(join(f, '..'), { recursive: true });
      const t = await dumpMachineTree(s, f);
      process.stderr.write(`wrote ${f}: ${t.nodes.length} nodes\n`);
    }
  return 0;
}

/** `probelab check SCENARIO --lava LOG`: the prediction against what a LAVA job's log shows. */
export async function cmdCheckLava(file: string, logFile: string, json: boolean): Promise<number> {
  const { readLavaLog } = await import('./lava/log.js');
  const { prediction: p, name } = await predictFile(file, (l) => process.stderr.write(`${l}\n`));
  const real = readLavaLog(logFile);
  const d = diffOutcomes(p.outcome, real.outcome);
  const result = {
    scenario: name,
    agree: d.agree,
    predicted: p.outcome,
    hazards: p.hazards,
    real: real.outcome,
    diff: d,
    lavaLog: logFile,
  };
  if (json) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  else
    process.stdout.write(
      `${name} against ${logFile} (${real.lava ? 'LAVA log' : 'console log'})\n${renderDiff(d, 'predicted', 'LAVA')}\n${renderHazards(p.hazards)}`,
    );
  return d.agree ? 0 : 1;
}

/** `probelab check SCENARIO --log LOG`: the prediction against a real board's log (parse/). */
export async function cmdCheckLog(
  file: string,
  logFile: string,
  json: boolean,
  requireTranslation = false,
): Promise<number> {
  const { parseLogFile } = await import('./parse/command.js');
  const { compareWithLog, logTranslationFailures, renderLogComparison } = await import('./parse/log-compare.js');
  const real = parseLogFile(logFile);
  const { prediction: p, name } = await predictFile(file, (l) => process.stderr.write(`${l}\n`));
  const c = compareWithLog(p.outcome, real);
  if (c.compared === 0) {
    process.stderr.write(
      `probelab: ${logFile}: none of the ${real.devices.length} devices the log shows is in ${name}'s prediction with a field the log tells: is it a log of this board?\n`,
    );
    return 2;
  }
  const masters = iommuMasters(p.core);
  const policy = requireTranslation
    ? { predicted: translationFailures(masters, p.outcome, p.hazards), real: logTranslationFailures(masters, real) }
    : null;
  const failed = !!policy && (policy.predicted.length > 0 || policy.real.length > 0);
  if (json)
    process.stdout.write(
      `${JSON.stringify({ scenario: name, log: logFile, ...c, ...(policy ? { requireTranslation: { masters, failed, ...policy } } : {}), predicted: p.outcome, real }, null, 2)}\n`,
    );
  else
    process.stdout.write(
      renderLogComparison(name, logFile, c) +
        (policy
          ? renderPolicy(
              masters.filter((m) => real.devices.some((d) => d.id === m)),
              { predicted: policy.predicted, real: policy.real.map((f) => ({ ...f })) },
            )
          : ''),
    );
  return c.agree && !failed ? 0 : 1;
}
