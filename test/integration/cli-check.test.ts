/** `pinroute check` as a user runs it: path + line:column per problem, exit 1 on any error. */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { writeConfig } from '../support/start-gateway.js';

const fixturePath = (name: string) => fileURLToPath(new URL(`../fixtures/configs/${name}`, import.meta.url));

describe('pinroute check', () => {
  it('accepts the shipped config with no environment, with warnings', async () => {
    const result = await runCli(['check', '--config', fileURLToPath(new URL('../../routes.config.yaml', import.meta.url))]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/ok — 2 route\(s\), 3 backend\(s\), 3 target\(s\)/);
    expect(result.stderr).toMatch(/^warning: backends\.hosted\.api_key \(line \d+:\d+\): api_key is empty/m);
  });

  it('exits 1 and names path and line:column for a floating revision', async () => {
    const result = await runCli(['check', '--config', fixturePath('invalid/floating-revisions.yaml')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'error: routes.llama-3.1-8b[1].revision (line 19:17): floating revision "latest" can move; pin a commit sha, digest or dated snapshot',
    );
  });

  it('treats an unset required ${VAR} as an error, and a set one as fine', async () => {
    const file = fixturePath('invalid/unset-environment.yaml');
    expect((await runCli(['check', '--config', file])).code).toBe(1);
    const set = await runCli(['check', '--config', file], {
      PINROUTE_TEST_UNSET_CLIENT_KEY: 'k',
      PINROUTE_TEST_UNSET_OPENAI_KEY: 'sk-test',
    });
    expect(set.code).toBe(0);
  });

  it('reads PINROUTE_CONFIG when --config is absent, and reports a missing file', async () => {
    const file = await writeConfig('backends: {}\nroutes: {}\n');
    expect((await runCli(['check'], { PINROUTE_CONFIG: file })).code).toBe(0);
    const missing = await runCli(['check', '--config', '/nonexistent/routes.config.yaml']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cannot read/);
  });

  it('refuses to serve an invalid config, naming the problem', async () => {
    const result = await runCli(['serve', '--config', fixturePath('invalid/cross-references.yaml'), '--port', '0']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/refusing to start/);
    expect(result.stderr).toMatch(/routes\.llama\[2\]\.backend \(line 16:16\): unknown backend "nowhere"/);
  });

  it('explains usage on a bad flag (exit 2)', async () => {
    const result = await runCli(['check', '--bogus']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/Usage:/);
  });
});
