// Getting a new password to the CLI without it ever being a command-line argument: typed twice at a
// terminal with echo off, or read from a pipe (--password-stdin), or generated.
import { randomBytes } from 'node:crypto';
import { ServerError, UsageError } from '../errors.ts';
import { MAX_PASSWORD_LENGTH, validateNewPassword } from '../usernames.ts';
import type { CliIO } from './command.ts';

const MAX_STDIN_BYTES = 16 * 1024;

/** Ctrl-C or Ctrl-D at the prompt (exit code 130). */
export class PromptInterrupted extends Error {}

/** 18 random bytes as base64url: 24 characters, 144 bits. */
export function generatePassword(): string {
  return randomBytes(18).toString('base64url');
}

/** All of stdin as the password, less one trailing newline (what `echo` or a heredoc adds). */
export async function readPasswordFromStdin(io: CliIO): Promise<string> {
  if (io.stdin.isTTY === true)
    throw new UsageError(
      '--password-stdin reads a pipe, and stdin is a terminal: leave it out to be prompted',
    );
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of io.stdin) {
    const bytes = Buffer.from(chunk as Buffer);
    chunks.push(bytes);
    size += bytes.length;
    // A password is at most 1024 characters: much more is the wrong input, not to be kept in memory.
    if (size > MAX_STDIN_BYTES)
      throw new ServerError(
        `stdin holds more than ${MAX_STDIN_BYTES} bytes: a password has at most ${MAX_PASSWORD_LENGTH} characters`,
        'ERR_USER_INVALID_PASSWORD',
      );
  }
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/** Prompts twice with echo off; ERR_PASSWORD_MISMATCH when the two differ. */
export async function promptNewPassword(io: CliIO, who: string): Promise<string> {
  if (io.stdin.isTTY !== true || typeof io.stdin.setRawMode !== 'function')
    throw new UsageError(
      'stdin is not a terminal, so the password cannot be typed: pipe it with --password-stdin or use --generate',
    );
  const first = await promptHidden(io, `New password for ${who}: `);
  validateNewPassword(first);
  const second = await promptHidden(io, 'Repeat it: ');
  if (first !== second)
    throw new ServerError('the two passwords differ: nothing was changed', 'ERR_PASSWORD_MISMATCH');
  return first;
}

/** Reads one line from a terminal in raw mode, echoing nothing; Backspace and Ctrl-U edit it. */
function promptHidden(io: CliIO, prompt: string): Promise<string> {
  const stdin = io.stdin;
  // Echo off before the prompt shows: what is typed in answer to it must never reach the screen.
  stdin.setRawMode!(true);
  io.stderr.write(prompt);
  stdin.resume();
  let typed = '';
  return new Promise<string>((resolve, reject) => {
    const finish = (error: Error | undefined): void => {
      stdin.off('data', onData);
      stdin.setRawMode!(false);
      stdin.pause();
      io.stderr.write('\n');
      if (error === undefined) resolve(typed);
      else reject(error);
    };
    const onData = (chunk: Buffer | string): void => {
      for (const character of chunk.toString()) {
        if (character === '\r' || character === '\n') return finish(undefined);
        if (character === '\u0003') return finish(new PromptInterrupted('interrupted'));
        if (character === '\u0004') {
          if (typed === '') return finish(new PromptInterrupted('end of input'));
          continue;
        }
        if (character === '\u007f' || character === '\b') typed = [...typed].slice(0, -1).join('');
        else if (character === '\u0015') typed = '';
        else if (character >= ' ') typed += character;
      }
    };
    stdin.on('data', onData);
  });
}
