// Types of `import … from 'bufferevent/websocket'`: the named exports of the library, and as the
// default export the WebSocket class with ws's static members and `WebSocket.RawData`-style types.
import WebSocket from './websocket.cjs';

export * from '../dist/websocket/index.js';
export default WebSocket;
