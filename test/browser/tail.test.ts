// The log page in a real browser: Start shows the backlog then every appended line, Stop ends it,
// Start again resumes; files are listed per user; ANSI colours become classes while markup in a
// line stays text.
import { appendFileSync, writeFileSync } from 'node:fs';
import { beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers.ts';
import { siteOrigin, startSite, type TestSite } from '../server/bundled-helpers.ts';
import {
  evaluate,
  browserForFile,
  pageAs,
  screenshot,
  screenshotFailuresAndCloseContexts,
  waitInPage,
} from './browser-helpers.ts';
import {
  openTail,
  shownItems,
  shownLines,
  start,
  stop,
  waitForLineCount,
  witness,
  witnessed,
} from './tail-helpers.ts';

const browser = browserForFile();
let site: TestSite;
beforeEach(async () => {
  site = await startSite();
  return () => site.stop();
});
screenshotFailuresAndCloseContexts('tail');

describe('the log page in the browser', { timeout: 60_000 }, () => {
  it('shows the backlog on Start, then appended lines; nothing after Stop; Start again resumes', async () => {
    const page = await pageAs(browser(), site, 'bob');
    await openTail(page, site);
    await start(page, '1');
    await waitForLineCount(page, 2);
    expect(await shownLines(page)).toEqual(['first line', 'second line']);

    appendFileSync(site.appLog, 'live 1\nlive 2\n');
    await waitForLineCount(page, 4);
    expect(await shownLines(page)).toEqual(['first line', 'second line', 'live 1', 'live 2']);

    // Another viewer keeps the file followed, so lines written after Stop do reach the server.
    const other = await witness(site, '1');
    await stop(page);
    appendFileSync(site.appLog, 'while stopped\n');
    await waitFor(() => witnessed(other).includes('while stopped'), 10_000, 'the witness to get the line');

    // Start again: the socket delivers in order, so a line sent to the stopped page would come before
    // the new start's notice. It comes only as part of the new backlog.
    await start(page, '1');
    await waitForLineCount(page, 4 + 5);
    appendFileSync(site.appLog, 'live 3\n');
    await waitForLineCount(page, 4 + 6);
    const items = await shownItems(page);
    const stopped = items.indexOf('notice: — stopped —');
    expect(stopped).toBe(5);
    expect(items.slice(stopped + 1)).toEqual([
      'notice: — following App —',
      'line: first line',
      'line: second line',
      'line: live 1',
      'line: live 2',
      'line: while stopped',
      'line: live 3',
    ]);
    expect(await page.textContent('#status')).toBe('Following App.');
    other.socket.terminate();
  });

  it('lists only the files a user may follow', async () => {
    const bob = await pageAs(browser(), site, 'bob');
    await openTail(bob, site);
    const titles = (page: typeof bob) => page.locator('#log-choice option').allTextContents();
    expect(await titles(bob)).toEqual(['App']);
    expect(
      await evaluate<string>(bob, "getComputedStyle(document.getElementById('lines'), '::before').content"),
    ).toBe('"Choose a log file and press Start."');
    await screenshot(bob, 'tail-before-start');
    expect(
      await evaluate<string[]>(
        bob,
        "[...document.querySelectorAll('#log-choice option')].map((o) => o.value)",
      ),
    ).toEqual(['1']);
    const ann = await pageAs(browser(), site, 'ann');
    await openTail(ann, site);
    expect(await titles(ann)).toEqual(['App', 'Secret']);
    // Start is off for the file being followed, and on again to switch to another one.
    await start(ann, '1');
    expect(await ann.isDisabled('#start')).toBe(true);
    await ann.selectOption('#log-choice', '2');
    expect(await ann.isDisabled('#start')).toBe(false);
    await ann.click('#start');
    await waitInPage(ann, "document.getElementById('status').textContent === 'Following Secret.'");
    await waitForLineCount(ann, 3);
    expect(await shownLines(ann)).toEqual(['first line', 'second line', 'only for ann']);
    expect(await ann.isDisabled('#start')).toBe(true);
    expect(await bob.content()).not.toContain(site.secretLog);
    expect(await bob.content()).not.toContain(site.appLog);
  });

  it('renders ANSI colours as classes and markup in a line as text', async () => {
    const page = await pageAs(browser(), site, 'bob');
    await openTail(page, site);
    await start(page, '1');
    await waitForLineCount(page, 2);
    appendFileSync(
      site.appLog,
      '\u001b[31mERROR\u001b[0m disk <b>full</b> <img src=x onerror="window.__xss=1">\n' +
        '\u001b[1;32mok\u001b[22m plain-green\u001b[0m done\n',
    );
    await waitForLineCount(page, 4);
    expect((await shownLines(page)).slice(2)).toEqual([
      'ERROR disk <b>full</b> <img src=x onerror="window.__xss=1">',
      'ok plain-green done',
    ]);
    const spans = await evaluate<{ className: string; text: string }[]>(
      page,
      "[...document.querySelectorAll('#lines .line span')].map((s) => ({ className: s.className, text: s.textContent }))",
    );
    expect(spans).toEqual([
      { className: 'fg1', text: 'ERROR' },
      { className: 'fg2 b', text: 'ok' },
      { className: 'fg2', text: ' plain-green' },
    ]);
    expect(await page.locator('#lines b, #lines img').count()).toBe(0);
    expect(await evaluate<unknown>(page, 'window.__xss')).toBeUndefined();
  });

  it('takes the README screenshot of a coloured log', async () => {
    const colour = (code: number, text: string) => `\u001b[${code}m${text}\u001b[0m`;
    const lines: string[] = [];
    for (let i = 0; i < 14; i++) {
      const second = String(10 + i * 3).padStart(2, '0');
      const level =
        i % 7 === 3 ? colour(31, 'ERROR') : i % 5 === 2 ? colour(33, 'WARN ') : colour(32, 'INFO ');
      const what =
        i % 7 === 3
          ? 'upstream timed out after 30 s (GET /api/orders)'
          : `request ${colour(36, `GET /api/items/${100 + i}`)} 200 in ${3 + ((i * 7) % 40)} ms`;
      lines.push(`2026-12-06T09:41:${second}Z ${level} ${what}`);
    }
    writeFileSync(site.appLog, `${lines.join('\n')}\n`);
    const page = await pageAs(browser(), site, 'ann');
    await openTail(page, site);
    await start(page, '1');
    await waitForLineCount(page, 14);
    await screenshot(page, 'tail', 'tail.png');
  });

  it('says so when no log file is configured for the user, with nothing to start', async () => {
    const bare = await startSite({ logs: {} });
    try {
      const page = await pageAs(browser(), bare, 'bob');
      await page.goto(`${siteOrigin(bare)}/tail/`);
      await waitInPage(page, "document.getElementById('status').textContent !== ''");
      expect(await page.textContent('#status')).toBe('No log files are configured for you.');
      expect(await page.isDisabled('#start')).toBe(true);
      expect(await page.isDisabled('#log-choice')).toBe(true);
      expect(await page.isDisabled('#stop')).toBe(true);
      expect(
        await evaluate<string>(
          page,
          "getComputedStyle(document.getElementById('lines'), '::before').content",
        ),
      ).toBe('"An administrator can add log files to the configuration."');
    } finally {
      await bare.stop();
    }
  });
});
