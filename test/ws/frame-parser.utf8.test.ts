// Frame parser, UTF-8 in text messages (Autobahn 6.x): validated across fragments, failing fast with
// 1007 at the first invalid byte (its valid prefix delivered, the rest never awaited); binary and
// compressed (RSV1) messages are not checked here.
import { describe, expect, it } from 'vitest';
import { frame, OP, parseChunks, parseEverySplit, server } from './codec.ts';

const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ''), 'hex');
const text = (payload: Buffer | string, fin = true) => frame({ opcode: OP.TEXT, payload, fin });
const more = (payload: Buffer | string, fin = true) => frame({ opcode: OP.CONTINUATION, payload, fin });

describe('valid text', () => {
  it.each([
    ['Hello-µ@ßöäüàá-UTF-8!!', Buffer.from('Hello-µ@ßöäüàá-UTF-8!!')],
    ['κόσμε', hex('cebae1bdb9cf83cebcceb5')],
    ['U+10FFFF, the largest code point', hex('f48fbfbf')],
    ['U+FFFF and U+FFFE', hex('efbfbf efbfbe')],
    ['U+D7FF and U+E000, around the surrogates', hex('ed9fbf ee8080')],
  ])('%s is delivered in one frame', (_name, payload) => {
    const outcome = parseEverySplit(text(payload), server);
    expect(outcome.error).toBeUndefined();
    expect(outcome.frames[0]!.payload).toEqual(payload);
  });

  it('is accepted with a 4-byte character split between fragments at every byte', () => {
    const payload = Buffer.concat([Buffer.from('ab'), hex('f09f9880'), Buffer.from('cd')]);
    for (let at = 0; at <= payload.length; at++) {
      const bytes = Buffer.concat([text(payload.subarray(0, at), false), more(payload.subarray(at))]);
      expect(parseEverySplit(bytes, server).error, `split at ${at}`).toBeUndefined();
    }
  });

  it('is accepted with every byte of κόσμε in its own fragment, pings between', () => {
    const payload = hex('cebae1bdb9cf83cebcceb5');
    const parts = [...payload].map((byte, i) =>
      (i === 0 ? text : more)(Buffer.from([byte]), i === payload.length - 1),
    );
    const bytes = Buffer.concat(parts.flatMap((part) => [part, frame({ opcode: OP.PING })]));
    expect(parseEverySplit(bytes, server).error).toBeUndefined();
  });
});

describe('invalid text fails with 1007', () => {
  it.each([
    ['an overlong "/" (C0 AF)', 'c0af', 0],
    ['an overlong 3-byte form (E0 80 AF)', 'e080af', 1],
    ['an overlong 4-byte form (F0 80 80 AF)', 'f08080af', 1],
    ['the surrogate U+D800', 'eda080', 1],
    ['the surrogate U+DFFF', 'edbfbf', 1],
    ['U+110000', 'f4908080', 1],
    ['F5 and above', 'f5808080', 0],
    ['a stray continuation byte', '41 80', 1],
    ['κόσμε then a surrogate, then more (Autobahn 6.4.2)', 'cebae1bdb9cf83cebcceb5 eda080 656469746564', 12],
  ])('%s, delivering the valid prefix', (_name, bytes, offset) => {
    const payload = hex(bytes);
    const outcome = parseEverySplit(text(payload), server);
    expect(outcome.error).toMatchObject({ closeCode: 1007, code: 'WS_ERR_INVALID_UTF8' });
    expect(outcome.error!.message).toContain(`at byte ${offset} of the message`);
    expect(outcome.frames).toEqual([
      expect.objectContaining({ payload: payload.subarray(0, offset), ended: false }),
    ]);
  });

  it('at every position of a 40-byte message, counting from the message start', () => {
    for (let position = 0; position < 40; position++) {
      const payload = Buffer.alloc(40, 0x61);
      payload[position] = 0xff;
      const outcome = parseEverySplit(text(payload), server);
      expect(outcome.error?.message).toContain(`at byte ${position} of the message`);
      expect(outcome.frames[0]!.payload).toEqual(payload.subarray(0, position));
    }
  });

  it('fast: without waiting for the rest of the frame or the message', () => {
    const bytes = text(Buffer.concat([Buffer.from('valid'), hex('ff'), Buffer.alloc(1000, 0x61)]), false);
    const outcome = parseEverySplit(bytes.subarray(0, 2 + 2 + 4 + 6), server);
    expect(outcome.error).toMatchObject({ closeCode: 1007, code: 'WS_ERR_INVALID_UTF8' });
    expect(outcome.frames[0]!.payload.toString()).toBe('valid');
  });

  it('in a later fragment, counting the offset across fragments', () => {
    const bytes = Buffer.concat([
      text('0123456789', false),
      frame({ opcode: OP.PONG }),
      more(hex('41 ed a0 80')),
    ]);
    const outcome = parseEverySplit(bytes, server);
    expect(outcome.error!.message).toContain('at byte 12 of the message');
    expect(outcome.frames.map((f) => f.payload.toString('hex'))).toEqual([
      Buffer.from('0123456789').toString('hex'),
      '',
      '41ed',
    ]);
  });

  it('when a sequence begun in one fragment is broken in the next', () => {
    const bytes = Buffer.concat([text(hex('41 f0 9f'), false), more(hex('41'))]);
    const outcome = parseEverySplit(bytes, server);
    expect(outcome.error).toMatchObject({ closeCode: 1007, code: 'WS_ERR_INVALID_UTF8' });
    expect(outcome.error!.message).toContain('at byte 3 of the message');
  });

  it('when the message ends inside a sequence, at the end of the final frame (before its end event)', () => {
    for (const bytes of [
      text(hex('41 e2 82')),
      Buffer.concat([text(hex('f0 9f'), false), more(hex('98'))]),
    ]) {
      const outcome = parseEverySplit(bytes, server);
      expect(outcome.error).toMatchObject({ closeCode: 1007, code: 'WS_ERR_INVALID_UTF8' });
      expect(outcome.error!.message).toContain('ends inside a UTF-8 sequence');
      expect(outcome.frames[outcome.frames.length - 1]!.ended).toBe(false);
    }
  });

  it('but a non-final fragment may end inside a sequence', () => {
    const outcome = parseEverySplit(text(hex('e2 82'), false), server);
    expect(outcome.error).toBeUndefined();
    expect(outcome.frames[0]!.ended).toBe(true);
  });
});

describe('messages that are not checked here', () => {
  it('binary messages are never UTF-8 checked', () => {
    const bytes = Buffer.concat([
      frame({ opcode: OP.BINARY, payload: hex('ff c0 ed a0 80'), fin: false }),
      more(hex('e2')),
    ]);
    expect(parseEverySplit(bytes, server).error).toBeUndefined();
  });

  it('compressed text (RSV1 on the first frame) is left to the extension layer', () => {
    const bytes = Buffer.concat([
      frame({ opcode: OP.TEXT, payload: hex('ff'), rsv1: true, fin: false }),
      more(hex('c0')),
    ]);
    expect(parseEverySplit(bytes, server).error).toBeUndefined();
  });

  it('the next message is checked again after a compressed one', () => {
    const bytes = Buffer.concat([
      frame({ opcode: OP.TEXT, payload: hex('ff'), rsv1: true }),
      text(hex('ff')),
    ]);
    expect(parseChunks([bytes], server).error?.closeCode).toBe(1007);
  });

  it('a validator state left open by a non-final fragment does not leak into the next message', () => {
    // The first message ends cleanly; the second starts with a continuation byte, which is invalid.
    const bytes = Buffer.concat([text(hex('e2'), false), more(hex('82ac')), text(hex('82'))]);
    const outcome = parseEverySplit(bytes, server);
    expect(outcome.frames.filter((f) => f.ended)).toHaveLength(2);
    expect(outcome.error!.message).toContain('at byte 0 of the message');
  });
});
