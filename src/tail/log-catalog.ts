// The configured log files. Clients name a file by its id only; the catalog turns an id and a user
// into a path or a coded refusal, and never takes a path from a client.
import path from 'node:path';
import { BuffereventError } from '../errors.ts';

export interface TailLogConfig {
  /** Absolute path of the file (it need not exist yet; its directory must). */
  path: string;
  /** What the page shows for it. */
  title: string;
  /** When given, only these users may view it. */
  users?: readonly string[];
}

/** `{ "1": { path, title, users? }, ... }`: ids are 1–64 ASCII letters and digits. */
export type TailLogsConfig = Readonly<Record<string, TailLogConfig>>;

export interface TailLogEntry {
  readonly id: string;
  readonly path: string;
  readonly title: string;
  readonly users: ReadonlySet<string> | undefined;
}

const ID = /^[A-Za-z0-9]{1,64}$/;

function configError(key: string, problem: string): BuffereventError {
  return new BuffereventError(`tail log ${key} ${problem}`, 'ERR_TAIL_CONFIG');
}

/** For messages: a client's value, shortened, never trusted as a path. */
function shown(value: unknown): string {
  const text = typeof value === 'string' ? value : typeof value;
  return JSON.stringify(text.length > 64 ? `${text.slice(0, 64)}…` : text);
}

export class LogCatalog {
  // A Map, not the config object: an id like "__proto__" or "constructor" is only ever a key.
  readonly #entries = new Map<string, TailLogEntry>();

  /** Checks the whole configuration; ERR_TAIL_CONFIG names the bad key. */
  constructor(config: unknown) {
    if (typeof config !== 'object' || config === null || Array.isArray(config)) {
      throw new BuffereventError(
        'the tail log files must be an object { "<id>": { path, title } }',
        'ERR_TAIL_CONFIG',
      );
    }
    for (const [id, value] of Object.entries(config)) {
      const key = `logs[${JSON.stringify(id)}]`;
      if (!ID.test(id)) throw configError(key, 'has a bad id: use 1 to 64 letters and digits');
      if (typeof value !== 'object' || value === null)
        throw configError(key, 'must be an object { path, title, users? }');
      const { path: filePath, title, users } = value as Partial<Record<string, unknown>>;
      if (
        typeof filePath !== 'string' ||
        !path.isAbsolute(filePath) ||
        filePath.includes('\0') ||
        filePath.endsWith('/')
      ) {
        throw configError(`${key}.path`, 'must be the absolute path of a file');
      }
      if (typeof title !== 'string' || title.length === 0)
        throw configError(`${key}.title`, 'must be a non-empty string');
      if (
        users !== undefined &&
        (!Array.isArray(users) || users.some((user) => typeof user !== 'string' || user === ''))
      ) {
        throw configError(`${key}.users`, 'must be an array of user names');
      }
      this.#entries.set(id, {
        id,
        path: path.normalize(filePath),
        title,
        users: users === undefined ? undefined : new Set(users as string[]),
      });
    }
  }

  /** The files `user` may view, in configuration order. */
  visibleTo(user: string | undefined): Array<{ id: string; title: string }> {
    return [...this.#entries.values()]
      .filter((entry) => this.#allows(entry, user))
      .map(({ id, title }) => ({ id, title }));
  }

  /** The entry for a client's `id`: ERR_TAIL_UNKNOWN_LOG for anything but a configured id, ERR_TAIL_FORBIDDEN when `user` may not view it. */
  resolve(id: unknown, user: string | undefined): TailLogEntry {
    const entry = typeof id === 'string' && ID.test(id) ? this.#entries.get(id) : undefined;
    if (entry === undefined) {
      throw new BuffereventError(
        `no log file is configured with id ${shown(id)}: choose one of the ids the server lists`,
        'ERR_TAIL_UNKNOWN_LOG',
      );
    }
    if (!this.#allows(entry, user)) {
      throw new BuffereventError(
        `${user === undefined ? 'an anonymous user' : `user ${shown(user)}`} may not view log ${shown(entry.id)}: ask an administrator to add you to its users`,
        'ERR_TAIL_FORBIDDEN',
      );
    }
    return entry;
  }

  #allows(entry: TailLogEntry, user: string | undefined): boolean {
    return entry.users === undefined || (user !== undefined && entry.users.has(user));
  }
}
