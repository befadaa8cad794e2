// WebSocket speed, side by side (issue 13's table): our WebSocketServer, the npm `ws` package and
// a plain C server on stock libevent bufferevents (bench/c-ws), all serving the same contract
// (`/echo`, `/chat`), under the same load-generator runs: echo at several sizes and depths,
// broadcast to 1,000 clients (closed loop, and at a fixed offered rate for latency), and 10,000
// idle connections (handshakes/s, memory per connection just after the burst of handshakes and once
// settled after --settle seconds idle). Servers take turns within each workload
// (round-robin over --runs rounds). Prints a markdown section on stdout (progress on stderr), as
// every script bench/run.mjs runs, and writes a bar chart of the ratios to docs/images/ws-speed.svg.
// Usage: node bench/ws-speed.mjs [--duration 3] [--warmup 1] [--runs 1]
//   [--idle-connections 10000] [--hold 2] [--settle 8] [--chart docs/images/ws-speed.svg]
//   --hold: the after-burst memory reading is taken 0.8 × hold s after the last handshake;
//   --settle: the settled one this long after it, the Node servers having run full collections
//   (see V8_RATE_WINDOW_S).
//   --workloads KEY,...: only these rows (keys in bench/lib/ws-speed-workloads.mjs, say
//   idle-handshakes,idle-memory,idle-memory-settled); the chart is then not written.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { measureIdle } from './lib/idle-memory.mjs';
import { measureServer } from './lib/measure.mjs';
import { pinning } from './lib/pinning.mjs';
import { ratioChartSvg } from './lib/ratio-chart.mjs';
import { oneLine } from './lib/summary.mjs';
import { markdownTable } from './lib/table.mjs';
import { buildCPrograms } from './lib/ws-bench.mjs';
import { SERVERS, workloadsFor } from './lib/ws-speed-workloads.mjs';
import { numberOptions } from './lib/number-option.mjs';

const path = (relative) => fileURLToPath(new URL(relative, import.meta.url));
const CHART_IN_DOCS = 'images/ws-speed.svg'; // relative to docs/benchmarks.md
/** A load generator at or above this CPU % may be the limit, not the server. */
const LOADGEN_LIMIT_PERCENT = 90;
/** Other load above this during a window makes its numbers suspect (as bench/lib/summary.mjs). */
const OTHER_CPU_LIMIT_PERCENT = 10;
/** A server that waited longer than this for its core during a window gets a note. */
const WAITING_NOTE_PERCENT = 10;
/** An offered-rate run whose generator sent later than this behind schedule gets a note. */
const SEND_LAG_NOTE_MS = 5;
/** The idle connections stay open this long past the settled reading. */
const HOLD_PAST_SETTLED_S = 0.5;
/**
 * V8 shrinks its young generation at a full collection only when its estimate of the recent
 * allocation rate (bytes and time between collections) is low: not at a collection right after the
 * burst, but at one 5 s or more after it (measured: both servers, every run). So a Node server is
 * asked for a collection just after the after-burst reading, and for two more this long after it
 * and half a second later (the pages the first gives up leave the resident set by the second), and
 * the settled reading follows.
 */
const V8_RATE_WINDOW_S = 5.3;
const COLLECT_GAP_S = 0.1;

/** Not strict: bench/run.mjs passes every script the same options, some meant for others. */
function readOptions() {
  const { values } = parseArgs({
    strict: false,
    options: {
      duration: { type: 'string', default: '3' },
      warmup: { type: 'string', default: '1' },
      runs: { type: 'string', default: '1' },
      'idle-connections': { type: 'string', default: '10000' },
      hold: { type: 'string', default: '2' },
      settle: { type: 'string', default: '8' },
      chart: { type: 'string', default: path(`../docs/${CHART_IN_DOCS}`) },
      workloads: { type: 'string' },
    },
  });
  const number = numberOptions(values);
  return {
    duration: number('duration'),
    warmup: number('warmup', { zeroAllowed: true }),
    runs: number('runs', { integer: true }),
    idleConnections: number('idle-connections', { integer: true }),
    hold: number('hold'),
    settle: number('settle'),
    chart: String(values.chart),
    workloads: values.workloads === undefined ? null : String(values.workloads).split(','),
  };
}

/** The workloads --workloads names (all without it); an unknown key is a usage error. */
function selectedWorkloads(options) {
  const all = workloadsFor(options);
  if (options.workloads === null) return all;
  const unknown = options.workloads.filter((key) => !all.some((workload) => workload.key === key));
  if (unknown.length > 0) {
    process.stderr.write(
      `--workloads: unknown ${unknown.join(', ')}; known: ${all.map((w) => w.key).join(', ')}\n`,
    );
    process.exit(64);
  }
  return all.filter((workload) => options.workloads.includes(workload.key));
}

function checkIdleOptions({ hold, settle }) {
  const earliest = hold * 0.8 + COLLECT_GAP_S + V8_RATE_WINDOW_S + 1;
  if (settle < earliest) {
    process.stderr.write(
      `--settle must be at least ${earliest.toFixed(1)} s with --hold ${hold}, got ${settle}\n`,
    );
    process.exit(64);
  }
}

/** The servers whose files exist; the others are skipped with a note. */
function presentServers(notes) {
  return SERVERS.filter((server) => {
    const missing = server.requires.filter((file) => !existsSync(file));
    if (missing.length === 0) return true;
    notes.push(`${server.name}: skipped, missing ${missing.join(', ')} (${server.hint})`);
    return false;
  });
}

/** The idle rows share one measurement per server and round, by `${server.key}/${round}`. */
const idleMeasurements = new Map();

/** What a table cell keeps of one measurement (bench/lib/measure.mjs's or idle-memory.mjs's). */
function cellOf(workload, m) {
  if (m.error) return { error: m.error };
  const value = workload.value(m);
  if (!Number.isFinite(value)) return { error: 'no value (server CPU unknown?)' };
  return {
    value,
    loadgenCpu: m.loadgenCpuPercent,
    serverCpu: m.serverCpuPercent,
    serverWaiting: m.serverWaitingPercent,
    other: m.otherCpuPercent,
    // ws-chat --rate: how late the generator itself sent (counted in the latency, as the server's)
    sendLagMs: m.loadgen?.rate > 0 ? m.loadgen.max_send_lag_us / 1000 : null,
  };
}

/** One measurement of one server under one workload: a cell, or { error }. */
async function measureOnce(workload, server, options, round) {
  const spec = { name: server.name, command: server.command, args: server.args };
  if (!workload.idle) {
    const loadgen = { ...workload.loadgen, duration: options.duration, warmup: options.warmup };
    return cellOf(workload, await measureServer(spec, loadgen));
  }
  const key = `${server.key}/${round}`;
  if (!idleMeasurements.has(key)) {
    // Node servers start with --expose-gc here, so that the settled reading can ask for collections.
    const idleSpec = { ...spec, args: server.idleArgs ?? server.args, collectSignal: server.collectSignal };
    const readAt = options.hold * 0.8;
    const idleOptions = {
      connections: options.idleConnections,
      depth: workload.idle.depth,
      hold: options.settle + HOLD_PAST_SETTLED_S,
      readAt,
      laterReadAt: options.settle,
      collectAt: [readAt + COLLECT_GAP_S, options.settle - 1, options.settle - 0.5],
    };
    idleMeasurements.set(key, await measureIdle(idleSpec, idleOptions));
  }
  return cellOf(workload, idleMeasurements.get(key));
}

/** Runs of one server folded into one cell: the median run by value, or the first failure. */
function fold(runs, lowerIsBetter) {
  const failed = runs.find((run) => run.error);
  if (failed) return { error: oneLine(failed.error), runs };
  const sorted = [...runs].sort((a, b) => (lowerIsBetter ? b.value - a.value : a.value - b.value));
  return { ...sorted[Math.floor((sorted.length - 1) / 2)], runs };
}

async function measureWorkload(workload, servers, options) {
  const runsByServer = new Map(servers.map((server) => [server.key, []]));
  for (let round = 1; round <= options.runs; round++) {
    for (const server of servers) {
      process.stderr.write(`[${workload.key}, run ${round}/${options.runs}] `);
      runsByServer.get(server.key).push(await measureOnce(workload, server, options, round));
    }
  }
  return new Map(
    servers.map((server) => [server.key, fold(runsByServer.get(server.key), workload.lowerIsBetter)]),
  );
}

const formatCell = (workload, cell) => {
  if (!cell) return '–';
  if (cell.error) return 'failed';
  const limited = cell.loadgenCpu >= LOADGEN_LIMIT_PERCENT && !workload.lowerIsBetter ? '†' : '';
  return `${workload.format(cell.value)}${limited}`;
};

const ratioOf = (a, b) => (a && b && !a.error && !b.error && b.value > 0 ? a.value / b.value : null);

/** ours ÷ ws per second of server CPU: steadier than the raw ratio when other load takes the server's core. */
function perCpuRatio(workload, ours, ws) {
  if (workload.lowerIsBetter || workload.perServerCpu || !ours || !ws || ours.error || ws.error) return null;
  if (!(ours.serverCpu > 0 && ws.serverCpu > 0)) return null;
  return ours.value / ours.serverCpu / (ws.value / ws.serverCpu);
}
const formatRatio = (ratio) => (ratio === null ? '–' : `${ratio.toFixed(2)}×`);
const percents = (cells) =>
  cells.map((cell) =>
    cell && !cell.error && Number.isFinite(cell.loadgenCpu) ? cell.loadgenCpu.toFixed(0) : '–',
  );
const serverPercents = (cells) =>
  cells.map((cell) =>
    cell && !cell.error && Number.isFinite(cell.serverCpu) ? cell.serverCpu.toFixed(0) : '–',
  );

function writeChart(file, results) {
  const better = (workload, ratio) => (ratio === null ? null : workload.lowerIsBetter ? 1 / ratio : ratio);
  const svg = ratioChartSvg({
    title: 'WebSocket speed: times ws, same machine, same run',
    subtitle: 'p99 and memory rows inverted (ws ÷ value), so right of 1× is better there too',
    series: [
      { name: 'ours ÷ ws', color: '#2b7bba' },
      { name: 'plain C libevent ÷ ws', color: '#999999' },
    ],
    groups: results.map(({ workload, cells }) => ({
      label: workload.chartLabel,
      ratios: [
        better(workload, ratioOf(cells.get('ours'), cells.get('ws'))),
        better(workload, ratioOf(cells.get('c'), cells.get('ws'))),
      ],
    })),
  });
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, svg);
  process.stderr.write(`chart written to ${file}\n`);
}

/**
 * Failures, then how disturbed the runs were: other processes' CPU over the windows, and the part of
 * each window the server was runnable but waiting for its core (the figure that bends its numbers).
 */
function runNotes(results, servers) {
  const notes = [];
  const others = [];
  const waiting = [];
  for (const { workload, cells } of results) {
    const perServer = servers.map((server) => {
      const cell = cells.get(server.key);
      if (cell.error) notes.push(`${workload.key}, ${server.name}: FAILED: ${cell.error}`);
      else others.push(...cell.runs.map((run) => run.other).filter(Number.isFinite));
      return cell.error || !Number.isFinite(cell.serverWaiting) ? null : cell.serverWaiting;
    });
    if (perServer.some((percent) => percent > WAITING_NOTE_PERCENT))
      waiting.push(`${workload.key} ${perServer.map((p) => (p === null ? '–' : p.toFixed(0))).join(' / ')}`);
  }
  for (const { workload, cells } of results) {
    const lags = servers.map((server) => cells.get(server.key).sendLagMs).filter(Number.isFinite);
    if (lags.some((lag) => lag > SEND_LAG_NOTE_MS))
      notes.push(
        `${workload.key}: the load generator sent up to ${Math.max(...lags).toFixed(0)} ms behind its ` +
          'schedule (counted in the latency)',
      );
  }
  const disturbed = others.filter((percent) => percent > OTHER_CPU_LIMIT_PERCENT);
  if (disturbed.length > 0)
    notes.push(
      `${disturbed.length} of ${others.length} runs disturbed: other processes used up to ` +
        `${Math.max(...disturbed).toFixed(0)}% CPU (of ${availableParallelism() * 100}%) during the window; ` +
        'absolute figures then drop, ratios less (the per-CPU-second column least).',
    );
  if (waiting.length > 0)
    notes.push(
      `server runnable but waiting for its CPU, % of the window (${servers.map((s) => s.name).join(' / ')}): ` +
        `${waiting.join('; ')}.`,
    );
  return notes;
}

async function main() {
  const options = readOptions();
  checkIdleOptions(options);
  buildCPrograms();
  const notes = [];
  const servers = presentServers(notes);
  const results = [];
  for (const workload of selectedWorkloads(options))
    results.push({ workload, cells: await measureWorkload(workload, servers, options) });

  const headers = [
    'workload',
    'ours',
    '`ws`',
    'plain C libevent',
    'ours vs `ws`',
    'ours vs C',
    'ours vs `ws` per server CPU-s',
    'server CPU % (ours / ws / C)',
    'loadgen CPU % (ours / ws / C)',
  ];
  const rows = results.map(({ workload, cells }) => {
    const [ours, ws, c] = ['ours', 'ws', 'c'].map((key) => cells.get(key));
    return [
      workload.title,
      formatCell(workload, ours),
      formatCell(workload, ws),
      formatCell(workload, c),
      formatRatio(ratioOf(ours, ws)),
      formatRatio(ratioOf(ours, c)),
      workload.perServerCpu ? formatRatio(ratioOf(ours, ws)) : formatRatio(perCpuRatio(workload, ours, ws)),
      serverPercents([ours, ws, c]).join(' / '),
      percents([ours, ws, c]).join(' / '),
    ];
  });
  // A partial run would overwrite the chart of the whole table with a few bars.
  if (options.workloads === null) writeChart(options.chart, results);

  const notesOfRuns = runNotes(results, servers);
  const { runs, duration, warmup, idleConnections, hold, settle } = options;
  const output = [
    '### WebSocket speed: ours, `ws` and a plain C libevent server',
    '',
    'Three servers with the same contract under the same load-generator runs, taking turns within each ' +
      'workload: ours (`bench/servers/ws-echo-chat.mjs`, `/chat` through `wss.publish`), the npm `ws` ' +
      'package (`bench/servers/ws-echo-chat-ws.mjs`, `/chat` as a JavaScript loop over the clients) and ' +
      '`bench/c-ws/server.c`, a plain C server on stock libevent bufferevents (one `bufferevent_write` per ' +
      'frame; a `/chat` message framed once and written to every client). Echo messages alternate binary ' +
      'and text; every echoed or delivered byte, type and order is verified. ' +
      `${duration} s measured after ${warmup} s of warm-up; ${runs} run${runs > 1 ? 's' : ''} per server ` +
      'and workload, the median run shown. Broadcast rows: 1,000 clients on `/chat`, 4 messages in ' +
      'flight per sender (the next sent when the oldest reached every client); the offered-rate row ' +
      'sends 50 messages/s from 10 senders on a fixed schedule (50,000 deliveries/s) and reports the p99 ' +
      "of each delivery, timed from the message's scheduled send time. Idle rows: " +
      `${idleConnections.toLocaleString('en-US')} connections to \`/echo\`, 100 handshakes under way at ` +
      'once; handshakes/s over the opening; memory per connection = (server VmRSS with the connections ' +
      'open − VmRSS before them) ÷ connections, read twice: after the burst, ' +
      `${(hold * 0.8).toFixed(1)} s after the last handshake, and settled, ${settle} s after it. For the ` +
      'settled reading each Node server (started with `--expose-gc`) runs a full collection just after ' +
      `the first reading and two more ${(settle - 1 - hold * 0.8 - COLLECT_GAP_S).toFixed(1)} s later: V8 shrinks its ` +
      'young generation, which the burst grew to its cap, at a full collection only when its estimate of the ' +
      "recent allocation rate is low, as 5 s after a collection that ended the burst. Left alone, `ws` gets there only when V8's " +
      'memory reducer finds it idle: it looks every 8 s, and after such a burst `ws` was shrunk about 22 s later. ' +
      'Ours asks V8 for a memory-reducing collection itself once a burst is over (half a second without a ' +
      'handshake), so its after-burst reading already has the young generation given back (V8 alone had left it ' +
      'grown for 33 s and more). The C server has no collector: it is read at the ' +
      'same times. ' +
      'CPU % is of one core (idle rows: while opening).',
    '',
    markdownTable(headers, rows, { alignRight: [1, 2, 3, 4, 5, 6, 7, 8] }),
    '',
    `![Ratios to ws per workload: ours and the plain C server](${CHART_IN_DOCS})`,
    '',
    `- ${pinning().note}.`,
    `- † the load generator used ≥ ${LOADGEN_LIMIT_PERCENT}% of its core: it, not the server, may be the limit.`,
    ...notesOfRuns.map((note) => `- ${note}`),
    ...notes.map((note) => `- ${note}`),
  ];
  process.stdout.write(`${output.join('\n')}\n`);
  if (results.some(({ cells }) => [...cells.values()].some((cell) => cell.error))) process.exitCode = 1;
}

await main();
