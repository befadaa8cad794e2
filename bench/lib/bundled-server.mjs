// The bundled server (`bufferevent serve`) for the through-the-server benchmarks: a throwaway
// directory with a users file and a config file, the server started from it (pinned to the server
// CPU), and the browser's login flow (GET /login for the session cookie and CSRF token, POST /login
// for the logged-in cookie), timed to give logins per second.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import { SERVER_CPU, pinnedCommand } from './pinning.mjs';
import { readCpuSeconds, readPeakRssKiB } from './proc-stats.mjs';

export const CLI_PATH = fileURLToPath(new URL('../../bin/bufferevent.mjs', import.meta.url));
export const SERVER_DIST = fileURLToPath(new URL('../../dist/server/cli/main.js', import.meta.url));
export const PASSWORD = 'bench-password-not-secret';

const STARTUP_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 5_000;
const LISTENING = /listening on (http:\/\/[^/\s]+)\//;

/**
 * A directory with `userCount` users (bench0, bench1, …: one `user add` hashes the password with
 * scrypt, the others share that hash, so setting up costs one hash) and a config file.
 * @param {{ userCount: number, config: object }} options `config` is merged over the defaults
 *   (port 0, the users file, a fixed secret key)
 */
export function prepareServerDir({ userCount, config }) {
  const dir = mkdtempSync(join(tmpdir(), 'bufferevent-bench-'));
  const usersFile = join(dir, 'users.json');
  execFileSync(
    process.execPath,
    [CLI_PATH, 'user', 'add', 'bench0', '--password-stdin', '--users-file', usersFile],
    {
      input: PASSWORD,
      stdio: ['pipe', 'ignore', 'inherit'],
    },
  );
  const file = JSON.parse(readFileSync(usersFile, 'utf8'));
  const usernames = Array.from({ length: userCount }, (_, i) => `bench${i}`);
  for (const name of usernames) file.users[name] = file.users.bench0;
  writeFileSync(usersFile, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
  const configPath = join(dir, 'config.json');
  const fullConfig = {
    host: '127.0.0.1',
    port: 0,
    usersFile: 'users.json',
    secretKey: 'bench-secret-key-0123456789abcdefghijklmnopqrstuvwxyz',
    ...config,
    limits: {
      maxConnections: 100_000,
      loginAttemptsPerUser: 1_000_000,
      loginAttemptsPerAddress: 1_000_000,
      ...config.limits,
    },
  };
  writeFileSync(configPath, `${JSON.stringify(fullConfig, null, 2)}\n`);
  return { dir, configPath, usernames, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Starts `bufferevent serve --config <configPath> [...extraArgs]` and waits for its listening line.
 * Rejects with `refused: true` when the command line or config is refused (exit 2), e.g. an option
 * this build does not have.
 * @returns {Promise<{ pid: number, origin: string, port: number, exited: () => boolean,
 *   stderrTail: () => string, stop: () => Promise<{ peakRssKiB: number | null }> }>}
 */
export function startBundledServer(configPath, extraArgs = []) {
  const [command, args] = pinnedCommand(SERVER_CPU, process.execPath, [
    CLI_PATH,
    'serve',
    '--config',
    configPath,
    ...extraArgs,
  ]);
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let exitStatus = null;
  child.stderr.setEncoding('utf8');
  // The event log is one JSON line per event: keep the tail for failure messages only.
  child.stderr.on('data', (text) => (stderr = (stderr + text).slice(-4000)));
  const exited = new Promise((resolve) =>
    child.on('exit', (code, signal) => {
      exitStatus = signal ?? code;
      resolve();
    }),
  );
  const killOnExit = () => child.kill('SIGKILL');
  process.on('exit', killOnExit);
  const stop = async () => {
    process.off('exit', killOnExit);
    let peakRssKiB = null;
    try {
      peakRssKiB = readPeakRssKiB(child.pid);
    } catch {
      // already gone
    }
    if (exitStatus === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    }
    return { peakRssKiB };
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`bufferevent serve: no listening line within ${STARTUP_TIMEOUT_MS} ms\n${stderr}`));
    }, STARTUP_TIMEOUT_MS);
    const onEarlyExit = () => {
      clearTimeout(timer);
      process.off('exit', killOnExit);
      const error = new Error(`bufferevent serve exited (${exitStatus}) before listening: ${stderr.trim()}`);
      error.refused = exitStatus === 2;
      reject(error);
    };
    child.on('close', onEarlyExit);
    createInterface({ input: child.stdout }).on('line', (line) => {
      const match = LISTENING.exec(line);
      if (!match) return;
      clearTimeout(timer);
      child.off('close', onEarlyExit);
      const origin = match[1];
      resolve({
        pid: child.pid,
        origin,
        port: Number(new URL(origin).port),
        exited: () => exitStatus !== null,
        stderrTail: () => stderr,
        stop,
      });
    });
  });
}

/** `name=value` of the Set-Cookie headers of a fetch response. */
function cookieOf(response) {
  const cookies = response.headers.getSetCookie().map((header) => header.split(';', 1)[0]);
  if (cookies.length === 0) throw new Error(`no session cookie in the answer (${response.status})`);
  return cookies.join('; ');
}

/** The browser's login: returns the logged-in session's Cookie header value. */
export async function login(origin, username, password = PASSWORD) {
  const page = await fetch(`${origin}/login`);
  const html = await page.text();
  const token = /name="csrfToken"[^>]*value="([^"]+)"/.exec(html)?.[1];
  if (!token) throw new Error(`GET /login answered ${page.status} without a csrfToken field`);
  const answer = await fetch(`${origin}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: {
      cookie: cookieOf(page),
      origin,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ csrfToken: token, username, password }).toString(),
  });
  await answer.arrayBuffer();
  if (answer.status !== 302 && answer.status !== 303)
    throw new Error(`POST /login as ${username} answered ${answer.status}, not a redirect`);
  return cookieOf(answer);
}

/**
 * Logs in `count` times, `concurrency` at a time, over the given users: logins per second and the
 * server's CPU over that time (scrypt dominates a login).
 */
export async function measureLogins(server, usernames, { count, concurrency }) {
  const cpuBefore = readCpuSeconds(server.pid);
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      await login(server.origin, usernames[index % usernames.length]);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  const cpuSeconds = readCpuSeconds(server.pid) - cpuBefore;
  return {
    count,
    concurrency,
    perSecond: count / seconds,
    msEach: (seconds * 1000) / count,
    serverCpuPercent: (cpuSeconds / seconds) * 100,
    serverCpuMsEach: (cpuSeconds * 1000) / count,
  };
}
