// The Channels tutorial's chat room on bufferevent/channels, for bench/channels-chat.mjs: clients
// connect to /ws/chat/<room>/ and every message one sends reaches every client in the room, sender
// included, as it was sent (text; a binary message closes the connection with 1003).
//   --fanout group-send  the tutorial's ChatConsumer: receive → groupSend('chat.message') → every
//                        member consumer's chatMessage → send. One handler call per member.
//   --fanout broadcast   receive → groupBroadcast: one native publish to the member sockets, no
//                        consumer code per member.
//   --layer memory|redis the channel layer; redis needs --redis-url (and a build that exports
//                        RedisChannelLayer: otherwise the server exits with status 69, saying so).
// Unlike the tutorial the text is relayed as is, not wrapped in JSON: the load generator checks
// every byte it gets back against what it sent. Prints "listening <port>" when ready.
// Usage: node channels-chat.mjs [--port N] [--fanout group-send|broadcast]
//   [--layer memory|redis] [--redis-url redis://127.0.0.1:6379] [--prefix bench]
import * as channels from '../../dist/channels/index.js';

import { parseServerArgs } from './args.mjs';

const { InMemoryChannelLayer, URLRouter, WebsocketConsumer, path, serve } = channels;

/** Exit status when the layer asked for is not in this build (EX_UNAVAILABLE). */
const LAYER_UNAVAILABLE_STATUS = 69;

const options = parseServerArgs({
  fanout: { type: 'string', choices: ['group-send', 'broadcast'] },
  layer: { type: 'string', choices: ['memory', 'redis'] },
  'redis-url': { type: 'string' },
  prefix: { type: 'string' },
});
const fanout = options.fanout ?? 'group-send';

const roomGroupOf = (consumer) => `chat_${consumer.scope.urlRoute.kwargs.room}`;

/** The tutorial's consumer: the room's group gets a `chat.message`, each member sends it on. */
class ChatConsumer extends WebsocketConsumer {
  roomGroupName = '';

  async connect() {
    this.roomGroupName = roomGroupOf(this);
    await this.channelLayer.groupAdd(this.roomGroupName, this.channelName);
    this.accept();
  }

  async disconnect() {
    await this.channelLayer.groupDiscard(this.roomGroupName, this.channelName);
  }

  async receive(text) {
    if (text === undefined) return this.close(1003, 'text messages only');
    await this.channelLayer.groupSend(this.roomGroupName, { type: 'chat.message', message: text });
  }

  chatMessage(event) {
    this.send(event.message);
  }
}

/** The same room, fanned out by the layer's native publish: no consumer runs per member. */
class BroadcastChatConsumer extends WebsocketConsumer {
  roomGroupName = '';

  async connect() {
    this.roomGroupName = roomGroupOf(this);
    await this.channelLayer.groupAdd(this.roomGroupName, this.channelName);
    this.accept();
  }

  async disconnect() {
    await this.channelLayer.groupDiscard(this.roomGroupName, this.channelName);
  }

  async receive(text) {
    if (text === undefined) return this.close(1003, 'text messages only');
    await this.channelLayer.groupBroadcast(this.roomGroupName, text);
  }
}

function createLayer() {
  if ((options.layer ?? 'memory') === 'memory') return new InMemoryChannelLayer();
  // Looked up by name so this script also loads in builds without the Redis layer.
  const { RedisChannelLayer } = channels;
  if (typeof RedisChannelLayer !== 'function') {
    process.stderr.write('Redis layer: not available in this build (no RedisChannelLayer export)\n');
    process.exit(LAYER_UNAVAILABLE_STATUS);
  }
  if (!options['redis-url']) {
    process.stderr.write('--layer redis needs --redis-url redis://HOST:PORT\n');
    process.exit(64);
  }
  return new RedisChannelLayer({ url: options['redis-url'], prefix: options.prefix ?? 'bench' });
}

const consumer = fanout === 'broadcast' ? BroadcastChatConsumer : ChatConsumer;
const application = new URLRouter([path('ws/chat/<str:room>/', consumer)]);
const server = await serve(application, {
  host: '127.0.0.1',
  port: options.port,
  channelLayer: createLayer(),
});
process.stdout.write(`listening ${server.port}\n`);
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
