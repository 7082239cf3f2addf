/** Options several commands of the table share, and typed reads of parsed values (cli-table.ts). */
import type { OptionSpec } from './cli-table.js';

type V = Record<string, string | boolean | string[] | undefined>;
export const str = (v: V, k: string): string | undefined => v[k] as string | undefined;
export const strs = (v: V, k: string): string[] | undefined => v[k] as string[] | undefined;
export const flag = (v: V, k: string): boolean => v[k] === true;
export const json: Record<string, OptionSpec> = { json: { type: 'boolean' } };
export const cold: Record<string, OptionSpec> = { cold: { type: 'boolean', hidden: true } };
export const policy: Record<string, OptionSpec> = { 'require-translation': { type: 'boolean' } };
