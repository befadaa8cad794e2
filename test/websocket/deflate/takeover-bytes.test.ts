// Context takeover seen on the wire: a message sent twice compresses to far fewer bytes the second
// time when the sender keeps its context, and to the very same bytes when it agreed not to. Checked
// in both directions, at the largest window and at 9 bits, between our server and a ws client and
// between a ws server and our client (a proxy in the middle reads the frames).
import { describe, expect, it } from 'vitest';
import type { PerMessageDeflateOptions } from '../../../src/websocket/deflate/options.ts';
import { checkNothingLeaksAfterEach } from '../../helpers.ts';
import { IMPL, randomText, startServer, type Implementation } from './deflate-fixtures.ts';
import { dataFrames, startWireTap, type TappedFrame } from './wire-tap.ts';

checkNothingLeaksAfterEach({ fds: true });

// 200 bytes: zlib's deflate reaches back at most the window less 262 bytes (250 at 9 bits), so a
// repeat can refer back to the first copy at every window size.
const MESSAGE = randomText(200);

interface Case {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  windowBits: 9 | 15;
}

const cases: Case[] = [];
for (const serverNoContextTakeover of [false, true]) {
  for (const clientNoContextTakeover of [false, true]) {
    for (const windowBits of [15, 9] as const)
      cases.push({ serverNoContextTakeover, clientNoContextTakeover, windowBits });
  }
}

/** The same options on both ends (the server's answer then agrees with the client's offer). */
function deflateOptions({ serverNoContextTakeover, clientNoContextTakeover, windowBits }: Case) {
  const options: PerMessageDeflateOptions = {
    threshold: 0,
    serverMaxWindowBits: windowBits,
    clientMaxWindowBits: windowBits,
  };
  if (serverNoContextTakeover) options.serverNoContextTakeover = true;
  if (clientNoContextTakeover) options.clientNoContextTakeover = true;
  return options;
}

/** Two compressed frames of the same message: the second much smaller with takeover, identical without. */
function expectRepeat(frames: TappedFrame[], noContextTakeover: boolean, what: string): void {
  expect(
    frames.map((frame) => frame.rsv1),
    `${what}: RSV1`,
  ).toEqual([true, true, true]);
  const [first, second, third] = frames;
  if (noContextTakeover) {
    expect(second!.length, `${what}: the repeat's size`).toBe(first!.length);
    expect(second!.payload.equals(first!.payload), `${what}: the repeat's bytes`).toBe(true);
    expect(third!.payload.equals(first!.payload), `${what}: the third copy's bytes`).toBe(true);
  } else {
    // The first copy barely compresses (base64 of random bytes); the repeat is one back-reference.
    expect(first!.length, `${what}: the first copy`).toBeGreaterThan(MESSAGE.length / 2);
    expect(second!.length, `${what}: the repeat`).toBeLessThan(first!.length / 8);
    expect(third!.length, `${what}: the third copy`).toBeLessThan(first!.length / 8);
  }
}

async function sendThriceAndTap(
  serverImpl: Implementation,
  clientImpl: Implementation,
  options: PerMessageDeflateOptions,
): Promise<{ toServer: TappedFrame[]; toClient: TappedFrame[]; extensions: string }> {
  const server = await startServer({ perMessageDeflate: options }, serverImpl);
  const tap = await startWireTap(server.port);
  try {
    const client = await server.connect(options, { impl: clientImpl, port: tap.port });
    for (let i = 0; i < 3; i++) client.ws.send(MESSAGE);
    const echoed = await client.nextMessages(3);
    expect(echoed.map((message) => message.data.toString() === MESSAGE)).toEqual([true, true, true]);
    const connection = tap.connections[0]!;
    return {
      toServer: dataFrames(connection.toServer),
      toClient: dataFrames(connection.toClient),
      extensions: client.ws.extensions,
    };
  } finally {
    await server.close();
    await tap.close();
  }
}

describe.each([
  ['our server and a ws client', IMPL, 'ws'],
  ['a ws server and our client', 'ws', IMPL],
] as const)('%s', (_name, serverImpl, clientImpl) => {
  it.each(cases.map((each) => [JSON.stringify(each), each] as const))(
    '%s: repeats shrink with takeover and repeat byte for byte without',
    async (_case, each) => {
      const { toServer, toClient, extensions } = await sendThriceAndTap(
        serverImpl,
        clientImpl,
        deflateOptions(each),
      );
      expect(extensions).toMatch(/^permessage-deflate\b/);
      expectRepeat(toServer, each.clientNoContextTakeover, 'client to server');
      expectRepeat(toClient, each.serverNoContextTakeover, 'server to client');
    },
  );
});
