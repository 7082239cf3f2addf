/**
 * What a scenario (or a lab device's DT properties, lab-devices.ts) imposes on probes: results a
 * device's driver returns after DMA configuration (qemu/lab/probelab/probelab_master.c's
 * probelab,defer-count and probelab,probe-error; a scenario's `faults`), and busy time a probe
 * takes beyond its driver's measured duration (probelab,probe-us, probelab,ready-us).
 */
import type { LabProbeTime } from './lab-devices.js';
import type { Device } from './model.js';

/** A probe result the scenario (or a lab device's DT properties, lab-devices.ts) imposes on a
 *  device's driver, after DMA configuration; `value` is the error an 'error' probe returns. */
export interface ProbeFault {
  device: string;
  result: 'defer' | 'error';
  times: number;
  value?: number;
}

export class ProbeFaults {
  private readonly faults = new Map<string, ProbeFault[]>();
  private readonly probeTimes = new Map<string, LabProbeTime>();

  /** Scenario-imposed probe results (a master whose probe fails and is retried; an IOMMU that fails for good). */
  setFaults(faults: ProbeFault[]): void {
    for (const f of faults) {
      const l = this.faults.get(f.device);
      if (l) l.push({ ...f });
      else this.faults.set(f.device, [{ ...f }]);
    }
  }

  /** Busy work a probe does beyond its driver's measured duration, per device (lab-devices.ts). */
  setProbeTimes(times: Map<string, LabProbeTime>): void {
    for (const [d, t] of times) this.probeTimes.set(d, t);
  }

  /** A fault still to come for the device's next probe. */
  pending(dev: Device): boolean {
    return this.faults.get(dev.id)?.some((f) => f.times > 0) ?? false;
  }

  /** The fault this probe returns, counted off (null: the probe succeeds). */
  take(dev: Device): ProbeFault | null {
    const fault = this.faults.get(dev.id)?.find((f) => f.times > 0);
    if (!fault) return null;
    fault.times--;
    return fault;
  }

  probeTime(dev: Device): LabProbeTime | undefined {
    return this.probeTimes.get(dev.id);
  }
}
