// Runs one of the Node load-generating client scripts (chat-clients.mjs, tail-viewers.mjs) as its
// own process pinned to the load generator CPU: options go in as one JSON argument, the result comes
// back as the last JSON line on stdout, and the stderr marker lines "loadgen: ready",
// "loadgen: measure-start" and "loadgen: measure-end" call the given callbacks (the same markers as
// the C generator, so the caller samples the server's CPU over the same window).
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

import { LOADGEN_CPU, pinnedCommand } from './pinning.mjs';

/**
 * @param {string} script absolute path
 * @param {object} options passed as JSON
 * @param {{ limitMs: number, onReady?: () => void, onMeasureStart?: () => void,
 *   onMeasureEnd?: () => void }} hooks the process is killed after `limitMs`
 * @returns {Promise<{ pid: number, exitCode: number | null, result: object | null }>}
 */
export function runClientProcess(script, options, hooks) {
  const [command, args] = pinnedCommand(LOADGEN_CPU, process.execPath, [script, JSON.stringify(options)]);
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (text) => (stdout += text));
  createInterface({ input: child.stderr }).on('line', (line) => {
    if (line === 'loadgen: ready') hooks.onReady?.();
    else if (line === 'loadgen: measure-start') hooks.onMeasureStart?.();
    else if (line === 'loadgen: measure-end') hooks.onMeasureEnd?.();
    else process.stderr.write(`  ${line}\n`);
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script}: still running after ${hooks.limitMs} ms: killed`));
    }, hooks.limitMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${script}: ${error.message}`));
    });
    child.on('close', (exitCode) => {
      clearTimeout(timer);
      let result = null;
      try {
        result = JSON.parse(stdout.trim().split('\n').pop() ?? '');
      } catch {
        // no result: reported by the caller
      }
      resolve({ pid: child.pid, exitCode, result });
    });
  });
}

/** p50/p99/max of samples in ms (sorted in place). */
export function percentiles(samples) {
  if (samples.length === 0) return { p50: null, p99: null, max: null };
  samples.sort((a, b) => a - b);
  const at = (p) => samples[Math.min(samples.length - 1, Math.ceil((p / 100) * samples.length) - 1)];
  return { p50: at(50), p99: at(99), max: samples[samples.length - 1] };
}
