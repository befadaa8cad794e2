// Raw TCP echo benchmark: the same load-generator run against each echo server
// (binding variants, node:net, plain C libevent), round-robin over --runs rounds;
// prints a markdown table on stdout (progress on stderr). Usage:
// node bench/tcp-echo.mjs [--duration S] [--connections N] [--runs R]
//   [--depth K] [--chunk-size BYTES] [--warmup S]
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { LOADGEN_PATH } from './lib/loadgen.mjs';
import { measureServer } from './lib/measure.mjs';
import { pinning } from './lib/pinning.mjs';
import { summarizeRuns } from './lib/summary.mjs';
import { formatNumber, formatRatio, markdownTable } from './lib/table.mjs';
import { numberOptions } from './lib/number-option.mjs';

const path = (relative) => fileURLToPath(new URL(relative, import.meta.url));
const NET_NAME = 'node:net';
const C_NAME = 'C libevent echo';
const BINDING_FILES = [path('../build/Release/bufferevent.node'), path('../dist/index.js')];
const BINDING_HINT = 'build the addon and compile the TypeScript first: npm run build';
const BINDING_SCRIPT = 'servers/binding-echo.mjs';

const SERVERS = [
  { name: 'binding', script: BINDING_SCRIPT, args: [], requires: BINDING_FILES, hint: BINDING_HINT },
  {
    name: 'binding --max-read 65536',
    script: BINDING_SCRIPT,
    args: ['--max-read', '65536'],
    requires: BINDING_FILES,
    hint: BINDING_HINT,
  },
  {
    name: 'binding --max-read 65536 --write-through',
    script: BINDING_SCRIPT,
    args: ['--max-read', '65536', '--write-through'],
    requires: BINDING_FILES,
    hint: BINDING_HINT,
  },
  { name: NET_NAME, script: 'servers/net-echo.mjs', args: [], requires: [] },
  {
    name: C_NAME,
    command: path('build/c-echo'),
    args: [],
    requires: [path('build/c-echo')],
    hint: 'bench/build.sh failed',
  },
];

function readOptions() {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '5' },
      connections: { type: 'string', default: '100' },
      runs: { type: 'string', default: '3' },
      depth: { type: 'string', default: '4' },
      'chunk-size': { type: 'string', default: '4096' },
      warmup: { type: 'string', default: '1' },
    },
  });
  const number = numberOptions(values);
  return {
    runs: number('runs', { integer: true }),
    loadgen: {
      mode: 'tcp-echo',
      duration: number('duration'),
      connections: number('connections', { integer: true }),
      depth: number('depth', { integer: true }),
      chunkSize: number('chunk-size', { integer: true }),
      warmup: number('warmup', { zeroAllowed: true }),
    },
  };
}

/** Builds the C programs; a failed build leaves the missing ones to be skipped. */
function buildCPrograms() {
  try {
    execFileSync(path('build.sh'), { stdio: ['ignore', process.stderr, process.stderr] });
  } catch {
    process.stderr.write('bench/build.sh failed\n');
  }
}

function specOf(server) {
  return server.script
    ? { name: server.name, command: process.execPath, args: [path(server.script), ...server.args] }
    : { name: server.name, command: server.command, args: server.args };
}

function tableRow(summary, netSpeed, cSpeed) {
  if (summary.error) return [summary.name, 'failed', '–', '–', '–', '–', '–', '–', '–'];
  const m = summary.median;
  let speed = formatNumber(m.mbPerSecond, 1);
  if (summary.maxMbPerSecond > summary.minMbPerSecond)
    speed += ` (${formatNumber(summary.minMbPerSecond, 0)}–${formatNumber(summary.maxMbPerSecond, 0)})`;
  return [
    summary.name,
    speed,
    formatRatio(m.mbPerSecond, netSpeed),
    formatRatio(m.mbPerSecond, cSpeed),
    formatNumber(m.latencyUs.p50),
    formatNumber(m.latencyUs.p99),
    formatNumber(m.serverCpuPercent),
    formatNumber(m.serverRssMiB, 1),
    formatNumber(m.loadgenCpuPercent),
  ];
}

async function main() {
  const { runs, loadgen } = readOptions();
  buildCPrograms();
  if (!existsSync(LOADGEN_PATH)) {
    process.stderr.write(`no load generator at ${LOADGEN_PATH}: run bench/build.sh\n`);
    process.exit(1);
  }

  const notes = [];
  // BENCH_ONLY=<regexp> keeps the servers whose name matches (node:net is always kept as the baseline).
  const only = process.env.BENCH_ONLY ? new RegExp(process.env.BENCH_ONLY) : null;
  const present = SERVERS.filter(
    (server) => !only || only.test(server.name) || server.name === NET_NAME,
  ).filter((server) => {
    const missing = server.requires.filter((file) => !existsSync(file));
    if (missing.length === 0) return true;
    const files = missing.map((file) => file.replace(path('../'), '')).join(', ');
    notes.push(`${server.name}: skipped, missing ${files} (${server.hint})`);
    return false;
  });
  // Round-robin, so slow drifts in machine load touch every server alike.
  const runsByServer = new Map(present.map((server) => [server.name, []]));
  for (let round = 1; round <= runs; round++) {
    for (const server of present) {
      process.stderr.write(`[run ${round}/${runs}] `);
      runsByServer.get(server.name).push(await measureServer(specOf(server), loadgen));
    }
  }

  const summaries = present.map((server) => summarizeRuns(server.name, runsByServer.get(server.name)));
  const speedOf = (name) => summaries.find((s) => s.name === name && !s.error)?.median.mbPerSecond;
  const netSpeed = speedOf(NET_NAME);
  const cSpeed = speedOf(C_NAME);
  const headers = [
    'server',
    'MB/s',
    'vs node:net',
    'vs C echo',
    'p50 µs',
    'p99 µs',
    'server CPU %',
    'server RSS MB',
    'loadgen CPU %',
  ];
  const rows = summaries.map((summary) => tableRow(summary, netSpeed, cSpeed));
  const { connections, depth, chunkSize, duration, warmup } = loadgen;
  const output = [
    '### Raw TCP echo',
    '',
    `${connections} connections, each keeping ${depth} chunks of ${chunkSize} bytes in flight; ` +
      `${duration} s measured after ${warmup} s of warm-up; every echoed byte verified; ` +
      `${runs} run${runs > 1 ? 's' : ''} per server, round-robin, the median run by MB/s shown ` +
      '(range in parentheses). MB/s counts echoed bytes (10^6 bytes); latency is per chunk, from ' +
      'queued for writing to its last byte echoed; CPU % is of one core over the measured window ' +
      '(a loadgen near 100% means the generator, not the server, may be the limit); RSS is the peak ' +
      '(VmHWM), in MiB.',
    '',
    markdownTable(headers, rows, { alignRight: [1, 2, 3, 4, 5, 6, 7, 8] }),
    '',
    `- ${pinning().note}.`,
    ...summaries.flatMap((summary) => summary.notes).map((note) => `- ${note}`),
    ...notes.map((note) => `- ${note}`),
  ];
  process.stdout.write(`${output.join('\n')}\n`);
  if (summaries.some((summary) => summary.error)) process.exitCode = 1;
}

await main();
