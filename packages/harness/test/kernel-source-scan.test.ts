// Kbuild and driver sources read without building: composite objects, conditional parts,
// subst m,y, link order; of_device_id tables, driver structs, initcall levels, OF_DECLARE,
// and what a probe does after iommu_device_register().
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kbuildIndex, parseKbuildMakefile, readConfig, scanDriverFile } from '@probelab/harness';

describe('kbuild', () => {
  it('assignments with continuations, conditions and comments', () => {
    const a = parseKbuildMakefile(
      'obj-$(CONFIG_A) += a.o \\\n\tb/ # comment\nfoo-y := x.o y.o\nfoo-$(CONFIG_Z) += z.o\n',
    );
    expect(a).toEqual([
      { target: 'obj', cond: '$(CONFIG_A)', words: ['a.o', 'b/'] },
      { target: 'foo', cond: 'y', words: ['x.o', 'y.o'] },
      { target: 'foo', cond: '$(CONFIG_Z)', words: ['z.o'] },
    ]);
  });

  it('state, module and link order through directories and composite objects', () => {
    const t = mkdtempSync(join(tmpdir(), 'kbuild-'));
    mkdirSync(join(t, 'drivers', 'gpu'), { recursive: true });
    mkdirSync(join(t, 'sound'), { recursive: true });
    writeFileSync(
      join(t, 'drivers', 'Makefile'),
      'obj-y += early.o\nobj-$(CONFIG_GPU) += gpu/\nobj-$(subst m,y,$(CONFIG_S)) += glue.o\n',
    );
    writeFileSync(
      join(t, 'drivers', 'gpu', 'Makefile'),
      'drm-y := core.o\ndrm-$(CONFIG_DECON) += decon.o\ndrm-$(CONFIG_OFF) += off.o\nobj-$(CONFIG_DRM) += drm.o\n',
    );
    writeFileSync(join(t, 'sound', 'Makefile'), 'obj-m += snd.o\n');
    const idx = kbuildIndex(t, readConfig('CONFIG_GPU=y\nCONFIG_DRM=m\nCONFIG_DECON=y\nCONFIG_S=m\n'));
    expect(idx.get('drivers/early.c')).toMatchObject({ state: 'y', module: 'early' });
    expect(idx.get('drivers/gpu/decon.c')).toMatchObject({ state: 'm', module: 'drm' });
    expect(idx.get('drivers/gpu/off.c')).toMatchObject({ state: 'n', module: 'drm' });
    expect(idx.get('drivers/glue.c')?.state).toBe('y');
    expect(idx.get('sound/snd.c')?.state).toBe('m');
    expect(idx.get('drivers/early.c')!.order).toBeLessThan(idx.get('drivers/gpu/core.c')!.order);
    expect(idx.get('drivers/gpu/core.c')!.order).toBeLessThan(idx.get('sound/snd.c')!.order);
  });
});

describe('driver sources', () => {
  const src = `
#define DRV_NAME "v-mmu"
static const struct of_device_id mmu_of_match[] = {
	{ .compatible = "v,mmu", },
	{ .compatible = "v,mmu-v2", .data = &v2 },
	{ },
};
static int mmu_probe(struct platform_device *pdev)
{
	ret = iommu_device_register(&data->iommu, &mmu_ops, dev);
	if (ret)
		goto err;
	platform_set_drvdata(pdev, data);
	dev_info(dev, "ready\\n");
	return 0;
err:
	return ret;
}
static struct platform_driver mmu_driver __refdata = {
	.probe = mmu_probe,
	.driver = { .name = DRV_NAME, .of_match_table = mmu_of_match, },
};
static int __init mmu_init(void)
{
	return platform_driver_register(&mmu_driver);
}
core_initcall(mmu_init);
IRQCHIP_DECLARE(vgic, "v,gic", gic_of_init);
`;
  it('tables, driver name through a #define, level from the initcall that takes its address', () => {
    const f = scanDriverFile(src, 'drivers/iommu/v-mmu.c');
    expect(f.drivers).toEqual([
      {
        variable: 'mmu_driver',
        bus: 'platform',
        name: 'v-mmu',
        compatibles: ['v,mmu', 'v,mmu-v2'],
        level: 1,
        registersIommu: true,
        afterRegister: ['platform_set_drvdata(pdev, data)'],
        xlateReadsLateState: false,
        children: null,
      },
    ]);
    expect(f.ofDeclared).toEqual(['v,gic']);
  });
  it('an of_xlate that reads the drvdata set after registering: the window ends in -ENODEV', () => {
    const s3 = src.replace(
      'static struct platform_driver mmu_driver',
      'static int mmu_of_xlate(struct device *dev, struct of_phandle_args *spec)\n{\n\tstruct mmu *m = platform_get_drvdata(of_find_device_by_node(spec->np));\n\treturn m ? 0 : -ENODEV;\n}\nstatic struct platform_driver mmu_driver',
    );
    expect(scanDriverFile(s3, 'drivers/iommu/v-mmu.c').drivers[0]!.xlateReadsLateState).toBe(true);
  });
  it('module_platform_driver is module_init; an IOMMU that registers last leaves no window', () => {
    const s2 = src
      .replace(/static int __init mmu_init[\s\S]*core_initcall\(mmu_init\);/, 'module_platform_driver(mmu_driver);')
      .replace('platform_set_drvdata(pdev, data);', '');
    const f = scanDriverFile(s2, 'drivers/iommu/v-mmu.c');
    expect(f.drivers[0]).toMatchObject({ level: 6, afterRegister: [] });
  });
});
