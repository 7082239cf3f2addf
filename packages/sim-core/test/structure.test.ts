// The structure the README promises: every hazard's `raisedIn` names a function that exists in
// the file it names (the table cannot point at code that moved), and every file of the driver
// core's table says in its first comment which kernel file it mirrors.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hazardTable } from '../dist/hazards.js';

const src = join(import.meta.dirname, '..', 'src');

describe('sim-core structure', () => {
  it("every hazard's raisedIn is a function of the file it names", () => {
    for (const [kind, row] of Object.entries(hazardTable)) {
      const m = /^([\w-]+\.ts):(\w+)/.exec(row.raisedIn);
      expect(m, kind).not.toBeNull();
      const text = readFileSync(join(src, m![1]!), 'utf8');
      const fn = m![2]!;
      expect(
        new RegExp(`^\\s*(?:private |export )?(?:async )?(?:function )?${fn}\\(`, 'm').test(text),
        `${kind}: ${row.raisedIn}`,
      ).toBe(true);
      // The function raises this hazard kind, or calls what does (cycleEdges' hazards are pushed by its caller).
      expect(text.includes(`'${kind}'`), `${kind} is not raised in ${m![1]}`).toBe(true);
    }
  });

  it('each file of the README rules table opens with a comment naming its kernel file', () => {
    const readme = readFileSync(join(src, '..', 'README.md'), 'utf8');
    const rows = readme.split('\n').filter((l) => l.startsWith('| '));
    const files = new Set(rows.flatMap((r) => [...r.matchAll(/`src\/([\w-]+\.ts)`/g)].map((m) => m[1]!)));
    expect(files.size).toBeGreaterThan(15);
    for (const f of files) {
      const text = readFileSync(join(src, f), 'utf8');
      const first = /^\/\*\*([\s\S]*?)\*\//.exec(text)?.[1] ?? '';
      expect(first, f).toMatch(/\w/);
      // hazards.ts and outcome.ts are probelab's own contracts, not a kernel file's model.
      if (!['hazards.ts', 'outcome.ts'].includes(f))
        expect(first, `${f}: its first comment names no kernel file`).toMatch(
          /(drivers|kernel|include|lib|init|qemu\/lab)\/[\w/.-]+\.[ch]\b|[\w-]+\.c:/,
        );
    }
  });
});
