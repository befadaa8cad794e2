// A project that depends on the package, as installing this checkout makes it: a temporary directory
// whose node_modules/bufferevent links here, so 'bufferevent' and 'bufferevent/websocket' resolve
// through package.json "exports" to the built dist/ and entry/ (which `npm test` builds first), and
// whose node_modules/ws links to npm's ws for control runs. Programs run in child Node processes,
// at most two at a time (the machine has two cores, and other test files run beside this one).
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const packageRoot = fileURLToPath(new URL('../../', import.meta.url));
export const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));

/**
 * Node 20.19+ can require() ES modules; with this flag it cannot, so a passing require() shows the
 * program needs no such help (as on Node 20.0). Empty on a Node that has no such flag.
 */
export const noRequireEsm = process.allowedNodeEnvironmentFlags.has('--experimental-require-module')
  ? ['--no-experimental-require-module']
  : [];

export interface RunResult {
  /** The exit code, or null when a signal (e.g. the timeout's) ended the process. */
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface Consumer {
  /** The project's directory; programs are run from it. */
  dir: string;
  /** Writes a file (a path relative to the project) into the project. */
  write(file: string, text: string): void;
  /** Runs `node [...args]` in the project, with `stdin` (default: nothing) as its whole input. */
  run(args: string[], options?: { stdin?: string }): Promise<RunResult>;
  remove(): void;
}

const maxChildren = 2;
let running = 0;
const waiting: (() => void)[] = [];

async function slot(): Promise<() => void> {
  if (running >= maxChildren) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  return () => {
    running--;
    waiting.shift()?.();
  };
}

/** A new consumer project holding a copy of test/package/fixtures (subdirectories included). */
export function createConsumerProject(): Consumer {
  const dir = mkdtempSync(path.join(tmpdir(), 'bufferevent-consumer-'));
  mkdirSync(path.join(dir, 'node_modules'));
  symlinkSync(packageRoot, path.join(dir, 'node_modules', 'bufferevent'), 'dir');
  symlinkSync(
    realpathSync(path.join(packageRoot, 'node_modules', 'ws')),
    path.join(dir, 'node_modules', 'ws'),
  );
  cpSync(fixtures, dir, { recursive: true });
  return {
    dir,
    write(file, text) {
      mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      writeFileSync(path.join(dir, file), text);
    },
    async run(args, { stdin = '' } = {}) {
      const release = await slot();
      try {
        return await new Promise<RunResult>((resolve) => {
          const child = execFile(
            process.execPath,
            args,
            { cwd: dir, timeout: 20_000 },
            (error, stdout, stderr) =>
              resolve({
                code: error === null ? 0 : typeof error.code === 'number' ? error.code : null,
                stdout,
                stderr,
              }),
          );
          child.stdin!.end(stdin);
        });
      } finally {
        release();
      }
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
