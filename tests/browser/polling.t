#!/usr/bin/env node
// Without a relay (as on shared hosting) the page notices that /ws is not
// there, says so, and polls /api/events?after=SEQ (and the bell its
// notifications); when a relay appears it goes back to live, with no
// event missed or shown twice.
'use strict';

const { chromium } = require('playwright-core');
const { Stack, event, Tap, sleep, CHROMIUM_ARGS } = require('./stack');

async function statusOf(page) {
  return page.$eval('#status', (el) => el.dataset.state);
}

async function main(t) {
  const stack = new Stack({ MAILHOOKS_RELAY: '0' });
  let browser;
  try {
    await stack.start();
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    const page = await (await stack.context(browser)).newPage();
    await page.goto(stack.url('/'));
    await page.waitForSelector('#status[data-state="polling"]', { timeout: 15000 });
    t.ok(/polling/.test(await page.textContent('#status')), 'no relay: the indicator says polling');

    let r = await stack.postMandrill([event({ id: 'p-1', email: 'polled@example.com', subject: 'Polled' })]);
    t.is(r.status, 200, 'an open is posted');
    await page.waitForSelector('#opens li:has-text("polled@example.com")', { timeout: 10000 });
    t.ok(true, 'it appears by polling');
    t.is(await statusOf(page), 'polling', 'still polling');
    const n = await stack.api('/api/notifications', { method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ user_id: 'admin', title: 'Polled too', identifier: 'X' }) });
    t.is(n.status, 201, 'a notification for the signed-in user');
    await page.waitForSelector('#bell-count:has-text("1")', { timeout: 15000 });
    t.ok(true, 'the bell counts it without a relay');

    stack.startRelay();
    await page.waitForSelector('#status[data-state="live"]', { timeout: 20000 });
    t.ok(true, 'a relay appears: back to live');
    r = await stack.postMandrill([event({ id: 'p-2', email: 'live@example.com', subject: 'Live again' })]);
    await page.waitForSelector('#opens li:has-text("live@example.com")', { timeout: 15000 });
    t.ok(true, 'a new open arrives live');
    await sleep(3500);
    const seqs = await page.$$eval('#events-body tr', (rows) => rows.map((x) => Number(x.dataset.seq)));
    t.is(JSON.stringify(seqs), '[2,1]', 'each event once, newest first');
  } finally {
    if (browser) await browser.close();
    await stack.stop();
    stack.cleanup();
  }
}

const t = new Tap();
main(t).catch((e) => t.bail(e)).finally(() => t.done());
