// The "Outgoing mail" view (#outgoing): the outbox's mails newest first,
// each row's state kept live by the relay's {"kind":"mail"} frames (app.js
// hands them over; without a relay the list is asked again every few
// seconds), a compose form for admins, and a mail's page (#outgoing:ID):
// its recipients with Mandrill's answer and the events that came back for
// each, and its attempts. A banner says when mail does not go out (no
// sender, no key, a key Mandrill refused). Values reach the page as text.
'use strict';

window.mailhooksOutgoing = (function () {
  const PAGE = 50;
  const POLL_MS = 5000;
  const HEALTH_MS = 30000;
  const $ = (id) => document.getElementById(id);
  const rows = new Map();   // id -> its table row
  let running = false, older = null, timer = null, healthTimer = null, openId = null;

  const { json, el, when } = window.mailhooksUI;
  const status = window.mailhooksUI.pill;

  // --- the list.

  function row(m) {
    const tr = el('tr');
    tr.dataset.id = m.id;
    const open = el('button', 'link', m.subject || '(no subject)');
    open.type = 'button';
    open.dataset.mail = m.id;
    const to = (m.recipients || []).map((r) => r.email).join(', ');
    const st = el('td');
    st.append(status(m.status));
    if (m.status === 'queued' && m.attempts > 0) st.append(' ', el('span', 'hint', 'retrying'));
    const subject = el('td');
    subject.append(open);
    tr.append(el('td'), st, el('td', '', to), subject, el('td', '', m.attempts));
    tr.firstChild.append(when(m.created_at));
    if (m.error) tr.title = m.error;
    return tr;
  }

  function put(m) {
    const tr = row(m);
    const old = rows.get(m.id);
    if (old) old.replaceWith(tr);
    else {
      // Newest first: after the first row of a smaller id.
      let before = null;
      for (const r of $('mail-body').children) if (Number(r.dataset.id) < m.id) { before = r; break; }
      $('mail-body').insertBefore(tr, before);
    }
    rows.set(m.id, tr);
    $('mail-empty').hidden = true;
  }

  async function load(reset) {
    const q = 'api/mail?limit=' + PAGE + (reset || older === null ? '' : '&before=' + older);
    const page = await json(q);
    if (reset) {
      $('mail-body').textContent = '';
      rows.clear();
    }
    for (const m of page.mail) if (typeof m.id === 'number' && m.status) put(m);
    older = page.more ? page.next_before : null;
    $('mail-older').hidden = older === null;
    $('mail-empty').hidden = rows.size > 0;
  }

  // --- whether mail goes out.

  const SAY = {
    paused: 'Sending is paused: Mandrill refused MANDRILL_API_KEY (Invalid_Key). Set a valid key for the sender and restart it; queued mail then goes out.',
    no_key: 'MANDRILL_API_KEY is not set for the sender: mail stays queued.',
    not_running: 'No sender is running: mail stays queued. Start mailhooks-sender --daemon, or run mailhooks-sender --once from cron.',
  };

  async function health() {
    try {
      const h = await json('api/health');
      const s = h.sender && h.sender.state;
      $('sender-state').hidden = !SAY[s];
      $('sender-state').dataset.state = s || '';
      $('sender-state').textContent = SAY[s] || '';
    } catch (e) { /* the list says what it can */ }
  }

  // --- a mail's page.

  // A recipient's events, in one line under it (again when one comes).
  async function timeline(li, id) {
    let p;
    try {
      const m = await json('api/messages/' + encodeURIComponent(id));
      const evs = m.timeline || [];
      p = el('span', 'detail', evs.length ? evs.map((e) => e.type).join(' \u2192 ') : 'no event yet');
      p.dataset.events = evs.length;
    } catch (e) {
      p = el('span', 'detail', 'no event yet');
    }
    const old = li.querySelector('.detail[data-timeline]');
    p.dataset.timeline = id;
    if (old) old.replaceWith(p);
    else li.append(p);
  }

  function recipient(r) {
    const li = el('li');
    li.append(el('strong', '', r.email), ' ', status(r.status));
    if (r.type && r.type !== 'to') li.append(' ', el('span', 'hint', r.type));
    const reason = r.reject_reason || r.queued_reason;
    if (reason) li.append(' ', el('span', 'hint', reason));
    if (r._id) {
      const b = el('button', 'link', r._id);
      b.type = 'button';
      b.dataset.message = r._id;
      b.title = 'Show this message\u2019s timeline';
      li.dataset.remote = r._id;
      li.append(el('br'), b);
      timeline(li, r._id);
    }
    return li;
  }

  function attempt(a) {
    const li = el('li');
    li.append(when(a.at), ' ', status(a.outcome || 'in flight'));
    const bits = [];
    if (a.http_status) bits.push('HTTP ' + a.http_status);
    if (typeof a.duration_ms === 'number') bits.push(a.duration_ms + ' ms');
    if (a.error) bits.push(a.error);
    if (a.retry_at) bits.push('next try ' + window.mailhooksUI.date(a.retry_at));
    if (bits.length) li.append(el('span', 'detail', bits.join(' \u00b7 ')));
    return li;
  }

  async function openMail(id) {
    let m;
    try {
      m = await json('api/mail/' + encodeURIComponent(id));
    } catch (e) {
      window.alert(e.status === 404 ? 'There is no mail ' + id + '.' : 'The mail could not be loaded: ' + e.message);
      return;
    }
    openId = m.id;
    $('mail-dialog-title').textContent = m.message.subject || '(no subject)';
    $('mail-meta').textContent = '';
    $('mail-meta').append(status(m.status), ' from ' + m.message.from_email + ' \u00b7 queued ',
      when(m.created_at), m.sender ? ' by ' + m.sender.name : '');
    $('mail-error').textContent = m.error || '';
    $('mail-cancel').hidden = !(m.status === 'queued' && window.mailhooksOutgoing.canSend);
    $('mail-recipients').textContent = '';
    for (const r of m.recipients) $('mail-recipients').append(recipient(r));
    $('mail-text').textContent = m.message.text || '';
    $('mail-text').hidden = !m.message.text;
    // The HTML as sent, in a frame with no scripts, no forms and no
    // reach into this page; the page's own policy keeps images out.
    if ($('mail-html').dataset.mail !== String(m.id)) {
      $('mail-html').srcdoc = m.message.html || '';
      $('mail-html').dataset.mail = m.id;
    }
    $('mail-html').hidden = !m.message.html;
    $('mail-attempts').textContent = '';
    for (const a of m.attempts) $('mail-attempts').append(attempt(a));
    if (!m.attempts.length) $('mail-attempts').append(el('li', 'empty', 'none yet'));
    if (!$('mail').open) $('mail').showModal();
  }

  // --- the view (views.js shows it at #outgoing, a mail at #outgoing:ID).

  window.mailhooksViews.add({
    prefix: '#outgoing', view: 'outgoing-view', link: 'view-outgoing',
    enter(id) {
      if (!running) return;
      health();
      load(true).catch(() => {});
      if (id) openMail(id);
      else if ($('mail').open) $('mail').close();
    },
    leave() { if ($('mail').open) $('mail').close(); },
  });

  // Without a relay, the list is asked again now and then.
  function poll() {
    if (!running || $('outgoing-view').hidden) return;
    if ($('status').dataset.state !== 'live') load(true).catch(() => {});
  }

  function recipientsOf(text) {
    return text.split(/[,;\s]+/).map((s) => s.trim()).filter(Boolean).map((email) => ({ email }));
  }

  async function send(e) {
    e.preventDefault();
    const f = $('compose');
    $('compose-error').textContent = '';
    $('compose-note').textContent = '';
    const body = {
      from_email: $('c-from').value.trim(),
      to: recipientsOf($('c-to').value),
      subject: $('c-subject').value,
      track_opens: $('c-track').checked,
      track_clicks: $('c-track').checked,
    };
    if ($('c-text').value) body.text = $('c-text').value;
    if ($('c-html').value) body.html = $('c-html').value;
    if (!body.from_email) return fail('Say who the mail is from.', 'c-from');
    if (!body.to.length) return fail('Give at least one recipient.', 'c-to');
    if (!body.text && !body.html) return fail('Write the text of the mail.', 'c-text');
    $('compose-send').disabled = true;
    try {
      const m = await json('api/mail', { method: 'POST', body: JSON.stringify(body) });
      $('compose-note').textContent = 'Queued as mail ' + m.id + ' to ' + m.recipients.length +
        (m.recipients.length === 1 ? ' recipient.' : ' recipients.');
      f.reset();
      $('c-from').value = body.from_email;
      put({ ...m, created_at: new Date().toISOString(), subject: body.subject, attempts: 0 });
    } catch (err) {
      const [words, field] = plainMail(err.message, body);
      fail('Not sent: ' + words, field);
    } finally {
      $('compose-send').disabled = false;
    }
  }

  // The server's refusal in the form's words: "to[1].email" is the
  // second recipient's address, named; and the field to go back to.
  function plainMail(detail, body) {
    let field = 'c-to';
    const s = String(detail || '').replace(/\bto\[(\d+)\]\.email\b/g, (m, i) => {
      const who = body.to[Number(i)];
      return 'the address ' + (who && who.email ? '\u201c' + who.email + '\u201d' : 'of recipient ' + (Number(i) + 1));
    }).replace(/\bfrom_email\b/g, () => { field = 'c-from'; return 'the sender\u2019s address'; })
      .replace(/^subject\b/, () => { field = 'c-subject'; return 'the subject'; })
      .replace(/^(text|html)\b/, () => { field = 'c-text'; return 'the text'; });
    return [s.charAt(0).toUpperCase() + s.slice(1) + (/[.!?]$/.test(s) ? '' : '.'), field];
  }

  function fail(text, field) {
    $('compose-error').textContent = text;
    $(field).focus();
  }

  let wired = false;
  function wire() {
    if (wired) return;
    wired = true;
    $('compose').addEventListener('submit', send);
    $('mail-older').addEventListener('click', () => load(false).catch(() => {}));
    document.addEventListener('click', (e) => {
      const b = e.target.closest('button[data-mail]');
      if (b) location.hash = '#outgoing:' + b.dataset.mail;
    });
    $('mail-close').addEventListener('click', () => $('mail').close());
    $('mail').addEventListener('close', () => {
      openId = null;
      if (location.hash.startsWith('#outgoing:')) history.pushState(null, '', '#outgoing');
    });
    $('mail-cancel').addEventListener('click', async () => {
      try {
        await json('api/mail/' + openId + '/cancel', { method: 'POST', body: '' });
      } catch (err) {
        $('mail-error').textContent = 'Not cancelled: ' + err.message;
        return;
      }
      openMail(openId);
    });
  }

  return {
    canSend: false,
    start(who) {
      running = true;
      this.canSend = who.role === 'admin';
      $('compose-section').hidden = !this.canSend;
      wire();
      timer = setInterval(poll, POLL_MS);
      healthTimer = setInterval(() => { if (!$('outgoing-view').hidden) health(); }, HEALTH_MS);
    },
    stop() {
      running = false;
      clearInterval(timer);
      clearInterval(healthTimer);
      $('mail-body').textContent = '';
      rows.clear();
      if ($('mail').open) $('mail').close();
    },
    // A mail's change of state, from the relay: its row (and its page,
    // when open) shows it.
    // An event from the relay: the open mail's recipient it is about
    // shows it.
    event(ev) {
      if (!running || openId === null || !$('mail').open || !ev || !ev.message_id) return;
      for (const li of $('mail-recipients').children)
        if (li.dataset.remote === ev.message_id) timeline(li, ev.message_id);
    },
    async changed(f) {
      if (!running || typeof f.id !== 'number') return;
      if ($('outgoing-view').hidden && openId !== f.id) return;
      try {
        const m = await json('api/mail/' + f.id);
        put({ ...m, subject: m.message.subject, attempts: m.attempts.length });
        if (openId === f.id) openMail(f.id);
        if (m.status === 'failed' && /Invalid_Key/.test(m.error || '')) health();
      } catch (e) { /* the next one tries again */ }
    },
  };
})();
