// The `bufferevent` program in child processes: help, exit codes, refused command lines, and the
// user commands on a real users file, with passwords never echoed, printed or stored in clear.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { UsersFile } from '../../src/server/users-file.ts';
import { assertBuilt, runCli, type CliResult } from './cli-runner.ts';

let cwd: string;
const run = (args: string[], input?: string): Promise<CliResult> =>
  runCli(args, { cwd, ...(input === undefined ? {} : { input }) });
const usersPath = (): string => path.join(cwd, 'bufferevent-users.json');

beforeAll(() => assertBuilt());
beforeEach(() => {
  cwd = mkdtempSync(path.join(tmpdir(), 'bufferevent-cli-'));
});
afterEach(() => rmSync(cwd, { recursive: true, force: true }));

describe('help', () => {
  it('--help lists the commands on stdout, exit 0; no command prints it on stderr, exit 2', async () => {
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.stderr).toBe('');
    expect(help.stdout).toMatch(/^Usage: bufferevent <command> \[options\]\n/);
    expect(help.stdout).toContain(
      '  serve  Run the chat and live log server\n  user   Manage the users who can log in',
    );
    const bare = await run([]);
    expect(bare).toEqual({ code: 2, stdout: '', stderr: help.stdout });
  });

  it('user --help lists its four commands; "user" alone is a usage error', async () => {
    const help = await run(['user', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout.match(/^ {2}(add|passwd|remove|list) /gm)).toEqual([
      '  add ',
      '  passwd ',
      '  remove ',
      '  list ',
    ]);
    expect(await run(['user'])).toEqual({ code: 2, stdout: '', stderr: help.stdout });
  });

  it.each([
    [
      'add',
      '<name>',
      ['--users-file PATH', '--config PATH', '--password-stdin', '--generate', '--admin', '--help'],
    ],
    ['passwd', '<name>', ['--users-file PATH', '--config PATH', '--password-stdin', '--generate', '--help']],
    ['remove', '<name>', ['--users-file PATH', '--config PATH', '--help']],
    ['list', '', ['--users-file PATH', '--config PATH', '--json', '--help']],
  ])('user %s --help shows its usage and every option', async (name, argument, options) => {
    const result = await run(['user', name, '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout.split('\n')[0]).toBe(
      `Usage: bufferevent user ${name} ${argument ? `${argument} ` : ''}[options]`,
    );
    const listed = [...result.stdout.matchAll(/^ {2}(--[a-z-]+(?: [A-Z]+)?)/gm)].map((match) => match[1]);
    expect(listed).toEqual(options);
  });
});

describe('refused command lines exit 2 with a message', () => {
  it.each([
    [['frobnicate'], 'bufferevent: unknown command "frobnicate"\nRun "bufferevent --help" for usage.\n'],
    [
      ['usr'],
      'bufferevent: unknown command "usr" (did you mean "user"?)\nRun "bufferevent --help" for usage.\n',
    ],
    [
      ['user', 'ad', 'x'],
      'bufferevent: unknown command "user ad" (did you mean "user add"?)\nRun "bufferevent --help" for usage.\n',
    ],
    [
      ['--verbose'],
      'bufferevent: unknown option --verbose (give a command first)\nRun "bufferevent --help" for usage.\n',
    ],
    [
      ['user', 'list', '--jsno'],
      'bufferevent: user list: unknown option --jsno (did you mean --json?)\nRun "bufferevent user list --help" for usage.\n',
    ],
    [
      ['user', 'list', '-v'],
      'bufferevent: user list: unknown option -v (options are spelt --name)\nRun "bufferevent user list --help" for usage.\n',
    ],
    [
      ['user', 'add'],
      'bufferevent: user add: missing <name>\nRun "bufferevent user add --help" for usage.\n',
    ],
    [
      ['user', 'list', '--users-file'],
      'bufferevent: user list: --users-file needs a value (--users-file PATH)\nRun "bufferevent user list --help" for usage.\n',
    ],
    [
      ['user', 'list', '--json=yes'],
      'bufferevent: user list: --json takes no value\nRun "bufferevent user list --help" for usage.\n',
    ],
    [
      ['user', 'list', '--json', '--json'],
      'bufferevent: user list: --json given twice\nRun "bufferevent user list --help" for usage.\n',
    ],
    [
      ['user', 'add', 'x', '--generate', '--password-stdin'],
      'bufferevent: user add: --generate and --password-stdin cannot be used together\nRun "bufferevent user add --help" for usage.\n',
    ],
  ])('%j', async (args, stderr) => {
    expect(await run(args)).toEqual({ code: 2, stdout: '', stderr });
  });

  it('a password given as an argument or option is refused and never repeated', async () => {
    for (const args of [
      ['user', 'add', 'alice', 'Sup3rSecretValue'],
      ['user', 'add', 'alice', '--password', 'Sup3rSecretValue'],
      ['user', 'add', 'alice', '--password=Sup3rSecretValue'],
      ['user', 'passwd', 'alice', '-pSup3rSecretValue'],
    ]) {
      const result = await run(args);
      expect(result.code).toBe(2);
      expect(result.stdout + result.stderr).not.toContain('Sup3rSecretValue');
    }
    const result = await run(['user', 'add', 'alice', '--password=Sup3rSecretValue']);
    expect(result.stderr).toContain('passwords are never taken as command-line arguments');
  });

  it('conflicting options are refused before the users file is read', async () => {
    await run(['user', 'add', 'alice', '--password-stdin'], 'alice password');
    const result = await run(['user', 'add', 'alice', '--generate', '--password-stdin']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--generate and --password-stdin cannot be used together');
  });

  it('without a terminal and without --password-stdin or --generate, add and passwd refuse to prompt', async () => {
    const result = await run(['user', 'add', 'alice']);
    expect(result).toEqual({
      code: 2,
      stdout: '',
      stderr:
        'bufferevent: user add: stdin is not a terminal, so the password cannot be typed: pipe it with --password-stdin or use --generate\n' +
        'Run "bufferevent user add --help" for usage.\n',
    });
  });

  it('a bad config file exits 2 naming the key', async () => {
    writeFileSync(path.join(cwd, 'server.json'), JSON.stringify({ usersFile: 5 }));
    const result = await run(['user', 'list', '--config', 'server.json']);
    expect(result).toEqual({
      code: 2,
      stdout: '',
      stderr: `bufferevent: ${path.join(cwd, 'server.json')}: usersFile: expected a non-empty string, got 5\n`,
    });
  });
});

describe('user commands', () => {
  it('add --password-stdin, list, passwd, remove on ./bufferevent-users.json; the password is nowhere', async () => {
    const password = 'correct horse battery staple';
    const added = await run(['user', 'add', 'alice', '--password-stdin'], `${password}\n`);
    expect(added).toEqual({ code: 0, stdout: `Added user alice to ${usersPath()}\n`, stderr: '' });
    expect(statSync(usersPath()).mode & 0o777).toBe(0o600);
    expect(readFileSync(usersPath(), 'utf8')).not.toContain(password);
    // The trailing newline of the pipe is not part of the password.
    expect((await new UsersFile(usersPath()).verify('alice', password))?.name).toBe('alice');

    const listed = await run(['user', 'list']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(
      /^NAME {3}ROLE {3}CREATED {19}PASSWORD CHANGED\nalice  user {3}\d{4}-\d\d-\d\dT[\d:.]+Z {2}\d{4}-/,
    );
    expect(listed.stdout + listed.stderr).not.toContain(password);

    const changed = await run(['user', 'passwd', 'alice', '--password-stdin'], 'another long password');
    expect(changed).toEqual({
      code: 0,
      stdout: `Changed the password of alice in ${usersPath()}\n`,
      stderr: '',
    });
    expect(await new UsersFile(usersPath()).verify('alice', password)).toBeNull();
    expect((await new UsersFile(usersPath()).verify('alice', 'another long password'))?.name).toBe('alice');

    expect(await run(['user', 'remove', 'alice'])).toEqual({
      code: 0,
      stdout: `Removed user alice from ${usersPath()}\n`,
      stderr: '',
    });
    expect(await run(['user', 'list', '--json'])).toEqual({ code: 0, stdout: '[]\n', stderr: '' });
  });

  it('add --generate prints the password once; it works and only its hash is stored', async () => {
    const result = await run(['user', 'add', 'root-admin', '--generate', '--admin']);
    expect(result.code).toBe(0);
    const match =
      /^Password for root-admin \(shown once, stored only as a hash\): ([A-Za-z0-9_-]{24})$/m.exec(
        result.stdout,
      );
    expect(match).not.toBeNull();
    const password = match![1]!;
    expect(result.stdout.split(password)).toHaveLength(2);
    expect(readFileSync(usersPath(), 'utf8')).not.toContain(password);
    expect(await new UsersFile(usersPath()).verify('root-admin', password)).toMatchObject({
      name: 'root-admin',
      admin: true,
    });
  });

  it('operational failures exit 1 with the reason: user exists, unknown user, short password', async () => {
    await run(['user', 'add', 'alice', '--password-stdin'], 'first password');
    expect(await run(['user', 'add', 'alice', '--password-stdin'], 'second password')).toEqual({
      code: 1,
      stdout: '',
      stderr: `bufferevent: user alice already exists in ${usersPath()} (use "user passwd" to change the password)\n`,
    });
    expect(await run(['user', 'passwd', 'bob', '--password-stdin'], 'bob password')).toEqual({
      code: 1,
      stdout: '',
      stderr: `bufferevent: no user bob in ${usersPath()}\n`,
    });
    expect(await run(['user', 'remove', 'bob'])).toEqual({
      code: 1,
      stdout: '',
      stderr: `bufferevent: no user bob in ${usersPath()}\n`,
    });
    const short = await run(['user', 'add', 'carol', '--password-stdin'], 'short');
    expect(short).toEqual({
      code: 1,
      stdout: '',
      stderr: 'bufferevent: the password has 5 characters: use 8 to 1024\n',
    });
    expect(await run(['user', 'add', 'bad/name', '--password-stdin'], 'good password')).toMatchObject({
      code: 1,
    });
    const huge = await run(['user', 'add', 'carol', '--password-stdin'], 'x'.repeat(100_000));
    expect(huge).toEqual({
      code: 1,
      stdout: '',
      stderr: 'bufferevent: stdin holds more than 16384 bytes: a password has at most 1024 characters\n',
    });
  });

  it('--users-file and the config file choose the file (relative to the config file)', async () => {
    await run(['user', 'add', 'alice', '--users-file', 'custom.json', '--password-stdin'], 'alice password');
    expect(JSON.parse(readFileSync(path.join(cwd, 'custom.json'), 'utf8')).users).toHaveProperty('alice');
    writeFileSync(path.join(cwd, 'server.json'), JSON.stringify({ usersFile: 'data.json' }));
    const result = await runCli(
      ['user', 'add', 'bob', '--config', path.join(cwd, 'server.json'), '--password-stdin'],
      {
        cwd: tmpdir(),
        input: 'bob password',
      },
    );
    expect(result).toEqual({
      code: 0,
      stdout: `Added user bob to ${path.join(cwd, 'data.json')}\n`,
      stderr: '',
    });
  });

  it('a malformed users file is reported with its key and exit 1', async () => {
    writeFileSync(usersPath(), '{"version": 1, "users": {"alice": {"passwordHash": "plain-text-secret"}}}', {
      mode: 0o600,
    });
    const result = await run(['user', 'list']);
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr: `bufferevent: ${usersPath()}: users.alice.passwordHash: expected a scrypt hash made by "bufferevent user passwd"\n`,
    });
  });
});
