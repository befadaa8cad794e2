// Runs the C load generator (bench/build/loadgen) pinned to the load generator
// CPU, relaying its progress to stderr and its window markers to callbacks.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import { LOADGEN_CPU, pinnedCommand } from './pinning.mjs';

export const LOADGEN_PATH = fileURLToPath(new URL('../build/loadgen', import.meta.url));

/** How long past warm-up + duration the generator may take before it is killed. */
const OVERRUN_MS = 30_000;

/**
 * @param {{ mode: string, port: number, connections: number, depth: number,
 *   chunkSize: number, duration: number, warmup: number,
 *   path?: string, senders?: number, secondPort?: number, textOnly?: boolean, rate?: number,
 *   payload?: 'pattern' | 'json', deflate?: boolean, deflateNoContextTakeover?: boolean,
 *   deflateLevel?: number, idleEcho?: boolean, onMeasureStart?: () => void,
 *   onMeasureEnd?: () => void }} options
 *   `path`, `senders`, `secondPort`, `textOnly` and `rate` are ws-chat's (the generator's defaults
 *   when absent); mode ws-idle uses `connections`, `depth` (handshakes at once) and `duration`;
 *   `payload` and the deflate options are for ws-echo and ws-idle (permessage-deflate offered and
 *   required); `idleEcho` (ws-idle): one `chunkSize` message exchanged per connection before it goes
 *   idle.
 * @returns {Promise<{ exitCode: number | null, result: object | null, stderr: string }>}
 *   `result` is the generator's JSON line (null if it printed none).
 */
export function runLoadgen(options) {
  const flags = {
    mode: options.mode,
    host: '127.0.0.1',
    port: options.port,
    connections: options.connections,
    depth: options.depth,
    'chunk-size': options.chunkSize,
    duration: options.duration,
    warmup: options.warmup,
    path: options.path,
    senders: options.senders,
    'second-port': options.secondPort,
    rate: options.rate,
    payload: options.payload,
    'deflate-level': options.deflateLevel,
  };
  const args = Object.entries(flags)
    .filter(([, value]) => value !== undefined)
    .flatMap(([name, value]) => [`--${name}`, String(value)]);
  if (options.textOnly) args.push('--text-only');
  if (options.idleEcho) args.push('--idle-echo');
  if (options.deflateNoContextTakeover) args.push('--deflate-no-context-takeover');
  else if (options.deflate) args.push('--deflate');
  const [command, commandArgs] = pinnedCommand(LOADGEN_CPU, LOADGEN_PATH, args);
  const child = spawn(command, commandArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (text) => {
    stdout += text;
  });
  createInterface({ input: child.stderr }).on('line', (line) => {
    if (line === 'loadgen: measure-start') options.onMeasureStart?.();
    else if (line === 'loadgen: measure-end') options.onMeasureEnd?.();
    else {
      stderr += `${line}\n`;
      process.stderr.write(`  ${line}\n`);
    }
  });

  const limitMs = (options.warmup + options.duration) * 1000 + OVERRUN_MS;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`load generator still running after ${limitMs} ms: killed`));
    }, limitMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot run the load generator: ${error.message}`));
    });
    child.on('close', (exitCode) => {
      clearTimeout(timer);
      const lastLine = stdout.trim().split('\n').pop();
      let result = null;
      try {
        result = lastLine ? JSON.parse(lastLine) : null;
      } catch {
        // reported below as "no result"
      }
      resolve({ exitCode, result, stderr });
    });
  });
}
