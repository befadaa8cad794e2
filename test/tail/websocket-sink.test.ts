// webSocketSink over this package's real WebSocket: a small backpressure cap makes send() answer
// 'backpressure' many times during a burst, and the viewer resumes on each 'drain' without losing,
// repeating or reordering a line.
import { appendFileSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { webSocketSink, type TailItem } from '../../src/tail/index.ts';
import { WebSocket, WebSocketServer } from '../../src/websocket/index.ts';
import { waitFor } from '../helpers.ts';
import { numbered, useTailFixture } from './tail-helpers.ts';

const fixture = useTailFixture();
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('webSocketSink on a real WebSocket', () => {
  it('delivers a 100,000-line burst to a client that stalls, in order, through backpressure and drain', async () => {
    const log = fixture.file('ws.log');
    writeFileSync(log, 'backlog line\n');
    const engine = fixture.engine({ w: { path: log, title: 'W' } }, { viewerQueueLines: 100_000 });
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', backpressureBytes: 16 * 1024 });
    cleanups.push(async () => {
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    });
    let backpressured = 0;
    wss.on('connection', (ws: WebSocket) => {
      const sink = webSocketSink(ws);
      const viewer = engine.open('w', {
        sink: {
          write: (batch) => {
            const more = sink.write(batch);
            if (!more) backpressured++;
            return more;
          },
          onDrain: (listener) => sink.onDrain(listener),
        },
      });
      ws.on('close', () => viewer.stop());
    });
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
    const { port } = wss.address() as { port: number };

    const received: string[] = [];
    const client = new WebSocket(`ws://127.0.0.1:${port}/`);
    cleanups.push(() => client.terminate());
    client.on('message', (data: Buffer) => {
      for (const item of JSON.parse(data.toString()) as TailItem[]) {
        received.push(item.type === 'line' ? item.text : `[${item.notice}]`);
      }
    });
    await waitFor(() => received.length === 1, 10_000, 'the backlog');
    // The client stops reading until the server's sends back up past the kernel's socket buffers.
    client.pause();
    const lines = numbered('x'.repeat(100), 100_000);
    appendFileSync(log, lines.join('\n') + '\n');
    await waitFor(() => backpressured > 0, 30_000, "send() answering 'backpressure'");
    client.resume();
    await waitFor(() => received.length === 1 + lines.length, 30_000, 'every line');
    expect(received).toEqual(['backlog line', ...lines]);
    expect(engine.stats().skippedLines).toBe(0);
  });
});
