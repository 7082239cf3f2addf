// The command line is one table (cli.ts, cli-table.ts): the usage is generated from it, the
// README's usage block is that usage, and parse errors are one line naming the command.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commands, usage } from '../dist/cli.js';
import { commandLines, findCommand, parseCommand, synopsis, UsageError } from '../dist/cli-table.js';
import { root, runCli } from './cli.js';

const parse = (argv: string[]) => {
  const c = findCommand(commands, argv);
  if (!c) throw new Error(`no command for ${argv.join(' ')}`);
  return parseCommand(c, argv.slice(c.words.length));
};
const usageError = (argv: string[]): string => {
  try {
    parse(argv);
  } catch (e) {
    if (e instanceof UsageError) return e.message;
    throw e;
  }
  throw new Error(`${argv.join(' ')} parsed`);
};

describe('the command table', () => {
  it("the README's usage block is the generated usage", () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const start = readme.indexOf('## Usage\n\n```\n') + '## Usage\n\n```\n'.length;
    const block = readme.slice(start, readme.indexOf('```\n', start));
    expect(block).toBe(commandLines(usage));
    // Every command of the table is in it, by its synopsis.
    for (const c of commands) expect(block.replace(/\n {9}/g, ' ')).toContain(synopsis(c));
  });

  it('`probelab --help` prints it; no command is a usage error (exit 2)', async () => {
    const h = await runCli(['--help']);
    expect(h.code).toBe(0);
    expect(h.stdout).toBe(usage);
    const none = await runCli([]);
    expect(none.code).toBe(2);
  });

  it('longest words first: `matrix merge` is not `matrix` with a FILE called merge', () => {
    expect(findCommand(commands, ['matrix', 'merge', 'a', '--out', 'b'])!.words).toEqual(['matrix', 'merge']);
    expect(findCommand(commands, ['matrix', 'ci/smoke.yaml'])!.words).toEqual(['matrix']);
    expect(findCommand(commands, ['frobnicate'])).toBeUndefined();
  });

  it('values: repeated options in order, a value that starts with a dash, short options', () => {
    const s = parse(['survey', '--patch', 'a.patch', '--patch', 'b.patch', '--jobs', '2']);
    expect(s.values.patch).toEqual(['a.patch', 'b.patch']);
    expect(s.values.jobs).toBe('2');
    const w = parse(['sweep', 'x.yaml', '--timeout', '-1,0,10', '--load', 'm@5']);
    expect(w.values.timeout).toBe('-1,0,10');
    const d = parse(['dt', 'compile', 'a.dts', '-I', 'inc1', '-I', 'inc2', '-o', 'a.dtb']);
    expect(d.values.include).toEqual(['inc1', 'inc2']);
    expect(d.values.o).toBe('a.dtb');
    expect(parse(['calibrate']).positionals).toEqual([]);
    expect(parse(['matrix', 'merge', 's1', 's2', '--out', 'm']).positionals).toEqual(['s1', 's2']);
  });

  it('errors: one line, the command, what was wrong and its usage', () => {
    expect(usageError(['predict', 'x.yaml', '--require-translation'])).toBe(
      'predict: unknown option --require-translation (usage: probelab predict SCENARIO [--json])',
    );
    expect(usageError(['explain', 'x.yaml'])).toMatch(/^explain: missing SCENARIO DEVICE \(usage: /);
    expect(usageError(['boot', 'a.yaml', 'b.yaml'])).toMatch(/^boot: unexpected argument b\.yaml /);
    expect(usageError(['matrix', 'ci/smoke.yaml', '--jobs'])).toMatch(/^matrix: --jobs needs N /);
    expect(usageError(['matrix', 'merge', 's1'])).toMatch(/^matrix merge: --out DIR is required /);
    expect(usageError(['sweep', 'x.yaml', '--load', 'm@5'])).toMatch(/^sweep: --timeout LIST is required /);
    expect(usageError(['predict', 'x.yaml', '--json=yes'])).toMatch(/^predict: --json takes no value /);
    expect(usageError(['matrix', 'f.yaml', '--out', '--jobs', '2'])).toMatch(/^matrix: --out needs DIR /);
    for (const m of [usageError(['predict', 'x.yaml', '--require-translation']), usageError(['lava', 'job', 'x.yaml'])])
      expect(m.split('\n')).toHaveLength(1);
  });

  it('the CLI prints them as `probelab: ...`, exit 2; an unknown command names --help', async () => {
    const r = await runCli(['matrix', 'ci/smoke.yaml', '--frob']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `probelab: matrix: unknown option --frob (usage: ${synopsis(commands.find((c) => c.words.join(' ') === 'matrix')!)})\n`,
    );
    const u = await runCli(['frobnicate']);
    expect(u.stderr).toBe('probelab: unknown command frobnicate (probelab --help lists the commands)\n');
    const b = await runCli(['board']);
    expect(b.stderr).toBe('probelab: board: expected one of `board dump`, `board transplant`\n');
  });
});
