// The Redis layer's subscriber connection: reference-counted topic subscriptions (a topic is
// subscribed once per process however many local users want it), re-subscribed by us after a
// reconnection (pub/sub messages sent while a connection is down are lost, so the layer also
// re-checks everything that may have been missed), and the framing of group payloads.
import type { RedisConnection } from './redis-connection.ts';

/** How long a subscription waits for the layer's first connection to Redis. */
const FIRST_CONNECTION_WAIT_MS = 5_000;

export class TopicSubscriptions {
  readonly #connection: RedisConnection;
  /** topic → how many local users want it. */
  readonly #wanted = new Map<string, number>();
  /** topic → the SUBSCRIBE in flight or done on the current connection. */
  readonly #subscribed = new Map<string, Promise<void>>();

  constructor(connection: RedisConnection, onMessage: (topic: string, payload: Buffer) => void) {
    this.#connection = connection;
    connection.client.on('messageBuffer', (topic: Buffer, payload: Buffer) =>
      onMessage(topic.toString(), payload),
    );
  }

  get count(): number {
    return this.#wanted.size;
  }

  has(topic: string): boolean {
    return this.#wanted.has(topic);
  }

  /**
   * Wants `topic`; resolves once Redis confirmed the subscription. While Redis is unreachable it
   * resolves at once: the subscription is made on reconnection (see `resubscribe`).
   */
  async acquire(topic: string): Promise<void> {
    this.#wanted.set(topic, (this.#wanted.get(topic) ?? 0) + 1);
    await this.#subscribe(topic);
  }

  /**
   * Resolves once a wanted `topic` is subscribed, as `acquire` would: a second user of a topic
   * whose first `acquire` is still waiting for the layer's first connection waits with it (and
   * does not resolve before anything was sent to Redis).
   */
  async settled(topic: string): Promise<void> {
    if (this.#wanted.has(topic)) await this.#subscribe(topic);
  }

  release(topic: string): void {
    const count = this.#wanted.get(topic);
    if (count === undefined) return;
    if (count > 1) {
      this.#wanted.set(topic, count - 1);
      return;
    }
    this.#wanted.delete(topic);
    if (!this.#subscribed.delete(topic) || !this.#connection.ready) return;
    // Commands on one connection run in order, so a later SUBSCRIBE of the same topic still wins.
    this.#connection.client.unsubscribe(topic).catch(() => {});
  }

  /** After a reconnection: the new connection has no subscriptions; make every wanted one again. */
  async resubscribe(): Promise<void> {
    this.#subscribed.clear();
    await Promise.all([...this.#wanted.keys()].map((topic) => this.#subscribe(topic)));
  }

  async #subscribe(topic: string): Promise<void> {
    if (!this.#connection.ready && !this.#connection.everReady) {
      // The connection is still being made (the layer was just created): wait for it, so that a
      // group joined right at the start is subscribed when groupAdd resolves, not a moment later
      // (messages published in between would be missed). A lost connection is not waited for:
      // the reconnection subscribes everything wanted.
      await Promise.race([
        this.#connection.whenReady().catch(() => {}),
        new Promise((resolve) => setTimeout(resolve, FIRST_CONNECTION_WAIT_MS).unref()),
      ]);
    }
    let subscribing = this.#subscribed.get(topic);
    if (subscribing === undefined) {
      if (!this.#connection.ready) return;
      const attempt: Promise<void> = this.#connection.client.subscribe(topic).then(
        () => {},
        () => {
          // Lost meanwhile: the reconnection subscribes again (unless it already has).
          if (this.#subscribed.get(topic) === attempt) this.#subscribed.delete(topic);
        },
      );
      subscribing = attempt;
      this.#subscribed.set(topic, attempt);
    }
    await subscribing;
  }
}

/** What a group topic carries; the first byte of the payload. */
export const GroupPayloadKind = {
  /** A groupSend: `<deadline> <json>`. */
  Message: 0x73, // 's'
  /** A groupBroadcast of binary data. */
  Binary: 0x62, // 'b'
  /** A groupBroadcast of text (UTF-8). */
  Text: 0x74, // 't'
} as const;
export type GroupPayloadKind = (typeof GroupPayloadKind)[keyof typeof GroupPayloadKind];

/** Every layer instance's id has this length, so a payload's sender is a fixed-size field. */
export const LAYER_ID_LENGTH = 16;

export function encodeGroupPayload(kind: GroupPayloadKind, sender: string, body: string | Buffer): Buffer {
  const header = Buffer.allocUnsafe(1 + LAYER_ID_LENGTH);
  header[0] = kind;
  header.write(sender, 1, 'latin1');
  return Buffer.concat([header, typeof body === 'string' ? Buffer.from(body) : body]);
}

export function decodeGroupPayload(
  payload: Buffer,
): { kind: GroupPayloadKind; sender: string; body: Buffer } | undefined {
  if (payload.length < 1 + LAYER_ID_LENGTH) return undefined;
  const kind = payload[0] as GroupPayloadKind;
  if (kind !== GroupPayloadKind.Message && kind !== GroupPayloadKind.Binary && kind !== GroupPayloadKind.Text)
    return undefined;
  return {
    kind,
    sender: payload.toString('latin1', 1, 1 + LAYER_ID_LENGTH),
    body: payload.subarray(1 + LAYER_ID_LENGTH),
  };
}
