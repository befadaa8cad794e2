// Deflate-filter throughput: 64 MiB of generated log lines compressed by a sender and inflated by a
// receiver in one process over a 127.0.0.1 TCP connection, through the binding's native zlib
// filters and through node:zlib streams piped into node:net, alternating. Prints a markdown section.
// Usage: node bench/deflate-filter.mjs [--runs R] (at least 3; --duration is ignored: the workload
// is a fixed size)
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer } from 'node:net';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { constants as zlibConstants, createDeflate, createInflate } from 'node:zlib';

import { BEV, Bufferevent, EV, Listener, filters } from '../dist/index.js';
import { formatNumber, formatRatio, markdownTable } from './lib/table.mjs';

const TOTAL_BYTES = 64 * 1024 * 1024;
const CHUNK_BYTES = 1024 * 1024; // what the sender hands over per write
const MIN_RUNS = 3; // a median needs a middle run
// One transfer that has not finished after this long is stuck: the script fails.
const RUN_TIMEOUT_MS = 120_000;
// Both sides use zlib's defaults; stated explicitly so the two cannot drift apart.
const ZLIB_LEVEL = zlibConstants.Z_DEFAULT_COMPRESSION; // level 6
const ZLIB_WINDOW_BITS = 15;

function readOptions() {
  // Not strict: bench/run.mjs passes every script the same options, some meant for others.
  const { values } = parseArgs({ strict: false, options: { runs: { type: 'string', default: '3' } } });
  const runs = Number(values.runs);
  if (!Number.isSafeInteger(runs) || runs <= 0) {
    process.stderr.write('--runs must be a positive integer\n');
    process.exit(64);
  }
  return { runs: Math.max(MIN_RUNS, runs) };
}

/**
 * Deterministic access-log lines (a fixed-seed PRNG picks the fields), cut into CHUNK_BYTES views
 * of one buffer. Compressible the way real logs are: repeated keys, varying numbers.
 */
function generateLogChunks() {
  let seed = 0x9e3779b9;
  const random = (limit) => {
    // xorshift32
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % limit;
  };
  const methods = ['GET', 'GET', 'GET', 'POST', 'PUT', 'DELETE'];
  const paths = ['/api/v1/items', '/api/v1/users', '/api/v1/orders', '/static/app.js', '/healthz'];
  const statuses = [200, 200, 200, 200, 201, 204, 304, 404, 500];
  const levels = ['INFO', 'INFO', 'INFO', 'WARN', 'DEBUG'];
  const data = Buffer.allocUnsafe(TOTAL_BYTES);
  let offset = 0;
  let millis = Date.UTC(2026, 0, 1);
  while (offset < TOTAL_BYTES) {
    millis += random(50);
    const line =
      `${new Date(millis).toISOString()} ${levels[random(levels.length)]} http ` +
      `method=${methods[random(methods.length)]} path=${paths[random(paths.length)]}/${random(100000)} ` +
      `status=${statuses[random(statuses.length)]} bytes=${random(65536)} duration_ms=${random(250)} ` +
      `client=10.${random(4)}.${random(256)}.${random(256)} request_id=${random(0x7fffffff).toString(16).padStart(8, '0')}\n`;
    offset += data.write(line, offset, 'latin1');
  }
  const chunks = [];
  for (let start = 0; start < TOTAL_BYTES; start += CHUNK_BYTES)
    chunks.push(data.subarray(start, start + CHUNK_BYTES));
  return { chunks, sha256: createHash('sha256').update(data).digest('hex') };
}

/**
 * Payload bytes the kernel received on the TCP connection whose local end is 127.0.0.1:`port` (the
 * receiver's), from `ss` (TCP_INFO bytes_received), once the FIN has arrived; null without ss.
 */
function tcpBytesReceived(port) {
  try {
    const output = execFileSync('ss', ['-tinH', 'src', `127.0.0.1:${port}`], { encoding: 'utf8' });
    const match = /bytes_received:(\d+)/.exec(output);
    // Called after the peer's FIN, which takes one sequence number and is counted as a byte.
    return match ? Number(match[1]) - 1 : null;
  } catch {
    return null;
  }
}

function withTimeout(promise, label) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${label}: not finished after ${RUN_TIMEOUT_MS} ms`)),
      RUN_TIMEOUT_MS,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Connects a socket bufferevent to 127.0.0.1:`port`; resolves once CONNECTED arrived. */
function connectSocket(port) {
  return new Promise((resolve, reject) => {
    const socket = Bufferevent.socket();
    socket.setCallbacks({
      event(bev, events, error) {
        bev.setCallbacks({});
        if (events & BEV.CONNECTED) resolve(socket);
        else {
          bev.free();
          reject(error ?? new Error(`connect event 0x${events.toString(16)}`));
        }
      },
    });
    socket.connect({ host: '127.0.0.1', port });
  });
}

/**
 * The binding: a deflate output filter over the connected socket, an inflate input filter over the
 * accepted one. The sender writes a chunk whenever the filter's output has drained, then ends the
 * stream with flush(EV.WRITE, BEV.FINISHED) and shuts its socket down once the tail is sent.
 */
async function runBinding(chunks, stopClock) {
  const hash = createHash('sha256');
  let received = 0;
  let wireBytes = null;
  let receiver;
  let sender;
  let failTransfer;
  let listener;
  let port;
  const receivedAll = new Promise((resolve, reject) => {
    failTransfer = reject;
    listener = Listener.listen({ host: '127.0.0.1', port: 0 }, (fd) => {
      listener.close();
      const accepted = Bufferevent.socket({ fd });
      receiver = Bufferevent.filter(accepted, {
        input: filters.inflate({ windowBits: ZLIB_WINDOW_BITS }),
      });
      receiver.setCallbacks({
        read(bev) {
          const data = bev.read();
          received += data.length;
          hash.update(data);
        },
        event(bev, events, error) {
          if (events & BEV.EOF) {
            stopClock(); // before running ss, which forks
            wireBytes = tcpBytesReceived(port);
            resolve();
          } else reject(error ?? new Error(`receiver event 0x${events.toString(16)}`));
        },
      });
      receiver.enable(EV.READ);
    });
    port = listener.address.port;
  });

  const send = async () => {
    // Connected before the filter goes on: the binding's socket wrapper learns of CONNECTED only
    // through its own event callback, which the filter replaces; a socket that connects under a
    // filter stays "connecting" for the binding, and shutdownWrite() then waits for CONNECTED forever.
    const socket = await connectSocket(port);
    sender = Bufferevent.filter(socket, {
      output: filters.deflate({ level: ZLIB_LEVEL, windowBits: ZLIB_WINDOW_BITS }),
    });
    let next = 0;
    let finished = false;
    const feed = (bev) => {
      if (next < chunks.length) {
        bev.write(chunks[next++]);
      } else if (!finished) {
        finished = true;
        bev.flush(EV.WRITE, BEV.FINISHED);
        // The flush ends the deflate stream but leaves the TCP connection open (libevent 2.1's
        // socket flush is a no-op), so the receiver would never see EOF; shutdownWrite() sends the
        // FIN once the compressed tail has left the socket's output.
        bev.shutdownWrite();
      }
    };
    sender.setCallbacks({
      write: feed,
      event(bev, events, error) {
        if (events & (BEV.ERROR | BEV.EOF))
          failTransfer(error ?? new Error(`sender event 0x${events.toString(16)}`));
      },
    });
    sender.enable(EV.WRITE);
    feed(sender);
    await receivedAll;
  };

  try {
    await withTimeout(send(), 'binding');
  } finally {
    listener.close();
    if (sender && !sender.freed) sender.free();
    if (receiver && !receiver.freed) receiver.free();
  }
  return { received, digest: hash.digest('hex'), wireBytes };
}

/** node: zlib.createDeflate() piped into a net.Socket; the server pipes its socket into createInflate(). */
async function runNode(chunks, stopClock) {
  const hash = createHash('sha256');
  let received = 0;
  let wireBytes = null;
  const server = createServer();
  const serverDone = new Promise((resolve, reject) => {
    server.once('connection', (socket) => {
      server.close();
      const sink = new Writable({
        write(data, _encoding, callback) {
          received += data.length;
          hash.update(data);
          callback();
        },
      });
      socket.once('end', () => (wireBytes = socket.bytesRead)); // equals what ss reports
      pipeline(socket, createInflate({ windowBits: ZLIB_WINDOW_BITS }), sink).then(() => {
        stopClock();
        resolve();
      }, reject);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const socket = connect({ host: '127.0.0.1', port: server.address().port });
  const clientDone = pipeline(
    Readable.from(chunks),
    createDeflate({ level: ZLIB_LEVEL, windowBits: ZLIB_WINDOW_BITS }),
    socket,
  );
  try {
    await withTimeout(Promise.all([clientDone, serverDone]), 'node');
  } finally {
    socket.destroy();
    server.close();
  }
  return { received, digest: hash.digest('hex'), wireBytes };
}

const VARIANTS = [
  { name: 'binding: filters.deflate() → TCP → filters.inflate()', run: runBinding },
  { name: 'node: zlib.createDeflate() → net → zlib.createInflate()', run: runNode },
];

async function measure(variant, chunks, expectedSha256) {
  let wallMs;
  let cpu;
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  // The receiver stops the clock once it holds every byte, before any bookkeeping of its own.
  const stopClock = () => {
    wallMs ??= performance.now() - start;
    cpu ??= process.cpuUsage(cpuBefore);
  };
  const result = await variant.run(chunks, stopClock);
  stopClock();
  if (result.received !== TOTAL_BYTES || result.digest !== expectedSha256) {
    throw new Error(
      `${variant.name}: received ${result.received} bytes with sha256 ${result.digest}, ` +
        `expected ${TOTAL_BYTES} with ${expectedSha256}`,
    );
  }
  return {
    wallMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    mbPerSecond: TOTAL_BYTES / 1e6 / (wallMs / 1000),
    wireBytes: result.wireBytes,
  };
}

async function main() {
  const { runs } = readOptions();
  const { chunks, sha256 } = generateLogChunks();
  // BENCH_ONLY=<regexp> runs only the matching pipelines (say, to profile one); the table then lacks the rest.
  const only = process.env.BENCH_ONLY ? new RegExp(process.env.BENCH_ONLY) : null;
  const variants = VARIANTS.filter((variant) => !only || only.test(variant.name));
  const results = new Map(variants.map((variant) => [variant, []]));
  // Alternating, so a slow drift in machine load touches both alike.
  for (let run = 1; run <= runs; run++) {
    for (const variant of variants) {
      const result = await measure(variant, chunks, sha256);
      process.stderr.write(
        `[run ${run}/${runs}] ${variant.name}: ${result.mbPerSecond.toFixed(1)} MB/s, ` +
          `wall ${result.wallMs.toFixed(0)} ms, CPU ${result.cpuMs.toFixed(0)} ms, wire ${result.wireBytes} bytes\n`,
      );
      results.get(variant).push(result);
    }
  }

  const summaries = variants.map((variant) => {
    const sorted = [...results.get(variant)].sort((a, b) => a.mbPerSecond - b.mbPerSecond);
    return {
      variant,
      median: sorted[Math.floor((sorted.length - 1) / 2)],
      min: sorted[0],
      max: sorted.at(-1),
    };
  });
  const nodeSpeed = summaries.find(({ variant }) => variant === VARIANTS[1])?.median.mbPerSecond;
  const rows = summaries.map(({ variant, median, min, max }) => [
    variant.name,
    `${formatNumber(median.mbPerSecond, 1)} (${formatNumber(min.mbPerSecond, 1)}–${formatNumber(max.mbPerSecond, 1)})`,
    formatRatio(median.mbPerSecond, nodeSpeed),
    median.wireBytes === null
      ? '–'
      : `${median.wireBytes} (${formatNumber((100 * median.wireBytes) / TOTAL_BYTES, 2)}%)`,
    formatNumber(median.cpuMs),
    formatNumber(median.wallMs),
    formatNumber((100 * median.cpuMs) / median.wallMs),
  ]);
  const headers = ['pipeline', 'MB/s', 'vs node', 'bytes on the wire', 'CPU ms', 'wall ms', 'CPU % of wall'];
  console.log(`### Deflate filter: 64 MiB of log lines over 127.0.0.1

64 MiB of generated access-log lines (deterministic) deflated by a sender and inflated by a receiver in one process over one loopback TCP connection, zlib level 6 (Z_DEFAULT_COMPRESSION) and windowBits 15 on both sides, every received byte checked against the input's SHA-256; ${runs} runs each, alternating, the median run by MB/s shown (range in parentheses). MB/s is uncompressed bytes (10^6) per second of wall time, from connecting to the receiver holding the last byte; CPU is the whole process over the same span (user + system, all threads: node:zlib works on the libuv thread pool, the binding's filters on the main thread); bytes on the wire are what the receiving socket read.

${markdownTable(headers, rows, { alignRight: [1, 2, 3, 4, 5, 6] })}
`);
}

await main();
