// How 'message' reaches listeners. One plain listener is called directly rather than through
// emit() (src/websocket/websocket.ts, #emitMessage); everything a listener can observe must be what
// emit() gives: `this`, the arguments, once() listeners, several listeners in order, an emit()
// replaced on the socket, and with EventEmitter.captureRejections a rejected async listener
// reported as 'error'.
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { WebSocket } from '../../src/websocket/index.ts';
import { checkNothingLeaksAfterEach, waitFor } from '../helpers.ts';
import { RawClient, WAIT_MS } from './conformance/raw-client.ts';
import { batchOf, connectRawClient, deferCleanups, texts } from './batch-fixtures.ts';

checkNothingLeaksAfterEach({ fds: true });

const cleanups = deferCleanups();

async function connect(onConnection: (ws: WebSocket) => void): Promise<RawClient> {
  return (await connectRawClient(cleanups, onConnection)).client;
}

describe("'message' listeners", () => {
  it('calls a single listener with the socket as `this`, the data and isBinary, whatever it returns', async () => {
    const seen: { self: unknown; text: string; isBinary: boolean; argumentCount: number }[] = [];
    let socket: WebSocket | null = null;
    const client = await connect((ws) => {
      socket = ws;
      ws.on('message', function (this: unknown, data: Buffer, isBinary: boolean, ...rest: unknown[]) {
        seen.push({ self: this, text: data.toString(), isBinary, argumentCount: 2 + rest.length });
        return 'a value emit() would look at for a promise';
      });
    });
    await client.send(batchOf(texts('m', 3)));
    await waitFor(() => seen.length === 3, WAIT_MS, 'three messages');
    expect(seen.map((entry) => entry.text)).toEqual(['m0', 'm1', 'm2']);
    expect(
      seen.every((entry) => entry.self === socket && entry.isBinary === false && entry.argumentCount === 2),
    ).toBe(true);
  });

  it('runs a once() listener for the first message only, and several listeners in order', async () => {
    const calls: string[] = [];
    const client = await connect((ws) => {
      ws.once('message', (data: Buffer) => calls.push(`once ${data.toString()}`));
      ws.on('message', (data: Buffer) => calls.push(`a ${data.toString()}`));
      ws.on('message', (data: Buffer) => calls.push(`b ${data.toString()}`));
    });
    await client.send(batchOf(texts('m', 2)));
    await waitFor(() => calls.length === 5, WAIT_MS, 'the calls');
    expect(calls).toEqual(['once m0', 'a m0', 'b m0', 'a m1', 'b m1']);
  });

  it('goes through an emit() replaced on the socket', async () => {
    const emitted: string[] = [];
    const received: string[] = [];
    const client = await connect((ws) => {
      ws.on('message', (data: Buffer) => received.push(data.toString()));
      const original = ws.emit.bind(ws);
      ws.emit = (event: string | symbol, ...args: unknown[]) => {
        if (event === 'message') emitted.push((args[0] as Buffer).toString());
        return original(event, ...args);
      };
    });
    await client.send(batchOf(texts('m', 3)));
    await waitFor(() => received.length === 3, WAIT_MS, 'three messages');
    expect(emitted).toEqual(['m0', 'm1', 'm2']);
  });

  it("with captureRejections on, reports a rejected async listener as 'error' as emit() would", async () => {
    const previous = EventEmitter.captureRejections;
    EventEmitter.captureRejections = true;
    const errors: string[] = [];
    let client: RawClient;
    try {
      client = await connect((ws) => {
        ws.on('error', (error: Error) => errors.push(error.message));
        ws.on('message', async (data: Buffer) => {
          throw new Error(`rejected ${data.toString()}`);
        });
      });
    } finally {
      EventEmitter.captureRejections = previous;
    }
    await client.send(batchOf(texts('m', 2)));
    await waitFor(() => errors.length === 2, WAIT_MS, "two 'error' events");
    expect(errors).toEqual(['rejected m0', 'rejected m1']);
  });
});
