/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What every probelab lab driver does at the start of its probe, from DT properties of its node:
 *   probelab,probe-us = <N>     keep the CPU busy for N microseconds;
 *   probelab,defer-count = <N>  return -EPROBE_DEFER from the first N probes of this node;
 *   probelab,probe-error        fail with -EIO (for a master: after the driver core set up its
 *                               DMA in really_probe -> dma_configure).
 * The counts are kept per DT node for the module's lifetime (a deferred probe frees everything
 * devm gave it, so the device cannot keep them).
 */
#ifndef PROBELAB_LAB_H
#define PROBELAB_LAB_H

#include <linux/delay.h>
#include <linux/device.h>
#include <linux/ktime.h>
#include <linux/mutex.h>
#include <linux/of.h>

#define PROBELAB_MAX_NODES 256

struct probelab_defers {
	struct mutex lock;
	int n;
	struct { const struct device_node *np; u32 done; } seen[PROBELAB_MAX_NODES];
};

#define DEFINE_PROBELAB_DEFERS(name) \
	static struct probelab_defers name = { .lock = __MUTEX_INITIALIZER(name.lock) }

/* Keep the CPU busy for `us` microseconds (a probe that takes time, not one that sleeps). */
static inline void probelab_busy_us(u32 us)
{
	u64 end = ktime_get_ns() + (u64)us * 1000;

	while (ktime_get_ns() < end)
		cpu_relax();
}

/* 0 to go on with the probe, or the error the probe returns now. */
static inline int probelab_probe_start(struct device *dev, struct probelab_defers *d)
{
	struct device_node *np = dev->of_node;
	u32 us = 0, count = 0;
	int i, ret = 0;

	if (!of_property_read_u32(np, "probelab,probe-us", &us))
		probelab_busy_us(us);
	if (!of_property_read_u32(np, "probelab,defer-count", &count) && count) {
		mutex_lock(&d->lock);
		for (i = 0; i < d->n && d->seen[i].np != np; i++)
			;
		if (i == d->n && d->n < PROBELAB_MAX_NODES) {
			d->seen[i].np = np;
			d->seen[i].done = 0;
			d->n++;
		}
		if (i < d->n && d->seen[i].done < count) {
			d->seen[i].done++;
			dev_info(dev, "probelab: deferring (%u of %u)\n", d->seen[i].done, count);
			ret = -EPROBE_DEFER;
		}
		mutex_unlock(&d->lock);
		if (ret)
			return ret;
	}
	if (of_property_read_bool(np, "probelab,probe-error")) {
		dev_err(dev, "probelab: failing the probe (probelab,probe-error)\n");
		return -EIO;
	}
	return 0;
}

#endif
