// Measures one server under one load-generator run: starts the server, runs
// the generator, samples the server's CPU over the generator's measured window
// and its peak RSS, then stops it. Never throws: failures come back as `error`.
import { performance } from 'node:perf_hooks';

import { runLoadgen } from './loadgen.mjs';
import { readCpuSeconds, readSystemCpuSeconds } from './proc-stats.mjs';
import { startServer } from './server.mjs';

/**
 * @typedef {{ name: string, error?: string, mbPerSecond?: number,
 *   latencyUs?: { p50: number, p99: number, max: number },
 *   serverCpuPercent?: number | null, serverRssMiB?: number | null,
 *   loadgenCpuPercent?: number, otherCpuPercent?: number | null,
 *   stealCpuPercent?: number | null, loadgen?: object }} Measurement
 * `otherCpuPercent` is what the rest of the machine used during the window
 * (more than a few % means the numbers were disturbed); `stealCpuPercent` is
 * CPU the hypervisor took.
 */

function sampleCpu(pid) {
  try {
    const system = readSystemCpuSeconds();
    return { cpuSeconds: readCpuSeconds(pid), system, wallSeconds: performance.now() / 1000 };
  } catch {
    return null; // the server is gone; reported as a failed run
  }
}

/**
 * @param {{ name: string, command: string, args: string[], env?: object }} serverSpec
 * @param {object} loadgenOptions everything runLoadgen takes except `port`
 * @returns {Promise<Measurement>}
 */
export async function measureServer(serverSpec, loadgenOptions) {
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
    run = await runLoadgen({
      ...loadgenOptions,
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
  if (!result) return { name, error: `load generator exited ${exitCode} without a result` };
  if (exitCode !== 0 || !result.ok) {
    const why = result.error ?? result.errors?.first ?? 'no measured window';
    return { name, error: `load generator exit ${exitCode}: ${why}`, loadgen: result };
  }

  let serverCpuPercent = null;
  let otherCpuPercent = null;
  let stealCpuPercent = null;
  if (windowStart && windowEnd && windowEnd.wallSeconds > windowStart.wallSeconds) {
    const wall = windowEnd.wallSeconds - windowStart.wallSeconds;
    const serverSeconds = windowEnd.cpuSeconds - windowStart.cpuSeconds;
    const loadgenSeconds = result.cpu.user_s + result.cpu.sys_s;
    const busySeconds = windowEnd.system.busy - windowStart.system.busy;
    serverCpuPercent = (serverSeconds / wall) * 100;
    otherCpuPercent = Math.max(0, ((busySeconds - serverSeconds - loadgenSeconds) / wall) * 100);
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
    loadgen: result,
  };
}
