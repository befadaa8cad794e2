// Filter failures ('error', a throw, a bad verdict) raise exactly one BEV.ERROR with ERR_FILTER; the native
// lines filter passes whole lines only and rejects a line over maxLength.
import { describe, expect, it, vi } from 'vitest';
import { Bufferevent, BuffereventError, filters, type FilterFunction } from '../../src/index.ts';
import { BEV, EV, socketPairBufferevents, turns, waitFor, checkNothingLeaksAfterEach } from '../helpers.ts';

checkNothingLeaksAfterEach();

interface Seen {
  flags: number;
  error: BuffereventError | undefined;
}

function filtered(sides: {
  input?: FilterFunction | ReturnType<typeof filters.lines>;
  output?: FilterFunction;
}) {
  const [underlying, peer] = socketPairBufferevents();
  const filter = Bufferevent.filter(underlying, sides);
  const events: Seen[] = [];
  const read = vi.fn((bev: Bufferevent) => bev.read().toString());
  filter.setCallbacks({ read, event: (_bev, flags, error) => events.push({ flags, error }) });
  filter.enable(EV.READ | EV.WRITE);
  peer.enable(EV.READ | EV.WRITE);
  return { filter, peer, events, read };
}

describe('a failing JavaScript filter', () => {
  it("raises one ERROR | READING with ERR_FILTER when the input filter returns 'error', and is not called again", async () => {
    const input = vi.fn<FilterFunction>(() => 'error');
    const { filter, peer, events, read } = filtered({ input });
    peer.write('first');
    await waitFor(() => events.length === 1, 5_000, 'the error');
    peer.write('second');
    await turns(5);
    peer.free(); // the underlying EOF must not add an event after the error
    await turns(10);
    expect(events).toHaveLength(1);
    expect(events[0]!.flags).toBe(BEV.ERROR | BEV.READING);
    expect(events[0]!.error).toBeInstanceOf(BuffereventError);
    expect(events[0]!.error!.code).toBe('ERR_FILTER');
    expect(events[0]!.error!.message).toBe("the input filter returned 'error'");
    expect(input).toHaveBeenCalledTimes(1);
    expect(read).not.toHaveBeenCalled();
    filter.free();
  });

  it('raises one ERROR | READING naming the exception when the input filter throws', async () => {
    const input = vi.fn<FilterFunction>(() => {
      throw new Error('bad record header');
    });
    const { filter, peer, events, read } = filtered({ input });
    peer.write('x');
    await waitFor(() => events.length === 1, 5_000, 'the error');
    peer.write('y');
    await turns(10);
    expect(events).toHaveLength(1);
    expect(events[0]!.flags).toBe(BEV.ERROR | BEV.READING);
    expect(events[0]!.error!.code).toBe('ERR_FILTER');
    expect(events[0]!.error!.message).toBe('the input filter threw: bad record header');
    expect(input).toHaveBeenCalledTimes(1);
    expect(read).not.toHaveBeenCalled();
    filter.free();
    peer.free();
  });

  it('raises one ERROR | WRITING when the output filter throws, and write() itself does not throw', async () => {
    const output = vi.fn<FilterFunction>(() => {
      throw new TypeError('cannot encode');
    });
    const { filter, peer, events } = filtered({ output });
    const peerRead = vi.fn();
    peer.setCallbacks({ read: peerRead });
    expect(() => filter.write('payload')).not.toThrow();
    expect(events).toEqual([]); // reported from the loop, not inside write()
    await waitFor(() => events.length === 1, 5_000, 'the error');
    expect(() => filter.write('more')).not.toThrow();
    await turns(10);
    expect(events).toHaveLength(1);
    expect(events[0]!.flags).toBe(BEV.ERROR | BEV.WRITING);
    expect(events[0]!.error!.code).toBe('ERR_FILTER');
    expect(events[0]!.error!.message).toBe('the output filter threw: cannot encode');
    expect(output).toHaveBeenCalledTimes(1);
    expect(peerRead).not.toHaveBeenCalled();
    filter.free();
    peer.free();
  });

  it('treats a verdict other than ok, need-more or error as an error naming it', async () => {
    const input = (() => 'maybe') as unknown as FilterFunction;
    const { filter, peer, events } = filtered({ input });
    peer.write('x');
    await waitFor(() => events.length === 1, 5_000, 'the error');
    await turns(5);
    expect(events).toHaveLength(1);
    expect(events[0]!.flags).toBe(BEV.ERROR | BEV.READING);
    expect(events[0]!.error!.code).toBe('ERR_FILTER');
    expect(events[0]!.error!.message).toBe("the input filter returned 'maybe'");
    filter.free();
    peer.free();
  });

  it('sends the filter exception to no uncaught-exception handler', async () => {
    const uncaught = vi.fn();
    process.on('uncaughtException', uncaught);
    try {
      const { filter, peer, events } = filtered({
        input: () => {
          throw new Error('contained');
        },
      });
      peer.write('x');
      await waitFor(() => events.length === 1, 5_000, 'the error');
      await turns(5);
      expect(uncaught).not.toHaveBeenCalled();
      filter.free();
      peer.free();
    } finally {
      process.off('uncaughtException', uncaught);
    }
  });
});

describe('filters.lines()', () => {
  it('delivers whole lines only, holding a partial line until its newline arrives', async () => {
    const { filter, peer, events, read } = filtered({ input: filters.lines({ maxLength: 100 }) });
    peer.write('ab\ncd');
    await waitFor(() => read.mock.calls.length === 1, 5_000, 'the first line');
    await turns(5);
    expect(read.mock.results.map((result) => result.value)).toEqual(['ab\n']);
    peer.write('ef\ngh\nij');
    await waitFor(() => read.mock.calls.length === 2, 5_000, 'the next lines');
    await turns(5);
    expect(read.mock.results.map((result) => result.value)).toEqual(['ab\n', 'cdef\ngh\n']);
    expect(events).toEqual([]);
    filter.free();
    peer.free();
  });

  it('passes an unterminated last line through at the underlying EOF, before EOF | READING', async () => {
    const { filter, peer, events, read } = filtered({ input: filters.lines() });
    const log: string[] = [];
    filter.setCallbacks({
      read: (bev) => log.push(`read:${bev.read().toString()}`),
      event: (_bev, flags) => log.push(`event:${flags}`),
    });
    peer.write('one\ntwo');
    await waitFor(() => peer.output.length === 0 && log.length === 1, 5_000, 'the first line');
    peer.free();
    await waitFor(() => log.length === 3, 5_000, 'the last line and EOF');
    await turns(5);
    expect(log).toEqual(['read:one\n', 'read:two', `event:${BEV.EOF | BEV.READING}`]);
    expect(events).toEqual([]);
    expect(read).not.toHaveBeenCalled();
    filter.free();
  });

  it('reports a line longer than maxLength as one ERR_FILTER error', async () => {
    const { filter, peer, events, read } = filtered({ input: filters.lines({ maxLength: 8 }) });
    peer.write('01234567\n012345678\nnext\n');
    await waitFor(() => events.length === 1, 5_000, 'the error');
    await turns(5);
    expect(events).toHaveLength(1);
    expect(events[0]!.flags).toBe(BEV.ERROR | BEV.READING);
    expect(events[0]!.error!.code).toBe('ERR_FILTER');
    expect(events[0]!.error!.message).toBe('a line is longer than maxLength (8 bytes)');
    expect(read.mock.results.map((result) => result.value).join('')).not.toContain('012345678');
    filter.free();
    peer.free();
  });

  it('reports a partial line that already exceeds maxLength without waiting for its newline', async () => {
    const { filter, peer, events, read } = filtered({ input: filters.lines({ maxLength: 16 }) });
    peer.write('x'.repeat(17));
    await waitFor(() => events.length === 1, 5_000, 'the error');
    expect(events[0]!.flags).toBe(BEV.ERROR | BEV.READING);
    expect(events[0]!.error!.code).toBe('ERR_FILTER');
    expect(read).not.toHaveBeenCalled();
    filter.free();
    peer.free();
  });

  it('rejects a bad maxLength with ERR_INVALID_FILTER', () => {
    for (const maxLength of [0, -1, 1.5]) {
      let code: string | undefined;
      try {
        filters.lines({ maxLength });
      } catch (error) {
        code = (error as BuffereventError).code;
      }
      expect(code).toBe('ERR_INVALID_FILTER');
    }
  });
});
