// What the batching, corking and publish tests share: cleanups run after each test (last
// registered first), and batches of text frames a raw client writes in one write.
import { afterEach } from 'vitest';
import { turns } from '../helpers.ts';
import { frames } from './conformance/raw-client.ts';

export type Cleanup = () => void | Promise<void>;

/** The list to push a test's cleanups to; each test's run after it, in reverse order. */
export function deferCleanups(): Cleanup[] {
  const cleanups: Cleanup[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await turns(3);
  });
  return cleanups;
}

/** `${prefix}0` … `${prefix}${count - 1}`. */
export const texts = (prefix: string, count: number) =>
  Array.from({ length: count }, (_, i) => `${prefix}${i}`);

/** Client frames for `messages`, concatenated: written in one write, they arrive in one read. */
export const batchOf = (messages: string[]) => Buffer.concat(messages.map((text) => frames.text(text)));
