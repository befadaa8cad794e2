// WebsocketCommunicator: testing consumers the way Channels' communicator does, without setting up
// a server or a client by hand.
import { describe, expect, it } from 'vitest';
import {
  InMemoryChannelLayer,
  JsonWebsocketConsumer,
  URLRouter,
  WebsocketCommunicator,
  WebsocketConsumer,
  path,
  type ChannelMessage,
} from '../../src/channels/index.ts';

class RoomConsumer extends JsonWebsocketConsumer {
  static disconnected: string[] = [];
  override groups = ['room'];

  override receiveJson(content: { say: string }) {
    return this.channelLayer!.groupSend('room', { type: 'room.said', text: content.say });
  }

  roomSaid(event: ChannelMessage) {
    this.sendJson({ heard: event.text });
  }

  override disconnect(code: number) {
    RoomConsumer.disconnected.push(`${this.channelName} ${code}`);
  }
}

class Bytes extends WebsocketConsumer {
  override receive(text: string | undefined, bytes: Buffer | undefined) {
    if (text === 'close please') this.close(4002, 'asked to');
    else this.send(bytes ?? text!.toUpperCase());
  }
}

const app = new URLRouter([path('ws/room/', RoomConsumer), path('ws/bytes/', Bytes)]);

describe('WebsocketCommunicator', () => {
  it('connects, sends and receives JSON, and waits for disconnect to have run', async () => {
    RoomConsumer.disconnected = [];
    const layer = new InMemoryChannelLayer();
    const one = new WebsocketCommunicator(app, '/ws/room/', { serveOptions: { channelLayer: layer } });
    const two = new WebsocketCommunicator(app, '/ws/room/', { serveOptions: { channelLayer: layer } });
    expect(await one.connect()).toEqual({ connected: true, subprotocol: '', status: undefined });
    expect((await two.connect()).connected).toBe(true);
    one.sendJsonTo({ say: 'hello' });
    expect(await one.receiveJsonFrom()).toEqual({ heard: 'hello' });
    expect(await two.receiveJsonFrom()).toEqual({ heard: 'hello' });
    expect(await two.receiveNothing()).toBe(true);
    await one.disconnect();
    expect(RoomConsumer.disconnected).toHaveLength(1);
    expect(RoomConsumer.disconnected[0]).toMatch(/ 1000$/);
    expect(layer.stats().memberships).toBe(1);
    await two.disconnect();
    expect(layer.stats().memberships).toBe(0);
    await layer.close();
  });

  it('carries text and bytes, and reports a close by the consumer with its code', async () => {
    const communicator = new WebsocketCommunicator(app, '/ws/bytes/');
    await communicator.connect();
    communicator.sendTo('abc');
    expect(await communicator.receiveFrom()).toBe('ABC');
    communicator.sendTo({ bytes: Buffer.from([9, 8]) });
    expect(await communicator.receiveFrom()).toEqual(Buffer.from([9, 8]));
    communicator.sendTo({ text: 'close please' });
    expect(await communicator.receiveOutput()).toEqual({
      type: 'websocket.close',
      code: 4002,
      reason: 'asked to',
    });
    expect(() => communicator.sendTo('late')).toThrow(
      expect.objectContaining({ code: 'ERR_COMMUNICATOR_STATE' }),
    );
    await communicator.disconnect();
  });

  it('reports a refused connection with its HTTP status', async () => {
    class Refuser extends WebsocketConsumer {
      override connect() {
        this.close();
      }
    }
    const refused = new WebsocketCommunicator(new URLRouter([path('ws/', Refuser)]), '/ws/');
    expect(await refused.connect()).toEqual({ connected: false, subprotocol: '', status: 403 });
    await refused.disconnect();
    const missing = new WebsocketCommunicator(app, '/ws/nowhere/');
    expect(await missing.connect()).toMatchObject({ connected: false, status: 404 });
    await missing.disconnect();
  });

  it('fails receiveFrom clearly on a close or on silence, and receiveNothing sees what arrived', async () => {
    const communicator = new WebsocketCommunicator(app, '/ws/bytes/');
    await communicator.connect();
    await expect(communicator.receiveFrom(50)).rejects.toMatchObject({ code: 'ERR_COMMUNICATOR_TIMEOUT' });
    communicator.sendTo('x');
    await expect.poll(() => communicator.receiveNothing(20)).toBe(false);
    expect(await communicator.receiveFrom()).toBe('X');
    communicator.sendTo('close please');
    await expect(communicator.receiveFrom()).rejects.toMatchObject({ code: 'ERR_COMMUNICATOR_CLOSED' });
    await communicator.disconnect();
  });

  it('negotiates a subprotocol and sends headers', async () => {
    class Protocols extends WebsocketConsumer {
      override connect() {
        this.accept((this.scope.subprotocols as string[])[1]);
        const origin = (this.scope.headers as [string, string][]).find(([name]) => name === 'origin');
        this.send(origin?.[1] ?? 'none');
      }
    }
    const communicator = new WebsocketCommunicator(new URLRouter([path('ws/', Protocols)]), '/ws/', {
      subprotocols: ['a', 'b'],
      headers: { origin: 'http://localhost:8000' },
    });
    expect(await communicator.connect()).toMatchObject({ connected: true, subprotocol: 'b' });
    expect(await communicator.receiveFrom()).toBe('http://localhost:8000');
    await communicator.disconnect();
  });
});
