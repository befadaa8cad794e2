// RedisChannelLayer between two real processes: this test process and a child Node process
// (test/channels/fixtures/redis-peer.mjs, on the compiled dist/) share a group on one redis-server.
// Group messages and broadcasts cross in both directions, in order, once each, and the child exits
// by itself after close() (nothing left open).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RedisChannelLayer } from '../../src/channels/index.ts';
import { recordingLogger, startRedisServer, type RedisServer } from './redis-server.ts';

let server: RedisServer;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  await server.stop();
});

const peerScript = fileURLToPath(new URL('./fixtures/redis-peer.mjs', import.meta.url));

it('a group spans two processes: groupSend and groupBroadcast reach the other process, which then exits by itself', async () => {
  const prefix = `p${randomBytes(6).toString('hex')}`;
  const layer = new RedisChannelLayer({ url: server.url, prefix, logger: recordingLogger() });
  const child = spawn(process.execPath, [peerScript, server.url, prefix], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    const mine = await layer.newChannel();
    await layer.groupAdd('room', mine);
    await expect.poll(() => /^ready /m.test(stdout), { timeout: 15_000 }).toBe(true);
    // The child's first group message reaches this process's member.
    expect(await layer.receive(mine)).toMatchObject({ type: 'from-child', pid: child.pid });
    for (let n = 0; n < 10; n++) {
      // Only this process's own member is counted here; the child's is reached through pub/sub.
      expect(await layer.groupSend('room', { type: 'seq', n })).toEqual({ delivered: 1, dropped: 0 });
    }
    expect(await layer.groupBroadcast('room', 'hello')).toEqual({ delivered: 0, skipped: 0 });
    await layer.groupBroadcast('room', Buffer.from([1, 2, 3]));
    await layer.groupSend('room', { type: 'done' });
    const code = await Promise.race([
      exited,
      new Promise((resolve) => setTimeout(() => resolve('still running'), 10_000)),
    ]);
    expect(code, stderr).toBe(0);
    expect(stderr).toBe('');
    const report = JSON.parse(stdout.trim().split('\n').at(-1)!) as {
      sent: unknown;
      messages: { type: string; n?: number }[];
      broadcasts: unknown[];
    };
    // The child counted its own member only.
    expect(report.sent).toEqual({ delivered: 1, dropped: 0 });
    expect(report.messages.map((m) => (m.type === 'seq' ? m.n : m.type))).toEqual([
      'from-child',
      ...Array(10).keys(),
      'done',
    ]);
    expect(report.broadcasts).toEqual([
      { text: 'hello', binary: false },
      { text: '\u0001\u0002\u0003', binary: true },
    ]);
    for (let n = 0; n < 10; n++) expect(await layer.receive(mine)).toEqual({ type: 'seq', n });
    expect(await layer.receive(mine)).toEqual({ type: 'done' });
  } finally {
    child.kill('SIGKILL');
    await layer.close();
  }
});
