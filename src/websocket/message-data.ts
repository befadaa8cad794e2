// Converting between what users send or receive and the bytes of a frame: send() accepts what ws
// accepts, and binaryType decides what a binary message is delivered as (text stays a Buffer, as
// in ws; the browser-style MessageEvent turns it into a string).
// Imported rather than global: in Node 20 the globals Buffer and Blob are accessors, a getter call
// on every use in a hot path.
import { Blob as NodeBlob, Buffer } from 'node:buffer';
import { WebSocketTypeError } from './errors.ts';

export type BinaryType = 'nodebuffer' | 'arraybuffer' | 'fragments' | 'blob';
export const BINARY_TYPES: readonly string[] = ['nodebuffer', 'arraybuffer', 'fragments', 'blob'];

/** What send() takes; an array of Buffers (a 'fragments' message as received) is sent as one message. */
export type WebSocketData = string | Buffer | ArrayBuffer | ArrayBufferView | Blob | readonly Buffer[];

export function isBlob(data: unknown): data is Blob {
  return data instanceof NodeBlob;
}

/** The bytes of `data` (a Blob is read by the caller first). */
export function toBuffer(data: Exclude<WebSocketData, Blob> | number | undefined): Buffer {
  if (data === undefined) return Buffer.alloc(0);
  if (typeof data === 'number') return Buffer.from(String(data), 'utf8');
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (Array.isArray(data) && data.every((part) => Buffer.isBuffer(part))) return Buffer.concat(data);
  throw new WebSocketTypeError(
    'data must be a string, a Buffer, an array of Buffers, a TypedArray, a DataView, an ArrayBuffer or a Blob',
    'WS_ERR_INVALID_DATA',
  );
}

/** A received binary message in the form binaryType asks for. */
export function binaryMessage(data: Buffer, binaryType: BinaryType): Buffer | ArrayBuffer | Buffer[] | Blob {
  switch (binaryType) {
    case 'arraybuffer':
      return toArrayBuffer(data);
    case 'fragments':
      // The native assembler delivers a message whole: its one fragment.
      return [data];
    case 'blob':
      return new Blob([data]);
    default:
      return data;
  }
}

function toArrayBuffer(data: Buffer): ArrayBuffer {
  if (data.byteOffset === 0 && data.byteLength === data.buffer.byteLength) return data.buffer as ArrayBuffer;
  return data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;
}
