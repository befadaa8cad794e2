// A throwaway redis-server for the benchmarks that need one (the Redis channel layer): on a free
// loopback port, pinned to the server CPU (it serves the servers), no persistence, stopped after
// each run so every run starts from an empty database.
import { execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';

import { SERVER_CPU, pinnedCommand } from './pinning.mjs';

const STARTUP_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 3_000;

/** The redis-server version line, or null when there is no redis-server on the PATH. */
export function redisServerVersion() {
  try {
    return execFileSync('redis-server', ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
}

/** A loopback port nobody listens on right now (it may be taken before we use it: rare, and reported). */
function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/**
 * Starts redis-server and waits until it accepts connections.
 * @returns {Promise<{ pid: number, url: string, stop: () => Promise<void> }>}
 */
export async function startRedisServer() {
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  const [command, commandArgs] = pinnedCommand(SERVER_CPU, 'redis-server', args);
  const child = spawn(command, commandArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let exitStatus = null;
  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      exitStatus = signal ?? code;
      resolve();
    });
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.on('exit', killOnExit);
  const stop = async () => {
    process.off('exit', killOnExit);
    if (exitStatus !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    await exited;
    clearTimeout(timer);
  };

  await new Promise((resolve, reject) => {
    const fail = (message) => {
      clearTimeout(timer);
      void stop();
      reject(new Error(`redis-server on port ${port}: ${message}${output ? `\n${output.trim()}` : ''}`));
    };
    const timer = setTimeout(() => fail(`not ready within ${STARTUP_TIMEOUT_MS} ms`), STARTUP_TIMEOUT_MS);
    child.on('error', (error) => fail(`cannot start: ${error.message}`));
    const onEarlyExit = () => fail(`exited (${exitStatus}) before it was ready`);
    child.on('exit', onEarlyExit);
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text) => (output = (output + text).slice(-2000)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      output = `${output}${line}\n`.slice(-2000);
      if (!line.includes('Ready to accept connections')) return;
      clearTimeout(timer);
      child.off('exit', onEarlyExit);
      child.removeAllListeners('error');
      child.on('error', () => {}); // a kill() failing after exit is not news
      resolve();
    });
  });
  return { pid: child.pid, url: `redis://127.0.0.1:${port}`, stop };
}
