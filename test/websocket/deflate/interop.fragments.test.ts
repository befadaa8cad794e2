// Fragmented compressed messages between us and npm ws, both ways: ws's client sending to our
// server, and a ws server sending to our client, with pings between the fragments, with and
// without context takeover, followed by whole messages (the context after a fragmented message is
// right).
import { describe, expect, it } from 'vitest';
import type { PerMessageDeflateOptions } from '../../../src/websocket/deflate/options.ts';
import { checkNothingLeaksAfterEach, waitFor } from '../../helpers.ts';
import {
  compressibleBinary,
  compressibleText,
  IMPL,
  startServer,
  WAIT_MS,
  type Implementation,
  type Recorded,
} from './deflate-fixtures.ts';

checkNothingLeaksAfterEach({ fds: true });

const SETTINGS: Array<[string, PerMessageDeflateOptions]> = [
  ['takeover', { threshold: 0 }],
  ['no takeover', { threshold: 0, serverNoContextTakeover: true, clientNoContextTakeover: true }],
];

function sendFragmented(sender: Recorded, parts: Array<Buffer | string>, binary: boolean): void {
  parts.forEach((part, i) => {
    const fin = i === parts.length - 1;
    sender.ws.send(part, { binary, fin });
    if (!fin) sender.ws.ping(`ping ${i}`);
  });
}

describe.each([
  ['a ws client to our server', IMPL, 'ws', 'client'],
  ['a ws server to our client', 'ws', IMPL, 'server'],
  ['our client to a ws server', 'ws', IMPL, 'client'],
  ['our server to a ws client', IMPL, 'ws', 'server'],
] as const)('%s', (_name, serverImpl: Implementation, clientImpl: Implementation, from) => {
  it.each(SETTINGS)('fragmented compressed messages with pings between (%s)', async (_setting, options) => {
    const server = await startServer({ perMessageDeflate: options, echo: false }, serverImpl);
    try {
      const client = await server.connect(options, { impl: clientImpl });
      const side = await server.side(0);
      const [sender, receiver] = from === 'client' ? [client, side] : [side, client];
      expect(receiver.ws.extensions).toMatch(/^permessage-deflate\b/);
      const text = [compressibleText(3000, 1), compressibleText(1500, 2), compressibleText(4000, 3)];
      const binary = [compressibleBinary(10_000), compressibleBinary(20_000).subarray(7)];
      sendFragmented(sender, text, false);
      sendFragmented(sender, binary, true);
      sender.ws.send(text[0]!); // whole, after: the context must be right
      sender.ws.send(Buffer.from(binary[1]!));
      const received = await receiver.nextMessages(4);
      expect(received.map((message) => message.isBinary)).toEqual([false, true, false, true]);
      expect(received[0]!.data.toString()).toBe(text.join(''));
      expect(received[1]!.data.equals(Buffer.concat(binary))).toBe(true);
      expect(received[2]!.data.toString()).toBe(text[0]);
      expect(received[3]!.data.equals(binary[1]!)).toBe(true);
      await waitFor(() => receiver.pings.length === 3, WAIT_MS, 'the pings');
      expect(receiver.pings.map(String)).toEqual(['ping 0', 'ping 1', 'ping 0']);
      expect([...receiver.errors, ...sender.errors]).toEqual([]);
    } finally {
      await server.close();
    }
  });
});
