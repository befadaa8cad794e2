// Many connections: 10,000 WebSocket connections through our WebSocketServer, in concurrent batches,
// each doing the handshake, one echo and the close handshake (started by the client for half of
// them, by the server for the other half). Afterwards the open fds, the native live counts and the
// heap are back where they started.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from '../../src/websocket/index.ts';
import { EventBase } from '../../src/index.ts';
import { liveCounts, openFdCount, turns, waitFor } from '../helpers.ts';
import { settledHeapUsed } from '../leaks/gc.ts';

const TOTAL = 10_000;
const MOST_CONCURRENT = 500;
const CLIENT_CLOSE_CODE = 4001;
const SERVER_CLOSE_CODE = 4002;
// The RFC 6455 sample key: every request may use it; the server only echoes its hash.
const REQUEST_HEAD = (port: number) =>
  `GET /many HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';
const MASK = Buffer.from([0x11, 0x22, 0x33, 0x44]);

/** A masked client frame with a payload under 126 bytes. */
function smallFrame(opcode: number, payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(6 + payload.length);
  out[0] = 0x80 | opcode;
  out[1] = 0x80 | payload.length;
  MASK.copy(out, 2);
  for (let i = 0; i < payload.length; i++) out[6 + i] = payload[i]! ^ MASK[i % 4]!;
  return out;
}

function closeFrame(code: number): Buffer {
  const payload = Buffer.alloc(2);
  payload.writeUInt16BE(code, 0);
  return smallFrame(0x8, payload);
}

/** The soft limit on open files of this process. */
function openFileLimit(): number {
  const line = readFileSync('/proc/self/limits', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('Max open files'));
  const soft = line?.split(/\s{2,}/)[1];
  return soft === undefined || soft === 'unlimited' ? 1 << 20 : Number(soft);
}

function nativeCounts(): ReturnType<typeof liveCounts> & { webSockets: number } {
  return { ...liveCounts(), webSockets: EventBase.default().stats().liveWebSockets };
}

interface Outcome {
  echoed: boolean;
  closeCode: number | undefined;
  error: Error | undefined;
}

/**
 * One raw client: handshake, one echo of `text`, then either our close frame (client-initiated)
 * or, after the server's close frame, the echo of it. Resolves once the socket has closed.
 */
function runClient(port: number, index: number, serverCloses: boolean): Promise<Outcome> {
  return new Promise((resolve) => {
    const outcome: Outcome = { echoed: false, closeCode: undefined, error: undefined };
    const text = `${serverCloses ? 'server' : 'client'}:${index}`;
    let buffered: Buffer = Buffer.alloc(0);
    let upgraded = false;
    const socket = net.connect({ host: '127.0.0.1', port }, () => socket.write(REQUEST_HEAD(port)));
    socket.on('error', (error) => (outcome.error ??= error));
    socket.on('close', () => resolve(outcome));
    socket.on('data', (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      if (!upgraded) {
        const end = buffered.indexOf('\r\n\r\n');
        if (end < 0) return;
        if (!buffered.subarray(0, 13).equals(Buffer.from('HTTP/1.1 101 '))) {
          outcome.error = new Error(`no 101: ${buffered.subarray(0, 40).toString('latin1')}`);
          socket.destroy();
          return;
        }
        upgraded = true;
        buffered = buffered.subarray(end + 4);
        socket.write(smallFrame(0x1, Buffer.from(text)));
      }
      // Server frames here are all short and unmasked: 2-byte header, 7-bit length.
      while (buffered.length >= 2 && buffered.length >= 2 + (buffered[1]! & 0x7f)) {
        const opcode = buffered[0]! & 0x0f;
        const payload = buffered.subarray(2, 2 + (buffered[1]! & 0x7f));
        buffered = buffered.subarray(2 + payload.length);
        if (opcode === 0x1) {
          outcome.echoed = payload.toString() === text;
          if (!serverCloses) socket.write(closeFrame(CLIENT_CLOSE_CODE));
        } else if (opcode === 0x8) {
          outcome.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
          if (serverCloses) socket.write(closeFrame(outcome.closeCode));
          // The server closes TCP after the close handshake; Node ends our side on its FIN.
        }
      }
    });
  });
}

describe('10,000 WebSocket connections through our server', () => {
  it(
    'each handshake, echo and close completes, and fds, native live counts and the heap return to where they were',
    { timeout: 600_000 },
    async () => {
      const countsBeforeServer = nativeCounts();
      const serverCloses: number[] = [];
      const serverErrors: Error[] = [];
      let connections = 0;
      const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', backlog: 1024 });
      wss.on('wsClientError', (error: Error) => serverErrors.push(error));
      wss.on('connection', (ws: WebSocket) => {
        connections++;
        ws.on('error', (error: Error) => serverErrors.push(error));
        ws.on('close', (code: number) => serverCloses.push(code));
        ws.on('message', (data: Buffer, isBinary: boolean) => {
          ws.send(data, { binary: isBinary });
          if (data.toString().startsWith('server:')) ws.close(SERVER_CLOSE_CODE);
        });
      });
      await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
      const { port } = wss.address() as { port: number };

      let started = 0;
      const failures: string[] = [];
      async function runBatch(size: number): Promise<void> {
        const clients: Array<Promise<Outcome>> = [];
        for (let i = 0; i < size; i++, started++) clients.push(runClient(port, started, started % 2 === 1));
        const outcomes = await Promise.all(clients);
        outcomes.forEach((outcome, i) => {
          const serverCloses = (started - size + i) % 2 === 1;
          const expected = serverCloses ? SERVER_CLOSE_CODE : CLIENT_CLOSE_CODE;
          if (!outcome.echoed || outcome.closeCode !== expected || outcome.error !== undefined) {
            failures.push(
              `#${started - size + i}: echoed ${outcome.echoed}, close ${outcome.closeCode}, ${outcome.error?.message ?? 'no error'}`,
            );
          }
        });
        // The client sockets have closed; the server side follows once it read their FIN.
        await waitFor(() => serverCloses.length === started, 60_000, 'every server-side close in the batch');
      }

      // Warm-up: the loop's own fds open on first use, and the JIT settles.
      await runBatch(50);
      await turns(3);
      const fdsBefore = openFdCount();
      const countsBefore = nativeCounts();
      const heapBefore = await settledHeapUsed();
      expect(countsBefore.webSockets).toBe(0);

      // Two fds per connection in this process (client and server end), with headroom for the rest.
      const batchSize = Math.min(MOST_CONCURRENT, Math.floor((openFileLimit() - fdsBefore - 64) / 2));
      expect(batchSize).toBeGreaterThanOrEqual(50);
      let peakFds = 0;
      while (started < TOTAL + 50) {
        const size = Math.min(batchSize, TOTAL + 50 - started);
        const batch = runBatch(size);
        await new Promise((resolve) => setImmediate(resolve)); // Node creates the client sockets on the next tick
        peakFds = Math.max(peakFds, openFdCount());
        await batch;
      }

      expect(failures.slice(0, 10)).toEqual([]);
      expect(failures).toHaveLength(0);
      expect(connections).toBe(TOTAL + 50);
      expect(serverCloses).toHaveLength(TOTAL + 50);
      expect(serverCloses.filter((code) => code === CLIENT_CLOSE_CODE)).toHaveLength((TOTAL + 50) / 2);
      expect(serverCloses.filter((code) => code === SERVER_CLOSE_CODE)).toHaveLength((TOTAL + 50) / 2);
      expect(serverErrors).toEqual([]);
      expect(wss.clients.size).toBe(0);
      expect(peakFds).toBeGreaterThanOrEqual(fdsBefore + batchSize); // a whole batch was open at once

      await turns(3);
      expect(openFdCount()).toBe(fdsBefore);
      expect(nativeCounts()).toEqual(countsBefore);
      const growth = (await settledHeapUsed()) - heapBefore;
      expect(growth).toBeLessThan(20 * 1024 * 1024);

      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await turns(3);
      expect(nativeCounts()).toEqual(countsBeforeServer);
      expect(openFdCount()).toBe(fdsBefore - 1); // minus the listening socket
    },
  );
});
