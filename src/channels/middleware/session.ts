// A connection's session (`scope.session`): data by key, loaded from the store when the handshake's
// cookie was valid, otherwise fresh and empty with a new random id. Changes are kept in memory until
// `save()`; `rotate()` gives the session a new id keeping its data (call it on login, against session
// fixation).
import { newSessionId, signSessionId } from './signing.ts';
import type { SessionData, SessionStore } from './session-store.ts';

export interface SessionSettings {
  readonly store: SessionStore;
  readonly secrets: readonly string[];
  readonly maxAgeSeconds: number;
  readonly cookieName: string;
}

export class Session {
  #id: string;
  #data: SessionData;
  #modified = false;
  #isNew: boolean;
  readonly #settings: SessionSettings;

  /** @internal Made by SessionMiddleware. */
  constructor(settings: SessionSettings, id: string | undefined, data: SessionData | undefined) {
    this.#settings = settings;
    this.#isNew = id === undefined;
    this.#id = id ?? newSessionId();
    this.#data = emptyData();
    // Without a prototype, '__proto__' and 'constructor' are ordinary keys.
    if (data !== undefined) Object.assign(this.#data, data);
  }

  /** The session id (never sent unsigned; see `cookieValue`). */
  get id(): string {
    return this.#id;
  }

  /** True when the handshake had no valid session cookie (this session is not in the store yet). */
  get isNew(): boolean {
    return this.#isNew;
  }

  get modified(): boolean {
    return this.#modified;
  }

  get isEmpty(): boolean {
    return Object.keys(this.#data).length === 0;
  }

  get(key: string): unknown {
    return Object.hasOwn(this.#data, key) ? this.#data[key] : undefined;
  }

  /** Sets a value; it must survive JSON (stores serialise). */
  set(key: string, value: unknown): void {
    this.#data[key] = value;
    this.#modified = true;
  }

  delete(key: string): void {
    if (!Object.hasOwn(this.#data, key)) return;
    delete this.#data[key];
    this.#modified = true;
  }

  /** Writes the data to the store under the current id, for `maxAge` from now. */
  async save(): Promise<void> {
    await this.#settings.store.set(this.#id, this.#data, this.#settings.maxAgeSeconds);
    this.#modified = false;
    this.#isNew = false;
  }

  /** A new id keeping the data: the old id is deleted from the store and the session saved under the new one. */
  async rotate(): Promise<void> {
    const old = this.#id;
    this.#id = newSessionId();
    await this.#settings.store.delete(old);
    await this.save();
  }

  /** Drops the data and the id (logout): a fresh empty session, the old one deleted from the store. */
  async flush(): Promise<void> {
    const old = this.#id;
    this.#id = newSessionId();
    this.#data = emptyData();
    this.#modified = false;
    this.#isNew = true;
    await this.#settings.store.delete(old);
  }

  /** The signed cookie value for the current id. */
  cookieValue(): string {
    return signSessionId(this.#id, this.#settings.secrets);
  }

  /**
   * A Set-Cookie header value: HttpOnly, SameSite=Lax, Path=/, and Secure unless `secure: false`
   * (a page served over plain HTTP, where browsers would drop a Secure cookie).
   */
  setCookieHeader(options: { secure?: boolean } = {}): string {
    const secure = options.secure === false ? '' : '; Secure';
    return (
      `${this.#settings.cookieName}=${this.cookieValue()}; Max-Age=${Math.floor(this.#settings.maxAgeSeconds)}; ` +
      `Path=/; HttpOnly${secure}; SameSite=Lax`
    );
  }

  /** A Set-Cookie header value that deletes the cookie (after logout). */
  clearCookieHeader(options: { secure?: boolean } = {}): string {
    const secure = options.secure === false ? '' : '; Secure';
    return `${this.#settings.cookieName}=; Max-Age=0; Path=/; HttpOnly${secure}; SameSite=Lax`;
  }
}

function emptyData(): SessionData {
  return Object.create(null) as SessionData;
}
