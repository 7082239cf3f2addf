/**
 * When a delayed work item really runs: kernel/time/timer.c rounds a timer's expiry up to the
 * granularity of the wheel level it lands in (calc_wheel_index / calc_index), so a 10 s timeout
 * at HZ=250 fires up to 256 ms late. Jiffies start at INITIAL_JIFFIES = -300*HZ
 * (include/linux/jiffies.h), which fixes the bucket alignment. Verified on real boots: a
 * 5 s timeout extended at 1.149133 s fired at 6.368 s, as this computes.
 */
const LVL_CLK_SHIFT = 3;
const LVL_BITS = 6;
const LVL_SIZE = 1 << LVL_BITS;
const LVL_DEPTH = 9; // HZ > 100
const lvlShift = (n: number): number => n * LVL_CLK_SHIFT;
const lvlStart = (n: number): number => (LVL_SIZE - 1) << ((n - 1) * LVL_CLK_SHIFT);

export function initialJiffies(hz: number): bigint {
  return BigInt.asUintN(64, BigInt(-300 * hz));
}

/** Jiffies at guest time t (seconds since boot). */
export function jiffiesAt(t: number, hz: number): bigint {
  return BigInt.asUintN(64, initialJiffies(hz) + BigInt(Math.floor(t * hz + 1e-9)));
}

/** Guest time at which a timer armed at `now` with `delayJiffies` runs. */
export function timerFireTime(now: number, delayJiffies: number, hz: number): number {
  const clk = jiffiesAt(now, hz);
  const expires = clk + BigInt(delayJiffies);
  const delta = delayJiffies;
  let lvl = LVL_DEPTH - 1;
  for (let n = 0; n < LVL_DEPTH - 1; n++) {
    if (delta < lvlStart(n + 1)) {
      lvl = n;
      break;
    }
  }
  // timer.c:calc_index: expires = (expires >> LVL_SHIFT(lvl)) + 1; bucket = expires << LVL_SHIFT(lvl)
  const shift = BigInt(lvlShift(lvl));
  const bucket = ((expires >> shift) + 1n) << shift;
  return Number(BigInt.asUintN(64, bucket - initialJiffies(hz))) / hz;
}
