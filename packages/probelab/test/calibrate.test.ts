// The calibration fit on outcomes whose true timing is known: "real" outcomes simulated with
// shifted parameters; the fit must recover the shifts and drive the residuals to zero.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expandMatrix, loadMatrixFile, predict, type BootTiming } from '@probelab/sim-core';
import { baseCmdline, loadMachine, loadProfile, machineTree, pciFunctions } from '@probelab/harness';
import { fitKernel } from '../dist/matrix/calibrate.js';
import { root } from './cli.js';

describe('calibration fit', () => {
  it('recovers a shifted late initcall, module latency and built-in registrations', async () => {
    const profile = await loadProfile('debian-6.12', () => {}, { calibration: false });
    const base = profile.timing['virtio-iommu']!;
    const truth: BootTiming = {
      ...base,
      builtinRegistrations: base.builtinRegistrations.map((r) => ({ ...r, t: r.t + 0.005 })),
      lateInitcall: base.lateInitcall + 0.03,
      lateInitcallEnd: base.lateInitcallEnd + 0.03,
      lateRegistrations: base.lateRegistrations.map((x) => x + 0.03),
      moduleLoadLatency: {
        ...base.moduleLoadLatency,
        virtio_iommu: (base.moduleLoadLatency.virtio_iommu ?? base.defaultModuleLoadLatency) + 0.02,
      },
    };
    const cells = expandMatrix(loadMatrixFile(join(root, 'ci', 'smoke.yaml'))).map((c) => ({
      scenario: c.scenario,
      real: predict({
        scenario: c.scenario,
        profile: { ...profile, timing: { ...profile.timing, 'virtio-iommu': truth } },
        tree: machineTree(c.scenario),
        pciFunctions: pciFunctions(loadMachine(), c.scenario),
        baseCmdline,
      }).outcome,
    }));
    const f = fitKernel(profile, 'virtio-iommu', cells);
    expect(f.timing.lateInitcall).toBeCloseTo(truth.lateInitcall, 3);
    expect(f.timing.moduleLoadLatency.virtio_iommu).toBeCloseTo(truth.moduleLoadLatency.virtio_iommu!, 3);
    expect(f.timing.builtinRegistrations[0]!.t).toBeCloseTo(truth.builtinRegistrations[0]!.t, 3);
    const late = f.eventKinds.find((k) => k.kind === 'late-initcall')!;
    expect(late.meanAbsBefore).toBeGreaterThan(0.025);
    expect(late.meanAbsAfter).toBeLessThan(0.001);
    const fired = f.eventKinds.find((k) => k.kind === 'timeout-fired');
    if (fired) expect(fired.maxAbsAfter).toBeLessThan(0.005);
    expect(f.parameters.find((p) => p.name === 'lateInitcall')!.residualAfter).toBeLessThan(0.001);
  }, 120_000);
});
