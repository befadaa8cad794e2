// Log tail through the whole bundled server (`bufferevent serve`): a log file appended at --rate
// lines a second by a writer process pacing itself (bench/clients/tail-writer.mjs, bounded to
// warm-up + duration + 1 s), watched by --viewers viewers through /ws/tail/, each logged in with its
// own session and started on the file (bench/clients/tail-viewers.mjs). Lines/s delivered per viewer
// and in total, p50/p99 from append to receipt (the append time is in each line), server CPU and
// RSS, the lines skipped for viewers that fell behind ("skipped" notices). Rows: in-memory layer,
// Redis (sessions and layer in a throwaway redis-server), Redis with `--workers 2`.
// Prints a markdown section on stdout, progress on stderr.
// Usage: node bench/server-tail.mjs [--duration 5] [--warmup 2] [--viewers 100] [--rate 50000]
//   [--line-bytes 100]
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { SERVER_DIST, login, prepareServerDir, startBundledServer } from './lib/bundled-server.mjs';
import { runClientProcess } from './lib/client-process.mjs';
import { pinning } from './lib/pinning.mjs';
import { redisServerVersion, startRedisServer } from './lib/redis-server.mjs';
import { formatNumber, markdownTable } from './lib/table.mjs';
import { treePeakRssMiB, windowCpu } from './lib/window-cpu.mjs';

const path = (relative) => fileURLToPath(new URL(relative, import.meta.url));
const VIEWERS = path('clients/tail-viewers.mjs');
const WRITER = path('clients/tail-writer.mjs');
const LOG_ID = 'bench';
const LOGIN_CONCURRENCY = 4;
const WORKERS_UNAVAILABLE = 'workers: not available in this build';

const { values } = parseArgs({
  strict: false, // bench/run.mjs passes every script the same options
  options: {
    duration: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '2' },
    viewers: { type: 'string', default: '100' },
    rate: { type: 'string', default: '50000' },
    'line-bytes': { type: 'string', default: '100' },
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
const viewers = numberOption('viewers', 1);
const rate = numberOption('rate', 1);
const lineBytes = numberOption('line-bytes', 40);

const VARIANTS = [
  { name: 'bundled server, in-memory layer', redis: false, workers: 1 },
  { name: 'bundled server, Redis layer + sessions', redis: true, workers: 1 },
  { name: 'bundled server, Redis, --workers 2', redis: true, workers: 2 },
];

/** One login per viewer, LOGIN_CONCURRENCY at a time. */
async function loginAll(origin, usernames) {
  const cookies = new Array(usernames.length);
  let next = 0;
  const worker = async () => {
    while (next < usernames.length) {
      const i = next++;
      cookies[i] = await login(origin, usernames[i]);
    }
  };
  await Promise.all(Array.from({ length: LOGIN_CONCURRENCY }, worker));
  return cookies;
}

async function measureTail(variant) {
  const redis = variant.redis ? await startRedisServer() : null;
  const dir = prepareServerDir({
    userCount: viewers,
    config: {
      logs: { [LOG_ID]: { path: 'app.log', title: 'benchmark log' } },
      ...(redis ? { redis: redis.url } : {}),
    },
  });
  const logFile = join(dir.dir, 'app.log');
  writeFileSync(logFile, '');
  let server;
  try {
    server = await startBundledServer(
      dir.configPath,
      variant.workers > 1 ? ['--workers', String(variant.workers)] : [],
    );
  } catch (error) {
    dir.cleanup();
    await redis?.stop();
    if (variant.workers > 1 && error.refused)
      return { unavailable: WORKERS_UNAVAILABLE, detail: error.message };
    return { error: error.message };
  }
  const cpu = windowCpu(server.pid, redis ? [redis.pid] : []);
  let writer = null;
  let result;
  try {
    const cookies = await loginAll(server.origin, dir.usernames);
    const writerSeconds = warmup + duration + 1;
    const run = await runClientProcess(
      VIEWERS,
      {
        url: `${server.origin.replace('http', 'ws')}/ws/tail/`,
        origin: server.origin,
        cookies,
        viewers,
        log: LOG_ID,
        warmup,
        duration,
      },
      {
        limitMs: (warmup + duration) * 1000 + 120_000,
        onReady: () => {
          writer = runClientProcess(
            WRITER,
            { file: logFile, rate, seconds: writerSeconds, lineBytes },
            { limitMs: writerSeconds * 1000 + 30_000 },
          ).catch((error) => ({ result: null, error })); // reported as no writer result
        },
        onMeasureStart: cpu.start,
        onMeasureEnd: cpu.end,
      },
    );
    result = run.result ?? { ok: false, error: `viewers exited ${run.exitCode} without a result` };
    const written = writer ? (await writer).result : null;
    result.writer = written;
  } catch (error) {
    result = { ok: false, error: error.message };
  }
  const peakRssMiB = treePeakRssMiB(server.pid);
  await server.stop();
  await redis?.stop();
  dir.cleanup();
  if (!result.ok) return { error: result.error };
  return {
    ...result,
    ...cpu.result(result.loadgenCpuPercent + (result.writer?.cpuPercent ?? 0)),
    peakRssMiB,
  };
}

const HEADERS = [
  'server',
  'lines/s written',
  'lines/s delivered (total)',
  'per viewer (min / median)',
  'p50 ms',
  'p99 ms',
  'skipped (viewers)',
  'server CPU %',
  'server waiting for CPU %',
  'lines per server CPU-s',
  'Redis CPU %',
  'server RSS MB',
  'peak RSS MB',
  'viewers CPU %',
  'writer CPU %',
];

function row(name, m) {
  if (m.unavailable || m.error) return [name, m.unavailable ?? 'failed', ...HEADERS.slice(2).map(() => '–')];
  return [
    name,
    formatNumber(m.writer?.linesPerSecond),
    formatNumber(m.linesPerSecondTotal),
    `${formatNumber(m.linesPerSecondPerViewer.min)} / ${formatNumber(m.linesPerSecondPerViewer.median)}`,
    formatNumber(m.latencyMs.p50, 1),
    formatNumber(m.latencyMs.p99, 1),
    `${m.skipped} (${m.viewersSkipping})`,
    formatNumber(m.serverCpuPercent),
    formatNumber(m.serverWaitingPercent),
    formatNumber(m.linesPerSecondTotal / ((m.serverCpuPercent + (m.helperCpuPercent ?? 0)) / 100)),
    formatNumber(m.helperCpuPercent),
    formatNumber(m.serverRssMiB, 1),
    formatNumber(m.peakRssMiB, 1),
    formatNumber(m.loadgenCpuPercent),
    formatNumber(m.writer?.cpuPercent),
  ];
}

async function main() {
  if (!existsSync(SERVER_DIST)) {
    process.stderr.write('dist/ is not built: run npm run build (addon and TypeScript) first\n');
    process.exit(1);
  }
  const notes = [];
  const haveRedis = redisServerVersion() !== null;
  if (!haveRedis) notes.push('Redis rows skipped: no redis-server on the PATH');
  const rows = [];
  let failed = false;
  for (const variant of VARIANTS) {
    if (variant.redis && !haveRedis) continue;
    process.stderr.write(`tail: ${variant.name}\n`);
    const m = await measureTail(variant);
    if (m.error) {
      failed = true;
      notes.push(`${variant.name}: FAILED: ${m.error.split('\n')[0].slice(0, 300)}`);
    } else if (m.unavailable) {
      notes.push(
        `${WORKERS_UNAVAILABLE} (\`serve --workers 2\` was refused: ${m.detail.split('\n')[0].slice(0, 200)})`,
      );
    } else {
      if (m.unexplainedGaps !== 0)
        notes.push(`${variant.name}: ${m.unexplainedGaps} lines missing without a skipped notice`);
      if (m.writer && m.lastSequence.min < m.writer.lines)
        notes.push(
          `${variant.name}: the slowest viewer had received ${m.lastSequence.min} of the ${m.writer.lines} lines written when the viewers stopped waiting (lines still queued in the file or the server, not lost)`,
        );
      if (m.otherCpuPercent > 10)
        notes.push(
          `${variant.name}: other processes used ${m.otherCpuPercent.toFixed(0)}% CPU during the window`,
        );
    }
    rows.push(row(variant.name, m));
  }
  const output = [
    `### Through the bundled server: log tail, ${viewers} viewers`,
    '',
    `A log file appended at ${rate} lines a second (${lineBytes} bytes each, newline included; a writer ` +
      'process pacing itself, appending the lines due every 5 ms in one write) and followed by ' +
      `${viewers} viewers through \`/ws/tail/\`, each with its own login session, started on the file ` +
      `before the writer begins. ${duration} s measured after ${warmup} s of lines. Lines/s delivered ` +
      'counts lines received by all viewers in the window (per viewer: the slowest and the median); ' +
      'latency runs from the append (its time is in the line) to the receipt of the batch holding the ' +
      "line, each line of a batch given its first line's latency (an upper bound). Skipped: lines the " +
      "server dropped from slow viewers' queues (sum of the `skipped` notices, and how many viewers got " +
      'one); a viewer that keeps up skips none. The viewers are one Node process that scans the ' +
      'batches as bytes (no JSON.parse: with 100 viewers it receives millions of lines a second); ' +
      'viewers CPU and writer CPU are theirs, on the load generator CPU. Lines per server CPU-s divides ' +
      "lines/s delivered by the server side's CPU: the cost of a delivered line, steadier than lines/s " +
      "when other processes take the server's core. Server waiting for CPU is the time its main " +
      'thread was runnable but not running (schedstat): what other processes took from it. RSS is at ' +
      'the end of the window; peak RSS (VmHWM) includes the logins, 4 at a time (scrypt takes 32 MiB ' +
      'while it hashes).',
    '',
    markdownTable(HEADERS, rows, { alignRight: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14] }),
    '',
    `- ${pinning().note}; redis-server, when used, on the server's CPU; the writer on the load generator's.`,
    ...notes.map((note) => `- ${note}`),
  ];
  process.stdout.write(`${output.join('\n')}\n`);
  if (failed) process.exitCode = 1;
}

await main();
