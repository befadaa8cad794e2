// The dispatcher's contract for commands added to the table (as `serve` is): one-word commands
// next to groups, help generated from the specs, errors turned into exit codes. In-process, with
// captured streams.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/server/cli/main.ts';
import { COMMANDS } from '../../src/server/cli/commands.ts';
import type { CliIO, Command, CommandContext } from '../../src/server/cli/command.ts';
import { ServerError } from '../../src/server/errors.ts';

function capture(): { io: CliIO; out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const stdin = new PassThrough();
  stdin.end();
  return { io: { stdin, stdout, stderr, cwd: '/' }, out: () => out, err: () => err };
}

const calls: CommandContext[] = [];
const serve: Command = {
  name: 'serve',
  summary: 'Run the server',
  description: 'Runs it.',
  arguments: [],
  options: [
    { name: 'port', value: 'N', description: 'The port.' },
    { name: 'demo', description: 'Demo mode.' },
  ],
  async run(context) {
    calls.push(context);
    if (context.options.port === 'fail') throw new ServerError('could not listen', 'ERR_TEST');
    if (context.options.port === 'crash') throw new Error('bug');
    return 0;
  },
};
const table = [serve, ...COMMANDS.filter((command) => command.name !== 'serve')];

describe('a one-word command in the table', () => {
  it('is run with its parsed options; `--` ends them', async () => {
    calls.length = 0;
    const { io } = capture();
    expect(await main(['serve', '--port=8000', '--demo'], io, table)).toBe(0);
    expect(await main(['serve', '--port', '9000'], io, table)).toBe(0);
    expect(calls.map((call) => ({ ...call.options }))).toEqual([
      { port: '8000', demo: true },
      { port: '9000' },
    ]);
    const { io: io2, err } = capture();
    expect(await main(['serve', '--', '--port'], io2, table)).toBe(2);
    expect(err()).toBe(
      'bufferevent: serve: 1 argument given, expected 0\nRun "bufferevent serve --help" for usage.\n',
    );
  });

  it('appears in the program help, and has its own', async () => {
    const program = capture();
    expect(await main(['--help'], program.io, table)).toBe(0);
    expect(program.out()).toContain('  serve  Run the server\n  user   Manage the users who can log in');
    const own = capture();
    expect(await main(['serve', '--help'], own.io, table)).toBe(0);
    expect(own.out()).toBe(
      'Usage: bufferevent serve [options]\n\nRuns it.\n\nOptions:\n  --port N  The port.\n  --demo    Demo mode.\n  --help    Show this help.\n',
    );
  });

  it('a ServerError exits 1 with its message; any other error exits 1 as unexpected', async () => {
    const failing = capture();
    expect(await main(['serve', '--port', 'fail'], failing.io, table)).toBe(1);
    expect(failing.err()).toBe('bufferevent: could not listen\n');
    const crashing = capture();
    expect(await main(['serve', '--port', 'crash'], crashing.io, table)).toBe(1);
    expect(crashing.err()).toMatch(/^bufferevent: unexpected error: Error: bug\n {4}at /);
  });

  it('an unknown command suggests the closest one', async () => {
    const { io, err } = capture();
    expect(await main(['serv'], io, table)).toBe(2);
    expect(err()).toBe(
      'bufferevent: unknown command "serv" (did you mean "serve"?)\nRun "bufferevent --help" for usage.\n',
    );
  });
});
