// How file bytes become lines a page can show: long lines cut with a marker, invalid UTF-8 and
// control characters made safe, ANSI colours and tabs kept, CRLF endings removed.
import { appendFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers.ts';
import { RecordingSink, useTailFixture } from './tail-helpers.ts';

const fixture = useTailFixture();

/** Follows a new empty file with `limits`, appends `data`, and returns the lines once `count` arrived. */
async function linesOf(data: Buffer | string, count: number, limits = {}): Promise<string[]> {
  const log = fixture.file('text.log');
  writeFileSync(log, '');
  const engine = fixture.engine({ t: { path: log, title: 'T' } }, limits);
  const sink = new RecordingSink();
  engine.open('t', { sink });
  appendFileSync(log, data);
  await waitFor(() => sink.items.length >= count, 10_000, `${count} lines`);
  return sink.lines();
}

function isWellFormed(text: string): boolean {
  return !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(text);
}

describe('line text', () => {
  it('cuts a line longer than maxLineBytes with a marker giving the bytes cut, and goes on with the next', async () => {
    const long = 'x'.repeat(10_000);
    const lines = await linesOf(`${long}\nshort\n`, 2, { maxLineBytes: 4096 });
    expect(lines).toEqual([`${'x'.repeat(4096)} [… line cut: ${10_000 - 4096} more bytes]`, 'short']);
  });

  it('cuts a line that arrives in many writes without holding more than the limit', async () => {
    const log = fixture.file('grow.log');
    writeFileSync(log, '');
    const engine = fixture.engine(
      { g: { path: log, title: 'G' } },
      { maxLineBytes: 100, readChunkBytes: 1024 },
    );
    const sink = new RecordingSink();
    engine.open('g', { sink });
    for (let i = 0; i < 50; i++) appendFileSync(log, 'y'.repeat(1000));
    appendFileSync(log, '\nend\n');
    await waitFor(() => sink.items.length === 2, 10_000, 'the cut line');
    expect(sink.lines()).toEqual([`${'y'.repeat(100)} [… line cut: ${50_000 - 100} more bytes]`, 'end']);
  });

  it('cuts between characters, never inside a multi-byte one', async () => {
    const lines = await linesOf(`${'é'.repeat(100)}\n`, 1, { maxLineBytes: 65 }); // é is 2 bytes
    expect(lines).toEqual([`${'é'.repeat(32)} [… line cut: 136 more bytes]`]);
  });

  it('shows invalid UTF-8 and binary as replacement characters, always as well-formed strings', async () => {
    const data = Buffer.concat([
      Buffer.from('ok \xff\xfe end\n', 'latin1'),
      Buffer.from([0xed, 0xa0, 0x80, 0x0a]), // an encoded surrogate
      Buffer.from([0xe2, 0x82, 0x0a]), // a sequence cut short by the newline
      Buffer.from('naïve ✓ 😀\n'),
    ]);
    const lines = await linesOf(data, 4);
    expect(lines).toEqual(['ok \ufffd\ufffd end', '\ufffd\ufffd\ufffd', '\ufffd', 'naïve ✓ 😀']);
    expect(lines.every(isWellFormed)).toBe(true);
  });

  it('keeps tabs and ANSI colour sequences, and makes other control characters visible', async () => {
    const lines = await linesOf('a\tb \x1b[31mred\x1b[0m \x1b[2Jclear\x07bell\x00nul\x7f \u0085\r\n', 1);
    expect(lines).toEqual(['a\tb \x1b[31mred\x1b[0m \u241b[2Jclear\u2407bell\u2400nul\u2421 \ufffd']);
  });

  it('removes the \\r of a CRLF ending but keeps a \\r inside a line visible', async () => {
    const lines = await linesOf('one\r\ntwo\rthree\n', 2);
    expect(lines).toEqual(['one', 'two\u240dthree']);
  });
});
