// Hostile JavaScript filters cannot take the process down: whatever a filter function throws, frees or
// calls from inside libevent's filter call ends in exactly one ERR_FILTER error or a clean stop. The
// cases that used to crash (a fatal napi error, SIGSEGV) also run in a child process.
import { describe, expect, it, vi } from 'vitest';
import { Bufferevent, BuffereventError, type FilterFunction } from '../../src/index.ts';
import { BEV, EV, checkNothingLeaksAfterEach, turns, waitFor } from '../helpers.ts';
import { lines, runChild } from '../loop/child.ts';

checkNothingLeaksAfterEach();

interface Seen {
  flags: number;
  error: BuffereventError | undefined;
}

/** A filter over one half of a pair with the given sides; records the filter's events and reads. */
function filtered(sides: { input?: FilterFunction; output?: FilterFunction }, closeOnFree = true) {
  const [underlying, peer] = Bufferevent.pair();
  const filter = Bufferevent.filter(underlying, sides, { closeOnFree });
  const events: Seen[] = [];
  const callbacks = {
    read: vi.fn((bev: Bufferevent) => bev.read().toString()),
    write: vi.fn(),
    event: vi.fn((_bev: Bufferevent, flags: number, error?: BuffereventError) =>
      events.push({ flags, error }),
    ),
  };
  filter.setCallbacks(callbacks);
  filter.enable(EV.READ | EV.WRITE);
  let atPeer = '';
  peer.setCallbacks({ read: (bev) => (atPeer += bev.read().toString()) });
  peer.enable(EV.READ | EV.WRITE);
  const free = () => {
    if (!filter.freed) filter.free();
    if (!closeOnFree && !underlying.freed) underlying.free();
    if (!peer.freed) peer.free();
  };
  return { filter, underlying, peer, events, callbacks, atPeer: () => atPeer, free };
}

type Setup = ReturnType<typeof filtered>;

const passThrough: FilterFunction = (src, dst) => {
  dst.add(src.remove());
  return 'ok';
};

/** Runs `side`'s filter once (peer → input, filter.write → output) and waits for its one error. */
async function failOnce(side: 'input' | 'output', filter: FilterFunction): Promise<Seen> {
  const setup = filtered({ [side]: filter });
  const send = (text: string) => (side === 'input' ? setup.peer.write(text) : setup.filter.write(text));
  try {
    send('data');
    await waitFor(() => setup.events.length > 0, 5_000, 'the filter error');
    send('more'); // a failed filter stays failed, silently
    await turns(5);
    expect(setup.events).toHaveLength(1);
    expect(setup.callbacks.read).not.toHaveBeenCalled();
    expect(setup.atPeer()).toBe('');
  } finally {
    setup.free();
  }
  return setup.events[0]!;
}

describe('a filter function that throws something that is not an Error', () => {
  let getterRuns = 0;
  const hostileProxy = () =>
    new Proxy(
      {},
      {
        get: () => {
          getterRuns++;
          throw new Error('get trap');
        },
        getOwnPropertyDescriptor: () => {
          getterRuns++;
          throw new Error('getOwnPropertyDescriptor trap');
        },
        has: () => {
          getterRuns++;
          throw new Error('has trap');
        },
        getPrototypeOf: () => {
          getterRuns++;
          throw new Error('getPrototypeOf trap');
        },
        ownKeys: () => {
          getterRuns++;
          throw new Error('ownKeys trap');
        },
      },
    );
  const errorWithGetter = () =>
    Object.defineProperty(new Error('hidden'), 'message', {
      get() {
        getterRuns++;
        throw new Error('message getter');
      },
    });
  class GetterError extends Error {
    override get message(): string {
      getterRuns++;
      throw new Error('message getter');
    }
  }
  const cases: [string, () => unknown, string][] = [
    ['a Symbol', () => Symbol('hostile'), 'a symbol'],
    ['null', () => null, 'null'],
    ['undefined', () => undefined, 'undefined'],
    ['a number', () => 42, '42'],
    ['a bigint', () => 10n, '10n'],
    ['a string', () => 'plain words', 'plain words'],
    ['a function', () => () => {}, 'a function'],
    [
      'an object whose message getter throws',
      () => ({
        get message() {
          getterRuns++;
          throw new Error('message getter');
        },
      }),
      'an object that is not an Error',
    ],
    ['a Proxy that throws on every trap', hostileProxy, 'an object that is not an Error'],
    ['an Error whose own message is a throwing getter', errorWithGetter, 'an Error without a string message'],
    [
      'an Error subclass with a throwing message getter',
      () => new GetterError(),
      'an Error without a string message',
    ],
  ];

  for (const side of ['input', 'output'] as const) {
    it.each(cases)(
      `${side}: %s becomes one ERR_FILTER error, described without running its code`,
      async (_name, make, description) => {
        getterRuns = 0;
        const filter = vi.fn<FilterFunction>(() => {
          throw make();
        });
        const seen = await failOnce(side, filter);
        expect(seen.flags).toBe(BEV.ERROR | (side === 'input' ? BEV.READING : BEV.WRITING));
        expect(seen.error).toBeInstanceOf(BuffereventError);
        expect(seen.error!.code).toBe('ERR_FILTER');
        expect(seen.error!.message).toBe(`the ${side} filter threw: ${description}`);
        expect(filter).toHaveBeenCalledTimes(1);
        expect(getterRuns).toBe(0);
      },
    );
  }

  it('cuts a very long thrown string to a bounded message', async () => {
    const seen = await failOnce('input', () => {
      throw 'x'.repeat(100_000);
    });
    expect(seen.error!.code).toBe('ERR_FILTER');
    expect(seen.error!.message.length).toBeLessThan(600);
    expect(seen.error!.message.endsWith('x…')).toBe(true);
  });

  it('still quotes the message of an ordinary Error', async () => {
    const seen = await failOnce('output', () => {
      throw new RangeError('record too large');
    });
    expect(seen.error!.message).toBe('the output filter threw: record too large');
  });
});

describe('a filter function that frees its own filter', () => {
  it('input, BEV.NORMAL: stops cleanly, no callback after free, the peer reads EOF (closeOnFree)', async () => {
    const setup: Setup = filtered({
      input: () => {
        setup.filter.free();
        return 'ok';
      },
    });
    const peerEvents: number[] = [];
    setup.peer.setCallbacks({ event: (_bev, flags) => peerEvents.push(flags) });
    setup.peer.write('data');
    await waitFor(() => setup.filter.freed, 5_000, 'the free inside the filter');
    await waitFor(() => peerEvents.length === 1, 5_000, "the peer's EOF");
    await turns(5);
    expect(setup.underlying.freed).toBe(true);
    expect(setup.callbacks.read).not.toHaveBeenCalled();
    expect(setup.callbacks.event).not.toHaveBeenCalled();
    expect(peerEvents).toEqual([BEV.EOF | BEV.READING]);
    setup.free();
  });

  it('input, BEV.FINISHED at the underlying EOF: stops cleanly (used to crash the process)', async () => {
    const modes: number[] = [];
    const setup: Setup = filtered({
      input: (src, dst, _limit, mode) => {
        modes.push(mode);
        if (mode === BEV.FINISHED) {
          setup.filter.free();
          return 'ok';
        }
        dst.add(src.remove());
        return 'ok';
      },
    });
    setup.peer.write('last words');
    await waitFor(() => setup.callbacks.read.mock.calls.length === 1, 5_000, 'the data');
    setup.peer.free(); // the underlying reads EOF: the binding flushes the input filter with FINISHED
    await waitFor(() => setup.filter.freed, 5_000, 'the free at FINISHED');
    await turns(5);
    expect(modes.at(-1)).toBe(BEV.FINISHED);
    expect(setup.callbacks.read).toHaveBeenCalledTimes(1);
    expect(setup.callbacks.event).not.toHaveBeenCalled(); // neither EOF nor ERROR after free
    setup.free();
  });

  it('output, inside write(): write returns, the filter is freed, nothing is delivered', async () => {
    const setup: Setup = filtered({
      output: () => {
        setup.filter.free();
        return 'ok';
      },
    });
    expect(() => setup.filter.write('data')).not.toThrow();
    expect(setup.filter.freed).toBe(true);
    await turns(5);
    expect(setup.callbacks.write).not.toHaveBeenCalled();
    expect(setup.callbacks.event).not.toHaveBeenCalled();
    expect(setup.atPeer()).toBe('');
    setup.free();
  });

  it('with closeOnFree: false, the underlying gets its callbacks back and still works', async () => {
    const setup: Setup = filtered(
      {
        input: () => {
          setup.filter.free();
          return 'ok';
        },
      },
      false,
    );
    setup.peer.write('to the filter');
    await waitFor(() => setup.filter.freed, 5_000, 'the free inside the filter');
    expect(setup.underlying.freed).toBe(false);
    const underlyingRead = vi.fn((bev: Bufferevent) => bev.read().toString());
    setup.underlying.setCallbacks({ read: underlyingRead });
    setup.peer.write(' and after');
    await waitFor(() => underlyingRead.mock.calls.length > 0, 5_000, 'the underlying reading');
    expect(underlyingRead.mock.results.map((result) => result.value).join('')).toContain('after');
    expect(setup.callbacks.read).not.toHaveBeenCalled();
    expect(setup.callbacks.event).not.toHaveBeenCalled();
    setup.free();
  });

  it('a throw after the free changes nothing: still a clean stop, no ERROR', async () => {
    const setup: Setup = filtered({
      input: () => {
        setup.filter.free();
        throw Symbol('after free');
      },
    });
    setup.peer.write('data');
    await waitFor(() => setup.filter.freed, 5_000, 'the free inside the filter');
    await turns(5);
    expect(setup.callbacks.event).not.toHaveBeenCalled();
    setup.free();
  });
});

describe('a filter function that calls back into its filter or the underlying', () => {
  it('freeing the underlying is refused (ERR_FILTERED) and becomes one ERR_FILTER error', async () => {
    const setup: Setup = filtered({
      input: () => {
        setup.underlying.free();
        return 'ok';
      },
    });
    setup.peer.write('data');
    await waitFor(() => setup.events.length > 0, 5_000, 'the error');
    setup.peer.write('more');
    await turns(5);
    expect(setup.events).toHaveLength(1);
    expect(setup.events[0]!.flags).toBe(BEV.ERROR | BEV.READING);
    expect(setup.events[0]!.error!.code).toBe('ERR_FILTER');
    expect(setup.events[0]!.error!.message).toMatch(
      /^the input filter threw: this bufferevent is the underlying of a filter/,
    );
    expect(setup.underlying.freed).toBe(false);
    expect(setup.callbacks.read).not.toHaveBeenCalled();
    setup.free();
  });

  it('write, setCallbacks, enable, disable and a flush of the other side from the input filter all work', async () => {
    let calls = 0;
    const lateRead = vi.fn((bev: Bufferevent) => bev.read().toString());
    const setup: Setup = filtered({
      input: (src, dst) => {
        calls++;
        setup.filter.write('reply;'); // runs the output filter, nested
        setup.filter.setCallbacks({ read: lateRead, event: setup.callbacks.event });
        setup.filter.disable(EV.WRITE);
        setup.filter.enable(EV.READ | EV.WRITE);
        setup.filter.flush(EV.WRITE, BEV.FLUSH);
        setup.underlying.enable(EV.READ);
        dst.add(src.remove());
        return 'ok';
      },
      output: passThrough,
    });
    setup.peer.write('hello');
    await waitFor(
      () => lateRead.mock.calls.length === 1 && setup.atPeer() === 'reply;',
      5_000,
      'the read and the reply',
    );
    await turns(5);
    expect(lateRead.mock.results[0]!.value).toBe('hello');
    expect(calls).toBe(1);
    expect(setup.events).toEqual([]);
    setup.free();
  });

  it('a nested run that fails makes the outer run fail too, with one ERROR', async () => {
    let depth = 0;
    const setup: Setup = filtered({
      input: (src, dst) => {
        depth++;
        if (depth === 1) {
          setup.filter.flush(EV.READ, BEV.FLUSH); // runs this filter again, inside itself
          dst.add(src.remove());
          return 'ok';
        }
        return 'error';
      },
    });
    setup.peer.write('data');
    await waitFor(() => setup.events.length > 0, 5_000, 'the error');
    await turns(5);
    expect(depth).toBe(2);
    expect(setup.events).toHaveLength(1);
    expect(setup.events[0]!.error!.code).toBe('ERR_FILTER');
    expect(setup.events[0]!.error!.message).toBe("the input filter returned 'error'");
    expect(setup.callbacks.read).not.toHaveBeenCalled();
    setup.free();
  });

  it('an output filter that writes to its own filter and flushes it keeps working', async () => {
    let wrote = false;
    const setup: Setup = filtered({
      output: (src, dst) => {
        if (!wrote) {
          wrote = true;
          setup.filter.write('+extra');
          setup.filter.flush(EV.WRITE, BEV.FLUSH);
        }
        dst.add(src.remove());
        return 'ok';
      },
    });
    setup.filter.write('data');
    await waitFor(() => setup.atPeer().length === 'data+extra'.length, 5_000, 'both writes at the peer');
    await turns(5);
    expect(setup.atPeer()).toBe('data+extra');
    expect(setup.events).toEqual([]);
    setup.free();
  });

  it('a filter that recurses into itself without end fails once with ERR_FILTER', async () => {
    let runs = 0;
    const setup: Setup = filtered({
      input: () => {
        runs++;
        setup.filter.flush(EV.READ, BEV.FLUSH);
        return 'ok';
      },
    });
    setup.peer.write('data');
    await waitFor(() => setup.events.length > 0, 10_000, 'the error');
    await turns(5);
    expect(runs).toBeGreaterThan(10);
    expect(setup.events).toHaveLength(1);
    expect(setup.events[0]!.error!.code).toBe('ERR_FILTER');
    expect(setup.events[0]!.error!.message).toMatch(/^the input filter threw: /);
    setup.free();
  });
});

describe('the cases that used to end the process, in a child process', () => {
  it.each([
    ['throw-symbol', 'the input filter threw: a symbol'],
    ['throw-getter', 'the input filter threw: an object that is not an Error'],
    ['throw-proxy', 'the input filter threw: an object that is not an Error'],
  ])('%s: one ERR_FILTER event and a normal exit', async (mode, message) => {
    const result = await runChild('hostile-filter.mjs', [mode]);
    expect(result.timedOut, `stdout: ${result.stdout}`).toBe(false);
    expect(result.stderr).toBe('');
    expect(lines(result.stdout)).toEqual([
      `event ${BEV.ERROR | BEV.READING} ERR_FILTER ${message}`,
      'filter calls 1, user code runs 0, freed false',
      'exit 0',
    ]);
    expect(result.signal).toBeNull();
    expect(result.code).toBe(0);
  });

  it('free-finished: the free at BEV.FINISHED stops the filter and the process exits normally', async () => {
    const result = await runChild('hostile-filter.mjs', ['free-finished']);
    expect(result.timedOut, `stdout: ${result.stdout}`).toBe(false);
    expect(result.stderr).toBe('');
    expect(lines(result.stdout)).toEqual([
      'read first',
      'filter calls 2, user code runs 0, freed true',
      'exit 0',
    ]);
    expect(result.signal).toBeNull();
    expect(result.code).toBe(0);
  });

  it('callback-symbol: a Symbol thrown by a read callback reaches uncaughtException as itself', async () => {
    const result = await runChild('hostile-filter.mjs', ['callback-symbol']);
    expect(result.timedOut, `stdout: ${result.stdout}`).toBe(false);
    expect(result.stderr).toBe('');
    expect(lines(result.stdout)).toEqual([
      'read first',
      'caught symbol',
      'read second',
      'filter calls 2, user code runs 0, freed false',
      'exit 0',
    ]);
    expect(result.code).toBe(0);
  });
});
