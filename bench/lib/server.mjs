// Starts a benchmark server process pinned to the server CPU, waits for its
// "listening <port>" line, and stops it (reporting its peak RSS first).
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

import { SERVER_CPU, pinnedCommand } from './pinning.mjs';
import { readPeakRssKiB } from './proc-stats.mjs';

const STARTUP_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 3_000;
const STDERR_TAIL_CHARS = 4_000;

/**
 * @param {{ name: string, command: string, args: string[], env?: object }} spec
 * @returns {Promise<{ pid: number, port: number, exited: () => boolean,
 *   exitStatus: () => number | string | null, stderrTail: () => string,
 *   stop: () => Promise<{ peakRssKiB: number | null }> }>}
 */
export function startServer(spec) {
  const [command, args] = pinnedCommand(SERVER_CPU, spec.command, spec.args);
  const child = spawn(command, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...spec.env },
  });
  let stderr = '';
  let exitStatus = null;
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text) => {
    stderr = (stderr + text).slice(-STDERR_TAIL_CHARS);
  });
  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      exitStatus = signal ?? code;
      resolve();
    });
  });

  return new Promise((resolve, reject) => {
    const fail = (message) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      // A grandchild may still hold the pipes open: do not let them keep us alive.
      child.stdout.destroy();
      child.stderr.destroy();
      reject(new Error(`${spec.name}: ${message}${stderr ? `\n${stderr.trim()}` : ''}`));
    };
    const timer = setTimeout(
      () => fail(`no "listening <port>" line within ${STARTUP_TIMEOUT_MS} ms`),
      STARTUP_TIMEOUT_MS,
    );
    const onError = (error) => fail(`cannot start: ${error.message}`);
    const onEarlyExit = () => fail(`exited (${exitStatus}) before listening`);
    child.on('error', onError);
    child.on('close', onEarlyExit); // after 'exit', once stderr is fully read

    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      const match = /^listening (\d+)$/.exec(line.trim());
      if (!match) return;
      clearTimeout(timer);
      child.off('close', onEarlyExit);
      child.off('error', onError);
      child.on('error', () => {}); // a kill() failing after exit is not news
      resolve({
        pid: child.pid,
        port: Number(match[1]),
        exited: () => exitStatus !== null,
        exitStatus: () => exitStatus,
        stderrTail: () => stderr,
        stop: async () => {
          let peakRssKiB = null;
          try {
            peakRssKiB = readPeakRssKiB(child.pid);
          } catch {
            // already gone: peak RSS unknown
          }
          if (exitStatus === null) {
            child.kill('SIGTERM');
            const killTimer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
            await exited;
            clearTimeout(killTimer);
          }
          return { peakRssKiB };
        },
      });
    });
  });
}
