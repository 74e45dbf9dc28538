#!/usr/bin/env node
// The Outgoing view in Debian's Chromium, against a fake Mandrill: the
// compose form sends a mail that the fake receives, its row turns "sent"
// live, the mail's page shows the recipients with Mandrill's answer, the
// attempts and the events that came back; a bad address is said in
// words, nothing queued; a key Mandrill refuses shows a banner; a viewer
// has no form; the view fits a phone.
'use strict';

const { chromium } = require('playwright-core');
const { Stack, FakeMandrill, event, Tap, sleep, CHROMIUM_ARGS } = require('./stack');

async function waitFor(cond, ms) {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(100))
    if (await cond()) return true;
  return false;
}

async function main(t) {
  const fake = new FakeMandrill();
  await fake.start();
  const stack = new Stack({ MANDRILL_API_KEY: 'page-key', MANDRILL_API_URL: fake.url,
    MANDRILL_WEBHOOK_KEY: 'hook-key', MAILHOOKS_SEND_RETRY_MS: '300' });
  let browser;
  try {
    await stack.start();
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    const page = await (await stack.context(browser, { viewport: { width: 1280, height: 800 } })).newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(stack.url('/#outgoing'));
    await page.waitForSelector('#compose:visible', { timeout: 10000 });
    t.ok(true, 'an admin sees the compose form on the Outgoing view');
    t.ok(await page.isHidden('#events-view'), 'the events are on their own view');
    await page.waitForSelector('#status[data-state="live"]', { timeout: 10000 });

    // A bad address: said in words, nothing queued.
    await page.fill('#c-from', 'shop@example.com');
    await page.fill('#c-to', 'not-an-address');
    await page.fill('#c-text', 'Hello');
    await page.click('#compose-send');
    await page.waitForSelector('#compose-error:has-text("not an email address")', { timeout: 15000 });
    t.ok(true, 'a malformed address is refused, in words');
    await page.fill('#c-to', 'alice@example.com, bob@');
    await page.click('#compose-send');
    await page.waitForSelector('#compose-error:has-text("bob@")', { timeout: 15000 });
    const said = await page.textContent('#compose-error');
    t.ok(/The address \u201cbob@\u201d/.test(said) && !/to\[1\]/.test(said),
      'the second recipient named by its address, not to[1].email: ' + said);
    t.is((await (await stack.api('/api/mail')).json()).mail.length, 0, 'nothing was queued');

    // The form sends a mail the fake receives; its row turns sent, live.
    await page.fill('#c-to', 'alice@example.com, bob@example.com');
    await page.fill('#c-subject', 'Hello from the page');
    await page.press('#c-subject', 'Enter');
    await page.waitForSelector('#compose-note:has-text("Queued as mail")', { timeout: 15000 });
    t.ok(true, 'Enter sends it: queued');
    t.ok(await waitFor(() => fake.requests().length === 1, 10000), 'the fake Mandrill received it');
    const [req] = fake.requests();
    t.is(req && req.message.subject, 'Hello from the page', 'with its subject');
    t.is(req && req.message.to.map((r) => r.email).join(','), 'alice@example.com,bob@example.com',
      'to both recipients');
    t.is(req && req.message.track_opens, true, 'tracking opens');
    t.is(req && req.key, 'page-key', 'with the API key');
    await page.waitForSelector('#mail-body tr .s-sent', { timeout: 10000 });
    t.ok(true, 'its row says sent, without a reload');

    // The mail's page: recipients, attempts, and the events that came back.
    const remote = (await (await stack.api('/api/mail/1')).json()).recipients[0]._id;
    t.is((await stack.postMandrill([event({ id: remote, type: 'open' })])).status, 200,
      'Mandrill posts an open for the first recipient');
    await sleep(500);
    await page.click('#mail-body button[data-mail="1"]');
    await page.waitForSelector('#mail[open]');
    t.ok(/#outgoing:1$/.test(page.url()), 'the mail\'s page has its own URL');
    t.is(await page.locator('#mail-recipients li').count(), 2, 'its two recipients');
    await page.waitForSelector('#mail-recipients li:first-child .detail:has-text("open")', { timeout: 15000 });
    t.ok(true, 'the first one shows the open that came back');
    // Live: the second recipient's click, posted while the dialog is open.
    // Its line comes with its own request: waited for, not raced.
    await page.waitForSelector('#mail-recipients li:nth-child(2) .detail[data-timeline]', { timeout: 15000 });
    const second = await page.textContent('#mail-recipients li:nth-child(2)');
    t.ok(second.includes('no event yet'), 'the second: no event yet', second);
    const remote2 = (await (await stack.api('/api/mail/1')).json()).recipients[1]._id;
    t.is((await stack.postMandrill([Object.assign(event({ id: remote2, type: 'click', email: 'bob@example.com' }),
      { url: 'https://shop.example.com/a' })])).status, 200, 'Mandrill posts a click for the second');
    await page.waitForSelector('#mail-recipients li:nth-child(2) .detail:has-text("click")', { timeout: 15000 });
    t.ok(true, 'its click shows as it arrives, the dialog left open');
    t.is(await page.textContent('#mail-text'), 'Hello', 'the mail\'s text');
    t.ok(await page.isHidden('#mail-html'), 'no HTML: no frame');
    t.ok((await page.textContent('#mail-attempts')).includes('HTTP 200'), 'the attempt, with its HTTP status');
    t.ok(await page.isHidden('#mail-cancel'), 'a sent mail offers no cancel');
    await page.click('#mail-close');

    // A key Mandrill refuses: the mail fails, the banner says sending is paused.
    fake.modes('error Invalid_Key 500');
    await page.fill('#c-to', 'carol@example.com');
    await page.fill('#c-text', 'Hi');
    await page.click('#compose-send');
    await page.waitForSelector('#sender-state[data-state="paused"]:visible', { timeout: 15000 });
    t.ok((await page.textContent('#sender-state')).includes('Invalid_Key'), 'a banner says sending is paused, and why');
    await page.waitForSelector('#mail-body tr .s-failed', { timeout: 15000 });
    t.ok(true, 'the mail\'s row says failed');

    // A mail with HTML: shown in a frame that runs nothing.
    const made = await (await stack.api('/api/mail', { method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ from_email: 'shop@example.com', to: [{ email: 'dan@example.com' }],
        subject: 'With HTML', text: 'Plain words',
        html: '<p id="para">Rich <b>words</b></p><script>parent.document.title = "owned"</script>' }) })).json();
    await page.goto(stack.url('/#outgoing:' + made.id));
    await page.waitForSelector('#mail[open] #mail-html:visible', { timeout: 15000 });
    t.is(await page.getAttribute('#mail-html', 'sandbox'), '', 'the HTML in a sandboxed frame');
    const frame = page.frameLocator('#mail-html');
    t.is(await frame.locator('#para').textContent(), 'Rich words', '... showing the mail\'s HTML');
    t.ok(!(await page.title()).includes('owned'), '... whose script never ran');
    t.is(await page.textContent('#mail-text'), 'Plain words', 'and its text');
    await page.click('#mail-close');

    // Its sender has no CAMPAIGN_API_TOKEN: the Campaigns view says so.
    await page.goto(stack.url('/#campaigns'));
    await page.waitForSelector('#campaign-sender-state:visible', { timeout: 15000 });
    t.ok((await page.textContent('#campaign-sender-state')).includes('CAMPAIGN_API_TOKEN is not set'),
      'the Campaigns view: a banner says CAMPAIGN_API_TOKEN is not set');
    await page.goto(stack.url('/#outgoing'));
    await page.waitForSelector('#outgoing-view:visible', { timeout: 15000 });

    // A phone: the view fits.
    await page.setViewportSize({ width: 390, height: 844 });
    t.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1),
      'the view fits a phone');
    t.is(await page.$eval('#mail-body tr', (r) => getComputedStyle(r).display), 'block', 'a mail\'s row is a card');
    t.is(await page.$eval('#mail-body tr td:nth-child(3)', (td) => td.dataset.label), 'To', '... its lines named');

    // A viewer reads, without the form.
    const { execFileSync } = require('child_process');
    const fs = require('fs');
    fs.writeFileSync(stack.home + '/vic.pw', 'vic-password\n');
    execFileSync(require('path').resolve(__dirname, '../../tools/mailhooks-db'),
      ['-h', stack.home, 'user', 'add', 'vic', '--password-file', stack.home + '/vic.pw'], { stdio: 'ignore' });
    const viewer = await (await browser.newContext()).newPage();
    viewer.on('pageerror', (e) => errors.push(String(e)));
    await viewer.goto(stack.url('/#outgoing'));
    await viewer.fill('#signin-user', 'vic');
    await viewer.fill('#signin-password', 'vic-password');
    await viewer.press('#signin-password', 'Enter');
    await viewer.waitForSelector('#mail-body tr', { timeout: 10000 });
    t.ok(await viewer.isHidden('#compose-section'), 'a viewer sees the mail but no compose form');
    t.ok(errors.length === 0, 'no uncaught script error', errors.join('\n'));
  } finally {
    if (browser) await browser.close();
    await stack.stop();
    stack.cleanup();
    fake.stop();
  }
}

const t = new Tap();
main(t).catch((e) => t.bail(e)).finally(() => t.done());
