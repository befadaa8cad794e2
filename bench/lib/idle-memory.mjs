// Idle WebSocket connections against one server: the load generator's ws-idle mode opens N
// connections (a bounded number of handshakes at once) and holds them open; the server's resident
// memory (VmRSS) is read before and during the hold (once or twice), which gives memory per
// connection, and its CPU over the opening phase. Never throws: failures come back as `error`.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

import { runLoadgen } from './loadgen.mjs';
import { readCpuSeconds, readRunQueueSeconds, readSystemCpuSeconds } from './proc-stats.mjs';
import { startServer } from './server.mjs';

/** A fresh server settles (module loading, JIT, first GC) before its baseline is read. */
const SETTLE_MS = 500;
/** The in-hold reading is taken this far into the hold: after the last handshake's work. */
const READ_AT_FRACTION = 0.8;

function readRssKiB(pid) {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) : null;
}

function sample(pid) {
  return {
    cpu: readCpuSeconds(pid),
    waiting: readRunQueueSeconds(pid),
    system: readSystemCpuSeconds().busy,
    wall: performance.now() / 1000,
  };
}

/**
 * @param {{ name: string, command: string, args: string[], collectSignal?: string }} serverSpec
 *   `collectSignal`: a signal on which the server runs a full garbage collection (a Node server
 *   started with --expose-gc, see bench/servers/ws-echo-chat-app.mjs); absent: it has no collector
 * @param {{ connections: number, depth: number, hold: number, path?: string, loadgen?: object,
 *   readAt?: number, laterReadAt?: number, collectAt?: number[] }} options
 *   `depth`: handshakes under way at once; `hold`: seconds the connections stay open idle;
 *   `readAt`: seconds into the hold of the memory reading (default: 0.8 × hold);
 *   `laterReadAt`: seconds into the hold of a second memory reading (`kibPerConnectionLater`), for
 *   what a server gives back once its connections have been idle a while;
 *   `collectAt`: seconds into the hold at which the server's `collectSignal` is sent (nothing is
 *   sent to a server without one);
 *   `loadgen`: more runLoadgen options (say, `deflate` and the `chunkSize` of the one message each
 *   connection then exchanges first)
 * @returns {Promise<{ name: string, error?: string, handshakesPerSecond?: number,
 *   kibPerConnection?: number, kibPerConnectionLater?: number, rssBeforeMiB?: number, rssHeldMiB?: number,
 *   serverCpuPercent?: number, serverWaitingPercent?: number, otherCpuPercent?: number,
 *   loadgenCpuPercent?: number,
 *   loadgen?: object }>}
 */
export async function measureIdle(
  serverSpec,
  {
    connections,
    depth,
    hold,
    path = '/echo',
    loadgen = {},
    readAt = hold * READ_AT_FRACTION,
    laterReadAt,
    collectAt = [],
  },
) {
  const { name } = serverSpec;
  process.stderr.write(`${name}: starting (idle connections)\n`);
  let server;
  try {
    server = await startServer(serverSpec);
  } catch (error) {
    return { name, error: error.message };
  }
  let run;
  let runError = null;
  let before;
  let opened;
  let held = null;
  let later = null;
  let readTimer;
  let laterTimer;
  const collectTimers = [];
  try {
    await sleep(SETTLE_MS);
    const rssBeforeKiB = readRssKiB(server.pid);
    before = { ...sample(server.pid), rssKiB: rssBeforeKiB };
    run = await runLoadgen({
      mode: 'ws-idle',
      port: server.port,
      connections,
      depth,
      chunkSize: 16,
      duration: hold,
      warmup: 0,
      path,
      ...loadgen,
      onMeasureStart: () => {
        opened = sample(server.pid);
        readTimer = setTimeout(() => {
          try {
            held = readRssKiB(server.pid);
          } catch {
            // the server died: reported below
          }
        }, readAt * 1000);
        if (laterReadAt !== undefined)
          laterTimer = setTimeout(() => {
            try {
              later = readRssKiB(server.pid);
            } catch {
              // the server died: reported below
            }
          }, laterReadAt * 1000);
        if (serverSpec.collectSignal)
          for (const at of collectAt)
            collectTimers.push(
              setTimeout(() => {
                try {
                  process.kill(server.pid, serverSpec.collectSignal);
                } catch {
                  // the server died: reported below
                }
              }, at * 1000),
            );
      },
    });
  } catch (error) {
    runError = error.message;
  } finally {
    clearTimeout(readTimer);
    clearTimeout(laterTimer);
    collectTimers.forEach(clearTimeout);
  }
  const died = server.exited();
  await server.stop();
  if (runError) return { name, error: runError };
  if (died) return { name, error: `server exited (${server.exitStatus()}) during the run` };
  const { exitCode, result } = run;
  if (!result) return { name, error: `load generator exited ${exitCode} without a result` };
  if (exitCode !== 0 || !result.ok) {
    const why = result.error ?? result.errors?.first ?? 'no measured window';
    return { name, error: `load generator exit ${exitCode}: ${why}`, loadgen: result };
  }
  if (held === null || !opened) return { name, error: 'no memory reading during the hold', loadgen: result };
  if (laterReadAt !== undefined && later === null)
    return { name, error: `no memory reading ${laterReadAt} s into the hold`, loadgen: result };

  const wall = opened.wall - before.wall;
  const serverCpuPercent = ((opened.cpu - before.cpu) / wall) * 100;
  const busyPercent = ((opened.system - before.system) / wall) * 100;
  const loadgenCpuPercent = result.opening_cpu_percent;
  process.stderr.write(
    `${name}: ${result.handshakes_per_s.toFixed(0)} handshakes/s, RSS ${(before.rssKiB / 1024).toFixed(1)} → ` +
      `${(held / 1024).toFixed(1)} MiB, server CPU ${serverCpuPercent.toFixed(0)}% while opening\n`,
  );
  return {
    name,
    handshakesPerSecond: result.handshakes_per_s,
    kibPerConnection: (held - before.rssKiB) / result.handshakes,
    ...(later === null ? {} : { kibPerConnectionLater: (later - before.rssKiB) / result.handshakes }),
    rssBeforeMiB: before.rssKiB / 1024,
    rssHeldMiB: held / 1024,
    serverCpuPercent,
    serverWaitingPercent: ((opened.waiting - before.waiting) / wall) * 100,
    // The opening window here is from the baseline reading to the last 101, so it includes the
    // generator's start-up; close enough for a disturbance flag.
    otherCpuPercent: Math.max(0, busyPercent - serverCpuPercent - loadgenCpuPercent),
    loadgenCpuPercent,
    loadgen: result,
  };
}
