#!/usr/bin/env node
// /docs/: Swagger UI over www/openapi.json, in Chromium, under the page's
// Content-Security-Policy (no inline script, no style but the site's):
// it loads with no error in the console, lists every operation the
// description has, and "Try it out" on GET /api/events gets a 200 from
// this same site, with the events.
'use strict';

const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');
const { Stack, event, Tap, CHROMIUM_ARGS } = require('./stack');

const spec = JSON.parse(fs.readFileSync(path.join(__dirname, '../../www/openapi.json'), 'utf8'));

async function main(t) {
  const stack = new Stack();
  let browser;
  try {
    await stack.start();
    const posted = await stack.postMandrill([event({ id: 'docs-1', email: 'docs@example.com' })]);
    t.is(posted.status, 200, 'an event is stored');

    const spec200 = await fetch(stack.url('/openapi.json'));
    t.is(spec200.status, 200, 'GET /openapi.json: 200');
    t.ok(/^application\/json/.test(spec200.headers.get('content-type') || ''), 'as JSON');
    t.is(JSON.stringify(await spec200.json()), JSON.stringify(spec), 'the description in the repository');

    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    const page = await (await stack.context(browser)).newPage();
    const problems = [];
    page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
    page.on('pageerror', (e) => problems.push(String(e)));
    const r = await page.goto(stack.url('/docs/'));
    t.is(r.status(), 200, 'GET /docs/: 200');
    t.ok(/script-src 'self'/.test(r.headers()['content-security-policy'] || ''),
      'under the page\'s Content-Security-Policy');
    await page.waitForSelector('.opblock', { timeout: 20000 });

    const shown = await page.$$eval('.opblock', (blocks) => blocks.map((b) =>
      `${b.querySelector('.opblock-summary-method').textContent.trim()} ${
        b.querySelector('.opblock-summary-path').getAttribute('data-path')}`));
    const described = [];
    for (const [p, ops] of Object.entries(spec.paths))
      for (const m of Object.keys(ops)) described.push(`${m.toUpperCase()} ${p}`);
    t.is(JSON.stringify(shown.slice().sort()), JSON.stringify(described.slice().sort()),
      `every operation listed (${described.length})`);

    const op = page.locator('#operations-events-listEvents');
    await op.locator('.opblock-summary').click();
    await op.locator('button.try-out__btn').click();
    await op.locator('tr[data-param-name="limit"] input').fill('5');
    await op.locator('button.execute').click();
    await op.locator('.live-responses-table tbody .response-col_status').first().waitFor({ timeout: 15000 });
    const status = (await op.locator('.live-responses-table tbody .response-col_status').first().textContent()).trim();
    t.is(status, '200', 'Try it out on GET /api/events: 200');
    const url = await op.locator('.request-url pre').textContent();
    t.is(url.trim(), stack.url('/api/events?limit=5'), 'asked of this same site');
    const body = await op.locator('.live-responses-table .response-col_description pre').first().textContent();
    t.ok(body.includes('docs@example.com'), 'and the answer holds the stored event', body.slice(0, 200));
    t.is(JSON.stringify(problems), '[]', 'no error in the console (none from the CSP)');
  } finally {
    if (browser) await browser.close();
    await stack.stop();
    stack.cleanup();
  }
}

const t = new Tap();
main(t).catch((e) => t.bail(e)).finally(() => t.done());
