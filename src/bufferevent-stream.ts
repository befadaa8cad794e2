// Bufferevent.toStream(): a node:stream Duplex over a bufferevent. Backpressure maps to libevent:
// a full readable side disables EV_READ (the input is always drained into the stream first, so the
// stream, not the input evbuffer, holds what was read); end() becomes a write shutdown once the
// output has drained; errors destroy the stream.
import { Duplex, type DuplexOptions } from 'node:stream';
import { BEV, EV } from './constants.ts';
import type { Bufferevent } from './bufferevent.ts';
import type { BuffereventError } from './errors.ts';

export interface BuffereventStreamOptions extends DuplexOptions {
  /** Like net.Socket: when false (the default), the writable side ends when the readable side ends. */
  allowHalfOpen?: boolean;
}

export class BuffereventStream extends Duplex {
  readonly bufferevent: Bufferevent;
  #pendingWrite: ((error?: Error | null) => void) | null = null;
  #pendingFinal: ((error?: Error | null) => void) | null = null;

  constructor(bev: Bufferevent, options: BuffereventStreamOptions = {}) {
    super({ allowHalfOpen: false, ...options });
    this.bufferevent = bev;
    bev.setCallbacks({
      read: () => this.#onReadable(),
      write: () => this.#onDrained(),
      event: (_bev, events, error) => this.#onEvent(events, error),
    });
    bev.enable(EV.READ | EV.WRITE);
  }

  override _read(): void {
    if (!this.bufferevent.freed && !(this.bufferevent.enabled & EV.READ)) this.bufferevent.enable(EV.READ);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    try {
      this.bufferevent.write(chunk);
    } catch (error) {
      callback(error as Error);
      return;
    }
    // Let the stream buffer more only while libevent's output is below the stream's own mark.
    if (this.bufferevent.output.length < this.writableHighWaterMark) callback();
    else this.#pendingWrite = callback;
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.bufferevent.output.length === 0) this.#shutdown(callback);
    else this.#pendingFinal = callback;
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.bufferevent.free();
    this.#pendingWrite = this.#pendingFinal = null;
    callback(error);
  }

  #onReadable(): void {
    const data = this.bufferevent.read();
    if (data.length > 0 && !this.push(data)) this.bufferevent.disable(EV.READ);
  }

  #onDrained(): void {
    const write = this.#pendingWrite;
    this.#pendingWrite = null;
    write?.();
    const final = this.#pendingFinal;
    if (final && this.bufferevent.output.length === 0) {
      this.#pendingFinal = null;
      this.#shutdown(final);
    }
  }

  #shutdown(callback: (error?: Error | null) => void): void {
    try {
      this.bufferevent.shutdownWrite();
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  #onEvent(events: number, error?: BuffereventError): void {
    if (events & BEV.CONNECTED) {
      this.emit('connect');
    } else if (events & BEV.ERROR) {
      this.destroy(error);
    } else if (events & BEV.EOF) {
      this.push(null);
    } else if (events & BEV.TIMEOUT) {
      // Like net.Socket's 'timeout', a notice: libevent disabled the direction that timed out, so
      // it is enabled again and the stream carries on unless the listener destroys it.
      this.bufferevent.enable(events & BEV.READING ? EV.READ : EV.WRITE);
      this.emit('timeout', events);
    }
  }
}
