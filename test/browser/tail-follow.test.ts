// The log page while a file changes under it: rotation by rename and truncation show the engine's
// notices and then the new lines; auto-scroll follows at the bottom and stays put after the reader
// scrolls up.
import { appendFileSync, renameSync, truncateSync, writeFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import type { WebSocket } from '../../src/websocket/index.ts';
import { beforeEach, describe, expect, it } from 'vitest';
import { startSite, type TestSite } from '../server/bundled-helpers.ts';
import {
  evaluate,
  recordStatuses,
  browserForFile,
  pageAs,
  screenshot,
  screenshotFailuresAndCloseContexts,
  waitInPage,
} from './browser-helpers.ts';
import {
  openTail,
  shownItems,
  shownNotices,
  start,
  waitForLineCount,
  waitForNotice,
} from './tail-helpers.ts';

const browser = browserForFile();
let site: TestSite;
beforeEach(async () => {
  site = await startSite();
  return () => site.stop();
});
screenshotFailuresAndCloseContexts('tail-follow');

interface Scroll {
  top: number;
  max: number;
  follow: boolean;
}

const scrollOf = (page: Page) =>
  evaluate<Scroll>(
    page,
    "(() => { const l = document.getElementById('lines'); return { top: l.scrollTop, max: l.scrollHeight - l.clientHeight, follow: document.getElementById('follow').checked }; })()",
  );

function appendNumbered(from: number, count: number): void {
  let text = '';
  for (let i = from; i < from + count; i++) text += `line ${i}\n`;
  appendFileSync(site.appLog, text);
}

describe('the log page while the file changes', { timeout: 60_000 }, () => {
  it('shows rotation by rename and truncation as notices, then the new file’s lines', async () => {
    const page = await pageAs(browser(), site, 'bob');
    await openTail(page, site);
    await start(page, '1');
    await waitForLineCount(page, 2);

    appendFileSync(site.appLog, 'last line of the old file\n');
    await waitForLineCount(page, 3);
    renameSync(site.appLog, `${site.appLog}.1`);
    writeFileSync(site.appLog, 'first line of the new file\n');
    await waitForNotice(page, 'replaced');
    await waitForLineCount(page, 4);

    truncateSync(site.appLog, 0);
    await waitForNotice(page, 'truncated');
    appendFileSync(site.appLog, 'after truncation\n');
    await waitForLineCount(page, 5);
    await screenshot(page, 'tail-rotated');

    expect(await shownItems(page)).toEqual([
      'notice: — following App —',
      'line: first line',
      'line: second line',
      'line: last line of the old file',
      'notice: — The log file was replaced (rotated or re-created); following the new file from its start. —',
      'line: first line of the new file',
      'notice: — The log file was truncated; reading it again from its start. —',
      'line: after truncation',
    ]);
  });

  it('follows new lines at the bottom, and stays put once the reader scrolls up', async () => {
    const page = await pageAs(browser(), site, 'bob');
    await openTail(page, site);
    await start(page, '1');
    await waitForLineCount(page, 2);

    appendNumbered(1, 100);
    await waitForLineCount(page, 102);
    const following = await scrollOf(page);
    expect(following.max).toBeGreaterThan(0);
    expect(following.top).toBeGreaterThanOrEqual(following.max - 8);
    expect(following.follow).toBe(true);

    // The reader scrolls up: Follow switches off and new lines do not move the view.
    await evaluate(page, "document.getElementById('lines').scrollTo({ top: 40 })");
    await waitInPage(page, "!document.getElementById('follow').checked");
    appendNumbered(101, 50);
    await waitForLineCount(page, 152);
    const paused = await scrollOf(page);
    expect(paused.top).toBe(40);
    expect(paused.max).toBeGreaterThan(following.max);
    expect(paused.follow).toBe(false);

    // Back at the bottom (here with End on the focused view) it follows again.
    await page.focus('#lines');
    await page.keyboard.press('End');
    await waitInPage(page, "document.getElementById('follow').checked");
    appendNumbered(151, 50);
    await waitForLineCount(page, 202);
    const resumed = await scrollOf(page);
    expect(resumed.top).toBeGreaterThanOrEqual(resumed.max - 8);
    expect(resumed.max).toBeGreaterThan(paused.max);
  });

  it('reconnects after the server closes the socket, and follows the file again', async () => {
    const accepted: WebSocket[] = [];
    const onConnection = (socket: WebSocket) => accepted.push(socket);
    site.running.server.webSocketServer.on('connection', onConnection);
    try {
      const page = await pageAs(browser(), site, 'bob');
      await openTail(page, site);
      await start(page, '1');
      await waitForLineCount(page, 2);
      expect(accepted).toHaveLength(1);
      await recordStatuses(page);
      accepted[0]!.close(1011, 'test: server-side close');
      await waitInPage(
        page,
        "window.statuses.some((text) => text.startsWith('Connection lost; reconnecting in'))",
      );
      appendFileSync(site.appLog, 'written while disconnected\n');
      // The first retry comes after about a second; then the page starts the same file again.
      await waitForNotice(page, 'reconnected');
      await waitInPage(page, "document.getElementById('status').textContent === 'Following App.'", 20_000);
      expect(accepted).toHaveLength(2);
      appendFileSync(site.appLog, 'after the reconnect\n');
      await waitForLineCount(page, 2 + 3 + 1);
      expect((await shownItems(page)).slice(3)).toEqual([
        'notice: — reconnected; the last lines of the file follow again —',
        'notice: — following App —',
        'line: first line',
        'line: second line',
        'line: written while disconnected',
        'line: after the reconnect',
      ]);
    } finally {
      site.running.server.webSocketServer.off('connection', onConnection);
    }
  });

  it('keeps at most 5,000 entries in the page and says how many older ones it removed', async () => {
    const page = await pageAs(browser(), site, 'bob');
    await openTail(page, site);
    expect(await page.textContent('#limit-note')).toBe('The page keeps the last 5,000 lines.');
    await start(page, '1');
    await waitForLineCount(page, 2);
    appendNumbered(1, 5050);
    await waitInPage(
      page,
      "document.getElementById('lines').lastElementChild.textContent === 'line 5050\\n'",
    );
    // The start notice, the two backlog lines and 5,050 new ones: the oldest 53 are gone.
    expect(await evaluate<number>(page, "document.getElementById('lines').childElementCount")).toBe(5000);
    expect(
      await evaluate<string>(page, "document.getElementById('lines').firstElementChild.textContent"),
    ).toBe('line 51\n');
    expect(await page.textContent('#limit-note')).toBe(
      'The page keeps the last 5,000 lines; 53 older lines were removed from the page.',
    );
    expect(await shownNotices(page)).toEqual([]);
  });
});
