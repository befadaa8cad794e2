// What the WebSocket benchmarks (ws-echo.mjs, ws-chat.mjs) share: the two
// servers (ours and the npm `ws` package, both serving ws-echo-chat-app.mjs),
// their options, and the round-robin measuring of every server at every size.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { LOADGEN_PATH } from './loadgen.mjs';
import { measureServer } from './measure.mjs';
import { summarizeRuns } from './summary.mjs';

const path = (relative) => fileURLToPath(new URL(relative, import.meta.url));

export const WS_NAME = 'ws';

const SERVERS = [
  {
    name: 'bufferevent/websocket',
    script: path('../servers/ws-echo-chat.mjs'),
    requires: [path('../../build/Release/bufferevent.node'), path('../../dist/websocket/index.js')],
    hint: 'build the addon and compile the TypeScript first: npm run build',
  },
  {
    name: WS_NAME,
    script: path('../servers/ws-echo-chat-ws.mjs'),
    requires: [path('../../node_modules/ws/package.json')],
    hint: 'npm install',
  },
];

/**
 * Options common to both scripts; `defaults` gives each its own sizes.
 * Not strict: bench/run.mjs passes every script the same options, some meant for others.
 */
export function readWsOptions(defaults) {
  const { values } = parseArgs({
    strict: false,
    options: {
      duration: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '1' },
      runs: { type: 'string', default: '3' },
      connections: { type: 'string', default: String(defaults.connections) },
      depth: { type: 'string', default: String(defaults.depth) },
      sizes: { type: 'string', default: defaults.sizes.join(',') },
    },
  });
  const number = (name, text, { integer = false, zeroAllowed = false } = {}) => {
    const value = Number(text);
    if (!(value > 0 || (zeroAllowed && value === 0)) || (integer && !Number.isSafeInteger(value))) {
      process.stderr.write(`--${name} must be a positive ${integer ? 'integer' : 'number'}, got '${text}'\n`);
      process.exit(64);
    }
    return value;
  };
  return {
    runs: number('runs', values.runs, { integer: true }),
    sizes: String(values.sizes)
      .split(',')
      .map((size) => number('sizes', size.trim(), { integer: true })),
    duration: number('duration', values.duration),
    warmup: number('warmup', values.warmup, { zeroAllowed: true }),
    connections: number('connections', values.connections, { integer: true }),
    depth: number('depth', values.depth, { integer: true }),
  };
}

/** Builds the C programs; a failed build leaves the load generator missing, reported by the caller. */
export function buildCPrograms() {
  try {
    execFileSync(path('../build.sh'), { stdio: ['ignore', process.stderr, process.stderr] });
  } catch {
    process.stderr.write('bench/build.sh failed\n');
  }
  if (!existsSync(LOADGEN_PATH)) {
    process.stderr.write(`no load generator at ${LOADGEN_PATH}: run bench/build.sh\n`);
    process.exit(1);
  }
}

/**
 * The servers to measure: BENCH_ONLY=<regexp> keeps those whose name matches
 * (ws is always kept as the baseline); a server whose files are missing is
 * skipped with a note.
 */
export function presentServers(notes) {
  const only = process.env.BENCH_ONLY ? new RegExp(process.env.BENCH_ONLY) : null;
  return SERVERS.filter((server) => !only || only.test(server.name) || server.name === WS_NAME).filter(
    (server) => {
      const missing = server.requires.filter((file) => !existsSync(file));
      if (missing.length === 0) return true;
      const files = missing.map((file) => file.replace(path('../../'), '')).join(', ');
      notes.push(`${server.name}: skipped, missing ${files} (${server.hint})`);
      return false;
    },
  );
}

/**
 * Measures every server at every size, `runs` rounds; within a size the servers
 * take turns (round-robin), so slow drifts in machine load touch each alike.
 * @param {(size: number) => object} loadgenFor the runLoadgen options for one size
 * @returns {Promise<{ size: number, summaries: ReturnType<typeof summarizeRuns>[] }[]>}
 */
export async function measureAllSizes(servers, { runs, sizes }, loadgenFor) {
  const results = [];
  for (const size of sizes) {
    const runsByServer = new Map(servers.map((server) => [server.name, []]));
    for (let round = 1; round <= runs; round++) {
      for (const server of servers) {
        process.stderr.write(`[${size} B, run ${round}/${runs}] `);
        const spec = { name: server.name, command: process.execPath, args: [server.script] };
        runsByServer.get(server.name).push(await measureServer(spec, loadgenFor(size)));
      }
    }
    const summaries = servers.map((server) => summarizeRuns(server.name, runsByServer.get(server.name)));
    results.push({ size, summaries });
  }
  return results;
}

/** "64 B", "4 KiB", "64 KiB". */
export function formatSize(bytes) {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} B`;
}
