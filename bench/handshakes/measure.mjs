// One measured run of the handshake benchmark: starts a server (bench/lib/server.mjs, pinned to
// the server CPU), runs the lean client (client.c) pinned to the other CPU, samples the server's
// CPU over the client's measured window and its peak RSS, then stops the server. Never throws:
// failures come back as `error`, as bench/lib/measure.mjs does for the load generator.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import { LOADGEN_CPU, pinnedCommand } from '../lib/pinning.mjs';
import { readCpuSeconds, readSystemCpuSeconds } from '../lib/proc-stats.mjs';
import { startServer } from '../lib/server.mjs';

const path = (relative) => fileURLToPath(new URL(relative, import.meta.url));

export const CLIENT_PATH = path('../build/handshake-client');
/** How long past warm-up + duration the client may take before it is killed. */
const OVERRUN_MS = 30_000;

/** Compiles client.c into bench/build/ (it takes a second); false when that failed. */
export function buildClient() {
  const sources = [path('client.c'), path('../loadgen/stats.c')];
  try {
    execFileSync(process.env.CC || 'cc', ['-O2', '-Wall', '-Wextra', '-o', CLIENT_PATH, ...sources, '-lm'], {
      stdio: ['ignore', process.stderr, process.stderr],
    });
  } catch {
    process.stderr.write('cannot compile bench/handshakes/client.c\n');
  }
  return existsSync(CLIENT_PATH);
}

function sampleCpu(pid) {
  try {
    return {
      cpuSeconds: readCpuSeconds(pid),
      system: readSystemCpuSeconds(),
      wallSeconds: performance.now() / 1000,
    };
  } catch {
    return null; // the server is gone; reported as a failed run
  }
}

/**
 * @param {{ mode: 'ws' | 'http', requests: number, port: number, connections: number,
 *   duration: number, warmup: number, onMeasureStart: () => void, onMeasureEnd: () => void }} options
 * @returns {Promise<{ exitCode: number | null, result: object | null }>}
 */
function runClient(options) {
  const flags = {
    mode: options.mode,
    host: '127.0.0.1',
    port: options.port,
    connections: options.connections,
    requests: options.requests,
    duration: options.duration,
    warmup: options.warmup,
  };
  const args = Object.entries(flags).flatMap(([name, value]) => [`--${name}`, String(value)]);
  const [command, commandArgs] = pinnedCommand(LOADGEN_CPU, CLIENT_PATH, args);
  const child = spawn(command, commandArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (text) => (stdout += text));
  createInterface({ input: child.stderr }).on('line', (line) => {
    if (line === 'loadgen: measure-start') options.onMeasureStart();
    else if (line === 'loadgen: measure-end') options.onMeasureEnd();
    else process.stderr.write(`  ${line}\n`);
  });
  const limitMs = (options.warmup + options.duration) * 1000 + OVERRUN_MS;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the client was still running after ${limitMs} ms: killed`));
    }, limitMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot run the client: ${error.message}`));
    });
    child.on('close', (exitCode) => {
      clearTimeout(timer);
      let result = null;
      try {
        result = JSON.parse(stdout.trim().split('\n').pop() ?? '');
      } catch {
        // reported by the caller as "no result"
      }
      resolve({ exitCode, result });
    });
  });
}

/**
 * @param {{ name: string, command: string, args: string[] }} serverSpec
 * @param {{ mode: 'ws' | 'http', requests: number, connections: number, duration: number,
 *   warmup: number }} clientOptions
 * @returns {Promise<{ name: string, error?: string, perSecond?: number,
 *   connectionsPerSecond?: number, latencyUs?: { p50: number, p99: number, max: number },
 *   serverCpuPercent?: number | null, serverRssMiB?: number | null, clientCpuPercent?: number,
 *   otherCpuPercent?: number | null, stealCpuPercent?: number | null }>}
 */
export async function measureRun(serverSpec, clientOptions) {
  const { name } = serverSpec;
  process.stderr.write(`${name}: starting\n`);
  let server;
  try {
    server = await startServer(serverSpec);
  } catch (error) {
    return { name, error: error.message };
  }
  let windowStart = null;
  let windowEnd = null;
  let run;
  let runError = null;
  try {
    run = await runClient({
      ...clientOptions,
      port: server.port,
      onMeasureStart: () => (windowStart = sampleCpu(server.pid)),
      onMeasureEnd: () => (windowEnd = sampleCpu(server.pid)),
    });
  } catch (error) {
    runError = error.message;
  }
  const diedDuringRun = server.exited();
  const { peakRssKiB } = await server.stop();

  if (runError) return { name, error: runError };
  if (diedDuringRun) {
    const tail = server.stderrTail().trim();
    return { name, error: `server exited (${server.exitStatus()}) during the run${tail ? `: ${tail}` : ''}` };
  }
  const { exitCode, result } = run;
  if (!result) return { name, error: `the client exited ${exitCode} without a result` };
  if (exitCode !== 0 || !result.ok) {
    return { name, error: `client exit ${exitCode}: ${result.errors?.first ?? 'no measured window'}` };
  }

  let serverCpuPercent = null;
  let otherCpuPercent = null;
  let stealCpuPercent = null;
  if (windowStart && windowEnd && windowEnd.wallSeconds > windowStart.wallSeconds) {
    const wall = windowEnd.wallSeconds - windowStart.wallSeconds;
    const serverSeconds = windowEnd.cpuSeconds - windowStart.cpuSeconds;
    const clientSeconds = result.cpu.user_s + result.cpu.sys_s;
    const busySeconds = windowEnd.system.busy - windowStart.system.busy;
    serverCpuPercent = (serverSeconds / wall) * 100;
    otherCpuPercent = Math.max(0, ((busySeconds - serverSeconds - clientSeconds) / wall) * 100);
    stealCpuPercent = ((windowEnd.system.steal - windowStart.system.steal) / wall) * 100;
  }
  process.stderr.write(
    `${name}: ${result.per_s.toFixed(0)}/s, server CPU ${serverCpuPercent?.toFixed(0)}%, ` +
      `other load ${otherCpuPercent?.toFixed(0)}%, steal ${stealCpuPercent?.toFixed(0)}%\n`,
  );
  return {
    name,
    perSecond: result.per_s,
    connectionsPerSecond: result.connections_per_s,
    latencyUs: result.latency_us,
    serverCpuPercent,
    serverRssMiB: peakRssKiB === null ? null : peakRssKiB / 1024,
    clientCpuPercent: result.cpu.percent,
    otherCpuPercent,
    stealCpuPercent,
  };
}
