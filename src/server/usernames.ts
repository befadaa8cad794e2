// What a username and a password may be. Usernames appear in URLs, logs and the config file's
// per-log `users` lists, so they are plain ASCII; they start with a letter or digit so one is never
// mistaken for a command-line option ('-x') or a path ('.', '..').
import { ServerError } from './errors.ts';

export const USERNAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
export const USERNAME_RULE = '1 to 64 letters, digits, ".", "_", "-", "@", starting with a letter or digit';

export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 1024;

export function isValidUsername(name: unknown): name is string {
  return typeof name === 'string' && USERNAME_PATTERN.test(name);
}

/** Returns `name` when valid; otherwise throws ERR_USER_INVALID_NAME quoting it (it is not a secret). */
export function validateUsername(name: unknown): string {
  if (isValidUsername(name)) return name;
  const shown = typeof name === 'string' ? JSON.stringify(name.slice(0, 80)) : typeof name;
  throw new ServerError(`invalid username ${shown}: expected ${USERNAME_RULE}`, 'ERR_USER_INVALID_NAME');
}

/** Throws ERR_USER_INVALID_PASSWORD for a password too short or too long; the message never quotes it. */
export function validateNewPassword(password: unknown): string {
  if (typeof password !== 'string')
    throw new ServerError('the password must be a string', 'ERR_USER_INVALID_PASSWORD');
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH || length > MAX_PASSWORD_LENGTH)
    throw new ServerError(
      `the password has ${length} characters: use ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH}`,
      'ERR_USER_INVALID_PASSWORD',
    );
  if (/[\0\r\n]/.test(password))
    throw new ServerError(
      'the password contains a NUL or line break: those cannot be typed at the login page',
      'ERR_USER_INVALID_PASSWORD',
    );
  return password;
}
