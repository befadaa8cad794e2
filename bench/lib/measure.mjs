// Measures one server under one load-generator run: starts the server (or two
// copies of it, sharing one room through a channel layer), runs the generator,
// samples the servers' CPU (and that of helper processes such as redis-server)
// over the generator's measured window and their peak RSS, then stops them.
// Never throws: failures come back as `error`.
import { performance } from 'node:perf_hooks';

import { runLoadgen } from './loadgen.mjs';
import { readCpuSeconds, readRunQueueSeconds, readSystemCpuSeconds } from './proc-stats.mjs';
import { startServer } from './server.mjs';

/**
 * @typedef {{ name: string, error?: string, mbPerSecond?: number,
 *   latencyUs?: { p50: number, p99: number, max: number },
 *   serverCpuPercent?: number | null, serverRssMiB?: number | null,
 *   loadgenCpuPercent?: number, otherCpuPercent?: number | null,
 *   stealCpuPercent?: number | null, helperCpuPercent?: number | null,
 *   serverWaitingPercent?: number | null, loadgen?: object }} Measurement
 * `otherCpuPercent` is what the rest of the machine used during the window
 * (more than a few % means the numbers were disturbed); `stealCpuPercent` is
 * CPU the hypervisor took; `serverWaitingPercent` the part of the window the server's main
 * thread was runnable but waiting for its CPU. With two instances, server CPU, waiting and RSS are their sums;
 * `helperCpuPercent` is the helper processes' CPU (null without helpers).
 */

const sumCpuSeconds = (pids) => pids.reduce((sum, pid) => sum + readCpuSeconds(pid), 0);

function sampleCpu(serverPids, helperPids) {
  try {
    const system = readSystemCpuSeconds();
    return {
      cpuSeconds: sumCpuSeconds(serverPids),
      waitingSeconds: serverPids.reduce((sum, pid) => sum + readRunQueueSeconds(pid), 0),
      helperSeconds: sumCpuSeconds(helperPids),
      system,
      wallSeconds: performance.now() / 1000,
    };
  } catch {
    return null; // a server (or helper) is gone; reported as a failed run
  }
}

/** Starts `count` copies of the server; if one fails, those already up are stopped. */
async function startInstances(serverSpec, count) {
  const servers = [];
  try {
    for (let i = 0; i < count; i++) servers.push(await startServer(serverSpec));
  } catch (error) {
    await Promise.all(servers.map((server) => server.stop()));
    throw error;
  }
  return servers;
}

/**
 * @param {{ name: string, command: string, args: string[], env?: object,
 *   instances?: 1 | 2, helperPids?: number[] }} serverSpec with `instances: 2`,
 *   two copies run and the generator sends odd-numbered connections to the
 *   second (ws-chat's secondPort); `helperPids` are processes the caller runs
 *   for the servers (a redis-server), whose CPU is reported apart
 * @param {object} loadgenOptions everything runLoadgen takes except the ports
 * @returns {Promise<Measurement>}
 */
export async function measureServer(serverSpec, loadgenOptions) {
  const { name } = serverSpec;
  const helperPids = serverSpec.helperPids ?? [];
  process.stderr.write(`${name}: starting\n`);
  let servers;
  try {
    servers = await startInstances(serverSpec, serverSpec.instances ?? 1);
  } catch (error) {
    return { name, error: error.message };
  }
  const serverPids = servers.map((server) => server.pid);

  let windowStart = null;
  let windowEnd = null;
  let run;
  let runError = null;
  try {
    run = await runLoadgen({
      ...loadgenOptions,
      port: servers[0].port,
      ...(servers.length > 1 ? { secondPort: servers[1].port } : {}),
      onMeasureStart: () => (windowStart = sampleCpu(serverPids, helperPids)),
      onMeasureEnd: () => (windowEnd = sampleCpu(serverPids, helperPids)),
    });
  } catch (error) {
    runError = error.message;
  }
  const died = servers.find((server) => server.exited());
  const peaks = await Promise.all(servers.map(async (server) => (await server.stop()).peakRssKiB));
  const peakRssKiB = peaks.includes(null) ? null : peaks.reduce((sum, peak) => sum + peak, 0);

  if (runError) return { name, error: runError };
  if (died) {
    const tail = died.stderrTail().trim();
    return { name, error: `server exited (${died.exitStatus()}) during the run${tail ? `: ${tail}` : ''}` };
  }
  const { exitCode, result } = run;
  if (!result) return { name, error: `load generator exited ${exitCode} without a result` };
  if (exitCode !== 0 || !result.ok) {
    const why = result.error ?? result.errors?.first ?? 'no measured window';
    return { name, error: `load generator exit ${exitCode}: ${why}`, loadgen: result };
  }

  let serverCpuPercent = null;
  let otherCpuPercent = null;
  let stealCpuPercent = null;
  let helperCpuPercent = null;
  let serverWaitingPercent = null;
  if (windowStart && windowEnd && windowEnd.wallSeconds > windowStart.wallSeconds) {
    const wall = windowEnd.wallSeconds - windowStart.wallSeconds;
    const serverSeconds = windowEnd.cpuSeconds - windowStart.cpuSeconds;
    const helperSeconds = windowEnd.helperSeconds - windowStart.helperSeconds;
    const loadgenSeconds = result.cpu.user_s + result.cpu.sys_s;
    const busySeconds = windowEnd.system.busy - windowStart.system.busy;
    serverCpuPercent = (serverSeconds / wall) * 100;
    serverWaitingPercent = ((windowEnd.waitingSeconds - windowStart.waitingSeconds) / wall) * 100;
    if (helperPids.length > 0) helperCpuPercent = (helperSeconds / wall) * 100;
    otherCpuPercent = Math.max(
      0,
      ((busySeconds - serverSeconds - helperSeconds - loadgenSeconds) / wall) * 100,
    );
    stealCpuPercent = ((windowEnd.system.steal - windowStart.system.steal) / wall) * 100;
  }
  process.stderr.write(
    `${name}: server CPU ${serverCpuPercent?.toFixed(0)}%, other load ${otherCpuPercent?.toFixed(0)}%, ` +
      `steal ${stealCpuPercent?.toFixed(0)}%\n`,
  );
  return {
    name,
    mbPerSecond: result.mb_per_s,
    latencyUs: { p50: result.latency_us.p50, p99: result.latency_us.p99, max: result.latency_us.max },
    serverCpuPercent,
    serverRssMiB: peakRssKiB === null ? null : peakRssKiB / 1024,
    loadgenCpuPercent: result.cpu.percent,
    otherCpuPercent,
    stealCpuPercent,
    helperCpuPercent,
    serverWaitingPercent,
    loadgen: result,
  };
}
