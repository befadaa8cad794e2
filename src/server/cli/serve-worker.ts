// One worker of `serve --workers N`: a child process the supervisor (serve-supervisor.ts) forked
// from the same program with BUFFEREVENT_SERVE_WORKER set (an internal marker, not a documented
// command). It reads the same command line and config, waits for the session key on the IPC
// channel (never in argv or the environment, where `ps` and /proc would show it), runs the bundled
// server with SO_REUSEPORT on the shared host:port, tells the supervisor it listens, and stops on
// SIGTERM/SIGINT or when the supervisor goes away.
import { startBundledServer } from '../bundled-server.ts';
import type { ServerConfig } from '../config.ts';
import { ServerError } from '../errors.ts';
import { EventLog } from '../event-log.ts';
import { UsersFile } from '../users-file.ts';
import type { CliIO } from './command.ts';
import { catchShutdownSignals } from './run-until-signal.ts';

export const WORKER_ENV = 'BUFFEREVENT_SERVE_WORKER';

/** Messages between the supervisor and a worker. */
export type SupervisorMessage = { readonly type: 'start'; readonly secretKey: string };
export type WorkerMessage = { readonly type: 'listening'; readonly url: string };

export function isServeWorker(): boolean {
  return process.env[WORKER_ENV] === '1' && typeof process.send === 'function';
}

function startMessage(): Promise<SupervisorMessage> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: unknown) => {
      if ((message as Partial<SupervisorMessage> | null)?.type !== 'start') return;
      process.off('message', onMessage);
      process.off('disconnect', onGone);
      resolve(message as SupervisorMessage);
    };
    const onGone = () =>
      reject(new ServerError('the supervisor went away before the start', 'ERR_SERVE_WORKER'));
    process.on('message', onMessage);
    process.once('disconnect', onGone);
  });
}

export async function runServeWorker(io: CliIO, config: ServerConfig): Promise<number> {
  const signals = catchShutdownSignals();
  try {
    return await runWorker(io, config, signals);
  } finally {
    signals.release();
  }
}

async function runWorker(
  io: CliIO,
  config: ServerConfig,
  signals: ReturnType<typeof catchShutdownSignals>,
): Promise<number> {
  const { secretKey } = await startMessage();
  const log = new EventLog(io.stderr, undefined, { worker: process.pid });
  const running = await startBundledServer({
    config,
    secretKey,
    log,
    users: new UsersFile(config.usersFile),
    reusePort: true,
  }).catch((error: unknown) => {
    // Said once, plainly; the supervisor then reports that this worker did not start.
    throw new ServerError(
      `worker ${process.pid} could not start: ${error instanceof Error ? error.message : String(error)}`,
      'ERR_SERVE_WORKER',
    );
  });
  const listening: WorkerMessage = { type: 'listening', url: running.url };
  process.send!(listening);
  const supervisorGone = new Promise<string>((resolve) =>
    process.once('disconnect', () => resolve('supervisor gone')),
  );
  const code = await signals.runUntilSignal(running, log, { stopWhen: supervisorGone });
  process.disconnect?.();
  return code;
}
