// `bufferevent serve --workers N` in a child process for tests: the supervisor's output, the
// workers' structured log lines (each carries "worker": <pid>), and the bundled-server helpers
// (log in, open a socket) pointed at the shared port.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { waitFor } from '../helpers.ts';
import { bin } from './cli-runner.ts';
import type { TestSite } from './bundled-helpers.ts';

export interface Supervisor {
  readonly child: ChildProcess;
  readonly port: number;
  stdout(): string;
  /** Every JSON line written to stderr by the supervisor and its workers, in order. */
  events(): Record<string, unknown>[];
  readonly exited: Promise<number | null>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

export async function startSupervisor(cwd: string, args: string[], port: number): Promise<Supervisor> {
  const child = spawn(process.execPath, [bin, 'serve', '--port', String(port), ...args], {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const events = () =>
    stderr
      .split('\n')
      .filter((line) => line.startsWith('{') && line.endsWith('}'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  await waitFor(
    () => /workers listening on http:\/\/127\.0\.0\.1:\d+/.test(stdout) || child.exitCode !== null,
    30_000,
    'the workers to listen',
  );
  if (child.exitCode !== null) throw new Error(`serve --workers exited: ${stderr.slice(-2_000)}`);
  return { child, port, stdout: () => stdout, events, exited };
}

/** The bundled-server helpers take a site; only its port is used. */
export function siteAt(port: number): TestSite {
  return { running: { server: { port } } } as unknown as TestSite;
}

/** Whether a process with this pid exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
