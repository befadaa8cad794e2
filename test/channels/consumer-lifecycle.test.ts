// Consumers through real WebSocket connections on serve(): the handshake (accept, subprotocols,
// refusal with 403, failures with 500, the deadline), messages both ways, and disconnect running
// exactly once with the close code.
import { afterEach, describe, expect, it } from 'vitest';
import {
  JsonWebsocketConsumer,
  URLRouter,
  WebsocketConsumer,
  path,
  serve,
  type ChannelsServer,
  type ServeOptions,
} from '../../src/channels/index.ts';
import { errorCodeOf } from '../error-assertions.ts';
import { waitFor } from '../helpers.ts';
import { connectClient, recordingLogger, refusalStatus } from './serve-helpers.ts';

const servers: ChannelsServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

async function start(
  routes: Record<string, new () => WebsocketConsumer>,
  options: ServeOptions = {},
): Promise<{ server: ChannelsServer; logger: ReturnType<typeof recordingLogger> }> {
  const logger = recordingLogger();
  const app = new URLRouter(Object.entries(routes).map(([route, consumer]) => path(route, consumer)));
  const server = await serve(app, { port: 0, logger, ...options });
  servers.push(server);
  return { server, logger };
}

describe('accepting and refusing', () => {
  it('accepts by default and carries text and binary both ways', async () => {
    const received: [string | undefined, Buffer | undefined][] = [];
    class Echo extends WebsocketConsumer {
      override receive(text: string | undefined, bytes: Buffer | undefined) {
        received.push([text, bytes]);
        this.send(text ?? bytes!);
      }
    }
    const { server } = await start({ 'ws/echo/': Echo });
    const client = await connectClient(server.port, '/ws/echo/');
    client.socket.send('héllo');
    client.socket.send(Buffer.from([0, 1, 2]), { binary: true });
    expect(await client.next()).toBe('héllo');
    expect(await client.next()).toEqual(Buffer.from([0, 1, 2]));
    expect(received).toEqual([
      ['héllo', undefined],
      [undefined, Buffer.from([0, 1, 2])],
    ]);
    client.socket.close();
    await client.closed;
  });

  it('runs disconnect exactly once, with the code the client closed with', async () => {
    const codes: number[] = [];
    class Watched extends WebsocketConsumer {
      override disconnect(code: number) {
        codes.push(code);
      }
    }
    const { server } = await start({ 'ws/': Watched });
    const client = await connectClient(server.port, '/ws/');
    client.socket.close(4001, 'bye');
    expect((await client.closed).code).toBe(4001);
    await waitFor(() => codes.length === 1);
    await waitFor(() => server.stats().consumers === 0);
    expect(codes).toEqual([4001]);
  });

  it('refuses the upgrade with 403 when the consumer closes before accepting, and still runs disconnect', async () => {
    const codes: number[] = [];
    class Refusing extends WebsocketConsumer {
      override async connect() {
        await new Promise((resolve) => setTimeout(resolve, 5));
        this.close();
      }
      override disconnect(code: number) {
        codes.push(code);
      }
    }
    const { server } = await start({ 'ws/no/': Refusing });
    expect(await refusalStatus(server.port, '/ws/no/')).toBe(403);
    await waitFor(() => codes.length === 1);
    expect(codes).toEqual([1006]);
    await waitFor(() => server.stats().consumers === 0);
  });

  it('answers 404 before the upgrade when no route matches, creating no consumer', async () => {
    let created = 0;
    class Counted extends WebsocketConsumer {
      constructor() {
        super();
        created++;
      }
    }
    const { server } = await start({ 'ws/chat/<room>/': Counted });
    expect(await refusalStatus(server.port, '/ws/other/')).toBe(404);
    expect(await refusalStatus(server.port, '/ws/chat/')).toBe(404);
    expect(created).toBe(0);
  });

  it('accepts after async work in connect', async () => {
    class Slow extends WebsocketConsumer {
      override async connect() {
        await new Promise((resolve) => setTimeout(resolve, 20));
        this.accept();
        this.send('ready');
      }
    }
    const { server } = await start({ 'ws/': Slow });
    const client = await connectClient(server.port, '/ws/');
    expect(await client.next()).toBe('ready');
    client.socket.close();
  });

  it('accepts the subprotocol the consumer picks from those offered', async () => {
    class Picky extends WebsocketConsumer {
      override connect() {
        const offered = this.scope.subprotocols as string[];
        this.accept(offered.includes('chat.v2') ? 'chat.v2' : undefined);
      }
    }
    const { server } = await start({ 'ws/': Picky });
    const client = await connectClient(server.port, '/ws/', { protocols: ['chat.v1', 'chat.v2'] });
    expect(client.socket.protocol).toBe('chat.v2');
    client.socket.close();
    const plain = await connectClient(server.port, '/ws/', { protocols: ['other'] });
    expect(plain.socket.protocol).toBe('');
    plain.socket.close();
  });

  it('answers 500 and logs when accept() names a subprotocol the client did not offer', async () => {
    class Wrong extends WebsocketConsumer {
      override connect() {
        this.accept('never-offered');
      }
    }
    const { server, logger } = await start({ 'ws/': Wrong });
    expect(await refusalStatus(server.port, '/ws/')).toBe(500);
    await waitFor(() => logger.entries.length === 1);
    expect(logger.entries[0]!.level).toBe('error');
    expect(logger.entries[0]!.details!.error).toMatchObject({ code: 'ERR_CONSUMER_SUBPROTOCOL' });
  });

  it('accepts implicitly on a send before accept (as Daphne does)', async () => {
    class Eager extends WebsocketConsumer {
      override connect() {
        this.send('first');
      }
    }
    const { server } = await start({ 'ws/': Eager });
    const client = await connectClient(server.port, '/ws/');
    expect(await client.next()).toBe('first');
    client.socket.close();
  });

  it('answers 500 and logs when connect throws; another connection is unaffected', async () => {
    class Broken extends WebsocketConsumer {
      override connect() {
        throw new Error('database down');
      }
    }
    class Fine extends WebsocketConsumer {
      override receive(text: string | undefined) {
        this.send(`ok ${text}`);
      }
    }
    const { server, logger } = await start({ 'ws/broken/': Broken, 'ws/fine/': Fine });
    const fine = await connectClient(server.port, '/ws/fine/');
    expect(await refusalStatus(server.port, '/ws/broken/')).toBe(500);
    expect(logger.entries.map((entry) => [entry.level, (entry.details?.error as Error).message])).toEqual([
      ['error', 'database down'],
    ]);
    fine.socket.send('still here');
    expect(await fine.next()).toBe('ok still here');
    fine.socket.close();
  });

  it('answers 500 when the route leads to something that is not a consumer class', async () => {
    const logger = recordingLogger();
    const app = new URLRouter([path('ws/', function notAConsumer() {})]);
    const server = await serve(app, { port: 0, logger });
    servers.push(server);
    expect(await refusalStatus(server.port, '/ws/')).toBe(500);
    expect(logger.entries[0]!.message).toMatch(/not a WebsocketConsumer subclass/);
  });

  it('drops a handshake whose consumer never decides, at the deadline, and runs disconnect with 1006', async () => {
    const codes: number[] = [];
    class Undecided extends WebsocketConsumer {
      override connect() {}
      override disconnect(code: number) {
        codes.push(code);
      }
    }
    const { server } = await start({ 'ws/': Undecided }, { handshakeTimeout: 300 });
    await expect(connectClient(server.port, '/ws/')).rejects.toThrow();
    await waitFor(() => codes.length === 1);
    expect(codes).toEqual([1006]);
    await waitFor(() => server.stats().consumers === 0);
  });

  it('refuses actions on a consumer that is not running, and a second accept', async () => {
    expect(errorCodeOf(() => new WebsocketConsumer().send('x'))).toBe('ERR_CONSUMER_NOT_RUNNING');
    expect(errorCodeOf(() => new WebsocketConsumer().accept())).toBe('ERR_CONSUMER_NOT_RUNNING');
    let second: unknown;
    class Twice extends WebsocketConsumer {
      override connect() {
        this.accept();
        try {
          this.accept();
        } catch (error) {
          second = error;
        }
      }
    }
    const { server } = await start({ 'ws/': Twice });
    const client = await connectClient(server.port, '/ws/');
    expect(second).toMatchObject({ code: 'ERR_CONSUMER_STATE' });
    client.socket.close();
  });
});

describe('backpressure', () => {
  it("tells the consumer when its socket drains after a send answered 'backpressure'", async () => {
    const answers: string[] = [];
    class Producer extends WebsocketConsumer {
      override connect() {
        this.accept();
        let answer;
        do {
          answer = this.send(Buffer.alloc(64 * 1024, 7));
          answers.push(answer);
        } while (answer === 'ok' && answers.length < 1000);
        const stop = this.onDrain(() => {
          stop();
          this.send('drained');
        });
      }
    }
    const { server } = await start({ 'ws/': Producer }, { backpressureBytes: 16 * 1024 });
    const client = await connectClient(server.port, '/ws/');
    expect(answers.at(-1)).toBe('backpressure');
    await waitFor(() => client.messages.includes('drained'));
    expect(client.messages.filter((message) => message === 'drained')).toHaveLength(1);
    expect(client.messages.length).toBe(answers.length + 1);
    client.socket.close();
  });

  it('refuses onDrain before accept', async () => {
    let refused: unknown;
    class Early extends WebsocketConsumer {
      override connect() {
        try {
          this.onDrain(() => {});
        } catch (error) {
          refused = error;
        }
        this.accept();
      }
    }
    const { server } = await start({ 'ws/': Early });
    const client = await connectClient(server.port, '/ws/');
    expect(refused).toMatchObject({ code: 'ERR_CONSUMER_STATE' });
    client.socket.close();
  });
});

describe('JsonWebsocketConsumer', () => {
  class JsonEcho extends JsonWebsocketConsumer {
    override receiveJson(content: unknown) {
      this.sendJson({ got: content });
    }
  }

  it('decodes text as JSON and encodes what it sends', async () => {
    const { server } = await start({ 'ws/': JsonEcho });
    const client = await connectClient(server.port, '/ws/');
    client.socket.send(JSON.stringify({ n: [1, 2], s: 'é' }));
    expect(JSON.parse((await client.next()) as string)).toEqual({ got: { n: [1, 2], s: 'é' } });
    client.socket.close();
  });

  it('closes with 1007 on text that is not JSON and with 1003 on binary, logged as warnings', async () => {
    const { server, logger } = await start({ 'ws/': JsonEcho });
    const bad = await connectClient(server.port, '/ws/');
    bad.socket.send('{not json');
    expect((await bad.closed).code).toBe(1007);
    const binary = await connectClient(server.port, '/ws/');
    binary.socket.send(Buffer.from('{}'), { binary: true });
    expect((await binary.closed).code).toBe(1003);
    expect(logger.entries.map((entry) => entry.level)).toEqual(['warn', 'warn']);
  });

  it('closes after sending with sendJson(content, true)', async () => {
    class Goodbye extends JsonWebsocketConsumer {
      override receiveJson() {
        this.sendJson({ bye: true }, 4000);
      }
    }
    const { server } = await start({ 'ws/': Goodbye });
    const client = await connectClient(server.port, '/ws/');
    client.socket.send('{}');
    expect(await client.next()).toBe('{"bye":true}');
    expect((await client.closed).code).toBe(4000);
  });
});
