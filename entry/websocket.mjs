// import … from 'bufferevent/websocket': the CommonJS build re-exported, never a second copy of the
// library (see the "exports" comment in package.json), with the WebSocket class as the default export
// as in ws.
import WebSocket from './websocket.cjs';

export * from '../dist/websocket/index.js';
export default WebSocket;
