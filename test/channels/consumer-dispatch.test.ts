// A consumer's handlers: one at a time in arrival order, channel-layer messages dispatched by type,
// and the failures that close only their own connection (1011 for a handler that throws or an
// unknown type, 1008 for an inbox overflow), each logged.
import { afterEach, describe, expect, it } from 'vitest';
import {
  InMemoryChannelLayer,
  URLRouter,
  WebsocketConsumer,
  handlerNamesOf,
  path,
  serve,
  type ChannelMessage,
  type ChannelsServer,
  type ServeOptions,
} from '../../src/channels/index.ts';
import { waitFor } from '../helpers.ts';
import { connectClient, recordingLogger } from './serve-helpers.ts';

const servers: ChannelsServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

async function start(routes: Record<string, new () => WebsocketConsumer>, options: ServeOptions = {}) {
  const logger = recordingLogger();
  const layer = new InMemoryChannelLayer();
  const app = new URLRouter(Object.entries(routes).map(([route, consumer]) => path(route, consumer)));
  const server = await serve(app, { port: 0, logger, channelLayer: layer, ...options });
  servers.push(server);
  return { server, logger, layer };
}

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('handler order', () => {
  it('runs the async handlers of one connection one at a time, in arrival order', async () => {
    const events: string[] = [];
    let running = 0;
    let overlapped = false;
    class Serial extends WebsocketConsumer {
      override async receive(text: string | undefined) {
        if (running++ > 0) overlapped = true;
        events.push(`start ${text}`);
        await tick(Number(text) % 3);
        events.push(`end ${text}`);
        running--;
      }
    }
    const { server } = await start({ 'ws/': Serial });
    const client = await connectClient(server.port, '/ws/');
    for (let i = 0; i < 20; i++) client.socket.send(String(i));
    await waitFor(() => events.length === 40);
    expect(overlapped).toBe(false);
    expect(events).toEqual([...Array(20).keys()].flatMap((i) => [`start ${i}`, `end ${i}`]));
    client.socket.close();
  });

  it('interleaves layer messages with WebSocket messages in arrival order, never concurrently', async () => {
    const seen: string[] = [];
    let channel = '';
    class Mixed extends WebsocketConsumer {
      override connect() {
        channel = this.channelName;
        this.accept();
      }
      override async receive(text: string | undefined) {
        await tick(1);
        seen.push(`ws ${text}`);
      }
      async note(message: ChannelMessage) {
        await tick(1);
        seen.push(`layer ${String(message.n)}`);
      }
    }
    const { server, layer } = await start({ 'ws/': Mixed });
    const client = await connectClient(server.port, '/ws/');
    expect(channel).toMatch(/!/);
    client.socket.send('a');
    await waitFor(() => seen.length === 1);
    await layer.send(channel, { type: 'note', n: 1 });
    await waitFor(() => seen.length === 2);
    client.socket.send('b');
    await waitFor(() => seen.length === 3);
    expect(seen).toEqual(['ws a', 'layer 1', 'ws b']);
    client.socket.close();
  });
});

describe('dispatch by type', () => {
  it('maps chat.message to chatMessage, and to chat_message for code ported from Python', async () => {
    expect(handlerNamesOf('chat.message')).toEqual(['chatMessage', 'chat_message']);
    expect(handlerNamesOf('ping')).toEqual(['ping']);
    expect(handlerNamesOf('user.joined_room')).toEqual(['userJoinedRoom', 'user_joined_room']);
    let channel = '';
    class Ported extends WebsocketConsumer {
      override connect() {
        channel = this.channelName;
        this.accept();
      }
      chat_message(event: ChannelMessage) {
        this.send(`snake ${String(event.text)}`);
      }
      userJoined = (event: ChannelMessage) => this.send(`field ${String(event.who)}`);
    }
    const { server, layer } = await start({ 'ws/': Ported });
    const client = await connectClient(server.port, '/ws/');
    await layer.send(channel, { type: 'chat.message', text: 'hi' });
    await layer.send(channel, { type: 'user.joined', who: 'ann' });
    expect(await client.next()).toBe('snake hi');
    expect(await client.next()).toBe('field ann');
    client.socket.close();
  });

  it('closes with 1011 and logs on a type with no handler, or one naming a base-class method', async () => {
    const channels: string[] = [];
    class Plain extends WebsocketConsumer {
      override connect() {
        channels.push(this.channelName);
        this.accept();
      }
    }
    const { server, layer, logger } = await start({ 'ws/': Plain });
    for (const type of ['no.such.handler', 'close', 'send', 'accept']) {
      const client = await connectClient(server.port, '/ws/');
      await layer.send(channels.at(-1)!, { type });
      expect((await client.closed).code).toBe(1011);
    }
    await waitFor(() => logger.entries.length === 4);
    expect(logger.entries.map((entry) => (entry.details?.error as { code?: string }).code)).toEqual(
      Array(4).fill('ERR_CONSUMER_NO_HANDLER'),
    );
  });
});

describe('failures stay on their connection', () => {
  it('closes only the connection whose receive throws (1011), logs it, and runs its disconnect', async () => {
    const disconnects: number[] = [];
    class Fragile extends WebsocketConsumer {
      override receive(text: string | undefined) {
        if (text === 'boom') throw new Error('handler bug');
        this.send(`echo ${text}`);
      }
      override disconnect(code: number) {
        disconnects.push(code);
      }
    }
    const { server, logger } = await start({ 'ws/': Fragile });
    const victim = await connectClient(server.port, '/ws/');
    const bystanders = await Promise.all([1, 2, 3].map(() => connectClient(server.port, '/ws/')));
    victim.socket.send('boom');
    victim.socket.send('after');
    expect(await victim.closed).toEqual({ code: 1011, reason: 'internal error' });
    expect(victim.messages).toEqual([]);
    for (const [index, client] of bystanders.entries()) {
      client.socket.send(`b${index}`);
      expect(await client.next()).toBe(`echo b${index}`);
    }
    expect(logger.entries).toHaveLength(1);
    expect(logger.entries[0]).toMatchObject({
      level: 'error',
      details: { consumer: 'Fragile', path: '/ws/' },
    });
    expect((logger.entries[0]!.details!.error as Error).message).toBe('handler bug');
    await waitFor(() => disconnects.length === 1);
    expect(disconnects).toEqual([1011]);
    for (const client of bystanders) client.socket.close();
  });

  it('closes with 1008 when a client floods a slow consumer past its inbox, running no dropped message', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const handled: string[] = [];
    class Slow extends WebsocketConsumer {
      override async receive(text: string | undefined) {
        handled.push(text!);
        await gate;
      }
    }
    const { server, logger } = await start({ 'ws/': Slow }, { inboxSize: 8 });
    const client = await connectClient(server.port, '/ws/');
    for (let i = 0; i < 30; i++) client.socket.send(String(i));
    expect((await client.closed).code).toBe(1008);
    release();
    await waitFor(() => server.stats().consumers === 0);
    // One handler was running when the rest filled the inbox; what overflowed was dropped.
    expect(handled).toEqual(['0']);
    expect(logger.entries).toHaveLength(1);
    expect(logger.entries[0]).toMatchObject({ level: 'warn' });
    expect(logger.entries[0]!.message).toMatch(/inbox overflow/);
  });

  it('keeps a throwing logger from turning one failure into two', async () => {
    class Fragile extends WebsocketConsumer {
      override receive() {
        throw new Error('handler bug');
      }
    }
    const app = new URLRouter([path('ws/', Fragile)]);
    const throwing = () => {
      throw new Error('logger broken');
    };
    const server = await serve(app, { port: 0, logger: { info: throwing, warn: throwing, error: throwing } });
    servers.push(server);
    const client = await connectClient(server.port, '/ws/');
    client.socket.send('x');
    expect((await client.closed).code).toBe(1011);
  });
});
