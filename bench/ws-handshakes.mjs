// WebSocket opening-handshake benchmark: N clients each connect, send an upgrade request, read
// the 101 and close the TCP connection, over and over, against four servers in the same run
// (bench/handshakes/server.mjs: our native listener, Node http + handleUpgrade, native listener +
// httpFallback, npm ws); then plain HTTP GETs through httpFallback against a plain Node
// http.Server, one request per connection and keep-alive. The client is bench/handshakes/client.c
// (raw epoll, pinned to the other CPU). Round-robin over --runs rounds; prints a markdown section
// on stdout (progress on stderr), as every script bench/run.mjs runs. Usage:
// node bench/ws-handshakes.mjs [--duration S] [--warmup S] [--runs R] [--connections N]
//   [--requests K]   (K: GETs per keep-alive connection)
// Programmatic use: `measureHandshakes(options)` resolves with { markdown, failed }.
import { fileURLToPath, pathToFileURL } from 'node:url';
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';

import { buildClient, measureRun } from './handshakes/measure.mjs';
import { pinning } from './lib/pinning.mjs';
import { summarizeRuns } from './lib/summary.mjs';
import { formatNumber, formatRatio, markdownTable } from './lib/table.mjs';

const path = (relative) => fileURLToPath(new URL(relative, import.meta.url));
const SERVER_SCRIPT = path('handshakes/server.mjs');
const OURS = [path('../build/Release/bufferevent.node'), path('../dist/websocket/index.js')];
const OURS_HINT = 'build the addon and compile the TypeScript first: npm run build';

/** The servers, by the kind server.mjs takes. */
export const SERVERS = {
  native: { name: 'ours, native listener `{ port }`', requires: OURS, hint: OURS_HINT },
  'handle-upgrade': { name: 'ours, Node http + `handleUpgrade`', requires: OURS, hint: OURS_HINT },
  fallback: { name: 'ours, native listener + `httpFallback`', requires: OURS, hint: OURS_HINT },
  ws: { name: 'ws `{ port }`', requires: [path('../node_modules/ws/package.json')], hint: 'npm install' },
  'node-http': { name: 'Node `http.Server`', requires: [] },
};

/** What is measured: each workload runs its servers round-robin; `peer` is the ratio's reference. */
export function workloads(requestsPerConnection) {
  return [
    {
      title: 'WebSocket handshake',
      client: { mode: 'ws', requests: 1 },
      kinds: ['native', 'handle-upgrade', 'fallback', 'ws'],
      peer: 'ws',
    },
    {
      title: 'HTTP GET, new connection each',
      client: { mode: 'http', requests: 1 },
      kinds: ['fallback', 'node-http'],
      peer: 'node-http',
    },
    {
      title: `HTTP GET, ${requestsPerConnection} per keep-alive connection`,
      client: { mode: 'http', requests: requestsPerConnection },
      kinds: ['fallback', 'node-http'],
      peer: 'node-http',
    },
  ];
}

/** Not strict: bench/run.mjs passes every script the same options, some meant for others. */
export function readOptions(args = process.argv.slice(2)) {
  const { values } = parseArgs({
    args,
    strict: false,
    options: {
      duration: { type: 'string', default: '3' },
      warmup: { type: 'string', default: '1' },
      runs: { type: 'string', default: '3' },
      connections: { type: 'string', default: '50' },
      requests: { type: 'string', default: '10' },
    },
  });
  const number = (name, { integer = false, zeroAllowed = false } = {}) => {
    const value = Number(values[name]);
    if (!(value > 0 || (zeroAllowed && value === 0)) || (integer && !Number.isSafeInteger(value))) {
      throw new RangeError(
        `--${name} must be a positive ${integer ? 'integer' : 'number'}, got '${values[name]}'`,
      );
    }
    return value;
  };
  return {
    duration: number('duration'),
    warmup: number('warmup', { zeroAllowed: true }),
    runs: number('runs', { integer: true }),
    connections: number('connections', { integer: true }),
    requests: number('requests', { integer: true }),
  };
}

function tableRow(title, kind, summary, peerSummary) {
  if (summary.error) return [title, SERVERS[kind].name, 'failed', '–', '–', '–', '–', '–', '–'];
  const m = summary.median;
  let rate = formatNumber(m.perSecond);
  if (summary.maxMbPerSecond > summary.minMbPerSecond)
    rate += ` (${formatNumber(summary.minMbPerSecond)}–${formatNumber(summary.maxMbPerSecond)})`;
  const peerRate = peerSummary && !peerSummary.error ? peerSummary.median.perSecond : undefined;
  return [
    title,
    SERVERS[kind].name,
    rate,
    formatRatio(m.perSecond, peerRate),
    formatNumber(m.latencyUs.p50 / 1000, 2),
    formatNumber(m.latencyUs.p99 / 1000, 2),
    formatNumber(m.serverCpuPercent),
    formatNumber(m.serverRssMiB, 1),
    formatNumber(m.clientCpuPercent),
  ];
}

/**
 * Runs every workload and returns the markdown section. BENCH_ONLY=<regexp> keeps the servers
 * whose kind or name matches (each workload's peer is always kept).
 * @param {ReturnType<typeof readOptions>} options
 * @returns {Promise<{ markdown: string, failed: boolean }>}
 */
export async function measureHandshakes(options) {
  const { duration, warmup, runs, connections, requests } = options;
  if (!buildClient())
    return { markdown: '### WebSocket handshakes\n\nThe client did not compile.', failed: true };
  const only = process.env.BENCH_ONLY ? new RegExp(process.env.BENCH_ONLY) : null;
  const notes = [];
  const skipped = new Set();
  for (const [kind, server] of Object.entries(SERVERS)) {
    const missing = server.requires.filter((file) => !existsSync(file));
    if (missing.length === 0) continue;
    skipped.add(kind);
    const files = missing.map((file) => file.replace(path('../'), '')).join(', ');
    notes.push(`${server.name}: skipped, missing ${files} (${server.hint})`);
  }

  const rows = [];
  let failed = false;
  for (const workload of workloads(requests)) {
    const kinds = workload.kinds.filter(
      (kind) =>
        !skipped.has(kind) &&
        (!only || kind === workload.peer || only.test(kind) || only.test(SERVERS[kind].name)),
    );
    const runsByKind = new Map(kinds.map((kind) => [kind, []]));
    for (let round = 1; round <= runs; round++) {
      for (const kind of kinds) {
        process.stderr.write(`[${workload.title}, run ${round}/${runs}] `);
        const spec = { name: SERVERS[kind].name, command: process.execPath, args: [SERVER_SCRIPT, kind] };
        const client = { ...workload.client, connections, duration, warmup };
        runsByKind.get(kind).push(await measureRun(spec, client));
      }
    }
    // summarizeRuns ranks runs by `mbPerSecond`; here the rate is handshakes or requests per second.
    const summaries = new Map(
      kinds.map((kind) => [
        kind,
        summarizeRuns(
          SERVERS[kind].name,
          runsByKind.get(kind).map((run) => ({ ...run, mbPerSecond: run.perSecond })),
        ),
      ]),
    );
    for (const kind of kinds) {
      const summary = summaries.get(kind);
      if (summary.error) failed = true;
      rows.push(tableRow(workload.title, kind, summary, summaries.get(workload.peer)));
      notes.push(...summary.notes.map((note) => `${workload.title}, ${note}`));
    }
  }

  const headers = [
    'workload',
    'server',
    'per second',
    'vs peer',
    'p50 ms',
    'p99 ms',
    'server CPU %',
    'server RSS MB',
    'client CPU %',
  ];
  const markdown = [
    '### WebSocket handshakes',
    '',
    `${connections} clients on 127.0.0.1, each over and over: connect, send one request, read the ` +
      'whole answer, close the TCP connection (the client closes first). A WebSocket handshake is ' +
      'a GET with `Upgrade: websocket` answered by a 101 whose `Sec-WebSocket-Accept` is checked; ' +
      'the server opens the WebSocket and sees it closed (1006). The HTTP rows are a GET answered ' +
      'by a 6-byte 200 from a Node `http.Server` — through `httpFallback` (the native listener ' +
      `reads the head, dups the fd, hands a new \`net.Socket\` to the server) or directly — once per ` +
      `connection, and ${requests} per keep-alive connection. The peer (ratio's reference) is ws for ` +
      'handshakes and the plain Node `http.Server` for HTTP; ws `{ port }` is ws on its own Node ' +
      `http server. ${duration} s measured after ${warmup} s of warm-up; ${runs} ` +
      `run${runs > 1 ? 's' : ''} per server, round-robin, the median run by rate shown (range in ` +
      'parentheses). Latency is from `connect()` (or, keep-alive, from the previous answer) to the ' +
      "answer's last byte; CPU % is of one core over the measured window (a client near 100% would " +
      'mean the client, not the server, is the limit); RSS is the peak (VmHWM), in MiB. The client ' +
      'is `bench/handshakes/client.c` (raw epoll, fixed request bytes).',
    '',
    markdownTable(headers, rows, { alignRight: [2, 3, 4, 5, 6, 7, 8] }),
    '',
    `- ${pinning().note}.`,
    ...notes.map((note) => `- ${note}`),
  ].join('\n');
  return { markdown, failed };
}

async function main() {
  let options;
  try {
    options = readOptions();
  } catch (error) {
    process.stderr.write(`${error.message}\n`);
    process.exit(64);
  }
  const { markdown, failed } = await measureHandshakes(options);
  process.stdout.write(`${markdown}\n`);
  if (failed) process.exitCode = 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
