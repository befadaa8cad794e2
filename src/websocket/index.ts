// Public entry point of the WebSocket layer (`bufferevent/websocket`): a ws-compatible server and
// client over the binding's bufferevents, with the frame codec in native code.
import { createWebSocketStream } from './stream.ts';
import { WebSocket } from './websocket.ts';
import { WebSocketServer } from './websocket-server.ts';

// ws's aliases on the class: `WebSocket.Server`, `WebSocket.WebSocketServer`, … (writable, as in ws).
WebSocket.Server = WebSocketServer;
WebSocket.WebSocketServer = WebSocketServer;
WebSocket.WebSocket = WebSocket;
WebSocket.createWebSocketStream = createWebSocketStream;

export {
  WebSocket,
  isSendableCloseCode,
  type BinaryType,
  type SendOptions,
  type SendResult,
  type WebSocketData,
} from './websocket.ts';
export {
  WebSocketServer,
  type AnyRequest,
  type VerifyClientDone,
  type VerifyClientInfo,
  type WebSocketServerOptions,
} from './websocket-server.ts';
export { createWebSocketStream } from './stream.ts';
export { CloseEvent, ErrorEvent, MessageEvent, WebSocketEvent } from './event-target.ts';
export { UpgradeRequest, type UpgradeRequestSocket } from './upgrade-request.ts';
export { WebSocketError, WebSocketRangeError, WebSocketSyntaxError, WebSocketTypeError } from './errors.ts';
export type { ClientOptions, LookupFunction, UpgradeResponse } from './client-handshake.ts';
export type { RedirectRequest } from './request-headers.ts';
export type { ConnectionLimits } from './options.ts';
export type { PerMessageDeflateOptions, ZlibDeflateOptions, ZlibInflateOptions } from './deflate/options.ts';
export { MAX_TOPIC_BYTES, type PublishOptions, type PublishResult } from './topics.ts';
export type {
  Data,
  RawData,
  ServerOptions,
  VerifyClientCallbackAsync,
  VerifyClientCallbackSync,
  WebSocketCloseEvent,
  WebSocketErrorEvent,
  WebSocketBaseEvent,
  WebSocketEventListener,
  WebSocketEventMap,
  WebSocketEvents,
  WebSocketMessageEvent,
  WebSocketServerEvents,
} from './events.ts';
export { WebSocket as default } from './websocket.ts';
