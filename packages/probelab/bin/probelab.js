#!/usr/bin/env node
import { main } from '../dist/cli.js';
// Exit only once stdout and stderr are written out: under npx the pipe can be non-blocking
// (npm set O_NONBLOCK on the shared file description), and process.exit() would drop what is
// still queued (a --json result cut at 64 KiB).
const flushed = (stream) => new Promise((resolve) => stream.write('', resolve));
main(process.argv.slice(2)).then(async (code) => {
  await flushed(process.stdout);
  await flushed(process.stderr);
  process.exit(code);
});
