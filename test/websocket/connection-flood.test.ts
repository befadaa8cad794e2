// Loop fairness under a flood of new connections: libevent's listener accepts a whole backlog in
// one callback, and every accepted connection calls into JavaScript. The loop caps the calls into
// JavaScript per pass and per round of passes, and the listener stops accepting until Node's loop
// had its turn, so Node's own sockets (here those httpFallback hands to a Node http server) and
// timers are served while the flood goes on.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { EventBase } from '../../src/index.ts';
import { WebSocketServer } from '../../src/websocket/index.ts';
import { liveCounts, turns, waitFor } from '../helpers.ts';

const CLIENT = fileURLToPath(new URL('./fixtures/get-flood-client.mjs', import.meta.url));
const TOTAL = 2000;
/** All at once: the backlog fills faster than the server accepts (the listener's accept loop then
 * ran 2,000+ callbacks into JavaScript in one turn of Node's loop). */
const CONCURRENT = TOTAL;
/** Per turn of Node's loop: three rounds of passes at most (idle, prepare, poll), each stopping
 * once it has made 256 calls into JavaScript, and a pass's last callback may overshoot a little. */
const MOST_CALLBACKS_PER_TURN = 1024;

/** Sockets of the local `port` in CLOSE_WAIT: the client closed, this side has not yet. */
function closeWaitCount(port: number): number {
  const local = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const CLOSE_WAIT = '08';
  return readFileSync('/proc/net/tcp', 'latin1')
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields[1]?.endsWith(local) && fields[3] === CLOSE_WAIT).length;
}

interface FloodResult {
  answered: number;
  failed: number;
  firstFailure: string | null;
}

function runFlood(port: number): Promise<FloodResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [CLIENT, String(port), String(TOTAL), String(CONCURRENT)],
      { timeout: 60_000 },
      (error, stdout) => {
        if (error) reject(error);
        else resolve(JSON.parse(stdout.trim()) as FloodResult);
      },
    );
  });
}

async function floodServer() {
  let requests = 0;
  let nodeSocketsClosed = 0;
  const pages = http.createServer((_request, response) => {
    requests++;
    response.end('flooded');
  });
  pages.on('connection', (socket) => socket.on('close', () => nodeSocketsClosed++));
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', backlog: 4096, httpFallback: pages });
  await new Promise((resolve) => wss.once('listening', resolve));
  const { port } = wss.address() as { port: number };
  return { wss, port, requests: () => requests, nodeSocketsClosed: () => nodeSocketsClosed };
}

describe('a flood of new connections through httpFallback', () => {
  it(`answers all ${TOTAL} GETs and leaves no handed-off socket in CLOSE_WAIT`, async () => {
    const before = liveCounts();
    const server = await floodServer();
    const result = await runFlood(server.port);

    expect(result).toEqual({ answered: TOTAL, failed: 0, firstFailure: null });
    expect(server.requests()).toBe(TOTAL);
    await waitFor(() => server.nodeSocketsClosed() === TOTAL, 20_000, 'every Node socket to close');
    await waitFor(() => closeWaitCount(server.port) === 0, 20_000, 'no socket in CLOSE_WAIT');
    server.wss.close();
    await turns(3);
    expect(liveCounts()).toEqual(before);
  }, 90_000);

  it('gives Node its turn while the flood lasts: few calls per turn, timers and immediates run', async () => {
    const base = EventBase.default();
    const server = await floodServer();
    const budgetBreaksBefore = base.stats().budgetBreaks;
    let flooding = true;
    // One immediate per turn of Node's loop: the libevent callbacks run between two of them.
    let immediates = 0;
    let mostCallbacksPerTurn = 0;
    let lastCallbacks = base.stats().callbacks;
    const onImmediate = () => {
      immediates++;
      const callbacks = base.stats().callbacks;
      mostCallbacksPerTurn = Math.max(mostCallbacksPerTurn, callbacks - lastCallbacks);
      lastCallbacks = callbacks;
      if (flooding) setImmediate(onImmediate);
    };
    setImmediate(onImmediate);
    // A timer chain: each timer is set as the previous one fires; the longest wait is recorded.
    let timersFired = 0;
    let longestTimerWaitMs = 0;
    const onTimer = (setAt: number) => {
      timersFired++;
      longestTimerWaitMs = Math.max(longestTimerWaitMs, performance.now() - setAt);
      if (flooding) setTimeout(onTimer, 5, performance.now());
    };
    setTimeout(onTimer, 5, performance.now());

    const result = await runFlood(server.port);
    flooding = false;
    const handledAtEnd = server.requests();

    expect(result.answered).toBe(TOTAL);
    expect(handledAtEnd).toBe(TOTAL);
    expect(base.stats().budgetBreaks).toBeGreaterThan(budgetBreaksBefore);
    expect(mostCallbacksPerTurn).toBeGreaterThan(0);
    expect(mostCallbacksPerTurn).toBeLessThanOrEqual(MOST_CALLBACKS_PER_TURN);
    expect(immediates).toBeGreaterThan(10);
    expect(timersFired).toBeGreaterThan(10);
    // Generous: a loaded 2-core machine; a starved loop made timers wait over a second.
    expect(longestTimerWaitMs).toBeLessThan(2000);
    server.wss.close();
    await turns(3);
  }, 90_000);
});
