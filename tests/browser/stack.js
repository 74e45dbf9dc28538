// A real mailhooks stack for a browser test: run.sh on free loopback ports
// with a temporary MAILHOOKS_HOME, in its own process group; the server is
// lighttpd, or Apache when MAILHOOKS_TEST_SERVER=apache.
'use strict';

const { spawn } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '../..');

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

class Stack {
  // The first admin has a password of the stack's own; start() signs in
  // as admin, and api() and context() use that session.
  constructor(env = {}) {
    this.env = { MAILHOOKS_ADMIN_PASSWORD: 'test-' + crypto.randomBytes(12).toString('hex'), ...env };
    this.home = fs.mkdtempSync(path.join(os.tmpdir(), 'mailhooks-browser-'));
    this.cookie = null;
  }

  url(p) { return `http://127.0.0.1:${this.port}${p}`; }

  async start() {
    this.port = await freePort();
    this.relayPort = await freePort();
    const env = { ...process.env, SERVER: process.env.MAILHOOKS_TEST_SERVER || 'lighttpd',
      PORT: String(this.port), MAILHOOKS_HOME: this.home,
      MAILHOOKS_RELAY_PORT: String(this.relayPort), ...this.env };
    delete env.MANDRILL_WEBHOOK_URL;
    delete env.INFOBIP_WEBHOOK_TOKEN;
    for (const k of ['MAILHOOKS_MAX_BODY', 'MAILHOOKS_TEST_EVENTS', 'MAILHOOKS_RAW_MAX_AGE_DAYS', 'MAILHOOKS_RAW_MAX_MB', 'MAILHOOKS_FSYNC',
      'MAILHOOKS_SESSION_IDLE', 'MAILHOOKS_TRUST_REMOTE_USER', 'MAILHOOKS_REMOTE_USER_CREATE', 'MAILHOOKS_METRICS_PUBLIC',
      'MAILHOOKS_ALLOWED_ORIGINS', 'MANDRILL_API_KEY', 'MANDRILL_API_URL', 'MAILHOOKS_SEND_CONCURRENCY',
      'MAILHOOKS_SEND_MAX_ATTEMPTS', 'MAILHOOKS_SEND_TIMEOUT', 'MAILHOOKS_SEND_CONNECT_TIMEOUT', 'MAILHOOKS_SEND_RETRY_MS',
      'MAILHOOKS_SEND_RETRY_MAX_MS', 'CAMPAIGN_API_URL', 'CAMPAIGN_API_TOKEN', 'CAMPAIGN_RATE', 'CAMPAIGN_BREAKER_FAILURES',
      'CAMPAIGN_BREAKER_PAUSE_MS', 'MAILHOOKS_MAIL_FROM', 'MAILHOOKS_DAILY_REPORT_TO', 'MAILHOOKS_DAILY_REPORT_HOUR'])
      if (!(k in this.env)) delete env[k];
    if (!this.env.MANDRILL_WEBHOOK_KEY) delete env.MANDRILL_WEBHOOK_KEY;
    const log = fs.openSync(path.join(this.home, 'run.log'), 'a');
    this.proc = spawn('sh', [path.join(ROOT, 'run.sh')],
      { env, detached: true, stdio: ['ignore', log, log] });
    for (let i = 0; i < 200; i++) {
      try {
        if (!this.cookie && (await fetch(this.url('/api/health'))).ok)
          this.cookie = await this.signIn('admin', this.env.MAILHOOKS_ADMIN_PASSWORD);
        const h = await (await this.api('/api/health')).json();
        if (h.relay === 'up' || this.env.MAILHOOKS_RELAY === '0') return;
      } catch (e) { /* not up yet */ }
      await sleep(100);
    }
    throw new Error('stack did not start: ' + fs.readFileSync(path.join(this.home, 'run.log'), 'utf8'));
  }

  // Signs in; the session's cookie ("mh_session=..."), or null.
  async signIn(user, password) {
    const r = await fetch(this.url('/api/session'), { method: 'POST',
      headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ user, password }) });
    const m = /^(mh_session=[^;]*)/.exec(r.headers.get('set-cookie') || '');
    return r.ok && m ? m[1] : null;
  }

  // fetch() with the admin's session, and the site's Origin.
  api(p, init = {}) {
    return fetch(this.url(p), { ...init,
      headers: { Origin: this.url(''), Cookie: this.cookie || '', ...(init.headers || {}) } });
  }

  // Gives a browser context the admin's session (cookies are the host's,
  // whatever the port: this replaces another stack's).
  async signInContext(context) {
    await context.addCookies([{ name: 'mh_session', value: this.cookie.split('=')[1],
      url: this.url('/'), httpOnly: true, sameSite: 'Strict' }]);
    return context;
  }

  // A new browser context (options as browser.newContext's), signed in.
  async context(browser, options) {
    return this.signInContext(await browser.newContext(options));
  }

  relayPids() {
    const pids = [];
    for (const d of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      try {
        const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
        const m = /^(\d+) \((.*)\) (\S) \d+ (\d+)/.exec(stat);
        if (m && m[2] === 'mailhooks-relay' && m[3] !== 'Z' && Number(m[4]) === this.proc.pid) pids.push(Number(m[1]));
      } catch (e) { /* gone */ }
    }
    return pids;
  }

  // Starts a relay of its own (for a stack run without one), as the user
  // the stack runs as; stop it with stopRelay().
  startRelay() {
    const env = { ...process.env, MAILHOOKS_HOME: this.home, MAILHOOKS_RELAY_PORT: String(this.relayPort) };
    // run.sh serves a copy from the data directory when the stack's user
    // cannot read the checkout.
    const copy = path.join(this.home, 'run/site/ws-relay/mailhooks-relay');
    let cmd = [fs.existsSync(copy) ? copy : path.join(ROOT, 'ws-relay/mailhooks-relay')];
    if ((process.env.MAILHOOKS_TEST_SERVER || 'lighttpd') === 'apache' && process.getuid() === 0)
      cmd = ['setpriv', '--reuid=www-data', '--regid=www-data', '--init-groups', '--', ...cmd];
    const log = fs.openSync(path.join(this.home, 'relay.log'), 'a');
    this.relay = spawn(cmd[0], cmd.slice(1), { env, stdio: ['ignore', log, log] });
  }

  async stopRelay() {
    if (!this.relay) return;
    const done = new Promise((r) => this.relay.once('exit', r));
    this.relay.kill('SIGTERM');
    await Promise.race([done, sleep(5000)]);
    this.relay = null;
  }

  async stop() {
    await this.stopRelay();
    if (!this.proc) return;
    const done = new Promise((r) => this.proc.once('exit', r));
    try { process.kill(this.proc.pid, 'SIGTERM'); } catch (e) { /* gone */ }
    await Promise.race([done, sleep(10000)]);
    try { process.kill(-this.proc.pid, 'SIGKILL'); } catch (e) { /* all gone */ }
    this.proc = null;
  }

  cleanup() { fs.rmSync(this.home, { recursive: true, force: true }); }

  // POSTs a batch of Mandrill events, signed when a key is configured.
  async postMandrill(events) {
    const value = JSON.stringify(events);
    const headers = { 'Content-Type': 'application/x-www-form-urlencoded' };
    const key = this.env.MANDRILL_WEBHOOK_KEY;
    if (key) {
      headers['X-Mandrill-Signature'] = crypto.createHmac('sha1', key)
        .update(this.url('/webhooks/mandrill') + 'mandrill_events' + value).digest('base64');
    }
    const r = await fetch(this.url('/webhooks/mandrill'), { method: 'POST', headers,
      body: new URLSearchParams({ mandrill_events: value }).toString() });
    return { status: r.status, body: await r.json() };
  }
}

// A fake Mandrill API (tests/lib/fake-remote): url for
// MANDRILL_API_URL, modes(...) for the requests to come (FakeMandrill.pm),
// requests() what it got.
class FakeMandrill {
  async start() {
    this.proc = spawn(path.join(ROOT, 'tests/lib/fake-remote'), [this.constructor.module], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = await new Promise((resolve, reject) => {
      let out = '';
      this.proc.stdout.on('data', (d) => {
        out += d;
        if (out.split('\n').length > 2) resolve(out.split('\n'));
      });
      this.proc.once('exit', () => reject(new Error('the fake ' + this.constructor.module + ' did not start')));
    });
    [this.url, this.dir] = lines;
  }
  modes(...m) {
    fs.writeFileSync(path.join(this.dir, 'modes.new'), m.join('\n') + '\n');
    fs.renameSync(path.join(this.dir, 'modes.new'), path.join(this.dir, 'modes'));
  }
  requests() {
    try {
      return fs.readFileSync(path.join(this.dir, 'requests'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    } catch (e) {
      return [];
    }
  }
  stop() { if (this.proc) this.proc.stdin.end(); }
}
FakeMandrill.module = 'FakeMandrill';

// The same of the campaigns' external API (FakeCampaignApi.pm), its url
// for CAMPAIGN_API_URL.
class FakeCampaignApi extends FakeMandrill {}
FakeCampaignApi.module = 'FakeCampaignApi';

function event({ type = 'open', id = 'msg-1', email = 'alice@example.com',
  subject = 'Your invoice', ts = Math.floor(Date.now() / 1000), location = null } = {}) {
  return { event: type, ts, _id: id, msg: { _id: id, email, subject, ts: ts - 60, tags: [], metadata: {} },
    ip: '203.0.113.7', location, user_agent: 'Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Thunderbird/115.5.0',
    user_agent_parsed: { ua_family: 'Thunderbird', os_family: 'Linux' } };
}

// TAP output without a framework.
class Tap {
  constructor() { this.n = 0; this.failed = 0; }
  ok(cond, name, diag) {
    this.n++;
    console.log(`${cond ? 'ok' : 'not ok'} ${this.n} - ${name}`);
    if (!cond) {
      this.failed++;
      if (diag !== undefined) console.log('# ' + String(diag).split('\n').join('\n# '));
    }
    return cond;
  }
  is(got, want, name) { return this.ok(got === want, name, `got: ${JSON.stringify(got)}\nwant: ${JSON.stringify(want)}`); }
  note(s) { console.log('# ' + s); }
  done() { console.log(`1..${this.n}`); process.exitCode = this.failed ? 1 : 0; }
  // The error's first line names the test; the rest (Playwright's call log)
  // follows as comments.
  bail(e) {
    const lines = String(e && e.stack ? e.stack : e).split('\n');
    console.log(`not ok ${++this.n} - ${lines[0]}`);
    for (const l of lines.slice(1)) console.log('# ' + l);
    this.failed++;
  }
}

const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];

module.exports = { Stack, FakeMandrill, FakeCampaignApi, event, Tap, sleep, CHROMIUM_ARGS };
