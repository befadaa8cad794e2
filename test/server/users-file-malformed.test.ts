// A hand-edited users file with a mistake is refused naming the line (bad JSON) or the key (bad
// content), never quoting a value: someone may have typed a plain password into it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UsersFile } from '../../src/server/users-file.ts';
import { hashPassword } from '../../src/server/password-hash.ts';
import type { ServerError } from '../../src/server/errors.ts';

let directory: string;
let file: string;
let goodHash: string;

beforeEach(async () => {
  directory = mkdtempSync(path.join(tmpdir(), 'bufferevent-users-'));
  file = path.join(directory, 'users.json');
  goodHash ??= await hashPassword('alice password');
});

afterEach(() => rmSync(directory, { recursive: true, force: true }));

async function readErrorOf(text: string): Promise<ServerError> {
  writeFileSync(file, text, { mode: 0o600 });
  let failure: unknown;
  await new UsersFile(file).list().catch((error) => (failure = error));
  expect(failure).toBeDefined();
  return failure as ServerError;
}

function usersText(users: unknown, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ version: 1, users, ...extra }, null, 2);
}

describe('malformed users file', () => {
  it('names the line and column of a JSON syntax error', async () => {
    const error = await readErrorOf('{\n  "version": 1,\n  "users": {,}\n}\n');
    expect(error.code).toBe('ERR_USERS_FILE_MALFORMED');
    expect(error.message.startsWith(`${file}: line 3, column 13: invalid JSON (`)).toBe(true);
  });

  it.each([
    ['[]', '(top level): expected an object'],
    ['{"version": 2, "users": {}}', 'version: expected 1'],
    ['{"users": {}}', 'version: expected 1'],
    ['{"version": 1}', 'users: expected an object'],
    ['{"version": 1, "users": [], "extra": 1}', 'extra: unknown key'],
    ['{"version": 1, "users": []}', 'users: expected an object'],
    ['{"version": 1, "users": {"alice": "x"}}', 'users.alice: expected an object'],
    ['{"version": 1, "users": {"bad name": {}}}', 'users.bad name: invalid username'],
    ['{"version": 1, "users": {"__proto__": {}}}', 'users.__proto__: invalid username'],
    ['{"version": 1, "users": {"alice": {}}}', 'users.alice.passwordHash: expected a scrypt hash'],
  ])('%s: %s', async (text, expected) => {
    const error = await readErrorOf(text);
    expect(error.code).toBe('ERR_USERS_FILE_MALFORMED');
    expect(error.message).toContain(`${file}: ${expected}`);
  });

  it('names an unknown key and a bad type inside a user', async () => {
    const unknown = await readErrorOf(usersText({ alice: { passwordHash: goodHash, pasword: 'x' } }));
    expect(unknown.message).toContain('users.alice.pasword: unknown key');
    const admin = await readErrorOf(usersText({ alice: { passwordHash: goodHash, admin: 'yes' } }));
    expect(admin.message).toContain('users.alice.admin: expected a boolean');
    const created = await readErrorOf(usersText({ alice: { passwordHash: goodHash, created: 5 } }));
    expect(created.message).toContain('users.alice.created: expected a date string');
  });

  it('a plain password typed in place of the hash is refused and never quoted', async () => {
    const error = await readErrorOf(usersText({ alice: { passwordHash: 'MyPlainSecret123' } }));
    expect(error.code).toBe('ERR_USERS_FILE_MALFORMED');
    expect(error.message).toContain('users.alice.passwordHash');
    expect(error.message).not.toContain('MyPlainSecret123');
  });

  it.each([
    ['cost above the bound (ln=21)', (hash: string) => hash.replace('ln=15', 'ln=21')],
    ['cost below the bound (ln=9)', (hash: string) => hash.replace('ln=15', 'ln=9')],
    ['r=0', (hash: string) => hash.replace('r=8', 'r=0')],
    ['p=9', (hash: string) => hash.replace('p=1', 'p=9')],
    ['another algorithm', (hash: string) => hash.replace('$scrypt$', '$argon2id$')],
    ['padding in the salt', (hash: string) => hash.replace(/\$([^$]+)\$([^$]+)$/, '$$$1=$$$2')],
  ])('a hash with %s is refused', async (_what, change) => {
    const error = await readErrorOf(usersText({ alice: { passwordHash: change(goodHash) } }));
    expect(error.message).toContain('users.alice.passwordHash: expected a scrypt hash');
  });

  it('a well-formed hand-written file is read, with admin defaulting to false', async () => {
    writeFileSync(file, usersText({ alice: { passwordHash: goodHash } }), { mode: 0o600 });
    const users = new UsersFile(file);
    expect(await users.list()).toEqual([{ name: 'alice', admin: false, created: '', updated: '' }]);
    expect((await users.verify('alice', 'alice password'))?.name).toBe('alice');
  });

  it('an unreadable path is ERR_USERS_FILE_READ naming the file and the system error', async () => {
    const error = await new UsersFile(directory).list().catch((failure) => failure as ServerError);
    expect((error as ServerError).code).toBe('ERR_USERS_FILE_READ');
    expect((error as ServerError).message).toBe(`cannot read ${directory}: not a regular file`);
  });
});
