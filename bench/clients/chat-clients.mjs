// Node load generator for the chat through the bundled server (run by bench/server-chat.mjs through
// lib/client-process.mjs, one JSON argument). `connections` WebSocket clients join one room, each
// with a logged-in session cookie and the server's Origin, as a browser would; once every client
// has its history and the presence messages of everyone's joining have settled, the first `senders`
// clients each send `rate` messages a second (paced: the chat limits a user to 5 a second, bursts of
// 20). Each text is `#<sender>:<sequence>:<performance.now()>:` padded to `size` characters with x,
// so a receiver finds who sent it, checks each sender's order, and takes the latency from the
// timestamp (same process, same clock). Every message is parsed as JSON as the page does; `raw`
// mode (the Channels consumer servers of bench/servers/) sends and receives the bare text instead.
// A delivery is one message arriving at one client; latency is per delivery, from queued to
// received. Counts only deliveries received inside the measured window.
import { performance } from 'node:perf_hooks';

import WebSocket from 'ws';
import { percentiles } from '../lib/client-process.mjs';

const options = JSON.parse(process.argv[2]);
const { urls, origin, cookies, connections, senders, rate, size, warmup, duration, raw } = options;
const QUIET_MS = 1000;
const SETTLE_LIMIT_MS = 60_000;
const DRAIN_MS = 15_000;
const OPEN_BATCH = 100;

const fail = (message) => {
  process.stdout.write(`${JSON.stringify({ ok: false, error: message })}\n`);
  process.exit(1);
};

const clients = [];
const expected = Array.from({ length: connections }, () => new Float64Array(senders));
const sent = new Float64Array(senders);
let measuring = false;
let stopping = false;
let deliveries = 0;
let otherMessages = 0;
let lastOtherAt = performance.now();
let outOfOrder = 0;
const errorCodes = {};
const latencies = [];

function onText(index, text) {
  let body = text;
  if (!raw) {
    const message = JSON.parse(text);
    if (message.type === 'error') {
      errorCodes[message.code] = (errorCodes[message.code] ?? 0) + 1;
      return;
    }
    if (message.type !== 'message') {
      otherMessages++;
      lastOtherAt = performance.now();
      return;
    }
    body = message.text;
  }
  if (body[0] !== '#')
    fail(`client ${index}: a message without the benchmark's marker: ${body.slice(0, 60)}`);
  const [sender, sequence, sentAt] = body.slice(1).split(':', 3).map(Number);
  if (sequence !== expected[index][sender]) outOfOrder++;
  expected[index][sender] = sequence + 1;
  if (!measuring) return;
  deliveries++;
  latencies.push(performance.now() - sentAt);
}

function openClient(index) {
  return new Promise((resolve) => {
    const ws = new WebSocket(urls[index % urls.length], {
      headers: cookies ? { cookie: cookies[index % cookies.length] } : {},
      origin,
      perMessageDeflate: false,
    });
    clients[index] = ws;
    ws.on('error', (error) => fail(`client ${index}: ${error.message}`));
    ws.on('unexpected-response', (_request, response) =>
      fail(`client ${index}: upgrade refused with ${response.statusCode}`),
    );
    ws.on('close', (code) => {
      if (!stopping) fail(`client ${index}: closed by the server (${code})`);
    });
    ws.on('message', (data) => onText(index, data.toString()));
    ws.on('open', resolve);
  });
}

function sendOne(sender) {
  const head = `#${sender}:${sent[sender]}:${performance.now().toFixed(3)}:`;
  const text = head.padEnd(size, 'x');
  sent[sender]++;
  clients[sender].send(raw ? text : JSON.stringify({ type: 'message', text }));
}

async function main() {
  for (let first = 0; first < connections; first += OPEN_BATCH) {
    const batch = [];
    for (let i = first; i < Math.min(connections, first + OPEN_BATCH); i++) batch.push(openClient(i));
    await Promise.all(batch);
  }
  // Presence messages: every join reaches everyone already there. Wait until they stop.
  const settleStart = performance.now();
  while (performance.now() - lastOtherAt < QUIET_MS) {
    if (performance.now() - settleStart > SETTLE_LIMIT_MS) fail('presence messages did not settle');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const joinMessages = otherMessages;
  process.stderr.write('loadgen: ready\n');

  const intervalMs = 1000 / rate;
  const timers = [];
  for (let s = 0; s < senders; s++) {
    // Spread the senders over one interval, so the load is even.
    setTimeout(
      () => {
        if (stopping) return;
        sendOne(s);
        timers.push(setInterval(() => sendOne(s), intervalMs));
      },
      (s * intervalMs) / senders,
    );
  }
  await new Promise((resolve) => setTimeout(resolve, warmup * 1000));
  process.stderr.write('loadgen: measure-start\n');
  measuring = true;
  const cpuStart = process.cpuUsage();
  const windowStart = performance.now();
  await new Promise((resolve) => setTimeout(resolve, duration * 1000));
  measuring = false;
  const seconds = (performance.now() - windowStart) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  process.stderr.write('loadgen: measure-end\n');
  for (const timer of timers) clearInterval(timer);
  stopping = true;

  // Every message sent must reach every client: wait for the last ones, then count what is missing.
  const missing = () => {
    let count = 0;
    for (let i = 0; i < connections; i++) for (let s = 0; s < senders; s++) count += sent[s] - expected[i][s];
    return count;
  };
  const drainStart = performance.now();
  while (missing() > 0 && performance.now() - drainStart < DRAIN_MS)
    await new Promise((resolve) => setTimeout(resolve, 50));
  const latency = percentiles(latencies);
  process.stdout.write(
    `${JSON.stringify({
      ok: true,
      connections,
      senders,
      rate,
      seconds,
      deliveries,
      deliveriesPerSecond: deliveries / seconds,
      sentPerSecond: Array.from(sent).reduce((a, b) => a + b, 0) / (warmup + seconds),
      latencyMs: latency,
      loadgenCpuPercent: ((cpu.user + cpu.system) / 1e6 / seconds) * 100,
      missingAfterDrain: missing(),
      outOfOrder,
      errorCodes,
      joinMessages,
    })}\n`,
  );
  for (const ws of clients) ws.terminate();
  process.exit(0);
}

await main();
