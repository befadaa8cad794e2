// The bundled server's apps through real logins and WebSockets: chat rooms (history, presence,
// fan-out to the room only, limits, text kept as text) and the log tail (files by id only, per-user
// files, start/stop, lines as they are written).
import { appendFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers.ts';
import type { TestClient } from '../channels/serve-helpers.ts';
import { http, logIn, openSocket, startSite, type TestSite } from './bundled-helpers.ts';

let site: TestSite;
const clients: TestClient[] = [];
beforeEach(async () => {
  site = await startSite();
});
afterEach(async () => {
  for (const client of clients.splice(0)) client.socket.terminate();
  await site.stop();
});

async function open(target: string, cookie: string): Promise<TestClient> {
  const client = await openSocket(site, target, cookie);
  clients.push(client);
  return client;
}

const next = async (client: TestClient) =>
  JSON.parse((await client.next()) as string) as Record<string, unknown>;

/** Messages of `type` received so far (parsed). */
function ofType(client: TestClient, type: string): Record<string, unknown>[] {
  return client.messages
    .map((text) => JSON.parse(text as string) as Record<string, unknown>)
    .filter((message) => message.type === type);
}

describe('chat', () => {
  it('delivers a message to everyone in the room (itself included), to no other room, and keeps it as text', async () => {
    const ann = await logIn(site, 'ann');
    const bob = await logIn(site, 'bob');
    const annInLobby = await open('/ws/chat/lobby/', ann);
    expect(await next(annInLobby)).toEqual({ type: 'history', room: 'lobby', messages: [] });
    const bobInLobby = await open('/ws/chat/lobby/', bob);
    const bobElsewhere = await open('/ws/chat/kitchen/', bob);
    await waitFor(() => ofType(annInLobby, 'presence').some((p) => (p.users as string[]).length === 2));
    const payload = '<img src=x onerror=alert(1)> & "quotes"';
    annInLobby.socket.send(JSON.stringify({ type: 'message', text: payload }));
    await waitFor(
      () => ofType(bobInLobby, 'message').length === 1 && ofType(annInLobby, 'message').length === 1,
    );
    const received = ofType(bobInLobby, 'message')[0]!;
    expect(received).toMatchObject({ type: 'message', user: 'ann', text: payload });
    expect(ofType(bobElsewhere, 'message')).toEqual([]);
    expect(ofType(annInLobby, 'presence').at(-1)!.users).toEqual(['ann', 'bob']);
  });

  it('shows a newcomer the room history, and updates presence when someone leaves', async () => {
    const ann = await logIn(site, 'ann');
    const first = await open('/ws/chat/history/', ann);
    await next(first);
    for (let i = 0; i < 3; i++) first.socket.send(JSON.stringify({ type: 'message', text: `m${i}` }));
    await waitFor(() => ofType(first, 'message').length === 3);
    const bob = await logIn(site, 'bob');
    const late = await open('/ws/chat/history/', bob);
    const history = await next(late);
    expect((history.messages as { text: string }[]).map((message) => message.text)).toEqual([
      'm0',
      'm1',
      'm2',
    ]);
    late.socket.close();
    await waitFor(() => ofType(first, 'presence').at(-1)?.users?.toString() === 'ann');
  });

  it('answers a too-long message, a malformed one and a flood with an error to that client only', async () => {
    const ann = await logIn(site, 'ann');
    const client = await open('/ws/chat/limits/', ann);
    await next(client);
    client.socket.send(JSON.stringify({ type: 'message', text: 'x'.repeat(2001) }));
    client.socket.send(JSON.stringify({ type: 'nonsense' }));
    await waitFor(() => ofType(client, 'error').length === 2);
    expect(ofType(client, 'error').map((error) => error.code)).toEqual(['too_long', 'bad_message']);
    for (let i = 0; i < 40; i++) client.socket.send(JSON.stringify({ type: 'message', text: `flood ${i}` }));
    await waitFor(() => ofType(client, 'error').some((error) => error.code === 'rate_limited'));
    expect(ofType(client, 'message').length).toBeLessThan(40);
    expect(ofType(client, 'message').length).toBeGreaterThanOrEqual(20);
  });
});

describe('chat limits from the config', () => {
  it('applies chatMessageChars, chatMessagesPerSecond and chatBurst, and tells the page the length', async () => {
    await site.stop();
    site = await startSite({ limits: { chatMessageChars: 10, chatMessagesPerSecond: 1, chatBurst: 2 } });
    const cookie = await logIn(site, 'ann');
    expect((await http(site, 'GET', '/chat/lobby/', { cookie })).body).toContain('maxlength="10"');
    const client = await open('/ws/chat/limits/', cookie);
    await next(client);
    client.socket.send(JSON.stringify({ type: 'message', text: 'x'.repeat(11) }));
    for (const text of ['one', 'two', 'three']) client.socket.send(JSON.stringify({ type: 'message', text }));
    await waitFor(() => ofType(client, 'error').length === 2);
    expect(ofType(client, 'error').map((error) => error.code)).toEqual(['too_long', 'rate_limited']);
    await waitFor(() => ofType(client, 'message').length === 2);
    expect(ofType(client, 'message').map((message) => message.text)).toEqual(['one', 'two']);
  });
});

describe('tail', () => {
  it('lists only the files a user may follow, by id and title, never a path', async () => {
    const ann = await open('/ws/tail/', await logIn(site, 'ann'));
    const bob = await open('/ws/tail/', await logIn(site, 'bob'));
    expect(await next(ann)).toEqual({
      type: 'logs',
      logs: [
        { id: '1', title: 'App' },
        { id: '2', title: 'Secret' },
      ],
    });
    expect(await next(bob)).toEqual({ type: 'logs', logs: [{ id: '1', title: 'App' }] });
    expect(JSON.stringify(ann.messages)).not.toContain(site.dir);
  });

  it('refuses unknown ids, path-like ids and files not allowed to the user, alike', async () => {
    const bob = await open('/ws/tail/', await logIn(site, 'bob'));
    await next(bob);
    for (const log of ['2', '99', '../secret.log', site.secretLog, 1, null]) {
      bob.socket.send(JSON.stringify({ type: 'start', log }));
      const answer = await next(bob);
      expect(answer).toMatchObject({ type: 'error', code: 'unknown_log', fatal: true });
    }
    expect(site.running.tail.stats().followers).toBe(0);
    expect(site.events.filter((event) => event.event === 'tail.refused')).toHaveLength(6);
  });

  it('sends the backlog on start, then each line as it is appended, and nothing after stop', async () => {
    const ann = await open('/ws/tail/', await logIn(site, 'ann'));
    await next(ann);
    ann.socket.send(JSON.stringify({ type: 'start', log: '1' }));
    expect(await next(ann)).toEqual({ type: 'started', log: '1', title: 'App' });
    const lines = () =>
      ofType(ann, 'items').flatMap((batch) =>
        (batch.items as { type: string; text: string }[])
          .filter((item) => item.type === 'line')
          .map((item) => item.text),
      );
    await waitFor(() => lines().length === 2);
    expect(lines()).toEqual(['first line', 'second line']);
    appendFileSync(site.appLog, 'third \u001b[31mred\u001b[0m line\n<script>alert(1)</script>\n');
    await waitFor(() => lines().length === 4);
    expect(lines().slice(2)).toEqual(['third \u001b[31mred\u001b[0m line', '<script>alert(1)</script>']);
    expect(site.running.tail.stats()).toMatchObject({ followers: 1, viewers: 1 });
    ann.socket.send(JSON.stringify({ type: 'stop' }));
    await waitFor(() => ofType(ann, 'stopped').length === 1);
    expect(site.running.tail.stats()).toMatchObject({ followers: 0, viewers: 0 });
    appendFileSync(site.appLog, 'after stop\n');
    ann.socket.send(JSON.stringify({ type: 'nonsense' }));
    await waitFor(() => ofType(ann, 'error').length === 1); // a round trip: anything sent before it has arrived
    expect(lines()).not.toContain('after stop');
  });

  it('shares one follower between viewers and stops it when the last one leaves', async () => {
    const ann = await open('/ws/tail/', await logIn(site, 'ann'));
    const bob = await open('/ws/tail/', await logIn(site, 'bob'));
    await next(ann);
    await next(bob);
    ann.socket.send(JSON.stringify({ type: 'start', log: '1' }));
    bob.socket.send(JSON.stringify({ type: 'start', log: '1' }));
    await waitFor(() => site.running.tail.stats().viewers === 2);
    expect(site.running.tail.stats().followers).toBe(1);
    ann.socket.close();
    await waitFor(() => site.running.tail.stats().viewers === 1);
    expect(site.running.tail.stats().followers).toBe(1);
    bob.socket.terminate();
    await waitFor(() => site.running.tail.stats().followers === 0);
  });
});

describe('compression', () => {
  it('agrees permessage-deflate with a client that offers it and delivers a burst of lines intact', async () => {
    const client = await openSocket(site, '/ws/tail/', await logIn(site, 'ann'), undefined, true);
    clients.push(client);
    expect(client.socket.extensions).toBe('permessage-deflate');
    await next(client);
    client.socket.send(JSON.stringify({ type: 'start', log: '1' }));
    expect(await next(client)).toEqual({ type: 'started', log: '1', title: 'App' });
    const burst = Array.from({ length: 300 }, (_, i) => `GET /items/${i} HTTP/1.1 200 ${'x'.repeat(i % 50)}`);
    appendFileSync(site.appLog, `${burst.join('\n')}\n`);
    const lines = () =>
      ofType(client, 'items').flatMap((batch) =>
        (batch.items as { type: string; text: string }[])
          .filter((item) => item.type === 'line')
          .map((item) => item.text),
      );
    await waitFor(() => lines().length === 2 + burst.length);
    expect(lines()).toEqual(['first line', 'second line', ...burst]);
  });
});
