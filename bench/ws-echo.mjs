// WebSocket echo benchmark: the same load-generator run (ws-echo mode) against
// our WebSocketServer and the npm `ws` package, both serving
// servers/ws-echo-chat-app.mjs, at each message size, round-robin over --runs
// rounds; prints a markdown section on stdout (progress on stderr). Usage:
// node bench/ws-echo.mjs [--duration S] [--warmup S] [--runs R]
//   [--connections N] [--depth K] [--sizes 64,4096,65536]
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
  'messages/s',
  'MB/s',
  'vs ws',
  'p50 ms',
  'p99 ms',
  'server CPU %',
  'server RSS MB',
  'loadgen CPU %',
];

function tableRow(size, summary, wsMessagesPerSecond) {
  if (summary.error) return [formatSize(size), summary.name, 'failed', ...HEADERS.slice(3).map(() => '–')];
  const m = summary.median;
  let speed = formatNumber(m.mbPerSecond, 1);
  if (summary.maxMbPerSecond > summary.minMbPerSecond)
    speed += ` (${formatNumber(summary.minMbPerSecond, 1)}–${formatNumber(summary.maxMbPerSecond, 1)})`;
  return [
    formatSize(size),
    summary.name,
    formatNumber(m.loadgen.messages_per_s),
    speed,
    formatRatio(m.loadgen.messages_per_s, wsMessagesPerSecond),
    formatNumber(m.latencyUs.p50 / 1000, 2),
    formatNumber(m.latencyUs.p99 / 1000, 2),
    formatNumber(m.serverCpuPercent),
    formatNumber(m.serverRssMiB, 1),
    formatNumber(m.loadgenCpuPercent),
  ];
}

async function main() {
  const options = readWsOptions({ sizes: [64, 4096, 65536], connections: 100, depth: 4 });
  const { runs, sizes, duration, warmup, connections, depth } = options;
  buildCPrograms();
  const notes = [];
  const servers = presentServers(notes);
  const results = await measureAllSizes(servers, options, (size) => ({
    mode: 'ws-echo',
    duration,
    warmup,
    connections,
    depth,
    chunkSize: size,
  }));

  const rows = results.flatMap(({ size, summaries }) => {
    const wsSpeed = summaries.find((s) => s.name === WS_NAME && !s.error)?.median.loadgen.messages_per_s;
    return summaries.map((summary) => tableRow(size, summary, wsSpeed));
  });
  const allSummaries = results.flatMap(({ summaries }) => summaries);
  const output = [
    '### WebSocket echo',
    '',
    `${connections} connections to \`/echo\`, each keeping ${depth} messages in flight, alternately ` +
      'binary and text, one masked frame each (a fresh mask key per frame); ' +
      `${duration} s measured after ${warmup} s of warm-up; every echoed payload byte and message type ` +
      `verified; ${runs} run${runs > 1 ? 's' : ''} per server and size, round-robin, the median run by ` +
      'throughput shown (MB/s range in parentheses). Both servers run the same script ' +
      '(`bench/servers/ws-echo-chat-app.mjs`, `perMessageDeflate: false`). MB/s counts echoed payload ' +
      'bytes (10^6), frame headers left out; latency is per message, from its frame queued for writing ' +
      'to its last byte echoed; CPU % is of one core over the measured window; RSS is the peak (VmHWM), ' +
      'in MiB.',
    '',
    markdownTable(HEADERS, rows, { alignRight: [2, 3, 4, 5, 6, 7, 8, 9] }),
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
