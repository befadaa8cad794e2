// Structured logs: one JSON object per line on stderr (or a stream given), one line per event
// (connect, login, tail start/stop, errors), so a log shipper can parse them without guessing.
// Also a ChannelsLogger, so serve()'s reports land in the same stream.
import type { ChannelsLogger, LogDetails } from '../channels/logger.ts';

export interface EventLogSink {
  write(line: string): unknown;
}

export class EventLog implements ChannelsLogger {
  readonly #sink: EventLogSink;
  readonly #now: () => Date;
  readonly #context: LogDetails;

  /** `context`: fields on every line (a worker's pid, so its lines can be told apart). */
  constructor(
    sink: EventLogSink = process.stderr,
    now: () => Date = () => new Date(),
    context: LogDetails = {},
  ) {
    this.#sink = sink;
    this.#now = now;
    this.#context = context;
  }

  /** Logs one event, e.g. event('login.failed', { user, address }). */
  event(name: string, fields: LogDetails = {}, level: 'info' | 'warn' | 'error' = 'info'): void {
    const entry = { time: this.#now().toISOString(), level, event: name, ...this.#context, ...fields };
    try {
      this.#sink.write(`${JSON.stringify(entry, errorAsFields)}\n`);
    } catch {
      // Logging must never take the server down.
    }
  }

  info(message: string, details?: LogDetails): void {
    this.event('channels', { message, ...details }, 'info');
  }

  warn(message: string, details?: LogDetails): void {
    this.event('channels', { message, ...details }, 'warn');
  }

  error(message: string, details?: LogDetails): void {
    this.event('channels', { message, ...details }, 'error');
  }
}

function errorAsFields(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return {
      name: value.name,
      message: value.message,
      ...(code === undefined ? {} : { code }),
      stack: value.stack,
    };
  }
  return value;
}
