// Replacing a small file so a reader sees either the old or the new content, never a mix or an empty
// file, even across a crash: write a temporary file in the same directory (same filesystem, so the
// rename is atomic), fsync it, rename it over the target, fsync the directory. The new file is mode
// 0600 whatever the umask. A lock file serialises read-modify-write cycles between processes (two
// `bufferevent user add` run at once both land).
import { randomBytes } from 'node:crypto';
import { open, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ServerError } from './errors.ts';

/** Temporary files are named `.<target name>.<pid>.<random>.tmp`, next to the target. */
export function isTemporaryFileOf(target: string, name: string): boolean {
  const base = path.basename(target);
  return name.startsWith(`.${base}.`) && name.endsWith('.tmp');
}

export async function writeFileAtomically(target: string, text: string): Promise<void> {
  const directory = path.dirname(target);
  const temporary = path.join(
    directory,
    `.${path.basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`,
  );
  try {
    const handle = await open(temporary, 'wx', 0o600);
    try {
      await handle.chmod(0o600);
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, target);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw writeError(target, error);
  }
  await syncDirectory(directory);
}

async function syncDirectory(directory: string): Promise<void> {
  // Makes the rename durable. Some filesystems refuse fsync on a directory; the file is in place anyway.
  const handle = await open(directory, 'r').catch(() => undefined);
  if (handle === undefined) return;
  try {
    await handle.sync();
  } catch {
    // Not durable on this filesystem; nothing better to do.
  } finally {
    await handle.close();
  }
}

function writeError(target: string, error: unknown): ServerError {
  const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
  const failure = new ServerError(
    `cannot write ${target}: ${code} (check that the directory exists and is writable)`,
    'ERR_USERS_FILE_WRITE',
  );
  const { syscall, errno } = error as NodeJS.ErrnoException;
  if (syscall !== undefined) failure.syscall = syscall;
  if (errno !== undefined) failure.errno = Math.abs(errno);
  return failure;
}

export interface LockOptions {
  /** How long to wait for another process's lock before giving up. */
  readonly timeoutMs?: number;
  /** A lock file older than this is taken to be left by a crashed process and removed. */
  readonly staleMs?: number;
}

/** Runs `action` holding `<target>.lock` (created exclusively, removed afterwards). */
export async function withFileLock<T>(
  target: string,
  action: () => Promise<T>,
  { timeoutMs = 10_000, staleMs = 60_000 }: LockOptions = {},
): Promise<T> {
  const lockPath = `${target}.lock`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const handle = await open(lockPath, 'wx', 0o600);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      break;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') throw writeError(lockPath, error);
    }
    const age = await stat(lockPath).then(
      (stats) => Date.now() - stats.mtimeMs,
      () => 0,
    );
    if (age > staleMs) {
      await unlink(lockPath).catch(() => undefined);
      continue;
    }
    if (Date.now() > deadline)
      throw new ServerError(
        `${lockPath} is held by another process: if no other bufferevent command is running, remove it`,
        'ERR_USERS_FILE_LOCKED',
      );
    await sleep(10 + Math.random() * 40);
  }
  try {
    return await action();
  } finally {
    await unlink(lockPath).catch(() => undefined);
  }
}
