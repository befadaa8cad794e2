// One client and one server linked through a wire tap, for tests that check each message's frames.
import { settledHeapUsed } from '../../leaks/gc.ts';
import { IMPL, startServer, type Recorded, type Server } from './deflate-fixtures.ts';
import { dataFrames, startWireTap, type WireTap } from './wire-tap.ts';

export interface Link {
  server: Server;
  tap: WireTap;
  client: Recorded;
  side: Recorded;
}

/**
 * ws applies the threshold only without context takeover (with it, ws compresses every message);
 * a DEFLATE_IMPL=ws run checks these tests' expectations with takeover off both ways.
 */
export function forWs(deflate: object | boolean): object | boolean {
  if (IMPL !== 'ws' || deflate === false) return deflate;
  return {
    ...(deflate === true ? {} : deflate),
    serverNoContextTakeover: true,
    clientNoContextTakeover: true,
  };
}

export async function link(
  serverDeflate: object | boolean,
  clientDeflate: object | boolean,
  echo = true,
): Promise<Link> {
  const server = await startServer({
    perMessageDeflate: forWs(serverDeflate),
    maxPayload: 64 * 1024 * 1024,
    echo,
  });
  const tap = await startWireTap(server.port);
  const client = await server.connect(forWs(clientDeflate), { port: tap.port });
  const side = await server.side(0);
  // The handshake's garbage (an evbuffer wrapper among it) is collected now, not in the middle of
  // a later test whose live counts would then drop.
  await settledHeapUsed();
  return { server, tap, client, side };
}

export async function unlink(current: Link | undefined): Promise<void> {
  await current?.server.close();
  await current?.tap.close();
}

/** The data frames each way that came after the first `since` ones. */
export function framesSince(tap: WireTap, since: { toServer: number; toClient: number }) {
  const connection = tap.connections[0]!;
  return {
    toServer: dataFrames(connection.toServer).slice(since.toServer),
    toClient: dataFrames(connection.toClient).slice(since.toClient),
  };
}

export function mark(tap: WireTap) {
  const connection = tap.connections[0]!;
  return {
    toServer: dataFrames(connection.toServer).length,
    toClient: dataFrames(connection.toClient).length,
  };
}

/** Every frame each way, control frames included, from the given counts on (see `markAll`). */
export function allFramesSince(tap: WireTap, since: { toServer: number; toClient: number }) {
  const connection = tap.connections[0]!;
  return {
    toServer: connection.toServer.slice(since.toServer),
    toClient: connection.toClient.slice(since.toClient),
  };
}

export function markAll(tap: WireTap) {
  const connection = tap.connections[0]!;
  return { toServer: connection.toServer.length, toClient: connection.toClient.length };
}
