// The Channels tutorial's chat consumer, written with this library: the room comes from the URL,
// the consumer joins the room's group on connect, a received message goes to the whole group as a
// `chat.message`, and each member's `chatMessage` sends it to its client. Then the same room through
// groupBroadcast, which writes to member sockets natively without running any consumer.
import { afterEach, describe, expect, it } from 'vitest';
import { EventBase } from '../../src/index.ts';
import {
  InMemoryChannelLayer,
  JsonWebsocketConsumer,
  URLRouter,
  path,
  serve,
  type ChannelMessage,
  type ChannelsServer,
} from '../../src/channels/index.ts';
import { liveTopicCount } from '../../src/websocket/topics.ts';
import { waitFor } from '../helpers.ts';
import { connectClient, type TestClient } from './serve-helpers.ts';

class ChatConsumer extends JsonWebsocketConsumer {
  roomGroupName = '';

  override async connect() {
    const room = this.scope.urlRoute!.kwargs.room as string;
    this.roomGroupName = `chat_${room}`;
    await this.channelLayer!.groupAdd(this.roomGroupName, this.channelName);
    this.accept();
  }

  override async disconnect() {
    await this.channelLayer!.groupDiscard(this.roomGroupName, this.channelName);
  }

  override async receiveJson(content: { message: string }) {
    await this.channelLayer!.groupSend(this.roomGroupName, {
      type: 'chat.message',
      message: content.message,
    });
  }

  chatMessage(event: ChannelMessage) {
    this.sendJson({ message: event.message });
  }
}

/** The same room, but the fan-out is one native publish: no consumer code per member. */
class BroadcastChatConsumer extends JsonWebsocketConsumer {
  static handlerCalls = 0;
  override groups: string[] = [];

  override connect() {
    this.groups = [`room_${this.scope.urlRoute!.kwargs.room as string}`];
    // groups are joined before connect runs; a consumer that names them in connect joins itself.
    return this.channelLayer!.groupAdd(this.groups[0]!, this.channelName).then(() => this.accept());
  }

  override async receiveJson(content: { message: string }) {
    BroadcastChatConsumer.handlerCalls++;
    await this.channelLayer!.groupBroadcast(this.groups[0]!, JSON.stringify({ message: content.message }));
  }
}

const servers: ChannelsServer[] = [];
const clients: TestClient[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.socket.terminate();
  for (const server of servers.splice(0)) await server.close();
});

async function chatServer(consumer: typeof ChatConsumer | typeof BroadcastChatConsumer) {
  const layer = new InMemoryChannelLayer();
  const app = new URLRouter([path('ws/chat/<str:room>/', consumer)]);
  const server = await serve(app, { port: 0, channelLayer: layer });
  servers.push(server);
  return { server, layer };
}

async function join(server: ChannelsServer, room: string): Promise<TestClient> {
  const client = await connectClient(server.port, `/ws/chat/${room}/`);
  clients.push(client);
  return client;
}

describe.each([
  ['groupSend through every consumer', ChatConsumer],
  ['groupBroadcast through the native publish', BroadcastChatConsumer],
] as const)('chat room: %s', (_name, consumer) => {
  it("delivers one client's message to every client in the room, in order, and to no other room", async () => {
    const { server, layer } = await chatServer(consumer);
    const lobby = await Promise.all(Array.from({ length: 5 }, () => join(server, 'lobby')));
    const elsewhere = await Promise.all(Array.from({ length: 2 }, () => join(server, 'kitchen')));
    await waitFor(() => layer.stats().memberships === 7);
    for (let i = 0; i < 10; i++) lobby[0]!.socket.send(JSON.stringify({ message: `m${i}` }));
    const expected = Array.from({ length: 10 }, (_, i) => JSON.stringify({ message: `m${i}` }));
    for (const client of lobby) {
      const got: unknown[] = [];
      for (let i = 0; i < 10; i++) got.push(await client.next());
      expect(got).toEqual(expected);
    }
    elsewhere[0]!.socket.send(JSON.stringify({ message: 'kitchen only' }));
    for (const client of elsewhere)
      expect(await client.next()).toBe(JSON.stringify({ message: 'kitchen only' }));
    // The lobby saw exactly its ten messages and nothing of the kitchen's.
    for (const client of lobby) expect(client.messages).toHaveLength(10);
  });

  it('leaves the group and its topic when a client goes, so nothing of it is left behind', async () => {
    const topicsBefore = liveTopicCount();
    const socketsBefore = EventBase.default().stats().liveWebSockets;
    const { server, layer } = await chatServer(consumer);
    const members = await Promise.all(Array.from({ length: 4 }, () => join(server, 'lobby')));
    await waitFor(() => layer.stats().memberships === 4);
    members[3]!.socket.close();
    await members[3]!.closed;
    await waitFor(() => layer.stats().memberships === 3);
    members[0]!.socket.send(JSON.stringify({ message: 'after one left' }));
    for (const client of members.slice(0, 3))
      expect(await client.next()).toBe('{"message":"after one left"}');
    expect(members[3]!.messages).toEqual([]);
    for (const client of members.slice(0, 3)) client.socket.close();
    await waitFor(() => server.stats().consumers === 0);
    expect(layer.stats()).toMatchObject({ groups: 0, memberships: 0 });
    expect(layer.localSockets.boundChannels).toBe(0);
    await waitFor(() => liveTopicCount() === topicsBefore);
    await waitFor(() => EventBase.default().stats().liveWebSockets === socketsBefore);
  });
});

it('groupBroadcast runs no consumer handler for the members it reaches', async () => {
  BroadcastChatConsumer.handlerCalls = 0;
  const { server, layer } = await chatServer(BroadcastChatConsumer);
  const members = await Promise.all(Array.from({ length: 20 }, () => join(server, 'big')));
  await waitFor(() => layer.stats().memberships === 20);
  expect(await layer.groupBroadcast('room_big', 'from the server')).toEqual({ delivered: 20, skipped: 0 });
  for (const client of members) expect(await client.next()).toBe('from the server');
  expect(BroadcastChatConsumer.handlerCalls).toBe(0);
  expect(await layer.groupBroadcast('room_nobody', 'x')).toEqual({ delivered: 0, skipped: 0 });
  const binary = await layer.groupBroadcast('room_big', Buffer.from([1, 2, 3]));
  expect(binary.delivered).toBe(20);
  expect(await members[7]!.next()).toEqual(Buffer.from([1, 2, 3]));
});
