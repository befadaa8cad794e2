// Running the bundled server in a test: a temp directory with a users file and log files, and a
// tiny HTTP client with a cookie jar that logs in the way a browser does (GET the form, POST it).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { startBundledServer, type BundledServer } from '../../src/server/bundled-server.ts';
import { parseConfig } from '../../src/server/config.ts';
import { EventLog } from '../../src/server/event-log.ts';
import { UsersFile } from '../../src/server/users-file.ts';
import { connectClient, type TestClient } from '../channels/serve-helpers.ts';

export const PASSWORDS = { ann: 'ann-password-1', bob: 'bob-password-2' } as const;

export interface TestSite {
  dir: string;
  running: BundledServer;
  /** One JSON object per logged event. */
  events: Record<string, unknown>[];
  appLog: string;
  secretLog: string;
  stop(): Promise<void>;
}

let sharedUsers: string | undefined;

/** A users file with ann (admin) and bob, made once per test file (scrypt is deliberately slow). */
async function usersFileText(): Promise<string> {
  if (sharedUsers !== undefined) return sharedUsers;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'be-users-'));
  const users = new UsersFile(path.join(dir, 'users.json'));
  await users.add('ann', PASSWORDS.ann, { admin: true });
  await users.add('bob', PASSWORDS.bob);
  const { readFileSync } = await import('node:fs');
  sharedUsers = readFileSync(users.path, 'utf8');
  rmSync(dir, { recursive: true, force: true });
  return sharedUsers;
}

export async function startSite(
  extra: Record<string, unknown> = {},
  secretKey = 'k'.repeat(40),
): Promise<TestSite> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'be-site-'));
  writeFileSync(path.join(dir, 'users.json'), await usersFileText(), { mode: 0o600 });
  const appLog = path.join(dir, 'app.log');
  const secretLog = path.join(dir, 'secret.log');
  writeFileSync(appLog, 'first line\nsecond line\n');
  writeFileSync(secretLog, 'only for ann\n');
  const config = parseConfig(
    {
      port: 0,
      usersFile: 'users.json',
      logs: {
        '1': { path: 'app.log', title: 'App' },
        '2': { path: 'secret.log', title: 'Secret', users: ['ann'] },
      },
      ...extra,
    },
    { directory: dir, configFile: null },
  );
  const events: Record<string, unknown>[] = [];
  const log = new EventLog({
    write: (line: string) => events.push(JSON.parse(line) as Record<string, unknown>),
  });
  const running = await startBundledServer({ config, secretKey, log });
  return {
    dir,
    running,
    events,
    appLog,
    secretLog,
    stop: async () => {
      await running.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export function http(
  site: TestSite,
  method: string,
  target: string,
  options: { cookie?: string; form?: Record<string, string>; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const body = options.form === undefined ? undefined : new URLSearchParams(options.form).toString();
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      {
        host: '127.0.0.1',
        port: site.running.server.port,
        method,
        path: target,
        agent: false,
        headers: {
          ...(options.cookie === undefined ? {} : { cookie: options.cookie }),
          ...(body === undefined
            ? {}
            : {
                'content-type': 'application/x-www-form-urlencoded',
                'content-length': String(Buffer.byteLength(body)),
              }),
          ...options.headers,
        },
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode!, headers: response.headers, body: text }),
        );
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

/** The session cookie (name=value) a response set, if any. */
export function sessionCookie(answer: Answer): string | undefined {
  const header = answer.headers['set-cookie'];
  const values = Array.isArray(header) ? header : header === undefined ? [] : [header];
  return values.map((value) => value.split(';')[0]!).find((pair) => pair.startsWith('sessionid='));
}

export function csrfTokenIn(html: string): string {
  const match = /name="csrfToken" value="([^"]*)"/.exec(html);
  if (match === null) throw new Error('no CSRF token in the page');
  return match[1]!;
}

/** Logs in as `user` like a browser; returns the session cookie. */
export async function logIn(
  site: TestSite,
  user: keyof typeof PASSWORDS,
  password: string = PASSWORDS[user],
): Promise<string> {
  const form = await http(site, 'GET', '/login');
  const cookie = sessionCookie(form)!;
  const answer = await http(site, 'POST', '/login', {
    cookie,
    form: { csrfToken: csrfTokenIn(form.body), username: user, password, next: '/chat/' },
  });
  if (answer.status !== 303) throw new Error(`login as ${user} answered ${answer.status}`);
  return sessionCookie(answer)!;
}

export function siteOrigin(site: TestSite): string {
  return `http://127.0.0.1:${site.running.server.port}`;
}

/** A WebSocket to the site as a logged-in browser would open it. */
export function openSocket(
  site: TestSite,
  target: string,
  cookie: string | undefined,
  origin = siteOrigin(site),
  perMessageDeflate = false,
): Promise<TestClient> {
  return connectClient(site.running.server.port, target, {
    headers: { origin, ...(cookie === undefined ? {} : { cookie }) },
    perMessageDeflate,
  });
}
