/**
 * The fuzzed readers (the device-tree ones are in dt-targets.ts), each with its corpus of real inputs, its dictionary, and the errors that
 * are its own (a clean one-line rejection). Anything else thrown is a crash; the readers are the
 * ones a user's file reaches: the scenario readers (sim-core scenario.ts, board-scenario.ts), the
 * matrix reader (matrix-file.ts), the console parser (harness console-parser.ts), the boot-log
 * reader of `probelab parse` (parse/log-lines.ts, log-outcome.ts), the DTS
 * preprocessor (dt-compiler cpp/), the DTS compiler (dtc.wasm through compile.ts), and the DTB
 * reader (fdt.ts) with the supplier graph read from its tree (deps.ts).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import {
  InputError,
  isBoardScenarioText,
  parseBoardScenario,
  parseMatrixFile,
  parseScenario,
} from '@probelab/sim-core';
import { DtError } from '@probelab/dt-compiler';
import { HarnessError, outcomeFromConsole, parseConsole, repoRoot } from '@probelab/harness';
import { logLines } from '../parse/log-lines.js';
import { logOutcome } from '../parse/log-outcome.js';
import { dtTargets } from './dt-targets.js';

export interface FuzzTarget {
  name: string;
  /** Real inputs to mutate. */
  corpus: () => Uint8Array[];
  dict: string[];
  maxBytes: number;
  run: (input: Uint8Array) => void;
}

const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8');
const own = (e: unknown): boolean => e instanceof InputError || e instanceof DtError || e instanceof HarnessError;
export const isOwnError = own;

function yamlFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...yamlFiles(p));
    else if (e.name.endsWith('.yaml')) out.push(p);
  }
  return out;
}

const yamlDict = [
  '[',
  ']',
  '{',
  '}',
  ': ',
  '\n- ',
  '\n  ',
  '"',
  "'",
  '&a ',
  '*a',
  '<<: *a',
  '!!binary ',
  '!!str ',
  '? ',
  '|',
  '>',
  '#',
  '---\n',
  '...\n',
  '\t',
  '\0',
  'name: ..',
  'at: ',
  'capture: ',
  'modules:\n  - { name: virtio-iommu, at: 1 }',
  'cmdline: "a\\0b"',
  'kernel: source-6.12+x',
  'iommu: smmuv3',
  '%YAML 1.2\n',
];

export function fuzzTargets(): FuzzTarget[] {
  const root = repoRoot();
  return [
    {
      name: 'scenario',
      corpus: () => yamlFiles(join(root, 'boards')).map((f) => readFileSync(f)),
      dict: yamlDict,
      maxBytes: 64 * 1024,
      run: (b) => {
        const t = text(b);
        // Board scenarios name files relative to themselves: read as if they were in boards/juno.
        if (isBoardScenarioText(t)) parseBoardScenario(t, join(root, 'boards', 'juno', 'fuzz.yaml'));
        else parseScenario(t, 'fuzz.yaml');
      },
    },
    {
      name: 'matrix',
      corpus: () => ['nightly.yaml', 'smoke.yaml', 'calibration.yaml'].map((f) => readFileSync(join(root, 'ci', f))),
      dict: [
        ...yamlDict,
        'base: ../boards/qemu-virt/virtio-iommu-late.yaml',
        'timeout: [',
        'loadAt: [',
        'variants:\n  - ',
      ],
      maxBytes: 64 * 1024,
      run: (b) => void parseMatrixFile(text(b), join(root, 'ci', 'fuzz.yaml')),
    },
    {
      name: 'console',
      corpus: () => {
        const dir = join(root, 'packages', 'harness', 'test', 'fixtures');
        const windows: Uint8Array[] = [];
        for (const f of readdirSync(dir)
          .filter((x) => x.endsWith('.console.log.gz'))
          .sort()) {
          const lines = gunzipSync(readFileSync(join(dir, f)))
            .toString('utf8')
            .split('\n');
          for (let i = 0; i < lines.length; i += 150) windows.push(Buffer.from(lines.slice(i, i + 300).join('\n')));
        }
        return windows;
      },
      dict: [
        '\n[    1.000000] ',
        '@dev ',
        '@drv ',
        '@deferred ',
        '@module ',
        '@trace ',
        '@@@ probelab state begin',
        '@@@ probelab state end',
        'Kernel panic - not syncing',
        'Adding to iommu group ',
        'deferred probe pending',
        '\r',
        '\x1b[0m',
        '<6>',
        ' -> ',
      ],
      maxBytes: 256 * 1024,
      run: (b) => {
        const p = parseConsole(text(b));
        outcomeFromConsole(p, ['virtio-iommu', 'arm_smmu_v3']);
      },
    },
    {
      name: 'boot-log',
      corpus: () => {
        const dir = join(root, 'packages', 'probelab', 'test', 'fixtures', 'boot-logs');
        return readdirSync(dir)
          .filter((x) => x.endsWith('.log'))
          .sort()
          .map((f) => readFileSync(join(dir, f)));
      },
      dict: [
        '\n[    1.000000] ',
        '<4>',
        '> ',
        '2023-04-27T14:18:04.141123  ',
        'platform ',
        ': Adding to iommu group ',
        'iommu: Adding device ',
        ': deferred probe pending: ',
        ': probe with driver x failed with error -110',
        ': probe of ',
        'devices_deferred\n',
        '\t',
        '- {"dt": "x", "lvl": "target", "msg": "',
        '"}',
        'Linux version ',
        'Machine model: ',
        '\r',
        '\x1b[0m',
        '[    0.000000][    T1] ',
      ],
      maxBytes: 256 * 1024,
      run: (b) => void logOutcome(logLines(text(b), 'fuzz.log')),
    },
    ...dtTargets(),
  ];
}
