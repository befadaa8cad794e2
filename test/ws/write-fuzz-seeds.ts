// Writes the libFuzzer seed corpora from fixtures.ts (scripts/fuzz.sh runs it with vite-node): the
// frame streams behind the config byte native/ws/fuzz/frame_parser_fuzz.cc decodes, and UTF-8 seeds.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fixtures } from './fixtures.ts';

const [frameDir, utf8Dir] = process.argv.slice(2);
if (!frameDir || !utf8Dir) throw new Error('usage: write_seeds.ts <frame-corpus-dir> <utf8-corpus-dir>');
mkdirSync(frameDir, { recursive: true });
mkdirSync(utf8Dir, { recursive: true });

const maxPayloads = [0, 16, 1000, 70_000];
const maxFragments = [0, 1, 3, 16];
fixtures.forEach((fixture, index) => {
  const config =
    (fixture.options.server ? 1 : 0) |
    (maxPayloads.indexOf(fixture.options.maxPayload ?? 0) << 1) |
    (maxFragments.indexOf(fixture.options.maxFragments ?? 0) << 3);
  writeFileSync(
    path.join(frameDir, `fixture-${index}`),
    Buffer.concat([Buffer.from([config]), fixture.bytes]),
  );
});

const utf8Seeds = [
  '',
  'Hello',
  'κόσμε',
  '\u{10FFFF}\u{FFFF}\u{D7FF}\u{E000}',
  'ascii run longer than eight bytes',
];
const invalid = ['c0af', 'e080af', 'f08080af', 'eda080', 'f4908080', 'e282', 'f09f98', '41ff42'];
[...utf8Seeds.map((text) => Buffer.from(text)), ...invalid.map((hex) => Buffer.from(hex, 'hex'))].forEach(
  (bytes, index) => writeFileSync(path.join(utf8Dir, `seed-${index}`), bytes),
);
console.log(`wrote ${fixtures.length} frame seeds and ${utf8Seeds.length + invalid.length} UTF-8 seeds`);
