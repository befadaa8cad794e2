// The browser-style API ws offers: on* properties, addEventListener and binaryType.
import WebSocket from 'bufferevent/websocket';

const ws = new WebSocket('ws://localhost:8080/');
ws.binaryType = 'arraybuffer';

ws.onopen = () => ws.send('hello');
ws.onmessage = (event) => {
  const data: WebSocket.Data = event.data;
  if (data instanceof ArrayBuffer) console.log('binary', data.byteLength);
  else console.log('text', data);
};
ws.onerror = (event) => console.error(event.message, event.error);
ws.onclose = (event) => console.log(event.code, event.reason, event.wasClean);

const onMessage = (event: WebSocket.MessageEvent): void => console.log(event.type, event.data);
ws.addEventListener('message', onMessage);
ws.addEventListener('close', (event) => console.log(event.code), { once: true });
ws.removeEventListener('message', onMessage);

const states: number[] = [WebSocket.CONNECTING, WebSocket.OPEN, ws.CLOSING, ws.CLOSED];
if (ws.readyState === WebSocket.OPEN) ws.close(1000, 'done');
console.log(states);
