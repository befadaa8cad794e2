// serve({ reusePort: true }): several servers (one per worker process in the bundled server) listen
// on one host:port and the kernel spreads connections among them; each closes its own listener.
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ProtocolTypeRouter,
  WebsocketConsumer,
  serve,
  type ChannelsServer,
} from '../../src/channels/index.ts';
import { errorCodeOf } from '../error-assertions.ts';
import { connectClient } from './serve-helpers.ts';

const servers: ChannelsServer[] = [];
/** The code of the BuffereventError a rejected serve() gave. */
const codeOf = (error: unknown) =>
  errorCodeOf(() => {
    throw error;
  });
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** An application whose consumer says which server it runs on. */
function named(name: string) {
  return new ProtocolTypeRouter({
    websocket: class extends WebsocketConsumer {
      override connect() {
        this.accept();
        this.send(name);
      }
    },
  });
}

describe('serve({ reusePort })', () => {
  it('lets two servers listen on one port and both accept connections', async () => {
    const port = await freePort();
    for (const name of ['a', 'b'])
      servers.push(await serve(named(name), { port, reusePort: true, channelLayer: null }));
    expect(servers.map((server) => server.port)).toEqual([port, port]);
    const served = new Map<string, number>();
    // The kernel picks by a hash of the client's address and port: a few dozen connections reach both.
    for (let i = 0; i < 64 && served.size < 2; i++) {
      const client = await connectClient(port, '/');
      const name = (await client.next()) as string;
      served.set(name, (served.get(name) ?? 0) + 1);
      client.socket.close();
      await client.closed;
    }
    expect([...served.keys()].sort()).toEqual(['a', 'b']);
  });

  it('refuses the port to a server without reusePort, and close() releases it', async () => {
    const port = await freePort();
    const first = await serve(named('a'), { port, reusePort: true, channelLayer: null });
    const refused = await serve(named('b'), { port, channelLayer: null }).catch((error: unknown) => error);
    expect(codeOf(refused)).toBe('EADDRINUSE');
    await first.close();
    const after = await serve(named('c'), { port, channelLayer: null });
    servers.push(after);
    // Nor can a reusePort server join a listener that did not ask for SO_REUSEPORT.
    const joining = await serve(named('d'), { port, reusePort: true }).catch((error: unknown) => error);
    expect(codeOf(joining)).toBe('ERR_LISTEN');
    const client = await connectClient(port, '/');
    expect(await client.next()).toBe('c');
    client.socket.close();
    await client.closed;
  });

  it('checks the option', async () => {
    const error = await serve(named('a'), { port: 0, reusePort: 'yes' as unknown as boolean }).catch(
      (caught: unknown) => caught,
    );
    expect(codeOf(error)).toBe('ERR_INVALID_ARG');
  });
});
