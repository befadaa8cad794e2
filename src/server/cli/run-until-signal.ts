// Runs a started bundled server until SIGTERM or SIGINT, then closes it (every WebSocket gets 1001)
// and resolves with the exit code. Used by a single `serve` process and by each worker of
// `serve --workers N`.
import type { BundledServer } from '../bundled-server.ts';
import type { EventLog } from '../event-log.ts';
import { EXIT } from './command.ts';

/** How long a shutdown may take before the process exits anyway. */
export const SHUTDOWN_LIMIT_MS = 8_000;

export interface RunUntilSignalOptions {
  /** Runs after the server closed (stop the demo log writer, …). */
  readonly afterClose?: () => void;
  /** Also stops when this resolves (a worker whose supervisor went away). */
  readonly stopWhen?: Promise<string>;
}

export function runUntilSignal(
  running: BundledServer,
  log: EventLog,
  options: RunUntilSignalOptions = {},
): Promise<number> {
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      // A second signal (Ctrl-C reaches a worker and its supervisor forwards SIGTERM too) must not
      // kill the process with the default action while it closes: the handlers stay installed.
      if (stopping) return;
      stopping = true;
      log.event('server.signal', { signal });
      const force = setTimeout(() => {
        log.event('server.shutdown_timeout', { limitMs: SHUTDOWN_LIMIT_MS }, 'warn');
        process.exit(EXIT.failure);
      }, SHUTDOWN_LIMIT_MS);
      force.unref();
      void running.close().then(() => {
        options.afterClose?.();
        clearTimeout(force);
        // Exits now if nothing else holds the loop; if something does, this still ends it.
        setTimeout(() => process.exit(EXIT.ok), 2_000).unref();
        resolve(EXIT.ok);
      });
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    void options.stopWhen?.then(stop);
  });
}
