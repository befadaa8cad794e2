// Runs a started bundled server until SIGTERM or SIGINT, then closes it (every WebSocket gets 1001)
// and resolves with the exit code. Used by a single `serve` process and by each worker of
// `serve --workers N`.
//
// The handlers are installed before the server starts (catchShutdownSignals): a signal that arrives
// while it starts, or just after "listening" was printed, is remembered and stops the server as
// soon as it runs, instead of killing the process with the default action.
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

export interface ShutdownSignals {
  /** Runs `running` until a signal (one caught already stops it at once); resolves with the exit code. */
  runUntilSignal(running: BundledServer, log: EventLog, options?: RunUntilSignalOptions): Promise<number>;
  /** Removes the handlers (after the run, or when the start failed). */
  release(): void;
}

export function catchShutdownSignals(): ShutdownSignals {
  let early: string | undefined;
  let onSignal: (signal: string) => void = (signal) => (early ??= signal);
  const handler = (signal: NodeJS.Signals) => onSignal(signal);
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
  return {
    release() {
      process.off('SIGTERM', handler);
      process.off('SIGINT', handler);
    },
    runUntilSignal(running, log, options = {}) {
      return new Promise<number>((resolve) => {
        let stopping = false;
        const stop = (signal: string) => {
          // A second signal (Ctrl-C reaches a worker and its supervisor forwards SIGTERM too) must
          // not kill the process with the default action while it closes: the handlers stay.
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
        onSignal = stop;
        void options.stopWhen?.then(stop);
        if (early !== undefined) stop(early);
      });
    },
  };
}
