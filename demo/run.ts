/**
 * `npm run demo`: two local demo backends behind the gateway. Requests go to the
 * primary; then the primary is stopped mid-way and the same requests fail over
 * to the secondary, which is pinned to another revision. The table shows, for
 * each request, who served it and what was attempted on the way.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { stringify } from 'yaml';
import { startGateway } from '../src/main.js';
import { createLogger } from '../src/observe/logger.js';
import { FakeUpstream } from '../test/support/fake-upstream.js';

const PRIMARY_MODEL = 'llama-3.1-8b@0e9e39f249a16976918f6564b8830bc894c89659';
const SECONDARY_MODEL = 'llama3.1:8b-instruct-q8_0';

interface Row {
  readonly step: string;
  readonly status: string;
  readonly backend: string;
  readonly model: string;
  readonly revision: string;
  readonly attempts: string;
}

async function main(): Promise<void> {
  const primary = await FakeUpstream.start({ servedModel: PRIMARY_MODEL });
  const secondary = await FakeUpstream.start();
  const folder = await mkdtemp(join(tmpdir(), 'pinroute-demo-'));
  const configFile = join(folder, 'routes.config.yaml');
  await writeFile(
    configFile,
    stringify({
      server: { host: '127.0.0.1', port: 0 },
      defaults: {
        timeouts: { connect_ms: 500, first_byte_ms: 2000, idle_ms: 2000, total_ms: 5000 },
        breaker: { error_threshold_pct: 30, min_requests: 4, window_ms: 10_000, reset_ms: 30_000 },
      },
      backends: {
        mirror: { type: 'vllm', base_url: primary.url },
        local: { type: 'openai-compatible', base_url: secondary.url },
      },
      routes: {
        'llama-3.1-8b': [
          { backend: 'mirror', model: PRIMARY_MODEL, revision: '0e9e39f249a16976918f6564b8830bc894c89659' },
          { backend: 'local', model: SECONDARY_MODEL, revision: 'sha256:46e0c10c039e019119339687c3c1757cc81b9da49709a3b3924863ba87ca666e' },
        ],
      },
    }),
  );
  const gateway = await startGateway({ configFile, env: {}, logger: createLogger({ level: 'silent' }) });
  const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'demo', maxRetries: 0 });
  process.stdout.write(`pinroute demo: gateway on ${gateway.url}, primary "mirror" on ${primary.url}, secondary "local" on ${secondary.url}\n\n`);

  const rows: Row[] = [];
  const ask = async (step: string, stream: boolean) => rows.push(await request(client, step, stream));
  await ask('1  primary up', false);
  await ask('2  primary up (stream)', true);
  await ask('3  primary up', false);
  process.stdout.write('... stopping the primary backend\n\n');
  await primary.close();
  await ask('4  primary down', false);
  await ask('5  primary down (stream)', true);
  await ask('6  breaker open', false);
  await ask('7  breaker open (stream)', true);

  printTable(rows);
  process.stdout.write(
    '\nRead it like this: x-served-by-* say which backend, model and revision answered; x-pinroute-attempts lists\n' +
      'every target tried on the way (connect_error: nothing listening; breaker_open: skipped without a request).\n',
  );
  await gateway.stop(1000);
  await secondary.close();
}

async function request(client: OpenAI, step: string, stream: boolean): Promise<Row> {
  const messages = [{ role: 'user' as const, content: 'Say hello' }];
  try {
    const { response } = stream
      ? await client.chat.completions.create({ model: 'llama-3.1-8b', messages, stream: true }).withResponse()
      : await client.chat.completions.create({ model: 'llama-3.1-8b', messages }).withResponse();
    const header = (name: string) => response.headers.get(name) ?? '-';
    return {
      step,
      status: String(response.status),
      backend: header('x-served-by-backend'),
      model: header('x-served-by-model'),
      revision: `${header('x-served-by-revision').slice(0, 19)} (${header('x-served-by-revision-status')})`,
      attempts: header('x-pinroute-attempts'),
    };
  } catch (error) {
    return { step, status: error instanceof OpenAI.APIError ? String(error.status) : 'error', backend: '-', model: '-', revision: '-', attempts: String(error) };
  }
}

function printTable(rows: readonly Row[]): void {
  const header: Row = { step: 'request', status: 'status', backend: 'served by', model: 'model', revision: 'revision', attempts: 'attempts' };
  const columns = Object.keys(header) as (keyof Row)[];
  const widths = columns.map((column) => Math.max(...[header, ...rows].map((row) => row[column].length)));
  const line = (row: Row) => columns.map((column, index) => row[column].padEnd(widths[index] ?? 0)).join('  ');
  process.stdout.write(`${line(header)}\n${widths.map((width) => '-'.repeat(width)).join('  ')}\n`);
  for (const row of rows) process.stdout.write(`${line(row)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`demo failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
