// The users file through UsersFile: add / verify / passwd / remove / list on a real file, written
// atomically with mode 0600 and never holding a password in clear.
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UsersFile, scryptHasher, type PasswordHasher } from '../../src/server/users-file.ts';
import { ServerError } from '../../src/server/errors.ts';
import { writeFileAtomically } from '../../src/server/atomic-file.ts';

let directory: string;
let file: string;

beforeEach(() => {
  directory = mkdtempSync(path.join(tmpdir(), 'bufferevent-users-'));
  file = path.join(directory, 'users.json');
});

afterEach(() => rmSync(directory, { recursive: true, force: true }));

async function rejectionOf(promise: Promise<unknown>): Promise<ServerError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ServerError);
    return error as ServerError;
  }
  throw new Error('expected a rejection');
}

describe('UsersFile', () => {
  it('adds users, verifies their passwords and lists them sorted without hashes', async () => {
    const times = ['2026-12-06T05:00:00.000Z', '2026-12-06T05:01:00.000Z'];
    const users = new UsersFile(file, { now: () => new Date(times.shift()!) });
    expect(await users.list()).toEqual([]);
    await users.add('bob', 'correct horse');
    await users.add('alice', 'battery staple', { admin: true });
    expect(await users.list()).toEqual([
      {
        name: 'alice',
        admin: true,
        created: '2026-12-06T05:01:00.000Z',
        updated: '2026-12-06T05:01:00.000Z',
      },
      { name: 'bob', admin: false, created: '2026-12-06T05:00:00.000Z', updated: '2026-12-06T05:00:00.000Z' },
    ]);
    expect((await users.verify('alice', 'battery staple'))?.name).toBe('alice');
    expect(await users.verify('alice', 'correct horse')).toBeNull();
    expect(await users.verify('bob', 'correct horse ')).toBeNull();
    expect(await users.verify('nobody', 'correct horse')).toBeNull();
  });

  it('passwd replaces the password: the old one stops working, the new one works', async () => {
    const users = new UsersFile(file);
    await users.add('alice', 'first password');
    const before = JSON.parse(readFileSync(file, 'utf8')).users.alice.passwordHash;
    await users.setPassword('alice', 'second password');
    expect(JSON.parse(readFileSync(file, 'utf8')).users.alice.passwordHash).not.toBe(before);
    expect(await users.verify('alice', 'first password')).toBeNull();
    expect((await users.verify('alice', 'second password'))?.name).toBe('alice');
  });

  it('remove deletes the user and nothing else', async () => {
    const users = new UsersFile(file);
    await users.add('alice', 'alice password');
    await users.add('bob', 'bob password');
    await users.remove('alice');
    expect((await users.list()).map((user) => user.name)).toEqual(['bob']);
    expect(await users.verify('alice', 'alice password')).toBeNull();
  });

  it('refuses a duplicate add, and passwd/remove of an unknown user, with coded errors', async () => {
    const users = new UsersFile(file);
    await users.add('alice', 'alice password');
    const exists = await rejectionOf(users.add('alice', 'other password'));
    expect(exists.code).toBe('ERR_USER_EXISTS');
    expect(exists.message).toContain('alice');
    expect((await rejectionOf(users.setPassword('bob', 'bob password'))).code).toBe('ERR_USER_UNKNOWN');
    expect((await rejectionOf(users.remove('bob'))).code).toBe('ERR_USER_UNKNOWN');
    expect((await users.list()).map((user) => user.name)).toEqual(['alice']);
  });

  it.each(['', '-rf', '.hidden', 'a b', 'a/b', 'é', 'x'.repeat(65), '_leading', '__proto__'])(
    'refuses the username %j',
    async (name) => {
      const error = await rejectionOf(new UsersFile(file).add(name, 'good password'));
      expect(error.code).toBe('ERR_USER_INVALID_NAME');
    },
  );

  it('accepts names of letters, digits, ".", "_", "-", "@" up to 64 characters', async () => {
    const users = new UsersFile(file);
    const names = ['a', 'x'.repeat(64), 'alice.smith@example.com', 'o_k-1', 'constructor', '0'];
    for (const name of names) await users.add(name, 'good password');
    expect((await users.list()).map((user) => user.name)).toEqual([...names].sort());
  });

  it.each([
    ['too short', 'short12'],
    ['too long', 'x'.repeat(1025)],
    ['a line break', 'pass\nword long'],
  ])('refuses a password that is %s, without quoting it', async (_what, password) => {
    const error = await rejectionOf(new UsersFile(file).add('alice', password));
    expect(error.code).toBe('ERR_USER_INVALID_PASSWORD');
    expect(error.message).not.toContain(password);
  });

  it('writes mode 0600 atomically: no temporary or lock file remains, no plain password in the file', async () => {
    const users = new UsersFile(file);
    const passwords = ['first secret value', 'second secret value', 'third secret value'];
    await users.add('alice', passwords[0]!);
    await users.add('bob', passwords[1]!);
    await users.setPassword('alice', passwords[2]!);
    expect(readdirSync(directory)).toEqual(['users.json']);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const text = readFileSync(file, 'utf8');
    for (const password of passwords) {
      expect(text).not.toContain(password);
      expect(text).not.toContain(Buffer.from(password).toString('base64'));
    }
    const stored = JSON.parse(text);
    expect(Object.keys(stored)).toEqual(['version', 'users']);
    expect(stored.users.alice.passwordHash).toMatch(
      /^\$scrypt\$ln=15,r=8,p=1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/,
    );
  });

  it('the same password gets a different salt and hash for each user', async () => {
    const users = new UsersFile(file);
    await users.add('alice', 'same password');
    await users.add('bob', 'same password');
    const stored = JSON.parse(readFileSync(file, 'utf8')).users;
    expect(stored.alice.passwordHash.split('$')[3]).not.toBe(stored.bob.passwordHash.split('$')[3]);
    expect(stored.alice.passwordHash).not.toBe(stored.bob.passwordHash);
  });

  it('concurrent adds from several UsersFile objects all land (the lock serialises them)', async () => {
    const names = ['u1', 'u2', 'u3', 'u4', 'u5'];
    await Promise.all(names.map((name) => new UsersFile(file).add(name, `${name} password`)));
    expect((await new UsersFile(file).list()).map((user) => user.name)).toEqual(names);
    expect(readdirSync(directory)).toEqual(['users.json']);
  });

  it('a failed rename removes the temporary file and reports ERR_USERS_FILE_WRITE', async () => {
    // A non-empty directory where the file should go: the temporary file is written, the rename fails.
    const target = path.join(directory, 'occupied');
    mkdirSync(target);
    writeFileSync(path.join(target, 'keep'), 'x');
    let failure: unknown;
    await writeFileAtomically(target, 'new content').catch((error) => (failure = error));
    expect((failure as ServerError).code).toBe('ERR_USERS_FILE_WRITE');
    expect((failure as ServerError).message).toContain(target);
    expect(readdirSync(directory)).toEqual(['occupied']);
    expect(readdirSync(target)).toEqual(['keep']);
  });

  it("waits for another process's lock and gives up with ERR_USERS_FILE_LOCKED, leaving its lock alone", async () => {
    writeFileSync(`${file}.lock`, '12345\n');
    const users = new UsersFile(file, { lock: { timeoutMs: 300 } });
    const error = await rejectionOf(users.add('alice', 'alice password'));
    expect(error.code).toBe('ERR_USERS_FILE_LOCKED');
    expect(error.message).toContain(`${file}.lock is held by another process`);
    expect(readdirSync(directory)).toEqual(['users.json.lock']);
  });

  it('removes a lock older than staleMs (left by a crashed process) and goes on', async () => {
    writeFileSync(`${file}.lock`, '12345\n');
    const old = new Date(Date.now() - 120_000);
    utimesSync(`${file}.lock`, old, old);
    await new UsersFile(file).add('alice', 'alice password');
    expect(readdirSync(directory)).toEqual(['users.json']);
  });

  it('refuses to read a file other users can read, naming the fix', async () => {
    await new UsersFile(file).add('alice', 'alice password');
    chmodSync(file, 0o644);
    const error = await rejectionOf(new UsersFile(file).list());
    expect(error.code).toBe('ERR_USERS_FILE_PERMISSIONS');
    expect(error.message).toContain('0644');
    expect(error.message).toContain(`chmod 600 ${file}`);
    expect((await rejectionOf(new UsersFile(file).verify('alice', 'alice password'))).code).toBe(
      'ERR_USERS_FILE_PERMISSIONS',
    );
  });
});

describe('unknown users cost a verification', () => {
  function countingHasher(): PasswordHasher & { calls: string[] } {
    const calls: string[] = [];
    return {
      calls,
      hash: (password) => scryptHasher.hash(password),
      verify: (password, encoded) => (calls.push('verify'), scryptHasher.verify(password, encoded)),
      verifyUnknown: (password) => (calls.push('verifyUnknown'), scryptHasher.verifyUnknown(password)),
    };
  }

  it('verify() of a known, an unknown and an invalid name each run exactly one scrypt verification', async () => {
    const hasher = countingHasher();
    const users = new UsersFile(file, { hasher });
    await users.add('alice', 'alice password');
    expect(await users.verify('alice', 'wrong password')).toBeNull();
    expect(await users.verify('mallory', 'wrong password')).toBeNull();
    expect(await users.verify('../etc/passwd', 'wrong password')).toBeNull();
    expect(hasher.calls).toEqual(['verify', 'verifyUnknown', 'verifyUnknown']);
  });

  it('an over-long or non-string password costs one dummy verification and matches no one', async () => {
    const hasher = countingHasher();
    const users = new UsersFile(file, { hasher });
    await users.add('alice', 'alice password');
    expect(await users.verify('alice', 'x'.repeat(1_000_000))).toBeNull();
    expect(await users.verify('alice', undefined as unknown as string)).toBeNull();
    expect(hasher.calls).toEqual(['verifyUnknown', 'verifyUnknown']);
  });

  it('get() gives a user without its hash, or undefined', async () => {
    const users = new UsersFile(file, { now: () => new Date('2026-12-06T05:00:00.000Z') });
    await users.add('alice', 'alice password', { admin: true });
    expect(await users.get('alice')).toEqual({
      name: 'alice',
      admin: true,
      created: '2026-12-06T05:00:00.000Z',
      updated: '2026-12-06T05:00:00.000Z',
    });
    expect(await users.get('bob')).toBeUndefined();
  });

  it('with the real hasher, an unknown user takes a comparable time to a known one (both run scrypt)', async () => {
    const users = new UsersFile(file);
    await users.add('alice', 'alice password');
    const timed = async (name: string): Promise<number> => {
      const start = performance.now();
      await users.verify(name, 'wrong password');
      return performance.now() - start;
    };
    const known = Math.min(await timed('alice'), await timed('alice'), await timed('alice'));
    const unknown = Math.min(await timed('nobody'), await timed('nobody'), await timed('nobody'));
    // Generous: scrypt at N=2^15 takes tens of ms; without it an unknown user would take well under 1 ms.
    expect(unknown).toBeGreaterThan(known / 4);
  });
});
