// SPDX-License-Identifier: GPL-2.0
/*
 * probelab,dma-master: a platform DMA master with no hardware behind it, for the driver-core lab.
 *
 * By the time probe runs, drivers/base/dd.c:really_probe has configured the device's DMA
 * (dma_configure -> of_dma_configure -> of_iommu_configure): the device is in an IOMMU group if
 * its IOMMU was there, or bypasses it. probe then takes every clock and reset its node references
 * (a supplier that has not registered them defers it, as any SoC driver), and behaves as the
 * probelab,* properties say (probelab_lab.h). Once bound, sysfs attribute probelab_dma tells
 * where its DMA goes: "translated" (a paging domain), "identity" (an identity domain) or
 * "bypassed" (no IOMMU domain at all).
 */
#include <linux/clk.h>
#include <linux/iommu.h>
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/reset.h>
#include "probelab_lab.h"

DEFINE_PROBELAB_DEFERS(master_defers);

static ssize_t probelab_dma_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	struct iommu_domain *domain = iommu_get_domain_for_dev(dev);

	if (!domain)
		return sysfs_emit(buf, "bypassed\n");
	return sysfs_emit(buf, "%s\n", domain->type == IOMMU_DOMAIN_IDENTITY ? "identity" : "translated");
}
static DEVICE_ATTR_RO(probelab_dma);

static struct attribute *probelab_master_attrs[] = {
	&dev_attr_probelab_dma.attr,
	NULL,
};
ATTRIBUTE_GROUPS(probelab_master);

static int probelab_master_probe(struct platform_device *pdev)
{
	struct device *dev = &pdev->dev;
	struct clk_bulk_data *clks;
	struct reset_control *rst;
	int nclks, ret;

	nclks = devm_clk_bulk_get_all(dev, &clks);
	if (nclks < 0)
		return dev_err_probe(dev, nclks, "probelab: clocks\n");
	rst = devm_reset_control_array_get_optional_exclusive(dev);
	if (IS_ERR(rst))
		return dev_err_probe(dev, PTR_ERR(rst), "probelab: resets\n");
	ret = probelab_probe_start(dev, &master_defers);
	if (ret)
		return ret;
	ret = clk_bulk_prepare_enable(nclks, clks);
	if (ret)
		return ret;
	clk_bulk_disable_unprepare(nclks, clks);
	ret = reset_control_deassert(rst);
	if (ret)
		return ret;
	dev_info(dev, "probelab: bound, %d clock(s), DMA %s\n", nclks,
		 !iommu_get_domain_for_dev(dev) ? "bypassed" :
		 iommu_get_domain_for_dev(dev)->type == IOMMU_DOMAIN_IDENTITY ? "identity" : "translated");
	return 0;
}

static const struct of_device_id probelab_master_of_match[] = {
	{ .compatible = "probelab,dma-master" },
	{ }
};
MODULE_DEVICE_TABLE(of, probelab_master_of_match);

static struct platform_driver probelab_master_driver = {
	.probe = probelab_master_probe,
	.driver = {
		.name = "probelab-master",
		.of_match_table = probelab_master_of_match,
		.dev_groups = probelab_master_groups,
	},
};
module_platform_driver(probelab_master_driver);

MODULE_DESCRIPTION("probelab driver-core lab: a platform DMA master");
MODULE_LICENSE("GPL");
