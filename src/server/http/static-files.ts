// The page assets under web/static: read once at start-up into memory (they are few and small), so
// a request never touches the file system and no path from a client is ever opened.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';

const CONTENT_TYPES: Readonly<Record<string, string>> = Object.freeze({
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.html': 'text/html; charset=utf-8',
});

export interface StaticFile {
  readonly body: Buffer;
  readonly contentType: string;
  readonly etag: string;
}

/** name (relative to `directory`, with '/') → file, for every file with a known type. */
export function loadStaticFiles(directory: string): ReadonlyMap<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  for (const name of readdirSync(directory, { recursive: true, encoding: 'utf8' })) {
    const full = path.join(directory, name);
    const contentType = CONTENT_TYPES[path.extname(name)];
    if (contentType === undefined || !statSync(full).isFile()) continue;
    const body = readFileSync(full);
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
    files.set(name.split(path.sep).join('/'), { body, contentType, etag });
  }
  return files;
}
