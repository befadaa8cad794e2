// The opening handshake (RFC 6455 §4.2): what the server accepts with 101 and what it refuses
// (400, 426 with the version it speaks, 431 for an oversized head), the accept key, subprotocol
// selection, the path option, and the handshake timeout.
import { describe, expect, it } from 'vitest';
import { expectCleanClose, expectEcho } from './assertions.ts';
import { useEchoServer } from './echo-server.ts';
import {
  acceptFor,
  frames,
  handshakeRequest,
  RFC_SAMPLE_ACCEPT,
  RFC_SAMPLE_KEY,
  type HandshakeOptions,
  type RawClient,
} from './raw-client.ts';

/** Sends the handshake and checks the status; a refused connection is then closed by the server. */
async function expectStatus(client: RawClient, options: HandshakeOptions, status: number) {
  const response = await client.handshake(options);
  expect(`${response.statusCode} ${response.statusMessage}`).toMatch(new RegExp(`^${status} `));
  if (status !== 101) await client.waitForTcpClose();
  return response;
}

/** A 101 that completes the handshake of `key` and names no extension. */
function expectSwitchingProtocols(response: Awaited<ReturnType<RawClient['handshake']>>, key: string): void {
  expect(response.statusCode).toBe(101);
  expect(response.headers.upgrade?.toLowerCase()).toBe('websocket');
  expect(response.headers.connection?.toLowerCase()).toBe('upgrade');
  expect(response.headers['sec-websocket-accept']).toBe(acceptFor(key));
  expect(response.headers['sec-websocket-extensions']).toBeUndefined();
}

describe('handshake: requests the server accepts', () => {
  const { connect, server } = useEchoServer();

  it('answers the RFC 6455 sample key with the sample Sec-WebSocket-Accept', async () => {
    const client = await connect();
    const response = await expectStatus(client, { key: RFC_SAMPLE_KEY }, 101);
    expectSwitchingProtocols(response, RFC_SAMPLE_KEY);
    expect(response.headers['sec-websocket-accept']).toBe(RFC_SAMPLE_ACCEPT);
    expect(response.headers['sec-websocket-protocol']).toBeUndefined();
    await expectCleanClose(client);
  });

  it('answers a random key with its SHA-1 accept value and then echoes messages', async () => {
    const client = await connect();
    const response = await expectStatus(client, {}, 101);
    expectSwitchingProtocols(response, client.key);
    await client.send(frames.text('after the handshake'));
    await expectEcho.text(client, 'after the handshake');
    await expectCleanClose(client);
    expect(server().connections).toBeGreaterThan(0);
  });

  it('accepts "Connection: keep-alive, Upgrade"', async () => {
    const client = await connect();
    expectSwitchingProtocols(
      await expectStatus(client, { headers: { Connection: 'keep-alive, Upgrade' } }, 101),
      client.key,
    );
    await expectCleanClose(client);
  });

  it('accepts header values in any case ("Upgrade: WebSocket", "Connection: UPGRADE")', async () => {
    const client = await connect();
    const headers = { Upgrade: 'WebSocket', Connection: 'UPGRADE' };
    expectSwitchingProtocols(await expectStatus(client, { headers }, 101), client.key);
    await expectCleanClose(client);
  });

  it('accepts header names in any case', async () => {
    const client = await connect();
    const key = 'AQIDBAUGBwgJCgsMDQ4PEA==';
    const headers = {
      host: '127.0.0.1',
      UPGRADE: 'websocket',
      connection: 'Upgrade',
      'SEC-WEBSOCKET-KEY': key,
      'sec-websocket-version': '13',
    };
    expectSwitchingProtocols(await expectStatus(client, { key, headers }, 101), key);
    await expectCleanClose(client);
  });

  it('accepts a request for any path and query when no path option is set', async () => {
    const client = await connect();
    expectSwitchingProtocols(await expectStatus(client, { path: '/some/where?with=query' }, 101), client.key);
    await expectCleanClose(client);
  });

  it('accepts a head of 15 KiB (below the default maxHeaderSize of 16 KiB)', async () => {
    const client = await connect();
    const response = await expectStatus(client, { headers: { 'X-Filler': 'x'.repeat(15 * 1024) } }, 101);
    expectSwitchingProtocols(response, client.key);
    await expectCleanClose(client);
  });

  it('reads frames that arrive in the same write as the request head (as ws does)', async () => {
    const client = await connect();
    const { text, key } = handshakeRequest();
    await client.send(
      Buffer.concat([Buffer.from(text, 'latin1'), frames.text('eager'), frames.ping('eager')]),
    );
    expectSwitchingProtocols(await client.readResponseHead(), key);
    await expectEcho.text(client, 'eager');
    await expectEcho.pong(client, 'eager');
    await expectCleanClose(client);
  });

  it('accepts a request head that arrives one byte per write', async () => {
    const client = await connect();
    const { text, key } = handshakeRequest();
    await client.send(text, 'bytewise');
    expectSwitchingProtocols(await client.readResponseHead(), key);
    await expectCleanClose(client);
  });
});

describe('handshake: requests the server refuses', () => {
  const { connect, server } = useEchoServer();

  const BAD_REQUESTS: Array<{ name: string; options: HandshakeOptions }> = [
    { name: 'a missing Host header', options: { headers: { Host: null } } },
    { name: 'an empty Host header', options: { headers: { Host: '' } } },
    { name: 'two Host headers (RFC 7230 §5.4)', options: { headers: { Host: ['a.example', 'b.example'] } } },
    { name: 'a Host header with a space in it', options: { headers: { Host: 'bad host' } } },
    { name: 'a missing Upgrade header', options: { headers: { Upgrade: null } } },
    { name: '"Upgrade: h2c"', options: { headers: { Upgrade: 'h2c' } } },
    { name: 'a missing Connection header', options: { headers: { Connection: null } } },
    { name: '"Connection: keep-alive" without Upgrade', options: { headers: { Connection: 'keep-alive' } } },
    { name: 'a missing Sec-WebSocket-Key', options: { headers: { 'Sec-WebSocket-Key': null } } },
    { name: 'a Sec-WebSocket-Key that is not base64 ("abc")', options: { key: 'abc' } },
    {
      name: 'a Sec-WebSocket-Key of 15 bytes in base64',
      options: { key: Buffer.alloc(15, 7).toString('base64') },
    },
    {
      name: 'a Sec-WebSocket-Key of 17 bytes in base64',
      options: { key: Buffer.alloc(17, 7).toString('base64') },
    },
    {
      name: 'a 24-character Sec-WebSocket-Key with non-base64 characters',
      options: { key: '!!!!!!!!!!!!!!!!!!!!!!==' },
    },
    { name: 'a missing Sec-WebSocket-Version', options: { headers: { 'Sec-WebSocket-Version': null } } },
    { name: 'an invalid subprotocol token ("chat v1")', options: { protocols: ['chat v1'] } },
    { name: 'the same subprotocol offered twice', options: { protocols: ['chat', 'chat'] } },
    { name: 'the method POST', options: { method: 'POST' } },
    { name: 'HTTP/1.0', options: { httpVersion: '1.0' } },
  ];

  it.each(BAD_REQUESTS)('answers $name with 400 and closes the connection', async ({ options }) => {
    const before = server().connections;
    const client = await connect();
    await expectStatus(client, options, 400);
    expect(server().connections).toBe(before);
  });

  it.each(['8', '7', '14'])(
    'answers Sec-WebSocket-Version %s with 426 and "Sec-WebSocket-Version: 13"',
    async (version) => {
      const before = server().connections;
      const client = await connect();
      const response = await expectStatus(client, { headers: { 'Sec-WebSocket-Version': version } }, 426);
      expect(response.headers['sec-websocket-version']).toBe('13');
      expect(server().connections).toBe(before);
    },
  );

  it('answers a 20 KiB head (above the default maxHeaderSize) with 431', async () => {
    const client = await connect();
    await expectStatus(client, { headers: { 'X-Filler': 'x'.repeat(20 * 1024) } }, 431);
  });
});

describe('handshake: maxHeaderSize 1024', () => {
  const { connect } = useEchoServer({ maxHeaderSize: 1024 });

  it('accepts a head of 900 bytes', async () => {
    const client = await connect();
    const response = await expectStatus(client, { headers: { 'X-Filler': 'x'.repeat(700) } }, 101);
    expectSwitchingProtocols(response, client.key);
    await expectCleanClose(client);
  });

  it('answers a head of 2000 bytes with 431 and closes the connection', async () => {
    const client = await connect();
    await expectStatus(client, { headers: { 'X-Filler': 'x'.repeat(1800) } }, 431);
  });
});

describe('handshake: subprotocols with handleProtocols', () => {
  const offeredSets: string[][] = [];
  const { connect } = useEchoServer({
    handleProtocols: (protocols) => {
      offeredSets.push([...protocols]);
      return protocols.has('chat.v2') ? 'chat.v2' : false;
    },
  });

  it('answers with the one protocol handleProtocols picked, not the offered list', async () => {
    const client = await connect();
    const response = await expectStatus(client, { protocols: ['chat.v1', 'chat.v2', 'chat.v3'] }, 101);
    expectSwitchingProtocols(response, client.key);
    expect(response.rawHeaders.filter(([name]) => name.toLowerCase() === 'sec-websocket-protocol')).toEqual([
      [expect.any(String), 'chat.v2'],
    ]);
    expect(offeredSets.at(-1)).toEqual(['chat.v1', 'chat.v2', 'chat.v3']);
    await expectCleanClose(client);
  });

  it('picks from protocols offered on two header lines', async () => {
    const client = await connect();
    const headers = { 'Sec-WebSocket-Protocol': ['chat.v1', 'chat.v2'] };
    const response = await expectStatus(client, { headers }, 101);
    expect(response.headers['sec-websocket-protocol']).toBe('chat.v2');
    expect(offeredSets.at(-1)).toEqual(['chat.v1', 'chat.v2']);
    await expectCleanClose(client);
  });

  it('completes the handshake without Sec-WebSocket-Protocol when handleProtocols returns false', async () => {
    const client = await connect();
    const response = await expectStatus(client, { protocols: ['other'] }, 101);
    expectSwitchingProtocols(response, client.key);
    expect(response.headers['sec-websocket-protocol']).toBeUndefined();
    await expectCleanClose(client);
  });

  it('sends no Sec-WebSocket-Protocol when none was offered', async () => {
    const client = await connect();
    const response = await expectStatus(client, {}, 101);
    expect(response.headers['sec-websocket-protocol']).toBeUndefined();
    await expectCleanClose(client);
  });
});

describe('handshake: subprotocols without handleProtocols', () => {
  const { connect } = useEchoServer();

  it('picks the first protocol offered', async () => {
    const client = await connect();
    const response = await expectStatus(client, { protocols: ['first', 'second'] }, 101);
    expect(response.rawHeaders.filter(([name]) => name.toLowerCase() === 'sec-websocket-protocol')).toEqual([
      [expect.any(String), 'first'],
    ]);
    await expectCleanClose(client);
  });
});

describe('handshake: the path option', () => {
  const { connect, server } = useEchoServer({ path: '/chat' });

  it.each(['/chat', '/chat?room=1'])('accepts a request for %s', async (path) => {
    const client = await connect();
    expectSwitchingProtocols(await expectStatus(client, { path }, 101), client.key);
    await expectCleanClose(client);
  });

  it.each(['/', '/other', '/chat/', '/chatroom'])('answers a request for %s with 400', async (path) => {
    const before = server().connections;
    const client = await connect();
    await expectStatus(client, { path }, 400);
    expect(server().connections).toBe(before);
  });
});

describe('handshake: handshakeTimeout 500 ms', () => {
  const { connect, server } = useEchoServer({ handshakeTimeout: 500 });

  it('closes a connection whose request head never completes, without a 101', async () => {
    const client = await connect();
    await client.send('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n');
    await client.waitForTcpClose();
    expect(client.unread.toString('latin1')).not.toMatch(/^HTTP\/1\.1 101/);
    expect(server().connections).toBe(0);
  });

  it('closes a connection that sends nothing', async () => {
    const client = await connect();
    await client.waitForTcpClose();
    expect(client.unread.toString('latin1')).not.toMatch(/^HTTP\/1\.1 101/);
  });

  it('does not close a connection whose handshake completed in time', async () => {
    const client = await connect();
    expectSwitchingProtocols(await client.handshake(), client.key);
    // Wait well past the timeout with a round trip that proves the connection is still open.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await client.send(frames.ping('still there'));
    await expectEcho.pong(client, 'still there');
    await expectCleanClose(client);
  });
});
