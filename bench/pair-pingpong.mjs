// In-process ping-pong: 64-byte messages bounced through a Bufferevent.pair() with JavaScript
// callbacks on both ends, next to a node:net loopback connection and a node:stream Duplex pair in
// the same run. Prints a markdown section. Usage:
// node bench/pair-pingpong.mjs [--duration S] [--runs R] [--warmup S]
// Each measurement runs in a child process of its own (this script with --child): in one shared
// process the driver's JIT feedback from the first transports slowed the later ones by up to 2×.
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { createServer, connect } from 'node:net';
import { Duplex, PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { formatNumber, formatRatio, markdownTable } from './lib/table.mjs';

const MESSAGE_BYTES = 64;
const DEPTHS = [1, 32];
// A run that has not finished this long after its planned end is stuck: the script fails.
const STALL_GRACE_MS = 10_000;
// Time a child may take on top of the run itself (start-up, loading the addon).
const CHILD_START_MS = 10_000;

function readOptions() {
  // Not strict: bench/run.mjs passes every script the same options, some meant for others.
  const { values } = parseArgs({
    strict: false,
    options: {
      duration: { type: 'string', default: '3' },
      runs: { type: 'string', default: '3' },
      warmup: { type: 'string', default: '0.5' },
      child: { type: 'string' }, // internal: "<transport index>:<depth>", measure once, print JSON
    },
  });
  const positive = (name, { integer = false, zeroAllowed = false } = {}) => {
    const value = Number(values[name]);
    if (!(value > 0 || (zeroAllowed && value === 0)) || (integer && !Number.isSafeInteger(value))) {
      process.stderr.write(`--${name} must be a positive ${integer ? 'integer' : 'number'}\n`);
      process.exit(64);
    }
    return value;
  };
  return {
    durationMs: positive('duration') * 1000,
    runs: positive('runs', { integer: true }),
    warmupMs: positive('warmup', { zeroAllowed: true }) * 1000,
    child: typeof values.child === 'string' ? values.child : null,
  };
}

// Each transport opens a connection whose far end echoes every byte, and hands every chunk that
// arrives at the near end to onChunk. send() must not keep a reference the caller reuses: the
// driver allocates each message afresh.
const TRANSPORTS = [
  {
    name: 'Bufferevent.pair()',
    async open(onChunk) {
      // Loaded here, so the node-only children never load the addon.
      const { Bufferevent, EV } = await import('../dist/index.js');
      const [near, far] = Bufferevent.pair();
      // The echo moves the input evbuffer to the output whole, without copying it through JavaScript.
      far.setCallbacks({ read: (bev) => bev.write(bev.input) });
      far.enable(EV.READ | EV.WRITE);
      near.setWatermark(EV.READ, MESSAGE_BYTES);
      near.setCallbacks({ read: (bev) => onChunk(bev.read()) });
      near.enable(EV.READ | EV.WRITE);
      return {
        send: (message) => near.write(message),
        close() {
          near.free();
          far.free();
        },
      };
    },
  },
  {
    name: 'node:net over 127.0.0.1',
    async open(onChunk) {
      const server = createServer({ noDelay: true }, (socket) =>
        socket.on('data', (chunk) => socket.write(chunk)),
      );
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      const socket = connect({ host: '127.0.0.1', port: server.address().port, noDelay: true });
      await once(socket, 'connect');
      socket.on('data', onChunk);
      return {
        send: (message) => socket.write(message),
        close() {
          socket.destroy();
          server.close();
          server.unref();
        },
      };
    },
  },
  {
    name: 'node:stream Duplex pair (2 PassThrough)',
    async open(onChunk) {
      const nearToFar = new PassThrough();
      const farToNear = new PassThrough();
      const near = Duplex.from({ readable: farToNear, writable: nearToFar });
      const far = Duplex.from({ readable: nearToFar, writable: farToNear });
      far.on('data', (chunk) => far.write(chunk));
      near.on('data', onChunk);
      return {
        send: (message) => near.write(message),
        close() {
          // Destroying a Duplex.from() duplex reports an AbortError; here it is the expected end.
          for (const end of [near, far]) {
            end.on('error', (error) => {
              if (error.code !== 'ABORT_ERR') throw error;
            });
            end.destroy();
          }
        },
      };
    },
  },
];

/** A growable array of doubles, sorted once at the end. */
class Samples {
  #values = new Float64Array(1 << 16);
  length = 0;
  push(value) {
    if (this.length === this.#values.length) {
      const grown = new Float64Array(this.#values.length * 2);
      grown.set(this.#values);
      this.#values = grown;
    }
    this.#values[this.length++] = value;
  }
  sorted() {
    return this.#values.slice(0, this.length).sort();
  }
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/**
 * Keeps `depth` messages in flight over one connection: warm-up, then `durationMs` measured, then
 * the messages still in flight are collected. Every message carries its sequence number, checked on
 * return. Resolves with round trips per second and round-trip percentiles in µs.
 */
async function measure(transport, depth, { durationMs, warmupMs }) {
  const template = Buffer.alloc(MESSAGE_BYTES, 'pingpong-');
  const sentAt = new Float64Array(depth); // by sequence number modulo depth: returns are FIFO
  const rtts = new Samples();
  let nextSeq = 0;
  let expectedSeq = 0;
  let inFlight = 0;
  let pending = null; // bytes of an incomplete message
  let phase = 'warmup';
  let measureStart = 0;
  let measureEnd = 0;
  let measured = 0;
  let finish;
  let fail;
  const done = new Promise((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  const plannedEnd = performance.now() + warmupMs + durationMs;
  let connection;

  const sendOne = () => {
    const message = Buffer.allocUnsafe(MESSAGE_BYTES);
    template.copy(message);
    message.writeUInt32LE(nextSeq >>> 0, 0);
    sentAt[nextSeq % depth] = performance.now();
    nextSeq++;
    inFlight++;
    connection.send(message);
  };

  const onMessage = (message, offset, now) => {
    const seq = message.readUInt32LE(offset);
    if (seq !== expectedSeq >>> 0) {
      fail(new Error(`${transport.name}: message ${seq} arrived where ${expectedSeq} was due`));
      phase = 'failed';
      return;
    }
    const rttUs = (now - sentAt[expectedSeq % depth]) * 1000;
    expectedSeq++;
    inFlight--;
    if (phase === 'warmup' && now >= plannedEnd - durationMs) {
      phase = 'measure';
      measureStart = now;
    } else if (phase === 'measure') {
      if (now >= measureStart + durationMs) {
        phase = 'drain';
        measureEnd = now;
      } else {
        measured++;
        rtts.push(rttUs);
      }
    }
    if (phase === 'warmup' || phase === 'measure') sendOne();
    else if (phase === 'drain' && inFlight === 0) finish();
  };

  const onChunk = (chunk) => {
    if (phase === 'failed') return;
    const now = performance.now();
    let bytes = chunk;
    if (pending) {
      bytes = Buffer.concat([pending, chunk]);
      pending = null;
    }
    let offset = 0;
    for (; offset + MESSAGE_BYTES <= bytes.length; offset += MESSAGE_BYTES) {
      onMessage(bytes, offset, now);
      if (phase === 'failed') return;
    }
    if (offset < bytes.length) pending = bytes.subarray(offset);
  };

  connection = await transport.open(onChunk);
  const watchdog = setTimeout(
    () => fail(new Error(`${transport.name}, depth ${depth}: stalled (${inFlight} messages in flight)`)),
    warmupMs + durationMs + STALL_GRACE_MS,
  );
  try {
    for (let i = 0; i < depth; i++) sendOne();
    await done;
  } finally {
    clearTimeout(watchdog);
    connection.close();
  }
  const sorted = rtts.sorted();
  return {
    perSecond: measured / ((measureEnd - measureStart) / 1000),
    p50Us: percentile(sorted, 50),
    p99Us: percentile(sorted, 99),
  };
}

/** Runs one measurement in a fresh process; resolves with its result. */
function measureInChild(variant, options) {
  const args = [
    fileURLToPath(import.meta.url),
    '--child',
    `${TRANSPORTS.indexOf(variant.transport)}:${variant.depth}`,
    '--duration',
    String(options.durationMs / 1000),
    '--warmup',
    String(options.warmupMs / 1000),
  ];
  const timeout = options.warmupMs + options.durationMs + STALL_GRACE_MS + CHILD_START_MS;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { timeout }, (error, stdout, stderr) => {
      if (error)
        reject(new Error(`${variant.transport.name}, depth ${variant.depth}: ${stderr || error.message}`));
      else resolve(JSON.parse(stdout));
    });
  });
}

async function main() {
  const options = readOptions();
  if (options.child) {
    const [transportIndex, depth] = options.child.split(':').map(Number);
    const result = await measure(TRANSPORTS[transportIndex], depth, options);
    process.stdout.write(JSON.stringify(result));
    return;
  }
  // BENCH_ONLY=<regexp> keeps the variants whose label ("<transport>, depth <n>") matches, say to
  // profile one; the pair rows are the reference for the 'vs pair' column.
  const only = process.env.BENCH_ONLY ? new RegExp(process.env.BENCH_ONLY) : null;
  const variants = DEPTHS.flatMap((depth) => TRANSPORTS.map((transport) => ({ transport, depth }))).filter(
    ({ transport, depth }) => !only || only.test(`${transport.name}, depth ${depth}`),
  );
  const results = new Map(variants.map((variant) => [variant, []]));
  // Round-robin, so a slow drift in machine load touches every variant alike.
  for (let run = 1; run <= options.runs; run++) {
    for (const variant of variants) {
      const result = await measureInChild(variant, options);
      process.stderr.write(
        `[run ${run}/${options.runs}] ${variant.transport.name}, depth ${variant.depth}: ` +
          `${result.perSecond.toFixed(0)} round trips/s, p50 ${result.p50Us.toFixed(1)} µs, p99 ${result.p99Us.toFixed(1)} µs\n`,
      );
      results.get(variant).push(result);
    }
  }

  const medianOf = (variant) => {
    const runs = [...results.get(variant)].sort((a, b) => a.perSecond - b.perSecond);
    return { median: runs[Math.floor((runs.length - 1) / 2)], min: runs[0], max: runs.at(-1) };
  };
  const rows = variants.map((variant) => {
    const { median, min, max } = medianOf(variant);
    const pairVariant = variants.find((v) => v.depth === variant.depth && v.transport === TRANSPORTS[0]);
    const pairSpeed = pairVariant ? medianOf(pairVariant).median.perSecond : undefined;
    let rate = formatNumber(median.perSecond);
    if (max.perSecond > min.perSecond)
      rate += ` (${formatNumber(min.perSecond)}–${formatNumber(max.perSecond)})`;
    return [
      variant.transport.name,
      String(variant.depth),
      rate,
      formatRatio(median.perSecond, pairSpeed),
      formatNumber(median.p50Us, 1),
      formatNumber(median.p99Us, 1),
    ];
  });
  const headers = ['transport', 'in flight', 'round trips/s', 'vs pair', 'p50 µs', 'p99 µs'];
  console.log(`### In-process ping-pong: Bufferevent.pair() vs node:net and node:stream

One ${MESSAGE_BYTES}-byte message (or ${DEPTHS[1]} at once) bounced between two ends in one process, a JavaScript callback on each end (the echo end writes back what it read, the sending end reads each message, checks its sequence number and sends the next); ${options.durationMs / 1000} s measured after ${options.warmupMs / 1000} s of warm-up, each run in a fresh process, ${options.runs} run${options.runs === 1 ? '' : 's'} per row round-robin, the median run by round trips/s shown (range in parentheses); a round trip is one message there and back, timed from queued to read back.

${markdownTable(headers, rows, { alignRight: [1, 2, 3, 4, 5] })}
`);
}

await main();
