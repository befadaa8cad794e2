// EMFILE on accept, in a child with `ulimit -n 64`: the listener reports it, backs off without
// spinning, and accepts the pending connections once fds are free again.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BEV } from '../helpers.ts';

const distIndex = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
const PENDING = 3;

// The child fills its fd table with /dev/null, frees exactly PENDING slots, and spends them on client
// sockets: their connections complete in the kernel's backlog, but accept() has no fd left.
const childSource = `
import { openSync, closeSync } from 'node:fs';
import { Listener, Bufferevent } from ${JSON.stringify(distIndex)};

const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
async function until(predicate, ms) {
  const deadline = Date.now() + ms;
  while (!predicate() && Date.now() < deadline) await wait(10);
  return predicate();
}

const errors = [];
const accepted = [];
const clientEvents = [];
const server = Listener.listen(
  {
    host: '127.0.0.1',
    port: 0,
    onError: (error, retryInMs) => errors.push({ code: error.code, syscall: error.syscall, retryInMs }),
  },
  (fd) => accepted.push(fd),
);
const { port } = server.address;

const fillers = [];
for (;;) {
  try { fillers.push(openSync('/dev/null', 'r')); } catch (error) { if (error.code === 'EMFILE') break; throw error; }
}
for (let i = 0; i < ${PENDING}; i++) closeSync(fillers.pop());
const clients = [];
for (let i = 0; i < ${PENDING}; i++) {
  clients.push(Bufferevent.socket().setCallbacks({ event: (_bev, what) => clientEvents.push(what) }).connect({ host: '127.0.0.1', port }));
}
const sawEmfile = await until(() => errors.length > 0 && clientEvents.length === ${PENDING}, 10000);

// While the connections wait in the backlog, the process must sleep between retries, not spin.
const cpuStart = process.cpuUsage();
const wallStart = process.hrtime.bigint();
await wait(1000);
const cpu = process.cpuUsage(cpuStart);
const wallMs = Number(process.hrtime.bigint() - wallStart) / 1e6;
const acceptedWhileFull = accepted.length;
const errorsWhileFull = errors.length;

for (const fd of fillers.splice(0, 10)) closeSync(fd);
const acceptedAll = await until(() => accepted.length === ${PENDING}, 10000);

for (const client of clients) client.free();
for (const fd of accepted) closeSync(fd);
for (const fd of fillers) closeSync(fd);
server.close();
console.log(JSON.stringify({
  sawEmfile, acceptedAll, acceptedWhileFull, errorsWhileFull, errors, clientEvents,
  cpuRatio: (cpu.user + cpu.system) / 1000 / wallMs, accepted: accepted.length,
}));
`;

interface ChildSummary {
  sawEmfile: boolean;
  acceptedAll: boolean;
  acceptedWhileFull: number;
  errorsWhileFull: number;
  errors: Array<{ code: string; syscall: string; retryInMs: number }>;
  clientEvents: number[];
  cpuRatio: number;
  accepted: number;
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'listener-emfile-'));
  writeFileSync(path.join(dir, 'child.mjs'), childSource);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a Listener that runs out of fds (ulimit -n 64)', () => {
  it('reports EMFILE with a retry delay, does not spin, and accepts the pending connections later', async () => {
    const { stdout } = await promisify(execFile)(
      'bash',
      ['-c', 'ulimit -n 64 && exec "$0" "$1"', process.execPath, path.join(dir, 'child.mjs')],
      { timeout: 30_000 },
    );
    const summary = JSON.parse(stdout.trim().split('\n').at(-1)!) as ChildSummary;

    expect(summary.sawEmfile).toBe(true);
    expect(summary.clientEvents).toEqual(new Array(PENDING).fill(BEV.CONNECTED));
    expect(summary.errors[0]).toEqual({ code: 'EMFILE', syscall: 'accept', retryInMs: expect.any(Number) });
    expect(summary.errors[0]!.retryInMs).toBeGreaterThan(0);
    expect(summary.errors.every((error) => error.code === 'EMFILE' && error.retryInMs > 0)).toBe(true);
    // Backing off: the delays grow, so one second holds a handful of retries, not thousands.
    expect(summary.errorsWhileFull).toBeLessThan(20);
    const delays = summary.errors.map((error) => error.retryInMs);
    expect(delays).toEqual([...delays].sort((a, b) => a - b));
    expect(summary.cpuRatio).toBeLessThan(0.5);

    expect(summary.acceptedWhileFull).toBe(0);
    expect(summary.acceptedAll).toBe(true);
    expect(summary.accepted).toBe(PENDING);
  });
});
