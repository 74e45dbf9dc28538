#!/usr/bin/env node
// The bell in Debian's Chromium: two users signed in in two contexts each
// see their own notifications only, the count updates live with each
// one, reading one (click, or Enter) lowers it and follows its link, and a
// hostile title stays text.
'use strict';

const { chromium } = require('playwright-core');
const { Stack, Tap, CHROMIUM_ARGS } = require('./stack');

async function notify(stack, body) {
  const r = await stack.api('/api/notifications', { method: 'POST',
    headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  return { status: r.status, body: await r.json() };
}

async function main(t) {
  const stack = new Stack();
  let browser;
  try {
    await stack.start();
    // A viewer, made with the admin tool as a user would.
    const { execFileSync } = require('child_process');
    const fs = require('fs');
    const pw = stack.home + '/vera.pw';
    fs.writeFileSync(pw, 'vera-password\n', { mode: 0o644 });
    const tool = require('path').resolve(__dirname, '../../tools/mailhooks-db');
    execFileSync(tool, ['-h', stack.home, 'user', 'add', 'vera', '--password-file', pw], { stdio: 'ignore' });
    t.is((await notify(stack, { user_id: 'vera', title: 'Before you came', identifier: 'OLD' })).status, 201,
      'a notification waiting for vera');

    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    const admin = await (await stack.context(browser)).newPage();
    const veraCtx = await browser.newContext();
    const vera = await veraCtx.newPage();
    const errors = [];
    for (const p of [admin, vera]) p.on('pageerror', (e) => errors.push(String(e)));

    await admin.goto(stack.url('/'));
    await vera.goto(stack.url('/'));
    await vera.fill('#signin-user', 'vera');
    await vera.fill('#signin-password', 'vera-password');
    await vera.press('#signin-password', 'Enter');
    await vera.waitForSelector('#bell-count:has-text("1")', { timeout: 15000 });
    t.ok(true, 'vera\'s bell says 1 unread');
    t.ok(await admin.isHidden('#bell-count'), 'the admin\'s says none: not vera\'s');
    await admin.waitForSelector('#status[data-state="live"]', { timeout: 10000 });

    // Live: one for vera, one for the admin, each to its own.
    await vera.waitForTimeout(500);   // her channel connects
    await notify(stack, { user_id: 'vera', title: '<img src=x onerror=alert(1)>', identifier: 'MESSAGE',
      link: '/?message=m-42' });
    await vera.waitForSelector('#bell-count:has-text("2")', { timeout: 15000 });
    t.ok(true, 'a new one for vera: her count goes to 2, live');
    await notify(stack, { user_id: 'admin', title: 'For the admin', identifier: 'OPS' });
    await admin.waitForSelector('#bell-count:has-text("1")', { timeout: 15000 });
    t.ok(true, 'the admin\'s goes to 1');
    t.is(await vera.textContent('#bell-count'), '2', 'vera\'s stays 2: she never sees the admin\'s');

    await vera.click('#bell');
    await vera.waitForSelector('#bell-panel:not([hidden])');
    const titles = await vera.$$eval('#bell-list .note-title', (e) => e.map((x) => x.textContent));
    t.is(titles.join('|'), '<img src=x onerror=alert(1)>|Before you came', 'newest first, the hostile title as text');
    t.is(await vera.locator('#bell-list img').count(), 0, 'no element made of it');
    // Enter on the newest marks it read and follows its link.
    await vera.focus('#bell-list li:first-child button');
    await Promise.all([vera.waitForURL(/message=m-42/, { timeout: 15000 }), vera.keyboard.press('Enter')]);
    t.ok(true, 'Enter follows its link');
    await vera.waitForSelector('#bell-count:has-text("1")', { timeout: 15000 });
    t.ok(true, 'and it is read: the count is 1 after the page comes back');
    const left = await (await stack.api('/api/notifications/vera?unread=1')).json();
    t.is(left.unread, 1, 'the server agrees');
    // Its link names a message no event is stored of: the page says so.
    await vera.waitForSelector('#message[open] #message-meta:has-text("m-42")', { timeout: 15000 });
    await vera.keyboard.press('Escape');
    await vera.waitForSelector('#message', { state: 'hidden' });

    await vera.click('#bell');
    await vera.click('#bell-readall');
    await vera.waitForSelector('#bell-count', { state: 'hidden', timeout: 15000 });
    t.ok(true, 'mark all read: no count');
    await vera.setViewportSize({ width: 375, height: 700 });
    t.ok(await vera.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1),
      'the panel fits a phone');
    // The bell is a drawing, not a character a font may lack.
    t.is(await vera.locator('#bell svg.bell-icon').count(), 1, 'the bell is an SVG icon');
    t.ok(!/\u{1F514}/u.test(await vera.textContent('#bell')), '... no emoji in it');
    // A tap outside closes the panel; so does going to another view.
    t.ok(await vera.isVisible('#bell-panel'), 'the panel is open');
    await vera.mouse.click(5, 650);
    await vera.waitForSelector('#bell-panel', { state: 'hidden', timeout: 5000 });
    t.is(await vera.getAttribute('#bell', 'aria-expanded'), 'false', 'a tap outside closes it');
    await vera.click('#bell');
    await vera.waitForSelector('#bell-panel:not([hidden])');
    await vera.evaluate(() => { location.hash = '#outgoing'; });
    await vera.waitForSelector('#bell-panel', { state: 'hidden', timeout: 5000 });
    t.ok(true, 'going to another view closes it');
    // Its own kinds in words, a program's as given.
    await stack.api('/api/notifications', { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ user_id: 'vera', identifier: 'EMAIL_OPENED', title: 'bob opened "Hi"' }) });
    await vera.click('#bell');
    await vera.waitForSelector('#bell-list li:has-text("bob opened")', { timeout: 15000 });
    const meta = await vera.textContent('#bell-list li:has-text("bob opened") .note-meta');
    t.ok(meta.startsWith('Mail opened') && !meta.includes('EMAIL_OPENED'), 'EMAIL_OPENED said in words: ' + meta);
    t.ok(errors.length === 0, 'no uncaught script error', errors.join('\n'));
  } finally {
    if (browser) await browser.close();
    await stack.stop();
    stack.cleanup();
  }
}

const t = new Tap();
main(t).catch((e) => t.bail(e)).finally(() => t.done());
