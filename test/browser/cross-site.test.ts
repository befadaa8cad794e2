// Another site in the same browser as a logged-in user: its WebSocket to the chat (the browser sends
// the session cookie along: same host, other port, so same-site) is refused by the Origin check, and
// its forged sign-out form is refused by the CSRF check; the user stays logged in.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { siteOrigin, startSite, type TestSite } from '../server/bundled-helpers.ts';
import {
  evaluate,
  browserForFile,
  pageAs,
  screenshotFailuresAndCloseContexts,
  waitInPage,
} from './browser-helpers.ts';

const browser = browserForFile();
let site: TestSite;
let evil: Server;
let evilOrigin: string;

/** The other site's pages: one that opens a WebSocket to the chat, one with a forged sign-out form. */
function evilPage(url: URL): string {
  const target = `http://127.0.0.1:${url.searchParams.get('port')}`;
  if (url.pathname === '/socket') {
    return `<!doctype html><script>
      window.result = 'pending';
      const socket = new WebSocket('${target.replace('http:', 'ws:')}/ws/chat/hijack/');
      socket.onopen = () => (window.result = 'open');
      socket.onmessage = (event) => (window.result = 'message: ' + event.data);
      socket.onclose = (event) => { if (window.result === 'pending') window.result = 'closed ' + event.code; };
    </script>`;
  }
  return `<!doctype html><form id="f" method="post" action="${target}/logout">
      <input type="hidden" name="csrfToken" value="guessed"></form>
    <script>document.getElementById('f').submit();</script>`;
}

beforeAll(async () => {
  site = await startSite();
  evil = createServer((request, response) => {
    response.writeHead(200, { 'content-type': 'text/html' });
    response.end(evilPage(new URL(request.url ?? '/', 'http://evil.invalid')));
  });
  await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
  evilOrigin = `http://127.0.0.1:${(evil.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await site?.stop();
  if (evil !== undefined) await new Promise((resolve) => evil.close(resolve));
});
screenshotFailuresAndCloseContexts('cross-site');

describe('another site in the same browser', { timeout: 60_000 }, () => {
  it('cannot open a chat WebSocket with the user’s cookie', async () => {
    const page = await pageAs(browser(), site, 'ann');
    await page.goto(`${evilOrigin}/socket?port=${site.running.server.port}`);
    await waitInPage(page, "window.result !== 'pending'");
    expect(await evaluate<string>(page, 'window.result')).toBe('closed 1006');
    expect(site.running.chatRooms.activeRooms()).toEqual([]);
    expect(site.running.server.stats().consumers).toBe(0);

    // The same user on the site itself gets in (the refusal above was the Origin, not the session).
    await page.goto(`${siteOrigin(site)}/chat/hijack/`);
    await waitInPage(page, "document.querySelectorAll('#members li').length === 1");
    expect(site.running.chatRooms.activeRooms()).toEqual([{ room: 'hijack', members: 1 }]);
  });

  it('does send the session cookie: a site that allows that origin lets the same page in', async () => {
    // The control for the test above: the browser does attach the cookie to the cross-site
    // handshake, so the Origin check is what stands between that page and the chat.
    const trusting = await startSite({ allowedOrigins: [evilOrigin] });
    try {
      const page = await pageAs(browser(), trusting, 'ann');
      await page.goto(`${evilOrigin}/socket?port=${trusting.running.server.port}`);
      // Presence names the user: the server knew who it was from the cookie.
      await waitInPage(page, "window.result.includes('presence')");
      expect(await evaluate<string>(page, 'window.result')).toBe(
        'message: {"type":"presence","room":"hijack","users":["ann"]}',
      );
    } finally {
      await trusting.stop();
    }
  });

  it('cannot sign the user out with a forged form', async () => {
    const page = await pageAs(browser(), site, 'ann');
    const answer = page.waitForResponse(`${siteOrigin(site)}/logout`);
    await page.goto(`${evilOrigin}/logout?port=${site.running.server.port}`);
    expect((await answer).status()).toBe(403);
    await page.goto(`${siteOrigin(site)}/chat/`);
    expect(new URL(page.url()).pathname).toBe('/chat/');
    expect(await page.textContent('header .who')).toBe('ann');
  });
});
