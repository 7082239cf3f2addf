// SPDX-License-Identifier: GPL-2.0
/*
 * probelab,supplier: clocks, resets and power domains for the driver-core lab's masters, with
 * no hardware.
 *
 * After the probelab,* behaviour (probelab_lab.h), probe registers what the node's cells say it
 * provides: `#clock-cells = <0>` or `<1>` (clock-output-count clocks, default 1, fixed rate 24 MHz,
 * of_clk_add_hw_provider), `#reset-cells = <1>` (reset-count resets, default 1,
 * reset_controller_register) and `#power-domain-cells = <0>` or `<1>` (power-domain-count generic
 * power domains, default 1, always on: pm_genpd_init + of_genpd_add_provider_*). Consumers
 * reference them with `clocks`, `resets` and `power-domains`, which drivers/of/property.c makes
 * fw_devlink supplier links of; probelab_master's probe gets the clocks and resets
 * (-EPROBE_DEFER while the provider is not registered: drivers/clk/clk.c, drivers/reset/core.c)
 * and the platform bus attaches its power domain before the probe
 * (drivers/base/platform.c:platform_probe -> dev_pm_domain_attach, -EPROBE_DEFER likewise:
 * drivers/pmdomain/core.c, drivers/base/power/domain.c in 6.1). Its providers stay for the
 * module's lifetime: the module is not meant to be unloaded.
 */
#include <linux/clk-provider.h>
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/pm_domain.h>
#include <linux/reset-controller.h>
#include <linux/slab.h>
#include "probelab_lab.h"

DEFINE_PROBELAB_DEFERS(supplier_defers);

struct probelab_supplier {
	struct reset_controller_dev rcdev;
	struct clk_hw_onecell_data *clks;
	struct genpd_onecell_data pds;
};

/* `#power-domain-cells`: always-on generic power domains (nothing to switch). */
static int probelab_add_power_domains(struct device *dev, struct probelab_supplier *s, u32 cells)
{
	struct device_node *np = dev->of_node;
	u32 n = 1;
	int i, ret;

	if (!IS_ENABLED(CONFIG_PM_GENERIC_DOMAINS))
		return dev_err_probe(dev, -EOPNOTSUPP, "probelab: #power-domain-cells needs CONFIG_PM_GENERIC_DOMAINS\n");
	if (cells)
		of_property_read_u32(np, "power-domain-count", &n);
	s->pds.domains = devm_kcalloc(dev, n, sizeof(*s->pds.domains), GFP_KERNEL);
	if (!s->pds.domains)
		return -ENOMEM;
	s->pds.num_domains = n;
	for (i = 0; i < n; i++) {
		struct generic_pm_domain *pd = devm_kzalloc(dev, sizeof(*pd), GFP_KERNEL);

		if (!pd)
			return -ENOMEM;
		pd->name = devm_kasprintf(dev, GFP_KERNEL, "%pOFn-pd%d", np, i);
		ret = pm_genpd_init(pd, NULL, false);
		if (ret)
			return ret;
		s->pds.domains[i] = pd;
	}
	return cells ? of_genpd_add_provider_onecell(np, &s->pds) : of_genpd_add_provider_simple(np, s->pds.domains[0]);
}

static int probelab_reset_noop(struct reset_controller_dev *rcdev, unsigned long id)
{
	return 0;
}

static const struct reset_control_ops probelab_reset_ops = {
	.assert = probelab_reset_noop,
	.deassert = probelab_reset_noop,
};

static int probelab_supplier_probe(struct platform_device *pdev)
{
	struct device *dev = &pdev->dev;
	struct device_node *np = dev->of_node;
	struct probelab_supplier *s;
	u32 cells, n;
	int ret, i;

	ret = probelab_probe_start(dev, &supplier_defers);
	if (ret)
		return ret;
	s = devm_kzalloc(dev, sizeof(*s), GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	if (!of_property_read_u32(np, "#clock-cells", &cells)) {
		n = 1;
		if (cells)
			of_property_read_u32(np, "clock-output-count", &n);
		s->clks = devm_kzalloc(dev, struct_size(s->clks, hws, n), GFP_KERNEL);
		if (!s->clks)
			return -ENOMEM;
		s->clks->num = n;
		for (i = 0; i < n; i++) {
			char *name = devm_kasprintf(dev, GFP_KERNEL, "%pOFn-%d", np, i);
			struct clk_hw *hw = devm_clk_hw_register_fixed_rate(dev, name, NULL, 0, 24000000);

			if (IS_ERR(hw))
				return PTR_ERR(hw);
			s->clks->hws[i] = hw;
		}
		ret = devm_of_clk_add_hw_provider(dev, cells ? of_clk_hw_onecell_get : of_clk_hw_simple_get,
						  cells ? (void *)s->clks : (void *)s->clks->hws[0]);
		if (ret)
			return ret;
	}
	if (!of_property_read_u32(np, "#power-domain-cells", &cells)) {
		ret = probelab_add_power_domains(dev, s, cells);
		if (ret)
			return ret;
	}
	if (!of_property_read_u32(np, "#reset-cells", &cells)) {
		n = 1;
		of_property_read_u32(np, "reset-count", &n);
		s->rcdev.ops = &probelab_reset_ops;
		s->rcdev.owner = THIS_MODULE;
		s->rcdev.of_node = np;
		s->rcdev.nr_resets = n;
		s->rcdev.of_reset_n_cells = cells;
		ret = devm_reset_controller_register(dev, &s->rcdev);
		if (ret)
			return ret;
	}
	dev_info(dev, "probelab: supplier registered\n");
	return 0;
}

static const struct of_device_id probelab_supplier_of_match[] = {
	{ .compatible = "probelab,supplier" },
	{ }
};
MODULE_DEVICE_TABLE(of, probelab_supplier_of_match);

static struct platform_driver probelab_supplier_driver = {
	.probe = probelab_supplier_probe,
	.driver = {
		.name = "probelab-supplier",
		.of_match_table = probelab_supplier_of_match,
		/* Its clocks and resets must stay: no unbind from sysfs. */
		.suppress_bind_attrs = true,
	},
};
module_platform_driver(probelab_supplier_driver);

MODULE_DESCRIPTION("probelab driver-core lab: clock, reset and power-domain supplier");
MODULE_LICENSE("GPL");
