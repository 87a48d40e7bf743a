// Builds dist/cli.js: the CLI and gateway as one ES module bundle. One file
// instead of a few hundred modules roughly halves the time from `pinroute serve`
// to the first answer (module resolution and loading dominate start-up).
// Types are checked separately (`npm run typecheck`); esbuild only strips them.
import { build } from 'esbuild';
import { rm } from 'node:fs/promises';

await rm(new URL('../dist/', import.meta.url), { recursive: true, force: true });
await build({
  entryPoints: ['src/cli.ts'],
  outfile: 'dist/cli.js',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20.18',
  sourcemap: true,
  legalComments: 'linked',
  logLevel: 'warning',
  // CommonJS dependencies call require(); give the ES module bundle one.
  banner: { js: "import { createRequire as __pinrouteCreateRequire } from 'node:module'; const require = __pinrouteCreateRequire(import.meta.url);" },
});
