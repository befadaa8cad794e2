// The typings of WebSocket's and WebSocketServer's events, as @types/ws declares them for ws, so that
// code written against ws and @types/ws gets the same listener parameters: typed overloads of on,
// once, off, addListener, removeListener, prependListener and prependOnceListener, merged into the
// classes (module augmentation), and the type names ws users import. Types only: nothing here
// exists at run time beyond what the classes implement.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { UpgradeResponse } from './client-handshake.ts';
import type { SendOptions, SendResult, WebSocket, WebSocketData } from './websocket.ts';
import type {
  AnyRequest,
  VerifyClientDone,
  VerifyClientInfo,
  WebSocketServer,
  WebSocketServerOptions,
} from './websocket-server.ts';

/** A message as 'message' listeners get it: by binaryType, a Buffer, an ArrayBuffer or the fragments. */
export type RawData = Buffer | ArrayBuffer | Buffer[];
/** RawData, or a string: the `data` of the browser-style MessageEvent. */
export type Data = string | RawData;

/** The listener of each event of a WebSocket. */
export interface WebSocketEvents {
  open: (this: WebSocket) => void;
  message: (this: WebSocket, data: RawData, isBinary: boolean) => void;
  close: (this: WebSocket, code: number, reason: Buffer) => void;
  error: (this: WebSocket, error: Error) => void;
  ping: (this: WebSocket, data: Buffer) => void;
  pong: (this: WebSocket, data: Buffer) => void;
  /** Client side: the 101 answer, before 'open' (ws passes Node's IncomingMessage). */
  upgrade: (this: WebSocket, response: UpgradeResponse) => void;
  /** Client side: a non-101 answer (ws passes its ClientRequest first); no 'error' then. */
  'unexpected-response': (this: WebSocket, request: null, response: UpgradeResponse) => void;
  /** Client side, with followRedirects: before following a 3xx answer to `url`. */
  redirect: (this: WebSocket, url: string, request: unknown) => void;
  /** The queued frames were sent (ours: after send() answered 'backpressure'). */
  drain: (this: WebSocket) => void;
}

/**
 * The events of the browser-style API (onmessage, addEventListener) as listeners see them: the
 * classes in event-target.ts, with `target` and `data` typed.
 */
export interface WebSocketBaseEvent {
  type: string;
  target: WebSocket;
}
export interface WebSocketMessageEvent extends WebSocketBaseEvent {
  data: Data;
}
export interface WebSocketCloseEvent extends WebSocketBaseEvent {
  code: number;
  reason: string;
  wasClean: boolean;
}
export interface WebSocketErrorEvent extends WebSocketBaseEvent {
  error: Error;
  message: string;
}
export interface WebSocketEventMap {
  open: WebSocketBaseEvent;
  message: WebSocketMessageEvent;
  close: WebSocketCloseEvent;
  error: WebSocketErrorEvent;
}
export type WebSocketEventListener<K extends keyof WebSocketEventMap> =
  | ((this: WebSocket, event: WebSocketEventMap[K]) => void)
  | { handleEvent(event: WebSocketEventMap[K]): void };

/** The listener of each event of a WebSocketServer. */
export interface WebSocketServerEvents {
  /** `request` is Node's IncomingMessage with `server`/`noServer`, an UpgradeRequest with `port`/`listener`. */
  connection: (this: WebSocketServer, socket: WebSocket, request: AnyRequest) => void;
  error: (this: WebSocketServer, error: Error) => void;
  /** The 101 answer's header lines, which listeners may change before it is sent. */
  headers: (this: WebSocketServer, headers: string[], request: AnyRequest) => void;
  close: (this: WebSocketServer) => void;
  listening: (this: WebSocketServer) => void;
  /** A refused or failed handshake; `request` is null when none was read (ws passes the socket too). */
  wsClientError: (this: WebSocketServer, error: Error, request: AnyRequest | null) => void;
}

/** ws's name for the server's options. */
export type ServerOptions = WebSocketServerOptions;

// Method-style signatures, so that a verifyClient written for ws's types (`info.origin` a string,
// `info.req` an IncomingMessage) is accepted as well.
/** A verifyClient that decides at once. */
export type VerifyClientCallbackSync = {
  verify(info: VerifyClientInfo): boolean;
}['verify'];
/** A verifyClient that answers through `done`. */
export type VerifyClientCallbackAsync = {
  verify(info: VerifyClientInfo, done: VerifyClientDone): void;
}['verify'];

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- EventEmitter's own listener type
type AnyListener<Self> = (this: Self, ...args: any[]) => void;

// The module names end in .js, not .ts as imports here do: augmentations are copied into the
// declaration files as written, where only the .js names resolve.
declare module './websocket.js' {
  interface WebSocket {
    on<K extends keyof WebSocketEvents>(event: K, listener: WebSocketEvents[K]): this;
    on(event: string | symbol, listener: AnyListener<WebSocket>): this;
    once<K extends keyof WebSocketEvents>(event: K, listener: WebSocketEvents[K]): this;
    once(event: string | symbol, listener: AnyListener<WebSocket>): this;
    off<K extends keyof WebSocketEvents>(event: K, listener: WebSocketEvents[K]): this;
    off(event: string | symbol, listener: AnyListener<WebSocket>): this;
    addListener<K extends keyof WebSocketEvents>(event: K, listener: WebSocketEvents[K]): this;
    addListener(event: string | symbol, listener: AnyListener<WebSocket>): this;
    removeListener<K extends keyof WebSocketEvents>(event: K, listener: WebSocketEvents[K]): this;
    removeListener(event: string | symbol, listener: AnyListener<WebSocket>): this;
    prependListener<K extends keyof WebSocketEvents>(event: K, listener: WebSocketEvents[K]): this;
    prependListener(event: string | symbol, listener: AnyListener<WebSocket>): this;
    prependOnceListener<K extends keyof WebSocketEvents>(event: K, listener: WebSocketEvents[K]): this;
    prependOnceListener(event: string | symbol, listener: AnyListener<WebSocket>): this;

    /**
     * RawData too, as 'message' listeners receive it, so that a message can be sent on as it came
     * (`ws.send(data, { binary: isBinary })`, typed so by @types/ws as well).
     */
    send(
      data?: RawData | WebSocketData | number,
      options?: SendOptions | ((error?: Error) => void),
      callback?: (error?: Error) => void,
    ): SendResult;

    // The browser-style API, as ws offers it.
    onopen: ((this: WebSocket, event: WebSocketBaseEvent) => void) | null;
    onmessage: ((this: WebSocket, event: WebSocketMessageEvent) => void) | null;
    onclose: ((this: WebSocket, event: WebSocketCloseEvent) => void) | null;
    onerror: ((this: WebSocket, event: WebSocketErrorEvent) => void) | null;
    addEventListener<K extends keyof WebSocketEventMap>(
      type: K,
      listener: WebSocketEventListener<K>,
      options?: { once?: boolean },
    ): void;
    removeEventListener<K extends keyof WebSocketEventMap>(
      type: K,
      listener: WebSocketEventListener<K>,
    ): void;
  }
}

declare module './websocket-server.js' {
  interface WebSocketServer {
    on<K extends keyof WebSocketServerEvents>(event: K, listener: WebSocketServerEvents[K]): this;
    on(event: string | symbol, listener: AnyListener<WebSocketServer>): this;
    once<K extends keyof WebSocketServerEvents>(event: K, listener: WebSocketServerEvents[K]): this;
    once(event: string | symbol, listener: AnyListener<WebSocketServer>): this;
    off<K extends keyof WebSocketServerEvents>(event: K, listener: WebSocketServerEvents[K]): this;
    off(event: string | symbol, listener: AnyListener<WebSocketServer>): this;
    addListener<K extends keyof WebSocketServerEvents>(event: K, listener: WebSocketServerEvents[K]): this;
    addListener(event: string | symbol, listener: AnyListener<WebSocketServer>): this;
    removeListener<K extends keyof WebSocketServerEvents>(event: K, listener: WebSocketServerEvents[K]): this;
    removeListener(event: string | symbol, listener: AnyListener<WebSocketServer>): this;
    prependListener<K extends keyof WebSocketServerEvents>(
      event: K,
      listener: WebSocketServerEvents[K],
    ): this;
    prependListener(event: string | symbol, listener: AnyListener<WebSocketServer>): this;
    prependOnceListener<K extends keyof WebSocketServerEvents>(
      event: K,
      listener: WebSocketServerEvents[K],
    ): this;
    prependOnceListener(event: string | symbol, listener: AnyListener<WebSocketServer>): this;

    /** Node's http 'upgrade' event types its socket as a Duplex; at run time it is a net.Socket. */
    handleUpgrade(
      request: IncomingMessage,
      socket: Duplex,
      head: Buffer,
      callback: (ws: WebSocket, request: AnyRequest) => void,
    ): void;
  }
}
