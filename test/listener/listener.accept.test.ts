// Listener accept: IPv4 and IPv6, the peer address each accept reports, and the bound address.
import { closeSync } from 'node:fs';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Bufferevent, Listener, type SocketAddress } from '../../src/index.ts';
import { BEV, EV, liveCounts, turns, waitFor } from '../helpers.ts';

/** Connects with node:net and resolves with the client's local port once connected. */
function connectFrom(host: string, port: number): Promise<{ socket: net.Socket; localPort: number }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port }, () => resolve({ socket, localPort: socket.localPort! }));
    socket.once('error', reject);
  });
}

afterEach(async () => {
  await turns(3);
  expect(liveCounts()).toEqual({ bufferevents: 0, listeners: 0, events: 0, evbuffers: 0 });
});

describe.each([
  { host: '127.0.0.1', family: 'IPv4' as const },
  { host: '::1', family: 'IPv6' as const },
])('a Listener on $host', ({ host, family }) => {
  it('reports its address with the ephemeral port the system chose for port 0', () => {
    const listener = Listener.listen({ host, port: 0 }, () => {});
    const address = listener.address;
    expect(address).toEqual({ address: host, port: expect.any(Number), family });
    expect(address.port).toBeGreaterThanOrEqual(1024);
    expect(address.port).toBeLessThanOrEqual(65535);
    listener.close();
  });

  it('accepts a connection and reports the peer address and port', async () => {
    const accepted: Array<{ fd: number; peer: SocketAddress }> = [];
    const listener = Listener.listen({ host, port: 0 }, (fd, peer) => accepted.push({ fd, peer }));
    const { socket, localPort } = await connectFrom(host, listener.address.port);
    await waitFor(() => accepted.length === 1, 10_000, 'the accept');
    expect(accepted[0]!.peer).toEqual({ address: host, port: localPort, family });
    expect(accepted[0]!.fd).toBeGreaterThan(2);

    // The accepted fd is a working socket the callback owns.
    const server = Bufferevent.socket({ fd: accepted[0]!.fd });
    server.enable(EV.WRITE);
    server.write('hi');
    const data = await new Promise<string>((resolve) =>
      socket.once('data', (chunk) => resolve(chunk.toString())),
    );
    expect(data).toBe('hi');
    server.free();
    socket.destroy();
    listener.close();
  });

  it('accepts connections made with Bufferevent.connect, one callback each', async () => {
    const peers: SocketAddress[] = [];
    const fds: number[] = [];
    const listener = Listener.listen({ host, port: 0 }, (fd, peer) => (fds.push(fd), peers.push(peer)));
    const events: number[] = [];
    const clients = [0, 1, 2].map(() =>
      Bufferevent.socket()
        .setCallbacks({ event: (_bev, what) => events.push(what) })
        .connect({ host, port: listener.address.port }),
    );
    await waitFor(() => fds.length === 3 && events.length === 3, 10_000, 'three accepts');
    expect(events).toEqual([BEV.CONNECTED, BEV.CONNECTED, BEV.CONNECTED]);
    expect(peers.map((peer) => peer.family)).toEqual([family, family, family]);
    expect(new Set(peers.map((peer) => peer.port)).size).toBe(3);
    await turns(3);
    expect(fds).toHaveLength(3); // no extra callback
    for (const client of clients) client.free();
    for (const fd of fds) closeSync(fd);
    listener.close();
  });
});

describe('Listener port selection', () => {
  it('gives two port-0 listeners different ports', () => {
    const first = Listener.listen({ port: 0 }, () => {});
    const second = Listener.listen({ port: 0 }, () => {});
    expect(first.address.port).not.toBe(second.address.port);
    first.close();
    second.close();
  });

  it('listens on 127.0.0.1 when no host is given', () => {
    const listener = Listener.listen({}, () => {});
    expect(listener.address.address).toBe('127.0.0.1');
    expect(listener.address.family).toBe('IPv4');
    listener.close();
  });
});
