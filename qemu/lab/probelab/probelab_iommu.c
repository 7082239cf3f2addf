// SPDX-License-Identifier: GPL-2.0
/*
 * probelab,iommu (`#iommu-cells = <1>`): an IOMMU driver with nothing behind it, for the
 * driver-core lab. It does what drivers/iommu/iommu.c asks of a driver and no more: of_xlate
 * records the master's ID in its fwspec, probe_device hands out the instance, device_group gives
 * every master a group of its own, domain_alloc makes identity, blocked and paging domains (the
 * paging one keeps its mappings in an xarray; nothing does DMA). The same source builds for the
 * 6.1 and the 6.12 trees: the one difference, of_xlate's const argument, is read from the tree's
 * include/linux/iommu.h by the Makefile.
 *
 * probe: the probelab,* behaviour of probelab_lab.h, then iommu_device_register(). With
 * `probelab,register-before-ready` the instance is registered first and finishes its setup
 * afterwards (`probelab,ready-us = <N>` of busy work, then `ready`): probe_device meanwhile
 * answers -ENODEV, the window of seed 000 (a master configured inside it is left without its
 * IOMMU). Without the property the instance is ready before it registers, as in
 * arm-smmu-v3.c:arm_smmu_device_probe.
 */
#include <linux/dma-mapping.h>
#include <linux/iommu.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/of.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <linux/xarray.h>
#include "probelab_lab.h"

#ifndef PROBELAB_XLATE_CONST
#define PROBELAB_XLATE_CONST
#endif

DEFINE_PROBELAB_DEFERS(iommu_defers);

struct probelab_iommu {
	struct iommu_device iommu;
	struct device *dev;
	struct list_head list;
	bool ready;
};

struct probelab_domain {
	struct iommu_domain domain;
	struct xarray pages;
};

static LIST_HEAD(instances);
static DEFINE_MUTEX(instances_lock);
static const struct iommu_ops probelab_iommu_ops;

static struct probelab_iommu *instance_of(struct fwnode_handle *fwnode)
{
	struct probelab_iommu *p, *found = NULL;

	mutex_lock(&instances_lock);
	list_for_each_entry(p, &instances, list)
		if (dev_fwnode(p->dev) == fwnode)
			found = p;
	mutex_unlock(&instances_lock);
	return found;
}

static int probelab_of_xlate(struct device *dev, PROBELAB_XLATE_CONST struct of_phandle_args *args)
{
	u32 id = args->args_count ? args->args[0] : 0;

	return iommu_fwspec_add_ids(dev, &id, 1);
}

static struct iommu_device *probelab_probe_device(struct device *dev)
{
	struct iommu_fwspec *fwspec = dev_iommu_fwspec_get(dev);
	struct probelab_iommu *p;

	/*
	 * Only a device this driver's of_xlate has seen (it added an ID): a fwspec that a failed
	 * of_iommu_configure left without IDs (6.1.192 keeps the fwspec of an -ETIMEDOUT
	 * configuration) is not ours, as exynos-iommu.c (has_sysmmu: of_xlate's private data) and
	 * 6.1's arm-smmu-v3.c (fwspec->ops, set with the IDs) answer. The 6.12 fwspec has no ops field;
	 * the instance is found by the fwnode, as arm-smmu-v3.c does.
	 */
	if (!fwspec || !fwspec->num_ids)
		return ERR_PTR(-ENODEV);
	p = instance_of(fwspec->iommu_fwnode);
	if (!p || !READ_ONCE(p->ready)) {
		dev_info(dev, "probelab-iommu: instance not ready\n");
		return ERR_PTR(-ENODEV);
	}
	return &p->iommu;
}

static void probelab_release_device(struct device *dev)
{
}

static int probelab_attach_dev(struct iommu_domain *domain, struct device *dev)
{
	return 0;
}

static int probelab_map_pages(struct iommu_domain *domain, unsigned long iova, phys_addr_t paddr,
			      size_t pgsize, size_t pgcount, int prot, gfp_t gfp, size_t *mapped)
{
	struct probelab_domain *d = container_of(domain, struct probelab_domain, domain);
	size_t i;

	for (i = 0; i < pgcount; i++) {
		int ret = xa_err(xa_store(&d->pages, (iova >> PAGE_SHIFT) + i,
					  xa_mk_value((paddr >> PAGE_SHIFT) + i), gfp));
		if (ret)
			return ret;
		*mapped += pgsize;
	}
	return 0;
}

static size_t probelab_unmap_pages(struct iommu_domain *domain, unsigned long iova, size_t pgsize,
				   size_t pgcount, struct iommu_iotlb_gather *gather)
{
	struct probelab_domain *d = container_of(domain, struct probelab_domain, domain);
	size_t i;

	for (i = 0; i < pgcount; i++)
		xa_erase(&d->pages, (iova >> PAGE_SHIFT) + i);
	return pgsize * pgcount;
}

static phys_addr_t probelab_iova_to_phys(struct iommu_domain *domain, dma_addr_t iova)
{
	struct probelab_domain *d = container_of(domain, struct probelab_domain, domain);
	void *e = xa_load(&d->pages, iova >> PAGE_SHIFT);

	return e ? ((phys_addr_t)xa_to_value(e) << PAGE_SHIFT) | (iova & ~PAGE_MASK) : 0;
}

static void probelab_domain_free(struct iommu_domain *domain)
{
	struct probelab_domain *d = container_of(domain, struct probelab_domain, domain);

	xa_destroy(&d->pages);
	kfree(d);
}

static struct iommu_domain *probelab_domain_alloc(unsigned int type)
{
	struct probelab_domain *d;

	if (type != IOMMU_DOMAIN_DMA && type != IOMMU_DOMAIN_DMA_FQ && type != IOMMU_DOMAIN_UNMANAGED &&
	    type != IOMMU_DOMAIN_IDENTITY && type != IOMMU_DOMAIN_BLOCKED)
		return NULL;
	d = kzalloc(sizeof(*d), GFP_KERNEL);
	if (!d)
		return NULL;
	xa_init(&d->pages);
	d->domain.geometry.aperture_start = 0;
	d->domain.geometry.aperture_end = DMA_BIT_MASK(48);
	d->domain.geometry.force_aperture = true;
	return &d->domain;
}

static const struct iommu_domain_ops probelab_domain_ops = {
	.attach_dev = probelab_attach_dev,
	.map_pages = probelab_map_pages,
	.unmap_pages = probelab_unmap_pages,
	.iova_to_phys = probelab_iova_to_phys,
	.free = probelab_domain_free,
};

static const struct iommu_ops probelab_iommu_ops = {
	.domain_alloc = probelab_domain_alloc,
	.probe_device = probelab_probe_device,
	.release_device = probelab_release_device,
	.device_group = generic_device_group,
	.of_xlate = probelab_of_xlate,
	.pgsize_bitmap = SZ_4K,
	.owner = THIS_MODULE,
	.default_domain_ops = &probelab_domain_ops,
};

static int probelab_iommu_probe(struct platform_device *pdev)
{
	struct device *dev = &pdev->dev;
	bool early = of_property_read_bool(dev->of_node, "probelab,register-before-ready");
	struct probelab_iommu *p;
	u32 us = 0;
	int ret;

	ret = probelab_probe_start(dev, &iommu_defers);
	if (ret)
		return ret;
	p = devm_kzalloc(dev, sizeof(*p), GFP_KERNEL);
	if (!p)
		return -ENOMEM;
	p->dev = dev;
	p->ready = !early;
	platform_set_drvdata(pdev, p);
	mutex_lock(&instances_lock);
	list_add_tail(&p->list, &instances);
	mutex_unlock(&instances_lock);
	ret = iommu_device_sysfs_add(&p->iommu, dev, NULL, "%s", dev_name(dev));
	if (ret)
		goto out_list;
	ret = iommu_device_register(&p->iommu, &probelab_iommu_ops, dev);
	if (ret)
		goto out_sysfs;
	if (early) {
		of_property_read_u32(dev->of_node, "probelab,ready-us", &us);
		dev_info(dev, "probelab-iommu: registered before ready, %u us of setup left\n", us);
		probelab_busy_us(us);
		WRITE_ONCE(p->ready, true);
	}
	dev_info(dev, "probelab-iommu: ready\n");
	return 0;

out_sysfs:
	iommu_device_sysfs_remove(&p->iommu);
out_list:
	mutex_lock(&instances_lock);
	list_del(&p->list);
	mutex_unlock(&instances_lock);
	return ret;
}

static void probelab_iommu_remove(struct platform_device *pdev)
{
	struct probelab_iommu *p = platform_get_drvdata(pdev);

	iommu_device_unregister(&p->iommu);
	iommu_device_sysfs_remove(&p->iommu);
	mutex_lock(&instances_lock);
	list_del(&p->list);
	mutex_unlock(&instances_lock);
}

static const struct of_device_id probelab_iommu_of_match[] = {
	{ .compatible = "probelab,iommu" },
	{ }
};
MODULE_DEVICE_TABLE(of, probelab_iommu_of_match);

static struct platform_driver probelab_iommu_driver = {
	.probe = probelab_iommu_probe,
	.remove_new = probelab_iommu_remove,
	.driver = {
		.name = "probelab-iommu",
		.of_match_table = probelab_iommu_of_match,
	},
};
module_platform_driver(probelab_iommu_driver);

MODULE_DESCRIPTION("probelab driver-core lab: an IOMMU driver with nothing behind it");
MODULE_LICENSE("GPL");
