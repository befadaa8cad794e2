// What `bufferevent serve` does without a config file, so the first run shows a working server:
// an `admin` user with a generated password (printed once, when the users file is created), and a
// demo log file that is written to every second, so the tail page shows life.
import { mkdirSync, openSync, writeSync, closeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LogFileConfig, ServerConfig } from './config.ts';
import { UsersFile } from './users-file.ts';
import { generatePassword } from './cli/password-input.ts';

/** Creates the admin user when the users file has no users; returns its password (else null). */
export async function ensureDemoAdmin(users: UsersFile): Promise<string | null> {
  if ((await users.list()).length > 0) return null;
  const password = generatePassword();
  await users.add('admin', password, { admin: true });
  return password;
}

const LEVELS = [
  ['\u001b[32mINFO\u001b[0m ', 'request served'],
  ['\u001b[32mINFO\u001b[0m ', 'user signed in'],
  ['\u001b[33mWARN\u001b[0m ', 'slow query'],
  ['\u001b[31mERROR\u001b[0m', 'upstream timed out'],
  ['\u001b[36mDEBUG\u001b[0m', 'cache refreshed'],
] as const;

/** Appends a line to a demo log file every `intervalMs` until stopped. */
export class DemoLogWriter {
  readonly path: string;
  readonly #timer: NodeJS.Timeout;
  #fd: number;
  #count = 0;

  constructor(file: string, intervalMs = 1000) {
    this.path = file;
    mkdirSync(path.dirname(file), { recursive: true });
    this.#fd = openSync(file, 'a');
    this.#write();
    this.#timer = setInterval(() => this.#write(), intervalMs);
    this.#timer.unref();
  }

  #write(): void {
    const [level, what] = LEVELS[this.#count % LEVELS.length]!;
    this.#count++;
    const line = `${new Date().toISOString()} ${level} demo[${process.pid}]: ${what} (#${this.#count})\n`;
    try {
      writeSync(this.#fd, line);
    } catch {
      // The file was removed from under us (e.g. tmp cleaning): the tail shows it waiting.
    }
  }

  stop(): void {
    clearInterval(this.#timer);
    if (this.#fd >= 0) closeSync(this.#fd);
    this.#fd = -1;
  }
}

/** The demo log's place: one per user, under the system's temporary directory. */
export function demoLogPath(): string {
  return path.join(os.tmpdir(), `bufferevent-demo-${os.userInfo().uid}`, 'demo.log');
}

/** The config with the demo log as its only log file. */
export function withDemoLog(config: ServerConfig, file: string): ServerConfig {
  const demo: LogFileConfig = {
    id: 'demo',
    path: file,
    title: 'Demo log (written every second)',
    users: null,
  };
  return { ...config, logs: { demo } };
}
