// import … from 'bufferevent/websocket'. The implementation is the CommonJS build in dist/, so that
// require() works on every Node 20 (which cannot require() an ES module before 20.19); this file
// only re-exports it. A second, ESM build would be a second copy of every class in the same process,
// and the copies would break each other: the addon keeps one set of JavaScript dispatchers
// (setHooks) and the native handles are found through module-level WeakMaps. Through this file
// both module systems share one copy. The default export is the WebSocket class, as in ws.
import WebSocket from './websocket.cjs';

export * from '../dist/websocket/index.js';
export default WebSocket;
