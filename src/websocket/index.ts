// Public entry point of the WebSocket layer (`bufferevent/websocket`): a ws-compatible server and
// client over the binding's bufferevents, with the frame codec in native code.
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
export { UpgradeRequest, type UpgradeRequestSocket } from './upgrade-request.ts';
export { WebSocketError } from './errors.ts';
export type { ClientOptions, UpgradeResponse } from './client-handshake.ts';
export type { ConnectionLimits } from './options.ts';
export type {
  Data,
  RawData,
  ServerOptions,
  VerifyClientCallbackAsync,
  VerifyClientCallbackSync,
  WebSocketCloseEvent,
  WebSocketErrorEvent,
  WebSocketEvent,
  WebSocketEventListener,
  WebSocketEventMap,
  WebSocketEvents,
  WebSocketMessageEvent,
  WebSocketServerEvents,
} from './events.ts';
export { WebSocket as default } from './websocket.ts';
