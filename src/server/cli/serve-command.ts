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
import { EXIT, type Command, type CommandContext } from './command.ts';

/** How long a shutdown may take before the process exits anyway. */
const SHUTDOWN_LIMIT_MS = 8_000;

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
  if (overridden.workers > 1) {
    throw new UsageError(
      `${overridden.workers} workers: several processes sharing the port (with Redis) are not implemented yet; run one worker`,
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
    'SIGINT stops accepting, closes every WebSocket with 1001 and exits 0.',
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
    { name: 'workers', value: 'N', description: 'Processes sharing the port (above 1 needs Redis).' },
  ],
  async run(context) {
    const { io } = context;
    let config = await configOf(context);
    const log = new EventLog(io.stderr);
    // Signals are caught from the start: one that arrives while the server is still starting (or
    // between "listening" being printed and anything else) stops it as soon as it runs.
    let signalled: NodeJS.Signals | undefined;
    let onSignal: (signal: NodeJS.Signals) => void = (signal) => (signalled ??= signal);
    const handler = (signal: NodeJS.Signals) => onSignal(signal);
    process.on('SIGTERM', handler);
    process.on('SIGINT', handler);
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
      const stopped = new Promise<number>((resolve) => {
        onSignal = (signal) => {
          onSignal = () => {}; // a second signal during shutdown changes nothing
          log.event('server.signal', { signal });
          const force = setTimeout(() => {
            log.event('server.shutdown_timeout', { limitMs: SHUTDOWN_LIMIT_MS }, 'warn');
            process.exit(EXIT.failure);
          }, SHUTDOWN_LIMIT_MS);
          force.unref();
          void running.close().then(() => {
            clearTimeout(force);
            // Exits now if nothing else holds the loop; if something does, this still ends it.
            setTimeout(() => process.exit(EXIT.ok), 2_000).unref();
            resolve(EXIT.ok);
          });
        };
      });
      io.stdout.write(
        `bufferevent serve: listening on ${running.url}/ (chat: ${running.url}/chat/, logs: ${running.url}/tail/)\n`,
      );
      if (password !== null) {
        io.stdout.write(
          `Created user "admin" in ${users.path}; its password (shown once, stored only as a hash): ${password}\n`,
        );
      }
      if (demoLog !== undefined) io.stdout.write(`Demo log being written: ${demoLog.path}\n`);
      if (signalled !== undefined) onSignal(signalled);
      return await stopped;
    } finally {
      demoLog?.stop();
      process.off('SIGTERM', handler);
      process.off('SIGINT', handler);
    }
  },
};
