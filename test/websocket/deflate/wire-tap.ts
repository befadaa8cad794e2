// A TCP proxy between a WebSocket client and server that forwards every byte unchanged and parses
// the frames going each way, so tests see on the wire what each end really sent: RSV1 (compressed
// or not), fragments, interleaved control frames and each frame's size.
import net from 'node:net';
import { waitFor } from '../../helpers.ts';

/** One frame as it crossed the proxy (client frames unmasked for reading). */
export interface TappedFrame {
  fin: boolean;
  rsv1: boolean;
  rsv2: boolean;
  rsv3: boolean;
  opcode: number;
  masked: boolean;
  /** Payload length (compressed bytes when rsv1). */
  length: number;
  /** Header, mask key and payload. */
  wireLength: number;
  /** The payload, unmasked; kept only up to KEPT_PAYLOAD bytes (empty beyond). */
  payload: Buffer;
}

const KEPT_PAYLOAD = 4096;

/** Parses a stream of frames that starts with an HTTP head (skipped); reads incrementally. */
export class FrameReader {
  /** The HTTP head (request or answer, without its blank line), once it has passed. */
  head = '';
  readonly frames: TappedFrame[] = [];
  #chunks: Buffer[] = [];
  #buffered = 0;
  #inHead = true;

  push(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    if (this.#inHead) {
      const all = this.#take(this.#buffered);
      const end = all.indexOf('\r\n\r\n');
      if (end < 0) {
        this.#unshift(all);
        return;
      }
      this.#inHead = false;
      this.head = all.subarray(0, end).toString('latin1');
      this.#unshift(all.subarray(end + 4));
    }
    while (this.#readOne()) {
      // every complete frame is recorded
    }
  }

  #take(count: number): Buffer {
    const all = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks);
    this.#chunks = [];
    this.#buffered = 0;
    if (count < all.length) this.#unshift(all.subarray(count));
    return all.subarray(0, count);
  }

  /** The first `count` bytes (fewer if fewer are buffered), copying only the chunks they span. */
  #peek(count: number): Buffer {
    const first = this.#chunks[0]!;
    if (first.length >= count || this.#chunks.length === 1) return first.subarray(0, count);
    const spanned: Buffer[] = [];
    let have = 0;
    for (const chunk of this.#chunks) {
      if (have >= count) break;
      spanned.push(chunk);
      have += chunk.length;
    }
    return Buffer.concat(spanned).subarray(0, count);
  }

  #unshift(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.#chunks.unshift(bytes);
    this.#buffered += bytes.length;
  }

  #readOne(): boolean {
    if (this.#buffered < 2) return false;
    const head = this.#peek(14);
    const second = head[1]!;
    let length = second & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (head.length < 4) return false;
      length = head.readUInt16BE(2);
      offset = 4;
    } else if (length === 127) {
      if (head.length < 10) return false;
      length = Number(head.readBigUInt64BE(2));
      offset = 10;
    }
    const masked = (second & 0x80) !== 0;
    if (masked) offset += 4;
    if (this.#buffered < offset + length) return false;
    const frame = this.#take(offset + length);
    const first = frame[0]!;
    const kept = Math.min(length, KEPT_PAYLOAD);
    const payload = Buffer.from(frame.subarray(offset, offset + (length <= KEPT_PAYLOAD ? kept : 0)));
    if (masked) {
      const key = frame.subarray(offset - 4, offset);
      for (let i = 0; i < payload.length; i++) payload[i] = payload[i]! ^ key[i % 4]!;
    }
    this.frames.push({
      fin: (first & 0x80) !== 0,
      rsv1: (first & 0x40) !== 0,
      rsv2: (first & 0x20) !== 0,
      rsv3: (first & 0x10) !== 0,
      opcode: first & 0x0f,
      masked,
      length,
      wireLength: offset + length,
      payload,
    });
    return true;
  }
}

export interface TappedConnection {
  /** Frames the client sent, in order. */
  readonly toServer: TappedFrame[];
  /** Frames the server sent, in order. */
  readonly toClient: TappedFrame[];
}

export interface WireTap {
  /** Connect clients here; each connection is forwarded to the target port. */
  port: number;
  connections: TappedConnection[];
  /** Waits until connection `index` saw `count` frames going `way`. */
  waitForFrames(index: number, way: 'toServer' | 'toClient', count: number): Promise<void>;
  close(): Promise<void>;
}

export async function startWireTap(targetPort: number): Promise<WireTap> {
  const connections: TappedConnection[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect({ host: '127.0.0.1', port: targetPort });
    const toServer = new FrameReader();
    const toClient = new FrameReader();
    connections.push({ toServer: toServer.frames, toClient: toClient.frames });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.setNoDelay(true);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('data', (chunk: Buffer) => {
      toServer.push(chunk);
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      toClient.push(chunk);
      client.write(chunk);
    });
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    connections,
    waitForFrames: (index, way, count) =>
      waitFor(
        () => (connections[index]?.[way].length ?? 0) >= count,
        20_000,
        `${count} frames ${way} on tapped connection ${index}`,
      ),
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** The data frames of a list (control frames left out). */
export function dataFrames(frames: TappedFrame[]): TappedFrame[] {
  return frames.filter((frame) => frame.opcode < 0x8);
}
