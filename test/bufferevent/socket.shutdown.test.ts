// shutdownWrite(): the peer reads EOF once the queued output has drained, and a shutdown asked for
// while connecting waits for the connection instead of aborting it.
import { describe, expect, it } from 'vitest';
import { BEV, Bufferevent, EV, Listener } from '../../src/index.ts';
import { liveCounts, turns, waitFor } from '../helpers.ts';

function listenRecording(): { listener: Listener; received: () => string; events: number[] } {
  let text = '';
  const events: number[] = [];
  const listener = Listener.listen({ host: '127.0.0.1', port: 0 }, (fd) => {
    const server = Bufferevent.socket({ fd });
    server.setCallbacks({
      read: (bev) => (text += bev.read().toString()),
      event: (bev, flags) => {
        events.push(flags);
        bev.free();
      },
    });
    server.enable(EV.READ);
  });
  return { listener, received: () => text, events };
}

describe('shutdownWrite on a socket bufferevent', () => {
  it('waits for the connect when called while connecting, then the peer reads EOF', async () => {
    const start = liveCounts();
    const { listener, received, events } = listenRecording();
    const client = Bufferevent.socket();
    const clientEvents: number[] = [];
    client.setCallbacks({ event: (_bev, flags) => clientEvents.push(flags) });
    client.connect({ host: '127.0.0.1', port: listener.address.port });
    client.shutdownWrite();
    await waitFor(() => events.length === 1);
    expect(clientEvents).toEqual([BEV.CONNECTED]);
    expect(events).toEqual([BEV.EOF | BEV.READING]);
    expect(received()).toBe('');
    client.free();
    listener.close();
    await turns(3);
    expect(liveCounts()).toEqual(start);
  });

  it('sends everything queued before the EOF', async () => {
    const { listener, received, events } = listenRecording();
    const client = Bufferevent.socket();
    client.connect({ host: '127.0.0.1', port: listener.address.port });
    client.write('x'.repeat(200_000)).write('end');
    client.shutdownWrite();
    await waitFor(() => events.length === 1);
    expect(received()).toBe('x'.repeat(200_000) + 'end');
    expect(events).toEqual([BEV.EOF | BEV.READING]);
    client.free();
    listener.close();
  });

  it('throws ERR_NOT_CONNECTED on a socket bufferevent without an fd', () => {
    const bev = Bufferevent.socket();
    expect(() => bev.shutdownWrite()).toThrow(expect.objectContaining({ code: 'ERR_NOT_CONNECTED' }));
    bev.free();
  });

  it('reaches the peer through a filter whose socket connected under the filter', async () => {
    const { listener, received, events } = listenRecording();
    const socket = Bufferevent.socket();
    socket.connect({ host: '127.0.0.1', port: listener.address.port });
    const filter = Bufferevent.filter(socket, {
      output: (src, dst) => {
        dst.addBuffer(src);
        return 'ok';
      },
    });
    const filterEvents: number[] = [];
    filter.setCallbacks({ event: (_bev, flags) => filterEvents.push(flags) });
    filter.enable(EV.WRITE);
    await waitFor(() => filterEvents.length === 1);
    expect(filterEvents).toEqual([BEV.CONNECTED]);
    filter.write('through the filter');
    filter.shutdownWrite();
    await waitFor(() => events.length === 1);
    expect(received()).toBe('through the filter');
    expect(events).toEqual([BEV.EOF | BEV.READING]);
    filter.free();
    listener.close();
  });
});
