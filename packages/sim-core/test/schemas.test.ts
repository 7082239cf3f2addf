// The contracts as JSON Schemas (schemas/*.schema.json): every file of the repository that is
// one of them validates against its schema, the schemas say what the code's own tables say
// (name and kernel patterns, IOMMU kinds, endpoints, event kinds, buses), the outcomes the
// simulator writes are outcomes, and a schema error is said as file:line:column and the field.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import {
  eventKindTable,
  iommuKinds,
  kernelIdPattern,
  loadAnyScenario,
  parseBoardScenario,
  parseScenario,
  pciEndpoints,
  readContract,
  schemaNames,
  schemaValidator,
  predict,
} from '../dist/index.js';
import { namePattern } from '../dist/input-limits.js';
import { dts, profile, scenario } from './helpers.js';

const root = join(import.meta.dirname, '..', '..', '..');
/** What a reader says of an input: its error as the CLI prints it, or 'accepted'. */
const said = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    return String(e);
  }
  return 'accepted';
};
const schema = (name: string) => JSON.parse(readFileSync(join(root, 'schemas', `${name}.schema.json`), 'utf8'));

function yamlFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...yamlFiles(p));
    else if (/\.ya?ml$/.test(e.name)) out.push(p);
  }
  return out.sort();
}

describe('schemas', () => {
  it('every schema is a valid draft-07 schema and compiles under ajv strict mode', () => {
    const meta = new Ajv({ strict: true });
    meta.addKeyword({ keyword: 'errorMessage', schemaType: 'string' });
    meta.addKeyword({ keyword: 'x-unknownField', schemaType: 'string' });
    for (const n of schemaNames) {
      const s = schema(n);
      expect(meta.validateSchema(s), `${n}: ${JSON.stringify(meta.errors)}`).toBe(true);
      meta.addSchema(s);
    }
    for (const n of schemaNames) expect(typeof schemaValidator(n)).toBe('function');
  });

  it('every scenario and matrix file of the repository validates against its schema', () => {
    const files = [...yamlFiles(join(root, 'boards')), ...yamlFiles(join(root, 'ci'))];
    let n = 0;
    for (const f of files) {
      const data = parse(readFileSync(f, 'utf8')) as Record<string, unknown>;
      if (!data || typeof data !== 'object' || Array.isArray(data)) continue;
      const kind =
        'axes' in data ? 'matrix' : 'board' in data ? 'board-scenario' : 'machine' in data ? 'qemu-scenario' : null;
      if (!kind) continue;
      const v = schemaValidator(kind);
      expect(v(data), `${f}: ${JSON.stringify(v.errors)}`).toBe(true);
      n++;
    }
    expect(n).toBeGreaterThan(70);
  });

  it('the calibration files validate, read through readContract', () => {
    const dir = join(root, 'qemu', 'calibration');
    const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect(readContract('calibration', readFileSync(join(dir, f), 'utf8'), f)).toBeTruthy();
    const bad = readFileSync(join(dir, files[0]!), 'utf8').replace(/"n": (\d+)/, '"n": "$1"');
    expect(said(() => readContract('calibration', bad, 'c.json'))).toMatch(
      /^c\.json:\d+:\d+: field `parameters\[0\]\.n`: expected a whole number of samples$/,
    );
  });

  it("say what the code's tables say", () => {
    const q = schema('qemu-scenario');
    expect(q.properties.name.pattern).toBe(namePattern.source);
    expect(q.properties.kernel.pattern).toBe(kernelIdPattern.source);
    expect(q.properties.machine.properties.iommu.enum).toEqual([...iommuKinds]);
    expect(q.properties.machine.properties.devices.items.enum).toEqual([...pciEndpoints]);
    expect(schema('matrix').properties.name.pattern).toBe(namePattern.source);
    expect(schema('board-scenario').properties.name.pattern).toBe(namePattern.source);
    const o = schema('outcome');
    expect(o.properties.events.items.properties.kind.enum).toEqual(Object.keys(eventKindTable));
    expect(schema('calibration').properties.eventKinds.items.properties.kind.enum).toEqual(Object.keys(eventKindTable));
  });

  it('the outcomes the simulator writes are outcomes', () => {
    const t = dts(`/ { #address-cells = <1>; #size-cells = <1>;
      mmu: iommu@1000 { compatible = "t,mmu"; reg = <0x1000 0x100>; #iommu-cells = <1>; };
      dev@2000 { compatible = "t,dev"; reg = <0x2000 0x100>; iommus = <&mmu 1>; }; };`);
    const pr = profile({
      builtin: [{ name: 'dev', compat: 't,dev', t: 0.1 }],
      modules: [{ name: 'mmu', module: 'mmu', compat: 't,mmu' }],
    });
    const p = predict({
      scenario: scenario('deferred_probe_timeout=5', [{ name: 'mmu', at: 8 }], 20),
      profile: { ...pr, behaviours: { mmu: { kind: 'iommu', fwnode: 'self' } } },
      tree: t,
      pciFunctions: [],
    });
    expect(p.outcome.events.length).toBeGreaterThan(2);
    const v = schemaValidator('outcome');
    const data = JSON.parse(JSON.stringify(p.outcome));
    expect(v(data), JSON.stringify(v.errors)).toBe(true);
    expect(v({ ...data, devices: [{ ...data.devices[0], iommuGroup: -1 }] })).toBe(false);
    // And a board scenario's prediction under boards/: read as any scenario is.
    expect(loadAnyScenario(join(root, 'boards', 'juno', 'ipmmu-claims-bus-ops.yaml')).kind).toBe('board');
  });

  it("errors: file:line:column, the field, the schema's errorMessage; the first in the file", () => {
    const ok =
      'name: s\nkernel: debian-6.12\nmachine:\n  iommu: smmuv3\n  devices: [virtio-blk-pci]\ncmdline: ""\nmodules:\n  - { name: arm_smmu_v3, at: 2 }\ncapture: 10\n';
    const err = (text: string): string => {
      try {
        parseScenario(text, 's.yaml');
      } catch (e) {
        return String(e);
      }
      return 'accepted';
    };
    expect(err(ok)).toBe('accepted');
    expect(err(ok.replace('smmuv3', 'intel'))).toBe(
      's.yaml:4:10: field `machine.iommu`: expected one of none | smmuv3 | virtio-iommu',
    );
    expect(err(ok.replace('at: 2', 'at: two').replace('iommu: smmuv3', 'iommu: x'))).toMatch(/^s\.yaml:4:10: /);
    expect(err(ok.replace('  - { name: arm_smmu_v3, at: 2 }', '  - { name: arm_smmu_v3, at: 2, when: 3 }'))).toBe(
      's.yaml:8:33: field `modules[0].when`: expected name, at or params (unknown field)',
    );
    expect(err(ok.replace('name: s\n', ''))).toMatch(/^s\.yaml:\d+:\d+: field `name`: expected a name of at most 100/);
    expect(err(ok.replace('kernel: debian-6.12', 'kernel: *k'))).toMatch(
      /^s\.yaml:2:9: not valid YAML: Unresolved alias/,
    );
    expect(err(`${ok}? [a, b]\n: 1\n`)).toMatch(/^s\.yaml:10:3: field `\(a collection used as a key\)`/);
    const board = 'name: b\nboard: arm/juno.dts\nkernel:\n  source: "6.12"\ntiming:\n  initStart: -1\ncapture: 20\n';
    expect(said(() => parseBoardScenario(board, 'b.yaml'))).toMatch(
      /^b\.yaml:6:14: field `timing\.initStart`: expected a number of seconds >= 0$/,
    );
    expect(said(() => parseBoardScenario(board.replace('  initStart: -1', '  - 1'), 'b.yaml'))).toMatch(
      /^b\.yaml:6:3: field `timing`: expected a mapping of timing parameters, or a calibration file path$/,
    );
  });
});
