// The chat pages in a real browser: two users in one room, messages kept as text (XSS payloads stay
// inert), the lobby's list of active rooms, and a room that reconnects after the server closes it.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebSocket } from '../../src/websocket/index.ts';
import { siteOrigin, startSite, type TestSite } from '../server/bundled-helpers.ts';
import {
  DESKTOP,
  evaluate,
  recordStatuses,
  waitInPage,
  browserForFile,
  pageAs,
  screenshot,
  screenshotFailuresAndCloseContexts,
} from './browser-helpers.ts';

const browser = browserForFile();
let site: TestSite;
beforeAll(async () => {
  site = await startSite();
});
afterAll(async () => {
  await site?.stop();
});
screenshotFailuresAndCloseContexts('chat');

async function openRoom(
  user: 'ann' | 'bob',
  room: string,
  options: { bypassCSP?: boolean } = {},
): Promise<Page> {
  const page = await pageAs(browser(), site, user, DESKTOP, options);
  await page.goto(`${siteOrigin(site)}/chat/${room}/`);
  await page.waitForSelector('#room:not([hidden])');
  return page;
}

async function say(page: Page, text: string): Promise<void> {
  await page.fill('#message', text);
  await page.press('#message', 'Enter');
}

const members = (page: Page) => page.locator('#members li').allTextContents();
const texts = (page: Page) => page.locator('#messages li .text').allTextContents();
const authors = (page: Page) => page.locator('#messages li .user').allTextContents();

async function waitForTexts(page: Page, expected: string[]): Promise<void> {
  await waitInPage(page, `document.querySelectorAll('#messages li .text').length >= ${expected.length}`);
  expect(await texts(page)).toEqual(expected);
}

describe('chat in the browser', { timeout: 60_000 }, () => {
  it('shows each user the other one’s messages (sent on Enter) and both in the room', async () => {
    const ann = await openRoom('ann', 'lobby');
    const bob = await openRoom('bob', 'lobby');
    await waitInPage(ann, "document.querySelectorAll('#members li').length === 2");
    expect(await members(ann)).toEqual(['ann', 'bob']);
    expect(await members(bob)).toEqual(['ann', 'bob']);
    // A room page shows the room only (the lobby's part of the page stays hidden).
    expect(await ann.isVisible('#lobby')).toBe(false);

    await say(ann, 'Hello Bob, the deploy is done.');
    await waitForTexts(bob, ['Hello Bob, the deploy is done.']);
    expect(await ann.inputValue('#message')).toBe('');
    await say(bob, 'Thanks! Watching the error log now.');
    await say(ann, 'Ping me if anything shows up.');
    const all = [
      'Hello Bob, the deploy is done.',
      'Thanks! Watching the error log now.',
      'Ping me if anything shows up.',
    ];
    await waitForTexts(ann, all);
    await waitForTexts(bob, all);
    expect(await authors(bob)).toEqual(['ann', 'bob', 'ann']);
    await waitInPage(ann, "document.activeElement.id === 'message'");
    await screenshot(ann, 'chat-room', 'chat.png');

    await bob.close();
    await waitInPage(ann, "document.querySelectorAll('#members li').length === 1");
    expect(await members(ann)).toEqual(['ann']);
  });

  it('renders XSS payloads as text: no element created, no script run (live and from history)', async () => {
    const payloads = [
      '<img src=x onerror="window.__xss = 1">',
      '<script>window.__xss = 2</script>',
      '"><svg onload="window.__xss = 3">',
      '&lt;b&gt;entities stay as typed&lt;/b&gt;',
    ];
    const ann = await openRoom('ann', 'xss');
    const bob = await openRoom('bob', 'xss');
    for (const payload of payloads) await say(ann, payload);
    await waitForTexts(bob, payloads);
    // A newcomer gets them from the room's history: the same rendering path must hold.
    // With the Content-Security-Policy switched off in this one, so only the escaping protects it.
    const late = await openRoom('bob', 'xss', { bypassCSP: true });
    await waitForTexts(late, payloads);
    for (const page of [ann, bob, late]) {
      expect(await texts(page)).toEqual(payloads);
      expect(await page.locator('#messages img, #messages script, #messages svg').count()).toBe(0);
      expect(await page.locator('#messages li .text *').count()).toBe(0);
      expect(await evaluate<unknown>(page, 'window.__xss')).toBeUndefined();
    }
  });

  it('lists active rooms in the lobby, with a link into each', async () => {
    await openRoom('ann', 'kitchen');
    const bob = await pageAs(browser(), site, 'bob');
    await bob.goto(`${siteOrigin(site)}/chat/`);
    await bob.waitForSelector('#room-list a[href="/chat/kitchen/"]');
    const item = bob.locator('#room-list li', { has: bob.locator('a[href="/chat/kitchen/"]') });
    expect((await item.textContent())?.replace(/\s+/g, ' ')).toBe('kitchen · 1 here');
    expect(await bob.isVisible('#room')).toBe(false);
    await screenshot(bob, 'chat-lobby');
    await Promise.all([bob.waitForURL('**/chat/kitchen/'), item.locator('a').click()]);
    await waitInPage(bob, "document.querySelectorAll('#members li').length === 2");
    expect(await members(bob)).toEqual(['ann', 'bob']);
  });

  it('refreshes the lobby by itself: a room someone opens appears without a reload', async () => {
    const quiet = await startSite();
    try {
      const page = await pageAs(browser(), quiet, 'bob');
      await page.clock.install();
      await page.goto(`${siteOrigin(quiet)}/chat/`);
      await waitInPage(page, "document.querySelectorAll('#room-list li').length === 1");
      expect(await page.textContent('#room-list li')).toMatch(/No one is chatting right now/);
      const ann = await pageAs(browser(), quiet, 'ann');
      await ann.goto(`${siteOrigin(quiet)}/chat/standup/`);
      await waitInPage(ann, "document.querySelectorAll('#members li').length === 1");
      await page.clock.fastForward(10_000);
      await page.waitForSelector('#room-list a[href="/chat/standup/"]');
    } finally {
      await quiet.stop();
    }
  });

  it('tells an empty lobby that no one is chatting, and joins a room typed in the form', async () => {
    const quiet = await startSite();
    try {
      const page = await pageAs(browser(), quiet, 'ann');
      await page.goto(`${siteOrigin(quiet)}/chat/`);
      await waitInPage(page, "document.querySelectorAll('#room-list li').length === 1");
      expect(await page.textContent('#room-list li')).toMatch(/No one is chatting right now/);
      await page.fill('#room-name', 'standup');
      await Promise.all([page.waitForURL('**/chat/standup/'), page.press('#room-name', 'Enter')]);
      await page.waitForSelector('#room:not([hidden])');
    } finally {
      await quiet.stop();
    }
  });

  it('shows the server’s refusal of a flood in the status line', async () => {
    const ann = await openRoom('ann', 'flood');
    // The per-user limit allows a burst of 20, then about 5 a second.
    // Every text the status line shows is recorded: a later accepted message clears the line again.
    await recordStatuses(ann);
    // Thirty submits in one go (typing them would take long enough for the limit to refill).
    await evaluate(
      ann,
      "for (let i = 0; i < 30; i++) { document.getElementById('message').value = `flood ${i}`; document.getElementById('send').requestSubmit(); }",
    );
    await waitInPage(ann, "window.statuses.includes('you are sending too fast; wait a moment')");
    await waitInPage(ann, "document.querySelectorAll('#messages li').length >= 20");
    const shown = await texts(ann);
    expect(shown.length).toBeLessThanOrEqual(22); // what refilled while the server read them
    expect(shown.slice(0, 20)).toEqual(Array.from({ length: 20 }, (_, i) => `flood ${i}`));
  });

  it('reconnects a room the server closed, without showing the history twice', async () => {
    // The server's side of each WebSocket, as it is accepted (the server does not track clients).
    const accepted: WebSocket[] = [];
    const onConnection = (socket: WebSocket) => accepted.push(socket);
    site.running.server.webSocketServer.on('connection', onConnection);
    try {
      await reconnectAfterServerClose(accepted);
    } finally {
      site.running.server.webSocketServer.off('connection', onConnection);
    }
  });
});

async function reconnectAfterServerClose(accepted: WebSocket[]): Promise<void> {
  const ann = await openRoom('ann', 'resilient');
  await say(ann, 'before the cut');
  await waitForTexts(ann, ['before the cut']);
  expect(accepted).toHaveLength(1);
  accepted[0]!.close(1011, 'test: server-side close');
  await waitInPage(ann, "document.getElementById('status').textContent.includes('reconnecting')");
  await screenshot(ann, 'chat-reconnecting');
  // Back-off is about 1 s for the first retry; the status clears once the socket is open again.
  await waitInPage(ann, "document.getElementById('status').textContent === ''", 20_000);
  expect(accepted).toHaveLength(2);
  await say(ann, 'after the cut');
  await waitForTexts(ann, ['before the cut', 'after the cut']);
  expect(await members(ann)).toEqual(['ann']);
}
