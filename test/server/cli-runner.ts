// Runs bin/bufferevent.mjs in a child Node, as an operator would. The launcher imports dist/, so
// `npm run build:ts` must have run first.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../../', import.meta.url));
export const bin = fileURLToPath(new URL('../../bin/bufferevent.mjs', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Fails clearly when dist/ is missing or older than src/server (the child would run stale code). */
export function assertBuilt(): void {
  const built = path.join(root, 'dist/server/cli/main.js');
  if (!existsSync(built))
    throw new Error('dist/server/cli/main.js is missing: run "npm run build:ts" before the CLI tests');
  const sources = readdirSync(path.join(root, 'src/server'), { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.ts'))
    .map((name) => statSync(path.join(root, 'src/server', name)).mtimeMs);
  if (Math.max(...sources) > statSync(built).mtimeMs)
    throw new Error('dist/ is older than src/server: run "npm run build:ts" before the CLI tests');
}

/** Runs the program with `args` in `cwd`; `input` is written to its stdin (a pipe), then closed. */
export function runCli(
  args: readonly string[],
  { cwd, input = '' }: { cwd: string; input?: string },
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    // The program may exit before reading all of it (EPIPE): what it did is in its output and code.
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}
