// The page the WebSocket browser tests load: no markup, only a script that opens WebSockets, makes
// messages of a given type, size and kind, sends them, and records what arrives (SHA-256 of the bytes,
// in order) and how each socket closed. The tests call its functions with `evaluate` and compare
// with what the server received and sent.
import { createHash } from 'node:crypto';
import type { Page } from 'playwright-core';
import { evaluate } from './browser-helpers.ts';

/** A message as both ends describe it: its type, its size in bytes and the SHA-256 of its bytes. */
export interface MessageDigest {
  binary: boolean;
  length: number;
  sha256: string;
}

/**
 * What a message sent by the page is: text or ArrayBuffer, of `size` bytes (UTF-8 for text), made of
 * a repeated phrase ('compressible'), random bytes, or pseudo-random bytes that depend only on the
 * size and type ('repeatable': incompressible on its own, almost free when sent again with context
 * takeover), or `randomPart` random bytes followed by the repeated phrase ('mixed': large on the
 * wire, then far larger once inflated).
 */
export interface MessageSpec {
  binary: boolean;
  size: number;
  kind: 'compressible' | 'random' | 'repeatable' | 'mixed';
  randomPart?: number;
}

export interface PageClose {
  code: number;
  reason: string;
  wasClean: boolean;
}

export function digestOf(data: Buffer, binary: boolean): MessageDigest {
  return { binary, length: data.length, sha256: createHash('sha256').update(data).digest('hex') };
}

/** Every function bounds its waits: a test must fail with a message, not hang. */
const SCRIPT = `
const WAIT_MS = 60000;
// window.closed and others are the window's own: the functions live under window.page.
const page = (window.page = {});
const encoder = new TextEncoder();
const sockets = [];
const PHRASE = 'permessage-deflate in a browser: the quick brown fox jumps over the lazy dog. ';
// Multi-byte characters too, so UTF-8 sequences straddle whatever boundaries compression makes.
const ALPHABET = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ', 'é', 'ß', '€', '✓', '😀']
  .map((text) => ({ text, bytes: encoder.encode(text).length }));

async function sha256(bytes) {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return [...digest].map((byte) => byte.toString(16).padStart(2, '0')).join('');
}

function randomBytes(size) {
  const bytes = new Uint8Array(size);
  for (let at = 0; at < size; at += 65536) crypto.getRandomValues(bytes.subarray(at, Math.min(size, at + 65536)));
  return bytes;
}

/** The same bytes for the same size every time (xorshift32). */
function repeatableBytes(size) {
  const bytes = new Uint8Array(size);
  let x = (0x9e3779b9 ^ size) >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    bytes[i] = x & 0xff;
  }
  return bytes;
}

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function compressibleText(size) {
  return PHRASE.repeat(Math.ceil(size / PHRASE.length)).slice(0, size);
}

/** Random text of exactly size UTF-8 bytes. */
function randomText(size) {
  const picks = randomBytes(size);
  const parts = [];
  let bytes = 0;
  for (let i = 0; bytes < size; i++) {
    let pick = ALPHABET[picks[i] % ALPHABET.length];
    if (bytes + pick.bytes > size) pick = ALPHABET[0];
    parts.push(pick.text);
    bytes += pick.bytes;
  }
  return parts.join('');
}

function makeMessage({ binary, size, kind, randomPart }) {
  if (kind === 'mixed') {
    const head = makeMessage({ binary, size: randomPart, kind: 'random' }).bytes;
    const tail = makeMessage({ binary, size: size - randomPart, kind: 'compressible' }).bytes;
    const bytes = new Uint8Array(size);
    bytes.set(head);
    bytes.set(tail, head.length);
    return { data: binary ? bytes.buffer : new TextDecoder().decode(bytes), bytes };
  }
  if (binary) {
    const bytes =
      kind === 'random' ? randomBytes(size)
      : kind === 'repeatable' ? repeatableBytes(size)
      : encoder.encode(compressibleText(size));
    return { data: bytes.buffer, bytes };
  }
  const text =
    kind === 'random' ? randomText(size)
    : kind === 'repeatable' ? Array.from(repeatableBytes(size), (byte) => BASE64[byte & 63]).join('')
    : compressibleText(size);
  return { data: text, bytes: encoder.encode(text) };
}

async function until(predicate, what) {
  const deadline = Date.now() + WAIT_MS;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for ' + what);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Opens a WebSocket; resolves with its index once open, or with the close when refused. */
page.connect = (url) => new Promise((resolve) => {
  const ws = new WebSocket(url);
  ws.binaryType = 'arraybuffer';
  const socket = { ws, received: [], hashing: [], close: null };
  const index = sockets.push(socket) - 1;
  ws.onopen = () => resolve({ index, extensions: ws.extensions });
  ws.onmessage = (event) => {
    const binary = typeof event.data !== 'string';
    const bytes = binary ? new Uint8Array(event.data) : encoder.encode(event.data);
    const entry = { binary, length: bytes.length, sha256: '' };
    socket.received.push(entry);
    socket.hashing.push(sha256(bytes).then((hash) => (entry.sha256 = hash)));
  };
  ws.onclose = (event) => {
    socket.close = { code: event.code, reason: event.reason, wasClean: event.wasClean };
    resolve({ index, refused: socket.close });
  };
});

/** Sends the messages (without waiting in between); resolves with their digests once sent. */
page.sendAll = async (index, specs) => {
  const sent = [];
  for (const spec of specs) {
    const { data, bytes } = makeMessage(spec);
    sent.push({ binary: spec.binary, length: bytes.length, sha256: await sha256(bytes) });
    sockets[index].ws.send(data);
  }
  return sent;
};

/** Resolves with the digests of the first count messages received, once they all arrived. */
page.received = async (index, count) => {
  const socket = sockets[index];
  await until(() => socket.received.length >= count || socket.close !== null, count + ' messages');
  await Promise.all(socket.hashing);
  return socket.received.slice(0, count);
};

/** Resolves with how the socket closed, once it has; with code, it closes it first. */
page.closed = async (index, code, reason) => {
  const socket = sockets[index];
  if (code !== undefined) socket.ws.close(code, reason);
  await until(() => socket.close !== null, 'the close');
  return socket.close;
};
`;

export const SOCKET_PAGE_HTML = `<!doctype html><meta charset="utf-8"><title>WebSocket</title><script>${SCRIPT}</script>`;

/** The page's side of one WebSocket. */
export class PageSocket {
  private constructor(
    private readonly page: Page,
    readonly index: number,
    /** What the browser's `ws.extensions` says. */
    readonly extensions: string,
  ) {}

  /** Opens `url` in the page; fails when the browser could not open it. */
  static async open(page: Page, url: string): Promise<PageSocket> {
    const opened = await evaluate<{ index: number; extensions?: string; refused?: PageClose }>(
      page,
      `window.page.connect(${JSON.stringify(url)})`,
    );
    if (opened.refused !== undefined) {
      throw new Error(`the browser could not open ${url}: close ${JSON.stringify(opened.refused)}`);
    }
    return new PageSocket(page, opened.index, opened.extensions!);
  }

  sendAll(specs: MessageSpec[]): Promise<MessageDigest[]> {
    return evaluate(this.page, `window.page.sendAll(${this.index}, ${JSON.stringify(specs)})`);
  }

  /** The first `count` messages received (fewer when the socket closed first). */
  received(count: number): Promise<MessageDigest[]> {
    return evaluate(this.page, `window.page.received(${this.index}, ${count})`);
  }

  close(code: number, reason: string): Promise<PageClose> {
    return evaluate(this.page, `window.page.closed(${this.index}, ${code}, ${JSON.stringify(reason)})`);
  }

  /** How the socket closed, once it has (the other end closing it). */
  closed(): Promise<PageClose> {
    return evaluate(this.page, `window.page.closed(${this.index})`);
  }
}
