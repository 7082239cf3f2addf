/**
 * Simulating a board scenario: the kernel profile from source (source-profile.ts), the board's
 * .dts compiled from the same (patched) tree as the kernel build would (dt-compiler), boot timing
 * from initcall order (board-timing.ts).
 */
import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { readTreeFile } from '@probelab/dt-compiler';
import { boardTiming, InputError, simulate, type BoardScenario, type Prediction } from '@probelab/sim-core';
import { sourceProfile, type SourceProfile } from './source-profile.js';

export interface BoardPrediction extends Prediction {
  profile: SourceProfile;
  dts: string;
}

export async function predictBoard(s: BoardScenario, log: (l: string) => void = () => {}): Promise<BoardPrediction> {
  const base = await sourceProfile(
    { source: s.kernel.source, ...(s.kernel.config ? { fragment: s.kernel.config } : {}), patches: s.kernel.patches },
    log,
  );
  const profile: SourceProfile = { ...base, iommuSetup: s.kernel.iommuSetup, busOpsAtInit: s.kernel.busOpsAtInit };
  const dts = isAbsolute(s.board) ? s.board : join(profile.tree, 'arch', 'arm64', 'boot', 'dts', s.board);
  if (!existsSync(dts)) throw new InputError(`field \`board\`: ${dts} does not exist`, s.file);
  const tree = readTreeFile(dts);
  const p = simulate({
    file: s.file,
    profile,
    timing: boardTiming(profile, s.timing),
    tree,
    pciFunctions: [],
    cmdline: s.cmdline,
    modules: s.modules,
    unloads: s.unload,
    faults: s.faults,
    capture: s.capture,
    defaultProbeDuration: s.timing.defaultProbeDuration,
    listEveryBoundDevice: true,
  });
  s.faults.forEach((f, i) => {
    if (!p.core.devices.some((d) => d.id === f.device))
      throw new InputError(
        `field \`faults[${i}].device\`: expected a device of this board; ${f.device} is not one (see \`probelab predict --devices\`)`,
        s.file,
      );
  });
  return { ...p, profile, dts };
}
