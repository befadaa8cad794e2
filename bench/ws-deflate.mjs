// permessage-deflate (issue 14): our WebSocketServer against the npm `ws` package, both serving
// bench/servers/ws-echo-chat-app.mjs with perMessageDeflate on, in one run, servers taking turns
// within each workload (round-robin over --runs rounds). Two parts:
// - compressed echo: the load generator (ws-echo --deflate --payload json) keeps 100 connections ×
//   16 messages of JSON-like text in flight, at 1 KiB and 64 KiB; it compresses what it sends,
//   inflates every echo and checks every byte;
// - memory per idle compressed connection: N connections (ws-idle --idle-echo --deflate) each
//   exchange one 1 KiB compressed message, then stay idle while the server's VmRSS is read; with
//   the default context takeover (read again after 18 s idle, when ours has parked its contexts),
//   with serverNoContextTakeover + clientNoContextTakeover, and with perMessageDeflate off (the
//   same message, uncompressed) for reference.
// Prints a markdown section on stdout (progress on stderr), as every script bench/run.mjs runs.
// Usage: node bench/ws-deflate.mjs [--duration 3] [--warmup 1] [--runs 1]
//   [--deflate-idle-connections 1000] [--hold 2] [--plain-echo]
//   --plain-echo: also the same echo with perMessageDeflate off, for what compression costs.
import { parseArgs } from 'node:util';

import { measureIdle } from './lib/idle-memory.mjs';
import { measureServer } from './lib/measure.mjs';
import { pinning } from './lib/pinning.mjs';
import { oneLine } from './lib/summary.mjs';
import { formatNumber, formatRatio, markdownTable } from './lib/table.mjs';
import { WS_NAME, buildCPrograms, formatSize, presentServers } from './lib/ws-bench.mjs';
import { numberOptions } from './lib/number-option.mjs';

const ECHO_SIZES = [1024, 65536];
const ECHO_CONNECTIONS = 100;
const ECHO_DEPTH = 16;
/**
 * 100 × 16 × 64 KiB is 100 MiB in flight: at 100-200 compressed messages/s (a busy 2-core machine)
 * one round takes 8-16 s, so that size gets at least this much warm-up and window (else a
 * connection can see no echo in the whole window, which the load generator counts as stalled).
 */
const ECHO_MIN_WINDOW = { 65536: { warmup: 3, duration: 15 } };
const IDLE_MESSAGE_SIZE = 1024; // at ws's and our default threshold: compressed both ways
const IDLE_HANDSHAKES_AT_ONCE = 100;
/**
 * Ours parks a context with takeover once it has gone unused for 10 s (a sweep every 5 s): with
 * takeover the connections are held this long and memory is read again this far into the hold.
 */
const PARKED_HOLD_S = 20;
const PARKED_READ_AT_S = 18;
/** A load generator at or above this CPU % may be the limit, not the server. */
const LOADGEN_LIMIT_PERCENT = 90;
/** A server that waited longer than this for its core during a window gets a note. */
const WAITING_NOTE_PERCENT = 10;
/** Other load above this during a window makes its numbers suspect (as bench/lib/summary.mjs). */
const OTHER_CPU_LIMIT_PERCENT = 10;

/** The server flags and the loadgen options of each perMessageDeflate setting. */
const SETTINGS = {
  takeover: { label: '`true` (context takeover)', serverArgs: ['--deflate'], loadgen: { deflate: true } },
  'no-takeover': {
    label: 'server/clientNoContextTakeover',
    serverArgs: ['--deflate-no-context-takeover'],
    loadgen: { deflate: true },
  },
  off: { label: 'off', serverArgs: [], loadgen: {} },
};

/** Not strict: bench/run.mjs passes every script the same options, some meant for others. */
function readOptions() {
  const { values } = parseArgs({
    strict: false,
    options: {
      duration: { type: 'string', default: '3' },
      warmup: { type: 'string', default: '1' },
      runs: { type: 'string', default: '1' },
      // Not --idle-connections (10,000 for ws-speed): a compressed connection costs far more.
      'deflate-idle-connections': { type: 'string', default: '1000' },
      hold: { type: 'string', default: '2' },
      'plain-echo': { type: 'boolean', default: false },
    },
  });
  const number = numberOptions(values);
  return {
    duration: number('duration'),
    warmup: number('warmup', { zeroAllowed: true }),
    runs: number('runs', { integer: true }),
    idleConnections: number('deflate-idle-connections', { integer: true }),
    hold: number('hold'),
    plainEcho: values['plain-echo'] === true,
  };
}

const specOf = (server, setting) => ({
  name: server.name,
  command: process.execPath,
  args: [server.script, ...SETTINGS[setting].serverArgs],
});

/** Runs of one server folded into one: the median by `value`, or the first failure. */
function fold(runs, value) {
  const failed = runs.find((run) => run.error);
  if (failed) return { error: oneLine(failed.error), runs };
  const sorted = [...runs].sort((a, b) => value(a) - value(b));
  return { ...sorted[Math.floor((sorted.length - 1) / 2)], runs };
}

/** Every server under one workload, `runs` rounds, taking turns; a Map by server name. */
async function roundRobin(servers, runs, label, measureOne, value) {
  const byServer = new Map(servers.map((server) => [server.name, []]));
  for (let round = 1; round <= runs; round++) {
    for (const server of servers) {
      process.stderr.write(`[${label}, run ${round}/${runs}] `);
      byServer.get(server.name).push(await measureOne(server));
    }
  }
  return new Map(servers.map((server) => [server.name, fold(byServer.get(server.name), value)]));
}

/** An echo run whose echoes were not all compressed did not measure compression: a failure. */
function checkCompressed(m) {
  if (m.error || !m.loadgen.deflate) return m;
  const { compressed_messages: compressed, uncompressed_messages: plain } = m.loadgen.deflate;
  if (plain > 0) return { ...m, error: `${plain} of ${compressed + plain} echoes came back uncompressed` };
  return m;
}

const ECHO_HEADERS = [
  'message',
  'server',
  'messages/s',
  'MB/s (inflated)',
  'vs ws',
  'msg per server CPU-s, vs ws',
  'echo compressed ×',
  'p50 ms',
  'p99 ms',
  'server CPU %',
  'server RSS MB',
  'loadgen CPU %',
];

const perCpu = (m) => m.loadgen.messages_per_s / (m.serverCpuPercent / 100);

function echoRow(label, name, m, ws) {
  if (m.error) return [label, name, 'failed', ...ECHO_HEADERS.slice(3).map(() => '–')];
  const d = m.loadgen.deflate;
  const usable = ws && !ws.error;
  return [
    label,
    name,
    `${formatNumber(m.loadgen.messages_per_s)}${m.loadgenCpuPercent >= LOADGEN_LIMIT_PERCENT ? '†' : ''}`,
    formatNumber(m.mbPerSecond, 1),
    usable ? formatRatio(m.loadgen.messages_per_s, ws.loadgen.messages_per_s) : '–',
    `${formatNumber(perCpu(m))}${usable ? ` (${formatRatio(perCpu(m), perCpu(ws))})` : ''}`,
    d ? formatNumber(m.loadgen.bytes / d.compressed_bytes_in, 1) : '–',
    formatNumber(m.latencyUs.p50 / 1000, 2),
    formatNumber(m.latencyUs.p99 / 1000, 2),
    formatNumber(m.serverCpuPercent),
    formatNumber(m.serverRssMiB, 1),
    formatNumber(m.loadgenCpuPercent),
  ];
}

const IDLE_HEADERS = [
  'perMessageDeflate',
  'server',
  'RSS per connection KiB',
  'vs off KiB',
  'vs ws',
  'echoes compressed',
  'connections opened/s',
  'server CPU % while opening',
];

/** `kib` picks the reading (kibPerConnection, or kibPerConnectionLater for the parked row). */
function idleRow(setting, label, name, m, offOfServer, ws, kib) {
  if (m.error) return [label, name, 'failed', ...IDLE_HEADERS.slice(3).map(() => '–')];
  const extra = offOfServer && !offOfServer.error ? kib(m) - offOfServer.kibPerConnection : NaN;
  return [
    label,
    name,
    formatNumber(kib(m), 1),
    setting === 'off' ? '–' : formatNumber(extra, 1),
    ws && !ws.error && ws !== m ? formatRatio(kib(m), kib(ws)) : '–',
    setting === 'off' ? '–' : `${m.loadgen.compressed_echoes} of ${m.loadgen.handshakes}`,
    formatNumber(m.handshakesPerSecond),
    formatNumber(m.serverCpuPercent),
  ];
}

/** Failures, disturbed runs and the time each server waited for its core, one line each. */
function runNotes(label, cells) {
  const notes = [];
  const waiting = [...cells.values()].map((cell) =>
    cell.error || !Number.isFinite(cell.serverWaitingPercent) ? '–' : cell.serverWaitingPercent.toFixed(0),
  );
  if (waiting.some((percent) => Number(percent) > WAITING_NOTE_PERCENT))
    notes.push(
      `${label}: server runnable but waiting for its CPU, % of the window (${[...cells.keys()].join(' / ')}): ` +
        `${waiting.join(' / ')}`,
    );
  for (const [name, cell] of cells) {
    if (cell.error) notes.push(`${label}, ${name}: FAILED: ${cell.error}`);
    const disturbed = cell.runs.filter((run) => run.otherCpuPercent > OTHER_CPU_LIMIT_PERCENT);
    if (disturbed.length > 0)
      notes.push(
        `${label}, ${name}: ${disturbed.length} of ${cell.runs.length} runs disturbed (other processes up to ` +
          `${Math.max(...disturbed.map((run) => run.otherCpuPercent)).toFixed(0)}% CPU)`,
      );
  }
  return notes;
}

async function main() {
  const options = readOptions();
  const { duration, warmup, runs, idleConnections, hold } = options;
  buildCPrograms();
  const notes = [];
  const servers = presentServers(notes);
  const runNotesAll = [];

  const echoRows = [];
  const echoSettings = options.plainEcho ? ['takeover', 'off'] : ['takeover'];
  for (const [size, setting] of ECHO_SIZES.flatMap((size) => echoSettings.map((s) => [size, s]))) {
    const label = `${formatSize(size)}${setting === 'off' ? ', deflate off' : ''}`;
    const loadgen = {
      mode: 'ws-echo',
      connections: ECHO_CONNECTIONS,
      depth: ECHO_DEPTH,
      chunkSize: size,
      duration: Math.max(duration, ECHO_MIN_WINDOW[size]?.duration ?? 0),
      warmup: Math.max(warmup, ECHO_MIN_WINDOW[size]?.warmup ?? 0),
      payload: 'json',
      ...SETTINGS[setting].loadgen,
    };
    const cells = await roundRobin(
      servers,
      runs,
      `echo ${label}`,
      async (server) => checkCompressed(await measureServer(specOf(server, setting), loadgen)),
      (m) => m.loadgen.messages_per_s,
    );
    const ws = cells.get(WS_NAME);
    for (const server of servers) echoRows.push(echoRow(label, server.name, cells.get(server.name), ws));
    runNotesAll.push(...runNotes(`echo ${label}`, cells));
  }

  const idleRows = [];
  const idleBySetting = new Map();
  for (const setting of ['off', 'takeover', 'no-takeover']) {
    const parking = setting === 'takeover';
    const idleOptions = {
      connections: idleConnections,
      depth: IDLE_HANDSHAKES_AT_ONCE,
      hold: parking ? Math.max(hold, PARKED_HOLD_S) : hold,
      readAt: hold * 0.8,
      ...(parking ? { laterReadAt: PARKED_READ_AT_S } : {}),
      loadgen: {
        ...SETTINGS[setting].loadgen,
        idleEcho: true,
        payload: 'json',
        chunkSize: IDLE_MESSAGE_SIZE,
      },
    };
    const cells = await roundRobin(
      servers,
      runs,
      `idle, deflate ${setting}`,
      (server) => measureIdle(specOf(server, setting), idleOptions),
      (m) => m.kibPerConnection,
    );
    idleBySetting.set(setting, cells);
    runNotesAll.push(...runNotes(`idle, deflate ${setting}`, cells));
  }
  const idleRowsOf = [
    ['takeover', SETTINGS.takeover.label, (m) => m.kibPerConnection],
    ['takeover', `\`true\`, after ${PARKED_READ_AT_S} s idle`, (m) => m.kibPerConnectionLater],
    ['no-takeover', SETTINGS['no-takeover'].label, (m) => m.kibPerConnection],
    ['off', SETTINGS.off.label, (m) => m.kibPerConnection],
  ];
  for (const [setting, label, kib] of idleRowsOf) {
    const cells = idleBySetting.get(setting);
    for (const server of servers) {
      const off = idleBySetting.get('off').get(server.name);
      idleRows.push(
        idleRow(setting, label, server.name, cells.get(server.name), off, cells.get(WS_NAME), kib),
      );
    }
  }

  const idleCount = idleConnections.toLocaleString('en-US');
  const output = [
    '### WebSocket permessage-deflate: compressed echo and idle memory, ours vs `ws`',
    '',
    'Both servers run `bench/servers/ws-echo-chat-app.mjs` with `perMessageDeflate` on (the same ' +
      'option object; zlib level, memLevel and threshold at their defaults), taking turns within each ' +
      `workload; ${runs} run${runs > 1 ? 's' : ''} per server and workload, the median run shown. ` +
      `Echo: ${ECHO_CONNECTIONS} connections to \`/echo\`, each keeping ${ECHO_DEPTH} messages of ` +
      'JSON-like text in flight (`loadgen --payload json`: records with repeated keys, varying numbers ' +
      'and ids), compressed by the load generator (zlib level 1, context takeover) and echoed ' +
      'compressed by the server; every echo is inflated and every byte checked; a run whose echoes were ' +
      `not all compressed counts as failed. ${duration} s measured after ${warmup} s of warm-up ` +
      `(64 KiB: at least ${ECHO_MIN_WINDOW[65536].duration} s after ${ECHO_MIN_WINDOW[65536].warmup} s). MB/s ` +
      'counts inflated payload bytes (10^6); "echo compressed ×" is inflated ÷ compressed bytes of the ' +
      "server's echoes; latency is per message, from its frame queued to its last byte echoed; CPU % is " +
      `of one core; RSS is the server's peak, in MiB${options.plainEcho ? '; "deflate off" rows: the same echo, the same bytes, uncompressed' : ''}. Idle: ${idleCount} connections to \`/echo\`, ` +
      `${IDLE_HANDSHAKES_AT_ONCE} opening at once, each sending one ${formatSize(IDLE_MESSAGE_SIZE)} ` +
      'message of the same text, compressed (uncompressed with perMessageDeflate off), and waiting ' +
      'for its echo before it goes idle; memory per connection = (server VmRSS during a ' +
      `${hold} s idle hold − VmRSS before) ÷ connections, read ${formatNumber(hold * 0.8, 1)} s into ` +
      `the hold; with context takeover the hold lasts ${Math.max(hold, PARKED_HOLD_S)} s and memory is ` +
      `read again ${PARKED_READ_AT_S} s into it ("after ${PARKED_READ_AT_S} s idle": ours parks a context ` +
      'unused for 10 s, keeping only its window); "vs off" subtracts the same server\'s figure without ' +
      'perMessageDeflate.',
    '',
    markdownTable(ECHO_HEADERS, echoRows, { alignRight: [2, 3, 4, 5, 6, 7, 8, 9, 10, 11] }),
    '',
    markdownTable(IDLE_HEADERS, idleRows, { alignRight: [2, 3, 4, 5, 6, 7] }),
    '',
    `- ${pinning().note}.`,
    `- † the load generator used ≥ ${LOADGEN_LIMIT_PERCENT}% of its core: it, not the server, may be the ` +
      'limit (the per-server-CPU-second figure is not bound by it).',
    ...runNotesAll.map((note) => `- ${note}`),
    ...notes.map((note) => `- ${note}`),
  ];
  process.stdout.write(`${output.join('\n')}\n`);
  const cellsFailed = echoRows.concat(idleRows).some((row) => row.includes('failed'));
  if (cellsFailed) process.exitCode = 1;
}

await main();
