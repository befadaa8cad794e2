// Listener lifecycle: disable leaves connections in the backlog, enable accepts them, close frees the
// port, reusePort shares one.
import { closeSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { Bufferevent, BuffereventError, Listener } from '../../src/index.ts';
import { BEV, liveCounts, turns, waitFor } from '../helpers.ts';

/** A client bufferevent connecting to `port`, with its events recorded. */
function client(port: number): { bev: Bufferevent; events: number[] } {
  const events: number[] = [];
  const bev = Bufferevent.socket()
    .setCallbacks({ event: (_bev, what) => events.push(what) })
    .connect({ host: '127.0.0.1', port });
  return { bev, events };
}

afterEach(async () => {
  await turns(3);
  expect(liveCounts()).toEqual({ bufferevents: 0, listeners: 0, events: 0, evbuffers: 0 });
});

describe('Listener.disable and enable', () => {
  it('leaves a connection pending in the backlog while disabled and accepts it once enabled', async () => {
    const accepted: number[] = [];
    const listener = Listener.listen({ port: 0 }, (fd) => accepted.push(fd));
    listener.disable();
    const peer = client(listener.address.port);
    // The kernel completes the handshake from the backlog: the client is connected, nothing is accepted.
    await waitFor(() => peer.events.length === 1, 10_000, 'the client connect');
    expect(peer.events).toEqual([BEV.CONNECTED]);
    await turns(10);
    expect(accepted).toEqual([]);

    listener.enable();
    await waitFor(() => accepted.length === 1, 10_000, 'the accept after enable');
    await turns(3);
    expect(accepted).toHaveLength(1);
    closeSync(accepted[0]!);
    peer.bev.free();
    listener.close();
  });

  it('can be disabled and enabled repeatedly, accepting only while enabled', async () => {
    const accepted: number[] = [];
    const listener = Listener.listen({ port: 0 }, (fd) => accepted.push(fd));
    const { port } = listener.address;
    const peers: Array<ReturnType<typeof client>> = [];
    for (let round = 1; round <= 3; round++) {
      listener.disable().disable();
      peers.push(client(port));
      await waitFor(() => peers.at(-1)!.events.length === 1, 10_000, 'the client connect');
      await turns(5);
      expect(accepted).toHaveLength(round - 1);
      listener.enable().enable();
      await waitFor(() => accepted.length === round, 10_000, 'the accept');
    }
    for (const fd of accepted) closeSync(fd);
    for (const peer of peers) peer.bev.free();
    listener.close();
  });
});

describe('Listener.close', () => {
  it('frees the port at once, so a new listener can bind it', () => {
    const first = Listener.listen({ port: 0 }, () => {});
    const { port } = first.address;
    first.close();
    const second = Listener.listen({ port }, () => {});
    expect(second.address.port).toBe(port);
    second.close();
  });

  it('refuses a connection made after close (ECONNREFUSED)', async () => {
    const listener = Listener.listen({ port: 0 }, () => {
      throw new Error('a closed listener must not accept');
    });
    const { port } = listener.address;
    listener.close();
    const seen: Array<{ what: number; code: string | undefined }> = [];
    const peer = Bufferevent.socket()
      .setCallbacks({ event: (_bev, what, error) => seen.push({ what, code: error?.code }) })
      .connect({ host: '127.0.0.1', port });
    await waitFor(() => seen.length === 1, 10_000, 'the refusal');
    expect(seen).toEqual([{ what: BEV.ERROR, code: 'ECONNREFUSED' }]);
    peer.free();
  });
});

describe('Listener reusePort', () => {
  it('lets two listeners bind the same port, and between them they accept every connection', async () => {
    const accepted = { first: [] as number[], second: [] as number[] };
    const first = Listener.listen({ port: 0, reusePort: true }, (fd) => accepted.first.push(fd));
    const { port } = first.address;
    const second = Listener.listen({ port, reusePort: true }, (fd) => accepted.second.push(fd));
    expect(second.address.port).toBe(port);

    const peers = Array.from({ length: 20 }, () => client(port));
    await waitFor(() => accepted.first.length + accepted.second.length === 20, 10_000, 'twenty accepts');
    expect(peers.every((peer) => peer.events.join() === String(BEV.CONNECTED))).toBe(true);
    for (const fd of [...accepted.first, ...accepted.second]) closeSync(fd);
    for (const peer of peers) peer.bev.free();
    first.close();
    second.close();
  });

  it('refuses a second listener on the port when the first did not ask for reusePort', () => {
    const first = Listener.listen({ port: 0 }, () => {});
    let error: unknown;
    try {
      Listener.listen({ port: first.address.port, reusePort: true }, () => {});
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(BuffereventError);
    expect((error as BuffereventError).code).toBe('ERR_LISTEN');
    expect((error as BuffereventError).systemCode).toBe('EADDRINUSE');
    first.close();
  });
});
