// The package as a dependency sees it: a temporary project whose node_modules/bufferevent links to
// this checkout, so 'bufferevent' and 'bufferevent/websocket' resolve through package.json "exports"
// to the built dist/ and entry/ (test/package/consumer.ts). Each program runs in a child Node.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createConsumerProject, noRequireEsm, type Consumer, type RunResult } from './consumer.ts';

let project: Consumer | undefined;

beforeAll(() => {
  project = createConsumerProject();
});

afterAll(() => project?.remove());

/** Runs node without require(esm) where Node has it. */
function run(args: string[]): Promise<RunResult> {
  return project!.run([...noRequireEsm, ...args]);
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

  test("require() and import of 'bufferevent/channels' give the same routing and layer classes", async () => {
    const program = [
      "const channels = require('bufferevent/channels');",
      "import('bufferevent/channels').then((esm) => {",
      '  const names = ["InMemoryChannelLayer", "URLRouter", "ProtocolTypeRouter", "path", "rePath"];',
      '  console.log(names.map((name) => typeof channels[name] === "function" && esm[name] === channels[name]).join(" "));',
      '});',
    ].join('\n');
    const result = await run(['-e', program]);
    expect(result).toEqual({ code: 0, stdout: 'true true true true true\n', stderr: '' });
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
