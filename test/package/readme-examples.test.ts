// ws's README examples as JavaScript users run them (test/package/fixtures/readme): each program
// exists as CommonJS (.cjs, require('bufferevent/websocket')) and as an ES module (.mjs, import),
// and runs in a child Node in a project that depends on the package (consumer.ts). Every .cjs
// program also runs with require(esm) turned off, which shows it needs none. As a control, the same
// programs with only the module name changed to 'ws' run against npm's ws and must print the same:
// the expected output is ws's behaviour. Each program binds 127.0.0.1 on port 0 and ends by itself;
// the TypeScript side of the same examples is test/websocket/compat/readme-examples.test.ts.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createConsumerProject, fixtures, noRequireEsm, type Consumer } from './consumer.ts';

interface Program {
  name: string;
  stdin?: string;
  stdout: string[];
}

const programs: Program[] = [
  {
    name: 'echo',
    stdout: [
      'received: something',
      'received: something else',
      'received binary: 0 0.5 1 1.5 2',
      'client closed: 1000 done',
      'server side closed: 1000 done',
    ],
  },
  {
    name: 'broadcast',
    stdout: [
      'a received: hello from b (binary)',
      'b received: hello from a (text)',
      'c received: hello from a (text), hello from b (binary)',
    ],
  },
  {
    name: 'http-server',
    stdout: [
      'GET /index: 200 a page at /index',
      'client received: something',
      'received: something back',
      'client closed: 1005',
      'server side closed: 1005',
    ],
  },
  {
    name: 'noserver-auth',
    stdout: [
      'refused: 401',
      'refused client closed: 1006',
      'Received message hello from user alice at /chat',
      'client closed: 1005',
      'server side closed: 1005',
    ],
  },
  {
    name: 'client-headers',
    stdout: [
      'upgrade: 101 set-cookie session=1',
      'open: protocol chat',
      'server saw url: /path?room=1',
      'server saw authorization: Bearer token',
      'server saw x-client: readme-example',
      'server saw origin: http://example.test',
      'server saw protocols: chat superchat',
      'server chose: chat',
      'client closed: 1000 bye',
      'server side closed: 1000 bye',
    ],
  },
  {
    name: 'heartbeat',
    stdout: [
      'answering client: 4 pings, open: true',
      'server side closes so far: 1006',
      'client closes: answering 1005, silent 1006',
      'server side closes: 1006, 1005',
      'server closed, interval cleared',
    ],
  },
  {
    name: 'stream',
    stdin: 'hello\nstreams\nfrom standard input\n',
    stdout: ['HELLO', 'STREAMS', 'FROM STANDARD INPUT', '(the stream ended)'],
  },
];

interface Variant {
  name: string;
  /** The node arguments that run `program`. */
  args: (program: string) => string[];
}

const variants: Variant[] = [
  { name: "require('bufferevent/websocket')", args: (program) => [`readme/${program}.cjs`] },
  {
    name: "require('bufferevent/websocket') without require(esm)",
    args: (program) => [...noRequireEsm, `readme/${program}.cjs`],
  },
  { name: "import from 'bufferevent/websocket'", args: (program) => [`readme/${program}.mjs`] },
  { name: "require('ws') (control)", args: (program) => [`with-ws/${program}.cjs`] },
  { name: "import from 'ws' (control)", args: (program) => [`with-ws/${program}.mjs`] },
];

let project: Consumer | undefined;

beforeAll(() => {
  project = createConsumerProject();
  for (const file of readdirSync(path.join(fixtures, 'readme'))) {
    const source = readFileSync(path.join(fixtures, 'readme', file), 'utf8');
    const control = source.replaceAll("'bufferevent/websocket'", "'ws'");
    // Only the module name differs: nothing of this package is left in the control.
    expect(control).not.toBe(source);
    expect(control).not.toMatch(/bufferevent/);
    project.write(path.join('with-ws', file), control);
  }
});

afterAll(() => project?.remove());

test('every program has a .cjs and an .mjs variant, and each is tested', () => {
  const files = readdirSync(path.join(fixtures, 'readme')).sort();
  expect(files).toEqual(programs.flatMap(({ name }) => [`${name}.cjs`, `${name}.mjs`]).sort());
});

test('the .cjs and .mjs variant of a program differ only in how they load the module', () => {
  // Not compared: 'use strict', the lines that load the module or take names from it; and
  // `new WebSocket.Server(` is the CommonJS spelling of `new WebSocketServer(`.
  const body = (file: string) =>
    readFileSync(path.join(fixtures, 'readme', file), 'utf8')
      .split('\n')
      .filter((line) => !/^'use strict';$|^const .* = (require\(|WebSocket;)|^import /.test(line))
      .join('\n')
      .replaceAll('new WebSocket.Server(', 'new WebSocketServer(');
  for (const { name } of programs) expect(body(`${name}.mjs`), name).toBe(body(`${name}.cjs`));
});

// Concurrent tests, but consumer.ts runs at most two programs at a time.
describe.concurrent.each(variants.map((variant) => [variant.name, variant] as const))(
  'ws README examples through %s',
  (_name, variant) => {
    test.each(programs.map((program) => [program.name, program] as const))(
      '%s',
      async (_program, program) => {
        const result = await project!.run(variant.args(program.name), { stdin: program.stdin ?? '' });
        expect(result).toEqual({
          code: 0,
          stdout: program.stdout.map((line) => `${line}\n`).join(''),
          stderr: '',
        });
      },
    );
  },
);
