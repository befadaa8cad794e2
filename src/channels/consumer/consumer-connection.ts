// One consumer's connection: the handshake (connect runs before the 101; accept sends it, close
// refuses with 403), the inbox that runs its handlers one at a time, the loop that takes its
// channel-layer messages and dispatches them by `type`, its groups, and the end (disconnect runs
// exactly once, then groups are left and nothing of it stays in the layer's socket bridge).
//
// Failure rules (each logged, each confined to this connection): a handler that throws or an
// unknown message type closes with 1011 (HTTP 500 before the upgrade); a client that floods the
// inbox gets 1008; a client's protocol mistake found by a consumer (ClientProtocolError) closes
// with its code.
import { BuffereventError } from '../../errors.ts';
import type { SendResult, WebSocket } from '../../websocket/websocket.ts';
import type { ChannelLayer, ChannelMessage } from '../layers/channel-layer.ts';
import type { GroupSocket } from '../layers/group-sockets.ts';
import { safeLog, type ChannelsLogger } from '../logger.ts';
import type { Scope } from '../routing.ts';
import { findHandler } from './handler-names.ts';
import { Inbox } from './inbox.ts';
import { ClientProtocolError, JsonWebsocketConsumer } from './json-consumer.ts';
import { bindConsumer, WebsocketConsumer, type ConsumerSendData } from './websocket-consumer.ts';

/** What the server side offers a connection during its opening handshake. */
export interface PendingHandshake {
  /** Aborted when the handshake ends without an answer (deadline, server closed, client gone). */
  readonly signal: AbortSignal;
  /** The subprotocols the client offered, in its order. */
  readonly offeredSubprotocols: readonly string[];
  /** Sends the 101 (with `subprotocol`); the server then calls `attach` with the socket, synchronously. */
  accept(subprotocol: string | undefined): void;
  /** Answers the handshake with an HTTP error status. */
  refuse(status: number, reason: string): void;
}

export interface ConsumerConnectionOptions {
  /** Handler calls that may wait (WebSocket and layer messages); more from the client closes with 1008. */
  inboxSize: number;
  logger: ChannelsLogger;
}

type State = 'connecting' | 'open' | 'closing' | 'closed';

const libraryPrototypes = new Set<object>([
  WebsocketConsumer.prototype,
  JsonWebsocketConsumer.prototype,
  Object.prototype,
]);
const isLibraryPrototype = (proto: object): boolean => libraryPrototypes.has(proto);

export class ConsumerConnection {
  readonly consumer: WebsocketConsumer;
  readonly #layer: ChannelLayer | null;
  readonly #handshake: PendingHandshake;
  readonly #logger: ChannelsLogger;
  readonly #inbox: Inbox;
  readonly #stopReceiving = new AbortController();
  /** Topics the consumer's groups subscribed to before the socket existed. */
  readonly #pendingTopics = new Set<string>();
  #state: State = 'connecting';
  #socket: WebSocket | null = null;
  #closeCode = 1006;
  #disconnectQueued = false;
  #resolveFinished!: () => void;
  /** Settles once disconnect ran and the groups were left. */
  readonly finished: Promise<void>;

  constructor(
    consumer: WebsocketConsumer,
    scope: Scope,
    layer: ChannelLayer | null,
    handshake: PendingHandshake,
    options: ConsumerConnectionOptions,
  ) {
    this.consumer = consumer;
    this.#layer = layer;
    this.#handshake = handshake;
    this.#logger = options.logger;
    this.#inbox = new Inbox(options.inboxSize, (error) => this.#handlerFailed(error));
    this.finished = new Promise((resolve) => (this.#resolveFinished = resolve));
    consumer.scope = scope;
    consumer.channelLayer = layer;
    bindConsumer(consumer, {
      accept: (subprotocol) => this.#accept(subprotocol),
      send: (data) => this.#send(data),
      close: (code, reason) => this.#close(code, reason),
      onDrain: (listener) => this.#onDrain(listener),
    });
    handshake.signal.addEventListener('abort', () => this.#handshakeAbandoned(), { once: true });
  }

  get state(): State {
    return this.#state;
  }

  /** The accepted socket, null before `accept` and after the end. */
  get socket(): WebSocket | null {
    return this.#socket;
  }

  /** Runs `connect` (after joining the consumer's channel and groups). */
  start(): void {
    this.#inbox.pushAlways(async () => {
      if (this.#layer !== null) await this.#joinLayer(this.#layer);
      if (this.#state !== 'connecting') return;
      await this.consumer.connect();
    });
  }

  /** Called by the server with the socket `accept` opened. */
  attach(socket: WebSocket): void {
    this.#socket = socket;
    this.#state = 'open';
    for (const topic of this.#pendingTopics) socket.subscribe(topic);
    this.#pendingTopics.clear();
    socket.on('message', (data: Buffer, isBinary: boolean) => this.#onMessage(data, isBinary));
    // 'error' is always followed by 'close'; the listener keeps an unhandled 'error' from throwing.
    socket.on('error', (error: Error) =>
      safeLog(this.#logger, 'info', 'WebSocket error', this.#details({ error: error.message })),
    );
    socket.on('close', (code: number) => this.#ended(code));
  }

  /** Closes an open connection (server shutdown: 1001); ends a pending handshake with 503. */
  shutdown(code: number, reason: string): void {
    if (this.#state === 'connecting') {
      this.#refuse(503, 'the server is shutting down');
    } else if (this.#state === 'open') {
      this.#state = 'closing';
      this.#socket!.close(code, reason);
    }
  }

  async #joinLayer(layer: ChannelLayer): Promise<void> {
    const channel = await layer.newChannel();
    this.consumer.channelName = channel;
    layer.localSockets.bind(channel, this.#groupSocket());
    void this.#receiveLoop(layer, channel);
    for (const group of this.consumer.groups) await layer.groupAdd(group, channel);
  }

  /** The consumer's socket as the layer's group bridge sees it, before and after it exists. */
  #groupSocket(): GroupSocket {
    return {
      subscribe: (topic) => {
        if (this.#socket !== null) return this.#socket.subscribe(topic);
        if (this.#state !== 'connecting') return false;
        this.#pendingTopics.add(topic);
        return true;
      },
      unsubscribe: (topic) =>
        this.#pendingTopics.delete(topic) || (this.#socket?.unsubscribe(topic) ?? false),
    };
  }

  async #receiveLoop(layer: ChannelLayer, channel: string): Promise<void> {
    const signal = this.#stopReceiving.signal;
    while (!signal.aborted) {
      await this.#inbox.whenRoom();
      if (signal.aborted) return;
      let message: ChannelMessage;
      try {
        message = await layer.receive(channel, { signal });
      } catch (error) {
        if (signal.aborted || layer.closed) return;
        safeLog(
          this.#logger,
          'error',
          'channel layer receive failed; this consumer gets no more layer messages',
          this.#details({ error }),
        );
        this.#close(1011, 'channel layer failure');
        return;
      }
      // whenRoom made room; a message taken from the layer is never dropped here.
      this.#inbox.pushAlways(() => this.#dispatch(message));
    }
  }

  #dispatch(message: ChannelMessage): unknown {
    if (this.#state === 'closed') return undefined;
    const handler = findHandler(this.consumer, isLibraryPrototype, message.type);
    if (handler === undefined) {
      throw new BuffereventError(
        `${this.consumer.constructor.name} has no handler for channel layer messages of type ${JSON.stringify(message.type)} (define a method named after the type, e.g. 'chat.message' → chatMessage)`,
        'ERR_CONSUMER_NO_HANDLER',
      );
    }
    return handler.call(this.consumer, message);
  }

  #onMessage(data: Buffer, isBinary: boolean): void {
    if (this.#state !== 'open') return;
    const queued = this.#inbox.push(() =>
      isBinary
        ? this.consumer.receive(undefined, data)
        : this.consumer.receive(data.toString('utf8'), undefined),
    );
    if (queued) return;
    safeLog(
      this.#logger,
      'warn',
      `inbox overflow: more than ${this.#inbox.capacity} messages waiting for the consumer; closing with 1008`,
      this.#details(),
    );
    this.#inbox.clear();
    this.#close(1008, 'too many messages waiting');
  }

  #accept(subprotocol: string | undefined): void {
    if (this.#state !== 'connecting') {
      throw new BuffereventError(
        `accept(): the connection is ${this.#state}, not connecting`,
        'ERR_CONSUMER_STATE',
      );
    }
    if (subprotocol !== undefined && !this.#handshake.offeredSubprotocols.includes(subprotocol)) {
      throw new BuffereventError(
        `accept(${JSON.stringify(subprotocol)}): the client offered ${JSON.stringify(this.#handshake.offeredSubprotocols)}; accept one of those or none`,
        'ERR_CONSUMER_SUBPROTOCOL',
      );
    }
    this.#handshake.accept(subprotocol);
    // The server attaches the socket synchronously; if it did not, the handshake was already gone.
    if (this.#socket === null && this.#state === 'connecting') this.#handshakeAbandoned();
  }

  #send(data: ConsumerSendData): SendResult {
    if (this.#state === 'connecting') this.#accept(undefined);
    const socket = this.#socket;
    if (socket === null || this.#state !== 'open') return 'dropped';
    let result: SendResult;
    let close: boolean | number | undefined;
    if (typeof data === 'string') result = socket.send(data);
    else if (data instanceof Uint8Array) result = socket.send(data, { binary: true });
    else if (typeof data === 'object' && data !== null) {
      if ((data.text === undefined) === (data.bytes === undefined)) {
        throw new BuffereventError('send(): give exactly one of text and bytes', 'ERR_INVALID_ARG');
      }
      result =
        data.text !== undefined ? socket.send(String(data.text)) : socket.send(data.bytes!, { binary: true });
      close = data.close;
    } else {
      throw new BuffereventError(
        'send(): expected a string, bytes or { text | bytes, close }',
        'ERR_INVALID_ARG',
      );
    }
    if (close !== undefined && close !== false) this.#close(close === true ? 1000 : close, undefined);
    return result;
  }

  #onDrain(listener: () => void): () => void {
    const socket = this.#socket;
    if (socket === null) {
      throw new BuffereventError(
        `onDrain(): the connection is ${this.#state}; accept it first`,
        'ERR_CONSUMER_STATE',
      );
    }
    if (typeof listener !== 'function')
      throw new BuffereventError('onDrain(): listener must be a function', 'ERR_INVALID_ARG');
    socket.on('drain', listener);
    return () => void socket.off('drain', listener);
  }

  #close(code: number | undefined, reason: string | undefined): void {
    if (this.#state === 'connecting') {
      this.#refuse(403, 'the consumer closed the connection before accepting it');
    } else if (this.#state === 'open') {
      this.#state = 'closing';
      this.#socket!.close(code ?? 1000, reason);
    }
  }

  #refuse(status: number, reason: string): void {
    this.#state = 'closing';
    this.#handshake.refuse(status, reason);
    this.#ended(1006);
  }

  #handshakeAbandoned(): void {
    if (this.#state !== 'connecting') return;
    this.#ended(1006);
  }

  #handlerFailed(error: unknown): void {
    if (error instanceof ClientProtocolError) {
      safeLog(this.#logger, 'warn', `closing with ${error.closeCode}: ${error.message}`, this.#details());
      this.#inbox.clear();
      if (this.#state === 'open') {
        this.#state = 'closing';
        this.#socket!.close(error.closeCode, error.message.slice(0, 120));
      }
      return;
    }
    const stage = this.#state === 'connecting' ? 'refusing the handshake with 500' : 'closing with 1011';
    safeLog(this.#logger, 'error', `a consumer handler failed; ${stage}`, this.#details({ error }));
    this.#inbox.clear();
    if (this.#state === 'connecting') this.#refuse(500, 'the consumer failed');
    else if (this.#state === 'open') {
      this.#state = 'closing';
      this.#socket!.close(1011, 'internal error');
    }
  }

  /** The connection is over: run `disconnect` (once), leave the groups, forget the socket. */
  #ended(code: number): void {
    if (this.#disconnectQueued) return;
    this.#disconnectQueued = true;
    this.#closeCode = code;
    this.#state = 'closed';
    this.#stopReceiving.abort();
    this.#inbox.clear();
    this.#inbox.pushAlways(async () => {
      try {
        await this.#leaveGroups();
        await this.consumer.disconnect(this.#closeCode);
      } catch (error) {
        safeLog(this.#logger, 'error', 'disconnect failed', this.#details({ error }));
      } finally {
        if (this.#layer !== null && this.consumer.channelName !== '')
          this.#layer.localSockets.unbind(this.consumer.channelName);
        this.#pendingTopics.clear();
        this.#socket = null;
        this.#inbox.close();
        this.#resolveFinished();
      }
    });
  }

  async #leaveGroups(): Promise<void> {
    const layer = this.#layer;
    if (layer === null || layer.closed || this.consumer.channelName === '') return;
    for (const group of this.consumer.groups) {
      try {
        await layer.groupDiscard(group, this.consumer.channelName);
      } catch (error) {
        safeLog(this.#logger, 'warn', `could not leave group ${group}`, this.#details({ error }));
      }
    }
  }

  #details(extra: Record<string, unknown> = {}): Record<string, unknown> {
    return { consumer: this.consumer.constructor.name, path: this.consumer.scope?.path, ...extra };
  }
}
