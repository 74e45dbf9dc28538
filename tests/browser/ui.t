#!/usr/bin/env node
// The page a person keeps open: filters kept in the URL, "load older"
// paging, live rows that match the filters, the message view (also by
// keyboard), the summary, desktop notifications asked for on a click, the
// test-event control only where the server allows it. Leaves a screenshot
// with data under $MAILHOOKS_HOME (make test: ./var) to look at.
'use strict';

const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');
const { Stack, event, Tap, sleep, CHROMIUM_ARGS } = require('./stack');

const KEY = 'ui-test-key';

async function seed(stack) {
  const now = Math.floor(Date.now() / 1000);
  const batch = [];
  // 56 events: a send, a delivery and an open for 16 messages, and
  // clicks and a bounce for two of them.
  for (let i = 1; i <= 16; i++) {
    const id = 'm-' + i;
    const who = `user${i}@example.com`;
    batch.push(event({ type: 'send', id, email: who, subject: 'Invoice ' + i, ts: now - 3000 + i }));
    batch.push(event({ type: 'delivered', id, email: who, subject: 'Invoice ' + i, ts: now - 2900 + i }));
    batch.push(event({ type: 'open', id, email: who, subject: 'Invoice ' + i, ts: now - 2000 + i,
      location: { city: 'Porto', country: 'Portugal' } }));
  }
  const click = event({ type: 'click', id: 'm-3', email: 'user3@example.com', subject: 'Invoice 3', ts: now - 1000 });
  click.url = 'https://example.com/pay/3';
  const click2 = { ...click, ts: now - 900, url: 'https://example.com/receipt/3' };
  const bounce = event({ type: 'hard_bounce', id: 'm-9', email: 'user9@example.com', subject: 'Invoice 9', ts: now - 800 });
  bounce.msg.bounce_description = 'bad_mailbox';
  batch.push(click, click2, bounce);
  for (let i = 0; i < 5; i++) batch.push(event({ type: 'deferral', id: 'm-10', email: 'user10@example.com', ts: now - 700 + i }));
  return stack.postMandrill(batch);
}

async function rows(page) {
  return page.$$eval('#events-body tr', (r) => r.map((x) => ({
    seq: Number(x.dataset.seq), ts: Number(x.dataset.ts), type: x.children[1].textContent,
    email: x.children[2].textContent })));
}

async function main(t) {
  const stack = new Stack({ MANDRILL_WEBHOOK_KEY: KEY, MAILHOOKS_TEST_EVENTS: '1' });
  let browser;
  try {
    await stack.start();
    const r = await seed(stack);
    t.is(r.status, 200, '56 events posted');
    for (let i = 0; i < 100; i++) {
      const h = await (await stack.api('/api/health')).json();
      if (h.last_seq >= 56) break;
      await sleep(50);
    }

    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    const context = await stack.context(browser, { viewport: { width: 1200, height: 900 } });
    // A stand-in for the browser's Notification, recording what is shown.
    await context.addInitScript(() => {
      window.__notes = [];
      window.__asked = 0;
      // A permission, once given, lasts, as in a real browser.
      class FakeNotification {
        constructor(title, opts) { window.__notes.push({ title, body: opts && opts.body }); }
        static get permission() { return localStorage.getItem('fake-permission') || 'default'; }
        static requestPermission() {
          window.__asked++;
          localStorage.setItem('fake-permission', 'granted');
          return Promise.resolve('granted');
        }
      }
      window.Notification = FakeNotification;
    });
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));

    // Paging.
    await page.goto(stack.url('/'));
    await page.waitForSelector('#status[data-state="live"]', { timeout: 10000 });
    let got = await rows(page);
    t.is(got.length, 50, 'a first page of 50 rows');
    t.ok(await page.isVisible('#older'), '"load older" offered');
    await page.click('#older');
    await page.waitForFunction(() => document.querySelectorAll('#events-body tr').length === 56);
    got = await rows(page);
    t.is(new Set(got.map((x) => x.seq)).size, 56, 'all 56, once each');
    t.ok(got.every((x, i) => i === 0 || got[i - 1].ts > x.ts || (got[i - 1].ts === x.ts && got[i - 1].seq > x.seq)),
      'newest event time first, the pages following each other');
    t.ok(await page.isHidden('#older'), 'no more to load');

    // The summary.
    await page.waitForSelector('#stats li[data-type="open"]');
    t.is((await page.textContent('#stats li[data-type="open"] .v')).trim(), '16', 'summary: 16 opens');
    t.is((await page.textContent('#stats li[data-type="deferral"] .v')).trim(), '5', 'summary: 5 deferrals');

    // Filters, in the URL.
    await page.selectOption('#f-type', 'click');
    await page.click('#filters button[type="submit"]');
    await page.waitForFunction(() => document.querySelectorAll('#events-body tr').length === 2);
    t.ok(new URL(page.url()).searchParams.get('type') === 'click', 'the filter is in the URL');
    got = await rows(page);
    t.ok(got.every((x) => x.type === 'click'), 'only clicks');
    await page.goto(stack.url('/?email=USER10%40example.com'));
    await page.waitForSelector('#events-body tr');
    await sleep(300);
    got = await rows(page);
    t.is(got.length, 8, 'a bookmarked email filter, case-insensitive');
    await page.goto(stack.url('/?q=USER10%40EX'));
    await page.waitForSelector('#events-body tr');
    await sleep(300);
    t.is((await rows(page)).length, 8, 'a bookmarked search: part of the address, any case');
    t.is(await page.inputValue('#f-q'), 'USER10@EX', 'and the form shows it');
    await page.goto(stack.url('/?type=open&message_id=m-5'));
    await page.waitForSelector('#events-body tr');
    t.is((await rows(page)).length, 1, 'filters combine');

    // A live event that matches appears on top; one that does not, does not.
    await page.goto(stack.url('/?type=open'));
    await page.waitForSelector('#status[data-state="live"]');
    await page.click('#notify');
    t.is(await page.evaluate(() => window.__asked), 1, 'notification permission asked on the click');
    t.is(await page.getAttribute('#notify', 'aria-pressed'), 'true', 'notifications on');
    // Sent a minute before it is opened (an open seconds after the send
    // from an address never seen is a prefetch's, issue 33).
    await stack.postMandrill([event({ type: 'send', id: 'm-live', email: 'live@example.com', subject: 'Live',
      ts: Math.floor(Date.now() / 1000) - 60 }),
      event({ type: 'open', id: 'm-live', email: 'live@example.com', subject: 'Live' })]);
    await page.waitForSelector('#events-body tr:first-child:has-text("live@example.com")', { timeout: 15000 });
    got = await rows(page);
    t.ok(got.every((x) => x.type === 'open'), 'the live send is not in an opens-only table');
    await page.waitForFunction(() => window.__notes.length > 0, null, { timeout: 15000 });
    const note = (await page.evaluate(() => window.__notes))[0];
    t.ok(note.title.includes('live@example.com') && note.body.includes('Live'), 'a desktop notification for the open');
    await page.reload();
    await page.waitForSelector('#status[data-state="live"]');
    t.is(await page.getAttribute('#notify', 'aria-pressed'), 'true', 'remembered in this browser');
    t.is(await page.evaluate(() => window.__asked), 0, 'without asking again');

    // The message view, by keyboard.
    await page.goto(stack.url('/?message_id=m-3'));
    await page.waitForSelector('#events-body button[data-message="m-3"]');
    await page.focus('#events-body button[data-message="m-3"]');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#message[open]');
    t.ok(new URL(page.url()).searchParams.get('message') === 'm-3', 'the message view is in the URL');
    const tl = await page.$$eval('#message-timeline li', (l) => l.map((x) => x.textContent));
    t.is(tl.length, 5, 'its timeline: send, delivered, open and two clicks');
    t.ok(/send/.test(tl[0]) && /delivered/.test(tl[1]) && /open/.test(tl[2]), 'in the order they happened');
    t.ok(tl[3].includes('https://example.com/pay/3') && tl[4].includes('receipt/3'), 'clicks with their URLs');
    const counts = await page.textContent('#message-counts');
    t.ok(/opens\s*1/.test(counts) && /clicks\s*2/.test(counts), 'with its counts');
    await page.keyboard.press('Escape');
    await page.waitForSelector('#message:not([open])', { state: 'attached' });
    // The dialog's close event, which updates the URL, is a task queued
    // after the open attribute goes.
    await page.waitForFunction(() => !new URLSearchParams(location.search).get('message'),
      null, { timeout: 15000 }).catch(() => {});
    t.ok(!new URL(page.url()).searchParams.get('message'), 'Escape closes it');
    await page.goto(stack.url('/?message=m-9'));
    await page.waitForSelector('#message[open]');
    t.ok((await page.textContent('#message-timeline')).includes('bad_mailbox'), 'a bounce with its description, from a bookmark');
    await page.keyboard.press('Escape');

    // The test event.
    await page.goto(stack.url('/'));
    await page.waitForSelector('#status[data-state="live"]');
    // Whether it is offered comes from /api/health, asked at start-up.
    await page.waitForSelector('#test-event', { state: 'visible', timeout: 15000 }).catch(() => {});
    t.ok(await page.isVisible('#test-event'), 'the test-event control is offered when allowed');
    await page.click('#test-event');
    await page.waitForSelector('#opens li:has-text("test@example.com")', { timeout: 15000 });
    t.ok(true, 'it stores and pushes a sample open');

    const home = process.env.MAILHOOKS_HOME || stack.home;
    fs.mkdirSync(path.join(home, 'screenshots'), { recursive: true });
    const shot = path.join(home, 'screenshots', 'page.png');
    await page.screenshot({ path: shot, fullPage: true });
    t.note('screenshot: ' + shot);

    // Where it is not allowed, it is not there.
    const plain = new Stack();
    await plain.start();
    try {
      await plain.signInContext(context);
      const p2 = await context.newPage();
      await p2.goto(plain.url('/'));
      await p2.waitForSelector('#status[data-state="live"]');
      t.ok(await p2.isHidden('#test-event'), 'no test-event control by default');
      const res = await plain.api('/api/test-event', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
      t.is(res.status, 404, 'and the route is off');
    } finally {
      await plain.stop();
      plain.cleanup();
    }
    t.ok(errors.length === 0, 'no uncaught script error', errors.join('\n'));
  } finally {
    if (browser) await browser.close();
    await stack.stop();
    stack.cleanup();
  }
}

const t = new Tap();
main(t).catch((e) => t.bail(e)).finally(() => t.done());
