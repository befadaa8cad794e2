// `serve --workers N`: this process becomes a supervisor that serves nothing itself. It forks N
// workers of the same program (serve-worker.ts), hands each the session key over the IPC channel,
// prints the URL once all listen on the shared port (SO_REUSEPORT: the kernel spreads connections),
// restarts a worker that dies unexpectedly (with a back-off, logged as `worker.exited` /
// `worker.restarted`), and on SIGTERM/SIGINT forwards SIGTERM to every worker, kills the ones still
// running after a bound, and exits 0 once all are gone (1 if one had to be killed). It never
// restarts a worker during shutdown. Shared state (groups, sessions, rooms, login throttling) is in
// Redis; the supervisor itself does not talk to it.
import { fork, type ChildProcess } from 'node:child_process';
import type { ServerConfig } from '../config.ts';
import { ServerError } from '../errors.ts';
import { EventLog } from '../event-log.ts';
import { resolveSecretKey } from '../secret-key.ts';
import { EXIT, type CliIO } from './command.ts';
import { SHUTDOWN_LIMIT_MS } from './run-until-signal.ts';
import { WORKER_ENV, type SupervisorMessage, type WorkerMessage } from './serve-worker.ts';

/** Workers still running this long after SIGTERM are killed (their own limit is SHUTDOWN_LIMIT_MS). */
const KILL_AFTER_MS = SHUTDOWN_LIMIT_MS + 2_000;
/** Restart back-off: doubles from the first delay up to the last; reset after a worker ran a minute. */
const FIRST_RESTART_DELAY_MS = 500;
const MAX_RESTART_DELAY_MS = 30_000;
const STABLE_AFTER_MS = 60_000;
/** A worker that does not listen within this long at start counts as failed. */
const START_LIMIT_MS = 30_000;

interface Slot {
  readonly index: number;
  child: ChildProcess | undefined;
  startedAt: number;
  restartDelayMs: number;
  restartTimer: NodeJS.Timeout | undefined;
}

export async function superviseWorkers(io: CliIO, config: ServerConfig): Promise<number> {
  const log = new EventLog(io.stderr, undefined, { supervisor: process.pid });
  // One key for all workers, so a session cookie signed by one is valid on every other.
  const { key: secretKey } = await resolveSecretKey(config);
  const slots: Slot[] = Array.from({ length: config.workers }, (_, index) => ({
    index,
    child: undefined,
    startedAt: 0,
    restartDelayMs: FIRST_RESTART_DELAY_MS,
    restartTimer: undefined,
  }));
  let shuttingDown = false;
  /** Until every worker listened once: a worker exiting then fails the start, it is not restarted. */
  let startingUp = true;
  let onAllExited: (() => void) | undefined;
  const running = () => slots.filter((slot) => slot.child !== undefined).length;

  /** Starts the slot's worker; resolves with its URL once it listens, rejects if it exits first. */
  const launch = (slot: Slot): Promise<string> => {
    const child = fork(process.argv[1]!, process.argv.slice(2), {
      env: { ...process.env, [WORKER_ENV]: '1' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    slot.child = child;
    slot.startedAt = Date.now();
    const start: SupervisorMessage = { type: 'start', secretKey };
    child.send(start);
    const listening = new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(
          new ServerError(
            `worker ${child.pid} did not listen within ${START_LIMIT_MS} ms`,
            'ERR_SERVE_WORKER',
          ),
        );
      }, START_LIMIT_MS);
      child.on('message', (message: unknown) => {
        if ((message as Partial<WorkerMessage> | null)?.type !== 'listening') return;
        clearTimeout(timer);
        resolve((message as WorkerMessage).url);
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(
          new ServerError(
            `worker ${child.pid} exited before listening (${signal ?? `exit code ${code}`}); its messages are above`,
            'ERR_SERVE_WORKER',
          ),
        );
      });
    });
    child.once('exit', (code, signal) => exited(slot, child, code, signal));
    return listening;
  };

  const exited = (slot: Slot, child: ChildProcess, code: number | null, signal: string | null) => {
    if (slot.child !== child) return;
    slot.child = undefined;
    if (startingUp) return;
    if (shuttingDown) {
      log.event('worker.stopped', { pid: child.pid, code, signal });
      if (running() === 0) onAllExited?.();
      return;
    }
    if (Date.now() - slot.startedAt > STABLE_AFTER_MS) slot.restartDelayMs = FIRST_RESTART_DELAY_MS;
    const delayMs = slot.restartDelayMs;
    slot.restartDelayMs = Math.min(delayMs * 2, MAX_RESTART_DELAY_MS);
    log.event('worker.exited', { pid: child.pid, code, signal, restartInMs: delayMs }, 'error');
    slot.restartTimer = setTimeout(() => {
      slot.restartTimer = undefined;
      if (shuttingDown) return;
      launch(slot).then(
        () => log.event('worker.restarted', { pid: slot.child?.pid, replaced: child.pid }),
        (error: unknown) => log.event('worker.restart_failed', { error }, 'error'),
      );
    }, delayMs);
  };

  const stopAll = (signal: NodeJS.Signals): Promise<void> => {
    shuttingDown = true;
    startingUp = false;
    for (const slot of slots) clearTimeout(slot.restartTimer);
    for (const slot of slots) slot.child?.kill(signal);
    return new Promise<void>((resolve) => {
      onAllExited = resolve;
      if (running() === 0) resolve();
    });
  };

  const signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];
  const stopped = new Promise<NodeJS.Signals>((resolve) => {
    for (const signal of signals) process.on(signal, () => resolve(signal));
  });

  let url = '';
  try {
    url = (await Promise.all(slots.map(launch)))[0]!;
    startingUp = false;
  } catch (error) {
    await stopAll('SIGKILL');
    throw error;
  }
  io.stdout.write(
    `bufferevent serve: ${config.workers} workers listening on ${url}/ (chat: ${url}/chat/, logs: ${url}/tail/)\n`,
  );
  log.event('supervisor.started', { workers: slots.map((slot) => slot.child?.pid), url: url });

  const signal = await stopped;
  log.event('server.signal', { signal });
  let killed = false;
  const force = setTimeout(() => {
    killed = true;
    log.event('supervisor.kill', { pids: slots.map((slot) => slot.child?.pid) }, 'warn');
    for (const slot of slots) slot.child?.kill('SIGKILL');
  }, KILL_AFTER_MS);
  // A worker that is being started (after a crash) has no server to close yet: SIGTERM ends it too.
  await stopAll('SIGTERM');
  clearTimeout(force);
  log.event('server.stopped', {});
  return killed ? EXIT.failure : EXIT.ok;
}
