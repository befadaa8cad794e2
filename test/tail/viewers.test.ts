// Viewers: one follower per file shared by its viewers and stopped with the last; bounded queues for
// viewers whose sink is full, with a "skipped N" notice; large bursts delivered whole to fast ones.
import { appendFileSync, writeFileSync } from 'node:fs';
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { webSocketSink, type TailItem } from '../../src/tail/index.ts';
import { openFdCount, waitFor } from '../helpers.ts';
import { RecordingSink, numbered, useTailFixture } from './tail-helpers.ts';

const fixture = useTailFixture();

function appendLines(file: string, lines: string[]): void {
  appendFileSync(file, lines.join('\n') + '\n');
}

describe('viewers of a file', () => {
  it('share one follower, started by the first and stopped (watches removed, fds closed) by the last', async () => {
    const log = fixture.file('shared.log');
    writeFileSync(log, 'start\n');
    const engine = fixture.engine({
      '7': { path: log, title: 'Shared' },
      '8': { path: log, title: 'Same file' },
    });
    const fds = openFdCount();
    const first = new RecordingSink();
    const second = new RecordingSink();
    const a = engine.open('7', { sink: first });
    expect(engine.stats()).toMatchObject({ followers: 1, watches: 2, openFds: 2, viewers: 1 });
    expect(openFdCount()).toBe(fds + 2);
    const b = engine.open('8', { sink: second }); // another id for the same file
    expect(engine.stats()).toMatchObject({ followers: 1, watches: 2, openFds: 2, viewers: 2 });
    expect(openFdCount()).toBe(fds + 2);
    appendLines(log, ['both']);
    await waitFor(() => first.items.length === 2 && second.items.length === 2, 10_000, 'both viewers');
    expect(engine.stats().reads).toBe(1); // read once for both
    a.stop();
    a.stop();
    expect(engine.stats()).toMatchObject({ followers: 1, viewers: 1, openFds: 2 });
    appendLines(log, ['only b']);
    await waitFor(() => second.items.length === 3, 10_000, 'the remaining viewer');
    b.stop();
    expect(engine.stats()).toMatchObject({ followers: 0, watches: 0, openFds: 0, viewers: 0 });
    expect(openFdCount()).toBe(fds);
    expect(first.timeline()).toEqual(['start', 'both']);
    expect(second.timeline()).toEqual(['start', 'both', 'only b']);
    expect([first.listening, second.listening]).toEqual([false, false]);
  });

  it('refuses unknown and path-like ids with ERR_TAIL_UNKNOWN_LOG and users not listed with ERR_TAIL_FORBIDDEN', () => {
    const log = fixture.file('secret.log');
    writeFileSync(log, '');
    const engine = fixture.engine({
      open: { path: log, title: 'Open' },
      ops: { path: log, title: 'Ops only', users: ['alice'] },
    });
    const codeOf = (id: unknown, user?: string): string | undefined => {
      try {
        engine.open(id, { user, sink: new RecordingSink() }).stop();
        return undefined;
      } catch (error) {
        return (error as { code?: string }).code;
      }
    };
    for (const id of [
      'nope',
      log,
      '../secret.log',
      '/etc/passwd',
      'open/..',
      '__proto__',
      'constructor',
      '',
      1,
      null,
    ]) {
      expect(codeOf(id, 'alice')).toBe('ERR_TAIL_UNKNOWN_LOG');
    }
    expect(codeOf('ops', 'bob')).toBe('ERR_TAIL_FORBIDDEN');
    expect(codeOf('ops')).toBe('ERR_TAIL_FORBIDDEN');
    expect(codeOf('ops', 'alice')).toBeUndefined();
    expect(codeOf('open', 'bob')).toBeUndefined();
    expect(engine.logs('bob')).toEqual([{ id: 'open', title: 'Open' }]);
    expect(engine.logs('alice')).toEqual([
      { id: 'open', title: 'Open' },
      { id: 'ops', title: 'Ops only' },
    ]);
    expect(engine.stats()).toMatchObject({ followers: 0, openFds: 0 });
  });

  it('drop the oldest lines of a viewer whose sink is full, never queue more than the cap, and tell it how many', async () => {
    const log = fixture.file('slow.log');
    writeFileSync(log, '');
    const engine = fixture.engine({ s: { path: log, title: 'S' } }, { viewerQueueLines: 100 });
    const slow = new RecordingSink();
    const fast = new RecordingSink();
    const slowViewer = engine.open('s', { sink: slow });
    engine.open('s', { sink: fast });
    slow.paused = true;
    appendLines(log, ['first']); // accepted, and the sink is now full
    await waitFor(() => slow.items.length === 1, 10_000, 'the first line');
    const lines = numbered('l', 1000);
    let maxQueued = 0;
    for (let i = 0; i < 1000; i += 100) {
      appendLines(log, lines.slice(i, i + 100));
      await waitFor(() => fast.items.length === 1 + i + 100, 10_000, 'the fast viewer');
      maxQueued = Math.max(maxQueued, slowViewer.stats().queued);
    }
    expect(maxQueued).toBe(100);
    expect(slow.items.length).toBe(1);
    expect(slowViewer.stats()).toEqual({ queued: 100, skippedLines: 900, delivered: 1 });
    slow.drain();
    expect(slow.timeline()).toEqual(['first', '[skipped]', ...lines.slice(900)]);
    expect(slow.items[1]).toMatchObject({
      notice: 'skipped',
      count: 900,
      text: expect.stringContaining('900 lines'),
    });
    expect(fast.timeline()).toEqual(['first', ...lines]);
    expect(engine.stats().skippedLines).toBe(900);
  });

  it('deliver a burst of 100,000 lines in order, none lost, to a viewer that keeps up (its sink is full now and then)', async () => {
    const log = fixture.file('burst.log');
    writeFileSync(log, '');
    const engine = fixture.engine({ b: { path: log, title: 'B' } }, { viewerQueueLines: 100_000 });
    const sink = new RecordingSink();
    const originalWrite = sink.write.bind(sink);
    // Full after every 50th batch, drained on the next turn of Node's loop, like a socket.
    sink.write = (batch: readonly TailItem[]) => {
      const more = originalWrite(batch) && sink.batchSizes.length % 50 !== 0;
      if (!more) setImmediate(() => sink.drain());
      return more;
    };
    const viewer = engine.open('b', { sink });
    const lines = numbered('burst', 100_000);
    appendLines(log, lines);
    await waitFor(() => sink.items.length === lines.length, 30_000, '100,000 lines');
    expect(sink.timeline()).toEqual(lines);
    expect(viewer.stats().skippedLines).toBe(0);
    expect(Math.max(...sink.batchSizes)).toBe(engine.limits.batchLines);
    // The reads were bounded: 64 KiB per pass for about 1.2 MB.
    expect(engine.stats().reads).toBeGreaterThanOrEqual(Math.ceil(1_188_890 / (64 * 1024)));
  });

  it('refuse a sink without write/onDrain, or whose onDrain throws, and keep nothing open', () => {
    const log = fixture.file('bad-sink.log');
    writeFileSync(log, 'x\n');
    const engine = fixture.engine({ s: { path: log, title: 'S' } });
    const codeOf = (options: unknown): string | undefined => {
      try {
        engine.open('s', options as never);
        return undefined;
      } catch (error) {
        return (error as { code?: string }).code ?? (error as Error).message;
      }
    };
    expect(codeOf(undefined)).toBe('ERR_INVALID_ARG');
    expect(codeOf({ sink: { write: () => true } })).toBe('ERR_INVALID_ARG');
    expect(
      codeOf({
        sink: {
          write: () => true,
          onDrain: () => {
            throw new Error('no drain for you');
          },
        },
      }),
    ).toBe('no drain for you');
    expect(engine.stats()).toMatchObject({ followers: 0, watches: 0, openFds: 0, viewers: 0 });
  });

  it('stop only the viewer whose sink throws, reporting the error', async () => {
    const log = fixture.file('throw.log');
    writeFileSync(log, '');
    const engine = fixture.engine({ t: { path: log, title: 'T' } });
    const errors: unknown[] = [];
    const broken = engine.open('t', {
      sink: {
        write: () => {
          throw new Error('socket gone');
        },
        onDrain: () => undefined,
      },
      onError: (error) => errors.push(error),
    });
    const good = new RecordingSink();
    engine.open('t', { sink: good });
    appendLines(log, ['x']);
    await waitFor(() => good.items.length === 1, 10_000, 'the good viewer');
    expect(broken.stopped).toBe(true);
    expect(errors.map((error) => (error as Error).message)).toEqual(['socket gone']);
    expect(engine.stats().viewers).toBe(1);
  });
});

describe('webSocketSink', () => {
  it("sends each batch as one JSON message and waits for 'drain' after 'backpressure'", () => {
    const sent: string[] = [];
    const answers: string[] = ['ok', 'backpressure'];
    const socket = Object.assign(new EventEmitter(), {
      send: (data: string) => {
        sent.push(data);
        return answers.shift() ?? 'ok';
      },
    });
    const sink = webSocketSink(socket);
    let drained = 0;
    const unregister = sink.onDrain(() => drained++);
    const batch: TailItem[] = [{ type: 'line', text: 'a' }];
    expect(sink.write(batch)).toBe(true);
    expect(sink.write(batch)).toBe(false);
    socket.emit('drain');
    expect(drained).toBe(1);
    (unregister as () => void)();
    socket.emit('drain');
    expect(drained).toBe(1);
    expect(sent).toEqual([JSON.stringify(batch), JSON.stringify(batch)]);
  });
});
