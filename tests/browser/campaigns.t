#!/usr/bin/env node
// The Campaigns view in Debian's Chromium, against a fake of the external
// API: an admin adds clients (a bad phone said in words, nothing added),
// finds one by phone and by tag, edits and deletes one; makes a campaign
// whose filter says how many clients it reaches before it is saved; the
// campaign's page counts its messages by status and the counts move live
// as the fake answers (slowly, two a second, so that they are seen
// moving), its messages with their attempts; it is edited, then deleted
// (kept, marked so); the view fits a phone and is reached by keyboard.
'use strict';

const { chromium } = require('playwright-core');
const { Stack, FakeCampaignApi, Tap, sleep, CHROMIUM_ARGS } = require('./stack');

async function waitFor(cond, ms) {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(100))
    if (await cond()) return true;
  return false;
}

async function addClient(page, phone, tag, tz) {
  await page.fill('#cl-phone', phone);
  await page.fill('#cl-tag', tag);
  await page.fill('#cl-tz', tz);
  await page.click('#cl-save');
  await page.waitForSelector(`#cl-note:has-text("Added ${phone}")`, { timeout: 15000 });
}

// The datetime-local value of a time ms from now, in the browser's zone.
function local(ms) {
  const d = new Date(Date.now() + ms);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

async function main(t) {
  const api = new FakeCampaignApi();
  await api.start();
  const stack = new Stack({ CAMPAIGN_API_URL: api.url, CAMPAIGN_API_TOKEN: 'page-token',
    CAMPAIGN_RATE: '2' });
  let browser;
  try {
    await stack.start();
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    const page = await (await stack.context(browser, { viewport: { width: 1280, height: 800 } })).newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('dialog', (d) => d.accept());
    await page.goto(stack.url('/#campaigns'));
    await page.waitForSelector('#campaigns-view:visible', { timeout: 10000 });
    t.ok(await page.isHidden('#events-view') && await page.isHidden('#outgoing-view'),
      'the campaigns are a view of their own');
    await page.waitForSelector('#status[data-state="live"]', { timeout: 10000 });

    // Clients: a bad phone said in words, nothing added; then five.
    await page.click('#cl-box-title');
    await page.fill('#cl-phone', '8 (900) 555-12-34');
    await page.fill('#cl-tz', 'Europe/Moscow');
    await page.click('#cl-save');
    await page.waitForSelector('#cl-error:has-text("phone has no country code")', { timeout: 15000 });
    t.ok(true, 'a national phone, no default region: said in words');
    t.is(await page.evaluate(() => document.activeElement.id), 'cl-phone', '... the phone field focused');
    t.is((await (await stack.api('/api/clients')).json()).clients.length, 0, 'nothing added');
    await page.fill('#cl-phone', '79001234567');
    await page.fill('#cl-tz', 'Mars/Olympus');
    await page.click('#cl-save');
    await page.waitForSelector('#cl-error:has-text("time zone")', { timeout: 15000 });
    t.ok(true, 'an unknown time zone: the server\'s words shown');
    t.is(await page.evaluate(() => document.activeElement.id), 'cl-tz', '... the time zone field focused');
    for (let i = 0; i < 5; i++)
      await addClient(page, '7900123456' + i, i < 4 ? 'vip' : 'std', ['Europe/Moscow', 'Asia/Vladivostok'][i % 2]);
    // The list is fetched again after each add: its last answer may come
    // after the note.
    await page.waitForFunction(() => document.querySelectorAll('#cl-body tr').length >= 5,
      null, { timeout: 15000 }).catch(() => {});
    t.is(await page.locator('#cl-body tr').count(), 5, 'five clients listed');
    t.ok(await page.isHidden('#campaign-sender-state'), 'its sender has the campaigns\' token: no banner');

    await page.fill('#cl-q', '79001234564');
    await page.press('#cl-q', 'Enter');
    await waitFor(async () => (await page.locator('#cl-body tr').count()) === 1, 15000);
    t.is(await page.textContent('#cl-body tr td:first-child'), '+79001234564', 'found by phone');
    await page.fill('#cl-q', 'vip');
    await page.press('#cl-q', 'Enter');
    t.ok(await waitFor(async () => (await page.locator('#cl-body tr').count()) === 4, 15000), 'found by tag: four');
    await page.click('#cl-clear');
    await waitFor(async () => (await page.locator('#cl-body tr').count()) === 5, 15000);

    // Edit one (its tag), delete another.
    await page.click('#cl-body tr:has-text("79001234564") button[data-edit-client]');
    t.is(await page.inputValue('#cl-phone'), '+79001234564', 'the edit form holds the client');
    await page.fill('#cl-tag', 'gold, beta');
    await page.click('#cl-save');
    await page.waitForSelector('#cl-note:has-text("Saved 79001234564")', { timeout: 15000 });
    t.ok((await page.textContent('#cl-body')).includes('gold, beta'), 'its new tags listed');
    await page.click('#cl-body tr:has-text("79001234563") button[data-delete-client]');
    t.ok(await waitFor(async () => (await page.locator('#cl-body tr').count()) === 4, 15000), 'one deleted');

    // An import: its upload's progress, then its counts and refused lines.
    const csvPath = require('path').join(stack.home, 'clients.csv');
    require('fs').writeFileSync(csvPath, 'phone,tags,timezone,email,operator_code\n' +
      '+1 212 555 0100,imp;ny,America/New_York,,\n+7 900 1,imp,Europe/Moscow,,\n' +
      '+44 20 7946 0958,imp,Europe/London,,\n');
    await page.click('#cl-import-box summary');
    await page.setInputFiles('#cl-file', csvPath);
    await page.click('#cl-import');
    await page.waitForSelector('#cl-import-note:has-text("2 added")', { timeout: 15000 });
    t.is(await page.getAttribute('#cl-import-progress', 'value'), '100', 'the import: its progress bar full');
    t.ok((await page.textContent('#cl-import-note')).includes('1 line refused'), '... 2 added, 1 line refused');
    t.ok((await page.textContent('#cl-import-errors')).includes('Line 3: phone is too short'),
      '... the refused line by its number, and why');
    await page.waitForFunction(() => document.querySelectorAll('#cl-body tr').length === 6, null, { timeout: 15000 });
    t.ok((await page.textContent('#cl-body')).includes('+12125550100'), 'the imported clients listed');
    const exported = await page.evaluate(async () => (await fetch('api/clients.csv')).text());
    t.is(exported.trim().split(/\r\n/).length, 7, 'Download all (CSV): the header and 6 clients');

    // A campaign: the filter says how many it reaches before saving.
    await page.click('#cp-box-title');
    await page.fill('#cp-tags', 'vip');
    await page.waitForSelector('#cp-audience[data-clients="3"]', { timeout: 15000 });
    t.ok(true, 'tag vip: "Matches 3 clients" before it is saved');
    await page.fill('#cp-tags', 'vip, gold');
    await page.waitForSelector('#cp-audience[data-clients="4"]', { timeout: 15000 });
    t.ok(true, 'vip or gold: 4');

    // The mail channel shows its subject and HTML; what is wrong is said
    // in words next to its field, which is focused; old messages go.
    t.ok(await page.isHidden('#cp-subject'), 'the API channel: no subject field');
    await page.selectOption('#cp-channel', 'mail');
    t.ok(await page.isVisible('#cp-subject') && await page.isVisible('#cp-html'),
      'the mail channel: its subject and HTML fields');
    await page.fill('#cp-start', local(-120000));
    await page.fill('#cp-end', local(3600000));
    await page.fill('#cp-text', 'Our sale starts today');
    await page.click('#cp-save');
    await page.waitForSelector('#cp-error:has-text("subject")', { timeout: 15000 });
    t.is(await page.evaluate(() => document.activeElement.id), 'cp-subject', 'no subject: said, its field focused');
    t.is(await page.evaluate(() => document.getElementById('cp-subject').nextElementSibling.id), 'cp-error',
      '... the words next to it');
    await page.selectOption('#cp-channel', 'api');
    await page.fill('#cp-end', local(-60000));
    await page.click('#cp-save');
    await page.waitForSelector('#cp-error:has-text("has passed")', { timeout: 15000 });
    t.is(await page.evaluate(() => document.activeElement.id), 'cp-end', 'an end passed (the server\'s 422): its field focused');
    const said = await page.textContent('#cp-error');
    t.ok(/^Not saved: The end /.test(said) && !said.includes('end_at'), 'in words, not field names: ' + said);
    t.is(await page.locator('[aria-invalid="true"]').count(), 1, 'only that field marked');
    await page.fill('#cp-start', local(-60000));
    await page.fill('#cp-end', local(3600000));
    await page.fill('#cp-text', 'Our sale starts today');
    api.modes('slow 1');
    await page.click('#cp-save');
    const opened = await waitFor(async () => (await page.locator('#campaign[open]').count()) === 1, 15000);
    t.ok(opened && /#campaigns:1$/.test(page.url()), 'saved, its page at #campaigns:1',
      `page at ${page.url()}, the form says: ${await page.textContent('#cp-error')}`);

    // Its counts move as the messages go, without a reload.
    const sent = () => page.textContent('#campaign-counts li[data-status="sent"] .v');
    const seen = new Set();
    t.ok(await waitFor(async () => { seen.add(await sent()); return (await sent()) === '4'; }, 20000),
      'its page counts 4 sent in the end');
    t.ok([...seen].map(Number).some((n) => n > 0 && n < 4), 'counted on the way, live: ' + [...seen].join(', '));
    t.is(api.requests().length, 4, 'the API got 4 requests');
    await waitFor(async () => (await page.locator('#campaign-messages li .detail:has-text("HTTP 200")').count()) === 4, 15000);
    t.is(await page.locator('#campaign-messages li .detail:has-text("HTTP 200")').count(), 4,
      'its messages, each with its attempt');
    const to = (await page.locator('#campaign-messages li').allTextContents()).join(' ');
    t.ok(['79001234560', '79001234561', '79001234562'].every((p) => to.includes('to ' + p)),
      'each message says the phone it went to, not a client\'s id: ' + to.slice(0, 120));
    await page.selectOption('#campaign-status', 'pending');
    await page.waitForSelector('#campaign-messages li.empty', { timeout: 15000 });
    t.ok(true, 'filtered by status: none pending');
    await page.keyboard.press('Escape');
    await page.waitForSelector('#campaign', { state: 'hidden' });
    t.ok(await waitFor(() => /#campaigns$/.test(page.url()), 3000), 'closed: back at #campaigns');
    await page.waitForSelector('#cp-body tr[data-campaign="1"]:has(.s-running):has-text("4 sent of 4")',
      { timeout: 15000 });
    t.ok(true, 'the list shows its status and progress');

    // Edit it (its text), then delete it: kept, marked deleted.
    await page.click('#cp-body tr[data-campaign="1"] button[data-edit-campaign]');
    t.is(await page.inputValue('#cp-text'), 'Our sale starts today', 'the edit form holds the campaign');
    t.ok(await waitFor(async () => (await page.getAttribute('#cp-audience', 'data-clients')) === '4', 15000),
      'and says whom its filter reaches');
    await page.fill('#cp-text', 'Our sale ends tonight');
    await page.click('#cp-save');
    await page.waitForSelector('#campaign[open] #campaign-text:has-text("Our sale ends tonight")', { timeout: 15000 });
    t.is((await (await stack.api('/api/campaigns/1')).json()).text, 'Our sale ends tonight', 'saved: its new text');
    await page.keyboard.press('Escape');
    await page.waitForSelector('#campaign', { state: 'hidden' });
    await page.click('#cp-body tr[data-campaign="1"] button[data-delete-campaign]');
    await page.waitForSelector('#cp-body tr[data-campaign="1"] .s-deleted', { timeout: 15000 });
    t.is(await page.locator('#cp-body tr[data-campaign="1"] button[data-edit-campaign]').count(), 0,
      'deleted: listed as such, its counts kept, no more edits');

    // A phone, and the keyboard.
    await page.setViewportSize({ width: 390, height: 844 });
    t.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1),
      'the view fits a phone');
    t.is(await page.$eval('#cp-body tr', (r) => getComputedStyle(r).display), 'block', 'a campaign\'s row is a card');
    t.is(await page.$eval('#cl-body tr td:nth-child(1)', (td) => td.dataset.label), 'Phone', 'a client\'s lines named');
    await page.focus('#cl-q');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    t.is(await page.evaluate(() => document.activeElement.id), 'cl-export',
      'the keyboard goes from the search to the download');
    await page.keyboard.press('Tab');
    t.is(await page.evaluate(() => document.activeElement.id), 'cl-box-title',
      '... then to the client form');
    t.ok(errors.length === 0, 'no uncaught script error', errors.join('\n'));
  } finally {
    if (browser) await browser.close();
    await stack.stop();
    stack.cleanup();
    api.stop();
  }
}

const t = new Tap();
main(t).catch((e) => t.bail(e)).finally(() => t.done());
