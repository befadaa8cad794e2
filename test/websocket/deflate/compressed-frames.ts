// Compressed payloads crafted with node:zlib for the hostile-input tests (the implementation under
// test never writes them), and a raw server that speaks permessage-deflate to a client under test.
import { createHash } from 'node:crypto';
import net from 'node:net';
import zlib from 'node:zlib';
import { waitFor } from '../../helpers.ts';
import { FrameReader, type TappedFrame } from './wire-tap.ts';

/** The empty stored block a sync flush ends with, which RFC 7692 §7.2.1 removes from a message. */
const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);

function withoutTail(compressed: Buffer): Buffer {
  if (!compressed.subarray(-4).equals(TAIL)) throw new Error('a sync-flushed stream ends with 00 00 ff ff');
  return compressed.subarray(0, -4);
}

/**
 * `data` compressed as a permessage-deflate message (raw deflate, sync flush, tail removed). With
 * `previous`, compressed as if the previous messages `previous` were in the window (what a sender
 * with context takeover produces).
 */
export function compressMessage(data: Buffer | string, previous?: Buffer | string): Buffer {
  return withoutTail(
    zlib.deflateRawSync(data, {
      finishFlush: zlib.constants.Z_SYNC_FLUSH,
      ...(previous === undefined ? {} : { dictionary: Buffer.from(previous) }),
    }),
  );
}

/**
 * A message that inflates to `blocks` × 8 MiB of zero bytes: one sync-flushed deflate block of
 * 8 MiB of zeros (about 8 KiB), repeated. 128 blocks make 1 GiB from about 1 MiB.
 */
export function zeroBomb(blocks: number): Buffer {
  const block = zlib.deflateRawSync(Buffer.alloc(8 * 1024 * 1024), {
    level: 9,
    finishFlush: zlib.constants.Z_SYNC_FLUSH,
  });
  return withoutTail(Buffer.concat(Array.from({ length: blocks }, () => block)));
}

/** A peer's first compressed message (or any, without context takeover) inflated. */
export function inflateMessage(compressed: Buffer): Buffer {
  return zlib.inflateRawSync(Buffer.concat([compressed, TAIL]), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
}

/** Bytes that are no deflate stream: block type 3 (reserved) in the first byte. */
export const NOT_DEFLATE = Buffer.from([0xff, 0xff, 0xff, 0xff, 0x00]);

/** An unmasked server frame. */
export function serverFrame(opcode: number, payload: Buffer, { rsv1 = false, fin = true } = {}): Buffer {
  const first = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode;
  let head: Buffer;
  if (payload.length <= 125) head = Buffer.from([first, payload.length]);
  else if (payload.length <= 0xffff) {
    head = Buffer.from([first, 126, 0, 0]);
    head.writeUInt16BE(payload.length, 2);
  } else {
    head = Buffer.alloc(10);
    head[0] = first;
    head[1] = 127;
    head.writeBigUInt64BE(BigInt(payload.length), 2);
  }
  return Buffer.concat([head, payload]);
}

export interface RawDeflateServer {
  port: number;
  /** Waits for the next client's handshake and answers 101 with `extensions` as its answer. */
  accept(extensions?: string): Promise<RawPeer>;
  close(): Promise<void>;
}

export interface RawPeer {
  /** The client's Sec-WebSocket-Extensions offer. */
  offer: string | undefined;
  /** Frames the client sent (unmasked). */
  frames: TappedFrame[];
  write(bytes: Buffer): void;
  /** Waits for a close frame from the client and returns its code. */
  closeCode(): Promise<number | undefined>;
  ended(): boolean;
  destroy(): void;
}

/** A plain TCP server that does the server's half of the handshake by hand. */
export async function startRawDeflateServer(): Promise<RawDeflateServer> {
  const pending: net.Socket[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    pending.push(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    async accept(extensions = 'permessage-deflate') {
      await waitFor(() => pending.length > 0, 20_000, 'a client connection');
      const socket = pending.shift()!;
      const reader = new FrameReader();
      let head = '';
      let ended = false;
      socket.on('end', () => (ended = true));
      socket.on('close', () => (ended = true));
      await new Promise<void>((resolve) => {
        socket.on('data', (chunk: Buffer) => {
          reader.push(chunk);
          if (head.includes('\r\n\r\n')) return;
          head += chunk.toString('latin1');
          if (head.includes('\r\n\r\n')) resolve();
        });
      });
      const key = /\r\nsec-websocket-key: *([^\r]*)/i.exec(head)?.[1] ?? '';
      const offer = /\r\nsec-websocket-extensions: *([^\r]*)/i.exec(head)?.[1];
      const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          `Sec-WebSocket-Accept: ${accept}\r\n` +
          (extensions ? `Sec-WebSocket-Extensions: ${extensions}\r\n` : '') +
          '\r\n',
      );
      return {
        offer,
        frames: reader.frames,
        write: (bytes) => socket.write(bytes),
        async closeCode() {
          await waitFor(() => reader.frames.some((frame) => frame.opcode === 0x8), 20_000, 'a close frame');
          const close = reader.frames.find((frame) => frame.opcode === 0x8)!;
          return close.payload.length >= 2 ? close.payload.readUInt16BE(0) : undefined;
        },
        ended: () => ended,
        destroy: () => socket.destroy(),
      };
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
