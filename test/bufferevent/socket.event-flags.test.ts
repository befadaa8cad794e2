// The exact event flags and error codes libevent reports for connects, EOF, resets and broken pipes.
import net from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Bufferevent, BuffereventError, Listener } from '../../src/index.ts';
import { BEV, EV, liveCounts, socketPairBufferevents, tcpPair, turns, waitFor } from '../helpers.ts';

interface Seen {
  events: number;
  code: string | undefined;
}

function recordEvents(bev: Bufferevent, seen: Seen[]): void {
  bev.setCallbacks({ event: (_bev, events, error) => seen.push({ events, code: error?.code }) });
}

/** A port on 127.0.0.1 on which nothing listens (it was just bound and closed). */
function closedPort(): number {
  const listener = Listener.listen({ host: '127.0.0.1', port: 0 }, () => {});
  const port = listener.address.port;
  listener.close();
  return port;
}

/** A node:net server; `sockets` are its accepted connections. */
async function nodeServer(): Promise<{ server: net.Server; port: number; sockets: net.Socket[] }> {
  const sockets: net.Socket[] = [];
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    sockets.push(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as net.AddressInfo).port, sockets };
}

let start: ReturnType<typeof liveCounts>;
beforeEach(() => {
  start = liveCounts();
});
afterEach(() => {
  expect(liveCounts()).toEqual(start);
});

describe('connect', () => {
  it('reports exactly BEV.CONNECTED, with no error, once the connection is up', async () => {
    const accepted: number[] = [];
    const listener = Listener.listen({ host: '127.0.0.1', port: 0 }, (fd) => accepted.push(fd));
    const bev = Bufferevent.socket();
    const seen: Seen[] = [];
    recordEvents(bev, seen);
    bev.connect({ host: '127.0.0.1', port: listener.address.port });
    await waitFor(() => seen.length > 0 && accepted.length === 1, 5_000, 'the connection');
    await turns(5);
    expect(seen).toEqual([{ events: BEV.CONNECTED, code: undefined }]);
    const server = Bufferevent.socket({ fd: accepted[0]! });
    bev.free();
    server.free();
    listener.close();
  });

  it('reports exactly BEV.ERROR with ECONNREFUSED for a loopback port nobody listens on', async () => {
    const bev = Bufferevent.socket();
    const errors: BuffereventError[] = [];
    const seen: Seen[] = [];
    bev.setCallbacks({
      event(_bev, events, error) {
        seen.push({ events, code: error?.code });
        if (error) errors.push(error);
      },
    });
    bev.connect({ host: '127.0.0.1', port: closedPort() });
    await waitFor(() => seen.length > 0, 5_000, 'the refused connect');
    await turns(5);
    // libevent's writecb: a failed connect is BEV_EVENT_ERROR alone, without BEV_EVENT_WRITING.
    expect(seen).toEqual([{ events: BEV.ERROR, code: 'ECONNREFUSED' }]);
    expect(errors[0]).toBeInstanceOf(BuffereventError);
    expect(errors[0]!.systemCode).toBe('ECONNREFUSED');
    bev.free();
  });
});

describe('end of the connection', () => {
  it('reports BEV.EOF | BEV.READING when the peer closes cleanly, and stops reading', async () => {
    const { client, server } = await tcpPair();
    const seen: Seen[] = [];
    recordEvents(client, seen);
    client.enable(EV.READ);
    server.free(); // closes the fd: a FIN
    await waitFor(() => seen.length > 0, 5_000, 'EOF');
    await turns(5);
    expect(seen).toEqual([{ events: BEV.EOF | BEV.READING, code: undefined }]);
    expect(client.enabled & EV.READ).toBe(0);
    client.free();
  });

  it('reports BEV.ERROR | BEV.READING with ECONNRESET when the peer resets the connection', async () => {
    const { server, port, sockets } = await nodeServer();
    const bev = Bufferevent.socket();
    const seen: Seen[] = [];
    recordEvents(bev, seen);
    bev.connect({ host: '127.0.0.1', port });
    bev.enable(EV.READ);
    await waitFor(() => seen.length === 1 && sockets.length === 1, 5_000, 'the connection');
    expect(seen[0]).toEqual({ events: BEV.CONNECTED, code: undefined });
    sockets[0]!.resetAndDestroy(); // SO_LINGER 0, then close: an RST
    await waitFor(() => seen.length > 1, 5_000, 'the reset');
    await turns(5);
    expect(seen.slice(1)).toEqual([{ events: BEV.ERROR | BEV.READING, code: 'ECONNRESET' }]);
    expect(bev.enabled & EV.READ).toBe(0);
    bev.free();
    await new Promise((resolve) => server.close(resolve));
  });
});

describe.each([
  {
    transport: 'TCP',
    pair: async (): Promise<[Bufferevent, Bufferevent]> => {
      const { client, server } = await tcpPair();
      return [client, server];
    },
  },
  { transport: 'a Unix socket pair', pair: async () => socketPairBufferevents() },
])('writing to a closed peer over $transport', ({ pair }) => {
  it('reports BEV.ERROR | BEV.WRITING with EPIPE or ECONNRESET and stops writing', async () => {
    const [writer, peer] = await pair();
    peer.free();
    const seen: Seen[] = [];
    let writes = 0;
    writer.setCallbacks({
      // Keep the output non-empty until the kernel refuses; bounded so a broken binding cannot loop.
      write(bev) {
        if (writes++ < 1_000) bev.write(Buffer.alloc(16 * 1024, 0x62));
      },
      event: (_bev, events, error) => seen.push({ events, code: error?.code }),
    });
    // Only writing is enabled: a reader would see EOF first.
    writer.enable(EV.WRITE);
    writer.write(Buffer.alloc(16 * 1024, 0x61));
    await waitFor(() => seen.length > 0, 10_000, 'the write error');
    await turns(5);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.events).toBe(BEV.ERROR | BEV.WRITING);
    expect(['EPIPE', 'ECONNRESET']).toContain(seen[0]!.code);
    expect(writer.enabled & EV.WRITE).toBe(0);
    expect(writes).toBeLessThan(1_000);
    writer.free();
  });
});
