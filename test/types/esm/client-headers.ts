// ws README, "Sending and receiving text data" and "Sending binary data", with request headers,
// a subprotocol and the handshake's answer.
import WebSocket from 'bufferevent/websocket';

const ws = new WebSocket('ws://www.host.com/path', ['chat'], {
  headers: { Authorization: 'Bearer abc', 'X-Client': 'types-test' },
  origin: 'http://www.host.com',
  handshakeTimeout: 5000,
  maxPayload: 1 << 20,
  perMessageDeflate: false,
});

ws.on('error', console.error);

ws.on('upgrade', (response) => {
  console.log('upgraded', response.headers['sec-websocket-protocol']);
});

ws.on('open', function open() {
  ws.send('something');
  const array = new Float32Array(5);
  for (let i = 0; i < array.length; ++i) array[i] = i / 2;
  ws.send(array);
  console.log(this.protocol, this.url, this.bufferedAmount);
});

ws.on('message', function message(data, isBinary) {
  const text: string = isBinary ? '(binary)' : data.toString();
  console.log('received: %s', text);
});

ws.on('close', function close(code, reason) {
  console.log('disconnected', code, reason.toString('utf8'));
});

ws.on('unexpected-response', (_request, response) => {
  console.log('refused with', response.statusCode);
});
