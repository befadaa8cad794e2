// What bench/ws-speed.mjs measures: the three servers and the workloads (issue 13's table rows),
// each with its load-generator options and the figure it reports.
import { fileURLToPath } from 'node:url';

const path = (relative) => fileURLToPath(new URL(relative, import.meta.url));
const OURS_HINT = 'build the addon and compile the TypeScript first: npm run build';
/**
 * For the idle rows a Node server starts with --expose-gc and runs a full garbage collection on
 * this signal (bench/servers/ws-echo-chat-app.mjs): the settled reading asks for some.
 */
const COLLECT_SIGNAL = 'SIGUSR2';
const nodeServer = (script) => ({
  command: process.execPath,
  args: [path(script)],
  idleArgs: ['--expose-gc', path(script)],
  collectSignal: COLLECT_SIGNAL,
});

export const SERVERS = [
  {
    key: 'ours',
    name: 'ours',
    ...nodeServer('../servers/ws-echo-chat.mjs'),
    requires: [path('../../build/Release/bufferevent.node'), path('../../dist/websocket/index.js')],
    hint: OURS_HINT,
  },
  {
    key: 'ws',
    name: 'ws',
    ...nodeServer('../servers/ws-echo-chat-ws.mjs'),
    requires: [path('../../node_modules/ws/package.json')],
    hint: 'npm install',
  },
  {
    key: 'c',
    name: 'plain C libevent',
    command: path('../build/c-ws-server'),
    args: [],
    requires: [path('../build/c-ws-server')],
    hint: 'bench/build.sh',
  },
];

/** 1234 → "1.2k", 123456 → "123k", 1234567 → "1.23M". */
export function formatCount(value) {
  if (value >= 1e6) return `${(value / 1e6).toFixed(2)}M`;
  if (value >= 1e4) return `${(value / 1e3).toFixed(0)}k`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(1)}k`;
  return value.toFixed(0);
}

const CHAT_CLIENTS = 1000;
const CHAT_DEPTH = 4;
const CHAT_SIZE = 32; // bytes; the generator's message header takes 16 of them
const OFFERED_DELIVERIES = 50_000;
const OFFERED_SENDERS = 10;
/** Handshakes under way at once while the idle connections open. */
const IDLE_HANDSHAKES_AT_ONCE = 100;

const echo = (depth, chunkSize) => ({ mode: 'ws-echo', connections: 100, depth, chunkSize });
const chat = (senders, extra = {}) => ({
  mode: 'ws-chat',
  connections: CHAT_CLIENTS,
  senders,
  depth: CHAT_DEPTH,
  chunkSize: CHAT_SIZE,
  ...extra,
});
const messagesPerSecond = (m) => m.loadgen.messages_per_s;

/**
 * @typedef {{ key: string, title: string, chartLabel: string, format: (value: number) => string,
 *   value: (measurement: object) => number, lowerIsBetter?: boolean, perServerCpu?: boolean,
 *   loadgen?: object, idle?: { depth: number } }} Workload
 *   `perServerCpu`: the value is already per second of server CPU.
 *   `loadgen`: runLoadgen options (measured by bench/lib/measure.mjs); `idle`: measured by
 *   bench/lib/idle-memory.mjs instead, one measurement shared by the idle rows.
 * @returns {Workload[]}
 */
export function workloadsFor({ idleConnections, settle }) {
  const idleTitle = `${idleConnections.toLocaleString('en-US')} idle connections`;
  const kib = (value) => `${value.toFixed(value < 10 ? 2 : 1)} KiB`;
  return [
    {
      key: 'echo-16x32',
      title: 'echo, 100 conns × 16 in flight, 32 B (msg/s)',
      chartLabel: 'echo 100 × 16, 32 B',
      loadgen: echo(16, 32),
      value: messagesPerSecond,
      format: formatCount,
    },
    {
      key: 'echo-16x1k',
      title: 'echo, 100 × 16, 1 KiB (msg/s)',
      chartLabel: 'echo 100 × 16, 1 KiB',
      loadgen: echo(16, 1024),
      value: messagesPerSecond,
      format: formatCount,
    },
    {
      key: 'echo-1x32',
      title: 'echo, 100 × 1, 32 B (msg/s)',
      chartLabel: 'echo 100 × 1, 32 B',
      loadgen: echo(1, 32),
      value: messagesPerSecond,
      format: formatCount,
    },
    {
      key: 'echo-16x64k',
      title: 'echo, 100 × 16, 64 KiB (msg per second of server CPU)',
      chartLabel: 'echo 100 × 16, 64 KiB, per server CPU-s',
      loadgen: echo(16, 65536),
      value: (m) => m.loadgen.messages_per_s / (m.serverCpuPercent / 100),
      format: formatCount,
      perServerCpu: true,
    },
    {
      key: 'broadcast-1',
      title: `broadcast to ${CHAT_CLIENTS.toLocaleString('en-US')} clients, 1 sender (deliveries/s)`,
      chartLabel: 'broadcast to 1,000, 1 sender',
      loadgen: chat(1),
      value: messagesPerSecond,
      format: formatCount,
    },
    {
      key: 'broadcast-10',
      title: 'broadcast, 10 senders (deliveries/s)',
      chartLabel: 'broadcast to 1,000, 10 senders',
      loadgen: chat(10),
      value: messagesPerSecond,
      format: formatCount,
    },
    {
      key: 'broadcast-rate',
      title: `broadcast at ${OFFERED_DELIVERIES / 1000}k deliveries/s offered, p99 (ms, lower is better)`,
      chartLabel: `broadcast at ${OFFERED_DELIVERIES / 1000}k/s offered, p99`,
      // Depth is only a cap here: the schedule sets the pace.
      loadgen: chat(OFFERED_SENDERS, { rate: OFFERED_DELIVERIES / CHAT_CLIENTS, depth: 1000 }),
      value: (m) => m.loadgen.delivery_latency_us.p99 / 1000,
      format: (ms) => `${ms.toFixed(ms < 10 ? 1 : 0)} ms`,
      lowerIsBetter: true,
    },
    {
      key: 'idle-handshakes',
      title: `${idleTitle}: handshakes/s`,
      chartLabel: `${idleTitle}: handshakes/s`,
      idle: { depth: IDLE_HANDSHAKES_AT_ONCE },
      value: (m) => m.handshakesPerSecond,
      format: formatCount,
    },
    {
      key: 'idle-memory',
      title: `${idleTitle}: RSS per connection after the burst (KiB, lower is better)`,
      chartLabel: `${idleTitle}: RSS per connection after the burst`,
      idle: { depth: IDLE_HANDSHAKES_AT_ONCE },
      value: (m) => m.kibPerConnection,
      format: kib,
      lowerIsBetter: true,
    },
    {
      key: 'idle-memory-settled',
      title: `${idleTitle}: RSS per connection settled, ${settle} s idle (KiB, lower is better)`,
      chartLabel: `${idleTitle}: RSS per connection settled`,
      idle: { depth: IDLE_HANDSHAKES_AT_ONCE },
      value: (m) => m.kibPerConnectionLater,
      format: kib,
      lowerIsBetter: true,
    },
  ];
}
