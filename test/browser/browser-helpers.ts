// Browser tests of the bundled server: one Debian chromium per test file (driven by playwright-core),
// a fresh context per user, screenshots into test-output/screenshots on every run and of every open
// page when a test fails. The site itself comes from test/server/bundled-helpers.ts.
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { logIn, PASSWORDS, siteOrigin, type TestSite } from '../server/bundled-helpers.ts';

export const CHROMIUM = '/usr/bin/chromium';
export const SCREENSHOTS = path.resolve(__dirname, '../../test-output/screenshots');
export const README_IMAGES = path.resolve(__dirname, '../../docs/images');
/** The size of the README screenshots: small files, still readable. */
export const DESKTOP = { width: 900, height: 560 } as const;
export const PHONE = { width: 375, height: 667 } as const;

/** Launches chromium; fails (never skips) when it is not installed. */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: the browser tests need Debian's chromium (apt-get install chromium)`,
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * One browser for the calling test file: launched before its tests, closed after them. Without
 * chromium every test of the file fails with the launch error (they are not skipped).
 */
export function browserForFile(): () => Browser {
  let browser: Browser | undefined;
  let launchError: unknown;
  beforeAll(async () => {
    try {
      browser = await launchBrowser();
    } catch (error) {
      launchError = error;
    }
  });
  beforeEach(() => {
    if (launchError !== undefined) throw launchError;
  });
  afterAll(async () => {
    await browser?.close();
  });
  return () => browser!;
}

const openContexts = new Set<BrowserContext>();

/**
 * Registers, for the calling test file: after each test, a screenshot of every page still open when
 * the test failed, then every context closed.
 */
export function screenshotFailuresAndCloseContexts(file: string): void {
  afterEach(async (context) => {
    const failed = context.task.result?.state === 'fail';
    const contexts = [...openContexts];
    openContexts.clear();
    let index = 0;
    for (const browserContext of contexts) {
      if (failed) {
        for (const page of browserContext.pages()) {
          const name = `${file}-FAILED-${slug(context.task.name)}-${index++}.png`;
          // Bounded: a page that hangs (the failure itself, maybe) must not hang the hook too.
          await page.screenshot({ path: path.join(SCREENSHOTS, name), timeout: 5_000 }).catch(() => {});
        }
      }
      await browserContext.close().catch(() => {});
    }
  });
}

function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, 60);
}

/** A fresh context (no cookies) with one page; closed after the test. */
export async function freshPage(
  browser: Browser,
  viewport: { width: number; height: number } = DESKTOP,
  options: { bypassCSP?: boolean } = {},
): Promise<Page> {
  const context = await browser.newContext({ viewport, colorScheme: 'light', ...options });
  openContexts.add(context);
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  return page;
}

/** A page whose context is already logged in as `user` (logged in over HTTP, the cookie handed over). */
export async function pageAs(
  browser: Browser,
  site: TestSite,
  user: keyof typeof PASSWORDS,
  viewport: { width: number; height: number } = DESKTOP,
  options: { bypassCSP?: boolean } = {},
): Promise<Page> {
  const page = await freshPage(browser, viewport, options);
  const cookie = await logIn(site, user);
  const [name, value] = cookie.split('=', 2) as [string, string];
  await page.context().addCookies([{ name, value, url: siteOrigin(site) }]);
  return page;
}

/**
 * Saves a screenshot of `page` into the test output. With `readmeName` and
 * BUFFEREVENT_README_SCREENSHOTS=1 also into docs/images (committed files: an ordinary test run must
 * not rewrite them, if only because the chat shows the time).
 */
export async function screenshot(page: Page, name: string, readmeName?: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`) });
  if (readmeName !== undefined && process.env.BUFFEREVENT_README_SCREENSHOTS === '1') {
    mkdirSync(README_IMAGES, { recursive: true });
    await page.screenshot({ path: path.join(README_IMAGES, readmeName) });
  }
}

/**
 * Evaluates a JavaScript expression in the page (a string: this project's TypeScript has no DOM
 * types, and the tests should not pretend otherwise).
 */
export function evaluate<T>(page: Page, expression: string): Promise<T> {
  return page.evaluate(expression) as Promise<T>;
}

/**
 * Waits until `expression` is truthy in the page. Polls with evaluate (page.waitForFunction would
 * eval the string inside the page, which the server's Content-Security-Policy rightly forbids).
 */
export async function waitInPage(page: Page, expression: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await evaluate<unknown>(page, expression))) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${expression}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * Records every text the page's #status line shows into `window.statuses`, so a test can assert on
 * a status that was shown only briefly (a reconnect's countdown, a refusal later cleared).
 */
export function recordStatuses(page: Page): Promise<unknown> {
  return evaluate(
    page,
    "window.statuses = []; new MutationObserver(() => window.statuses.push(document.getElementById('status').textContent)).observe(document.getElementById('status'), { childList: true, characterData: true, subtree: true })",
  );
}

/** Whether the page scrolls sideways (a layout wider than the viewport). */
export function hasHorizontalScroll(page: Page): Promise<boolean> {
  return evaluate<boolean>(
    page,
    'document.documentElement.scrollWidth > document.documentElement.clientWidth',
  );
}
