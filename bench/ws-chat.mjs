// WebSocket chat (broadcast) benchmark: the same load-generator run (ws-chat
// mode) against our WebSocketServer and the npm `ws` package, both serving
// servers/ws-echo-chat-app.mjs, at each message size, round-robin over --runs
// rounds; prints a markdown section on stdout (progress on stderr). Usage:
// node bench/ws-chat.mjs [--duration S] [--warmup S] [--runs R]
//   [--connections N] [--depth K] [--sizes 64,4096]
import { pinning } from './lib/pinning.mjs';
import { formatNumber, formatRatio, markdownTable } from './lib/table.mjs';
import {
  WS_NAME,
  buildCPrograms,
  formatSize,
  measureAllSizes,
  presentServers,
  readWsOptions,
} from './lib/ws-bench.mjs';

const HEADERS = [
  'message',
  'server',
  'deliveries/s',
  'MB/s delivered',
  'vs ws',
  'p50 ms, all clients',
  'p99 ms, all clients',
  'p50 ms, per delivery',
  'server CPU %',
  'server RSS MB',
  'loadgen CPU %',
];

const deliveriesPerSecond = (measurement) => measurement.loadgen.messages_per_s;

function tableRow(size, summary, wsDeliveries) {
  if (summary.error) return [formatSize(size), summary.name, 'failed', ...HEADERS.slice(3).map(() => '–')];
  const m = summary.median;
  let speed = formatNumber(m.mbPerSecond, 1);
  if (summary.maxMbPerSecond > summary.minMbPerSecond)
    speed += ` (${formatNumber(summary.minMbPerSecond, 1)}–${formatNumber(summary.maxMbPerSecond, 1)})`;
  return [
    formatSize(size),
    summary.name,
    formatNumber(deliveriesPerSecond(m)),
    speed,
    formatRatio(deliveriesPerSecond(m), wsDeliveries),
    formatNumber(m.latencyUs.p50 / 1000, 2),
    formatNumber(m.latencyUs.p99 / 1000, 2),
    formatNumber(m.loadgen.delivery_latency_us.p50 / 1000, 2),
    formatNumber(m.serverCpuPercent),
    formatNumber(m.serverRssMiB, 1),
    formatNumber(m.loadgenCpuPercent),
  ];
}

async function main() {
  const options = readWsOptions({ sizes: [64, 4096], connections: 100, depth: 4 });
  const { runs, sizes, duration, warmup, connections, depth } = options;
  buildCPrograms();
  const notes = [];
  const servers = presentServers(notes);
  const results = await measureAllSizes(servers, options, (size) => ({
    mode: 'ws-chat',
    duration,
    warmup,
    connections,
    depth,
    chunkSize: size,
  }));

  const rows = results.flatMap(({ size, summaries }) => {
    const ws = summaries.find((s) => s.name === WS_NAME && !s.error);
    return summaries.map((summary) => tableRow(size, summary, ws && deliveriesPerSecond(ws.median)));
  });
  const allSummaries = results.flatMap(({ summaries }) => summaries);
  // The generator's default; bench/lib/loadgen.mjs passes no --senders.
  const senders = allSummaries.find((s) => !s.error)?.median.loadgen.senders ?? '?';
  const output = [
    '### WebSocket chat (broadcast)',
    '',
    `${connections} clients on \`/chat\`; the server relays every message to every client, sender ` +
      `included. ${senders} of the clients send, each keeping ${depth} messages in flight (alternately ` +
      'binary and text, masked frames) and sending the next when the oldest has reached every client. ' +
      `${duration} s measured after ${warmup} s of warm-up; every delivery verified (payload bytes, type, ` +
      `and each sender's order: no loss, no repeat); ${runs} run${runs > 1 ? 's' : ''} per server and ` +
      'size, round-robin, the median run by throughput shown (MB/s range in parentheses). Both servers ' +
      'run the same script (`bench/servers/ws-echo-chat-app.mjs`, `perMessageDeflate: false`); ours ' +
      'relays with one native `wss.publish` per message, `ws` with a JavaScript loop over its clients. A delivery ' +
      'is one message arriving at one client; MB/s counts delivered payload bytes (10^6); "all clients" ' +
      'latency runs from a message\'s frame queued for writing to its last client having it, "per ' +
      'delivery" to each client having it; CPU % is of one core over the measured window; RSS is the ' +
      'peak (VmHWM), in MiB.',
    '',
    markdownTable(HEADERS, rows, { alignRight: [2, 3, 4, 5, 6, 7, 8, 9, 10] }),
    '',
    `- ${pinning().note}.`,
    ...results.flatMap(({ size, summaries }) =>
      summaries.flatMap((summary) => summary.notes).map((note) => `- ${formatSize(size)}, ${note}`),
    ),
    ...notes.map((note) => `- ${note}`),
  ];
  process.stdout.write(`${output.join('\n')}\n`);
  if (allSummaries.some((summary) => summary.error)) process.exitCode = 1;
}

await main();
