// Logging in and out in a real browser: the form's error, the landing page, the way back to the page
// that sent an anonymous visitor to the login form, and the header's sign-out.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORDS, siteOrigin, startSite, type TestSite } from '../server/bundled-helpers.ts';
import {
  DESKTOP,
  pageAs,
  evaluate,
  waitInPage,
  freshPage,
  browserForFile,
  screenshot,
  screenshotFailuresAndCloseContexts,
} from './browser-helpers.ts';

const browser = browserForFile();
let site: TestSite;
let origin: string;
beforeAll(async () => {
  site = await startSite();
  origin = siteOrigin(site);
});
afterAll(async () => {
  await site?.stop();
});
screenshotFailuresAndCloseContexts('login');

async function submitLogin(page: Page, user: string, password: string): Promise<void> {
  await page.fill('#username', user);
  await page.fill('#password', password);
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
}

describe('login and logout in the browser', { timeout: 60_000 }, () => {
  it('shows the error for a wrong password, and stays on the form', async () => {
    const page = await freshPage(browser());
    await page.goto(`${origin}/login`);
    expect(await page.isVisible('.error')).toBe(false);
    await submitLogin(page, 'bob', 'not-his-password');
    expect(new URL(page.url()).pathname).toBe('/login');
    expect((await page.textContent('.error'))?.trim()).toBe('Wrong username or password.');
    expect(await page.isVisible('.error')).toBe(true);
    // The form can be used again right away (a fresh CSRF token came with the answer).
    await submitLogin(page, 'bob', PASSWORDS.bob);
    expect(new URL(page.url()).pathname).toBe('/chat/');
    await screenshot(page, 'login-landed');
  });

  it('lands on /chat/ after the right password, with the user named in the header', async () => {
    const page = await freshPage(browser());
    await page.goto(`${origin}/login`);
    await screenshot(page, 'login-form');
    // The form is a card of its own height, centred (not stretched to the window's height).
    const card = (await page.locator('main.card').boundingBox())!;
    expect(card.height).toBeLessThan(DESKTOP.height * 0.8);
    expect(card.y).toBeGreaterThan(0);
    await submitLogin(page, 'ann', PASSWORDS.ann);
    expect(new URL(page.url()).pathname).toBe('/chat/');
    expect(await page.textContent('header .who')).toBe('ann');
    await page.waitForSelector('#lobby:not([hidden])');
  });

  it('sends an anonymous visitor to /login and back to the page they asked for', async () => {
    const page = await freshPage(browser());
    await page.goto(`${origin}/tail/`);
    const atLogin = new URL(page.url());
    expect(atLogin.pathname).toBe('/login');
    expect(atLogin.searchParams.get('next')).toBe('/tail/');
    await submitLogin(page, 'ann', PASSWORDS.ann);
    expect(new URL(page.url()).pathname).toBe('/tail/');

    const room = await freshPage(browser());
    await room.goto(`${origin}/chat/kitchen/`);
    expect(new URL(room.url()).searchParams.get('next')).toBe('/chat/kitchen/');
    await submitLogin(room, 'bob', PASSWORDS.bob);
    expect(new URL(room.url()).pathname).toBe('/chat/kitchen/');
    await room.waitForSelector('#room:not([hidden])');
    expect(await room.textContent('#room-title')).toBe('# kitchen');
  });

  it('signs out from the header: back at /login, and /chat/ redirects again', async () => {
    const page = await freshPage(browser());
    await page.goto(`${origin}/login`);
    await submitLogin(page, 'ann', PASSWORDS.ann);
    // The sign-out form gets its CSRF token from /api/session once the page has loaded it.
    await waitInPage(
      page,
      'document.querySelector(\'form.logout input[name="csrfToken"]\').value.length > 0',
    );
    await Promise.all([page.waitForNavigation(), page.click('header button[type=submit]')]);
    expect(new URL(page.url()).pathname).toBe('/login');
    await page.goto(`${origin}/chat/`);
    const back = new URL(page.url());
    expect(back.pathname).toBe('/login');
    expect(back.searchParams.get('next')).toBe('/chat/');
    expect(await evaluate<number>(page, "fetch('/api/session').then((answer) => answer.status)")).toBe(401);
  });

  it('signing out in one tab sends the other tabs of the session to /login', async () => {
    const chatTab = await pageAs(browser(), site, 'ann');
    await chatTab.goto(`${origin}/chat/lobby/`);
    await waitInPage(chatTab, "document.querySelector('#members li') !== null");
    const otherTab = await chatTab.context().newPage();
    await otherTab.goto(`${origin}/tail/`);
    await waitInPage(
      otherTab,
      'document.querySelector(\'form.logout input[name="csrfToken"]\').value.length > 0',
    );
    // Both tabs end at /login: this one by the form's redirect (or by its own socket's 4001, which
    // may win the race and abort the form's navigation), the other by its socket's 4001.
    await otherTab.click('header button[type=submit]');
    await otherTab.waitForURL((url) => url.pathname === '/login', { timeout: 15_000 });
    await chatTab.waitForURL((url) => url.pathname === '/login', { timeout: 15_000 });
    expect(new URL(chatTab.url()).searchParams.get('next')).toBe('/chat/lobby/');
  });
});
