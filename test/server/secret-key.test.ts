// The session signing key: from the config, from a private file, or generated.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveSecretKey } from '../../src/server/secret-key.ts';
import type { ServerError } from '../../src/server/errors.ts';

const directory = mkdtempSync(path.join(tmpdir(), 'bufferevent-secret-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

function keyFile(name: string, content: string, mode = 0o600): string {
  const file = path.join(directory, name);
  writeFileSync(file, content, { mode });
  return file;
}

async function failureOf(secretKeyFile: string): Promise<ServerError> {
  const error = await resolveSecretKey({ secretKey: null, secretKeyFile }).catch(
    (failure: ServerError) => failure,
  );
  expect((error as ServerError).code).toBe('ERR_SECRET_KEY_FILE');
  return error as ServerError;
}

describe('resolveSecretKey', () => {
  it('takes secretKey from the config as is', async () => {
    expect(await resolveSecretKey({ secretKey: 'k'.repeat(40), secretKeyFile: null })).toEqual({
      key: 'k'.repeat(40),
      source: 'config',
    });
  });

  it('generates a different 64-character key each time when neither is set', async () => {
    const first = await resolveSecretKey({ secretKey: null, secretKeyFile: null });
    const second = await resolveSecretKey({ secretKey: null, secretKeyFile: null });
    expect(first.source).toBe('generated');
    expect(first.key).toMatch(/^[A-Za-z0-9_-]{64}$/);
    expect(second.key).not.toBe(first.key);
  });

  it('reads a private file, without its trailing newline', async () => {
    const file = keyFile('good.key', `${'s'.repeat(48)}\n`);
    expect(await resolveSecretKey({ secretKey: null, secretKeyFile: file })).toEqual({
      key: 's'.repeat(48),
      source: 'file',
    });
  });

  it('refuses a file others can read, a short key, a missing file, naming the file and never the key', async () => {
    const readable = keyFile('readable.key', 'r'.repeat(48), 0o640);
    expect((await failureOf(readable)).message).toBe(
      `${readable} is accessible by other users (mode 0640): run chmod 600 ${readable}`,
    );
    const short = keyFile('short.key', 'tooshortsecret\n');
    const shortError = await failureOf(short);
    expect(shortError.message).toContain(`${short} holds 14 characters: a key has at least 32`);
    expect(shortError.message).not.toContain('tooshortsecret');
    const missing = path.join(directory, 'missing.key');
    expect((await failureOf(missing)).message).toBe(`cannot read secretKeyFile ${missing}: ENOENT`);
    expect((await failureOf(directory)).message).toBe(`${directory} is not a regular file`);
  });
});
