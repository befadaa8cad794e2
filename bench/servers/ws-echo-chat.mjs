// WebSocket echo/chat server on our WebSocketServer (bufferevent/websocket);
// the contract is in ws-echo-chat-app.mjs. Usage: node ws-echo-chat.mjs [PORT | --port N]
// (or PORT=N; 0 or none: a free port); prints "listening <port>" when ready.
// `/chat` relays through the native pub/sub (wss.publish), not a JavaScript loop.
import { WebSocketServer } from '../../dist/websocket/index.js';

import { portFromCommandLine, serveEchoChat } from './ws-echo-chat-app.mjs';

serveEchoChat(WebSocketServer, { port: portFromCommandLine(), chatByPublish: true });
