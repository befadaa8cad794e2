// `bufferevent serve`: runs the bundled server (login, chat, live log tail) until SIGTERM or SIGINT,
// then closes every WebSocket with 1001 and exits 0. Without --config it is a demo that works out of
// the box: an admin user (password printed once), a demo log being written, 127.0.0.1:8000.
import path from 'node:path';
import { startBundledServer } from '../bundled-server.ts';
import { defaultConfig, loadConfig, type ServerConfig } from '../config.ts';
import { DemoLogWriter, demoLogPath, ensureDemoAdmin, withDemoLog } from '../demo.ts';
import { UsageError } from '../errors.ts';
import { applyOverrides } from '../config-overrides.ts';
import { EventLog } from '../event-log.ts';
import { resolveSecretKey } from '../secret-key.ts';
import { UsersFile } from '../users-file.ts';
import type { Command, CommandContext } from './command.ts';
import { catchShutdownSignals } from './run-until-signal.ts';
import { superviseWorkers } from './serve-supervisor.ts';
import { isServeWorker, runServeWorker } from './serve-worker.ts';

async function configOf(context: CommandContext): Promise<ServerConfig> {
  const { options, io } = context;
  const file = options.config;
  const config =
    typeof file === 'string' ? await loadConfig(path.resolve(io.cwd, file)) : defaultConfig(io.cwd);
  const overridden = applyOverrides(config, {
    ...(typeof options.host === 'string' ? { host: options.host } : {}),
    ...(typeof options.port === 'string' ? { port: options.port } : {}),
    ...(typeof options.workers === 'string' ? { workers: options.workers } : {}),
  });
  if (overridden.workers > 1 && overridden.port === 0) {
    throw new UsageError(
      `port 0 with ${overridden.workers} workers: each worker would listen on a different free port; give a fixed --port`,
    );
  }
  return overridden;
}

export const serveCommand: Command = {
  name: 'serve',
  summary: 'Run the chat and live log server',
  description:
    'Serves the login page, chat rooms (/chat/) and the live log tail (/tail/) on one port. Without ' +
    '--config it starts a demo on 127.0.0.1:8000: an "admin" user whose generated password is printed ' +
    'once (when the users file is created), and a demo log file written to every second. SIGTERM or ' +
    'SIGINT stops accepting, closes every WebSocket with 1001 and exits 0. With --workers N (and "redis" ' +
    'in the config) N processes share the port; chat rooms, sessions and login throttling are shared ' +
    'through Redis.',
  arguments: [],
  options: [
    { name: 'config', value: 'PATH', description: 'The config file (JSON; see docs/server-config.md).' },
    {
      name: 'host',
      value: 'ADDRESS',
      description: 'Listen on this address instead of the config\'s "host".',
    },
    {
      name: 'port',
      value: 'PORT',
      description: 'Listen on this port instead of the config\'s "port" (0: any free port).',
    },
    {
      name: 'workers',
      value: 'N',
      description: 'Processes sharing the port (above 1 needs "redis" in the config and a fixed port).',
    },
  ],
  async run(context) {
    const { io } = context;
    let config = await configOf(context);
    if (isServeWorker()) return await runServeWorker(io, config);
    if (config.workers > 1) return await superviseWorkers(io, config);
    const log = new EventLog(io.stderr);
    const signals = catchShutdownSignals();
    let demoLog: DemoLogWriter | undefined;
    try {
      const users = new UsersFile(config.usersFile);
      if (config.configFile === null) {
        demoLog = new DemoLogWriter(demoLogPath());
        config = withDemoLog(config, demoLog.path);
      }
      const password = await ensureDemoAdmin(users);
      const secret = await resolveSecretKey(config);
      const running = await startBundledServer({ config, secretKey: secret.key, log, users });
      io.stdout.write(
        `bufferevent serve: listening on ${running.url}/ (chat: ${running.url}/chat/, logs: ${running.url}/tail/)\n`,
      );
      if (password !== null) {
        io.stdout.write(
          `Created user "admin" in ${users.path}; its password (shown once, stored only as a hash): ${password}\n`,
        );
      }
      if (demoLog !== undefined) io.stdout.write(`Demo log being written: ${demoLog.path}\n`);
      return await signals.runUntilSignal(running, log);
    } finally {
      demoLog?.stop();
      signals.release();
    }
  },
};
