#!/usr/bin/env node
// Signing in, in Debian's Chromium: the page shows nothing before, signs
// in with the keyboard alone (a wrong password said plainly), shows live
// opens after, goes back to the sign-in screen keeping the filters in the
// URL when the session ends in mid-session, and signs out. A second
// browser context that never signed in sees no event: not on the page,
// not from the API, not over the WebSocket.
'use strict';

const { chromium } = require('playwright-core');
const { Stack, event, Tap, CHROMIUM_ARGS } = require('./stack');

async function signInWithKeyboard(page, user, password) {
  await page.waitForSelector('#signin-user:focus', { timeout: 15000 });
  await page.keyboard.type(user);
  await page.keyboard.press('Tab');
  await page.keyboard.type(password);
  await page.keyboard.press('Enter');
}

async function main(t) {
  const stack = new Stack({ MANDRILL_WEBHOOK_KEY: 'signin-test-key' });
  let browser;
  try {
    await stack.start();
    t.is((await stack.postMandrill([event({ id: 'before', email: 'before@example.com' })])).status, 200,
      'an open before anyone signs in');
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));

    await page.goto(stack.url('/?type=open'));
    await page.waitForSelector('#signin-form', { state: 'visible', timeout: 15000 });
    t.ok(await page.isHidden('#app'), 'nothing but the sign-in screen before signing in');
    t.is(await page.locator('#opens li').count(), 0, 'no event on the page');

    await signInWithKeyboard(page, 'admin', 'not-the-password');
    await page.waitForSelector('#signin-error:has-text("Wrong user name or password")', { timeout: 15000 });
    t.ok(true, 'a wrong password is said plainly');
    t.ok(await page.evaluate(() => document.activeElement.id === 'signin-password'),
      'and the password field has the focus again, its text selected');
    await page.keyboard.type(stack.env.MAILHOOKS_ADMIN_PASSWORD);
    await page.keyboard.press('Enter');
    await page.waitForSelector('#app', { state: 'visible', timeout: 15000 });
    t.is(await page.textContent('#who'), 'admin (admin)', 'signed in with the keyboard alone: the header says who');
    await page.waitForSelector('#opens li:has-text("before@example.com")', { timeout: 15000 });
    t.ok(true, 'the history is shown');
    await page.waitForSelector('#status[data-state="live"]', { timeout: 10000 });
    t.is(await page.inputValue('#f-type'), 'open', 'the filter of the URL is kept');

    // Live, after signing in: the page took a ticket for its WebSocket.
    await stack.postMandrill([event({ id: 'live-1', email: 'live@example.com' })]);
    await page.waitForSelector('#opens li:has-text("live@example.com")', { timeout: 15000 });
    t.ok(true, 'a live open appears');

    // A second context, never signed in, sees nothing.
    const other = await browser.newContext();
    const stranger = await other.newPage();
    await stranger.goto(stack.url('/'));
    await stranger.waitForSelector('#signin-form', { state: 'visible', timeout: 15000 });
    const seen = await stranger.evaluate(async () => {
      const api = await fetch('api/events');
      const ticket = await fetch('api/ws-ticket');
      const ws = await new Promise((resolve) => {
        const u = new URL('ws?types=all', document.baseURI);
        u.protocol = 'ws:';
        const s = new WebSocket(u.href);
        s.onopen = () => resolve('open');
        s.onerror = () => resolve('refused');
      });
      return { api: api.status, ticket: ticket.status, ws };
    });
    t.is(seen.api, 401, 'another context: the API says 401');
    t.is(seen.ticket, 401, 'and gives it no ticket');
    t.is(seen.ws, 'refused', 'and a WebSocket without a ticket is refused');
    await stack.postMandrill([event({ id: 'live-2', email: 'second@example.com' })]);
    await page.waitForSelector('#opens li:has-text("second@example.com")', { timeout: 15000 });
    t.is(await stranger.locator('#opens li').count(), 0, 'while the signed-in page shows the next open, it shows none');
    await other.close();

    // The session ends in mid-session (here: ended from outside, as a
    // sign-out in another tab would): the next answer is a 401, and the
    // page goes back to signing in, its URL as it was.
    await page.fill('#f-q', 'live@example.com');
    await page.click('#filters button[type="submit"]');
    await page.waitForURL(/q=live%40example.com/, { timeout: 15000 });
    const cookie = (await context.cookies()).find((c) => c.name === 'mh_session');
    const out = await fetch(stack.url('/api/session'), { method: 'DELETE',
      headers: { Cookie: 'mh_session=' + cookie.value, Origin: stack.url('') } });
    t.is(out.status, 200, 'the session is ended elsewhere');
    // The page's next request (here: going back to the view, as the
    // browser's Back does) meets the 401, unless one of its own did first.
    await page.evaluate(() => window.dispatchEvent(new PopStateEvent('popstate')));
    await page.waitForSelector('#signin-form', { state: 'visible', timeout: 10000 });
    t.ok(/session ended/.test(await page.textContent('#signin-note')), 'the page says the session ended');
    t.ok(/type=open/.test(page.url()) && /q=live%40example.com/.test(page.url()), 'the filters stay in the URL');
    t.is(await page.locator('#opens li').count(), 0, 'and nothing of what it showed is left');
    await page.waitForSelector('#signin-password:focus', { timeout: 15000 });
    t.is(await page.inputValue('#signin-user'), 'admin', 'the user name is kept: only the password is asked');
    await page.keyboard.type(stack.env.MAILHOOKS_ADMIN_PASSWORD);
    await page.keyboard.press('Enter');
    await page.waitForSelector('#status[data-state="live"]', { timeout: 10000 });
    t.is(await page.inputValue('#f-q'), 'live@example.com', 'signed in again: the same view');

    // Signing out.
    await page.click('#signout');
    await page.waitForSelector('#signin-form', { state: 'visible', timeout: 15000 });
    t.is(await page.textContent('#signin-note'), 'You signed out.', 'signing out says so');
    t.is(await page.locator('#opens li').count(), 0, 'and leaves no event on the page');
    const after = await page.evaluate(async () => (await fetch('api/events')).status);
    t.is(after, 401, 'the session is over');

    // A phone: the form fits, its fields large enough to touch.
    await page.setViewportSize({ width: 375, height: 700 });
    t.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1),
      'the sign-in screen fits a phone');
    const h = await page.evaluate(() => document.getElementById('signin-user').getBoundingClientRect().height);
    t.ok(h >= 44, `its fields are ${Math.round(h)} px tall, enough for a finger`);
    t.ok(errors.length === 0, 'no uncaught script error', errors.join('\n'));
  } finally {
    if (browser) await browser.close();
    await stack.stop();
    stack.cleanup();
  }
}

const t = new Tap();
main(t).catch((e) => t.bail(e)).finally(() => t.done());
