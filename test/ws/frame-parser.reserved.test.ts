// Frame parser, reserved bits and opcodes (Autobahn 3.x and 4.x): RSV bits are reported for the
// extension layer to judge; reserved opcodes fail with 1002 as soon as the first byte is read.
import { describe, expect, it } from 'vitest';
import { frame, OP, parseEverySplit, server } from './codec.ts';

describe('reserved bits', () => {
  it.each([
    [true, false, false],
    [false, true, false],
    [false, false, true],
    [true, true, true],
  ])('rsv1=%s rsv2=%s rsv3=%s are reported on data and control frames, not judged', (rsv1, rsv2, rsv3) => {
    const bytes = Buffer.concat([
      frame({ opcode: OP.TEXT, payload: 'Hello', rsv1, rsv2, rsv3 }),
      frame({ opcode: OP.PING, payload: 'p', rsv1, rsv2, rsv3 }),
      frame({ opcode: OP.BINARY, payload: Buffer.from([0, 1, 2]), rsv1, rsv2, rsv3 }),
    ]);
    const outcome = parseEverySplit(bytes, server);
    expect(outcome.error).toBeUndefined();
    expect(outcome.frames.map((f) => f.rsv)).toEqual([
      [rsv1, rsv2, rsv3],
      [rsv1, rsv2, rsv3],
      [rsv1, rsv2, rsv3],
    ]);
  });
});

describe('reserved opcodes', () => {
  const reserved = [3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf];

  it.each(reserved)('opcode %i fails with 1002 from the first two bytes', (opcode) => {
    const outcome = parseEverySplit(frame({ opcode, payload: 'x' }).subarray(0, 2), server);
    expect(outcome.frames).toEqual([]);
    expect(outcome.error).toMatchObject({ closeCode: 1002, code: 'WS_ERR_INVALID_OPCODE' });
    expect(outcome.error!.message).toContain(`opcode ${opcode}`);
  });

  it.each(reserved)('opcode %i after a valid text frame fails, the text frame delivered', (opcode) => {
    const bytes = Buffer.concat([
      frame({ opcode: OP.TEXT, payload: 'Hello' }),
      frame({ opcode, payload: 'reserved' }),
      frame({ opcode: OP.PING, payload: 'never parsed' }),
    ]);
    const outcome = parseEverySplit(bytes, server);
    expect(outcome.frames.map((f) => f.payload.toString())).toEqual(['Hello']);
    expect(outcome.error).toMatchObject({ closeCode: 1002, code: 'WS_ERR_INVALID_OPCODE' });
  });
});
