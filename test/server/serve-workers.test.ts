// `bufferevent serve --workers 2` with a real redis-server, as an operator runs it: two worker
// processes on one port (SO_REUSEPORT) sharing sessions, chat rooms (messages, history, presence)
// and login throttling through Redis; a worker killed with SIGKILL is restarted; SIGTERM to the
// supervisor closes every WebSocket with 1001 and ends every process with exit code 0. Which worker
// served a connection is read from the workers' structured log lines ("worker": <pid>).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsersFile } from '../../src/server/users-file.ts';
import { startRedisServer, type RedisServer } from '../channels/redis-server.ts';
import type { TestClient } from '../channels/serve-helpers.ts';
import { waitFor } from '../helpers.ts';
import { PASSWORDS, csrfTokenIn, http, logIn, openSocket, sessionCookie } from './bundled-helpers.ts';
import { assertBuilt, runCli } from './cli-runner.ts';
import { alive, freePort, siteAt, startSupervisor, type Supervisor } from './workers-helpers.ts';

let redis: RedisServer;
let cwd: string;
let supervisor: Supervisor;
const clients: TestClient[] = [];

beforeAll(async () => {
  assertBuilt();
  redis = await startRedisServer();
  cwd = mkdtempSync(path.join(tmpdir(), 'bufferevent-workers-'));
  const users = new UsersFile(path.join(cwd, 'users.json'));
  await users.add('ann', PASSWORDS.ann);
  await users.add('bob', PASSWORDS.bob);
  writeFileSync(
    path.join(cwd, 'config.json'),
    JSON.stringify({
      redis: redis.url,
      usersFile: 'users.json',
      limits: { loginAttemptsPerUser: 20, loginAttemptsPerAddress: 1000 },
    }),
  );
  supervisor = await startSupervisor(cwd, ['--config', 'config.json', '--workers', '2'], await freePort());
}, 60_000);

afterAll(async () => {
  for (const client of clients) client.socket.terminate();
  if (supervisor !== undefined && supervisor.child.exitCode === null) {
    supervisor.child.kill('SIGKILL');
    for (const pid of workerPids()) if (alive(pid)) process.kill(pid, 'SIGKILL');
  }
  await redis?.stop();
  rmSync(cwd, { recursive: true, force: true });
});

const site = () => siteAt(supervisor.port);
const parse = (text: string | Buffer) => JSON.parse(text as string) as Record<string, unknown>;
const eventsNamed = (name: string) => supervisor.events().filter((entry) => entry.event === name);
function workerPids(): number[] {
  return [
    ...new Set(
      supervisor.events().flatMap((entry) => (typeof entry.worker === 'number' ? [entry.worker] : [])),
    ),
  ];
}

/** Opens a chat socket and returns it with the pid of the worker that logged its join. */
async function join(room: string, user: 'ann' | 'bob', cookie: string) {
  const before = eventsNamed('chat.join').length;
  const client = await openSocket(site(), `/ws/chat/${room}/`, cookie);
  clients.push(client);
  await waitFor(() => eventsNamed('chat.join').length > before, 10_000, 'the join to be logged');
  const entry = eventsNamed('chat.join')[before]!;
  expect(entry).toMatchObject({ user, room });
  return { client, worker: entry.worker as number };
}

/** Joins until the socket lands on a worker `accept` approves (the kernel picks by the client port). */
async function joinOn(room: string, user: 'ann' | 'bob', cookie: string, accept: (pid: number) => boolean) {
  for (let attempt = 0; attempt < 40; attempt++) {
    const joined = await join(room, user, cookie);
    if (accept(joined.worker)) return joined;
    joined.client.socket.close();
    await joined.client.closed;
  }
  throw new Error('no connection landed on the wanted worker in 40 attempts');
}

const messagesOf = (client: TestClient, type: string) =>
  client.messages.map(parse).filter((message) => message.type === type);

describe('serve --workers 2 with Redis', () => {
  it('prints the URL once and runs two workers on one port', () => {
    expect(supervisor.stdout().match(/listening on/g)).toHaveLength(1);
    expect(eventsNamed('server.listening').map((entry) => entry.url)).toEqual([
      `http://127.0.0.1:${supervisor.port}`,
      `http://127.0.0.1:${supervisor.port}`,
    ]);
    expect(workerPids()).toHaveLength(2);
  });

  it('accepts a login made on one worker on every worker (sessions and the generated key shared)', async () => {
    const cookie = await logIn(site(), 'ann');
    const served = new Set<number>();
    const first = await join('lobby', 'ann', cookie);
    served.add(first.worker);
    const second = await joinOn('lobby', 'ann', cookie, (pid) => !served.has(pid));
    served.add(second.worker);
    expect(served.size).toBe(2);
    for (const { client } of [first, second]) client.socket.close();
  });

  it('shares a chat room across workers: messages, history and presence', async () => {
    const annCookie = await logIn(site(), 'ann');
    const bobCookie = await logIn(site(), 'bob');
    const ann = await join('shared', 'ann', annCookie);
    const bob = await joinOn('shared', 'bob', bobCookie, (pid) => pid !== ann.worker);
    expect(bob.worker).not.toBe(ann.worker);
    // Each sees the other in the room, from the shared presence set.
    const both = (client: TestClient) =>
      messagesOf(client, 'presence').some((message) => String(message.users) === 'ann,bob');
    await waitFor(() => both(ann.client) && both(bob.client), 10_000, 'presence on both workers');
    ann.client.socket.send(JSON.stringify({ type: 'message', text: 'from ann' }));
    await waitFor(() => messagesOf(bob.client, 'message').length === 1, 10_000, "bob to get ann's message");
    bob.client.socket.send(JSON.stringify({ type: 'message', text: 'from bob' }));
    await waitFor(() => messagesOf(ann.client, 'message').length === 2, 10_000, "ann to get bob's message");
    const texts = (client: TestClient) => messagesOf(client, 'message').map((message) => message.text);
    expect(texts(ann.client)).toEqual(['from ann', 'from bob']);
    await waitFor(() => messagesOf(bob.client, 'message').length === 2);
    expect(texts(bob.client)).toEqual(['from ann', 'from bob']);
    // A newcomer on either worker gets the same history.
    for (const pid of [ann.worker, bob.worker]) {
      const late = await joinOn('shared', 'bob', bobCookie, (served) => served === pid);
      const history = parse(await late.client.next());
      expect(history.type).toBe('history');
      expect((history.messages as { text: string }[]).map((message) => message.text)).toEqual([
        'from ann',
        'from bob',
      ]);
      late.client.socket.close();
      await late.client.closed;
    }
    // Bob leaves on his worker; ann, on the other, is told.
    bob.client.socket.close();
    await waitFor(() => messagesOf(ann.client, 'presence').at(-1)?.users?.toString() === 'ann', 10_000);
    ann.client.socket.close();
  });

  it('counts failed logins for a user on every worker, then refuses it on every worker', async () => {
    const failedOn = new Set<number>();
    const attempt = async () => {
      const form = await http(site(), 'GET', '/login');
      return http(site(), 'POST', '/login', {
        cookie: sessionCookie(form)!,
        form: { csrfToken: csrfTokenIn(form.body), username: 'bob', password: 'wrong-password', next: '/' },
      });
    };
    for (let i = 1; i <= 20; i++) {
      const answer = await attempt();
      expect(answer.status).toBe(401); // "Wrong username or password."
    }
    for (const entry of eventsNamed('login.failed'))
      if (entry.user === 'bob') failedOn.add(entry.worker as number);
    // 20 attempts on fresh connections: all on one worker would be a 1 in 500,000 chance.
    expect(failedOn.size).toBe(2);
    for (let i = 0; i < 4; i++) {
      const refused = await attempt();
      expect(refused.status).toBe(429);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    }
    expect(new Set(eventsNamed('login.throttled').map((entry) => entry.worker)).size).toBeGreaterThanOrEqual(
      1,
    );
  });

  it('restarts a worker killed with SIGKILL, with a growing back-off, and the new one serves', async () => {
    const [victim] = workerPids();
    process.kill(victim!, 'SIGKILL');
    await waitFor(() => eventsNamed('worker.restarted').length === 1, 20_000, 'the restart');
    const exited = eventsNamed('worker.exited');
    expect(exited).toMatchObject([{ pid: victim, signal: 'SIGKILL', level: 'error' }]);
    const replacement = eventsNamed('worker.restarted')[0]!.pid as number;
    expect(replacement).not.toBe(victim);
    expect(eventsNamed('worker.restarted')[0]).toMatchObject({ replaced: victim });
    const cookie = await logIn(site(), 'ann');
    const joined = await joinOn('after', 'ann', cookie, (pid) => pid === replacement);
    expect(parse(await joined.client.next()).type).toBe('history');
    // Killed again soon after its start: the next restart waits twice as long.
    process.kill(replacement, 'SIGKILL');
    await waitFor(() => eventsNamed('worker.restarted').length === 2, 20_000, 'the second restart');
    expect(eventsNamed('worker.exited').map((entry) => [entry.pid, entry.restartInMs])).toEqual([
      [victim, 500],
      [replacement, 1000],
    ]);
  });

  it('on SIGTERM closes every WebSocket with 1001 and every process exits, the supervisor with 0', async () => {
    const cookie = await logIn(site(), 'ann');
    const live = workerPids().filter(alive);
    expect(live).toHaveLength(2);
    const served = new Set<number>();
    const open: TestClient[] = [];
    for (let i = 0; i < 40 && served.size < 2; i++) {
      const joined = await join('closing', 'ann', cookie);
      served.add(joined.worker);
      open.push(joined.client);
    }
    expect(served.size).toBe(2);
    supervisor.child.kill('SIGTERM');
    for (const client of open) expect((await client.closed).code).toBe(1001);
    expect(await supervisor.exited).toBe(0);
    for (const pid of live) expect(alive(pid)).toBe(false);
    expect(eventsNamed('worker.exited')).toHaveLength(2); // the SIGKILLs above: none at shutdown
    expect(eventsNamed('worker.stopped').map((entry) => entry.code)).toEqual([0, 0]);
  });
});

describe('serve --workers 2 when a worker cannot start or the supervisor dies', () => {
  it("exits 1 with the workers' reason when the port is held by another program", async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = holder.address() as AddressInfo;
      const result = await runCli(
        ['serve', '--config', 'config.json', '--workers', '2', '--port', String(port)],
        {
          cwd,
        },
      );
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`could not start: cannot listen on 127.0.0.1:${port}`);
      expect(result.stderr).toMatch(/worker \d+ exited before listening \(exit code 1\)/);
      expect(result.stderr).not.toContain('worker.restarted');
      expect(result.stdout).toBe('');
    } finally {
      holder.close();
    }
  });

  it('its workers notice the lost IPC channel, close and exit (no orphans on the port)', async () => {
    const port = await freePort();
    const orphaned = await startSupervisor(cwd, ['--config', 'config.json', '--workers', '2'], port);
    const pids = [
      ...new Set(
        orphaned.events().flatMap((entry) => (typeof entry.worker === 'number' ? [entry.worker] : [])),
      ),
    ];
    expect(pids).toHaveLength(2);
    try {
      orphaned.child.kill('SIGKILL');
      await orphaned.exited;
      await waitFor(() => !pids.some(alive), 15_000, 'the workers to exit');
    } finally {
      for (const pid of pids.filter(alive)) process.kill(pid, 'SIGKILL');
    }
    expect(pids.filter(alive)).toEqual([]);
  });
});
