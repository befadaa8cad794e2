// Public entry point of the WebSocket layer (`bufferevent/websocket`): a ws-compatible server and
// client over the binding's bufferevents, with the frame codec in native code.
export {
  WebSocket,
  isSendableCloseCode,
  type BinaryType,
  type Data,
  type RawData,
  type SendOptions,
  type SendResult,
  type WebSocketCloseEvent,
  type WebSocketData,
  type WebSocketErrorEvent,
  type WebSocketEvent,
  type WebSocketEventListener,
  type WebSocketEventMap,
  type WebSocketEvents,
  type WebSocketMessageEvent,
} from './websocket.ts';
export {
  WebSocketServer,
  type AnyRequest,
  type ServerOptions,
  type VerifyClientCallbackAsync,
  type VerifyClientCallbackSync,
  type VerifyClientDone,
  type VerifyClientInfo,
  type WebSocketServerEvents,
  type WebSocketServerOptions,
} from './websocket-server.ts';
export { UpgradeRequest, type UpgradeRequestSocket } from './upgrade-request.ts';
export { WebSocketError } from './errors.ts';
export type { ClientOptions, UpgradeResponse } from './client-handshake.ts';
export type { ConnectionLimits } from './options.ts';
export { WebSocket as default } from './websocket.ts';
