/** Result files are written whole or not at all: write a temporary file, then rename. */
import { renameSync, writeFileSync } from 'node:fs';

export function writeAtomic(path: string, data: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}
