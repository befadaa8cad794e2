// Chat through the whole bundled server (`bufferevent serve`): login session, Origin check, routing,
// the chat consumer (JSON in, history and presence, the per-user rate limit, one groupBroadcast of a
// JSON message per chat message). 1,000 WebSocket clients in one room at /ws/chat/<room>/, 1 and 10
// of them sending, each sender paced at --rate messages a second (the chat refuses more than 5 a
// second per user); deliveries/s, per-delivery p50/p99, server CPU and RSS, the load generator's CPU
// (a Node process, bench/clients/chat-clients.mjs). Rows: in-memory layer; Redis (a throwaway
// redis-server: layer and sessions in Redis); Redis with `--workers 2`; and, for comparison under the
// same load, the raw Channels consumer + groupBroadcast server of bench/channels-chat.mjs (no login,
// no JSON). Before them, logins per second (scrypt) through GET + POST /login.
// Prints a markdown section on stdout, progress on stderr.
// Usage: node bench/server-chat.mjs [--duration 5] [--warmup 2] [--runs 1] [--connections 1000]
//   [--senders 1,10] [--rate 5] [--size 64] [--logins 20]
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import {
  SERVER_DIST,
  login,
  measureLogins,
  prepareServerDir,
  startBundledServer,
} from './lib/bundled-server.mjs';
import { runClientProcess } from './lib/client-process.mjs';
import { pinning } from './lib/pinning.mjs';
import { redisServerVersion, startRedisServer } from './lib/redis-server.mjs';
import { startServer } from './lib/server.mjs';
import { formatNumber, markdownTable } from './lib/table.mjs';
import { treePeakRssMiB, windowCpu } from './lib/window-cpu.mjs';

const path = (relative) => fileURLToPath(new URL(relative, import.meta.url));
const CLIENTS = path('clients/chat-clients.mjs');
const ROOM = 'lobby';
const WORKERS_UNAVAILABLE = 'workers: not available in this build';

const { values } = parseArgs({
  strict: false, // bench/run.mjs passes every script the same options
  options: {
    duration: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '2' },
    runs: { type: 'string', default: '1' },
    connections: { type: 'string', default: '1000' },
    senders: { type: 'string', default: '1,10' },
    rate: { type: 'string', default: '5' },
    size: { type: 'string', default: '64' },
    logins: { type: 'string', default: '20' },
  },
});
const numberOption = (name, min) => {
  const value = Number(values[name]);
  if (!(value >= min) || !Number.isFinite(value)) {
    process.stderr.write(`--${name} must be a number >= ${min}, got '${values[name]}'\n`);
    process.exit(64);
  }
  return value;
};
const duration = numberOption('duration', 1);
const warmup = numberOption('warmup', 0);
const runs = numberOption('runs', 1);
const connections = numberOption('connections', 1);
const rate = numberOption('rate', 0.1);
const size = numberOption('size', 32);
const loginCount = numberOption('logins', 1);
const senderCounts = values.senders.split(',').map(Number);
if (senderCounts.some((n) => !Number.isSafeInteger(n) || n < 1 || n > connections)) {
  process.stderr.write(`--senders must be integers in [1, --connections], got '${values.senders}'\n`);
  process.exit(64);
}

const VARIANTS = [
  { name: 'bundled server, in-memory layer', redis: false, workers: 1 },
  { name: 'bundled server, Redis layer + sessions', redis: true, workers: 1 },
  { name: 'bundled server, Redis, --workers 2', redis: true, workers: 2 },
  { name: 'raw Channels consumer + groupBroadcast (no login, no JSON)', raw: true },
];

/** Starts one variant's server(s); gives { server, helperPids, urls, origin, cookies, raw, stop }. */
async function startVariant(variant, userCount) {
  let redis = null;
  if (variant.redis) redis = await startRedisServer();
  const stopRedis = async () => redis && (await redis.stop());
  try {
    if (variant.raw) {
      const server = await startServer({
        name: variant.name,
        command: process.execPath,
        args: [path('servers/channels-chat.mjs'), '--fanout', 'broadcast', '--layer', 'memory'],
      });
      const origin = `http://127.0.0.1:${server.port}`;
      return {
        server,
        helperPids: [],
        urls: [`ws://127.0.0.1:${server.port}/ws/chat/${ROOM}/`],
        origin,
        cookies: null,
        raw: true,
        stop: async () => (await server.stop()).peakRssKiB / 1024,
      };
    }
    const dir = prepareServerDir({
      userCount,
      config: { ...(redis ? { redis: redis.url } : {}) },
    });
    let server;
    try {
      server = await startBundledServer(
        dir.configPath,
        variant.workers > 1 ? ['--workers', String(variant.workers)] : [],
      );
    } catch (error) {
      dir.cleanup();
      throw error;
    }
    // One login per user; that user's clients share its session (the rate limit is per user, so
    // sender s is user s). A browser would log in once per person: logins are measured apart.
    const cookies = [];
    try {
      for (let i = 0; i < userCount; i++) cookies.push(await login(server.origin, `bench${i}`));
    } catch (error) {
      await server.stop();
      dir.cleanup();
      throw error;
    }
    return {
      server,
      helperPids: redis ? [redis.pid] : [],
      urls: [`${server.origin.replace('http', 'ws')}/ws/chat/${ROOM}/`],
      origin: server.origin,
      cookies,
      raw: false,
      stop: async () => {
        const rss = treePeakRssMiB(server.pid);
        await server.stop();
        await stopRedis();
        dir.cleanup();
        return rss;
      },
    };
  } catch (error) {
    await stopRedis();
    throw error;
  }
}

async function measureChat(variant, senders) {
  let started;
  try {
    started = await startVariant(variant, senders);
  } catch (error) {
    if (variant.workers > 1 && error.refused)
      return { unavailable: WORKERS_UNAVAILABLE, detail: error.message };
    return { error: error.message };
  }
  const cpu = windowCpu(started.server.pid, started.helperPids);
  let run;
  try {
    run = await runClientProcess(
      CLIENTS,
      {
        urls: started.urls,
        origin: started.origin,
        cookies: started.cookies,
        connections,
        senders,
        rate,
        size,
        warmup,
        duration,
        raw: started.raw,
      },
      {
        limitMs: (warmup + duration) * 1000 + 120_000,
        onMeasureStart: cpu.start,
        onMeasureEnd: cpu.end,
      },
    );
  } catch (error) {
    run = { result: { ok: false, error: error.message } };
  }
  const peakRssMiB = await started.stop();
  const result = run.result ?? { ok: false, error: `load generator exited ${run.exitCode} without a result` };
  if (!result.ok) return { error: result.error };
  return { ...result, ...cpu.result(result.loadgenCpuPercent), peakRssMiB };
}

const HEADERS = [
  'senders',
  'server',
  'deliveries/s',
  'p50 ms',
  'p99 ms',
  'server CPU %',
  'server waiting for CPU %',
  'Redis CPU %',
  'deliveries per server CPU-s',
  'server RSS MB',
  'peak RSS MB',
  'loadgen CPU %',
  'gaps / undelivered / errors',
];

function row(senders, name, m) {
  if (m.unavailable || m.error)
    return [String(senders), name, m.unavailable ?? 'failed', ...HEADERS.slice(3).map(() => '–')];
  const serverSide = m.serverCpuPercent + (m.helperCpuPercent ?? 0);
  const errors = Object.entries(m.errorCodes)
    .map(([code, count]) => `${count} ${code}`)
    .join(', ');
  return [
    String(senders),
    name,
    formatNumber(m.deliveriesPerSecond),
    formatNumber(m.latencyMs.p50, 2),
    formatNumber(m.latencyMs.p99, 2),
    formatNumber(m.serverCpuPercent),
    formatNumber(m.serverWaitingPercent),
    formatNumber(m.helperCpuPercent),
    formatNumber(m.deliveriesPerSecond / (serverSide / 100)),
    formatNumber(m.serverRssMiB, 1),
    formatNumber(m.peakRssMiB, 1),
    formatNumber(m.loadgenCpuPercent),
    `${m.outOfOrder} / ${m.missingAfterDrain}${errors ? ` / ${errors}` : ''}`,
  ];
}

async function measureLoginRate() {
  const dir = prepareServerDir({ userCount: 4, config: {} });
  try {
    const server = await startBundledServer(dir.configPath);
    try {
      const results = [];
      for (const concurrency of [1, 4])
        results.push(await measureLogins(server, dir.usernames, { count: loginCount, concurrency }));
      return results;
    } finally {
      await server.stop();
    }
  } finally {
    dir.cleanup();
  }
}

async function main() {
  if (!existsSync(SERVER_DIST)) {
    process.stderr.write('dist/ is not built: run npm run build (addon and TypeScript) first\n');
    process.exit(1);
  }
  const notes = [];
  const haveRedis = redisServerVersion() !== null;
  if (!haveRedis) notes.push('Redis rows skipped: no redis-server on the PATH');
  process.stderr.write('logins: measuring\n');
  const logins = await measureLoginRate();

  const rows = [];
  let failed = false;
  for (const senders of senderCounts) {
    for (const variant of VARIANTS) {
      if (variant.redis && !haveRedis) continue;
      const measured = [];
      for (let round = 1; round <= runs; round++) {
        process.stderr.write(`[${senders} sender(s), run ${round}/${runs}] ${variant.name}\n`);
        const m = await measureChat(variant, senders);
        measured.push(m);
        if (m.unavailable || m.error) break;
      }
      const bad = measured.find((m) => m.unavailable || m.error);
      if (bad?.error) {
        failed = true;
        notes.push(
          `${senders} sender(s), ${variant.name}: FAILED: ${bad.error.split('\n')[0].slice(0, 300)}`,
        );
      }
      if (bad?.unavailable && !notes.some((n) => n.startsWith(WORKERS_UNAVAILABLE)))
        notes.push(
          `${WORKERS_UNAVAILABLE} (\`serve --workers 2\` was refused: ${bad.detail.split('\n')[0].slice(0, 200)})`,
        );
      const ok = measured.filter((m) => !m.error && !m.unavailable);
      ok.sort((a, b) => a.deliveriesPerSecond - b.deliveriesPerSecond);
      const shown = bad ?? ok[Math.floor((ok.length - 1) / 2)];
      for (const m of ok)
        if (m.otherCpuPercent > 10)
          notes.push(
            `${senders} sender(s), ${variant.name}: other processes used ${m.otherCpuPercent.toFixed(0)}% CPU during a run`,
          );
      rows.push(row(senders, variant.name, shown));
    }
  }

  const loginRows = logins.map((l) => [
    String(l.concurrency),
    formatNumber(l.perSecond, 1),
    formatNumber(l.msEach, 1),
    formatNumber(l.serverCpuMsEach, 1),
    formatNumber(l.serverCpuPercent),
  ]);
  const output = [
    `### Through the bundled server: chat, ${connections} clients in one room`,
    '',
    `**Logins** (\`GET /login\` for the session cookie and CSRF token, then \`POST /login\`: the ` +
      `password checked with scrypt, a new session), ${loginCount} per row, one user at a time or 4 at once:`,
    '',
    markdownTable(
      ['concurrent', 'logins/s', 'ms per login (wall)', 'server CPU ms per login', 'server CPU %'],
      loginRows,
      {
        alignRight: [0, 1, 2, 3, 4],
      },
    ),
    '',
    `**Chat**: ${connections} WebSocket clients in room \`${ROOM}\` (\`/ws/chat/${ROOM}/\`, with the session ` +
      `cookie and the server's Origin); one login per user and that user's clients share its cookie ` +
      `(sender *s* is user *s*, the other clients spread over the same users). After every client has ` +
      `its history and the presence messages have settled, the first ${senderCounts.join(' or ')} clients ` +
      `each send ${rate} messages a second (the chat's per-user limit is 5 a second, bursts of 20), ` +
      `${size} characters of text each; every client gets every message, sender included. ${duration} s ` +
      `measured after ${warmup} s; ${runs} run${runs > 1 ? 's' : ''} per row (the median by deliveries/s). ` +
      'A delivery is one message arriving at one client, parsed as JSON; latency is per delivery, from ' +
      "the sender queueing it to the client's `message` event. Gaps counts messages a client got out " +
      "of its sender's order (a message lost or reordered); undelivered counts deliveries still on " +
      'their way 15 s after the senders stopped (an overloaded run leaves a backlog: not lost unless ' +
      "it stays); errors are the server's `error` messages " +
      "(`rate_limited` means the pacing was above the limit). Server CPU and RSS cover the server's " +
      'process tree (workers included); RSS is at the end of the window, peak RSS (VmHWM) includes ' +
      'the logins (scrypt takes 32 MiB while it hashes); deliveries per server CPU-s divides ' +
      "by the server side's CPU (servers and redis-server). Server waiting for CPU is the time the " +
      "server's main thread was runnable but not running (its schedstat): on a shared machine, the part " +
      'of the window other processes took from it. The load generator is a Node process ' +
      '(`bench/clients/chat-clients.mjs`, the `ws` package) on its own CPU.',
    '',
    markdownTable(HEADERS, rows, { alignRight: [0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] }),
    '',
    `- ${pinning().note}; redis-server, when used, on the server's CPU.`,
    ...notes.map((note) => `- ${note}`),
  ];
  process.stdout.write(`${output.join('\n')}\n`);
  if (failed) process.exitCode = 1;
}

await main();
