// WebSocket echo/chat server on our WebSocketServer (bufferevent/websocket);
// the contract is in ws-echo-chat-app.mjs. Usage: node ws-echo-chat.mjs [PORT | --port N]
// [--deflate | --deflate-no-context-takeover] (or PORT=N; 0 or none: a free port); prints
// "listening <port>" when ready.
// `/chat` relays through the native pub/sub (wss.publish), not a JavaScript loop.
import { WebSocketServer } from '../../dist/websocket/index.js';

import { optionsFromCommandLine, serveEchoChat } from './ws-echo-chat-app.mjs';

serveEchoChat(WebSocketServer, { ...optionsFromCommandLine(), chatByPublish: true });
