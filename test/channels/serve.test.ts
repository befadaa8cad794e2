// serve(): one port for pages and WebSockets, the middleware contract through real handshakes
// (403 refusals, 500 when preparing fails, the session's user in the consumer's scope), shutdown
// with 1001, start-up errors, and nothing left behind.
import { request as httpRequest } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { EventBase } from '../../src/index.ts';
import {
  ANONYMOUS_USER,
  AuthMiddlewareStack,
  MemorySessionStore,
  OriginValidator,
  ProtocolTypeRouter,
  URLRouter,
  WebsocketConsumer,
  login,
  path,
  prepareScope,
  resolveWebSocket,
  serve,
  withPrepareStep,
  type ChannelsServer,
  type Scope,
  type Session,
} from '../../src/channels/index.ts';
import { waitFor } from '../helpers.ts';
import { connectClient, recordingLogger, refusalStatus } from './serve-helpers.ts';

const servers: ChannelsServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

async function started(server: Promise<ChannelsServer>): Promise<ChannelsServer> {
  const running = await server;
  servers.push(running);
  return running;
}

function get(port: number, target: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: '127.0.0.1', port, path: target, agent: false }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode!, body }));
    });
    request.on('error', reject);
    request.end();
  });
}

class ScopeReporter extends WebsocketConsumer {
  override connect() {
    this.accept();
    const { path: scopePath, queryString, urlRoute, client, user } = this.scope;
    this.send(JSON.stringify({ scopePath, queryString, kwargs: urlRoute?.kwargs, client, user }));
  }
}

describe('one port for pages and WebSockets', () => {
  it('routes upgrades to consumers and page requests to the http entry', async () => {
    const app = new ProtocolTypeRouter({
      websocket: new URLRouter([path('ws/room/<room>/', ScopeReporter)]),
      http: (_request: unknown, response: import('node:http').ServerResponse) => {
        response.end('page');
      },
    });
    const server = await started(serve(app, { port: 0 }));
    expect(await get(server.port, '/anything')).toEqual({ status: 200, body: 'page' });
    const client = await connectClient(server.port, '/ws/room/caf%C3%A9/?x=1');
    const reported = JSON.parse((await client.next()) as string);
    expect(reported).toMatchObject({
      scopePath: '/ws/room/café/',
      queryString: 'x=1',
      kwargs: { room: 'café' },
    });
    expect(reported.client[0]).toBe('127.0.0.1');
    client.socket.close();
  });

  it('answers pages 404 without an http entry, and 500 (logged) when the handler throws', async () => {
    const logger = recordingLogger();
    const wsOnly = await started(serve(new URLRouter([path('ws/', ScopeReporter)]), { port: 0, logger }));
    expect((await get(wsOnly.port, '/ws/')).status).toBe(404);
    const broken = await started(
      serve(
        new ProtocolTypeRouter({
          websocket: ScopeReporter,
          http: () => {
            throw new Error('page bug');
          },
        }),
        { port: 0, logger },
      ),
    );
    expect((await get(broken.port, '/')).status).toBe(500);
    expect(logger.entries.map((entry) => (entry.details?.error as Error).message)).toEqual(['page bug']);
  });
});

describe('middleware through real handshakes', () => {
  it('refuses a disallowed or missing Origin with 403 before any consumer exists', async () => {
    let created = 0;
    class Counted extends ScopeReporter {
      constructor() {
        super();
        created++;
      }
    }
    const app = new OriginValidator(new URLRouter([path('ws/', Counted)]), ['http://chat.example:8000']);
    const server = await started(serve(app, { port: 0 }));
    expect(await refusalStatus(server.port, '/ws/')).toBe(403);
    expect(await refusalStatus(server.port, '/ws/', { origin: 'http://evil.example:8000' })).toBe(403);
    expect(await refusalStatus(server.port, '/ws/', { origin: 'https://chat.example:8000' })).toBe(403);
    expect(await refusalStatus(server.port, '/ws/', { origin: 'http://chat.example:8001' })).toBe(403);
    expect(created).toBe(0);
    const client = await connectClient(server.port, '/ws/', {
      headers: { origin: 'http://chat.example:8000' },
    });
    await client.next();
    expect(created).toBe(1);
    client.socket.close();
  });

  it("puts the session's user in the consumer's scope; a forged cookie gets the anonymous user", async () => {
    const store = new MemorySessionStore();
    const users = new Map([['7', { id: '7', name: 'ada' }]]);
    const app = AuthMiddlewareStack(new URLRouter([path('ws/', ScopeReporter)]), {
      secret: 'a-test-secret-of-32-characters!!',
      store,
      getUser: async (id: string) => users.get(id),
    });
    const server = await started(serve(app, { port: 0 }));
    // Log in the way a login page would: a session from a prepared scope, then its cookie.
    const prepared = await prepareScope(resolveWebSocket(app, { path: '/ws/', headers: [] })!);
    const session = prepared.session as Session;
    await login(session, '7');
    const cookie = session.setCookieHeader().split(';')[0]!;
    const loggedIn = await connectClient(server.port, '/ws/', { headers: { cookie } });
    expect(JSON.parse((await loggedIn.next()) as string).user).toMatchObject({ id: '7', name: 'ada' });
    const forged = `${cookie.slice(0, -3)}${cookie.endsWith('AAA') ? 'BBB' : 'AAA'}`;
    const intruder = await connectClient(server.port, '/ws/', { headers: { cookie: forged } });
    expect(JSON.parse((await intruder.next()) as string).user).toEqual(
      JSON.parse(JSON.stringify(ANONYMOUS_USER)),
    );
    loggedIn.socket.close();
    intruder.socket.close();
  });

  it('answers 500 (logged) when a prepare step rejects, creating no consumer', async () => {
    let created = 0;
    class Counted extends ScopeReporter {
      constructor() {
        super();
        created++;
      }
    }
    const failingMiddleware = {
      resolve: (scope: Scope) => {
        const inner = new URLRouter([path('ws/', Counted)]).resolve(scope);
        return (
          inner && {
            app: inner.app,
            scope: withPrepareStep(inner.scope, () => Promise.reject(new Error('store down'))),
          }
        );
      },
    };
    const logger = recordingLogger();
    const server = await started(serve(failingMiddleware, { port: 0, logger }));
    expect(await refusalStatus(server.port, '/ws/')).toBe(500);
    expect(created).toBe(0);
    expect((logger.entries[0]!.details!.error as Error).message).toBe('store down');
  });
});

describe('shutdown and start-up', () => {
  it('close() closes every WebSocket with 1001 and resolves after every disconnect ran', async () => {
    const disconnects: number[] = [];
    class Slow extends WebsocketConsumer {
      override async disconnect(code: number) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        disconnects.push(code);
      }
    }
    const socketsBefore = EventBase.default().stats().liveWebSockets;
    const server = await serve(new URLRouter([path('ws/', Slow)]), { port: 0 });
    const clients = await Promise.all(Array.from({ length: 10 }, () => connectClient(server.port, '/ws/')));
    await server.close();
    expect(disconnects).toEqual(Array(10).fill(1001));
    for (const client of clients) expect((await client.closed).code).toBe(1001);
    expect(server.stats().consumers).toBe(0);
    expect(server.channelLayer!.closed).toBe(true);
    await waitFor(() => EventBase.default().stats().liveWebSockets === socketsBefore);
    expect(await server.close()).toBeUndefined(); // a second close() is the same promise
  });

  it('refuses an application without a websocket entry, and bad options, with coded errors', async () => {
    const httpOnly = new ProtocolTypeRouter({ http: () => {} });
    await expect(serve(httpOnly, { port: 0 })).rejects.toMatchObject({ code: 'ERR_UNKNOWN_PROTOCOL' });
    await expect(serve({} as never)).rejects.toMatchObject({ code: 'ERR_INVALID_APPLICATION' });
    await expect(serve(ScopeReporter, { port: 70_000 })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG' });
    await expect(serve(ScopeReporter, { inboxSize: 0 })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG' });
    await expect(serve(ScopeReporter, { logger: {} as never })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARG',
    });
  });

  it('refuses connections beyond maxConnections: a handshake with 503, a page connection closed', async () => {
    const app = new ProtocolTypeRouter({
      websocket: new URLRouter([path('ws/', ScopeReporter)]),
      http: (_request: unknown, response: import('node:http').ServerResponse) => response.end('page'),
    });
    const server = await started(serve(app, { port: 0, maxConnections: 2 }));
    const first = await connectClient(server.port, '/ws/');
    const second = await connectClient(server.port, '/ws/');
    expect(await refusalStatus(server.port, '/ws/')).toBe(503);
    await expect(get(server.port, '/')).rejects.toThrow();
    first.socket.close();
    await waitFor(() => server.stats().consumers === 1);
    expect(await get(server.port, '/')).toEqual({ status: 200, body: 'page' });
    await waitFor(() => server.stats().pageConnections === 0);
    const third = await connectClient(server.port, '/ws/');
    third.socket.close();
    second.socket.close();
    expect(server.stats().refusedHandshakes).toBe(1);
  });

  it('rejects when the port is taken, leaving nothing open', async () => {
    const first = await started(serve(ScopeReporter, { port: 0 }));
    const before = EventBase.default().stats();
    const error = await serve(ScopeReporter, { port: first.port }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: expect.stringMatching(/EADDRINUSE|ERR_/) });
    const after = EventBase.default().stats();
    expect(after.liveListeners).toBe(before.liveListeners);
  });
});
