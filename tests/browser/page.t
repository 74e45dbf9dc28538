#!/usr/bin/env node
// The notifications page in Debian's Chromium against a real stack: history
// on load, a live open within moments of its webhook, hostile subjects shown
// as text, and no gap or duplicate across a relay restart.
'use strict';

const path = require('path');
const { chromium } = require('playwright-core');
const { Stack, event, Tap, sleep, CHROMIUM_ARGS } = require('./stack');

async function main(t) {
  const stack = new Stack({ MANDRILL_WEBHOOK_KEY: 'browser-test-key' });
  let browser;
  try {
    await stack.start();
    const now = Math.floor(Date.now() / 1000);
    let r = await stack.postMandrill([
      event({ type: 'send', id: 'hist-1', email: 'hist@example.com', subject: 'Welcome aboard', ts: now - 600 }),
      event({ type: 'open', id: 'hist-1', email: 'hist@example.com', subject: 'Welcome aboard', ts: now - 300,
        location: { city: 'Lisbon', country: 'Portugal' } }),
    ]);
    t.is(r.status, 200, 'history batch accepted');

    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    const page = await (await stack.context(browser, { viewport: { width: 1100, height: 800 } })).newPage();
    // Uncaught exceptions only: a refused WebSocket while the relay is down
    // is logged to the console by the browser itself, as it should be.
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => { if (m.type() === 'error') t.note('console: ' + m.text()); });
    const resp = await page.goto(stack.url('/'));
    t.ok(/script-src 'self'/.test(resp.headers()['content-security-policy'] || ''),
      'the page is sent with a CSP that forbids inline script');

    await page.waitForSelector('#opens li', { timeout: 15000 });
    t.ok((await page.textContent('#opens')).includes('hist@example.com'), 'history open shown on load');
    // The opens list is filled before the table's own request returns.
    await page.waitForSelector('#events-body tr', { timeout: 15000 });
    t.is(await page.locator('#events-body tr').count(), 2, 'history events in the table');
    await page.waitForSelector('#status[data-state="live"]', { timeout: 15000 });
    t.ok(true, 'connection indicator says live');

    // A live open.
    const sent = Date.now();
    r = await stack.postMandrill([event({ id: 'live-1', email: 'bob@example.com', subject: 'Your invoice #42' })]);
    t.is(r.status, 200, 'live open accepted');
    await page.waitForSelector('#opens li:has-text("bob@example.com")', { timeout: 15000 });
    t.note(`live open shown ${Date.now() - sent} ms after its webhook was sent`);
    const first = await page.textContent('#opens li');
    t.ok(first.includes('bob@example.com') && first.includes('Your invoice #42'), 'newest open first, with its subject');
    t.ok((await page.textContent('#toasts')).includes('bob@example.com'), 'a notification pops up');

    // A hostile subject is text.
    const evil = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>';
    await stack.postMandrill([event({ id: 'evil-1', email: 'mallory@example.com', subject: evil })]);
    await page.waitForSelector('#opens li:has-text("mallory@example.com")', { timeout: 15000 });
    t.ok((await page.textContent('#opens li')).includes(evil), 'the markup in a subject shows as text');
    t.is(await page.locator('#opens img, #events img, #toasts img, #opens script').count(), 0, 'and creates no element');
    await sleep(200);
    t.is(await page.evaluate(() => window.__pwned), undefined, 'and runs nothing');

    // A right-to-left override in a value is isolated: it cannot reorder
    // the text around it (spoof the quote marks, the place, the time).
    const rlo = '\u202Efdp.exe';
    await stack.postMandrill([event({ id: 'rlo-1', email: 'eve\u202E@example.com', subject: rlo,
      location: { city: '\u202Ecity', country: 'Portugal' } })]);
    await page.waitForSelector('#opens li:has-text("fdp.exe")', { timeout: 15000 });
    const what = await page.$eval('#opens li', (li) => ({
      what: li.querySelector('.what').textContent, who: li.querySelector('.who').textContent,
      meta: li.querySelector('.meta').textContent }));
    t.is(what.what, 'opened \u201c\u2068' + rlo + '\u2069\u201d', 'the subject in an isolate of its own');
    t.is(what.who, '\u2068eve\u202E@example.com\u2069', 'so is the recipient');
    t.ok(what.meta.includes('\u2068\u202Ecity\u2069, \u2068Portugal\u2069'), 'and each part of the place');
    // Rendered, the closing quote stays after the subject.
    const order = await page.$eval('#opens li .what', (e) => {
      const r = document.createRange();
      const text = e.firstChild;
      const at = (i) => { r.setStart(text, i); r.setEnd(text, i + 1); return r.getBoundingClientRect().left; };
      return { open: at(7), close: at(text.length - 1), subject: at(9) };
    });
    t.ok(order.open < order.subject && order.subject < order.close,
      'the quotes stay around the subject on screen', JSON.stringify(order));

    // The relay dies; events posted meanwhile appear once, in order.
    const [relay] = stack.relayPids();
    t.ok(relay > 0, 'relay found');
    process.kill(relay, 'SIGKILL');
    for (let i = 1; i <= 3; i++) {
      r = await stack.postMandrill([event({ id: `gap-${i}`, email: `gap${i}@example.com`, subject: `Gap ${i}` })]);
    }
    t.is(r.status, 200, 'webhooks accepted while the relay is down');
    await page.waitForSelector('#opens li:has-text("gap3@example.com")', { timeout: 15000 });
    await page.waitForSelector('#status[data-state="live"]', { timeout: 15000 });
    await sleep(300);
    const seqs = await page.$$eval('#events-body tr', (rows) => rows.map((x) => Number(x.dataset.seq)));
    const sorted = [...seqs].sort((a, b) => b - a);
    t.ok(JSON.stringify(seqs) === JSON.stringify(sorted), 'rows in seq order after catching up', seqs);
    t.is(new Set(seqs).size, seqs.length, 'no duplicate row');
    t.is(seqs.length, 8, 'every stored event shown once');
    const gaps = await page.$$eval('#opens li', (li) => li.map((x) => x.textContent).filter((s) => s.includes('gap')));
    t.is(gaps.length, 3, 'each open sent while the relay was down shows once');

    // An event too large for one datagram reaches the relay as a stand-in:
    // the page fetches it, and shows the open after it too.
    r = await stack.postMandrill([
      { event: 'inbound', ts: Math.floor(Date.now() / 1000), msg: { email: 'big@example.com',
        subject: 'A very long mail', text: 'x'.repeat(300000), headers: { 'Message-Id': 'big-1' } } },
      event({ id: 'after-big', email: 'after@example.com', subject: 'After the long one' }),
    ]);
    t.is(r.status, 200, 'an inbound mail of 300 KB and an open accepted');
    await page.waitForSelector('#opens li:has-text("after@example.com")', { timeout: 15000 });
    await page.waitForSelector('#events-body tr:has-text("A very long mail")', { timeout: 15000 });
    t.ok(true, 'both shown live: the long mail fetched in full, the open after it');
    t.is(await page.locator('#events-body tr:has-text("A very long mail")').count(), 1, 'once');

    const shot = path.join(stack.home, 'page.png');
    await page.screenshot({ path: shot, fullPage: true });
    t.note('screenshot: ' + shot);
    await page.setViewportSize({ width: 390, height: 800 });
    t.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1), 'fits a phone-width screen');
    t.ok(errors.length === 0, 'no uncaught script error', errors.join('\n'));
  } finally {
    if (browser) await browser.close();
    await stack.stop();
    if (process.env.MAILHOOKS_KEEP) t.note('kept ' + stack.home); else stack.cleanup();
  }
}

const t = new Tap();
main(t).catch((e) => t.bail(e)).finally(() => t.done());
