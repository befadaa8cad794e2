// The same from plain CommonJS JavaScript (checkJs).
'use strict';
const { isSendableCloseCode, WebSocketError } = require('bufferevent/websocket');
const WebSocket = require('bufferevent/websocket');

/** @type {boolean} */
const closable = isSendableCloseCode(4000) && WebSocket.isSendableCloseCode(1000);
console.log(
  closable,
  new WebSocketError('message', 'WS_ERR_NOT_OPEN').code,
  new WebSocket.Server({ noServer: true }),
);
