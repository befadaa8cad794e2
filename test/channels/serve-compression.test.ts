// serve()'s perMessageDeflate: passed to its WebSocket server (agreed with a client that offers
// it, messages both ways intact above and below the threshold), off by default, and a wrong value
// rejects serve() before anything listens.
import { afterEach, describe, expect, it } from 'vitest';
import { URLRouter, WebsocketConsumer, path, serve, type ChannelsServer } from '../../src/channels/index.ts';
import { connectClient } from './serve-helpers.ts';

const servers: ChannelsServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

class Echo extends WebsocketConsumer {
  override receive(text: string | undefined, bytes: Buffer | undefined) {
    this.send(text ?? bytes!);
  }
}

async function started(options: Parameters<typeof serve>[1]): Promise<number> {
  const server = await serve(new URLRouter([path('echo/', Echo)]), { port: 0, ...options });
  servers.push(server);
  return server.port;
}

describe('serve() with perMessageDeflate', () => {
  it('agrees compression with a client that offers it, and echoes small and large messages intact', async () => {
    const port = await started({
      perMessageDeflate: { serverNoContextTakeover: true, clientNoContextTakeover: true },
    });
    const client = await connectClient(port, '/echo/', { perMessageDeflate: true });
    expect(client.socket.extensions).toBe('permessage-deflate');
    const large = JSON.stringify(
      Array.from({ length: 2000 }, (_, i) => ({ line: i, text: 'GET /index.html 200' })),
    );
    client.socket.send('small');
    client.socket.send(large);
    client.socket.send(Buffer.alloc(5000, 7));
    expect(await client.next()).toBe('small');
    expect(await client.next()).toBe(large);
    expect(await client.next()).toEqual(Buffer.alloc(5000, 7));
    client.socket.close(1000);
    expect((await client.closed).code).toBe(1000);
  });

  it('is off by default: an offer is declined and messages still flow', async () => {
    const port = await started({});
    const client = await connectClient(port, '/echo/', { perMessageDeflate: true });
    expect(client.socket.extensions).toBe('');
    client.socket.send('x'.repeat(4000));
    expect(await client.next()).toBe('x'.repeat(4000));
    client.socket.close(1000);
    await client.closed;
  });

  it('rejects a wrong value before listening', async () => {
    const refused = serve(new URLRouter([]), { port: 0, perMessageDeflate: { threshold: -1 } });
    await expect(refused).rejects.toMatchObject({ code: 'WS_ERR_INVALID_DEFLATE_OPTION' });
  });
});
