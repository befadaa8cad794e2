// Types of `require('bufferevent/websocket')` (websocket.cjs): the WebSocket class carrying the
// rest of the API as static members, and the names @types/ws users write as `WebSocket.RawData`,
// `WebSocket.Server`, `WebSocket.ClientOptions`…. Declared as ws's types declare it, a class merged
// with a namespace; the class adds nothing to the library's WebSocket, whose instances it accepts.
import * as api from '../dist/websocket/index.js';

/** The values websocket.cjs puts on the class: every export, and Server. */
declare const WebSocketWithMembers: typeof api.WebSocket &
  Omit<typeof api, 'default'> & {
    /** ws's older name for WebSocketServer. */
    readonly Server: typeof api.WebSocketServer;
  };

declare class WebSocket extends WebSocketWithMembers {}

declare namespace WebSocket {
  // The classes among those members, as types too (`let server: WebSocket.Server`). Aliases, not
  // type-only names: a named import (`import { WebSocketServer } from …` in a .cts) finds these first.
  export import WebSocket = api.WebSocket;
  export import WebSocketServer = api.WebSocketServer;
  export import Server = api.WebSocketServer;
  export import WebSocketError = api.WebSocketError;
  export import WebSocketTypeError = api.WebSocketTypeError;
  export import WebSocketRangeError = api.WebSocketRangeError;
  export import WebSocketSyntaxError = api.WebSocketSyntaxError;
  export import UpgradeRequest = api.UpgradeRequest;
  // Types only.
  type RawData = api.RawData;
  type Data = api.Data;
  type ClientOptions = api.ClientOptions;
  type ServerOptions = api.ServerOptions;
  type PerMessageDeflateOptions = api.PerMessageDeflateOptions;
  type Event = api.WebSocketBaseEvent;
  type MessageEvent = api.WebSocketMessageEvent;
  type CloseEvent = api.WebSocketCloseEvent;
  type ErrorEvent = api.WebSocketErrorEvent;
  type WebSocketEventMap = api.WebSocketEventMap;
  interface EventListenerOptions {
    once?: boolean;
  }
  type VerifyClientCallbackSync = api.VerifyClientCallbackSync;
  type VerifyClientCallbackAsync = api.VerifyClientCallbackAsync;
  // The library's own type names, as the ES module entry exports them.
  type AnyRequest = api.AnyRequest;
  type LookupFunction = api.LookupFunction;
  type PublishOptions = api.PublishOptions;
  type ZlibDeflateOptions = api.ZlibDeflateOptions;
  type ZlibInflateOptions = api.ZlibInflateOptions;
  type PublishResult = api.PublishResult;
  type RedirectRequest = api.RedirectRequest;
  type WebSocketBaseEvent = api.WebSocketBaseEvent;
  type BinaryType = api.BinaryType;
  type ConnectionLimits = api.ConnectionLimits;
  type SendOptions = api.SendOptions;
  type SendResult = api.SendResult;
  type UpgradeRequestSocket = api.UpgradeRequestSocket;
  type UpgradeResponse = api.UpgradeResponse;
  type VerifyClientDone = api.VerifyClientDone;
  type VerifyClientInfo = api.VerifyClientInfo;
  type WebSocketCloseEvent = api.WebSocketCloseEvent;
  type WebSocketData = api.WebSocketData;
  type WebSocketErrorEvent = api.WebSocketErrorEvent;
  type WebSocketEvent = api.WebSocketEvent;
  type WebSocketEventListener<K extends keyof api.WebSocketEventMap> = api.WebSocketEventListener<K>;
  type WebSocketEvents = api.WebSocketEvents;
  type WebSocketMessageEvent = api.WebSocketMessageEvent;
  type WebSocketServerEvents = api.WebSocketServerEvents;
  type WebSocketServerOptions = api.WebSocketServerOptions;
}

export = WebSocket;
