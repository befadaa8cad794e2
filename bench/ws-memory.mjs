// Idle-connection memory benchmark: what one open, idle WebSocket costs the server. Each server
// (bench/memory/idle-server.mjs: ours on its native listener and through handleUpgrade, the
// bufferevent layer under it alone, npm ws) runs in its own process; this process opens N
// connections to it with raw sockets doing the opening handshake and leaves them idle. The server
// reports its memory before and with the connections open, twice: just after the burst of
// handshakes and settled, after --settle seconds idle, each after forced full collections and against
// a baseline taken the same way (the settled reading's collections also shrink V8's young
// generation, which the burst grew to its cap: see DEFAULT_SETTLE_SECONDS); and again
// once they are closed. The table shows the differences per connection: RSS and the part of it that
// is V8's young generation, for both readings; the V8 heap in use and malloc's bytes in use
// (mallinfo2: libevent, the addon, napi and V8's off-heap tables), settled. Round-robin over --runs
// rounds, medians. Prints a markdown section on stdout (progress on stderr). Usage:
// node bench/ws-memory.mjs [--idle-connections N] [--runs R] [--settle S]
//   [--kinds ours,handle-upgrade,bufferevent,ws] [--breakdown]
//   --breakdown: also diff two V8 heap snapshots of our server (before/with the connections) and
//   list what the JavaScript heap holds per connection, by constructor.
import { fork } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';

import { formatNumber, markdownTable } from './lib/table.mjs';

const path = (relative) => fileURLToPath(new URL(relative, import.meta.url));
const SERVER_SCRIPT = path('memory/idle-server.mjs');
const OURS = [path('../build/Release/bufferevent.node'), path('../dist/websocket/index.js')];

export const SERVERS = {
  ours: { name: 'ours, WebSocketServer `{ port }`', requires: OURS },
  'handle-upgrade': { name: 'ours, Node http + `handleUpgrade`', requires: OURS },
  bufferevent: { name: 'ours, socket bufferevent alone (no WebSocket)', requires: OURS },
  ws: { name: 'ws `{ port }`', requires: [...OURS.slice(0, 1), path('../node_modules/ws/package.json')] },
};

const REQUEST = Buffer.from(
  [
    'GET / HTTP/1.1',
    'Host: 127.0.0.1',
    'Upgrade: websocket',
    'Connection: Upgrade',
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Version: 13',
    '',
    '',
  ].join('\r\n'),
);
const OPENING_AT_ONCE = 256;
/**
 * Idle time before the settled reading. V8 shrinks its young generation at a full collection only
 * when its estimate of the recent allocation rate (bytes and time between collections) is low: at a
 * collection 5 s or more after the reading before's collections, not sooner for every server.
 */
const DEFAULT_SETTLE_SECONDS = 8;
const SETTLE_MIN_SECONDS = 6;

/** A server process and a way to ask it things (one answer per question, in order). */
async function startServer(kind) {
  const child = fork(SERVER_SCRIPT, [kind], {
    execArgv: ['--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const waiting = [];
  child.on('message', (message) => waiting.shift()?.(message));
  child.on('exit', (code) => {
    for (const resolve of waiting.splice(0)) resolve({ exited: code });
  });
  const next = () => new Promise((resolve) => waiting.push(resolve));
  const { port, exited } = await next();
  if (port === undefined) throw new Error(`the ${kind} server exited with ${exited}`);
  const ask = (message) => {
    const answer = next();
    child.send(message);
    return answer;
  };
  return { child, port, ask };
}

/** Opens `count` connections and completes their handshakes; resolves with the sockets. */
async function openConnections(port, count) {
  const sockets = [];
  let next = 0;
  const openOne = () =>
    new Promise((resolve, reject) => {
      const socket = net.connect({ port, host: '127.0.0.1' });
      let head = '';
      socket.setEncoding('latin1');
      socket.once('error', reject);
      socket.once('connect', () => socket.write(REQUEST));
      socket.on('data', function onData(text) {
        head += text;
        if (!head.includes('\r\n\r\n')) return;
        socket.removeListener('data', onData);
        socket.removeListener('error', reject);
        socket.on('error', () => {});
        if (!head.startsWith('HTTP/1.1 101')) reject(new Error(`refused: ${head.split('\r\n')[0]}`));
        else resolve(socket);
      });
    });
  const worker = async () => {
    while (next < count) {
      next++;
      sockets.push(await openOne());
    }
  };
  await Promise.all(Array.from({ length: Math.min(OPENING_AT_ONCE, count) }, worker));
  return sockets;
}

async function closeConnections(sockets) {
  await Promise.all(
    sockets.map(
      (socket) =>
        new Promise((resolve) => {
          socket.once('close', resolve);
          socket.destroy();
        }),
    ),
  );
}

async function waitForConnections(server, expected) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const { connections } = await server.ask({ connections: true });
    if (connections === expected) return;
    if (Date.now() > deadline)
      throw new Error(`the server holds ${connections} connections, not ${expected}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const mib = (bytes) => (bytes / 1048576).toFixed(1);
const mallocInUse = (memory) => (memory.malloc === null ? NaN : memory.malloc.inUse);

/**
 * One round against one server: memory with `count` idle connections, just after the burst that
 * opened them and again after `settleSeconds` idle, each against a baseline taken the same way
 * (at once after a warm-up, and after as long idle); and what closing them did not give back.
 */
async function measureOnce(kind, count, settleSeconds, snapshots) {
  const server = await startServer(kind);
  const settledReading = async () => {
    await sleep(settleSeconds * 1000);
    return (await server.ask({ measure: true })).memory;
  };
  try {
    // Warm-up: the code paths compiled, libevent's per-fd tables grown as they will be.
    await closeConnections(await openConnections(server.port, Math.min(200, count)));
    await waitForConnections(server, 0);
    if (snapshots) await server.ask({ snapshot: snapshots.before });
    const { memory: before } = await server.ask({ measure: true });
    const beforeSettled = settleSeconds > 0 ? await settledReading() : null;
    const sockets = await openConnections(server.port, count);
    await waitForConnections(server, count);
    const { memory: loaded } = await server.ask({ measure: true });
    if (snapshots) await server.ask({ snapshot: snapshots.loaded });
    const settled = settleSeconds > 0 ? await settledReading() : null;
    if (settled)
      process.stderr.write(
        `memory: ${kind}: young generation ${mib(before.spaces.new_space)} → ${mib(loaded.spaces.new_space)} MiB ` +
          `after the burst, ${mib(beforeSettled.spaces.new_space)} → ${mib(settled.spaces.new_space)} MiB ` +
          `settled (${settleSeconds} s idle); RSS ${mib(before.rss)} → ${mib(loaded.rss)}, ` +
          `${mib(beforeSettled.rss)} → ${mib(settled.rss)} MiB\n`,
      );
    await closeConnections(sockets);
    await waitForConnections(server, 0);
    const { memory: after } = await server.ask({ measure: true });
    const per = (field, reading, base) => (reading === null ? NaN : (field(reading) - field(base)) / count);
    const rss = (m) => m.rss;
    const youngGeneration = (m) => m.spaces.new_space ?? NaN;
    return {
      rss: per(rss, loaded, before),
      youngGeneration: per(youngGeneration, loaded, before),
      settledRss: per(rss, settled, beforeSettled),
      settledYoungGeneration: per(youngGeneration, settled, beforeSettled),
      heapUsed: settled
        ? per((m) => m.heapUsed, settled, beforeSettled)
        : per((m) => m.heapUsed, loaded, before),
      malloc: settled ? per(mallocInUse, settled, beforeSettled) : per(mallocInUse, loaded, before),
      // What closing them all did not give back, per connection: a leak shows here.
      heapLeft: (after.heapUsed - before.heapUsed) / count,
      mallocLeft: (mallocInUse(after) - mallocInUse(before)) / count,
    };
  } finally {
    server.child.kill();
  }
}

/** Self sizes in a V8 heap snapshot, by node type and constructor name. */
function heapBySite(file) {
  const snapshot = JSON.parse(readFileSync(file, 'utf8'));
  const fields = snapshot.snapshot.meta.node_fields;
  const types = snapshot.snapshot.meta.node_types[0];
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((name) => fields.indexOf(name));
  const totals = new Map();
  const { nodes, strings } = snapshot;
  for (let i = 0; i < nodes.length; i += fields.length) {
    const type = types[nodes[i + typeAt]];
    const name =
      type === 'object' || type === 'closure' || type === 'native' ? strings[nodes[i + nameAt]] : '';
    const key = `${type} ${name.slice(0, 60)}`.trim();
    const entry = totals.get(key) ?? { count: 0, bytes: 0 };
    entry.count++;
    entry.bytes += nodes[i + sizeAt];
    totals.set(key, entry);
  }
  return totals;
}

function breakdownTable(before, loaded, count) {
  const rows = [];
  for (const [key, entry] of loaded) {
    const base = before.get(key) ?? { count: 0, bytes: 0 };
    const bytes = (entry.bytes - base.bytes) / count;
    const objects = (entry.count - base.count) / count;
    if (bytes >= 4) rows.push([key, objects, bytes]);
  }
  rows.sort((a, b) => b[2] - a[2]);
  return markdownTable(
    ['V8 heap, per connection (snapshot diff)', 'objects', 'bytes'],
    rows.slice(0, 25).map(([key, objects, bytes]) => [`\`${key}\``, objects.toFixed(2), bytes.toFixed(0)]),
    { alignRight: [1, 2] },
  );
}

const median = (values) => {
  const sorted = values.filter((value) => !Number.isNaN(value)).sort((a, b) => a - b);
  return sorted.length === 0 ? NaN : sorted[Math.floor(sorted.length / 2)];
};
const bytes = (value) => (Number.isNaN(value) ? 'n/a' : formatNumber(Math.round(value)));

export async function measureMemory({ connections, runs, settle, breakdown, kinds = Object.keys(SERVERS) }) {
  const missing = kinds.filter((kind) => SERVERS[kind].requires.some((file) => !existsSync(file)));
  if (missing.length > 0)
    throw new Error(`missing for ${missing.join(', ')}: run npm run build (and npm install)`);
  const results = Object.fromEntries(kinds.map((kind) => [kind, []]));
  for (let run = 0; run < runs; run++) {
    for (const kind of kinds) {
      process.stderr.write(`memory: ${kind}, run ${run + 1}/${runs}, ${connections} connections\n`);
      results[kind].push(await measureOnce(kind, connections, settle, null));
    }
  }
  const field = (kind, name) => median(results[kind].map((result) => result[name]));
  const rows = kinds.map((kind) => [
    SERVERS[kind].name,
    bytes(field(kind, 'rss')),
    bytes(field(kind, 'youngGeneration')),
    bytes(field(kind, 'settledRss')),
    bytes(field(kind, 'settledYoungGeneration')),
    bytes(field(kind, 'heapUsed')),
    bytes(field(kind, 'malloc')),
    `${bytes(field(kind, 'heapLeft'))} / ${bytes(field(kind, 'mallocLeft'))}`,
  ]);
  let markdown = [
    `## WebSocket: memory per idle connection`,
    '',
    `${connections} connections opened by raw sockets (opening handshake only), then idle; bytes per`,
    `connection, median of ${runs} run(s). Two readings with the connections open, each after forced`,
    'full collections (`gc()`) and less a baseline taken the same way (the server idle after a warm-up',
    `of 200 connections): "after the burst", at once, and "settled", after ${settle} s idle. The`,
    "difference is mostly V8's young generation (its new space), which the burst of handshakes grows to",
    'its cap: V8 shrinks it at a full collection only when its estimate of the recent allocation rate',
    'is low, as at the settled reading (not right after the burst). Left alone, `ws` gets there only',
    "when V8's memory reducer finds it idle: it looks every 8 s, and after a burst of 10,000",
    'handshakes `ws` was shrunk about 22 s later. Ours asks V8 for a memory-reducing collection itself',
    'once a burst is over (half a second without a handshake), about a second after it, which the',
    '"at once" reading comes before (V8\'s own reducer had left ours grown for 33 s and more). V8 heap used and',
    'malloc (bytes in use by glibc malloc: libevent, the addon, napi, V8 off-heap) are from the settled',
    'reading.',
    '',
    markdownTable(
      [
        'server',
        'RSS after the burst',
        'of it young generation',
        `RSS settled (${settle} s idle)`,
        'of it young generation',
        'V8 heap used',
        'malloc',
        'left after closing all (heap / malloc)',
      ],
      rows,
      { alignRight: [1, 2, 3, 4, 5, 6, 7] },
    ),
  ].join('\n');
  if (breakdown) {
    const dir = tmpdir();
    const snapshots = {
      before: join(dir, `ws-memory-${process.pid}-before.heapsnapshot`),
      loaded: join(dir, `ws-memory-${process.pid}-loaded.heapsnapshot`),
    };
    const count = Math.min(connections, 2000);
    process.stderr.write(`memory: heap snapshots of ours with ${count} connections\n`);
    try {
      await measureOnce('ours', count, 0, snapshots);
      markdown += `\n\n${breakdownTable(heapBySite(snapshots.before), heapBySite(snapshots.loaded), count)}`;
    } finally {
      rmSync(snapshots.before, { force: true });
      rmSync(snapshots.loaded, { force: true });
    }
  }
  return { markdown };
}

export function readOptions(args = process.argv.slice(2)) {
  const { values } = parseArgs({
    args,
    strict: false,
    options: {
      // Not --connections: bench/run.mjs passes every script the same options.
      'idle-connections': { type: 'string', default: '10000' },
      runs: { type: 'string', default: '1' },
      settle: { type: 'string', default: String(DEFAULT_SETTLE_SECONDS) },
      breakdown: { type: 'boolean', default: false },
      kinds: { type: 'string' },
    },
  });
  const connections = Number(values['idle-connections']);
  const runs = Number(values.runs);
  if (!Number.isSafeInteger(connections) || connections < 1)
    throw new RangeError('--idle-connections must be a positive integer');
  if (!Number.isSafeInteger(runs) || runs < 1) throw new RangeError('--runs must be a positive integer');
  const settle = Number(values.settle);
  if (!(settle === 0 || settle >= SETTLE_MIN_SECONDS))
    throw new RangeError(`--settle must be at least ${SETTLE_MIN_SECONDS} s (or 0: no settled reading)`);
  const kinds = values.kinds === undefined ? undefined : values.kinds.split(',');
  if (kinds?.some((kind) => SERVERS[kind] === undefined))
    throw new RangeError(`--kinds: ${Object.keys(SERVERS).join(',')}`);
  return { connections, runs, settle, breakdown: values.breakdown, kinds };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { markdown } = await measureMemory(readOptions());
  process.stdout.write(`${markdown}\n`);
}
