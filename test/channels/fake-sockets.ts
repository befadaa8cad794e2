// A stand-in for a WebSocketServer and its sockets, enough for LocalGroupSockets: sockets subscribe
// to topics, and a publish hands the data to every subscriber of the topic (or skips a "slow" one),
// recording what each socket got. The real WebSocket end of groupBroadcast is tested with serve().
import type { BroadcastTarget, GroupSocket } from '../../src/channels/layers/group-sockets.ts';
import type { PublishOptions, PublishResult } from '../../src/websocket/topics.ts';

export class FakeSocket implements GroupSocket {
  readonly topics = new Set<string>();
  readonly received: { text: string; binary: boolean }[] = [];
  slow = false;
  subscribe(topic: string): boolean {
    if (this.topics.has(topic)) return false;
    this.topics.add(topic);
    return true;
  }
  unsubscribe(topic: string): boolean {
    return this.topics.delete(topic);
  }
}

export class FakeServer implements BroadcastTarget {
  readonly sockets: FakeSocket[] = [];
  publishes = 0;
  socket(): FakeSocket {
    const socket = new FakeSocket();
    this.sockets.push(socket);
    return socket;
  }
  publish(topic: string, data: string | Buffer, options: PublishOptions = {}): PublishResult {
    this.publishes++;
    const result: PublishResult = { delivered: 0, skipped: 0 };
    const binary = options.binary ?? typeof data !== 'string';
    for (const socket of this.sockets) {
      if (!socket.topics.has(topic)) continue;
      if (socket.slow) {
        result.skipped++;
        continue;
      }
      socket.received.push({ text: data.toString(), binary });
      result.delivered++;
    }
    return result;
  }
}
