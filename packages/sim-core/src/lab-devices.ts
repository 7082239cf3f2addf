/**
 * The driver-core lab's test devices (qemu/lab/probelab, built into probelab's source kernels):
 * what their DT properties make their probes do, as the simulator's probe faults and probe
 * times. Mirrors qemu/lab/probelab/probelab_lab.h:probelab_probe_start, which every lab driver
 * (probelab_master.c, probelab_supplier.c, probelab_iommu.c) calls at the start of its probe,
 * after the driver core configured the device's DMA (drivers/base/dd.c:really_probe ->
 * dma_configure):
 *   probelab,probe-us = <N>     the CPU busy N µs, on every probe (deferring ones too);
 *   probelab,defer-count = <N>  -EPROBE_DEFER from the first N probes of the node;
 *   probelab,probe-error        -EIO from every probe ("probe of %s returned -5").
 * and probelab_iommu.c:probelab_iommu_probe: `probelab,register-before-ready` with
 * `probelab,ready-us = <N>` keeps the probe N µs longer after iommu_device_register().
 */
import { compatible, u32, type DtNode } from '@probelab/dt-compiler';
import { busId, type Board } from './board.js';
import type { ProbeFault } from './probe-faults.js';
import type { LabDma } from './outcome.js';

export const labCompatibles = ['probelab,dma-master', 'probelab,supplier', 'probelab,iommu'] as const;

/** -EIO, what probelab_probe_start returns for probelab,probe-error. */
export const LAB_PROBE_ERROR = -5;

const isLab = (n: DtNode): boolean => compatible(n).some((c) => (labCompatibles as readonly string[]).includes(c));

/** The probe results the lab properties impose, per device. */
export function labFaults(board: Board): ProbeFault[] {
  const out: ProbeFault[] = [];
  for (const n of board.deviceNodes) {
    if (!isLab(n)) continue;
    const defers = u32(n, 'probelab,defer-count') ?? 0;
    // probelab_probe_start: the defer count is checked before the error property, so a node
    // with both defers N times and then fails.
    if (defers > 0) out.push({ device: busId(n), result: 'defer', times: defers });
    if (n.properties.has('probelab,probe-error'))
      out.push({ device: busId(n), result: 'error', times: Number.POSITIVE_INFINITY, value: LAB_PROBE_ERROR });
  }
  return out;
}

export interface LabProbeTime {
  /** Seconds of busy work on every probe (probelab,probe-us). */
  everyProbe: number;
  /** Seconds the probe still runs after iommu_device_register() (probelab,ready-us). */
  afterRegister: number;
  /** probelab,register-before-ready: what the probe does after registering, for the race
   *  window (probelab_probe_device answers -ENODEV until `ready`). */
  window?: string[];
}

/** The probe times and the register-before-ready window of the lab devices, per device. */
export function labProbeTimes(board: Board): Map<string, LabProbeTime> {
  const out = new Map<string, LabProbeTime>();
  for (const n of board.deviceNodes) {
    if (!isLab(n)) continue;
    const every = (u32(n, 'probelab,probe-us') ?? 0) / 1e6;
    const early = compatible(n).includes('probelab,iommu') && n.properties.has('probelab,register-before-ready');
    const ready = early ? (u32(n, 'probelab,ready-us') ?? 0) / 1e6 : 0;
    if (every || early)
      out.set(busId(n), {
        everyProbe: every,
        afterRegister: ready,
        ...(early ? { window: [`probelab_busy_us(${ready * 1e6})`, 'WRITE_ONCE(p->ready, true)'] } : {}),
      });
  }
  return out;
}

/**
 * probelab_master.c:probelab_dma_show for a bound master: no domain -> bypassed; otherwise the
 * group's default domain, identity when the kernel was told iommu.passthrough=1
 * (drivers/iommu/iommu.c:iommu_set_def_domain_type), else a DMA (paging) domain: translated.
 */
export function labDma(driver: string | null, iommuGroup: number | null, passthrough: boolean): LabDma | undefined {
  if (driver !== 'probelab-master') return undefined;
  if (iommuGroup === null) return 'bypassed';
  return passthrough ? 'identity' : 'translated';
}
