/** The package version, read once from package.json (one level above src/ and dist/). */
import { readFileSync } from 'node:fs';

let cached: string | null = null;

export function packageVersion(): string {
  if (cached === null) {
    const packageJson: unknown = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    const version = typeof packageJson === 'object' && packageJson !== null && 'version' in packageJson ? packageJson.version : undefined;
    cached = typeof version === 'string' ? version : '0.0.0';
  }
  return cached;
}
