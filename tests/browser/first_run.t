#!/usr/bin/env node
// The first run, in Chromium: an empty store shows the webhook URLs to
// paste into Mandrill and Infobip (this site's, as the browser reached
// it), each with a copy button that puts it on the clipboard, and the
// test event; once an event arrives, the panel goes.
'use strict';

const { chromium } = require('playwright-core');
const { Stack, Tap, CHROMIUM_ARGS } = require('./stack');

async function main(t) {
  const stack = new Stack({ MAILHOOKS_TEST_EVENTS: '1' });
  let browser;
  try {
    await stack.start();
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    const context = await stack.context(browser, { viewport: { width: 1280, height: 800 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: stack.url('') });
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(stack.url('/'));
    await page.waitForSelector('#first-run:visible', { timeout: 15000 });
    t.ok(true, 'an empty store: the first-run panel');
    t.is(await page.textContent('#url-mandrill'), stack.url('/webhooks/mandrill'), 'Mandrill\'s URL, this site\'s');
    t.is(await page.textContent('#url-infobip'), stack.url('/webhooks/infobip'), 'Infobip\'s');
    await page.click('#first-run button[data-copy="url-mandrill"]');
    t.is(await page.evaluate(() => navigator.clipboard.readText()), stack.url('/webhooks/mandrill'),
      'Copy puts it on the clipboard');
    t.ok(await page.isVisible('#first-run-send'), 'the test event offered');
    await page.click('#first-run-send');
    await page.waitForSelector('#events-body tr', { timeout: 15000 });
    await page.waitForSelector('#first-run', { state: 'hidden', timeout: 15000 });
    t.ok(true, 'the test event arrives, and the panel goes');
    await page.reload();
    await page.waitForSelector('#events-body tr', { timeout: 15000 });
    t.ok(await page.isHidden('#first-run'), 'a store with events: no panel');
    await page.setViewportSize({ width: 390, height: 844 });
    t.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1), 'it fits a phone');
    t.ok(errors.length === 0, 'no uncaught script error', errors.join('\n'));
  } finally {
    if (browser) await browser.close();
    await stack.stop();
    stack.cleanup();
  }
}

const t = new Tap();
main(t).catch((e) => t.bail(e)).finally(() => t.done());
