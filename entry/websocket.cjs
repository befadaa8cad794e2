'use strict';
// require('bufferevent/websocket') shaped as require('ws'): the module is the WebSocket class and
// carries the rest of the API, so `const WebSocket = require(...)`, `new WebSocket.Server(...)` and
// `const { WebSocketServer } = require(...)` all work. The ESM entry (websocket.mjs) loads this file
// too, so the class has the same members whichever way the package is loaded.
const api = require('../dist/websocket/index.js');

const WebSocket = api.WebSocket;
const members = { ...api, Server: api.WebSocketServer };
delete members.default;
for (const [name, value] of Object.entries(members)) {
  if (Object.prototype.hasOwnProperty.call(WebSocket, name)) continue; // the class defines it itself
  Object.defineProperty(WebSocket, name, { value, enumerable: true, configurable: true, writable: true });
}
module.exports = WebSocket;
