// WebsocketCommunicator: Channels' test helper. It runs the application on its own serve() on a free
// loopback port and talks to it as a real client, so a test drives a consumer exactly as a browser
// would (routing, middleware, handshake, framing) without setting up a server itself.
import { BuffereventError } from '../../errors.ts';
import { WebSocket } from '../../websocket/websocket.ts';
import type { UpgradeResponse } from '../../websocket/client-handshake.ts';
import type { Application } from '../routing.ts';
import { serve, type ChannelsServer, type ServeOptions } from '../server/serve.ts';

export interface CommunicatorOptions {
  /** Request headers (Origin, Cookie, ...). */
  headers?: Record<string, string>;
  subprotocols?: string[];
  /** serve()'s options (channelLayer, logger, inboxSize, limits); host and port are chosen here. */
  serveOptions?: Omit<ServeOptions, 'host' | 'port'>;
}

export interface ConnectResult {
  connected: boolean;
  /** The subprotocol the consumer accepted ('' for none). */
  subprotocol: string;
  /** The HTTP status of a refused handshake (403, 404, 500), undefined when connected. */
  status: number | undefined;
}

export type CommunicatorOutput =
  | { type: 'websocket.send'; text?: string; bytes?: Buffer }
  | { type: 'websocket.close'; code: number; reason: string };

function communicatorError(message: string, code: string): BuffereventError {
  return new BuffereventError(message, code);
}

export class WebsocketCommunicator {
  readonly application: Application;
  readonly path: string;
  readonly #options: CommunicatorOptions;
  #server: ChannelsServer | null = null;
  #client: WebSocket | null = null;
  readonly #outputs: CommunicatorOutput[] = [];
  #wake: (() => void) | null = null;
  #closed = false;

  constructor(application: Application, path: string, options: CommunicatorOptions = {}) {
    if (typeof path !== 'string' || !path.startsWith('/'))
      throw communicatorError(
        'WebsocketCommunicator: path must be a string starting with /',
        'ERR_INVALID_ARG',
      );
    this.application = application;
    this.path = path;
    this.#options = options;
  }

  /** The server running the application (null before connect). */
  get server(): ChannelsServer | null {
    return this.#server;
  }

  /** Opens the connection; resolves with whether the consumer accepted it. */
  async connect(timeoutMs = 5_000): Promise<ConnectResult> {
    if (this.#client !== null)
      throw communicatorError('connect(): already connected', 'ERR_COMMUNICATOR_STATE');
    this.#server = await serve(this.application, {
      ...this.#options.serveOptions,
      host: '127.0.0.1',
      port: 0,
    });
    const url = `ws://127.0.0.1:${this.#server.port}${this.path}`;
    const client = new WebSocket(url, this.#options.subprotocols ?? [], {
      headers: this.#options.headers ?? {},
    });
    this.#client = client;
    return await new Promise<ConnectResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        client.terminate();
        reject(communicatorError(`connect(): no answer within ${timeoutMs} ms`, 'ERR_COMMUNICATOR_TIMEOUT'));
      }, timeoutMs);
      client.once('unexpected-response', (_request: null, response: UpgradeResponse) => {
        clearTimeout(timer);
        this.#closed = true;
        client.terminate();
        resolve({ connected: false, subprotocol: '', status: response.statusCode });
      });
      client.once('error', (error: Error) => {
        clearTimeout(timer);
        this.#closed = true;
        reject(error);
      });
      client.once('open', () => {
        clearTimeout(timer);
        client.removeAllListeners('error');
        client.on('error', () => {}); // 'close' follows; the output records it
        resolve({ connected: true, subprotocol: client.protocol, status: undefined });
      });
      client.on('message', (data: Buffer, isBinary: boolean) =>
        this.#output(
          isBinary
            ? { type: 'websocket.send', bytes: data }
            : { type: 'websocket.send', text: data.toString('utf8') },
        ),
      );
      client.on('close', (code: number, reason: Buffer) => {
        this.#closed = true;
        this.#output({ type: 'websocket.close', code, reason: reason.toString('utf8') });
      });
    });
  }

  /** Sends a text (string) or binary (bytes) message, or Channels' `{ text }` / `{ bytes }`. */
  sendTo(data: string | Uint8Array | { text?: string; bytes?: Uint8Array }): void {
    const client = this.#openClient('sendTo');
    if (typeof data === 'string') client.send(data);
    else if (data instanceof Uint8Array) client.send(data, { binary: true });
    else if (data.text !== undefined) client.send(data.text);
    else if (data.bytes !== undefined) client.send(data.bytes, { binary: true });
    else throw communicatorError('sendTo(): give text or bytes', 'ERR_INVALID_ARG');
  }

  sendJsonTo(value: unknown): void {
    this.sendTo(JSON.stringify(value));
  }

  /** The next thing the server did: a message, or the close (with its code). */
  async receiveOutput(timeoutMs = 5_000): Promise<CommunicatorOutput> {
    const deadline = Date.now() + timeoutMs;
    while (this.#outputs.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0)
        throw communicatorError(`nothing was received within ${timeoutMs} ms`, 'ERR_COMMUNICATOR_TIMEOUT');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = null;
    }
    return this.#outputs.shift()!;
  }

  /** The next message: a string for text, a Buffer for binary. Throws if the server closed instead. */
  async receiveFrom(timeoutMs = 5_000): Promise<string | Buffer> {
    const output = await this.receiveOutput(timeoutMs);
    if (output.type === 'websocket.close') {
      throw communicatorError(
        `the server closed the connection (${output.code}${output.reason ? ` ${output.reason}` : ''}) instead of sending`,
        'ERR_COMMUNICATOR_CLOSED',
      );
    }
    return output.text ?? output.bytes!;
  }

  async receiveJsonFrom(timeoutMs = 5_000): Promise<unknown> {
    const data = await this.receiveFrom(timeoutMs);
    if (typeof data !== 'string')
      throw communicatorError(
        'receiveJsonFrom(): a binary message arrived, not JSON text',
        'ERR_COMMUNICATOR_BINARY',
      );
    return JSON.parse(data);
  }

  /** True when nothing arrives within `timeoutMs` (what arrives stays queued for receiveFrom). */
  async receiveNothing(timeoutMs = 100): Promise<boolean> {
    if (this.#outputs.length > 0) return false;
    await new Promise((resolve) => setTimeout(resolve, timeoutMs));
    return this.#outputs.length === 0;
  }

  /**
   * Closes the connection with `code` and stops the server; resolves once the consumer's
   * `disconnect` has run, so its effects can be checked.
   */
  async disconnect(code = 1000, timeoutMs = 5_000): Promise<void> {
    const client = this.#client;
    if (client !== null && !this.#closed) {
      const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
      client.close(code);
      const timer = setTimeout(() => client.terminate(), timeoutMs);
      await closed;
      clearTimeout(timer);
    }
    await this.#server?.close();
  }

  #openClient(action: string): WebSocket {
    if (this.#client === null || this.#closed)
      throw communicatorError(
        `${action}(): not connected (call connect() first; the connection may have closed)`,
        'ERR_COMMUNICATOR_STATE',
      );
    return this.#client;
  }

  #output(output: CommunicatorOutput): void {
    this.#outputs.push(output);
    this.#wake?.();
  }
}
