// Shared by the tail engine tests: a temp directory per test, engines closed after it, and a sink
// that records what it is given and can play a slow viewer.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import {
  TailEngine,
  type TailItem,
  type TailLimits,
  type TailLogsConfig,
  type TailSink,
} from '../../src/tail/index.ts';
import { checkNothingLeaksAfterEach } from '../helpers.ts';

export class RecordingSink implements TailSink {
  readonly items: TailItem[] = [];
  readonly batchSizes: number[] = [];
  /** While true, write() answers "full". */
  paused = false;
  #drain: (() => void) | undefined;

  write(batch: readonly TailItem[]): boolean {
    this.items.push(...batch);
    this.batchSizes.push(batch.length);
    return !this.paused;
  }

  onDrain(listener: () => void): () => void {
    this.#drain = listener;
    return () => {
      this.#drain = undefined;
    };
  }

  /** Unpauses and tells the viewer it may write again. */
  drain(): void {
    this.paused = false;
    this.#drain?.();
  }

  get listening(): boolean {
    return this.#drain !== undefined;
  }

  lines(): string[] {
    return this.items.flatMap((item) => (item.type === 'line' ? [item.text] : []));
  }

  notices(): string[] {
    return this.items.flatMap((item) => (item.type === 'notice' ? [item.notice] : []));
  }

  /** Lines and notices in order, notices as `[kind]`. */
  timeline(): string[] {
    return this.items.map((item) => (item.type === 'line' ? item.text : `[${item.notice}]`));
  }
}

/**
 * Per test: a fresh temp directory (`dir()`), engines made with `engine()` closed after the test,
 * then the leak check (fds and live events back where they were).
 */
export function useTailFixture(): {
  dir: () => string;
  file: (name: string) => string;
  engine: (logs: TailLogsConfig, limits?: Partial<TailLimits>) => TailEngine;
} {
  let directory = '';
  const engines: TailEngine[] = [];
  checkNothingLeaksAfterEach({ fds: true }); // registered first: with stacked hooks it runs last
  beforeEach(() => {
    directory = mkdtempSync(path.join(tmpdir(), 'bufferevent-tail-'));
  });
  afterEach(() => {
    for (const engine of engines.splice(0)) engine.close();
    rmSync(directory, { recursive: true, force: true });
  });
  return {
    dir: () => directory,
    file: (name) => path.join(directory, name),
    engine: (logs, limits) => {
      const engine = new TailEngine(logs, limits);
      engines.push(engine);
      return engine;
    },
  };
}

/** Numbered lines "prefix-0" … "prefix-(count-1)". */
export function numbered(prefix: string, count: number, from = 0): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}-${from + i}`);
}
