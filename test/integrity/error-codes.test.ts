// Every error code the binding can raise (any 'ERR_*' or 'WS_ERR_*' literal in src/ or native/) is listed in docs/errors.md.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(path.join(root, dir), { recursive: true, encoding: 'utf8' })
    .filter((name) => /\.(ts|cc|h)$/.test(name))
    .map((name) => path.join(root, dir, name));
}

function codesRaisedBySources(): string[] {
  const codes = new Set<string>();
  for (const file of [...sourceFiles('src'), ...sourceFiles('native')]) {
    for (const match of readFileSync(file, 'utf8').matchAll(/['"`]((?:WS_)?ERR_[A-Z0-9_]+)['"`]/g))
      codes.add(match[1]!);
  }
  return [...codes].sort();
}

// The codes the integrity and bad-input tests expect; they must exist in the sources too.
const codesTheTestsExpect = [
  'ERR_CONNECT',
  'ERR_EVBUFFER_FROZEN',
  'ERR_FREED',
  'ERR_INVALID_ARG',
  'ERR_INVALID_FD',
  'ERR_INVALID_HOST',
  'ERR_INVALID_PORT',
  'ERR_INVALID_PRIORITY',
  'ERR_INVALID_SIGNAL',
  'ERR_INVALID_TIMEOUT',
  'ERR_INVALID_WATERMARK',
  'ERR_LISTEN',
  'ERR_NOT_CONNECTED',
  'ERR_NOT_OWNER',
];

describe('docs/errors.md', () => {
  it('exists', () => {
    expect(existsSync(path.join(root, 'docs', 'errors.md'))).toBe(true);
  });

  it('lists every ERR_* code that src/ and native/ can raise', () => {
    const raised = codesRaisedBySources();
    expect(raised).toEqual(expect.arrayContaining(codesTheTestsExpect));
    const doc = existsSync(path.join(root, 'docs', 'errors.md'))
      ? readFileSync(path.join(root, 'docs', 'errors.md'), 'utf8')
      : '';
    const missing = raised.filter((code) => !new RegExp(`\\b${code}\\b`).test(doc));
    expect(missing).toEqual([]);
  });
});
