// Native deflate/inflate filters: a 10 MB round trip over real TCP (compressed on the wire), node:zlib
// interoperability, and truncated or corrupt streams reported as ERR_FILTER.
import { createHash } from 'node:crypto';
import net from 'node:net';
import { once } from 'node:events';
import { deflateSync, inflateSync } from 'node:zlib';
import { describe, expect, it, vi } from 'vitest';
import { Bufferevent, BuffereventError, Listener, filters, socketpair } from '../../src/index.ts';
import { BEV, EV, openFdCount, turns, waitFor, checkNothingLeaksAfterEach } from '../helpers.ts';
import { countingFilter, pattern, text } from './filter-helpers.ts';

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

checkNothingLeaksAfterEach();

describe('deflate → inflate over TCP', () => {
  it('round-trips 10 MB through two filter bufferevents intact and compressed on the wire', async () => {
    const fdsBefore = openFdCount();
    let acceptedFd: number | undefined;
    const listener = Listener.listen({ host: '127.0.0.1', port: 0 }, (fd) => {
      acceptedFd = fd;
    });
    const client = Bufferevent.socket();
    const connectEvents: number[] = [];
    client.setCallbacks({ event: (_bev, events) => connectEvents.push(events) });
    client.connect({ host: '127.0.0.1', port: listener.address.port });
    await waitFor(() => connectEvents.length > 0 && acceptedFd !== undefined, 10_000, 'the TCP connection');
    expect(connectEvents).toEqual([BEV.CONNECTED]);
    listener.close();

    // client socket ← wire counter (pass-through JS filter) ← deflater: the counter sees compressed bytes.
    const wire = countingFilter();
    const counter = Bufferevent.filter(client, { output: wire });
    const deflater = Bufferevent.filter(counter, { output: filters.deflate() });
    const server = Bufferevent.socket({ fd: acceptedFd! });
    const inflater = Bufferevent.filter(server, { input: filters.inflate() });

    const data = text(10 * 1024 * 1024);
    const received: Buffer[] = [];
    let receivedBytes = 0;
    const serverEvents: number[] = [];
    inflater.setCallbacks({
      read(bev) {
        const chunk = bev.read();
        received.push(chunk);
        receivedBytes += chunk.length;
      },
      event: (_bev, events) => serverEvents.push(events),
    });
    inflater.enable(EV.READ | EV.WRITE);
    counter.enable(EV.READ | EV.WRITE);
    deflater.enable(EV.READ | EV.WRITE);
    for (let offset = 0; offset < data.length; offset += 1 << 20)
      deflater.write(data.subarray(offset, offset + (1 << 20)));
    deflater.flush(EV.WRITE, BEV.FINISHED);
    await waitFor(() => receivedBytes === data.length, 20_000, '10 MB through the inflater');
    await waitFor(() => client.output.length === 0, 5_000, 'the client to drain');
    deflater.free(); // frees counter and client too (closeOnFree): the server reads EOF
    expect(counter.freed).toBe(true);
    await waitFor(() => serverEvents.length > 0, 5_000, 'the EOF');
    await turns(5);
    expect(serverEvents).toEqual([BEV.EOF | BEV.READING]);
    expect(sha256(Buffer.concat(received))).toBe(sha256(data));
    expect(wire.bytes).toBeGreaterThan(0);
    expect(wire.bytes).toBeLessThan(data.length / 3);
    expect(wire.modes).toContain(BEV.FINISHED); // the flush went down the chain
    inflater.free();
    await turns(3);
    expect(openFdCount()).toBe(fdsBefore);
  });

  it('writes a zlib stream that node:zlib decodes, captured at a node:net peer', async () => {
    const [mine, theirs] = socketpair();
    const peer = new net.Socket({ fd: theirs, readable: true, writable: true });
    const captured: Buffer[] = [];
    peer.on('data', (chunk: Buffer) => captured.push(chunk));
    const deflater = Bufferevent.filter(Bufferevent.socket({ fd: mine }), { output: filters.deflate() });
    deflater.enable(EV.READ | EV.WRITE);
    const data = text(1024 * 1024);
    deflater.write(data);
    deflater.flush(EV.WRITE, BEV.FINISHED);
    await waitFor(() => deflater.underlying!.output.length === 0, 5_000, 'the bytes to leave');
    deflater.free();
    await once(peer, 'end');
    const raw = Buffer.concat(captured);
    expect(raw.length).toBeLessThan(data.length / 3);
    expect(inflateSync(raw).equals(data)).toBe(true);
    peer.destroy();
  });

  it('inflates a stream made by node:zlib deflateSync, sent by a node:net peer', async () => {
    const [mine, theirs] = socketpair();
    const peer = new net.Socket({ fd: theirs, readable: true, writable: true });
    const inflater = Bufferevent.filter(Bufferevent.socket({ fd: mine }), { input: filters.inflate() });
    const data = pattern(300_000);
    const received: Buffer[] = [];
    const events: number[] = [];
    inflater.setCallbacks({
      read: (bev) => received.push(bev.read()),
      event: (_bev, flags) => events.push(flags),
    });
    inflater.enable(EV.READ | EV.WRITE);
    peer.end(deflateSync(data));
    await waitFor(() => events.length > 0, 5_000, 'the EOF');
    await turns(5);
    expect(events).toEqual([BEV.EOF | BEV.READING]);
    expect(Buffer.concat(received).equals(data)).toBe(true);
    inflater.free();
    peer.destroy();
  });
});

describe('inflate of a bad stream', () => {
  async function inflateFromPeer(bytes: Buffer) {
    const [mine, theirs] = socketpair();
    const peer = new net.Socket({ fd: theirs, readable: true, writable: true });
    const inflater = Bufferevent.filter(Bufferevent.socket({ fd: mine }), { input: filters.inflate() });
    const events: { flags: number; error: BuffereventError | undefined }[] = [];
    const read = vi.fn((bev: Bufferevent) => bev.read());
    inflater.setCallbacks({ read, event: (_bev, flags, error) => events.push({ flags, error }) });
    inflater.enable(EV.READ | EV.WRITE);
    peer.end(bytes);
    await waitFor(() => events.length > 0, 5_000, 'the error');
    await turns(10);
    inflater.free();
    peer.destroy();
    return { events, read };
  }

  it('reports a truncated stream as one ERR_FILTER error instead of EOF', async () => {
    const whole = deflateSync(text(50_000));
    const { events } = await inflateFromPeer(whole.subarray(0, Math.floor(whole.length / 2)));
    expect(events).toHaveLength(1);
    expect(events[0]!.flags).toBe(BEV.ERROR | BEV.READING);
    expect(events[0]!.error).toBeInstanceOf(BuffereventError);
    expect(events[0]!.error!.code).toBe('ERR_FILTER');
    expect(events[0]!.error!.message).toMatch(/truncated/);
  });

  it('reports garbage as one ERR_FILTER error and delivers no data', async () => {
    const garbage = Buffer.from('this is not a zlib stream at all, just plain words');
    const { events, read } = await inflateFromPeer(garbage);
    expect(events).toHaveLength(1);
    expect(events[0]!.flags).toBe(BEV.ERROR | BEV.READING);
    expect(events[0]!.error!.code).toBe('ERR_FILTER');
    expect(events[0]!.error!.message).toMatch(/invalid compressed data/);
    expect(read).not.toHaveBeenCalled();
  });

  it('reports data after the end of the stream as one ERR_FILTER error', async () => {
    const { events } = await inflateFromPeer(
      Buffer.concat([deflateSync(Buffer.from('done')), Buffer.from('trailing')]),
    );
    expect(events).toHaveLength(1);
    expect(events[0]!.flags).toBe(BEV.ERROR | BEV.READING);
    expect(events[0]!.error!.code).toBe('ERR_FILTER');
    expect(events[0]!.error!.message).toMatch(/follows the end/);
  });
});
