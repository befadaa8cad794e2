// The opt-in socket fast paths keep libevent's semantics: larger reads honour watermarks and report
// EOF/errors with libevent's flags; write-through fires write callbacks as if through the output.
import net from 'node:net';
import { once } from 'node:events';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BEV, Bufferevent, EV, EvBuffer, socketpair } from '../../src/index.ts';
import { liveCounts, turns, waitFor } from '../helpers.ts';

function fillPattern(size: number): Buffer {
  const data = Buffer.alloc(size);
  for (let i = 0; i < size; i++) data[i] = (i * 13 + (i >>> 9)) & 0xff;
  return data;
}

/** A bufferevent on one end of a socket pair, and a plain node:net socket on the other. */
function bufferEventWithNetPeer(options: Parameters<typeof Bufferevent.socket>[0]): {
  bev: Bufferevent;
  peer: net.Socket;
} {
  const [mine, theirs] = socketpair();
  const peer = new net.Socket({ fd: theirs, readable: true, writable: true });
  return { bev: Bufferevent.socket({ fd: mine, ...options }), peer };
}

describe('maxReadPerWakeup', () => {
  it('delivers more than 4096 bytes per read callback', async () => {
    const { bev, peer } = bufferEventWithNetPeer({ maxReadPerWakeup: 65536 });
    const sizes: number[] = [];
    bev.setCallbacks({ read: (b) => sizes.push(b.read().length) });
    bev.enable(EV.READ);
    peer.write(fillPattern(1 << 20));
    await waitFor(() => sizes.reduce((a, b) => a + b, 0) === 1 << 20);
    expect(Math.max(...sizes)).toBeGreaterThan(4096);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(65536 + 4096);
    bev.free();
    peer.destroy();
  });

  it('never reads past the read high watermark', async () => {
    const { bev, peer } = bufferEventWithNetPeer({ maxReadPerWakeup: 65536 });
    const seen: number[] = [];
    bev.setWatermark(EV.READ, 0, 10_000);
    bev.setCallbacks({ read: (b) => seen.push(b.input.length) });
    bev.enable(EV.READ);
    peer.write(fillPattern(200_000));
    await waitFor(() => seen.length > 0);
    await turns(5);
    // libevent's own read may add one 4096-byte chunk beyond the mark; ours never adds more.
    expect(bev.input.length).toBeLessThanOrEqual(10_000 + 4096);
    expect(Math.max(...seen)).toBeLessThanOrEqual(10_000 + 4096);
    let total = 0;
    bev.setCallbacks({ read: (b) => (total += b.read().length) });
    total += bev.read().length;
    await waitFor(() => total === 200_000);
    bev.free();
    peer.destroy();
  });

  it('reports EOF | READING after the last data, with reading disabled', async () => {
    const { bev, peer } = bufferEventWithNetPeer({ maxReadPerWakeup: 65536 });
    const log: string[] = [];
    let received = 0;
    bev.setCallbacks({
      read: (b) => {
        received += b.read().length;
        log.push('read');
      },
      event: (_b, events) => log.push(`event:${events}`),
    });
    bev.enable(EV.READ);
    peer.end(fillPattern(300_000));
    await waitFor(() => log.includes(`event:${BEV.EOF | BEV.READING}`));
    expect(received).toBe(300_000);
    expect(log.at(-1)).toBe(`event:${BEV.EOF | BEV.READING}`);
    expect(log.filter((entry) => entry.startsWith('event')).length).toBe(1);
    expect(bev.enabled & EV.READ).toBe(0);
    bev.free();
  });
});

describe('maxReadPerWakeup and a read callback that leaves the input at the high watermark', () => {
  it('calls the read callback once and then waits for the input to drain, instead of spinning', async () => {
    const { bev, peer } = bufferEventWithNetPeer({ maxReadPerWakeup: 65536 });
    let calls = 0;
    bev.setWatermark(EV.READ, 0, 1000);
    bev.setCallbacks({ read: () => calls++ });
    bev.enable(EV.READ);
    peer.write(fillPattern(100_000));
    await waitFor(() => calls > 0);
    await new Promise((resolve) => setTimeout(resolve, 200));
    // libevent's own read path calls it hundreds of thousands of times here (docs/benchmarks.md).
    expect(calls).toBe(1);
    expect(bev.input.length).toBe(1000);
    let total = bev.read().length;
    bev.setCallbacks({ read: (b) => (total += b.read().length) });
    await waitFor(() => total === 100_000);
    bev.free();
    peer.destroy();
  });
});

describe('writeThrough', () => {
  it('sends at once when the output is empty and still calls the write callback, deferred', async () => {
    const start = liveCounts();
    const { bev, peer } = bufferEventWithNetPeer({ writeThrough: true });
    let writes = 0;
    bev.setCallbacks({ write: () => writes++ });
    bev.enable(EV.WRITE);
    const received: Buffer[] = [];
    peer.on('data', (chunk) => received.push(chunk));
    bev.write('through the kernel directly');
    // Nothing was queued: the kernel took it all inside write().
    expect(bev.output.length).toBe(0);
    expect(writes).toBe(0); // never synchronously inside write()
    await waitFor(() => writes === 1);
    await waitFor(() => Buffer.concat(received).toString() === 'through the kernel directly');
    await turns(3);
    expect(writes).toBe(1);
    bev.free();
    peer.destroy();
    await turns(3);
    expect(liveCounts()).toEqual(start);
  });

  it('queues what the kernel did not take and calls the write callback once the output drains to the low watermark', async () => {
    const { bev, peer } = bufferEventWithNetPeer({ writeThrough: true });
    peer.pause();
    const outputAtWriteCallback: number[] = [];
    bev.setWatermark(EV.WRITE, 1000);
    bev.setCallbacks({ write: (b) => outputAtWriteCallback.push(b.output.length) });
    bev.enable(EV.WRITE);
    const size = 8 * 1024 * 1024;
    bev.write(fillPattern(size));
    expect(bev.output.length).toBeGreaterThan(0);
    expect(bev.output.length).toBeLessThan(size);
    let received = 0;
    peer.on('data', (chunk: Buffer) => (received += chunk.length));
    peer.resume();
    await waitFor(() => received === size);
    await waitFor(() => outputAtWriteCallback.length > 0);
    for (const length of outputAtWriteCallback) expect(length).toBeLessThanOrEqual(1000);
    bev.free();
    peer.destroy();
  });

  it('queues behind data already in the output, keeping byte order', async () => {
    const { bev, peer } = bufferEventWithNetPeer({ writeThrough: true });
    bev.enable(EV.WRITE);
    const parts = ['a'.repeat(300_000), 'b'.repeat(10), 'c'.repeat(200_000)];
    for (const part of parts) bev.write(part);
    const received: Buffer[] = [];
    peer.on('data', (chunk) => received.push(chunk));
    await waitFor(() => Buffer.concat(received).length === 500_010);
    expect(Buffer.concat(received).toString()).toBe(parts.join(''));
    bev.free();
    peer.destroy();
  });

  it('reports a write to a closed peer as ERROR | WRITING from libevent instead of throwing', async () => {
    const { bev, peer } = bufferEventWithNetPeer({ writeThrough: true });
    const events: number[] = [];
    bev.setCallbacks({ event: (_b, flags) => events.push(flags) });
    bev.enable(EV.WRITE);
    peer.destroy();
    await once(peer, 'close');
    expect(() => bev.write(fillPattern(100_000))).not.toThrow();
    await waitFor(() => events.length > 0);
    expect(events[0]! & (BEV.ERROR | BEV.WRITING)).toBe(BEV.ERROR | BEV.WRITING);
    bev.free();
  });

  it('moves an EvBuffer straight to the socket with write(evbuffer), leaving the source empty', async () => {
    const { bev, peer } = bufferEventWithNetPeer({ writeThrough: true });
    let writes = 0;
    bev.setCallbacks({ write: () => writes++ });
    bev.enable(EV.WRITE);
    const source = new EvBuffer().add(fillPattern(3 * 1024 * 1024));
    const received: Buffer[] = [];
    peer.on('data', (chunk) => received.push(chunk));
    bev.write(source);
    expect(source.length).toBe(0);
    expect(writes).toBe(0);
    await waitFor(() => Buffer.concat(received).length === 3 * 1024 * 1024);
    expect(Buffer.concat(received).equals(fillPattern(3 * 1024 * 1024))).toBe(true);
    await waitFor(() => writes >= 1);
    source.free();
    bev.free();
    peer.destroy();
  });

  it('echoes with write(bev.input) without losing or reordering bytes', async () => {
    const { bev, peer } = bufferEventWithNetPeer({ writeThrough: true, maxReadPerWakeup: 65536 });
    bev.setCallbacks({ read: (b) => b.write(b.input) });
    bev.enable(EV.READ | EV.WRITE);
    const data = fillPattern(5 * 1024 * 1024 + 17);
    const received: Buffer[] = [];
    peer.on('data', (chunk) => received.push(chunk));
    for (let offset = 0; offset < data.length; offset += 100_000)
      peer.write(data.subarray(offset, offset + 100_000));
    await waitFor(() => Buffer.concat(received).length === data.length);
    expect(Buffer.concat(received).equals(data)).toBe(true);
    expect(bev.input.length).toBe(0);
    bev.free();
    peer.destroy();
  });
});

describe('the fast paths on a descriptor that is not a socket', () => {
  // A FIFO opened for reading and writing is one descriptor that reads back what was written to it:
  // recv and send refuse it (ENOTSOCK), so larger reads and write-through use readv and writev.
  function fifo(): { path: string; fd: number; remove: () => void } {
    const dir = mkdtempSync(join(tmpdir(), 'bufferevent-fifo-'));
    const path = join(dir, 'fifo');
    execFileSync('mkfifo', [path]);
    const fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
    return { path, fd, remove: () => rmSync(dir, { recursive: true, force: true }) };
  }

  it('reads with maxReadPerWakeup what another writer put in first', async () => {
    const { path, fd, remove } = fifo();
    const bev = Bufferevent.socket({ fd, closeOnFree: true, maxReadPerWakeup: 65536, writeThrough: true });
    const writer = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
    const data = fillPattern(60_000);
    expect(writeSync(writer, data)).toBe(data.length);
    closeSync(writer);
    const received: Buffer[] = [];
    bev.setCallbacks({ read: (b) => received.push(b.read()) });
    bev.enable(EV.READ);
    await waitFor(() => Buffer.concat(received).length === data.length);
    expect(Buffer.concat(received).equals(data)).toBe(true);
    bev.free();
    remove();
  });

  it('writes through an EvBuffer and Buffers larger than the pipe holds, every byte back in order', async () => {
    const { fd, remove } = fifo();
    const bev = Bufferevent.socket({ fd, closeOnFree: true, maxReadPerWakeup: 65536, writeThrough: true });
    const received: Buffer[] = [];
    bev.setCallbacks({ read: (b) => received.push(b.read()) });
    bev.enable(EV.READ | EV.WRITE);
    const first = fillPattern(100_000); // more than the pipe's 64 KiB: the rest is queued
    const source = new EvBuffer().add(first);
    bev.write(source);
    expect(source.length).toBe(0);
    const rest = fillPattern(300_001).subarray(1);
    for (let offset = 0; offset < rest.length; offset += 50_000)
      bev.write(rest.subarray(offset, offset + 50_000));
    const expected = Buffer.concat([first, rest]);
    await waitFor(() => Buffer.concat(received).length === expected.length);
    expect(Buffer.concat(received).equals(expected)).toBe(true);
    source.free();
    bev.free();
    remove();
  });
});
