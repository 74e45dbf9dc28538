#!/usr/bin/env node
// The events page as an activity tool (issue 22, its first part), in
// Chromium at 1280x800 and 390x844 after 200 events: the live opens a
// bounded strip, so that the table is on the first screen; rows with the
// provider, the place, the URL and the tags, an absolute time in the
// browser's zone (the relative one on hover), the message id shortened;
// an Infobip row reads its callbackData's qj_subject; no type pill wider
// than its box; one Tab reaches a skip link to the table; a summary count
// filters by its type, and the CSV export follows; an unknown message is
// said in the dialog; filters tried while the server cannot be reached
// keep the rows and say so; dark mode follows the system. And its second
// part: a message's clicks per link, an event's raw request and its
// reprocessing; search; the range presets kept in the URL; the chart;
// the rates by tag; the refused banner and view; erased rows dropped
// live. And issue 32's: the rows newest event time first, an event of
// 2024 stored last not among them; the columns sort; the chart's axis
// dated, and it and the rates following the search; on a phone the rows
// are cards and a tap opens the message; in dark mode the banner's link
// and the chart's axes keep AA contrast. Its screenshots (the README's
// among them) go to MAILHOOKS_HOME/screenshots.
'use strict';

const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');
const { Stack, event, Tap, sleep, CHROMIUM_ARGS } = require('./stack');

const KEY = 'activity-key';
const TOKEN = 'ib-activity-token';

async function seed(stack) {
  const now = Math.floor(Date.now() / 1000);
  const batch = [];
  for (let i = 0; i < 200; i++) {
    const type = ['send', 'delivered', 'open', 'click'][i % 4];
    const ev = event({ type, id: 'a1b2c3d4e5f60718293a4b5c6d7e8f9' + (i % 10), email: `reader${i}@example.com`,
      subject: 'Newsletter ' + i, ts: now - 4000 + i,
      location: type === 'open' ? { city: 'Lisbon', country: 'Portugal' } : null });
    ev.msg.tags = ['weekly'];
    if (type === 'click') ev.url = 'https://example.com/read/' + i;
    batch.push(ev);
  }
  return stack.postMandrill(batch);
}

async function postInfobip(stack) {
  const body = fs.readFileSync(path.resolve(__dirname, '../fixtures/infobip/delivered_dict.json'));
  const r = await fetch(stack.url('/webhooks/infobip?token=' + TOKEN), { method: 'POST',
    headers: { 'Content-Type': 'application/json' }, body });
  return r.status;
}

// A screenshot into MAILHOOKS_HOME/screenshots (make test's: var/); its path.
async function shoot(page, name, fullPage = false) {
  const dir = path.join(process.env.MAILHOOKS_HOME || require('os').tmpdir(), 'screenshots');
  fs.mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, name), fullPage });
  return path.join(dir, name);
}

async function onFirstScreen(page) {
  return page.evaluate(() => {
    const row = document.querySelector('#events-body tr');
    return row !== null && row.getBoundingClientRect().top < window.innerHeight;
  });
}

async function main(t) {
  const stack = new Stack({ MANDRILL_WEBHOOK_KEY: KEY, INFOBIP_WEBHOOK_TOKEN: TOKEN });
  let browser;
  try {
    await stack.start();
    t.is((await seed(stack)).status, 200, '200 events posted');
    t.is(await postInfobip(stack), 200, 'and an Infobip delivery');
    for (let i = 0; i < 100; i++) {
      if ((await (await stack.api('/api/health')).json()).last_seq >= 201) break;
      await sleep(50);
    }
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    const context = await stack.context(browser, { viewport: { width: 1280, height: 800 }, timezoneId: 'Europe/Lisbon' });
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(stack.url('/'));
    await page.waitForSelector('#events-body tr', { timeout: 10000 });
    await page.waitForFunction(() => document.querySelectorAll('#opens li').length >= 20);
    t.ok(await onFirstScreen(page), 'at 1280x800 the table is on the first screen, under the opens');

    // Rows: provider, place, URL, tags; the time absolute, in the zone.
    const click = page.locator('#events-body tr:has(.type-click)').first();
    const text = await click.textContent();
    t.ok(text.includes('mandrill') && text.includes('https://example.com/read/') && text.includes('weekly'),
      'a click row shows its provider, its URL and its tags');
    // Values from a webhook are isolated for the bidi algorithm (FSI ... PDI).
    const plain = (x) => x.replace(/[\u2068\u2069]/g, '');
    const open = plain(await page.locator('#events-body tr:has(.type-open)').first().textContent());
    t.ok(open.includes('Lisbon, Portugal'), 'an open row shows its place: ' + open);
    const time = page.locator('#events-body tr time').first();
    t.ok(/WE(S|ST)T|GMT|UTC/.test(await time.textContent()), 'the time is absolute, its zone named: ' +
      await time.textContent());
    t.ok(/ago|just now|\//.test(await time.getAttribute('title')), 'the relative time on hover');
    const id = await page.locator('#events-body tr button[data-message]').first().textContent();
    t.ok(id.length <= 9 && id.endsWith('\u2026'), 'the message id shortened: ' + id);
    // Newest event time first: the Infobip report of 2024, stored last,
    // is not on the first page; searched for, it is.
    t.is(await page.locator('#events-body tr:has-text("infobip")').count(), 0,
      'the Infobip report of 2024, stored last, is not among the newest by time');
    const shownTs = await page.$$eval('#events-body tr', (rows) => rows.map((r) => Number(r.dataset.ts)));
    t.ok(shownTs.every((x, i) => i === 0 || shownTs[i - 1] >= x), 'the rows newest event time first');
    await page.goto(stack.url('/?q=agora'));
    await page.waitForSelector('#events-body tr:has-text("infobip")', { timeout: 10000 });
    t.is(await page.locator('#events-body tr:has-text("infobip")').count(), 5, 'the Infobip report\'s five rows');
    const ib = plain(await page.locator('#events-body tr:has-text("infobip") td:nth-child(4)').first().textContent());
    t.ok(/, agora voc\u00ea pode contar/.test(ib), 'an Infobip row\'s subject: its callbackData\'s qj_subject: ' + ib);
    await page.goto(stack.url('/'));
    await page.waitForSelector('#events-body tr', { timeout: 10000 });

    // No pill wider than its box.
    const over = await page.$$eval('.type', (els) => els.filter((e) => e.scrollWidth > e.clientWidth + 1 ||
      e.getClientRects().length > 1).length);
    t.is(over, 0, 'no type pill overflows or breaks');

    // The skip link: one Tab, then Enter reaches the table.
    await page.evaluate(() => document.activeElement && document.activeElement.blur());
    await page.keyboard.press('Tab');
    t.is(await page.evaluate(() => document.activeElement.id), 'skip', 'the first Tab is the skip link');
    await page.keyboard.press('Enter');
    t.is(await page.evaluate(() => document.activeElement.id), 'events-title', 'Enter goes to the events');

    // Its columns sort: by type, then back by time.
    await page.click('#events th[data-sort="type"] button');
    t.is(await page.getAttribute('#events th[data-sort="type"]', 'aria-sort'), 'ascending', 'sorted by type: said');
    const types = await page.$$eval('#events-body tr', (rows) => rows.map((r) => r.dataset.type));
    t.ok(types.every((x, i) => i === 0 || types[i - 1].localeCompare(x) <= 0), 'the rows by type: ' + [...new Set(types)].join(','));
    await page.click('#events th[data-sort="type"] button');
    t.is(await page.getAttribute('#events th[data-sort="type"]', 'aria-sort'), 'descending', 'again: the other way');
    await page.click('#events th[data-sort="time"] button');
    t.is(await page.getAttribute('#events th[data-sort="time"]', 'aria-sort'), 'descending', 'by time: newest first again');

    // A summary count filters by its type.
    await page.click('#stats button[data-stat-type="click"]');
    await page.waitForFunction(() => [...document.querySelectorAll('#events-body .type')].every((e) => e.textContent === 'click'));
    t.ok(/type=click/.test(page.url()), 'clicking the clicks count: the table shows clicks, kept in the URL');
    t.is(await page.getAttribute('#stats li[data-type="click"]', 'aria-current'), 'true', 'the count says it is on');
    t.ok(/api\/events\.csv\?type=click$/.test(await page.getAttribute('#export-csv', 'href')),
      'the CSV export carries the filter');
    const csv = await (await page.request.get(stack.url('/' + await page.getAttribute('#export-csv', 'href')))).text();
    t.ok(csv.startsWith('seq,') && csv.split('\r\n').filter((l) => /^\d+,/.test(l))
      .every((l) => l.split(',')[4] === 'click'), 'and downloads the clicks as CSV');

    // Offline: the rows stay, and the page says they may be stale.
    const before = await page.locator('#events-body tr').count();
    await context.setOffline(true);
    await page.selectOption('#f-type', 'open');
    await page.click('#filters button[type="submit"]');
    await page.waitForSelector('#events-stale:visible', { timeout: 15000 });
    t.is(await page.locator('#events-body tr').count(), before, 'offline, a new filter keeps the rows');
    t.ok((await page.textContent('#events-stale')).includes('may be stale'), 'and says they may be stale');
    await context.setOffline(false);

    // A message's clicks per link, in its dialog.
    await page.goto(stack.url('/'));
    await page.waitForSelector('#events-body tr', { timeout: 10000 });
    await page.locator('#events-body tr:has(.type-click) button[data-message]').first().click();
    await page.waitForSelector('#message-links li', { timeout: 15000 });
    const links = await page.$$eval('#message-links li', (lis) => lis.map((li) => li.textContent));
    t.ok(links.length === 10 && links.every((x) => /^https:\/\/example\.com\/read\/\d+ 1 click$/.test(x)),
      'a message\'s dialog lists the clicks of each of its 10 links: ' + JSON.stringify(links));
    // An admin sees an event's raw request there, and can reprocess it.
    await page.locator('#message-timeline .raw-button').first().click();
    await page.waitForFunction(() => /mandrill_events=/.test(document.getElementById('message-raw').textContent));
    await page.click('#message-raw .reprocess');
    await page.waitForFunction(() => /Reprocessed: 0 new events/.test(document.getElementById('message-admin-note').textContent));
    t.ok(/mandrill_events=%5B/.test(await page.textContent('#message-raw')),
      'an event\'s raw request shows its body as it came; reprocessing it stores nothing twice');
    await page.keyboard.press('Escape');

    // An unknown message: said in the dialog.
    await page.goto(stack.url('/?message=no-such-message'));
    await page.waitForSelector('#message[open]', { timeout: 15000 });
    t.is(await page.textContent('#message-title'), 'Unknown message', 'an unknown message: the dialog says so');
    t.ok((await page.textContent('#message-meta')).includes('no-such-message'), 'naming it');
    await page.keyboard.press('Escape');

    // Search narrows: part of an address.
    await page.goto(stack.url('/'));
    await page.waitForSelector('#events-body tr', { timeout: 10000 });
    await page.fill('#f-q', 'ADER19');
    await page.click('#filters button[type="submit"]');
    await page.waitForFunction(() => document.querySelectorAll('#events-body tr').length === 11);
    const found = await page.$$eval('#events-body tr td:nth-child(3)', (tds) => tds.map((td) => td.textContent));
    t.ok(found.every((x) => /^\u2068?reader19\d?@example\.com/.test(x)), 'searching "ADER19": reader19 and reader190-199, 11 rows');
    t.ok(/q=ADER19/.test(page.url()), 'the search kept in the URL');

    // The range: presets, kept in the URL.
    await page.fill('#f-q', '');
    await page.selectOption('#f-range', '1h');
    await page.click('#filters button[type="submit"]');
    await page.waitForFunction(() => document.querySelectorAll('#events-body tr:has(.type-open)').length === 0 &&
      !document.getElementById('events-empty').hidden || document.querySelectorAll('#events-body tr').length < 5);
    t.is(await page.locator('#events-body tr:has-text("mandrill")').count(), 0, 'the last hour: none of the events of 67 minutes ago');
    t.ok(/range=1h/.test(page.url()), 'the preset kept in the URL');
    await page.selectOption('#f-range', '24h');
    await page.click('#filters button[type="submit"]');
    await page.waitForFunction(() => document.querySelectorAll('#events-body tr').length >= 50);
    t.ok(/range=24h/.test(page.url()), 'the last 24 hours: the rows are back, kept in the URL');
    await page.reload();
    await page.waitForSelector('#events-body tr', { timeout: 10000 });
    t.is(await page.inputValue('#f-range'), '24h', 'reloaded, the range is still chosen');

    // The chart of the range: drawn, its series told apart by more than colour.
    await page.waitForSelector('#chart canvas', { timeout: 10000 });
    await page.waitForFunction(() => /sent/.test(document.getElementById('chart-note').textContent));
    const note = await page.textContent('#chart-note');
    t.ok(/Per hour/.test(note) && /50 sent/.test(note) && /50 opened/.test(note) && /50 clicked/.test(note),
      'the chart draws the 24 hours by hour, its totals said: ' + note);
    const legend = await page.textContent('#chart .u-legend');
    t.ok(['sent', 'delivered', 'opened', 'clicked'].every((x) => legend.includes(x)), 'its legend names each line');
    const box = await page.locator('#chart canvas').boundingBox();
    t.ok(box && box.width > 200 && box.height > 100, 'the canvas has a size: ' + JSON.stringify(box));
    // Its time axis: by hour, the date where the day changes; by day, a
    // label a day at most.
    const hourly = (await page.getAttribute('#chart', 'data-x-labels')).split('|');
    t.ok(/\n/.test(hourly[0]) && /[A-Za-z]/.test(hourly[0]), 'by hour: the first label has its date: ' +
      JSON.stringify(hourly.slice(0, 3)));
    await page.selectOption('#f-range', '30d');
    await page.click('#filters button[type="submit"]');
    await page.waitForFunction(() => /Per day/.test(document.getElementById('chart-note').textContent), null,
      { timeout: 10000 }).catch(() => {});
    const daily = ((await page.getAttribute('#chart', 'data-x-labels')) || '').split('|');
    t.ok(/Per day/.test(await page.textContent('#chart-note')) && daily.length > 1 &&
      new Set(daily).size === daily.length, 'by day: no label twice: ' + JSON.stringify(daily));
    await page.selectOption('#f-range', '24h');
    await page.click('#filters button[type="submit"]');
    await page.waitForFunction(() => /Per hour/.test(document.getElementById('chart-note').textContent), null,
      { timeout: 10000 }).catch(() => {});

    // The rates follow the search (reader199: one message's summary).
    await page.goto(stack.url('/?q=reader199&range=24h'));
    await page.locator('#by-table').scrollIntoViewIfNeeded();
    await page.waitForFunction(() => [...document.querySelectorAll('#by-body tr td:nth-child(2)')].some((td) => td.textContent === '1'),
      null, { timeout: 10000 }).catch(() => {});
    const byRows = await page.$$eval('#by-body tr', (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
    t.ok(byRows.length === 1 && byRows[0][0] === 'weekly' && byRows[0][1] === '1',
      'the rates follow the search: ' + JSON.stringify(byRows));
    // A screenshot of the page at work, at 1280x800, searching (the
    // README's): the table, the chart and the rates follow the search.
    await page.goto(stack.url('/?q=reader19&range=24h'));
    await page.waitForFunction(() => document.querySelectorAll('#events-body tr').length === 11);
    await page.locator('#by-table').scrollIntoViewIfNeeded();
    await page.waitForSelector('#by-body tr', { timeout: 10000 });
    await page.evaluate(() => window.scrollTo(0, 0));
    t.note('screenshot: ' + await shoot(page, 'activity-1280.png', true));
    await page.goto(stack.url('/?range=24h'));
    await page.waitForSelector('#chart canvas', { timeout: 10000 });

    // Rates by tag: read once their section is seen, not at each opening.
    const byAsked = [];
    page.on('request', (r) => { if (r.url().includes('/api/stats/by')) byAsked.push(r.url()); });
    await page.reload();
    await page.waitForSelector('#chart canvas', { timeout: 10000 });
    await sleep(500);
    t.is(byAsked.length, 0, 'the rates are not read while out of sight');
    await page.locator('#by-table').scrollIntoViewIfNeeded();
    await page.waitForSelector('#by-body tr', { timeout: 10000 });
    t.is(byAsked.length, 1, 'scrolled to, they are read, once');
    const weekly = await page.$$eval('#by-body tr', (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
    t.ok(weekly.some((r) => r[0] === 'weekly' && r[1] === '10'), 'rates by tag: weekly, its 10 messages: ' + JSON.stringify(weekly));

    // A badly signed webhook: the banner says so, and the refused view lists it.
    const bad = await fetch(stack.url('/webhooks/mandrill'), { method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Mandrill-Signature': 'bm90IGl0' },
      body: 'mandrill_events=%5B%5D' });
    t.is(bad.status, 403, 'a badly signed webhook is refused');
    await page.reload();
    await page.waitForSelector('#refused-banner:visible', { timeout: 10000 });
    const banner = await page.textContent('#refused-banner');
    t.ok(/1 webhook refused in the last hour: X-Mandrill-Signature does not match/.test(banner) &&
      /check MANDRILL_WEBHOOK_URL/.test(banner), 'the banner: ' + banner);
    await page.click('#refused-banner a');
    await page.waitForSelector('#refused-body tr', { timeout: 15000 });
    t.ok(/bad_signature/.test(await page.textContent('#refused-body tr')), 'the refused view lists it');
    await page.click('#view-events');

    // Erasing a recipient: another page showing its rows drops them live.
    const other = await context.newPage();
    await other.goto(stack.url('/?q=reader19'));
    await other.waitForFunction(() => document.querySelectorAll('#events-body tr').length === 11);
    await other.waitForSelector('#status[data-state="live"]', { timeout: 10000 });
    const er = await stack.api('/api/recipients/reader190%40example.com', { method: 'DELETE' });
    t.is((await er.json()).erased.events, 1, 'reader190 erased');
    await other.waitForFunction(() => document.querySelectorAll('#events-body tr').length === 10, null, { timeout: 15000 });
    t.is(await other.locator('#events-body tr:has-text("reader190@")').count(), 0, 'the live page drops its row');
    await other.close();

    // Machine opens marked, and filtered (issue 33): Apple's prefetch and
    // Gmail's proxy arrive live.
    const mpp = event({ type: 'open', id: 'mpp-1', email: 'mpp@example.com', subject: 'Prefetched' });
    mpp.user_agent = 'Mozilla/5.0';
    mpp.ip = '17.58.63.101';
    const viaGmail = event({ type: 'open', id: 'gm-1', email: 'gm@example.com', subject: 'Opened in Gmail',
      location: { city: 'Mountain View', country: 'United States' } });
    viaGmail.user_agent = 'Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)';
    viaGmail.ip = '66.249.84.36';
    await stack.postMandrill([mpp, viaGmail]);
    await page.waitForSelector('#events-body tr:has-text("mpp@example.com") .machine', { timeout: 15000 });
    t.is(await page.textContent('#events-body tr:has-text("mpp@example.com") .machine'), 'machine: Apple prefetch',
      "Apple's prefetch: a badge, in words");
    await page.waitForSelector('#events-body tr:has-text("gm@example.com") .proxy', { timeout: 15000 });
    const gmRow = await page.textContent('#events-body tr:has-text("gm@example.com")');
    t.ok(gmRow.includes('via Gmail') && !gmRow.includes('Mountain View'), "Gmail's: a person's, via Gmail, Google's place not shown");
    t.is(await page.locator('#opens li:has-text("mpp@example.com") .machine').count(), 1, '... marked in the live opens too');
    await page.selectOption('#f-machine', '1');
    await page.click('#filters button[type="submit"]');
    await page.waitForFunction(() => document.querySelectorAll('#events-body tr').length === 1);
    t.ok(/machine=1/.test(page.url()) && (await page.textContent('#events-body')).includes('mpp@example.com'),
      'filtered to machines: only it, kept in the URL');
    await page.selectOption('#f-machine', '');
    await page.click('#filters button[type="submit"]');
    await page.waitForFunction(() => document.querySelectorAll('#events-body tr').length > 10);
    // The counts: opens are people's; the machines' apart, a count that
    // filters to them.
    await page.reload();
    await page.waitForSelector('#stats button[data-stat-machine]', { timeout: 15000 });
    t.is(await page.textContent('#stats button[data-stat-machine] .v'), '1', "a count of the machines' opens apart");
    await page.click('#stats button[data-stat-machine]');
    await page.waitForFunction(() => document.querySelectorAll('#events-body tr').length === 1);
    t.ok(/machine=1/.test(page.url()), '... which shows only theirs');
    await page.click('#stats button[data-stat-machine]');
    await page.waitForFunction(() => document.querySelectorAll('#events-body tr').length > 10);

    // A phone.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(stack.url('/'));
    await page.waitForSelector('#events-body tr', { timeout: 10000 });
    await page.waitForFunction(() => document.querySelectorAll('#opens li').length >= 20);
    t.ok(await onFirstScreen(page), 'at 390x844 the table is on the first screen too');
    t.note('screenshot: ' + await shoot(page, 'activity-390.png'));
    t.ok(await page.isVisible('#events-body tr td:nth-child(4)'), 'the subject stays on a phone');
    t.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1), 'nothing wider than it');
    const overPhone = await page.$$eval('.type', (els) => els.filter((e) => e.getClientRects().length > 1 ||
      e.scrollWidth > e.clientWidth + 1).length);
    t.is(overPhone, 0, 'no pill breaks inside a word on a phone');
    // The rows are cards, each line named; a tap opens the message.
    t.is(await page.$eval('#events-body tr', (r) => getComputedStyle(r).display), 'block', 'a row is a card');
    t.is(await page.$eval('#events-body tr td:nth-child(4)', (td) => td.dataset.label), 'Subject',
      '... each line led by its column\'s name');
    t.ok(await page.isVisible('#events-body tr button[data-message]'), '... the message shown too');
    await page.click('#events-body tr:has(.type-open) td:nth-child(3)');
    await page.waitForSelector('#message[open]', { timeout: 10000 });
    t.ok(/message=/.test(page.url()), 'tapping an event opens its message');
    await page.keyboard.press('Escape');
    await page.waitForSelector('#message', { state: 'hidden' });
    await page.goto(stack.url('/#refused'));
    await page.waitForSelector('#refused-body tr', { timeout: 15000 });
    t.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1),
      'the refused view fits a phone');
    const cut = await page.$$eval('#refused-body td', (tds) => tds.filter((td) => td.scrollWidth > td.clientWidth + 1).length);
    t.is(cut, 0, 'its rows readable: no cell wider than its card');
    await page.goto(stack.url('/'));
    await page.waitForSelector('#events-body tr', { timeout: 10000 });

    // Dark mode.
    await page.emulateMedia({ colorScheme: 'dark' });
    const bg = await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
    const rgb = (bg.match(/\d+/g) || []).slice(0, 3).map(Number);
    t.ok(rgb.length === 3 && rgb.reduce((a, b) => a + b) < 150, 'dark mode from prefers-color-scheme: ' + bg);
    // WCAG AA: 4.5:1 for the banner's link and the chart's axis labels.
    const contrast = (a, b) => page.evaluate(([x, y]) => {
      const lum = (c) => {
        const v = (c.match(/\d+(\.\d+)?/g) || []).slice(0, 3).map((n) => {
          const s = Number(n) / 255;
          return s <= 0.03928 ? s / 12.92 : Math.pow((s + 0.055) / 1.055, 2.4);
        });
        return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2];
      };
      const [l1, l2] = [lum(x), lum(y)].sort((p, q) => q - p);
      return (l1 + 0.05) / (l2 + 0.05);
    }, [a, b]);
    await page.waitForSelector('#refused-banner:visible', { timeout: 10000 });
    const link = await page.$eval('#refused-banner a', (a) => getComputedStyle(a).color);
    const under = await page.$eval('#refused-banner', (b) => getComputedStyle(b).backgroundColor);
    const cl = await contrast(link, under);
    t.ok(cl >= 4.5, `dark mode: the banner's link ${link} on ${under}: ${cl.toFixed(2)}:1`);
    await page.waitForFunction(() => /^rgb\((2[0-9][0-9]|1[5-9][0-9])/.test(document.getElementById('chart').dataset.axisInk || ''),
      null, { timeout: 10000 }).catch(() => {});
    const ink = await page.$eval('#chart', (c) => c.dataset.axisInk || '');
    const chartBg = await page.evaluate(() => {
      for (let e = document.getElementById('chart'); e; e = e.parentElement) {
        const c = getComputedStyle(e).backgroundColor;
        if (c && !/rgba\(0, 0, 0, 0\)|transparent/.test(c)) return c;
      }
      return getComputedStyle(document.documentElement).backgroundColor;
    });
    const ca = await contrast(ink, chartBg);
    t.ok(ca >= 4.5, `dark mode: the chart's axis labels ${ink} on ${chartBg}: ${ca.toFixed(2)}:1`);
    t.ok(errors.length === 0, 'no uncaught script error', errors.join('\n'));
  } finally {
    if (browser) await browser.close();
    await stack.stop();
    stack.cleanup();
  }
}

const t = new Tap();
main(t).catch((e) => t.bail(e)).finally(() => t.done());
