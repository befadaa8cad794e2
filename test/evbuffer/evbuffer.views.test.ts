// A socket bufferevent's input and output views: libevent freezes the END of the input and the START
// of the output, views cannot be freed by themselves, and they die with their bufferevent.
import { closeSync, openSync, writeSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { Bufferevent, EOL, EvBuffer, socketpair } from '../../src/index.ts';
import { EV, liveCounts, turns, waitFor, errorCodeOf as codeOf } from '../helpers.ts';

const cleanups: Array<() => void> = [];

/** Closes `fd` after the test (unless it was closed already by then). */
function closeLater(fd: number): number {
  cleanups.push(() => closeSync(fd));
  return fd;
}

/** A socket bufferevent on one end of a pair (not enabled) and the raw peer fd, both freed after the test. */
function onPair(): { bev: Bufferevent; peer: number } {
  const [a, b] = socketpair();
  const bev = Bufferevent.socket({ fd: a });
  cleanups.push(() => bev.free());
  return { bev, peer: closeLater(b) };
}

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) cleanup();
  await turns(2);
  expect(liveCounts()).toEqual({ bufferevents: 0, listeners: 0, events: 0, evbuffers: 0 });
});

describe("a socket bufferevent's input (end frozen)", () => {
  it('refuses add and addBuffer with ERR_EVBUFFER_FROZEN, and keeps its contents', () => {
    const { bev } = onPair();
    bev.input.prepend('kept');
    const source = new EvBuffer().add('moved?');
    expect(codeOf(() => bev.input.add('x'))).toBe('ERR_EVBUFFER_FROZEN');
    expect(codeOf(() => bev.input.addBuffer(source))).toBe('ERR_EVBUFFER_FROZEN');
    expect(source.toString()).toBe('moved?');
    expect(bev.input.toString()).toBe('kept');
    source.free();
  });

  it('allows prepend, remove, drain, copyOut, search and readLine at its start', () => {
    const { bev } = onPair();
    bev.input.prepend('line two\n').prepend('line one\n');
    expect(bev.input.copyOut(4).toString()).toBe('line');
    expect(bev.input.search('two')).toBe(14);
    expect(bev.input.readLine(EOL.LF)).toBe('line one');
    expect(bev.input.drain(5)).toBe(5);
    expect(bev.input.remove().toString()).toBe('two\n');
  });

  it('still takes data from libevent after a refused add', async () => {
    const { bev, peer } = onPair();
    expect(codeOf(() => bev.input.add('x'))).toBe('ERR_EVBUFFER_FROZEN');
    bev.enable(EV.READ);
    writeSync(peer, 'from the socket');
    await waitFor(() => bev.input.length === 15, 10_000, 'socket data');
    expect(bev.read().toString()).toBe('from the socket');
  });

  it('refuses readFrom with ERR_EVBUFFER_FROZEN (not a system error)', () => {
    const { bev } = onPair();
    const [x, y] = socketpair().map(closeLater) as [number, number];
    writeSync(y, 'bytes');
    expect(codeOf(() => bev.input.readFrom(x))).toBe('ERR_EVBUFFER_FROZEN');
    expect(bev.input.length).toBe(0);
  });

  it('refuses addFile with ERR_EVBUFFER_FROZEN (not a system error)', () => {
    const { bev } = onPair();
    const fd = openSync('/proc/self/stat', 'r');
    expect(codeOf(() => bev.input.addFile(fd, 0, 4))).toBe('ERR_EVBUFFER_FROZEN');
    expect(bev.input.length).toBe(0);
  });
});

describe("a socket bufferevent's output (start frozen)", () => {
  it('refuses prepend, remove and drain with ERR_EVBUFFER_FROZEN, and keeps its contents', () => {
    const { bev } = onPair();
    bev.write('queued\n');
    expect(codeOf(() => bev.output.prepend('x'))).toBe('ERR_EVBUFFER_FROZEN');
    expect(codeOf(() => bev.output.remove(1))).toBe('ERR_EVBUFFER_FROZEN');
    expect(codeOf(() => bev.output.drain(1))).toBe('ERR_EVBUFFER_FROZEN');
    expect(bev.output.length).toBe(7);
    expect(bev.output.pullup().toString()).toBe('queued\n');
  });

  it('allows add, addBuffer and search at its end, and sends what was added', async () => {
    const { bev, peer } = onPair();
    const reader = Bufferevent.socket({ fd: peer, closeOnFree: false });
    let received = '';
    reader.setCallbacks({ read: (self) => (received += self.read().toString()) });
    reader.enable(EV.READ);
    const source = new EvBuffer().add('-moved');
    bev.output.add('added');
    bev.output.addBuffer(source);
    expect(source.length).toBe(0);
    expect(bev.output.search('moved')).toBe(6);
    bev.enable(EV.WRITE);
    await waitFor(() => received === 'added-moved', 10_000, 'the output at the peer');
    expect(bev.output.length).toBe(0);
    source.free();
    reader.free();
  });

  it('copies out exactly the queued bytes, or refuses with ERR_EVBUFFER_FROZEN', () => {
    // evbuffer_copyout fails on a start-frozen buffer; the binding must not hand back other memory.
    const { bev } = onPair();
    bev.write('exact bytes');
    let copied: string | undefined;
    const code = codeOf(() => (copied = bev.output.copyOut().toString()));
    expect(code === 'ERR_EVBUFFER_FROZEN' || copied === 'exact bytes').toBe(true);
  });

  it('refuses readLine with ERR_EVBUFFER_FROZEN instead of reporting no line', () => {
    // libevent's evbuffer_readln returns NULL on a start-frozen buffer even when a line is there.
    const { bev } = onPair();
    bev.write('a whole line\n');
    expect(codeOf(() => bev.output.readLine(EOL.LF))).toBe('ERR_EVBUFFER_FROZEN');
    expect(bev.output.length).toBe(13);
  });

  it('refuses writeTo with ERR_EVBUFFER_FROZEN (not a system error)', () => {
    const { bev } = onPair();
    const [x] = socketpair().map(closeLater) as [number, number];
    bev.write('bytes');
    expect(codeOf(() => bev.output.writeTo(x))).toBe('ERR_EVBUFFER_FROZEN');
    expect(bev.output.length).toBe(5);
  });
});

describe('EvBuffer views and ownership', () => {
  it('refuses free() on a view with ERR_NOT_OWNER, leaving the view usable', () => {
    const { bev } = onPair();
    bev.write('still here');
    expect(codeOf(() => bev.input.free())).toBe('ERR_NOT_OWNER');
    expect(codeOf(() => bev.output[Symbol.dispose]())).toBe('ERR_NOT_OWNER');
    expect(bev.output.length).toBe(10);
  });

  it('returns the same view object each time', () => {
    const { bev } = onPair();
    expect(bev.input).toBe(bev.input);
    expect(bev.output).toBe(bev.output);
    expect(bev.input).not.toBe(bev.output);
  });

  it('makes both views throw ERR_FREED once their bufferevent is freed', () => {
    const { bev } = onPair();
    const { input, output } = bev;
    bev.free();
    expect(codeOf(() => input.length)).toBe('ERR_FREED');
    expect(codeOf(() => output.add('late'))).toBe('ERR_FREED');
    expect(codeOf(() => input.readLine())).toBe('ERR_FREED');
    expect(liveCounts().evbuffers).toBe(0);
  });
});
