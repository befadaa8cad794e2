// Frame parser, control frames (Autobahn 2.x): ping, pong and close carry at most 125 bytes and are
// never fragmented; violations fail with 1002 from the first two header bytes.
import { describe, expect, it } from 'vitest';
import { frame, OP, parseEverySplit, server } from './codec.ts';

describe.each([
  ['ping', OP.PING],
  ['pong', OP.PONG],
  ['close', OP.CLOSE],
])('a %s frame', (_name, opcode) => {
  it.each([0, 1, 125])('with %i bytes of payload is delivered', (size) => {
    const payload = Buffer.alloc(size, 0xfe);
    const outcome = parseEverySplit(frame({ opcode, payload }), server);
    expect(outcome.error).toBeUndefined();
    expect(outcome.frames).toEqual([
      { opcode, fin: true, rsv: [false, false, false], masked: true, length: size, payload, ended: true },
    ]);
  });

  it('with 126 bytes of payload fails with 1002 before the payload arrives', () => {
    const bytes = frame({ opcode, payload: Buffer.alloc(126) });
    const outcome = parseEverySplit(bytes.subarray(0, 2), server);
    expect(outcome.frames).toEqual([]);
    expect(outcome.error).toMatchObject({ closeCode: 1002, code: 'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH' });
  });

  it('announcing a small length with the 16- or 64-bit encoding fails with 1002', () => {
    for (const encoding of [16, 64] as const) {
      const outcome = parseEverySplit(frame({ opcode, payload: 'ab', encoding }), server);
      expect(outcome.error).toMatchObject({ closeCode: 1002, code: 'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH' });
    }
  });

  it('without FIN (fragmented) fails with 1002', () => {
    const bytes = Buffer.concat([
      frame({ opcode, payload: 'frag', fin: false }),
      frame({ opcode: OP.CONTINUATION, payload: 'ment' }),
    ]);
    const outcome = parseEverySplit(bytes, server);
    expect(outcome.frames).toEqual([]);
    expect(outcome.error).toMatchObject({ closeCode: 1002, code: 'WS_ERR_EXPECTED_FIN' });
  });
});

describe('control frame payloads', () => {
  it('are delivered as they are, not UTF-8 checked (the close reason is the protocol layer’s)', () => {
    const payload = Buffer.from([0x03, 0xe8, 0xff, 0xfe, 0xc0]);
    const outcome = parseEverySplit(frame({ opcode: OP.CLOSE, payload }), server);
    expect(outcome.error).toBeUndefined();
    expect(outcome.frames[0]!.payload).toEqual(payload);
  });

  it('ten pings in a row are each delivered', () => {
    const bytes = Buffer.concat(
      Array.from({ length: 10 }, (_, i) => frame({ opcode: OP.PING, payload: `ping ${i}` })),
    );
    const outcome = parseEverySplit(bytes, server);
    expect(outcome.frames.map((f) => f.payload.toString())).toEqual(
      Array.from({ length: 10 }, (_, i) => `ping ${i}`),
    );
  });
});
