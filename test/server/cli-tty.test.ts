// The password prompt on a real terminal: `script` gives the program a pseudo-terminal. Nothing typed
// is echoed, Backspace edits, two different entries or Ctrl-C change nothing.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { UsersFile } from '../../src/server/users-file.ts';
import { assertBuilt, bin } from './cli-runner.ts';

let directory: string;
let file: string;

beforeAll(() => assertBuilt());
beforeEach(() => {
  directory = mkdtempSync(path.join(tmpdir(), 'bufferevent-tty-'));
  file = path.join(directory, 'users.json');
});
afterEach(() => rmSync(directory, { recursive: true, force: true }));

/**
 * Runs a user command on a pseudo-terminal; each time the output shows the next prompt, types the
 * next entry. Resolves to the exit code and everything the terminal showed.
 */
function onTerminal(args: string[], entries: string[]): Promise<{ code: number | null; screen: string }> {
  const command = [process.execPath, bin, ...args, '--users-file', file].join(' ');
  const child = spawn('script', ['-qfec', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let screen = '';
  let prompts = 0;
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    screen += chunk;
    // Typed only once the prompt is up: before raw mode the terminal itself would echo it.
    const shown = (screen.match(/New password for [^:]+: |Repeat it: /g) ?? []).length;
    while (prompts < shown && prompts < entries.length) child.stdin.write(entries[prompts++]!);
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, screen }));
  });
}

describe('password prompt on a terminal', () => {
  it('asks twice without echo; Backspace removes the last character', async () => {
    const result = await onTerminal(['user', 'add', 'carol'], ['pass wörd 123\u007f4\r', 'pass wörd 124\r']);
    expect(result.code).toBe(0);
    expect(result.screen).toBe(`New password for carol: \r\nRepeat it: \r\nAdded user carol to ${file}\r\n`);
    expect((await new UsersFile(file).verify('carol', 'pass wörd 124'))?.name).toBe('carol');
    expect(readFileSync(file, 'utf8')).not.toContain('pass w');
  });

  it('two different entries change nothing (exit 1)', async () => {
    await new UsersFile(file).add('carol', 'original password');
    const result = await onTerminal(
      ['user', 'passwd', 'carol'],
      ['new password one\r', 'new password two\r'],
    );
    expect(result.code).toBe(1);
    expect(result.screen).toBe(
      'New password for carol: \r\nRepeat it: \r\nbufferevent: the two passwords differ: nothing was changed\r\n',
    );
    expect((await new UsersFile(file).verify('carol', 'original password'))?.name).toBe('carol');
  });

  it('Ctrl-C at the prompt exits 130 and writes nothing', async () => {
    const result = await onTerminal(['user', 'add', 'carol'], ['half typed\u0003']);
    expect(result.code).toBe(130);
    expect(result.screen).toBe(
      'New password for carol: \r\nbufferevent: interrupted: nothing was changed\r\n',
    );
    expect(result.screen).not.toContain('half typed');
    expect(existsSync(file)).toBe(false);
  });

  it('a too short first entry is refused before the second prompt', async () => {
    const result = await onTerminal(['user', 'add', 'carol'], ['short\r']);
    expect(result.code).toBe(1);
    expect(result.screen).toBe(
      'New password for carol: \r\nbufferevent: the password has 5 characters: use 8 to 1024\r\n',
    );
  });

  it('--password-stdin on a terminal is refused (it would echo): exit 2', async () => {
    const result = await onTerminal(['user', 'add', 'carol', '--password-stdin'], []);
    expect(result.code).toBe(2);
    expect(result.screen).toBe(
      'bufferevent: user add: --password-stdin reads a pipe, and stdin is a terminal: leave it out to be prompted\r\n' +
        'Run "bufferevent user add --help" for usage.\r\n',
    );
    expect(existsSync(file)).toBe(false);
  });
});
