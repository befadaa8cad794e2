// The tail page as a test drives it: choose a log, Start, Stop, read the lines and notices shown.
import type { Page } from 'playwright-core';
import type { TestClient } from '../channels/serve-helpers.ts';
import { waitFor } from '../helpers.ts';
import { logIn, openSocket, siteOrigin, type TestSite } from '../server/bundled-helpers.ts';
import { evaluate, waitInPage } from './browser-helpers.ts';

/** Opens /tail/ and waits for the list of log files. */
export async function openTail(page: Page, site: TestSite): Promise<void> {
  await page.goto(`${siteOrigin(site)}/tail/`);
  await waitInPage(page, "document.querySelectorAll('#log-choice option').length > 0");
}

export async function start(page: Page, logId: string): Promise<void> {
  await page.selectOption('#log-choice', logId);
  await page.click('#start');
  await waitInPage(page, "!document.getElementById('stop').disabled");
}

export async function stop(page: Page): Promise<void> {
  await page.click('#stop');
  await waitInPage(page, "document.getElementById('stop').disabled");
}

/** The log lines shown, without their newlines (notices not included). */
export function shownLines(page: Page): Promise<string[]> {
  return evaluate<string[]>(
    page,
    "[...document.querySelectorAll('#lines .line')].map((line) => line.textContent.replace(/\\n$/, ''))",
  );
}

/** The notices shown (the engine's and the page's own), in order. */
export function shownNotices(page: Page): Promise<string[]> {
  return evaluate<string[]>(
    page,
    "[...document.querySelectorAll('#lines .notice')].map((n) => n.textContent)",
  );
}

/** Waits until the page shows `count` lines or more. */
export function waitForLineCount(page: Page, count: number, timeoutMs = 15_000): Promise<void> {
  return waitInPage(page, `document.querySelectorAll('#lines .line').length >= ${count}`, timeoutMs);
}

export function waitForNotice(page: Page, fragment: string): Promise<void> {
  return waitInPage(
    page,
    `[...document.querySelectorAll('#lines .notice')].some((n) => n.textContent.includes(${JSON.stringify(fragment)}))`,
  );
}

/**
 * A WebSocket viewer of `logId` beside the page: once it has received a line, the shared follower has
 * delivered that line to every viewer, so a page that should have it has it (or never will).
 */
export async function witness(site: TestSite, logId: string): Promise<TestClient> {
  const client = await openSocket(site, '/ws/tail/', await logIn(site, 'ann'));
  client.socket.send(JSON.stringify({ type: 'start', log: logId }));
  await waitFor(() => client.messages.some((text) => JSON.parse(text as string).type === 'started'));
  return client;
}

/** Lines the witness has received so far, in order. */
export function witnessed(client: TestClient): string[] {
  return client.messages
    .map((text) => JSON.parse(text as string) as { type: string; items?: { type: string; text: string }[] })
    .flatMap((message) => message.items ?? [])
    .filter((item) => item.type === 'line')
    .map((item) => item.text);
}

/** Everything in the log view in order: `line: text` or `notice: text`. */
export function shownItems(page: Page): Promise<string[]> {
  return evaluate<string[]>(
    page,
    "[...document.getElementById('lines').children].map((node) => `${node.className}: ${node.textContent.replace(/\\n$/, '')}`)",
  );
}
