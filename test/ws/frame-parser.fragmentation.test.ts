// Frame parser, fragmentation (Autobahn 5.x) and limits (9.x-style): continuation rules, control
// frames between fragments, maxPayload (1009 from the header alone) and maxFragments.
import { describe, expect, it } from 'vitest';
import { frame, OP, parseEverySplit, server } from './codec.ts';

const text = (payload: string, fin = true) => frame({ opcode: OP.TEXT, payload, fin });
const more = (payload: string, fin = true) => frame({ opcode: OP.CONTINUATION, payload, fin });
const ping = (payload: string) => frame({ opcode: OP.PING, payload });

describe('fragmented messages', () => {
  it('a text message in two fragments is delivered as two frames', () => {
    const outcome = parseEverySplit(Buffer.concat([text('frag', false), more('ment')]), server);
    expect(outcome.error).toBeUndefined();
    expect(outcome.frames.map((f) => [f.opcode, f.fin, f.payload.toString()])).toEqual([
      [OP.TEXT, false, 'frag'],
      [OP.CONTINUATION, true, 'ment'],
    ]);
  });

  it('allows empty fragments, and many of them', () => {
    const bytes = Buffer.concat([
      text('', false),
      ...Array.from({ length: 20 }, () => more('', false)),
      more(''),
    ]);
    const outcome = parseEverySplit(bytes, server);
    expect(outcome.error).toBeUndefined();
    expect(outcome.frames).toHaveLength(22);
  });

  it('allows control frames between fragments', () => {
    const bytes = Buffer.concat([
      text('one', false),
      ping('p1'),
      more('two', false),
      ping('p2'),
      ping('p3'),
      more('three'),
    ]);
    const outcome = parseEverySplit(bytes, server);
    expect(outcome.error).toBeUndefined();
    expect(outcome.frames.map((f) => f.opcode)).toEqual([
      OP.TEXT,
      OP.PING,
      OP.CONTINUATION,
      OP.PING,
      OP.PING,
      OP.CONTINUATION,
    ]);
  });

  it('allows a new message after the previous one ended', () => {
    const bytes = Buffer.concat([
      text('a', false),
      more('b'),
      frame({ opcode: OP.BINARY, payload: 'c', fin: false }),
      more('d'),
    ]);
    expect(parseEverySplit(bytes, server).error).toBeUndefined();
  });

  it.each([
    ['final', true],
    ['non-final', false],
  ])('fails a %s continuation without a message with 1002', (_name, fin) => {
    const outcome = parseEverySplit(Buffer.concat([more('lonely', fin), text('never')]), server);
    expect(outcome.frames).toEqual([]);
    expect(outcome.error).toMatchObject({ closeCode: 1002, code: 'WS_ERR_UNEXPECTED_CONTINUATION' });
  });

  it('fails a continuation after the message already ended with 1002', () => {
    const outcome = parseEverySplit(Buffer.concat([text('a', false), more('b'), more('c')]), server);
    expect(outcome.frames).toHaveLength(2);
    expect(outcome.error).toMatchObject({ closeCode: 1002, code: 'WS_ERR_UNEXPECTED_CONTINUATION' });
  });

  it.each([
    ['text', OP.TEXT],
    ['binary', OP.BINARY],
  ])('fails a new %s frame inside a fragmented message with 1002', (_name, opcode) => {
    const outcome = parseEverySplit(
      Buffer.concat([text('a', false), frame({ opcode, payload: 'b' })]),
      server,
    );
    expect(outcome.frames).toHaveLength(1);
    expect(outcome.error).toMatchObject({ closeCode: 1002, code: 'WS_ERR_EXPECTED_CONTINUATION' });
  });
});

describe('maxPayload', () => {
  it('accepts a message of exactly maxPayload bytes', () => {
    const outcome = parseEverySplit(frame({ opcode: OP.BINARY, payload: Buffer.alloc(100) }), {
      server: true,
      maxPayload: 100,
    });
    expect(outcome.error).toBeUndefined();
  });

  it('fails a frame over maxPayload with 1009 from its header alone', () => {
    const header = frame({ opcode: OP.BINARY, payload: Buffer.alloc(101) }).subarray(0, 2);
    const outcome = parseEverySplit(header, { server: true, maxPayload: 100 });
    expect(outcome.frames).toEqual([]);
    expect(outcome.error).toMatchObject({ closeCode: 1009, code: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' });
  });

  it('fails a 64-bit length over maxPayload as soon as the length is read', () => {
    const header = frame({ opcode: OP.BINARY, length: 1n << 40n }).subarray(0, 10);
    const outcome = parseEverySplit(header, { server: true, maxPayload: 1 << 20 });
    expect(outcome.error).toMatchObject({ closeCode: 1009, code: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' });
  });

  it('counts the whole message across fragments, failing at the fragment that crosses it', () => {
    const options = { server: true, maxPayload: 10 };
    expect(
      parseEverySplit(Buffer.concat([text('12345', false), more('67890')]), options).error,
    ).toBeUndefined();
    const outcome = parseEverySplit(
      Buffer.concat([text('12345', false), more('6789', false), more('01')]),
      options,
    );
    expect(outcome.frames.map((f) => f.payload.toString())).toEqual(['12345', '6789']);
    expect(outcome.error).toMatchObject({ closeCode: 1009, code: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' });
  });

  it('starts counting afresh for each message, and does not count control frames', () => {
    const bytes = Buffer.concat([
      text('12345', false),
      ping('0123456789'),
      more('67890'),
      text('abcdefghij'),
    ]);
    expect(parseEverySplit(bytes, { server: true, maxPayload: 10 }).error).toBeUndefined();
  });
});

describe('maxFragments', () => {
  it('accepts a message of exactly maxFragments frames', () => {
    const bytes = Buffer.concat([text('a', false), more('b', false), more('c')]);
    expect(parseEverySplit(bytes, { server: true, maxFragments: 3 }).error).toBeUndefined();
  });

  it('fails the frame after maxFragments with 1009, control frames not counted', () => {
    const bytes = Buffer.concat([text('a', false), ping(''), more('b', false), more('c', false), more('d')]);
    const outcome = parseEverySplit(bytes, { server: true, maxFragments: 3 });
    expect(outcome.frames.map((f) => f.opcode)).toEqual([OP.TEXT, OP.PING, OP.CONTINUATION, OP.CONTINUATION]);
    expect(outcome.error).toMatchObject({ closeCode: 1009, code: 'WS_ERR_TOO_MANY_FRAGMENTS' });
  });

  it('with 1 allows only unfragmented messages', () => {
    const outcome = parseEverySplit(Buffer.concat([text('whole'), text('a', false), more('b')]), {
      server: true,
      maxFragments: 1,
    });
    expect(outcome.frames).toHaveLength(2);
    expect(outcome.error?.closeCode).toBe(1009);
  });
});
