#!/usr/bin/env node
// Entry point of `npx pinroute`: runs the compiled CLI (built by `npm ci` via the prepare script).
import { existsSync } from 'node:fs';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write('pinroute: dist/ is missing; run `npm ci` (or `npm run build`) first\n');
  process.exit(1);
}
const { main } = await import(cli.href);
const code = await main(process.argv.slice(2));
process.exitCode = code;
