// `bufferevent serve` in a child process, as an operator runs it: the demo without a config (admin
// password printed once, a demo log), a config file, bad configs refused with exit code 2, and a
// graceful shutdown on SIGTERM/SIGINT that closes WebSockets with 1001 and exits 0.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { UsersFile } from '../../src/server/users-file.ts';
import { waitFor } from '../helpers.ts';
import { assertBuilt, bin, runCli } from './cli-runner.ts';
import { connectClient } from '../channels/serve-helpers.ts';

let cwd: string;
const children: ChildProcess[] = [];
beforeAll(() => assertBuilt());
beforeEach(() => {
  cwd = mkdtempSync(path.join(tmpdir(), 'bufferevent-serve-'));
});
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(cwd, { recursive: true, force: true });
});

interface Running {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  port: number;
  exited: Promise<number | string | null>;
}

async function start(args: string[]): Promise<Running> {
  const child = spawn(process.execPath, [bin, 'serve', '--port', '0', ...args], {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | string | null>((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? signal)),
  );
  await waitFor(
    () => /listening on http:\/\/127\.0\.0\.1:\d+/.test(stdout) || child.exitCode !== null,
    20_000,
    'the server to listen',
  );
  // Everything the start prints has arrived (the lines may come in separate chunks).
  if (!args.includes('--config'))
    await waitFor(
      () => /Demo log being written/.test(stdout) || child.exitCode !== null,
      20_000,
      'the demo lines',
    );
  const port = Number(/listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(stdout)?.[1]);
  return { child, stdout: () => stdout, stderr: () => stderr, port, exited };
}

describe('bufferevent serve', () => {
  it('starts a demo without a config: admin password printed once, a demo log, pages served', async () => {
    const first = await start([]);
    // These lines follow the "listening" one and may come in a later chunk on a busy machine.
    await waitFor(() => /Demo log being written/.test(first.stdout()), 20_000, 'the demo lines');
    const password = /its password \(shown once, stored only as a hash\): (\S+)/.exec(first.stdout())?.[1];
    expect(password).toMatch(/^\S{16,}$/);
    expect(first.stdout()).toMatch(/Demo log being written: .*demo\.log/);
    const users = new UsersFile(path.join(cwd, 'bufferevent-users.json'));
    expect((await users.verify('admin', password!))?.admin).toBe(true);
    const page = await fetch(`http://127.0.0.1:${first.port}/login`);
    expect(page.status).toBe(200);
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    // The users file exists now: a second start prints no password.
    const second = await start([]);
    expect(second.stdout()).not.toMatch(/password/);
    second.child.kill('SIGINT');
    expect(await second.exited).toBe(0);
    expect(first.stdout() + first.stderr()).not.toContain(`"${password}"`);
  });

  it('on SIGTERM closes open WebSockets with 1001 and exits 0 within a few seconds', async () => {
    const running = await start([]);
    const password = /its password \(shown once, stored only as a hash\): (\S+)/.exec(running.stdout())![1]!;
    const origin = `http://127.0.0.1:${running.port}`;
    const form = await fetch(`${origin}/login`);
    const formCookie = form.headers.get('set-cookie')!.split(';')[0]!;
    const csrfToken = /name="csrfToken" value="([^"]+)"/.exec(await form.text())![1]!;
    const login = await fetch(`${origin}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: formCookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrfToken, username: 'admin', password }).toString(),
    });
    expect(login.status).toBe(303);
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const sockets = await Promise.all(
      ['/ws/chat/lobby/', '/ws/tail/'].map((target) =>
        connectClient(running.port, target, { headers: { cookie, origin } }),
      ),
    );
    const began = Date.now();
    running.child.kill('SIGTERM');
    for (const socket of sockets) expect((await socket.closed).code).toBe(1001);
    expect(await running.exited).toBe(0);
    expect(Date.now() - began).toBeLessThan(8_000);
    expect(running.stderr()).toContain('"event":"server.stopped"');
  });

  it('serves the config file it is given, and refuses a bad one with exit code 2 naming the key', async () => {
    writeFileSync(
      path.join(cwd, 'good.json'),
      JSON.stringify({ logs: { app: { path: 'app.log', title: 'App' } } }),
    );
    const running = await start(['--config', 'good.json']);
    expect(running.stdout()).not.toMatch(/Demo log/);
    running.child.kill('SIGTERM');
    expect(await running.exited).toBe(0);

    writeFileSync(path.join(cwd, 'bad.json'), JSON.stringify({ prot: 80, logs: { '1': { path: 7 } } }));
    const bad = await runCli(['serve', '--config', 'bad.json'], { cwd });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('prot');
    expect(bad.stderr).toContain('port');
    expect(bad.stderr).toContain('logs.1.path');
    const missing = await runCli(['serve', '--config', 'nope.json'], { cwd });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('nope.json');
  });

  it('says plainly that the port is taken (exit 1, no stack trace)', async () => {
    const running = await start([]);
    const taken = await runCli(['serve', '--port', String(running.port)], { cwd });
    expect(taken.code).toBe(1);
    expect(taken.stderr).toMatch(/another server on that port/);
    expect(taken.stderr).not.toMatch(/unexpected error|\n\s+at /);
    running.child.kill('SIGTERM');
    expect(await running.exited).toBe(0);
  });

  it('refuses --workers above 1 without Redis or with port 0, and bad options, with exit code 2', async () => {
    const workers = await runCli(['serve', '--workers', '2'], { cwd });
    expect(workers.code).toBe(2);
    expect(workers.stderr).toMatch(/redis/i);
    // Each worker would pick its own free port: refused, with Redis configured or not.
    writeFileSync(path.join(cwd, 'redis.json'), JSON.stringify({ redis: 'redis://127.0.0.1:1' }));
    const anyPort = await runCli(['serve', '--config', 'redis.json', '--workers', '2', '--port', '0'], {
      cwd,
    });
    expect(anyPort.code).toBe(2);
    expect(anyPort.stderr).toContain('port 0 with 2 workers');
    const port = await runCli(['serve', '--port', 'http'], { cwd });
    expect(port.code).toBe(2);
    const help = await runCli(['serve', '--help'], { cwd });
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: bufferevent serve \[options\]/);
    expect(help.stdout).toContain('--config PATH');
  });
});
