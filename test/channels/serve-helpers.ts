// Helpers for tests that run consumers on serve(): a logger that records, and a real WebSocket
// client with its messages and close queued for assertions.
import { WebSocket } from '../../src/websocket/index.ts';
import type { ChannelsLogger, LogDetails } from '../../src/channels/index.ts';
import type { UpgradeResponse } from '../../src/websocket/index.ts';

export interface LogEntry {
  level: 'info' | 'warn' | 'error';
  message: string;
  details: LogDetails | undefined;
}

export function recordingLogger(): ChannelsLogger & { entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const record = (level: LogEntry['level']) => (message: string, details?: LogDetails) =>
    void entries.push({ level, message, details });
  return { entries, info: record('info'), warn: record('warn'), error: record('error') };
}

export interface TestClient {
  socket: WebSocket;
  /** Text messages as strings, binary ones as Buffers, in arrival order. */
  messages: (string | Buffer)[];
  /** Resolves with the close code and reason. */
  closed: Promise<{ code: number; reason: string }>;
  /** Resolves with the next message (already queued ones first). */
  next(timeoutMs?: number): Promise<string | Buffer>;
}

/** Connects; resolves once open, or rejects with `status` set when the handshake was refused. */
export function connectClient(
  port: number,
  path: string,
  options: { headers?: Record<string, string>; protocols?: string[]; perMessageDeflate?: boolean } = {},
): Promise<TestClient> {
  const socket = new WebSocket(`ws://127.0.0.1:${port}${path}`, options.protocols ?? [], {
    headers: options.headers ?? {},
    perMessageDeflate: options.perMessageDeflate ?? false,
  });
  const messages: (string | Buffer)[] = [];
  let wake: (() => void) | null = null;
  socket.on('message', (data: Buffer, isBinary: boolean) => {
    messages.push(isBinary ? data : data.toString('utf8'));
    wake?.();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.once('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() })),
  );
  let taken = 0;
  const next = async (timeoutMs = 10_000) => {
    const deadline = Date.now() + timeoutMs;
    while (messages.length <= taken) {
      if (Date.now() > deadline) throw new Error(`no message within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return messages[taken++]!;
  };
  return new Promise((resolve, reject) => {
    socket.once('unexpected-response', (_request: null, response: UpgradeResponse) => {
      socket.terminate();
      reject(
        Object.assign(new Error(`refused with ${response.statusCode}`), { status: response.statusCode }),
      );
    });
    socket.once('error', reject);
    socket.once('open', () => {
      socket.removeListener('error', reject);
      socket.on('error', () => {});
      resolve({ socket, messages, closed, next });
    });
  });
}

/** The HTTP status a refused handshake got (fails if it was accepted). */
export async function refusalStatus(
  port: number,
  path: string,
  headers?: Record<string, string>,
): Promise<number> {
  try {
    const client = await connectClient(port, path, headers === undefined ? {} : { headers });
    client.socket.terminate();
  } catch (error) {
    return (error as { status: number }).status;
  }
  throw new Error(`expected ${path} to be refused, but it was accepted`);
}
