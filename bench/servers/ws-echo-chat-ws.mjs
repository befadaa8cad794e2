// WebSocket echo/chat server on the npm `ws` package (the peer); the contract
// is in ws-echo-chat-app.mjs. Usage: node ws-echo-chat-ws.mjs [PORT | --port N]
// (or PORT=N; 0 or none: a free port); prints "listening <port>" when ready.
import { WebSocketServer } from 'ws';

import { portFromCommandLine, serveEchoChat } from './ws-echo-chat-app.mjs';

serveEchoChat(WebSocketServer, { port: portFromCommandLine() });
