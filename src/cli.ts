/**
 * `pinroute serve | check | verify | status`: argument parsing, then a call into
 * the modules that do the work. Exit codes: 0 ok, 1 a problem was found (invalid
 * config, mismatched pin, unreachable gateway), 2 bad usage. Each command's
 * module is loaded only when it runs, so `serve` starts without the others.
 */
import { parseArgs } from 'node:util';
import { packageVersion } from './version.js';

const USAGE = `pinroute ${packageVersion()} — OpenAI-compatible gateway with pinned, verified model revisions

Usage:
  pinroute serve  [--config FILE] [--port N] [--host H]   run the gateway
  pinroute check  [--config FILE]                          validate the config (exit 1 on errors)
  pinroute verify [--config FILE] [--json]                 probe every target now: pin vs observed revision
  pinroute status [--url URL] [--json]                     show a running gateway's /admin/status

Environment: PINROUTE_CONFIG (default routes.config.yaml), PORT, HOST, REDIS_URL, LOG_LEVEL,
PINROUTE_ADMIN_KEY (sent by \`status\`), plus any \${VAR} the config uses.`;

export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return command === undefined ? 2 : 0;
  }
  if (command === '--version' || command === '-v') {
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  let parsed: ReturnType<typeof parseOptions>;
  try {
    parsed = parseOptions(rest);
  } catch (error) {
    process.stderr.write(`pinroute ${command}: ${error instanceof Error ? error.message : String(error)}\n\n${USAGE}\n`);
    return 2;
  }
  const env = process.env;
  const configFile = parsed.config ?? env['PINROUTE_CONFIG'] ?? 'routes.config.yaml';
  switch (command) {
    case 'serve': {
      const port = parsed.port === undefined ? undefined : Number(parsed.port);
      if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65_535)) {
        process.stderr.write(`pinroute serve: --port must be an integer 0-65535, got "${parsed.port}"\n`);
        return 2;
      }
      const { runServe } = await import('./commands/serve.js');
      return runServe({ configFile, env, ...(port === undefined ? {} : { port }), ...(parsed.host ? { host: parsed.host } : {}) });
    }
    case 'check': {
      const { runCheck } = await import('./commands/check.js');
      return runCheck(configFile, env);
    }
    case 'verify': {
      const { runVerify } = await import('./commands/verify.js');
      return runVerify(configFile, env, parsed.json ?? false);
    }
    case 'status': {
      const { runStatus } = await import('./commands/status.js');
      return runStatus(parsed.url ?? env['PINROUTE_URL'] ?? 'http://127.0.0.1:8080', env, parsed.json ?? false);
    }
    default:
      process.stderr.write(`pinroute: unknown command "${command}"\n\n${USAGE}\n`);
      return 2;
  }
}

function parseOptions(args: readonly string[]) {
  return parseArgs({
    args: [...args],
    options: {
      config: { type: 'string', short: 'c' },
      port: { type: 'string', short: 'p' },
      host: { type: 'string' },
      url: { type: 'string' },
      json: { type: 'boolean' },
    },
    strict: true,
    allowPositionals: false,
  }).values;
}
