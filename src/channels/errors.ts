// Errors of the channel layer. Each carries a `code` listed in docs/errors.md. A full channel is
// `ChannelFull`, named as in Django Channels so ported code reads the same; wrong arguments (a bad
// name, a message that is not a JSON object with a `type`, a bad option) are TypeErrors/RangeErrors,
// the classes JavaScript uses for them, each with its ERR_CHANNEL_* code.
import { BuffereventError } from '../errors.ts';

/** A failure of a channel layer operation (the layer is closed, a channel is full). */
export class ChannelLayerError extends BuffereventError {
  constructor(message: string, code: string) {
    super(message, code);
    this.name = 'ChannelLayerError';
  }
}

/** `send` to a channel that already holds `capacity` messages. Nothing was queued. */
export class ChannelFull extends ChannelLayerError {
  /** The channel that was full. */
  readonly channel: string;
  constructor(channel: string, capacity: number) {
    super(`channel ${JSON.stringify(channel)} is full (capacity ${capacity})`, 'ERR_CHANNEL_FULL');
    this.name = 'ChannelFull';
    this.channel = channel;
  }
}

/** A wrong argument: an invalid channel or group name, an invalid message, an invalid option. */
export class ChannelLayerTypeError extends TypeError {
  readonly code: string;
  constructor(message: string, code: string) {
    super(message);
    this.code = code;
  }
}

/** An option out of range (a capacity or expiry that is not a positive number). */
export class ChannelLayerRangeError extends RangeError {
  readonly code: string;
  constructor(message: string, code: string) {
    super(message);
    this.code = code;
  }
}

export function layerClosed(operation: string): ChannelLayerError {
  return new ChannelLayerError(`${operation}: the channel layer is closed`, 'ERR_CHANNEL_LAYER_CLOSED');
}

/** Redis (or another layer's server) could not be reached within the layer's `timeout`. */
export function layerUnavailable(operation: string, why: string): ChannelLayerError {
  return new ChannelLayerError(
    `${operation}: the channel layer's server is unavailable (${why}); the layer keeps reconnecting, retry later`,
    'ERR_CHANNEL_LAYER_UNAVAILABLE',
  );
}
