// WebSocket echo/chat server on the npm `ws` package (the peer); the contract
// is in ws-echo-chat-app.mjs. Usage: node ws-echo-chat-ws.mjs [PORT | --port N]
// [--deflate | --deflate-no-context-takeover] (or PORT=N; 0 or none: a free port); prints
// "listening <port>" when ready.
import { WebSocketServer } from 'ws';

import { optionsFromCommandLine, serveEchoChat } from './ws-echo-chat-app.mjs';

serveEchoChat(WebSocketServer, { ...optionsFromCommandLine() });
