// Types of `require('bufferevent/websocket')` (websocket.cjs): the WebSocket class carrying the
// rest of the API as static members, and the names @types/ws users write as `WebSocket.RawData`,
// `WebSocket.Server`, `WebSocket.ClientOptions`…. Declared as ws's types declare it, a class merged
// with a namespace: the class adds nothing to the library's WebSocket, whose instances it accepts.
import * as api from '../dist/websocket/index.js';

declare class WebSocket extends api.WebSocket {}

declare namespace WebSocket {
  // The values websocket.cjs puts on the class.
  export import WebSocket = api.WebSocket;
  export import WebSocketServer = api.WebSocketServer;
  /** ws's older name for WebSocketServer. */
  export import Server = api.WebSocketServer;
  export import WebSocketError = api.WebSocketError;
  export import UpgradeRequest = api.UpgradeRequest;
  export import isSendableCloseCode = api.isSendableCloseCode;

  // Types only.
  type RawData = api.RawData;
  type Data = api.Data;
  type ClientOptions = api.ClientOptions;
  type ServerOptions = api.ServerOptions;
  type Event = api.WebSocketEvent;
  type MessageEvent = api.WebSocketMessageEvent;
  type CloseEvent = api.WebSocketCloseEvent;
  type ErrorEvent = api.WebSocketErrorEvent;
  type WebSocketEventMap = api.WebSocketEventMap;
  interface EventListenerOptions {
    once?: boolean;
  }
  type VerifyClientCallbackSync = (info: api.VerifyClientInfo) => boolean;
  type VerifyClientCallbackAsync = (info: api.VerifyClientInfo, done: api.VerifyClientDone) => void;
}

export = WebSocket;
