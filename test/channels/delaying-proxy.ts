// A TCP proxy on loopback that holds some connections back for a while before joining them to the
// real server: a layer behind it has one connection to Redis ready and the other still being made,
// the state a layer is in right after it was created, stretched long enough to act in.
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export interface DelayingProxy {
  url: string;
  close(): Promise<void>;
}

/**
 * Forwards to `port`; every connection after the first waits `delayMs` before it is joined (what
 * its client sends meanwhile waits in the kernel).
 */
export async function startDelayingProxy(port: number, delayMs: number): Promise<DelayingProxy> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server: Server = createServer((client) => {
    const delay = accepted++ === 0 ? 0 : delayMs;
    sockets.add(client);
    client.pause();
    client.on('error', () => {});
    client.on('close', () => sockets.delete(client));
    setTimeout(() => {
      if (client.destroyed) return;
      const upstream = createConnection({ host: '127.0.0.1', port });
      sockets.add(upstream);
      upstream.on('error', () => client.destroy());
      upstream.on('close', () => {
        sockets.delete(upstream);
        client.destroy();
      });
      client.on('close', () => upstream.destroy());
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    }, delay);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the proxy has no port');
  return {
    url: `redis://127.0.0.1:${address.port}`,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
