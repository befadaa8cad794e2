// Viewers of the log tail for bench/server-tail.mjs (run through lib/client-process.mjs, one JSON
// argument): `viewers` WebSockets to /ws/tail/, each with a logged-in session cookie and the server's
// Origin, each starting on log `log` when the server lists it. Prints "loadgen: ready" once every
// viewer has its `started`; from the first line on, waits `warmup` s, measures `duration` s, then
// waits until the lines stop coming (at most DRAIN_LIMIT_MS) and prints one JSON line.
// 100 viewers of 50,000 lines/s receive 5 million lines a second: parsing every batch with
// JSON.parse would make this process the bottleneck, so a batch is scanned as bytes instead — lines
// counted by their `{"type":"line","text":"` prefix, the writer's sequence number and append time
// read from the first and last line of the batch, `skipped` notices found and their counts read.
// Latency is per line, approximated per batch: each line of a batch is given the latency of the
// batch's first (oldest) line, so the percentiles are upper bounds.
import { performance } from 'node:perf_hooks';

import WebSocket from 'ws';

const { url, origin, cookies, viewers, log, warmup, duration } = JSON.parse(process.argv[2]);
const DRAIN_QUIET_MS = 1000;
const DRAIN_LIMIT_MS = 15_000;
const LINE = Buffer.from('{"type":"line","text":"');
const SKIPPED = Buffer.from('"notice":"skipped"');
const COUNT = Buffer.from('"count":');
/** Latency histogram: 0.1 ms buckets up to 60 s. */
const BUCKET_MS = 0.1;
const histogram = new Float64Array(600_000);

const epochMs = () => performance.timeOrigin + performance.now();
const fail = (message) => {
  process.stdout.write(`${JSON.stringify({ ok: false, error: message })}\n`);
  process.exit(1);
};

const state = Array.from({ length: viewers }, () => ({
  started: false,
  nextSequence: 0,
  windowLines: 0,
  totalLines: 0,
  skipped: 0,
  gaps: 0,
}));
let startedCount = 0;
let measuring = false;
let firstLineAt = null;
let lastLineAt = 0;
let stopping = false;

/** The decimal number in `buffer` at `at`, and where it ends. */
function numberAt(buffer, at) {
  let end = at;
  while (end < buffer.length && ((buffer[end] >= 0x30 && buffer[end] <= 0x39) || buffer[end] === 0x2e)) end++;
  return [Number(buffer.toString('latin1', at, end)), end];
}

function onItems(viewer, data) {
  const now = epochMs();
  let lines = 0;
  let oldestStamp = null;
  for (let at = data.indexOf(LINE); at >= 0; at = data.indexOf(LINE, at + LINE.length)) {
    lines++;
    const [sequence, end] = numberAt(data, at + LINE.length);
    if (oldestStamp === null) oldestStamp = numberAt(data, end + 1)[0];
    if (sequence !== viewer.nextSequence) viewer.gaps += sequence - viewer.nextSequence;
    viewer.nextSequence = sequence + 1;
  }
  for (let at = data.indexOf(SKIPPED); at >= 0; at = data.indexOf(SKIPPED, at + SKIPPED.length)) {
    const countAt = data.indexOf(COUNT, at);
    if (countAt >= 0) viewer.skipped += numberAt(data, countAt + COUNT.length)[0];
  }
  if (lines === 0) return;
  firstLineAt ??= performance.now();
  lastLineAt = performance.now();
  viewer.totalLines += lines;
  if (!measuring) return;
  viewer.windowLines += lines;
  const bucket = Math.min(histogram.length - 1, Math.max(0, Math.floor((now - oldestStamp) / BUCKET_MS)));
  histogram[bucket] += lines;
}

function percentile(p) {
  let total = 0;
  for (const count of histogram) total += count;
  if (total === 0) return null;
  let seen = 0;
  for (let i = 0; i < histogram.length; i++) {
    seen += histogram[i];
    if (seen >= (p / 100) * total) return (i + 1) * BUCKET_MS;
  }
  return null;
}

function openViewer(index) {
  const viewer = state[index];
  const ws = new WebSocket(url, {
    headers: { cookie: cookies[index % cookies.length] },
    origin,
    perMessageDeflate: false,
  });
  ws.on('error', (error) => fail(`viewer ${index}: ${error.message}`));
  ws.on('unexpected-response', (_request, response) =>
    fail(`viewer ${index}: upgrade refused with ${response.statusCode}`),
  );
  ws.on('close', (code) => {
    if (!stopping) fail(`viewer ${index}: closed by the server (${code})`);
  });
  ws.on('message', (data) => {
    if (viewer.started) return onItems(viewer, data);
    const message = JSON.parse(data.toString());
    if (message.type === 'logs') ws.send(JSON.stringify({ type: 'start', log }));
    else if (message.type === 'started') {
      viewer.started = true;
      if (++startedCount === viewers) process.stderr.write('loadgen: ready\n');
    } else if (message.type === 'error') fail(`viewer ${index}: ${message.code}: ${message.message}`);
  });
  return ws;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const sockets = Array.from({ length: viewers }, (_, i) => openViewer(i));
while (firstLineAt === null) await sleep(20); // bounded by the parent's time limit
await sleep(warmup * 1000);
process.stderr.write('loadgen: measure-start\n');
const cpuStart = process.cpuUsage();
const windowStart = performance.now();
measuring = true;
await sleep(duration * 1000);
measuring = false;
const seconds = (performance.now() - windowStart) / 1000;
const cpu = process.cpuUsage(cpuStart);
process.stderr.write('loadgen: measure-end\n');
const drainStart = performance.now();
while (performance.now() - lastLineAt < DRAIN_QUIET_MS && performance.now() - drainStart < DRAIN_LIMIT_MS)
  await sleep(50);
stopping = true;
const perViewer = state.map((v) => v.windowLines / seconds).sort((a, b) => a - b);
const sum = (key) => state.reduce((total, v) => total + v[key], 0);
process.stdout.write(
  `${JSON.stringify({
    ok: true,
    viewers,
    seconds,
    linesPerSecondTotal: sum('windowLines') / seconds,
    linesPerSecondPerViewer: {
      min: perViewer[0],
      median: perViewer[Math.floor(viewers / 2)],
      max: perViewer[viewers - 1],
    },
    latencyMs: { p50: percentile(50), p99: percentile(99) },
    skipped: sum('skipped'),
    viewersSkipping: state.filter((v) => v.skipped > 0).length,
    unexplainedGaps: sum('gaps') - sum('skipped'),
    lastSequence: {
      min: Math.min(...state.map((v) => v.nextSequence)),
      max: Math.max(...state.map((v) => v.nextSequence)),
    },
    totalLines: sum('totalLines'),
    loadgenCpuPercent: ((cpu.user + cpu.system) / 1e6 / seconds) * 100,
  })}\n`,
);
for (const ws of sockets) ws.terminate();
process.exit(0);
