// What 1,000 idle compressed connections cost the server. Each client (in a child process,
// fixtures/compressed-idle-clients.mjs, so this process holds only the server's side) agrees
// permessage-deflate, sends one compressed message and gets it back compressed, then stays idle.
// Without context takeover both ways the contexts go back to a shared pool after each message, so
// an idle connection holds no zlib memory; with takeover it keeps its contexts (documented at
// about 330 KiB: deflate ~285 KiB at window 15 / memLevel 8, inflate ~42 KiB). Native memory is
// glibc malloc's bytes in use (mallinfo2: small blocks and mmapped ones); RSS is checked too.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { EventBase } from '../../../src/index.ts';
import { native } from '../../../src/native.ts';
import { WebSocketServer, type WebSocket } from '../../../src/websocket/index.ts';
import type { PerMessageDeflateOptions } from '../../../src/websocket/deflate/options.ts';
import { checkNothingLeaksAfterEach, liveCounts, turns, waitFor } from '../../helpers.ts';
import { settledHeapUsed } from '../../leaks/gc.ts';

const FIXTURE = fileURLToPath(new URL('./fixtures/compressed-idle-clients.mjs', import.meta.url));
const CONNECTIONS = 1000;
const KiB = 1024;

checkNothingLeaksAfterEach();

let children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children) child.kill();
  children = [];
});

function startClients() {
  const child = fork(FIXTURE, [], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.push(child);
  const waiting: Array<(answer: unknown) => void> = [];
  child.on('message', (answer) => waiting.shift()?.(answer));
  return <Answer>(message: object) =>
    new Promise<Answer>((resolve) => {
      waiting.push(resolve as (answer: unknown) => void);
      child.send(message);
    });
}

function nativeCounts() {
  return {
    ...liveCounts(),
    webSockets: EventBase.default().stats().liveWebSockets,
    topics: native.wsTopicCount(),
  };
}

/** Malloc in use and RSS once collections and libevent's deferred frees have run. */
async function settledMemory() {
  await settledHeapUsed();
  await turns(3);
  return { malloc: native.mallocStats().inUse, rss: process.memoryUsage().rss };
}

async function measure(perMessageDeflate: PerMessageDeflateOptions, offer: string) {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', backlog: 1024, perMessageDeflate } as never);
  wss.on('connection', (ws: WebSocket) =>
    ws.on('message', (data: Buffer, isBinary: boolean) => ws.send(data, { binary: isBinary })),
  );
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const port = (wss.address() as { port: number }).port;
  const ask = startClients();
  const openBatch = async (count: number) => {
    const before = wss.clients.size;
    const tally = await ask<{ opened: number; failed: number; compressed: number }>({
      open: count,
      port,
      offer,
    });
    expect(tally).toEqual({ opened: count, failed: 0, compressed: count });
    await waitFor(() => wss.clients.size === before + count, 60_000, 'the server to hold the batch');
  };
  const closeBatch = async () => {
    await ask({ close: true });
    await waitFor(() => wss.clients.size === 0, 60_000, 'every server-side close');
    await turns(3);
  };
  try {
    // Warm-up: the JIT, libevent's tables, the context pool and malloc's free lists.
    await openBatch(200);
    await closeBatch();
    const counts = nativeCounts();
    const before = await settledMemory();
    await openBatch(CONNECTIONS);
    const idle = await settledMemory();
    await closeBatch();
    const after = await settledMemory();
    expect(nativeCounts()).toEqual(counts);
    return {
      mallocPerConnection: Math.round((idle.malloc - before.malloc) / CONNECTIONS),
      rssPerConnection: Math.round((idle.rss - before.rss) / CONNECTIONS),
      mallocLeftAfterClose: after.malloc - before.malloc,
    };
  } finally {
    for (const ws of wss.clients) ws.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  }
}

/**
 * The sanitizer build's allocator pads every block and quarantines freed ones: RSS grows several
 * times faster there (its malloc is not glibc's, so mallinfo sees none of it).
 */
const RSS_SCALE = native.sanitizerBuild ? 10 : 1;

describe('memory of 1,000 idle compressed server-side connections', () => {
  it('without context takeover both ways: no zlib memory held while idle', { timeout: 90_000 }, async () => {
    const started = Date.now();
    const measured = await measure(
      { serverNoContextTakeover: true, clientNoContextTakeover: true },
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover',
    );
    const context = JSON.stringify(measured);
    // An idle plain connection is about 3 KiB of malloc; one zlib context alone would be 40+ KiB.
    expect(measured.mallocPerConnection, context).toBeLessThan(12 * KiB);
    expect(measured.rssPerConnection, context).toBeLessThan(RSS_SCALE * 40 * KiB);
    expect(measured.mallocLeftAfterClose, context).toBeLessThan(4 * 1024 * KiB);
    expect(Date.now() - started).toBeLessThan(60_000);
  });

  it(
    'with context takeover: bounded by the documented ~330 KiB, and all of it given back',
    { timeout: 90_000 },
    async () => {
      const started = Date.now();
      const measured = await measure({}, 'permessage-deflate');
      const context = JSON.stringify(measured);
      // zlib's two contexts are 285 + 42 KiB; 400 KiB leaves room for allocator overhead, not for
      // another buffer of 64 KiB or more kept per connection.
      expect(measured.mallocPerConnection, context).toBeLessThan(400 * KiB);
      expect(measured.rssPerConnection, context).toBeLessThan(RSS_SCALE * 450 * KiB);
      // 1,000 connections' contexts (over 300 MiB) freed: what is left is noise.
      expect(measured.mallocLeftAfterClose, context).toBeLessThan(8 * 1024 * KiB);
      expect(Date.now() - started).toBeLessThan(60_000);
    },
  );
});
