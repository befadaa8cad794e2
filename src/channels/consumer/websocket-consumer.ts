// WebsocketConsumer: Channels' AsyncWebsocketConsumer for Node. One instance per connection, made
// by serve() (or a WebsocketCommunicator) from the class the router resolved. Override `connect`,
// `receive`, `disconnect` and one method per channel-layer message type (`chat.message` →
// `chatMessage`); call `accept`, `send`, `close`. Handlers may be async: those of one connection run
// one at a time, in arrival order (consumer-connection.ts runs them).
import { BuffereventError } from '../../errors.ts';
import type { ChannelLayer } from '../layers/channel-layer.ts';
import type { Scope } from '../routing.ts';
import type { SendResult } from '../../websocket/websocket.ts';

/** What `send` takes: text, bytes, or Channels' shape `{ text, bytes, close }`. */
export type ConsumerSendData =
  | string
  | Buffer
  | Uint8Array
  | { text?: string | undefined; bytes?: Uint8Array | undefined; close?: boolean | number | undefined };

/** The part of a running connection a consumer's actions reach (set by consumer-connection.ts). */
export interface ConsumerActions {
  accept(subprotocol: string | undefined): void;
  send(data: ConsumerSendData): SendResult;
  close(code: number | undefined, reason: string | undefined): void;
  onDrain(listener: () => void): () => void;
}

const running = new WeakMap<WebsocketConsumer, ConsumerActions>();

/** @internal consumer-connection.ts ties a consumer to its connection. */
export function bindConsumer(consumer: WebsocketConsumer, actions: ConsumerActions): void {
  running.set(consumer, actions);
}

function actionsOf(consumer: WebsocketConsumer, action: string): ConsumerActions {
  const actions = running.get(consumer);
  if (actions === undefined) {
    throw new BuffereventError(
      `${action}(): this consumer is not running a connection (serve() or a WebsocketCommunicator creates and runs consumers)`,
      'ERR_CONSUMER_NOT_RUNNING',
    );
  }
  return actions;
}

export class WebsocketConsumer {
  /** The connection's scope: path, headers, urlRoute, and what middleware added (session, user). */
  scope!: Scope;
  /** The application's channel layer, or null when serve() runs without one. */
  channelLayer: ChannelLayer | null = null;
  /** This consumer's own channel on the layer ('' without a layer). */
  channelName = '';
  /** Groups joined before `connect` runs and left before `disconnect` runs (as in Channels). */
  groups: string[] = [];

  /** The client asked to connect. The default accepts; a consumer that refuses calls `close()` instead. */
  connect(): unknown {
    this.accept();
    return undefined;
  }

  /** A message from the client: `text` for a text message, `bytes` for a binary one. */
  receive(text: string | undefined, bytes: Buffer | undefined): unknown {
    void text;
    void bytes;
    return undefined;
  }

  /** The connection is gone (`code` as received, 1006 when it ended without a close frame). */
  disconnect(code: number): unknown {
    void code;
    return undefined;
  }

  /**
   * Accepts the connection (the 101 is sent), with `subprotocol` if given: it must be one the client
   * offered. Only while connecting; `send` before `accept` accepts first, as in Daphne.
   */
  accept(subprotocol?: string): void {
    actionsOf(this, 'accept').accept(subprotocol);
  }

  /**
   * Sends a message: a string as text, bytes as binary, or `{ text | bytes, close }` where `close`
   * (true or a code) closes after sending. Returns the socket's answer ('ok', 'backpressure',
   * 'dropped' once closed).
   */
  send(data: ConsumerSendData): SendResult {
    return actionsOf(this, 'send').send(data);
  }

  /**
   * Calls `listener` each time the socket's queue drains below its backpressure cap after a `send`
   * answered 'backpressure' (the socket's 'drain' event). Returns the function that stops it.
   * Only after `accept`; listeners go with the connection.
   */
  onDrain(listener: () => void): () => void {
    return actionsOf(this, 'onDrain').onDrain(listener);
  }

  /** Closes with `code` (default 1000). Before `accept`, refuses the handshake with HTTP 403. */
  close(code?: number, reason?: string): void {
    actionsOf(this, 'close').close(code, reason);
  }
}

/** Whether `value` is a consumer class (WebsocketConsumer or a subclass). */
export function isConsumerClass(value: unknown): value is new () => WebsocketConsumer {
  return (
    typeof value === 'function' &&
    (value === WebsocketConsumer || value.prototype instanceof WebsocketConsumer)
  );
}
