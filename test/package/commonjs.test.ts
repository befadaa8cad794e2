// The package as a dependency sees it: a temporary project whose node_modules/bufferevent links to
// this checkout, so 'bufferevent' and 'bufferevent/websocket' resolve through package.json "exports"
// to the built dist/ and entry/ (which `npm test` builds first). Each program runs in a child Node.
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

const packageRoot = fileURLToPath(new URL('../../', import.meta.url));
const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
// Node 20.19+ can require() ES modules; turned off, a passing require() shows it needs no such help
// (as on Node 20.0).
const noRequireEsm = process.allowedNodeEnvironmentFlags.has('--experimental-require-module')
  ? ['--no-experimental-require-module']
  : [];

let project = '';

beforeAll(() => {
  project = mkdtempSync(path.join(tmpdir(), 'bufferevent-consumer-'));
  mkdirSync(path.join(project, 'node_modules'));
  symlinkSync(packageRoot, path.join(project, 'node_modules', 'bufferevent'), 'dir');
  for (const file of readdirSync(fixtures)) copyFileSync(path.join(fixtures, file), path.join(project, file));
});

afterAll(() => {
  if (project !== '') rmSync(project, { recursive: true, force: true });
});

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...noRequireEsm, ...args],
      { cwd: project, timeout: 20_000 },
      (error, stdout, stderr) =>
        resolve({ code: error === null ? 0 : (error.code as number), stdout, stderr }),
    );
  });
}

describe('CommonJS', () => {
  test('require() of both entry points gives ws-shaped modules', async () => {
    const result = await run(['load.cjs']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      websocket: 'function',
      name: 'WebSocket',
      selfReference: true,
      server: 'function',
      error: 'function',
      open: 1,
      root: ['function', 'function', 'function', 'function', 'function'],
    });
  });

  test('node -e "require(\'bufferevent/websocket\')" works from a project that depends on the package', async () => {
    const result = await run(['-e', "console.log(typeof require('bufferevent/websocket').WebSocketServer)"]);
    expect(result).toEqual({ code: 0, stdout: 'function\n', stderr: '' });
  });

  test('an echo through require() ends with a clean close and the process exits by itself', async () => {
    const result = await run(['echo.cjs', '3']);
    expect(result).toEqual({
      code: 0,
      stdout: 'text message 0\ntext message 1\ntext message 2\nclose 1000 done\n',
      stderr: '',
    });
  });

  test('require and import in one process share one copy of the library', async () => {
    const result = await run(['same-instance.mjs']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const [identities, ...echo] = result.stdout.trim().split('\n');
    expect(JSON.parse(identities!)).toEqual({
      webSocket: true,
      server: true,
      error: true,
      bufferevent: true,
      eventBase: true,
      rootNames: true,
      websocketNames: true,
      loadedImplementations: 1,
    });
    expect(echo).toEqual(['binary imported client', 'close 1005']);
  });
});
