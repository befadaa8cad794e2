// Where serve() and consumers report what went wrong on one connection (a handler that threw, an
// inbox overflow, a refused handshake): a logger the application passes, or stderr by default.

export type LogDetails = Readonly<Record<string, unknown>>;

export interface ChannelsLogger {
  info(message: string, details?: LogDetails): void;
  warn(message: string, details?: LogDetails): void;
  error(message: string, details?: LogDetails): void;
}

function write(level: string, message: string, details?: LogDetails): void {
  const suffix = details === undefined ? '' : ` ${JSON.stringify(details, errorsAsText)}`;
  process.stderr.write(`[bufferevent/channels] ${level}: ${message}${suffix}\n`);
}

function errorsAsText(_key: string, value: unknown): unknown {
  if (value instanceof Error) return value.stack ?? `${value.name}: ${value.message}`;
  return value;
}

/** Writes one line per entry to stderr. */
export const stderrLogger: ChannelsLogger = Object.freeze({
  info: (message: string, details?: LogDetails) => write('info', message, details),
  warn: (message: string, details?: LogDetails) => write('warn', message, details),
  error: (message: string, details?: LogDetails) => write('error', message, details),
});

/** Calls the logger without letting a throwing logger break the connection it reports on. */
export function safeLog(
  logger: ChannelsLogger,
  level: keyof ChannelsLogger,
  message: string,
  details?: LogDetails,
): void {
  try {
    logger[level](message, details);
  } catch {
    // A broken logger must not turn a reported failure into a second one.
  }
}
