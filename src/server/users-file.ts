// The users file: who may log in to the bundled server. JSON, mode 0600, written atomically under a
// lock (atomic-file.ts), one scrypt hash per user (password-hash.ts):
//   { "version": 1, "users": { "alice": { "passwordHash": "$scrypt$...", "admin": false,
//                                          "created": "<ISO date>", "updated": "<ISO date>" } } }
// Every read validates the whole file, so a hand-edit mistake is reported naming the line (bad JSON)
// or the key path (bad content). Errors and messages never contain a password or a hash.
import { open } from 'node:fs/promises';
import path from 'node:path';
import { ServerError } from './errors.ts';
import { parseJsonText, type JsonIssue } from './json-text.ts';
import { hashPassword, isPasswordHash, verifyDummy, verifyPassword } from './password-hash.ts';
import {
  isValidUsername,
  MAX_PASSWORD_LENGTH,
  USERNAME_RULE,
  validateNewPassword,
  validateUsername,
} from './usernames.ts';
import { withFileLock, writeFileAtomically, type LockOptions } from './atomic-file.ts';

export const USERS_FILE_VERSION = 1;

/** A user as listed (no hash). */
export interface UserRecord {
  readonly name: string;
  readonly admin: boolean;
  /** ISO 8601 times of `add` and of the last password change. */
  readonly created: string;
  readonly updated: string;
}

interface StoredUser extends UserRecord {
  readonly passwordHash: string;
}

/** How passwords are hashed and checked; replaceable in tests (e.g. to count verifications). */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(password: string, encoded: string): Promise<boolean>;
  /** Costs what `verify` costs, for a user that does not exist; always false. */
  verifyUnknown(password: string): Promise<false>;
}

export const scryptHasher: PasswordHasher = Object.freeze({
  hash: (password: string) => hashPassword(password),
  verify: verifyPassword,
  verifyUnknown: verifyDummy,
});

export interface UsersFileOptions {
  readonly hasher?: PasswordHasher;
  readonly lock?: LockOptions;
  /** Clock for `created`/`updated` (tests). */
  readonly now?: () => Date;
}

export class UsersFile {
  readonly path: string;
  readonly #hasher: PasswordHasher;
  readonly #lock: LockOptions;
  readonly #now: () => Date;

  constructor(file: string, options: UsersFileOptions = {}) {
    this.path = path.resolve(file);
    this.#hasher = options.hasher ?? scryptHasher;
    this.#lock = options.lock ?? {};
    this.#now = options.now ?? (() => new Date());
  }

  /** Every user, sorted by name. A missing file has none. */
  async list(): Promise<UserRecord[]> {
    const users = await this.#read();
    return [...users.values()].map(publicRecord).sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  async get(name: string): Promise<UserRecord | undefined> {
    const user = (await this.#read()).get(validateUsername(name));
    return user && publicRecord(user);
  }

  /** Throws ERR_USER_EXISTS when `name` is taken (lets the CLI fail before prompting for a password). */
  async assertAbsent(name: string): Promise<void> {
    if ((await this.#read()).has(validateUsername(name))) throw this.#exists(name);
  }

  /** Throws ERR_USER_UNKNOWN when there is no user `name`. */
  async assertPresent(name: string): Promise<void> {
    this.#existing(await this.#read(), validateUsername(name));
  }

  /** Adds a user; ERR_USER_EXISTS if the name is taken. */
  async add(name: string, password: string, { admin = false } = {}): Promise<UserRecord> {
    validateUsername(name);
    validateNewPassword(password);
    const passwordHash = await this.#hasher.hash(password);
    return this.#update((users) => {
      if (users.has(name)) throw this.#exists(name);
      const now = this.#now().toISOString();
      const user: StoredUser = { name, admin, created: now, updated: now, passwordHash };
      users.set(name, user);
      return publicRecord(user);
    });
  }

  /** Replaces a user's password; ERR_USER_UNKNOWN if there is no such user. */
  async setPassword(name: string, password: string): Promise<void> {
    validateUsername(name);
    validateNewPassword(password);
    const passwordHash = await this.#hasher.hash(password);
    await this.#update((users) => {
      const user = this.#existing(users, name);
      users.set(name, { ...user, passwordHash, updated: this.#now().toISOString() });
    });
  }

  /** Removes a user; ERR_USER_UNKNOWN if there is no such user. */
  async remove(name: string): Promise<void> {
    validateUsername(name);
    await this.#update((users) => {
      this.#existing(users, name);
      users.delete(name);
    });
  }

  /**
   * The user when `password` is theirs, otherwise null. An unknown (or invalid) name costs one
   * verification too, so the time taken does not tell whether the user exists.
   */
  async verify(name: string, password: string): Promise<UserRecord | null> {
    const user = isValidUsername(name) ? (await this.#read()).get(name) : undefined;
    // A password `add` would refuse can match no one; it is not fed to scrypt whole (a megabyte of
    // input would cost more than the hash itself) but still costs one verification.
    const usable = typeof password === 'string' && password.length <= MAX_PASSWORD_LENGTH;
    if (user === undefined || !usable)
      return this.#hasher.verifyUnknown(usable ? password : '').then(() => null);
    return (await this.#hasher.verify(password, user.passwordHash)) ? publicRecord(user) : null;
  }

  #exists(name: string): ServerError {
    return new ServerError(
      `user ${name} already exists in ${this.path} (use "user passwd" to change the password)`,
      'ERR_USER_EXISTS',
    );
  }

  #existing(users: Map<string, StoredUser>, name: string): StoredUser {
    const user = users.get(name);
    if (user === undefined) throw new ServerError(`no user ${name} in ${this.path}`, 'ERR_USER_UNKNOWN');
    return user;
  }

  async #update<T>(change: (users: Map<string, StoredUser>) => T): Promise<T> {
    return withFileLock(
      this.path,
      async () => {
        const users = await this.#read();
        const result = change(users);
        await writeFileAtomically(this.path, serialise(users));
        return result;
      },
      this.#lock,
    );
  }

  // The parsed file, reused while the file is unchanged: the server looks users up on every page
  // request and WebSocket handshake, and parsing (with its checks) on each would be wasted work. The
  // file is still opened and checked each time, so a change (a rename by the CLI gives a new inode,
  // an edit a new size or time) is read at once and bad permissions are still refused.
  #parsed: { identity: string; users: Map<string, StoredUser> } | undefined;

  async #read(): Promise<Map<string, StoredUser>> {
    let text: string;
    let identity: string;
    try {
      const handle = await open(this.path, 'r');
      try {
        const stats = await handle.stat();
        if (!stats.isFile())
          throw new ServerError(`cannot read ${this.path}: not a regular file`, 'ERR_USERS_FILE_READ');
        const mode = stats.mode;
        if ((mode & 0o077) !== 0)
          throw new ServerError(
            `${this.path} is accessible by other users (mode ${(mode & 0o777).toString(8).padStart(4, '0')}): ` +
              `run chmod 600 ${this.path}`,
            'ERR_USERS_FILE_PERMISSIONS',
          );
        identity = `${stats.ino}:${stats.size}:${stats.mtimeMs}:${stats.ctimeMs}`;
        // A copy: callers that update the users change their map, never the cached one.
        if (this.#parsed?.identity === identity) return new Map(this.#parsed.users);
        text = await handle.readFile('utf8');
      } finally {
        await handle.close();
      }
    } catch (error) {
      if (error instanceof ServerError) throw error;
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return new Map();
      throw new ServerError(`cannot read ${this.path}: ${code ?? String(error)}`, 'ERR_USERS_FILE_READ');
    }
    const users = parseUsers(text, this.path);
    this.#parsed = { identity, users };
    return new Map(users);
  }
}

function publicRecord({ name, admin, created, updated }: StoredUser): UserRecord {
  return { name, admin, created, updated };
}

function serialise(users: Map<string, StoredUser>): string {
  const entries = [...users.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  const object: Record<string, Omit<StoredUser, 'name'>> = Object.create(null);
  for (const { name, passwordHash, admin, created, updated } of entries)
    object[name] = { passwordHash, admin, created, updated };
  return `${JSON.stringify({ version: USERS_FILE_VERSION, users: object }, null, 2)}\n`;
}

const USER_KEYS = ['passwordHash', 'admin', 'created', 'updated'];

/** The users of a file's text; ERR_USERS_FILE_MALFORMED naming the line or key of the first problem. */
export function parseUsers(text: string, file: string): Map<string, StoredUser> {
  const malformed = (issue: JsonIssue): ServerError =>
    new ServerError(`${file}: ${issue.where}: ${issue.message}`, 'ERR_USERS_FILE_MALFORMED');
  const parsed = parseJsonText(text);
  if (!parsed.ok) throw malformed(parsed.issue);
  const root = parsed.value;
  if (!isPlainObject(root)) throw malformed({ where: '(top level)', message: 'expected an object' });
  for (const key of Object.keys(root))
    if (key !== 'version' && key !== 'users')
      throw malformed({ where: key, message: 'unknown key (expected "version" and "users")' });
  if (root.version !== USERS_FILE_VERSION)
    throw malformed({ where: 'version', message: `expected ${USERS_FILE_VERSION}` });
  if (!isPlainObject(root.users)) throw malformed({ where: 'users', message: 'expected an object' });
  const users = new Map<string, StoredUser>();
  for (const [name, entry] of Object.entries(root.users)) {
    const where = `users.${name}`;
    if (!isValidUsername(name)) throw malformed({ where, message: `invalid username: ${USERNAME_RULE}` });
    if (!isPlainObject(entry)) throw malformed({ where, message: 'expected an object' });
    for (const key of Object.keys(entry))
      if (!USER_KEYS.includes(key)) throw malformed({ where: `${where}.${key}`, message: 'unknown key' });
    // The value is never quoted: someone may have typed a plain password there.
    if (!isPasswordHash(entry.passwordHash))
      throw malformed({
        where: `${where}.passwordHash`,
        message: 'expected a scrypt hash made by "bufferevent user passwd"',
      });
    const admin = entry.admin ?? false;
    if (typeof admin !== 'boolean')
      throw malformed({ where: `${where}.admin`, message: 'expected a boolean' });
    for (const key of ['created', 'updated'] as const)
      if (entry[key] !== undefined && typeof entry[key] !== 'string')
        throw malformed({ where: `${where}.${key}`, message: 'expected a date string' });
    users.set(name, {
      name,
      admin,
      created: (entry.created as string | undefined) ?? '',
      updated: (entry.updated as string | undefined) ?? '',
      passwordHash: entry.passwordHash,
    });
  }
  return users;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
