/**
 * `pinroute serve`: start the gateway and run until SIGTERM/SIGINT, then drain
 * (in-flight requests and streams finish within server.shutdown_grace_ms).
 */
import { ConfigInvalid, formatProblem } from '../config/problems.js';
import { startGateway, type StartOptions } from '../main.js';

export async function runServe(options: StartOptions): Promise<number> {
  let running;
  try {
    running = await startGateway(options);
  } catch (error) {
    if (error instanceof ConfigInvalid) {
      process.stderr.write(`pinroute: refusing to start, ${error.file} is invalid:\n`);
      for (const problem of error.problems.filter((p) => p.severity === 'error')) process.stderr.write(`  ${formatProblem(problem)}\n`);
      return 1;
    }
    process.stderr.write(`pinroute: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
  // A stray rejection is logged, not fatal: one request's bug must not drop every stream in flight.
  process.on('unhandledRejection', (reason) => {
    running.gateway.logger.error({ err: reason instanceof Error ? reason.stack : String(reason) }, 'unhandled promise rejection');
  });
  const reload = () => void running.reload();
  process.on('SIGHUP', reload);
  const stopped = new Promise<number>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      running.gateway.logger.info({ signal }, 'draining');
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      process.off('SIGHUP', reload);
      running.stop().then(
        () => resolve(0),
        () => resolve(1),
      );
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  return stopped;
}
