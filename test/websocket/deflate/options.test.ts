// perMessageDeflate option checks: defaults, the window ranges of each role (the side we compress
// with needs 9..15, the side we only inflate accepts 8..15), and a coded error for every mistake.
import { describe, expect, it } from 'vitest';
import { WebSocketRangeError, WebSocketTypeError } from '../../../src/websocket/errors.ts';
import { resolveDeflateOptions, type Role } from '../../../src/websocket/deflate/options.ts';

function thrown(value: unknown, role: Role = 'server'): Error & { code: string } {
  try {
    resolveDeflateOptions(value, role);
  } catch (error) {
    return error as Error & { code: string };
  }
  throw new Error(`${JSON.stringify(value)} was accepted`);
}

describe('resolveDeflateOptions', () => {
  it('is null (compression off) for false and undefined', () => {
    expect(resolveDeflateOptions(undefined, 'server')).toBeNull();
    expect(resolveDeflateOptions(false, 'client')).toBeNull();
  });

  it('gives ws’s defaults for true and {}', () => {
    const defaults = {
      serverNoContextTakeover: undefined,
      clientNoContextTakeover: undefined,
      serverMaxWindowBits: undefined,
      clientMaxWindowBits: undefined,
      threshold: 1024,
      level: -1,
      memLevel: 8,
      strategy: 0,
      concurrencyLimit: 10,
    };
    expect(resolveDeflateOptions(true, 'server')).toEqual(defaults);
    expect(resolveDeflateOptions({}, 'client')).toEqual(defaults);
  });

  it('keeps every option given, and accepts ws’s chunkSize (ignored)', () => {
    expect(
      resolveDeflateOptions(
        {
          serverNoContextTakeover: true,
          clientNoContextTakeover: false,
          serverMaxWindowBits: 10,
          clientMaxWindowBits: 8,
          threshold: 0,
          zlibDeflateOptions: { level: 9, memLevel: 1, strategy: 4, chunkSize: 1024 },
          zlibInflateOptions: { chunkSize: 10 * 1024 },
          concurrencyLimit: 1,
        },
        'server',
      ),
    ).toEqual({
      serverNoContextTakeover: true,
      clientNoContextTakeover: false,
      serverMaxWindowBits: 10,
      clientMaxWindowBits: 8,
      threshold: 0,
      level: 9,
      memLevel: 1,
      strategy: 4,
      concurrencyLimit: 1,
    });
  });

  it('takes windows of 8 only on the side it inflates', () => {
    expect(resolveDeflateOptions({ clientMaxWindowBits: 8 }, 'server')?.clientMaxWindowBits).toBe(8);
    expect(resolveDeflateOptions({ serverMaxWindowBits: 8 }, 'client')?.serverMaxWindowBits).toBe(8);
    const server = thrown({ serverMaxWindowBits: 8 }, 'server');
    expect(server).toBeInstanceOf(WebSocketRangeError);
    expect(server.message).toBe(
      'perMessageDeflate.serverMaxWindowBits must be true, false or an integer from 9 to 15 (this side compresses, and zlib cannot use an 8-bit window), got 8',
    );
    expect(thrown({ clientMaxWindowBits: 8 }, 'client').message).toMatch(
      /clientMaxWindowBits must be .* from 9 to 15/,
    );
  });

  it.each([
    [42, WebSocketTypeError, 'perMessageDeflate must be an object, got 42'],
    ['yes', WebSocketTypeError, 'perMessageDeflate must be an object, got "yes"'],
    [[], WebSocketTypeError, 'perMessageDeflate must be an object, got an array'],
    [
      { serverNoContextTakeOver: true },
      WebSocketTypeError,
      'perMessageDeflate.serverNoContextTakeOver is not an option',
    ],
    [
      { serverNoContextTakeover: 1 },
      WebSocketTypeError,
      'perMessageDeflate.serverNoContextTakeover must be a boolean, got 1',
    ],
    [
      { clientMaxWindowBits: 16 },
      WebSocketRangeError,
      'clientMaxWindowBits must be true, false or an integer from 8 to 15',
    ],
    [
      { clientMaxWindowBits: 7 },
      WebSocketRangeError,
      'clientMaxWindowBits must be true, false or an integer from 8 to 15',
    ],
    [{ clientMaxWindowBits: 10.5 }, WebSocketRangeError, 'got 10.5'],
    [
      { serverMaxWindowBits: '10' },
      WebSocketTypeError,
      'serverMaxWindowBits must be true, false or an integer from 9 to 15',
    ],
    [
      { threshold: -1 },
      WebSocketRangeError,
      'perMessageDeflate.threshold must be from 0 to 9007199254740991, got -1',
    ],
    [{ threshold: '1k' }, WebSocketTypeError, 'perMessageDeflate.threshold must be an integer, got "1k"'],
    [
      { zlibDeflateOptions: { level: 10 } },
      WebSocketRangeError,
      'zlibDeflateOptions.level must be from -1 to 9, got 10',
    ],
    [
      { zlibDeflateOptions: { memLevel: 0 } },
      WebSocketRangeError,
      'zlibDeflateOptions.memLevel must be from 1 to 9, got 0',
    ],
    [
      { zlibDeflateOptions: { strategy: 5 } },
      WebSocketRangeError,
      'zlibDeflateOptions.strategy must be from 0 to 4, got 5',
    ],
    [
      { zlibDeflateOptions: { windowBits: 9 } },
      WebSocketTypeError,
      'zlibDeflateOptions.windowBits is not an option',
    ],
    [{ zlibDeflateOptions: null }, WebSocketTypeError, 'zlibDeflateOptions must be an object, got null'],
    [
      { zlibInflateOptions: { windowBits: 9 } },
      WebSocketTypeError,
      'zlibInflateOptions.windowBits is not an option',
    ],
    [
      { zlibInflateOptions: { chunkSize: 1 } },
      WebSocketRangeError,
      'zlibInflateOptions.chunkSize must be from 64',
    ],
    [
      { concurrencyLimit: 0 },
      WebSocketRangeError,
      'perMessageDeflate.concurrencyLimit must be from 1 to 2147483647, got 0',
    ],
  ])('refuses %j', (value, kind, message) => {
    const error = thrown(value);
    expect(error).toBeInstanceOf(kind);
    expect(error.code).toBe('WS_ERR_INVALID_DEFLATE_OPTION');
    expect(error.message).toContain(message);
  });
});
