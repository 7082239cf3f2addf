/**
 * The command line as one table: every command's words, positionals, options (node:util
 * parseArgs, strict) and summary, from which `probelab --help` is generated (and the README's
 * usage block checked against it, test/cli-usage.test.ts). A parse error is one line naming the
 * command and its usage; what a value must be is checked by the command itself.
 */
import { parseArgs } from 'node:util';

export interface OptionSpec {
  type: 'string' | 'boolean';
  /** Repeatable (string options): the values in order. */
  multiple?: boolean;
  short?: string;
  /** The value's name in the usage (string options). */
  arg?: string;
  /** Shown without brackets: the command needs it. */
  required?: boolean;
  /** Left out of the command's synopsis (--cold: the usage's closing note explains it). */
  hidden?: boolean;
}

export interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

export interface CommandSpec {
  /** The command's words: ['matrix', 'merge']. */
  words: string[];
  /** Positionals as the usage shows them ('SCENARIO DEVICE', '[MATRIX]', 'DIR...'). */
  args: string;
  /** How many positionals it takes: [min, max]. */
  count: [number, number];
  options: Record<string, OptionSpec>;
  /** The synopsis, where the generated one cannot say it (options that go together). */
  synopsis?: string;
  summary: string[];
  run(p: Parsed): Promise<number> | number;
}

const column = 41;
const width = 100;

/** `probelab matrix FILE [--jobs N] ...`, from the table row. */
export function synopsis(c: CommandSpec): string {
  if (c.synopsis) return c.synopsis;
  const opts = Object.entries(c.options)
    .filter(([, o]) => !o.hidden)
    .map(([name, o]) => {
      const flag = o.short && name.length === 1 ? `-${name}` : `--${name}`;
      const text = o.type === 'string' ? `${flag} ${o.arg ?? 'VALUE'}` : flag;
      const one = o.required ? text : `[${text}]`;
      return o.multiple ? `${one}...` : one;
    });
  return ['probelab', ...c.words, ...(c.args ? [c.args] : []), ...opts].join(' ');
}

/** A synopsis wrapped at the usage's width, an option never split from its value, continuation
 *  lines indented under the command. */
function wrapSynopsis(s: string): string[] {
  const groups: string[] = [];
  let depth = 0;
  for (const word of s.split(' ')) {
    const starts = depth === 0 && (word.startsWith('[') || word.startsWith('-'));
    const afterFlag = depth === 0 && /^-{1,2}[\w-]+$/.test(groups[groups.length - 1] ?? '');
    if (groups.length && !starts && (depth > 0 || afterFlag)) groups[groups.length - 1] += ` ${word}`;
    else groups.push(word);
    depth += (word.match(/\[/g) ?? []).length - (word.match(/\]/g) ?? []).length;
  }
  const lines: string[] = [];
  let line = '';
  for (const g of groups) {
    if (line.trim() && `${line} ${g}`.length > width) {
      lines.push(line);
      line = `         ${g}`;
    } else line = line ? `${line} ${g}` : g;
  }
  lines.push(line);
  return lines;
}

export function renderUsage(table: CommandSpec[], head: string, tail: string): string {
  const out: string[] = [head, '', 'usage:'];
  for (const c of table) {
    const syn = wrapSynopsis(synopsis(c)).map((l) => `  ${l}`);
    const summary = [...c.summary];
    const last = syn[syn.length - 1]!;
    if (syn.length === 1 && summary.length && last.length < column - 1)
      syn[0] = `${last.padEnd(column)}${summary.shift()}`;
    out.push(...syn, ...summary.map((l) => `${' '.repeat(column)}${l}`));
  }
  out.push(`${'  probelab --help'.padEnd(column)}this text`, '', tail);
  return `${out.join('\n').replace(/\s+$/, '')}\n`;
}

/** The command lines of a usage text (what the README's usage block holds), unindented. */
export function commandLines(usageText: string): string {
  const body = usageText.slice(usageText.indexOf('usage:\n') + 'usage:\n'.length);
  return body.slice(0, body.indexOf('\n\n') + 1).replace(/^ {2}/gm, '');
}

export class UsageError extends Error {}

/** The row whose words start argv, longest first (`matrix merge` before `matrix`). */
export function findCommand(table: CommandSpec[], argv: string[]): CommandSpec | undefined {
  return [...table].sort((a, b) => b.words.length - a.words.length).find((c) => c.words.every((w, i) => argv[i] === w));
}

/** argv after the command's words, parsed strictly; UsageError with one line otherwise. */
export function parseCommand(c: CommandSpec, args: string[]): Parsed {
  const name = c.words.join(' ');
  const usage = `(usage: ${synopsis(c)})`;
  // A string option's value may start with '-' (`--timeout -1,0,10`): anything after it that is
  // not one of the command's own flags is its value.
  const flags = new Set(Object.entries(c.options).flatMap(([k, o]) => [`--${k}`, ...(o.short ? [`-${o.short}`] : [])]));
  const isString = (a: string): boolean =>
    Object.entries(c.options).some(([k, o]) => o.type === 'string' && (a === `--${k}` || a === `-${o.short}`));
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const next = args[i + 1];
    if (isString(a) && next !== undefined && next.startsWith('-') && !flags.has(next) && next !== '--') {
      joined.push(a.startsWith('--') ? `${a}=${next}` : `${a}${next}`);
      i++;
    } else joined.push(a);
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: joined,
      options: Object.fromEntries(
        Object.entries(c.options).map(([k, o]) => [
          k,
          {
            type: o.type,
            ...(o.multiple ? { multiple: true } : {}),
            ...(o.short ? { short: o.short } : {}),
          },
        ]),
      ),
      allowPositionals: true,
      strict: true,
    } as Parameters<typeof parseArgs>[0]);
  } catch (e) {
    const err = e as Error & { code?: string };
    const flag = /'(-{1,2}[^' ]+)/.exec(err.message)?.[1] ?? '';
    if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new UsageError(`${name}: unknown option ${flag} ${usage}`);
    if (err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      const opt = Object.entries(c.options).find(([k, o]) => flag === `--${k}` || flag === `-${o.short ?? k}`);
      if (opt && opt[1].type === 'boolean') throw new UsageError(`${name}: ${flag} takes no value ${usage}`);
      // A string option followed by nothing, or by what looks like an option: `--timeout -1,5`
      // is `--timeout=-1,5`.
      throw new UsageError(
        `${name}: ${flag} needs ${opt?.[1].arg ?? 'a value'}${/ambiguous/.test(err.message) ? ` (a value starting with '-' goes as ${flag}=VALUE)` : ''} ${usage}`,
      );
    }
    throw new UsageError(`${name}: ${err.message.split('\n')[0]} ${usage}`);
  }
  const { values, positionals } = parsed as unknown as Parsed;
  const [min, max] = c.count;
  if (positionals.length < min) throw new UsageError(`${name}: missing ${c.args.replace(/[[\]]/g, '')} ${usage}`);
  if (positionals.length > max) throw new UsageError(`${name}: unexpected argument ${positionals[max]} ${usage}`);
  for (const [k, o] of Object.entries(c.options))
    if (o.required && values[k] === undefined)
      throw new UsageError(`${name}: --${k} ${o.arg ?? ''} is required ${usage}`.replace(/  +/g, ' '));
  return { values, positionals };
}
