// The key that signs session cookies, from the config (`secretKey`), from a file (`secretKeyFile`,
// which must be private like the users file), or generated at start when neither is set (sessions
// then end with the process; with several workers, generate it once and hand the same key to each).
import { randomBytes } from 'node:crypto';
import { open } from 'node:fs/promises';
import { MIN_SECRET_KEY_LENGTH, type ServerConfig } from './config.ts';
import { ServerError } from './errors.ts';

export interface SecretKey {
  readonly key: string;
  readonly source: 'config' | 'file' | 'generated';
}

/** 48 random bytes, base64url (64 characters). */
export function generateSecretKey(): string {
  return randomBytes(48).toString('base64url');
}

export async function resolveSecretKey(
  config: Pick<ServerConfig, 'secretKey' | 'secretKeyFile'>,
): Promise<SecretKey> {
  if (config.secretKey !== null) return { key: config.secretKey, source: 'config' };
  if (config.secretKeyFile === null) return { key: generateSecretKey(), source: 'generated' };
  const file = config.secretKeyFile;
  let text: string;
  try {
    const handle = await open(file, 'r');
    try {
      const stats = await handle.stat();
      if (!stats.isFile()) throw keyFileError(`${file} is not a regular file`);
      if ((stats.mode & 0o077) !== 0)
        throw keyFileError(
          `${file} is accessible by other users (mode ${(stats.mode & 0o777).toString(8).padStart(4, '0')}): run chmod 600 ${file}`,
        );
      text = await handle.readFile('utf8');
    } finally {
      await handle.close();
    }
  } catch (error) {
    if (error instanceof ServerError) throw error;
    throw keyFileError(
      `cannot read secretKeyFile ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
    );
  }
  // A trailing newline (from `echo` or an editor) is not part of the key.
  const key = text.replace(/\s+$/, '');
  if (key.length < MIN_SECRET_KEY_LENGTH)
    throw keyFileError(
      `${file} holds ${key.length} characters: a key has at least ${MIN_SECRET_KEY_LENGTH} (e.g. openssl rand -base64 48 > ${file})`,
    );
  return { key, source: 'file' };
}

function keyFileError(message: string): ServerError {
  return new ServerError(message, 'ERR_SECRET_KEY_FILE');
}
