// ws README, "Use the Node.js streams API": a Duplex over the socket, piped both ways.
import WebSocket, { createWebSocketStream } from 'bufferevent/websocket';

const ws = new WebSocket('ws://127.0.0.1:8080/');
const duplex = createWebSocketStream(ws, { encoding: 'utf8' });

duplex.on('error', console.error);
duplex.pipe(process.stdout);
process.stdin.pipe(duplex);
