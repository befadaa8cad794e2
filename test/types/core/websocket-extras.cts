// Exports beyond ws's, through require(): as named imports and as members of the class.
import WebSocket = require('bufferevent/websocket');
import { isSendableCloseCode, WebSocketError, type SendResult } from 'bufferevent/websocket';

const closable: boolean = isSendableCloseCode(4000) && WebSocket.isSendableCloseCode(1000);
const error: WebSocket.WebSocketError = new WebSocketError('message', 'WS_ERR_NOT_OPEN');
const result: SendResult = new WebSocket('ws://localhost:1/').send('x');
console.log(closable, error.code, result, WebSocket.UpgradeRequest.name);
