// Channels chat benchmark: 1,000 WebSocket clients in one room (the load generator's ws-chat mode,
// text messages only), 1 and 10 of them sending, against the Channels tutorial's chat consumer
// fanning out with groupSend (a handler call per member) and with groupBroadcast (one native
// publish), on the in-memory layer and on the Redis layer with two server processes sharing the
// room, next to the raw `server.publish` relay and the npm `ws` package relaying in a JavaScript
// loop, all in one run, round-robin over --runs rounds; prints a markdown section on stdout
// (progress on stderr). Usage: node bench/channels-chat.mjs [--duration S] [--warmup S]
//   [--runs R] [--connections N] [--depth K] [--sizes 64,1024] [--senders 1,10]
// BENCH_ONLY=<regexp> keeps the servers whose name matches (ws is always kept as the baseline).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { measureServer } from './lib/measure.mjs';
import { pinning } from './lib/pinning.mjs';
import { redisServerVersion, startRedisServer } from './lib/redis-server.mjs';
import { summarizeRuns } from './lib/summary.mjs';
import { formatNumber, formatRatio, markdownTable } from './lib/table.mjs';
import { WS_NAME, buildCPrograms, formatSize, readWsOptions } from './lib/ws-bench.mjs';

const path = (relative) => fileURLToPath(new URL(relative, import.meta.url));
const CHANNELS_DIST = path('../dist/channels/index.js');
const ROOM_PATH = '/ws/chat/lobby/';
/** serve()'s default inboxSize: more layer messages waiting for one consumer close it with 1008. */
const CONSUMER_INBOX_SIZE = 64;
const REDIS_UNAVAILABLE = 'Redis layer: not available in this build';

const channelsServer = (name, fanout, layer) => ({
  name,
  script: path('servers/channels-chat.mjs'),
  args: ['--fanout', fanout, '--layer', layer],
  path: ROOM_PATH,
  redis: layer === 'redis',
  requires: [path('../build/Release/bufferevent.node'), CHANNELS_DIST],
  hint: 'build the addon and compile the TypeScript first: npm run build',
});

const SERVERS = [
  channelsServer('consumers + groupSend (in-memory layer)', 'group-send', 'memory'),
  channelsServer('consumers + groupBroadcast (in-memory layer)', 'broadcast', 'memory'),
  {
    name: 'raw server.publish',
    script: path('servers/ws-echo-chat.mjs'),
    args: [],
    path: '/chat',
    requires: [path('../build/Release/bufferevent.node'), path('../dist/websocket/index.js')],
    hint: 'build the addon and compile the TypeScript first: npm run build',
  },
  {
    name: WS_NAME,
    script: path('servers/ws-echo-chat-ws.mjs'),
    args: [],
    path: '/chat',
    requires: [path('../node_modules/ws/package.json')],
    hint: 'npm install',
  },
  channelsServer('consumers + groupSend (Redis layer, 2 processes)', 'group-send', 'redis'),
  channelsServer('consumers + groupBroadcast (Redis layer, 2 processes)', 'broadcast', 'redis'),
];

const HEADERS = [
  'message',
  'senders',
  'server',
  'deliveries/s',
  'vs ws',
  'deliveries per server CPU-s',
  'p50 ms',
  'p99 ms',
  'server CPU %',
  'Redis CPU %',
  'server RSS MB',
  'loadgen CPU %',
];

function readSenderCounts() {
  const { values } = parseArgs({ strict: false, options: { senders: { type: 'string', default: '1,10' } } });
  return String(values.senders)
    .split(',')
    .map((text) => {
      const count = Number(text.trim());
      if (!Number.isSafeInteger(count) || count < 1) {
        process.stderr.write(`--senders must be positive integers, got '${values.senders}'\n`);
        process.exit(64);
      }
      return count;
    });
}

/** Why the Redis rows cannot run here, or null when they can. */
async function redisUnavailableReason() {
  if (!existsSync(CHANNELS_DIST)) return null; // the rows are skipped as missing files anyway
  const channels = await import(CHANNELS_DIST);
  if (typeof channels.RedisChannelLayer !== 'function')
    return `${REDIS_UNAVAILABLE} (no RedisChannelLayer export)`;
  if (redisServerVersion() === null)
    return 'Redis layer: no redis-server on the PATH (Debian: apt-get install -y redis-server)';
  return null;
}

/** BENCH_ONLY filter and missing files, as in the other WebSocket benchmarks. */
function presentServers(notes) {
  const only = process.env.BENCH_ONLY ? new RegExp(process.env.BENCH_ONLY) : null;
  return SERVERS.filter((server) => !only || only.test(server.name) || server.name === WS_NAME).filter(
    (server) => {
      const missing = server.requires.filter((file) => !existsSync(file));
      if (missing.length === 0) return true;
      const files = missing.map((file) => file.replace(path('../'), '')).join(', ');
      notes.push(`${server.name}: skipped, missing ${files} (${server.hint})`);
      return false;
    },
  );
}

/** One run of one server; a Redis row gets a fresh redis-server and two server processes. */
async function measureOnce(server, loadgenOptions) {
  const spec = { name: server.name, command: process.execPath, args: [server.script, ...server.args] };
  if (!server.redis) return measureServer(spec, { ...loadgenOptions, path: server.path });
  let redis;
  try {
    redis = await startRedisServer();
  } catch (error) {
    return { name: server.name, error: error.message };
  }
  try {
    return await measureServer(
      { ...spec, args: [...spec.args, '--redis-url', redis.url], instances: 2, helperPids: [redis.pid] },
      { ...loadgenOptions, path: server.path },
    );
  } finally {
    await redis.stop();
  }
}

const deliveriesPerSecond = (measurement) => measurement.loadgen.messages_per_s;

/**
 * Deliveries per CPU second of the server side (servers plus redis-server): the cost of a delivery,
 * which holds up better than deliveries/s when other processes take the server's core.
 */
function perCpuSecond(measurement) {
  const cpuPercent = (measurement.serverCpuPercent ?? NaN) + (measurement.helperCpuPercent ?? 0);
  return cpuPercent > 0 ? deliveriesPerSecond(measurement) / (cpuPercent / 100) : null;
}

function tableRow(size, senders, summary, wsDeliveries, windowMs) {
  const lead = [formatSize(size), String(senders), summary.name];
  if (summary.unavailable) return [...lead, summary.unavailable, ...HEADERS.slice(4).map(() => '–')];
  if (summary.error) return [...lead, 'failed', ...HEADERS.slice(4).map(() => '–')];
  const m = summary.median;
  // Latency counts only messages that reached every client inside the window: with none, it is
  // longer than the window (the generator reports 0 then).
  const completed = m.loadgen.broadcasts > 0;
  const latency = (us) => (completed ? formatNumber(us / 1000, 1) : `> ${formatNumber(windowMs, 0)}`);
  return [
    ...lead,
    formatNumber(deliveriesPerSecond(m)),
    formatRatio(deliveriesPerSecond(m), wsDeliveries),
    formatNumber(perCpuSecond(m)),
    latency(m.latencyUs.p50),
    latency(m.latencyUs.p99),
    formatNumber(m.serverCpuPercent),
    formatNumber(m.helperCpuPercent),
    formatNumber(m.serverRssMiB, 1),
    formatNumber(m.loadgenCpuPercent),
  ];
}

async function main() {
  const options = readWsOptions({ sizes: [64, 1024], connections: 1000, depth: 4 });
  const { runs, sizes, duration, warmup, connections, depth } = options;
  const senderCounts = readSenderCounts();
  const mostInFlight = Math.max(...senderCounts) * depth;
  if (mostInFlight > CONSUMER_INBOX_SIZE) {
    process.stderr.write(
      `--senders x --depth is ${mostInFlight}: more than a consumer's inbox (${CONSUMER_INBOX_SIZE}) ` +
        'could be waiting at one member, which serve() answers by closing it; lower one of them\n',
    );
    process.exit(64);
  }
  buildCPrograms();
  const notes = [];
  const servers = presentServers(notes);
  const redisReason = servers.some((server) => server.redis) ? await redisUnavailableReason() : null;
  if (redisReason) notes.push(redisReason);

  const sections = [];
  for (const size of sizes) {
    for (const senders of senderCounts) {
      const loadgenOptions = {
        mode: 'ws-chat',
        duration,
        warmup,
        connections,
        depth,
        senders,
        textOnly: true,
        chunkSize: size,
      };
      const runsByServer = new Map(servers.map((server) => [server.name, []]));
      for (let round = 1; round <= runs; round++) {
        for (const server of servers) {
          if (server.redis && redisReason) continue;
          process.stderr.write(`[${formatSize(size)}, ${senders} sender(s), run ${round}/${runs}] `);
          runsByServer.get(server.name).push(await measureOnce(server, loadgenOptions));
        }
      }
      const summaries = servers.map((server) =>
        server.redis && redisReason
          ? { name: server.name, unavailable: REDIS_UNAVAILABLE, notes: [] }
          : summarizeRuns(server.name, runsByServer.get(server.name)),
      );
      sections.push({ size, senders, summaries });
    }
  }

  const rows = sections.flatMap(({ size, senders, summaries }) => {
    const ws = summaries.find((s) => s.name === WS_NAME && s.median);
    return summaries.map((summary) =>
      tableRow(size, senders, summary, ws && deliveriesPerSecond(ws.median), duration * 1000),
    );
  });
  const output = [
    `### Channels chat: ${connections} clients in one room`,
    '',
    `${connections} clients in one room (the tutorial's \`${ROOM_PATH}\` route for the consumers, \`/chat\` ` +
      'for the raw relays); every message reaches every client, sender included. The first ' +
      `${senderCounts.join(' or ')} clients send, each keeping ${depth} text messages in flight and sending the next when the oldest ` +
      `has reached every client (so at most senders × ${depth} × ${connections} deliveries are pending). ` +
      `${duration} s measured after ${warmup} s of warm-up; every delivery verified (bytes, type, each ` +
      `sender's order); ${runs} run${runs > 1 ? 's' : ''} per row, round-robin, the median run by ` +
      'throughput shown. A delivery is one message arriving at one client; latency runs from a message ' +
      'queued for writing to its last client having it. The Redis rows run a fresh redis-server and two ' +
      'server processes, odd-numbered clients on the second, so every message crosses Redis; their ' +
      "server CPU and RSS are the sum of both processes, Redis CPU is redis-server's. Deliveries per " +
      "server CPU-s divides deliveries/s by the server side's CPU (servers and redis-server): what a " +
      'delivery costs, steadier than deliveries/s when other processes share the core. CPU % is of one ' +
      'core over the measured window (all server-side processes share one core; a loadgen near 100% ' +
      'means the generator is the limit); RSS is the peak (VmHWM), in MiB.',
    '',
    markdownTable(HEADERS, rows, { alignRight: [1, 3, 4, 5, 6, 7, 8, 9, 10, 11] }),
    '',
    `- ${pinning().note}; redis-server, when used, on the server's CPU.`,
    ...sections.flatMap(({ size, senders, summaries }) =>
      summaries
        .flatMap((summary) => summary.notes)
        .map((note) => `- ${formatSize(size)}, ${senders} sender(s), ${note}`),
    ),
    ...notes.map((note) => `- ${note}`),
  ];
  process.stdout.write(`${output.join('\n')}\n`);
  if (sections.some(({ summaries }) => summaries.some((summary) => summary.error))) process.exitCode = 1;
}

await main();
