// Listener: libevent's evconnlistener. Each accepted connection arrives as a non-blocking fd that the
// callback now owns (typically: Bufferevent.socket({ fd })).
import { isIP } from 'node:net';
import { native, type NativeListener } from './native.ts';
import { BuffereventError, socketError } from './errors.ts';
import { optionalBoolean, requireFunction, requireInteger, requirePort } from './validate.ts';

export interface ListenOptions {
  /** A numeric IPv4 or IPv6 address. Default '127.0.0.1'. */
  host?: string;
  /** Default 0: the system picks a free port (see `address`). */
  port?: number;
  backlog?: number;
  /** SO_REUSEPORT, so several processes can accept on one port. */
  reusePort?: boolean;
  /**
   * Accept errors (EMFILE, ENFILE, ENOBUFS...): the listener has disabled itself and re-enables after
   * `retryInMs`. Without it, each error is a process warning.
   */
  onError?: (error: BuffereventError, retryInMs: number) => void;
}

export interface SocketAddress {
  address: string;
  port: number;
  family: 'IPv4' | 'IPv6';
}

export type AcceptCallback = (fd: number, peer: SocketAddress) => void;

const enum ListenerCallback {
  Accept = 0,
  Error = 1,
}

export class Listener {
  readonly #native: NativeListener;
  #onAccept: AcceptCallback;
  readonly #onError: ((error: BuffereventError, retryInMs: number) => void) | undefined;
  #closed = false;

  static {
    native.setHooks({
      listener: (owner, which, value, address, port, family) =>
        (owner as Listener).#deliver(which, value, address, port, family),
    });
  }

  private constructor(options: ListenOptions, onAccept: AcceptCallback) {
    if (typeof options !== 'object' || options === null) {
      throw new BuffereventError(
        'options must be an object { host?, port?, backlog?, reusePort?, onError? }',
        'ERR_INVALID_ARG',
      );
    }
    const host = options.host ?? '127.0.0.1';
    const family = isIP(host);
    if (family === 0) {
      throw new BuffereventError(
        `host must be a numeric IPv4 or IPv6 address, got ${JSON.stringify(host)}`,
        'ERR_INVALID_HOST',
      );
    }
    this.#onAccept = onAccept;
    this.#onError = options.onError === undefined ? undefined : requireFunction(options.onError, 'onError');
    this.#native = new native.Listener(this, {
      family: family as 4 | 6,
      address: host,
      port: requirePort(options.port ?? 0, { allowZero: true }),
      backlog: requireInteger(options.backlog ?? 511, 'backlog', 1, 65535),
      reusePort: optionalBoolean(options.reusePort, 'reusePort', false),
    });
  }

  /** Binds and listens (evconnlistener_new_bind); throws ERR_LISTEN (e.g. EADDRINUSE) synchronously. */
  static listen(options: ListenOptions, onAccept: AcceptCallback): Listener {
    return new Listener(options, requireFunction(onAccept, 'onAccept'));
  }

  get address(): SocketAddress {
    this.#check();
    return this.#native.address();
  }

  get fd(): number {
    this.#check();
    return this.#native.fd();
  }

  get closed(): boolean {
    return this.#closed;
  }

  enable(): this {
    this.#check();
    this.#native.enable();
    return this;
  }

  disable(): this {
    this.#check();
    this.#native.disable();
    return this;
  }

  /** Replaces the accept callback (a WebSocketServer given this listener takes its connections). */
  setAcceptCallback(onAccept: AcceptCallback): this {
    this.#check();
    this.#onAccept = requireFunction(onAccept, 'onAccept');
    return this;
  }

  /** Stops listening and closes the socket. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#native.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #check(): void {
    if (this.#closed) throw new BuffereventError('this listener was closed', 'ERR_FREED');
  }

  #deliver(which: number, value: number, address?: string | number, port?: number, family?: number): void {
    if (which === ListenerCallback.Accept) {
      if (this.#closed) return;
      this.#onAccept(value, {
        address: String(address),
        port: port ?? 0,
        family: family === 6 ? 'IPv6' : 'IPv4',
      });
      return;
    }
    const error = socketError(value, 'accept failed');
    error.syscall = 'accept';
    const retryInMs = typeof address === 'number' ? address : 0;
    if (this.#onError) this.#onError(error, retryInMs);
    else
      process.emitWarning(`${error.message}; the listener retries in ${retryInMs} ms`, { code: error.code });
  }
}
