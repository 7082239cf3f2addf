/**
 * Guest time as the simulator reports it: seconds, rounded to the microsecond, the resolution of
 * printk's timestamps (kernel/printk/printk.c:print_time, "[%5lu.%06lu]").
 */
export const round6 = (t: number): number => Math.round(t * 1e6) / 1e6;
