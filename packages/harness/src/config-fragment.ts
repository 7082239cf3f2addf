/**
 * Config fragments (qemu/configs/*.config, a board's fragment): the lines a fragment sets, and
 * the check that every one survived Kconfig (scripts/kconfig: a dependency can silently drop a
 * line of KCONFIG_ALLCONFIG).
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { HarnessError } from './errors.js';

export function fragmentLines(fragment: string): string[] {
  return readFileSync(fragment, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^CONFIG_\w+=/.test(l) || /^# CONFIG_\w+ is not set$/.test(l));
}

/** Every line of the fragment must survive Kconfig (a dependency can silently drop it). */
export function checkFragment(configText: string, fragment: string): void {
  const config = configText.split('\n');
  const dropped = fragmentLines(fragment).filter((l) => !config.includes(l));
  if (!dropped.length) return;
  const why = dropped.map(
    (l) =>
      `${l} (got: ${config.find((c) => c.startsWith(l.split('=')[0]! + '=') || c === `# ${l.split('=')[0]} is not set`) ?? 'absent'})`,
  );
  throw new HarnessError(`Kconfig dropped ${dropped.length} option(s) of ${basename(fragment)}: ${why.join(', ')}`);
}
