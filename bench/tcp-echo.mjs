// Raw TCP echo benchmark: the same load-generator run against each echo server
// (binding variants, node:net, plain C libevent) in one go; prints a markdown
// table on stdout (progress on stderr). Usage: node bench/tcp-echo.mjs
// [--duration S] [--connections N] [--depth K] [--chunk-size BYTES] [--warmup S]
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { LOADGEN_PATH } from './lib/loadgen.mjs';
import { measureServer } from './lib/measure.mjs';
import { pinning } from './lib/pinning.mjs';
import { formatNumber, formatRatio, markdownTable } from './lib/table.mjs';

const path = (relative) => fileURLToPath(new URL(relative, import.meta.url));
const NET_NAME = 'node:net';
const C_NAME = 'C libevent echo';
const BINDING_FILES = [path('../build/Release/bufferevent.node'), path('../dist/index.js')];
const BINDING_HINT = 'build the addon and compile the TypeScript first';

const SERVERS = [
  {
    name: 'binding',
    script: 'servers/binding-echo.mjs',
    args: [],
    requires: BINDING_FILES,
    hint: BINDING_HINT,
  },
  {
    name: 'binding --max-read 65536',
    script: 'servers/binding-echo.mjs',
    args: ['--max-read', '65536'],
    requires: BINDING_FILES,
    hint: BINDING_HINT,
  },
  {
    name: 'binding --max-read 65536 --write-through',
    script: 'servers/binding-echo.mjs',
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
    hint: 'run bench/build.sh',
  },
];

function readOptions() {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '5' },
      connections: { type: 'string', default: '100' },
      depth: { type: 'string', default: '4' },
      'chunk-size': { type: 'string', default: '4096' },
      warmup: { type: 'string', default: '1' },
    },
  });
  const number = (name, integer) => {
    const value = Number(values[name]);
    if (!(value > 0) || (integer && !Number.isSafeInteger(value))) {
      process.stderr.write(`--${name} must be a positive ${integer ? 'integer' : 'number'}\n`);
      process.exit(64);
    }
    return value;
  };
  return {
    mode: 'tcp-echo',
    duration: number('duration', false),
    connections: number('connections', true),
    depth: number('depth', true),
    chunkSize: number('chunk-size', true),
    warmup: Number(values.warmup) >= 0 ? Number(values.warmup) : 1,
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

/** Other load above these levels makes a row's numbers suspect; say so under the table. */
const OTHER_CPU_LIMIT_PERCENT = 10;
const STEAL_CPU_LIMIT_PERCENT = 5;

function disturbanceNotes(m) {
  const notes = [];
  if (m.otherCpuPercent > OTHER_CPU_LIMIT_PERCENT)
    notes.push(
      `${m.name}: other processes used ${m.otherCpuPercent.toFixed(0)}% CPU during the run: numbers disturbed`,
    );
  if (m.stealCpuPercent > STEAL_CPU_LIMIT_PERCENT)
    notes.push(
      `${m.name}: the hypervisor stole ${m.stealCpuPercent.toFixed(0)}% CPU during the run: numbers disturbed`,
    );
  return notes;
}

async function main() {
  const options = readOptions();
  buildCPrograms();
  if (!existsSync(LOADGEN_PATH)) {
    process.stderr.write(`no load generator at ${LOADGEN_PATH}: run bench/build.sh\n`);
    process.exit(1);
  }

  const measurements = [];
  const notes = [];
  for (const server of SERVERS) {
    const missing = server.requires.filter((file) => !existsSync(file));
    if (missing.length > 0) {
      notes.push(
        `${server.name}: skipped, missing ${missing.map((f) => f.replace(path('../'), '')).join(', ')} (${server.hint})`,
      );
      continue;
    }
    const spec = server.script
      ? { name: server.name, command: process.execPath, args: [path(server.script), ...server.args] }
      : { name: server.name, command: server.command, args: server.args };
    const measurement = await measureServer(spec, options);
    if (measurement.error) notes.push(`${server.name}: FAILED: ${measurement.error}`);
    else notes.push(...disturbanceNotes(measurement));
    measurements.push(measurement);
  }

  const speedOf = (name) => measurements.find((m) => m.name === name && !m.error)?.mbPerSecond;
  const netSpeed = speedOf(NET_NAME);
  const cSpeed = speedOf(C_NAME);
  const rows = measurements.map((m) =>
    m.error
      ? [m.name, 'failed', '–', '–', '–', '–', '–', '–', '–']
      : [
          m.name,
          formatNumber(m.mbPerSecond, 1),
          formatRatio(m.mbPerSecond, netSpeed),
          formatRatio(m.mbPerSecond, cSpeed),
          formatNumber(m.latencyUs.p50),
          formatNumber(m.latencyUs.p99),
          formatNumber(m.serverCpuPercent),
          formatNumber(m.serverRssMiB, 1),
          formatNumber(m.loadgenCpuPercent),
        ],
  );
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
  const output = [
    '### Raw TCP echo',
    '',
    `${options.connections} connections, each keeping ${options.depth} chunks of ${options.chunkSize} bytes in flight; ` +
      `${options.duration} s measured after ${options.warmup} s of warm-up; every echoed byte verified. ` +
      'MB/s counts echoed bytes (10^6 bytes); latency is per chunk, from queued for writing to its last byte echoed; ' +
      'CPU % is of one core over the measured window; RSS is the peak (VmHWM), in MiB.',
    '',
    markdownTable(headers, rows, { alignRight: [1, 2, 3, 4, 5, 6, 7, 8] }),
    '',
    `- ${pinning().note}.`,
    ...notes.map((note) => `- ${note}`),
  ];
  process.stdout.write(`${output.join('\n')}\n`);
  if (measurements.some((m) => m.error)) process.exitCode = 1;
}

await main();
