/**
 * Boot timing for a board nobody booted: built-in drivers register in initcall order
 * (init/main.c:do_initcalls: level by level, link order within a level), one `initcallStep`
 * apart; dd.c:deferred_probe_initcall follows; userspace loads modules from `initStart`.
 */
import type { BoardTimingParams } from './board-scenario.js';
import type { BootTiming, KernelProfile } from './profile.js';
import { round6 } from './sim-time.js';

export function boardTiming(profile: KernelProfile, p: BoardTimingParams): BootTiming {
  const builtin = profile.drivers
    .filter((d) => d.builtin && d.level !== undefined)
    .sort((a, b) => a.level! - b.level! || (a.linkOrder ?? 0) - (b.linkOrder ?? 0));
  const builtinRegistrations = builtin.map((d, i) => ({
    t: round6(p.initcallStart + i * p.initcallStep),
    driver: d.name,
    bus: d.bus,
  }));
  const last = builtinRegistrations.at(-1)?.t ?? p.initcallStart;
  const lateInitcall = round6(last + p.lateInitcallGap);
  return {
    builtinRegistrations,
    lateInitcall,
    lateInitcallEnd: round6(lateInitcall + 0.001),
    lateRegistrations: [],
    initStart: Math.max(p.initStart, lateInitcall + 0.01),
    moduleLoadLatency: p.moduleLoadLatency,
    defaultModuleLoadLatency: p.defaultModuleLoadLatency,
    probeDuration: p.probeDuration,
    deferCost: p.deferCost,
  };
}
