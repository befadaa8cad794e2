// The pages without a mouse and on a phone: the login form and the chat composer with Tab and Enter
// only (focus visible), and no sideways scrolling at 375×667 on the chat and log pages.
import { appendFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORDS, siteOrigin, startSite, type TestSite } from '../server/bundled-helpers.ts';
import {
  evaluate,
  freshPage,
  hasHorizontalScroll,
  browserForFile,
  pageAs,
  PHONE,
  screenshot,
  screenshotFailuresAndCloseContexts,
  waitInPage,
} from './browser-helpers.ts';
import { openTail, start, waitForLineCount } from './tail-helpers.ts';

const browser = browserForFile();
let site: TestSite;
beforeAll(async () => {
  site = await startSite();
});
afterAll(async () => {
  await site?.stop();
});
screenshotFailuresAndCloseContexts('keyboard-phone');

const focusedId = (page: Page) => evaluate<string>(page, 'document.activeElement.id');

/** Presses Tab until the element with `id` has focus (at most `limit` times). */
async function tabTo(page: Page, id: string, limit = 8): Promise<void> {
  for (let i = 0; i < limit && (await focusedId(page)) !== id; i++) await page.keyboard.press('Tab');
  expect(await focusedId(page)).toBe(id);
}

/** Whether the focused element draws a focus outline. */
const focusOutlineShown = (page: Page) =>
  evaluate<boolean>(
    page,
    "(() => { const s = getComputedStyle(document.activeElement); return s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0; })()",
  );

describe('keyboard only, and on a phone', { timeout: 60_000 }, () => {
  it('logs in with the keyboard only: focus starts in the form, Tab moves on, Enter submits', async () => {
    const page = await freshPage(browser());
    await page.goto(`${siteOrigin(site)}/login?next=/tail/`);
    // The browser applies `autofocus` in a rendering step, which may come just after 'load'.
    await waitInPage(page, "document.activeElement !== null && document.activeElement.id !== ''");
    expect(await focusedId(page)).toBe('username');
    await page.keyboard.type('ann');
    await page.keyboard.press('Tab');
    expect(await focusedId(page)).toBe('password');
    expect(await focusOutlineShown(page)).toBe(true);
    await page.keyboard.type(PASSWORDS.ann);
    await Promise.all([page.waitForURL('**/tail/'), page.keyboard.press('Enter')]);
  });

  it('joins a room and sends a message with Tab and Enter only', async () => {
    const page = await pageAs(browser(), site, 'bob');
    await page.goto(`${siteOrigin(site)}/chat/`);
    await page.waitForSelector('#lobby:not([hidden])');
    await tabTo(page, 'room-name');
    expect(await focusOutlineShown(page)).toBe(true);
    await page.keyboard.type('keys');
    await Promise.all([page.waitForURL('**/chat/keys/'), page.keyboard.press('Enter')]);
    await page.waitForSelector('#room:not([hidden])');
    // The composer has focus when the room opens.
    await waitInPage(page, "document.activeElement.id === 'message'");
    await waitInPage(page, "document.querySelectorAll('#members li').length === 1");
    await page.keyboard.type('typed without a mouse');
    await page.keyboard.press('Enter');
    await waitInPage(page, "document.querySelectorAll('#messages li').length === 1");
    expect(await page.textContent('#messages li .text')).toBe('typed without a mouse');
    expect(await focusedId(page)).toBe('message');
  });

  it('starts and stops following a log with Tab and Enter only, focus moving between the buttons', async () => {
    const page = await pageAs(browser(), site, 'bob');
    await openTail(page, site);
    await tabTo(page, 'log-choice');
    await page.keyboard.press('Tab');
    expect(await focusedId(page)).toBe('start');
    await page.keyboard.press('Enter');
    await waitForLineCount(page, 2);
    // Start is off while its file is followed; focus went to Stop, not back to the top of the page.
    await waitInPage(page, "document.activeElement.id === 'stop'");
    await page.keyboard.press('Enter');
    await waitInPage(page, "document.getElementById('status').textContent === 'Stopped.'");
    await waitInPage(page, "document.activeElement.id === 'start'");
    expect(await focusOutlineShown(page)).toBe(true);
  });

  it('shows a chat room on a phone without sideways scrolling', async () => {
    const page = await pageAs(browser(), site, 'ann', PHONE);
    const room = `a-long-room-name-${'x'.repeat(40)}`;
    await page.goto(`${siteOrigin(site)}/chat/${room}/`);
    await waitInPage(page, "document.querySelectorAll('#members li').length === 1");
    await page.fill('#message', `a long word: ${'y'.repeat(200)}`);
    await page.press('#message', 'Enter');
    await page.fill('#message', 'and a short one');
    await page.press('#message', 'Enter');
    await waitInPage(page, "document.querySelectorAll('#messages li').length === 2");
    expect(await hasHorizontalScroll(page)).toBe(false);
    expect(await page.isVisible('#message')).toBe(true);
    expect(await page.isVisible('#send button')).toBe(true);
    await screenshot(page, 'phone-chat');

    // The lobby, in another tab while the room stays open (so it is listed, long name and all).
    const lobby = await page.context().newPage();
    await lobby.goto(`${siteOrigin(site)}/chat/`);
    await lobby.waitForSelector('#room-list a');
    expect(await hasHorizontalScroll(lobby)).toBe(false);
    await screenshot(lobby, 'phone-lobby');
  });

  it('shows the log page on a phone without sideways scrolling', async () => {
    appendFileSync(
      site.appLog,
      `${'z'.repeat(300)}\n2026-12-06T09:41:10Z \u001b[31mERROR\u001b[0m a long line ${'w '.repeat(80)}\n`,
    );
    const page = await pageAs(browser(), site, 'ann', PHONE);
    await openTail(page, site);
    await start(page, '1');
    await waitForLineCount(page, 4);
    expect(await hasHorizontalScroll(page)).toBe(false);
    for (const control of ['#log-choice', '#start', '#stop', '#follow'])
      expect(await page.isVisible(control)).toBe(true);
    await screenshot(page, 'phone-tail');
  });
});
