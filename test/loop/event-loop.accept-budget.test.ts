// The accept budget: libevent's listener accepts a whole backlog in one callback, so once a pass has
// made its budget of calls into JavaScript the listener pauses until the next round of passes. A
// paused listener has no libevent event added, yet it is work in flight: the process must stay
// alive for it (fixtures/listener-flood.mjs).
import { spawn } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers.ts';
import { lines } from './child.ts';

const FIXTURE = fileURLToPath(new URL('./fixtures/listener-flood.mjs', import.meta.url));
const TOTAL = 600; // far more than one pass's budget (64), all connecting at once

describe('a listener paused by the budget', () => {
  it('keeps its process alive and accepts the whole flood', async () => {
    const child = spawn(process.execPath, [FIXTURE, String(TOTAL)], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout.setEncoding('utf8').on('data', (text: string) => {
        stdout += text;
        const match = /listening (\d+)/.exec(stdout);
        if (match) resolve(Number(match[1]));
      });
      child.on('close', () => reject(new Error(`the child exited before listening: ${stderr}`)));
    });

    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    let established = 0;
    const sockets = Array.from({ length: TOTAL }, () => {
      const socket = net.connect(port, '127.0.0.1', () => established++);
      socket.on('error', () => {}); // the child closes every connection at once, maybe with a reset
      return socket;
    });
    // The child is blocked until told: the whole flood waits in its backlog when its loop first looks.
    await waitFor(() => established === TOTAL, 30_000, 'every connection in the backlog');
    child.stdin.end('go\n');
    const code = await exited;
    clearTimeout(killer);
    for (const socket of sockets) socket.destroy();

    expect(stderr).toBe('');
    expect(code).toBe(0);
    const [listening, result] = lines(stdout);
    expect(listening).toMatch(/^listening \d+$/);
    const match = /^accepted (\d+), budget breaks (\d+)$/.exec(result ?? '');
    expect(match?.[1]).toBe(String(TOTAL));
    // The flood did spend the budget, so the listener was paused at least once.
    expect(Number(match?.[2])).toBeGreaterThan(0);
  }, 60_000);
});
