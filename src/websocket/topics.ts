// Pub/sub's JavaScript half: checking topics and published data, and the scopes that keep each
// WebSocketServer's topics apart. The registry and the fan-out are native (native/ws/topics.h): a
// publish frames the message once, and each subscriber holds it until the end of the libevent pass.
import { native } from '../native.ts';
import { WebSocketTypeError } from './errors.ts';
import { isBlob, toBuffer, type WebSocketData } from './message-data.ts';

/** The longest topic name, in bytes of UTF-8. */
export const MAX_TOPIC_BYTES = 1024;

export interface PublishOptions {
  /** Send a binary message; default: binary unless `data` is a string. */
  binary?: boolean;
  /** false: every subscriber gets it uncompressed. Default true, as send's `compress`. */
  compress?: boolean;
}

export interface PublishResult {
  /** Subscribers that took the message (held until the end of the pass, then written). */
  delivered: number;
  /** Subscribers over their backpressureBytes, which did not get it (see WebSocket.skippedPublishes). */
  skipped: number;
}

let lastScope = 0;

/** A new scope: the topics of one server. */
export function newTopicScope(): number {
  lastScope = lastScope === 0xffff_ffff ? 1 : lastScope + 1;
  return lastScope;
}

export function checkTopic(topic: unknown): string {
  if (typeof topic !== 'string' || topic.length === 0 || Buffer.byteLength(topic, 'utf8') > MAX_TOPIC_BYTES) {
    throw new WebSocketTypeError(
      `a topic must be a non-empty string of at most ${MAX_TOPIC_BYTES} bytes of UTF-8`,
      'WS_ERR_INVALID_TOPIC',
    );
  }
  return topic;
}

export function publish(
  scope: number,
  topic: unknown,
  data: unknown,
  options: PublishOptions = {},
): PublishResult {
  const name = checkTopic(topic);
  if (isBlob(data)) {
    throw new WebSocketTypeError(
      'publish() cannot take a Blob: read it into a Buffer first',
      'WS_ERR_INVALID_DATA',
    );
  }
  const bytes = toBuffer(data as Exclude<WebSocketData, Blob> | number | undefined);
  const binary = options.binary ?? (typeof data !== 'string' && typeof data !== 'number');
  const compress = options.compress !== false;
  const [delivered, skipped] = native.wsPublish(scope, name, bytes, binary, compress);
  return { delivered, skipped };
}

/** Topics alive in this thread, over every server: for tests that check nothing is left over. */
export function liveTopicCount(): number {
  return native.wsTopicCount();
}
