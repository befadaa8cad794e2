// EvBuffer I/O: addFile (a slice of a file, its fd closed by libevent) and writeTo/readFrom on sockets.
import {
  closeSync,
  fstatSync,
  mkdtempSync,
  openSync,
  readSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Bufferevent, BuffereventError, EvBuffer, socketpair } from '../../src/index.ts';
import { EV, liveCounts, turns, waitFor } from '../helpers.ts';

let dir: string;
let file: string;
const contents = '0123456789abcdefghij';

function isOpen(fd: number): boolean {
  try {
    fstatSync(fd);
    return true;
  } catch {
    return false;
  }
}

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'evbuffer-io-'));
  file = path.join(dir, 'slice.txt');
  writeFileSync(file, contents);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  await turns(2);
  expect(liveCounts()).toEqual({ bufferevents: 0, listeners: 0, events: 0, evbuffers: 0 });
});

describe('EvBuffer.addFile', () => {
  it('adds the requested slice of the file and closes the fd once the slice is consumed', () => {
    const fd = openSync(file, 'r');
    const buffer = new EvBuffer().add('[').addFile(fd, 4, 6).add(']');
    expect(buffer.length).toBe(8);
    expect(isOpen(fd)).toBe(true); // libevent owns it while the segment is buffered
    expect(buffer.remove().toString()).toBe('[456789]');
    expect(isOpen(fd)).toBe(false);
    buffer.free();
  });

  it('closes the fd when the buffer is freed with the slice unread', () => {
    const fd = openSync(file, 'r');
    const buffer = new EvBuffer().addFile(fd, 0, contents.length);
    buffer.free();
    expect(isOpen(fd)).toBe(false);
  });

  it('sends a file slice through a socket bufferevent to its peer', async () => {
    const [a, b] = socketpair();
    const sender = Bufferevent.socket({ fd: a });
    const receiver = Bufferevent.socket({ fd: b });
    let received = '';
    receiver.setCallbacks({ read: (bev) => (received += bev.read().toString()) });
    receiver.enable(EV.READ);
    const fd = openSync(file, 'r');
    sender.output.addFile(fd, 10, 10);
    sender.enable(EV.WRITE);
    await waitFor(() => received.length === 10, 10_000, 'the file slice');
    expect(received).toBe('abcdefghij');
    await waitFor(() => !isOpen(fd), 10_000, 'the file fd to close');
    sender.free();
    receiver.free();
  });

  it('refuses a bad fd, offset or length with a coded error before touching the fd', () => {
    const buffer = new EvBuffer();
    const fd = openSync(file, 'r');
    for (const call of [
      () => buffer.addFile(-1, 0, 1),
      () => buffer.addFile(fd, -1, 1),
      () => buffer.addFile(fd, 0, 1.5),
    ]) {
      expect(call).toThrow(BuffereventError);
    }
    expect(() => buffer.addFile(-1, 0, 1)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_FD' }));
    expect(isOpen(fd)).toBe(true); // refused arguments: the caller still owns the fd
    closeSync(fd);
    expect(buffer.length).toBe(0);
    buffer.free();
  });
});

describe('EvBuffer.writeTo and readFrom', () => {
  it('writes buffered bytes to a socket and the peer reads them into another buffer', () => {
    const [a, b] = socketpair();
    const out = new EvBuffer().add('hello, ').add('socket');
    expect(out.writeTo(a, 5)).toBe(5);
    expect(out.toString()).toBe(', socket');
    expect(out.writeTo(a)).toBe(8);
    expect(out.length).toBe(0);

    const into = new EvBuffer();
    expect(into.readFrom(b)).toBe(13);
    expect(into.toString()).toBe('hello, socket');
    out.free();
    into.free();
    closeSync(a);
    closeSync(b);
  });

  it('reads at most the requested count, -1 when nothing is available, and 0 at end of stream', () => {
    const [a, b] = socketpair();
    writeSync(a, 'abcdef');
    const into = new EvBuffer();
    expect(into.readFrom(b, 4)).toBe(4);
    expect(into.readFrom(b)).toBe(2);
    expect(into.readFrom(b)).toBe(-1); // would block
    closeSync(a);
    expect(into.readFrom(b)).toBe(0);
    expect(into.toString()).toBe('abcdef');
    into.free();
    closeSync(b);
  });

  it('reports 0 written when the socket would block, keeping the rest buffered', () => {
    const [a, b] = socketpair();
    const out = new EvBuffer();
    let written = 0;
    for (let round = 0; round < 1000; round++) {
      out.add(Buffer.alloc(64 * 1024, 1));
      const wrote = out.writeTo(a);
      written += wrote;
      if (wrote === 0) break;
    }
    expect(out.writeTo(a)).toBe(0);
    expect(out.length).toBeGreaterThan(0);
    const sink = Buffer.alloc(64 * 1024);
    let drained = 0;
    while (drained < written) drained += readSync(b, sink);
    expect(drained).toBe(written);
    out.free();
    closeSync(a);
    closeSync(b);
  });

  it('reports a write to a closed peer as ERR_EVBUFFER_WRITE with errno EPIPE', () => {
    const [a, b] = socketpair();
    closeSync(b);
    const out = new EvBuffer().add('nobody listens');
    let error: unknown;
    try {
      out.writeTo(a);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(BuffereventError);
    expect((error as BuffereventError).code).toBe('ERR_EVBUFFER_WRITE');
    expect((error as BuffereventError).systemCode).toBe('EPIPE');
    expect(out.length).toBe(14);
    out.free();
    closeSync(a);
  });
});
