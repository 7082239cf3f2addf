/**
 * Deferred probing, as drivers/base/dd.c keeps it: the pending and active lists
 * (driver_deferred_probe_add / _del), driver_deferred_probe_trigger and deferred_probe_work_func,
 * deferred_probe_initcall (the late_initcall), the deferred_probe_timeout timer (arm, extend,
 * fire) and driver_deferred_probe_check_state. The state here is dd.c's own statics.
 */
import type { DriverCore } from './driver-core.js';
import type { Device } from './model.js';
import { timerFireTime } from './timer-wheel.js';
import { round6 } from './sim-time.js';

export class DeferredProbe {
  private deferredProbeEnable = false; // driver_deferred_probe_enable
  private initcallsDone = false;
  /** driver_deferred_probe_timeout. */
  timeout: number;
  /** deferred_trigger_count. */
  triggerCount = 0;
  /** dd.c's deferred_probe_pending_list and _active_list: insertion-ordered sets (list_add_tail, list_del_init). */
  private readonly pending = new Set<Device>();
  /** The active list as a queue; an entry counts only while its sequence number is current. */
  private active: Array<[Device, number]> = [];
  private activeHead = 0;
  private readonly activeSeq = new Map<Device, number>();
  private seq = 0;
  private workQueued = false;
  /** The deferred_probe_timeout_work timer: when it fires, or null when not pending. */
  timeoutTimerAt: number | null = null;

  constructor(private readonly core: DriverCore) {
    this.timeout = core.params.deferredProbeTimeout;
  }

  /** Whether the deferred work may run (driver_deferred_probe_enable). */
  get enabled(): boolean {
    return this.deferredProbeEnable;
  }

  /** The devices on either list, pending first. */
  listed(): Device[] {
    return [...this.pending, ...[...this.activeSeq.keys()]];
  }

  /** dd.c:driver_deferred_probe_add: only devices that matched a driver; keeps position. */
  add(dev: Device): void {
    if (!dev.canMatch || dev.list) return;
    dev.list = 'pending';
    this.pending.add(dev);
  }

  /** dd.c:driver_deferred_probe_del. */
  del(dev: Device): void {
    if (dev.list === 'pending') this.pending.delete(dev);
    if (dev.list === 'active') this.activeSeq.delete(dev);
    dev.list = null;
  }

  /** dd.c:driver_deferred_probe_trigger: splice pending onto active and queue the work. */
  trigger(): void {
    if (!this.deferredProbeEnable) return;
    this.triggerCount++;
    for (const d of this.pending) {
      d.list = 'active';
      const n = ++this.seq;
      this.activeSeq.set(d, n);
      this.active.push([d, n]);
    }
    this.pending.clear();
    this.workQueued = true;
  }

  /** dd.c:deferred_probe_work_func, run to its fixpoint (what flush_work waits for). */
  runWork(): void {
    while (this.workQueued) {
      this.workQueued = false;
      while (this.activeHead < this.active.length) {
        const [dev, n] = this.active[this.activeHead++]!;
        if (this.activeSeq.get(dev) !== n) continue;
        this.activeSeq.delete(dev);
        dev.list = null;
        this.core.probe.deviceAttach(dev); // 6.1: bus_probe_device; 6.12: bus_probe_device_deferred
      }
      this.active = [];
      this.activeHead = 0;
    }
  }

  /** dd.c:deferred_probe_initcall, the late_initcall. */
  lateInitcall(): void {
    const c = this.core;
    c.emit({
      kind: 'late-initcall',
      device: null,
      rule: 'drivers/base/dd.c:deferred_probe_initcall (enable, two passes, arm the timer)',
    });
    this.deferredProbeEnable = true;
    this.trigger();
    this.runWork();
    this.initcallsDone = true;
    if (!c.profile.modules) c.devlink.driversDone();
    this.trigger();
    this.runWork();
  }

  /** The end of deferred_probe_initcall: the only place the timer is armed. */
  armTimeout(): void {
    if (this.timeout > 0)
      this.timeoutTimerAt = timerFireTime(this.core.now, this.timeout * this.core.profile.hz, this.core.profile.hz);
  }

  /** dd.c:deferred_probe_extend_timeout: a pending timer is reset to now + timeout. */
  extendTimeout(): void {
    if (this.timeoutTimerAt !== null && this.timeoutTimerAt > this.core.now) {
      this.timeoutTimerAt = timerFireTime(this.core.now, this.timeout * this.core.profile.hz, this.core.profile.hz);
    }
  }

  /** dd.c:deferred_probe_timeout_work_func. */
  timeoutFire(): void {
    const c = this.core;
    this.timeoutTimerAt = null;
    c.emit({
      kind: 'timeout-fired',
      device: null,
      rule: 'drivers/base/dd.c:deferred_probe_timeout_work_func (timeout := 0, retry all)',
    });
    c.devlink.driversDone();
    this.timeout = 0;
    this.trigger();
    this.runWork();
    for (const dev of this.pending)
      c.emit({
        kind: 'deferred-pending',
        device: dev.id,
        rule: 'drivers/base/dd.c:deferred_probe_timeout_work_func ("deferred probe pending")',
      });
  }

  /** dd.c:driver_deferred_probe_check_state. */
  checkState(): 'defer' | 'enodev' | 'etimedout' {
    if (!this.core.profile.modules && this.initcallsDone) return 'enodev';
    if (this.timeout === 0 && this.initcallsDone) return 'etimedout';
    return 'defer';
  }

  deferredNow(dev: Device): boolean {
    return dev.list === 'pending' || dev.list === 'active';
  }

  /** Hazards that only the state at capture shows. */
  captureHazards(): void {
    const c = this.core;
    for (const dev of c.devices) {
      if (!this.deferredNow(dev)) continue;
      const timerLeft = this.timeoutTimerAt !== null;
      if (!timerLeft) {
        c.hazards.push({
          kind: 'deferred-forever',
          device: dev.id,
          t: round6(c.now),
          rule:
            this.timeout < 0
              ? 'drivers/base/dd.c:deferred_probe_initcall (timeout < 0: the timer is never armed)'
              : 'drivers/base/dd.c:driver_deferred_probe_check_state (no timeout ends this wait)',
          detail: `still on the deferred list at capture, and nothing scheduled will end the wait`,
        });
      }
      c.devlink.missingSupplierHazards(dev);
    }
  }
}
