// Runs a fixture script from test/loop/fixtures in a child Node process (it imports the compiled dist/),
// for behaviours that end a process: exiting when libevent has nothing left, uncaught exceptions.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  elapsedMs: number;
  /** The child was still running after the time limit and was killed with SIGKILL. */
  timedOut: boolean;
}

/** The compiled library the fixtures import; the fixtures reach it as '../../../dist/index.js'. */
export const distEntry = fileURLToPath(new URL('../../dist/index.js', import.meta.url));

export function runChild(fixture: string, args: string[] = [], timeoutMs = 10_000): Promise<ChildResult> {
  const script = fileURLToPath(new URL(`./fixtures/${fixture}`, import.meta.url));
  const started = performance.now();
  const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, elapsedMs: performance.now() - started, timedOut });
    });
  });
}

/** stdout as trimmed, non-empty lines. */
export function lines(output: string): string[] {
  return output
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
}
