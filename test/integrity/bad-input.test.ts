// Bad input: every invalid argument is refused with a BuffereventError whose code and message name it.
import { closeSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { Bufferevent, BuffereventError, Event, Listener, socketpair } from '../../src/index.ts';
import { EV, liveCounts, turns } from '../helpers.ts';

/** Runs `call`, which must throw; returns the error after checking its class and code. */
function refusal(call: () => unknown, code: string, mentions: RegExp): BuffereventError {
  let thrown: unknown;
  try {
    call();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(BuffereventError);
  const error = thrown as BuffereventError;
  expect({ code: error.code, message: error.message }).toEqual({
    code,
    message: expect.stringMatching(mentions),
  });
  return error;
}

function withBufferevent(use: (bev: Bufferevent) => void): void {
  const bev = Bufferevent.socket();
  try {
    use(bev);
  } finally {
    bev.free();
  }
}

const noop = (): void => {};

afterAll(async () => {
  await turns(3);
  expect(liveCounts()).toEqual({ bufferevents: 0, listeners: 0, events: 0, evbuffers: 0 });
});

describe('Bufferevent.socket refuses bad fds', () => {
  it.each<[string, unknown]>([
    ['-1', -1],
    ['1.5', 1.5],
    ['"x"', 'x'],
    ['NaN', NaN],
  ])('refuses fd %s with ERR_INVALID_FD', (_label, fd) => {
    const before = liveCounts();
    refusal(() => Bufferevent.socket({ fd: fd as number }), 'ERR_INVALID_FD', /\bfd\b/);
    expect(liveCounts()).toEqual(before);
  });

  it('refuses an fd number that is not open (100000) with ERR_INVALID_FD and errno EBADF', () => {
    const error = refusal(() => Bufferevent.socket({ fd: 100_000 }), 'ERR_INVALID_FD', /\bfd 100000\b/);
    expect(error.systemCode).toBe('EBADF');
    expect(liveCounts().bufferevents).toBe(0);
  });

  it('refuses an fd that was just closed with ERR_INVALID_FD', () => {
    const [a, b] = socketpair();
    closeSync(a);
    refusal(() => Bufferevent.socket({ fd: a }), 'ERR_INVALID_FD', new RegExp(`\\bfd ${a}\\b`));
    closeSync(b);
  });
});

describe('Bufferevent.connect refuses bad targets', () => {
  it.each<[string, unknown]>([
    ['0', 0],
    ['70000', 70_000],
    ['-1', -1],
    ['"x"', 'x'],
    ['1.5', 1.5],
  ])('refuses port %s with ERR_INVALID_PORT', (_label, port) => {
    withBufferevent((bev) => {
      refusal(() => bev.connect({ host: '127.0.0.1', port: port as number }), 'ERR_INVALID_PORT', /\bport\b/);
      expect(bev.fd).toBe(-1); // nothing was attempted
    });
  });

  it.each(['not-an-ip', 'localhost', '', '127.0.0.1.1', '::g'])(
    'refuses host %j with ERR_INVALID_HOST',
    (host) => {
      withBufferevent((bev) =>
        refusal(() => bev.connect({ host, port: 80 }), 'ERR_INVALID_HOST', /\bhost\b/),
      );
    },
  );

  it.each(['', 'two words', 'tab\there', 'nul\0byte', 'a/b'])(
    'refuses connectHostname(%j) with ERR_INVALID_HOST',
    (host) => {
      withBufferevent((bev) => refusal(() => bev.connectHostname(host, 80), 'ERR_INVALID_HOST', /\bhost\b/));
    },
  );

  it('refuses connectHostname with port 0 with ERR_INVALID_PORT', () => {
    withBufferevent((bev) =>
      refusal(() => bev.connectHostname('localhost', 0), 'ERR_INVALID_PORT', /\bport\b/),
    );
  });
});

describe('Bufferevent settings refuse bad values', () => {
  it('refuses a read low watermark above the high one with ERR_INVALID_WATERMARK', () => {
    withBufferevent((bev) => {
      refusal(() => bev.setWatermark(EV.READ, 10, 5), 'ERR_INVALID_WATERMARK', /\blow\b.*\bhigh\b/);
      expect(bev.getWatermark(EV.READ)).toEqual({ low: 0, high: 0 }); // unchanged
    });
  });

  it.each<[string, number, number, RegExp]>([
    ['a negative low', -1, 0, /\blow\b/],
    ['a negative high', 0, -5, /\bhigh\b/],
    ['a fractional low', 1.5, 10, /\blow\b/],
  ])('refuses %s watermark with ERR_INVALID_WATERMARK', (_label, low, high, mentions) => {
    withBufferevent((bev) =>
      refusal(() => bev.setWatermark(EV.WRITE, low, high), 'ERR_INVALID_WATERMARK', mentions),
    );
  });

  it.each<[string, unknown]>([
    ['-1', -1],
    ['NaN', NaN],
    ['Infinity', Infinity],
    ['"100"', '100'],
  ])('refuses a read timeout of %s with ERR_INVALID_TIMEOUT', (_label, read) => {
    withBufferevent((bev) => {
      refusal(() => bev.setTimeouts({ read: read as number }), 'ERR_INVALID_TIMEOUT', /\bread\b/);
      expect(bev.timeouts).toEqual({ read: null, write: null }); // unchanged
    });
  });

  it('refuses a negative write timeout with ERR_INVALID_TIMEOUT naming write', () => {
    withBufferevent((bev) =>
      refusal(() => bev.setTimeouts({ write: -0.5 }), 'ERR_INVALID_TIMEOUT', /\bwrite\b/),
    );
  });

  it.each([0, 8, EV.READ | EV.TIMEOUT, 1.5])('refuses enable(%s) with ERR_INVALID_ARG', (events) => {
    withBufferevent((bev) => {
      refusal(() => bev.enable(events), 'ERR_INVALID_ARG', /\bevents\b/);
      refusal(() => bev.disable(events), 'ERR_INVALID_ARG', /\bevents\b/);
    });
  });

  it.each<[string, unknown]>([
    ['123', 123],
    ['null', null],
    ['an object', { length: 1 }],
  ])('refuses write(%s) with ERR_INVALID_ARG', (_label, data) => {
    withBufferevent((bev) => {
      refusal(() => bev.write(data as string), 'ERR_INVALID_ARG', /\bdata\b/);
      expect(bev.output.length).toBe(0);
    });
  });

  it('refuses write after free with ERR_FREED', () => {
    const bev = Bufferevent.socket();
    bev.free();
    refusal(() => bev.write('late'), 'ERR_FREED', /freed/);
  });

  it('refuses a priority outside the base priorities with ERR_INVALID_PRIORITY', () => {
    withBufferevent((bev) => refusal(() => (bev.priority = 1000), 'ERR_INVALID_PRIORITY', /\bpriority\b/));
  });
});

describe('Listener refuses bad options', () => {
  it('refuses a port already in use with ERR_LISTEN and errno EADDRINUSE', () => {
    const first = Listener.listen({ host: '127.0.0.1', port: 0 }, noop);
    const { port } = first.address;
    const before = liveCounts();
    const error = refusal(
      () => Listener.listen({ host: '127.0.0.1', port }, noop),
      'ERR_LISTEN',
      new RegExp(`${port}`),
    );
    expect(error.systemCode).toBe('EADDRINUSE');
    expect(error.syscall).toBe('bind');
    expect(liveCounts()).toEqual(before);
    first.close();
  });

  it.each(['localhost', 'not-an-ip', ''])('refuses host %j with ERR_INVALID_HOST', (host) => {
    refusal(() => Listener.listen({ host, port: 0 }, noop), 'ERR_INVALID_HOST', /\bhost\b/);
    expect(liveCounts().listeners).toBe(0);
  });

  it.each([-1, 70_000, 1.5])('refuses port %s with ERR_INVALID_PORT', (port) => {
    refusal(() => Listener.listen({ port }, noop), 'ERR_INVALID_PORT', /\bport\b/);
  });

  it('refuses a missing accept callback with ERR_INVALID_ARG', () => {
    refusal(
      () => Listener.listen({ port: 0 }, undefined as unknown as () => void),
      'ERR_INVALID_ARG',
      /\bonAccept\b/,
    );
    expect(liveCounts().listeners).toBe(0);
  });
});

describe('Event refuses bad arguments', () => {
  it.each([0x100, -1, 1.5])('refuses what = %s with ERR_INVALID_ARG', (what) => {
    const [a, b] = socketpair();
    refusal(() => new Event(a, what, noop), 'ERR_INVALID_ARG', /\bwhat\b/);
    closeSync(a);
    closeSync(b);
    expect(liveCounts().events).toBe(0);
  });

  it('refuses an unknown signal name with ERR_INVALID_SIGNAL', () => {
    refusal(() => Event.signal('SIGNOPE' as NodeJS.Signals, noop), 'ERR_INVALID_SIGNAL', /\bSIGNOPE\b/);
    expect(liveCounts().events).toBe(0);
  });

  it('refuses a negative timeout on add() with ERR_INVALID_TIMEOUT', () => {
    const timer = new Event(-1, 0, noop);
    refusal(() => timer.add(-1), 'ERR_INVALID_TIMEOUT', /\btimeoutMs\b/);
    expect(timer.pending()).toBe(false);
    timer.free();
  });

  it('refuses a negative Event.timer interval with ERR_INVALID_TIMEOUT', () => {
    refusal(() => Event.timer(-5, noop), 'ERR_INVALID_TIMEOUT', /\bms\b/);
    expect(liveCounts().events).toBe(0);
  });
});

describe('arguments of the wrong type are refused with a code, never a bare TypeError', () => {
  it('refuses setTimeouts without an options object with ERR_INVALID_ARG', () => {
    withBufferevent((bev) => {
      refusal(() => bev.setTimeouts(undefined as unknown as object), 'ERR_INVALID_ARG', /\btimeouts\b/);
    });
  });

  it('refuses Listener.listen without an options object with ERR_INVALID_ARG', () => {
    refusal(() => Listener.listen(undefined as unknown as object, noop), 'ERR_INVALID_ARG', /\boptions\b/);
    expect(liveCounts().listeners).toBe(0);
  });

  it('refuses event.pending with a non-number with ERR_INVALID_ARG', () => {
    const timer = new Event(-1, 0, noop);
    try {
      refusal(() => timer.pending('x' as unknown as number), 'ERR_INVALID_ARG', /\bwhat\b/);
    } finally {
      timer.free();
    }
  });

  it.each<[string, (bev: Bufferevent) => unknown, string, RegExp]>([
    [
      'connect(null)',
      (bev) => bev.connect(null as unknown as { path: string }),
      'ERR_INVALID_ARG',
      /connect/,
    ],
    ['connect({ path: "" })', (bev) => bev.connect({ path: '' }), 'ERR_INVALID_PATH', /\bpath\b/],
    ['read(-1)', (bev) => bev.read(-1), 'ERR_INVALID_ARG', /\bcount\b/],
    [
      'setCallbacks({ read: 5 })',
      (bev) => bev.setCallbacks({ read: 5 as unknown as () => void }),
      'ERR_INVALID_ARG',
      /\bread\b/,
    ],
    [
      'getWatermark(EV.READ | EV.WRITE)',
      (bev) => bev.getWatermark(EV.READ | EV.WRITE),
      'ERR_INVALID_ARG',
      /getWatermark/,
    ],
    [
      'socket({ maxReadPerWakeup: -1 })',
      () => Bufferevent.socket({ maxReadPerWakeup: -1 }),
      'ERR_INVALID_ARG',
      /\bmaxReadPerWakeup\b/,
    ],
    [
      'new Event("x", EV.READ)',
      () => new Event('x' as unknown as number, EV.READ, noop),
      'ERR_INVALID_FD',
      /\bfd\b/,
    ],
    ['Event.signal(0)', () => Event.signal(0, noop), 'ERR_INVALID_SIGNAL', /\bsignal\b/],
    ['Event.signal(65)', () => Event.signal(65, noop), 'ERR_INVALID_SIGNAL', /\bsignal\b/],
  ])('refuses %s', (_label, call, code, mentions) => {
    const before = liveCounts();
    withBufferevent((bev) => refusal(() => call(bev), code, mentions));
    expect(liveCounts()).toEqual(before);
  });
});
