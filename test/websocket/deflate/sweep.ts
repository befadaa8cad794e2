// Helpers for the interop sweeps: the messages each connection exchanges (with repeats, so context
// takeover is exercised), echo checks, and running many connections a few at a time.
import { expect } from 'vitest';
import { compressibleBinary, randomBinary, randomText, type Recorded } from './deflate-fixtures.ts';

/** Messages for one connection: repeated ones (takeover matters), small ones, text and binary. */
export function sweepMessages(): Array<Buffer | string> {
  const text = randomText(3000);
  const binary = compressibleBinary(20_000);
  return [text, text, 'small', binary, randomBinary(100), binary, `${text} again`, '', text];
}

/** Sends every message from `client` and checks the echoes arrive identical, in order. */
export async function expectEchoes(client: Recorded, messages: Array<Buffer | string>): Promise<void> {
  const before = client.messages.length;
  for (const message of messages) client.ws.send(message);
  const echoed = (await client.nextMessages(before + messages.length)).slice(before);
  expect(echoed.map((message) => message.isBinary)).toEqual(
    messages.map((message) => typeof message !== 'string'),
  );
  // Buffer.equals per message: a deep toEqual over every byte is far too slow for the sweeps.
  expect(echoed.map((message, i) => message.data.equals(Buffer.from(messages[i]!)))).toEqual(
    messages.map(() => true),
  );
}

/** Runs `task` over `items`, `width` at a time; resolves when all are done (rejects on the first failure). */
export async function inBatches<T>(
  items: T[],
  width: number,
  task: (item: T, index: number) => Promise<void>,
) {
  for (let start = 0; start < items.length; start += width) {
    await Promise.all(items.slice(start, start + width).map((item, offset) => task(item, start + offset)));
  }
}
