// The "Campaigns" view (#campaigns): the clients (found by phone or tag,
// added, edited, deleted) and the campaigns (their status and progress;
// made and edited with a filter that says how many clients it reaches
// before it is saved; deleted), and a campaign's page (#campaigns:ID): its
// messages counted by status, kept live by the relay's {"kind":"campaign"}
// frames (app.js hands them over; without a relay they are asked again
// every few seconds), and its messages with their attempts. Only those
// who may change campaigns see the forms. Values reach the page as text.
'use strict';

window.mailhooksCampaigns = (function () {
  const PAGE = 50;
  const POLL_MS = 5000;
  const STATUSES = ['pending', 'sending', 'sent', 'retrying', 'failed', 'expired', 'deferred', 'cancelled'];
  const $ = (id) => document.getElementById(id);
  let running = false, canWrite = false, timer = null, openId = null;
  let clientsBefore = null, clientQuery = '', campaignsBefore = null;
  let editingClient = null, editingCampaign = null, audienceTimer = null, refreshTimer = null;
  let messagesBefore = null, openEnd = null;

  const { json, el, pill, when } = window.mailhooksUI;

  function button(text, data, label) {
    const b = el('button', 'link', text);
    b.type = 'button';
    Object.assign(b.dataset, data);
    if (label) b.setAttribute('aria-label', label);
    return b;
  }

  function list(text) {
    return text.split(',').map((s) => s.trim()).filter(Boolean);
  }

  // --- clients.

  function clientRow(c) {
    const tr = el('tr');
    tr.dataset.client = c.id;
    const phone = el('td', 'num', '+' + c.phone);
    if (c.opted_out) phone.append(' ', el('span', 'mail-status s-cancelled', 'opted out'));
    tr.append(phone, el('td', '', (c.tags || (c.tag ? [c.tag] : [])).join(', ')),
      el('td', '', c.operator_code), el('td', '', c.timezone), el('td', '', c.email || ''));
    const act = el('td', 'actions');
    if (canWrite) {
      act.append(button('Edit', { editClient: c.id }, 'Edit client ' + c.phone), ' ',
        button('Delete', { deleteClient: c.id }, 'Delete client ' + c.phone));
    }
    tr.append(act);
    tr._client = c;
    return tr;
  }

  async function loadClients(reset) {
    const q = new URLSearchParams({ limit: PAGE });
    const digits = clientQuery.replace(/[\s+().-]/g, '');
    if (/^[1-9]\d{5,14}$/.test(digits)) q.set('phone', digits);
    else if (clientQuery) q.set('tag', clientQuery);
    if (!reset && clientsBefore !== null) q.set('before', clientsBefore);
    const page = await json('api/clients?' + q);
    if (reset) $('cl-body').textContent = '';
    for (const c of page.clients) if (typeof c.id === 'number') $('cl-body').append(clientRow(c));
    clientsBefore = page.more ? page.next_before : null;
    $('cl-older').hidden = clientsBefore === null;
    $('cl-empty').hidden = $('cl-body').children.length > 0;
    $('cl-empty').textContent = clientQuery ? 'No client matches ' + clientQuery + '.' : 'No clients yet.';
  }

  function editClient(c) {
    editingClient = c ? c.id : null;
    $('cl-form').reset();
    clearErrors('cl');
    if (c) {
      $('cl-phone').value = '+' + c.phone;
      $('cl-tag').value = (c.tags || (c.tag ? [c.tag] : [])).join(', ');
      $('cl-optout').checked = !!c.opted_out;
      $('cl-tz').value = c.timezone;
      $('cl-email').value = c.email || '';
      $('cl-op').value = c.operator_code;
    }
    $('cl-box-title').textContent = c ? 'Edit client ' + c.phone : 'Add a client';
    $('cl-save').textContent = c ? 'Save client' : 'Add client';
    $('cl-cancel').hidden = !c;
    $('cl-box').open = true;
    $('cl-phone').focus();
  }

  async function saveClient(e) {
    e.preventDefault();
    clearErrors('cl');
    const body = { phone: $('cl-phone').value.trim(), tags: list($('cl-tag').value),
      timezone: $('cl-tz').value.trim(), opted_out: $('cl-optout').checked };
    if ($('cl-email').value.trim()) body.email = $('cl-email').value.trim();
    else if (editingClient !== null) body.email = null;
    if ($('cl-op').value.trim()) body.operator_code = $('cl-op').value.trim();
    if (!body.phone) return fail('cl', 'Give the client\u2019s phone, like +7 900 555 12 34.', 'cl-phone');
    if (!body.timezone) return fail('cl', 'Give the client\u2019s time zone, like Europe/Moscow.', 'cl-tz');
    try {
      const c = editingClient === null
        ? await json('api/clients', { method: 'POST', body: JSON.stringify(body) })
        : await json('api/clients/' + editingClient, { method: 'PATCH', body: JSON.stringify(body) });
      $('cl-note').textContent = (editingClient === null ? 'Added ' : 'Saved ') + c.phone + '.';
      editingClient = null;
      $('cl-form').reset();
      $('cl-box-title').textContent = 'Add a client';
      $('cl-save').textContent = 'Add client';
      $('cl-cancel').hidden = true;
      await loadClients(true);
      audienceSoon();
    } catch (err) {
      fail('cl', 'Not saved: ' + plain(err.message, CLIENT_WORDS), fieldOf(err.message, CLIENT_FIELDS, 'cl-phone'));
    }
  }

  // An import: the file sent with its upload's progress shown, then what
  // became of its lines, the refused ones by line number.
  function importClients(e) {
    e.preventDefault();
    const file = $('cl-file').files[0];
    const errs = $('cl-import-errors');
    errs.textContent = '';
    errs.hidden = true;
    if (!file) {
      $('cl-import-note').textContent = 'Choose a file first.';
      $('cl-file').focus();
      return;
    }
    const ndjson = /\.(nd)?jsonl?$/i.test(file.name) || /ndjson/.test(file.type);
    const xhr = new XMLHttpRequest();
    const bar = $('cl-import-progress');
    bar.hidden = false;
    bar.value = 0;
    $('cl-import').disabled = true;
    $('cl-import-note').textContent = 'Sending ' + file.name + '\u2026';
    xhr.upload.onprogress = (ev) => {
      if (ev.lengthComputable) bar.value = Math.round(100 * ev.loaded / ev.total);
      if (ev.loaded === ev.total) $('cl-import-note').textContent = 'Importing ' + file.name + '\u2026';
    };
    xhr.onloadend = () => {
      $('cl-import').disabled = false;
      bar.value = 100;
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch (err) { /* said below */ }
      if (xhr.status === 401) window.mailhooksSession.ended('Your session ended: sign in again.');
      if (xhr.status !== 200 || !body || typeof body.added !== 'number') {
        $('cl-import-note').textContent = 'Not imported: ' + (body && body.detail ? body.detail : 'HTTP ' + xhr.status) + '.';
        return;
      }
      $('cl-import-note').textContent = body.added + ' added, ' + body.updated + ' updated' +
        (body.failed ? ', ' + body.failed + (body.failed === 1 ? ' line' : ' lines') + ' refused:' : '.');
      for (const er of body.errors) errs.append(el('li', '', 'Line ' + er.line + ': ' + er.detail));
      if (body.failed > body.errors.length) errs.append(el('li', '', 'and ' + (body.failed - body.errors.length) + ' more.'));
      errs.hidden = body.errors.length === 0;
      loadClients(true).catch(() => {});
      audienceSoon();
    };
    xhr.open('POST', 'api/clients/import');
    xhr.setRequestHeader('Content-Type', ndjson ? 'application/x-ndjson' : 'text/csv');
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.send(file);
  }

  async function deleteClient(id) {
    const tr = document.querySelector('tr[data-client="' + id + '"]');
    if (!window.confirm('Delete client ' + (tr ? tr._client.phone : id) + '? Campaigns send to it no more.')) return;
    try {
      await json('api/clients/' + id, { method: 'DELETE' });
      if (tr) tr.remove();
      $('cl-empty').hidden = $('cl-body').children.length > 0;
    } catch (err) {
      window.alert('Not deleted: ' + err.message);
    }
  }

  // The form's input of the field a server's refusal names first
  // ("phone is too short ...", "tags[1] is not a tag").
  const CLIENT_FIELDS = { phone: 'cl-phone', tag: 'cl-tag', tags: 'cl-tag', timezone: 'cl-tz',
    email: 'cl-email', operator_code: 'cl-op' };
  const CLIENT_WORDS = { phone: 'the phone', operator_code: 'the operator code', tags: 'the tags',
    tag: 'the tag', timezone: 'the time zone', email: 'the email', opted_out: 'opted out' };
  const CAMPAIGN_FIELDS = { start_at: 'cp-start', end_at: 'cp-end', text: 'cp-text', 'filter operator_codes': 'cp-ops',
    'filter tags': 'cp-tags', filter: 'cp-ops', window: 'cp-from', channel: 'cp-channel', subject: 'cp-subject', html: 'cp-html' };
  const CAMPAIGN_WORDS = { start_at: 'the start', end_at: 'the end', text: 'the text', operator_codes: 'the operator codes',
    tags: 'the tags', filter: 'the filter', window: 'the window', channel: 'the channel', subject: 'the subject', html: 'the HTML' };
  function fieldOf(detail, fields, dflt) {
    const m = /^([a-z_]+(?: [a-z_]+)?)/.exec(detail || '');
    if (!m) return dflt;
    return fields[m[1]] || fields[m[1].split(' ')[0]] || dflt;
  }
  // The server's words with its field names said as the form says them.
  function plain(detail, words) {
    const s = String(detail || '').replace(/\b[a-z]+(?:_[a-z]+)*\b/g, (w) => words[w] || w);
    return s.charAt(0).toUpperCase() + s.slice(1) + (/[.!?]$/.test(s) ? '' : '.');
  }

  // Says what is wrong next to the field, marks it and moves to it; the
  // form's earlier message goes.
  function fail(form, text, field) {
    clearErrors(form);
    const p = $(form + '-error');
    p.textContent = text;
    $(field).insertAdjacentElement('afterend', p);
    $(field).setAttribute('aria-invalid', 'true');
    $(field).setAttribute('aria-describedby', form + '-error');
    $(field).focus();
  }
  function clearErrors(form) {
    $(form + '-error').textContent = '';
    if ($(form + '-note')) $(form + '-note').textContent = '';
    for (const f of $(form + '-form').querySelectorAll('[aria-invalid]')) {
      f.removeAttribute('aria-invalid');
      f.removeAttribute('aria-describedby');
    }
  }
  function channelFields() {
    const mail = $('cp-channel').value === 'mail';
    $('cp-mail-fields').hidden = !mail;
    $('cp-html-field').hidden = !mail;
  }

  // --- whether campaigns go out: as Outgoing mail says of the Mandrill key.
  async function health() {
    let say = '';
    try {
      const h = await json('api/health');
      const s = h.sender || {};
      if (s.state === 'not_running') say = 'No sender is running: campaigns send nothing. Start mailhooks-sender --daemon, or run mailhooks-sender --once from cron.';
      else if (s.campaign_api_token === false) say = 'CAMPAIGN_API_TOKEN is not set for the sender: campaigns on the external API wait (mail campaigns go). Set it and restart the sender.';
    } catch (e) { /* the lists say what they can */ }
    $('campaign-sender-state').textContent = say;
    $('campaign-sender-state').hidden = !say;
  }

  // --- campaigns.

  function progress(s) {
    const done = s.counts.sent + s.counts.failed + s.counts.expired + s.counts.cancelled;
    const wrap = el('div', 'progress');
    const bar = el('progress');
    bar.max = Math.max(s.messages, 1);
    bar.value = done;
    bar.setAttribute('aria-label', 'Campaign ' + s.id + ' progress');
    wrap.append(bar, el('span', 'hint', s.counts.sent + ' sent of ' + s.messages +
      (s.counts.failed ? ', ' + s.counts.failed + ' failed' : '')));
    return wrap;
  }

  function campaignRow(s, c) {
    const tr = el('tr');
    tr.dataset.campaign = s.id;
    const name = button('#' + s.id + ' ' + (c ? c.text : ''), { campaign: s.id });
    name.classList.add('clip');
    const td = el('td');
    td.append(name);
    const span = el('td');
    span.append(when(s.start_at), ' \u2013 ', when(s.end_at));
    const st = el('td');
    st.append(pill(s.status));
    const act = el('td', 'actions');
    if (canWrite && s.status !== 'deleted') {
      act.append(button('Edit', { editCampaign: s.id }, 'Edit campaign ' + s.id), ' ',
        button('Delete', { deleteCampaign: s.id }, 'Delete campaign ' + s.id));
    }
    const pr = el('td');
    pr.append(progress(s));
    tr.append(td, st, span, pr, act);
    tr._campaign = c;
    return tr;
  }

  async function loadCampaigns(reset) {
    const q = 'limit=' + PAGE + (!reset && campaignsBefore !== null ? '&before=' + campaignsBefore : '');
    const [stats, page] = await Promise.all([json('api/campaigns/stats?' + q), json('api/campaigns?' + q)]);
    const byId = new Map(page.campaigns.map((c) => [c.id, c]));
    if (reset) $('cp-body').textContent = '';
    for (const s of stats.campaigns) $('cp-body').append(campaignRow(s, byId.get(s.id)));
    campaignsBefore = stats.more ? stats.next_before : null;
    $('cp-older').hidden = campaignsBefore === null;
    $('cp-empty').hidden = $('cp-body').children.length > 0;
  }

  // A datetime-local's value (the browser's time) as ISO 8601 with its
  // offset, and back.
  function toIso(local) {
    const d = new Date(local);
    return isNaN(d) ? '' : d.toISOString();
  }
  function toLocal(iso) {
    const d = new Date(iso);
    const p = (n) => String(n).padStart(2, '0');
    return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate()) + 'T' + p(d.getHours()) + ':' + p(d.getMinutes());
  }

  function campaignBody() {
    const body = {
      start_at: toIso($('cp-start').value), end_at: toIso($('cp-end').value), text: $('cp-text').value,
      filter: { operator_codes: list($('cp-ops').value), tags: list($('cp-tags').value) },
      channel: $('cp-channel').value,
    };
    const mail = body.channel === 'mail';
    body.subject = mail && $('cp-subject').value.trim() ? $('cp-subject').value.trim() : null;
    body.html = mail && $('cp-html').value.trim() ? $('cp-html').value : null;
    body.window = $('cp-from').value && $('cp-to').value ? { from: $('cp-from').value, to: $('cp-to').value } : null;
    return body;
  }

  // How many clients the filter reaches, said before saving.
  function audienceSoon() {
    clearTimeout(audienceTimer);
    audienceTimer = setTimeout(audience, 250);
  }
  async function audience() {
    const b = campaignBody();
    try {
      const a = await json('api/campaigns/audience', { method: 'POST',
        body: JSON.stringify({ filter: b.filter, channel: b.channel }) });
      $('cp-audience').textContent = 'Matches ' + a.clients + (a.clients === 1 ? ' client' : ' clients') + ' now.';
      $('cp-audience').dataset.clients = a.clients;
    } catch (err) {
      $('cp-audience').textContent = err.message;
      delete $('cp-audience').dataset.clients;
    }
  }

  function editCampaign(c) {
    editingCampaign = c ? c.id : null;
    $('cp-form').reset();
    clearErrors('cp');
    if (c) {
      $('cp-start').value = toLocal(c.start_at);
      $('cp-end').value = toLocal(c.end_at);
      $('cp-text').value = c.text;
      $('cp-ops').value = c.filter.operator_codes.join(', ');
      $('cp-tags').value = c.filter.tags.join(', ');
      $('cp-from').value = c.window ? c.window.from : '';
      $('cp-to').value = c.window ? c.window.to : '';
      $('cp-channel').value = c.channel;
      $('cp-subject').value = c.subject || '';
      $('cp-html').value = c.html || '';
    }
    channelFields();
    $('cp-box-title').textContent = c ? 'Edit campaign #' + c.id : 'New campaign';
    $('cp-save').textContent = c ? 'Save campaign' : 'Create campaign';
    $('cp-cancel').hidden = !c;
    $('cp-box').open = true;
    audience();
    $('cp-start').focus();
  }

  async function saveCampaign(e) {
    e.preventDefault();
    clearErrors('cp');
    const body = campaignBody();
    if (!body.start_at) return fail('cp', 'Say when the campaign starts.', 'cp-start');
    if (!body.end_at) return fail('cp', 'Say when it ends.', 'cp-end');
    if (body.channel === 'mail' && !body.subject) return fail('cp', 'Give the mail a subject.', 'cp-subject');
    if (!body.text) return fail('cp', 'Write its text.', 'cp-text');
    if (!!$('cp-from').value !== !!$('cp-to').value) return fail('cp', 'A window has a start and an end.', 'cp-from');
    try {
      const c = editingCampaign === null
        ? await json('api/campaigns', { method: 'POST', body: JSON.stringify(body) })
        : await json('api/campaigns/' + editingCampaign, { method: 'PATCH', body: JSON.stringify(body) });
      editingCampaign = null;
      $('cp-form').reset();
      $('cp-box').open = false;
      $('cp-cancel').hidden = true;
      $('cp-box-title').textContent = 'New campaign';
      $('cp-save').textContent = 'Create campaign';
      await loadCampaigns(true);
      location.hash = '#campaigns:' + c.id;
    } catch (err) {
      fail('cp', 'Not saved: ' + plain(err.message, CAMPAIGN_WORDS), fieldOf(err.message, CAMPAIGN_FIELDS, 'cp-text'));
    }
  }

  async function deleteCampaign(id) {
    if (!window.confirm('Delete campaign #' + id + '? It sends no more; its messages and statistics stay.')) return;
    try {
      await json('api/campaigns/' + id, { method: 'DELETE' });
      await loadCampaigns(true);
    } catch (err) {
      window.alert('Not deleted: ' + err.message);
    }
  }

  // --- a campaign's page.

  function counts(s) {
    const ul = $('campaign-counts');
    ul.textContent = '';
    for (const k of STATUSES) {
      const li = el('li');
      li.dataset.status = k;
      li.append(el('span', 'k', k + ' '), el('span', 'v', s.counts[k]));
      ul.append(li);
    }
    $('campaign-counts').dataset.total = s.messages;
  }

  function attempt(a) {
    const bits = [window.mailhooksUI.date(a.at), a.outcome || 'in flight'];
    if (a.http_status) bits.push('HTTP ' + a.http_status);
    if (typeof a.duration_ms === 'number') bits.push(a.duration_ms + ' ms');
    if (a.error) bits.push(a.error);
    return el('span', 'detail', bits.join(' \u00b7 '));
  }

  // A campaign's warnings (a window that never opens for some clients).
  function showWarnings(ul, warnings) {
    ul.textContent = '';
    for (const w of warnings || []) {
      const li = el('li', 'banner', 'Warning: ' + w.detail + '.');
      if (w.timezones && w.timezones.length) li.append(' (' + w.timezones.slice(0, 5).join(', ') +
        (w.timezones.length > 5 ? ', \u2026' : '') + ')');
      ul.append(li);
    }
    ul.hidden = !ul.children.length;
  }

  function messageItem(m) {
    const li = el('li');
    li.dataset.message = m.id;
    // Whom it went to: the client's phone, or its number once deleted.
    const to = m.phone ? m.phone : 'client ' + m.client_id + ' (deleted)';
    li.append(el('strong', '', 'Message ' + m.id), ' to ' + to + ' ', pill(m.status));
    // Deferred to its campaign's end: its window opens no more before it.
    if (m.status === 'deferred' && m.next_attempt_at && openEnd && new Date(m.next_attempt_at) >= openEnd)
      li.append(' ', el('span', 'mail-status s-expired', 'will expire'));
    if (m.next_attempt_at) li.append(' ', el('span', 'hint', 'next ' + window.mailhooksUI.date(m.next_attempt_at) +
      (m.waiting ? ' (' + m.waiting + ')' : '')));
    if (m.error && m.status !== 'retrying') li.append(el('span', 'detail', m.error));
    for (const a of m.attempts || []) li.append(attempt(a));
    return li;
  }

  async function loadMessages(reset) {
    const q = new URLSearchParams({ limit: PAGE });
    if ($('campaign-status').value) q.set('status', $('campaign-status').value);
    if (!reset && messagesBefore !== null) q.set('before', messagesBefore);
    const page = await json('api/campaigns/' + openId + '/messages?' + q);
    if (reset) $('campaign-messages').textContent = '';
    for (const m of page.messages) if (typeof m.id === 'number') $('campaign-messages').append(messageItem(m));
    if (!$('campaign-messages').children.length) $('campaign-messages').append(el('li', 'empty', 'No messages yet.'));
    messagesBefore = page.more ? page.next_before : null;
    $('campaign-older').hidden = messagesBefore === null;
  }

  async function openCampaign(id) {
    let c, s;
    try {
      [c, s] = await Promise.all([json('api/campaigns/' + encodeURIComponent(id)),
        json('api/campaigns/' + encodeURIComponent(id) + '/stats')]);
    } catch (e) {
      window.alert(e.status === 404 ? 'There is no campaign ' + id + '.' : 'The campaign could not be loaded: ' + e.message);
      return;
    }
    openId = c.id;
    openEnd = new Date(c.end_at);
    $('campaign-title').textContent = 'Campaign #' + c.id;
    $('campaign-meta').textContent = '';
    $('campaign-meta').append(pill(c.status), ' ', when(c.start_at), ' \u2013 ', when(c.end_at),
      ' \u00b7 ' + (c.channel === 'mail' ? 'by mail' : 'by the external API') +
      (c.window ? ' \u00b7 ' + c.window.from + '\u2013' + c.window.to + ' client time' : ''));
    $('campaign-text').textContent = c.text;
    showWarnings($('campaign-warnings'), c.warnings);
    counts(s);
    await loadMessages(true).catch(() => {});
    if (!$('campaign').open) $('campaign').showModal();
  }

  // A frame's change: the page's counts and messages, a little later so
  // that a burst of frames asks once.
  function refreshSoon() {
    if (refreshTimer) return;
    refreshTimer = setTimeout(async () => {
      refreshTimer = null;
      if (openId !== null) {
        try {
          counts(await json('api/campaigns/' + openId + '/stats'));
          await loadMessages(true);
        } catch (e) { /* the next frame tries again */ }
      }
      if (window.mailhooksViews.shown('#campaigns')) loadCampaigns(true).catch(() => {});
    }, 300);
  }

  function poll() {
    if (!running || $('status').dataset.state === 'live') return;
    if (openId !== null || window.mailhooksViews.shown('#campaigns')) refreshSoon();
  }

  window.mailhooksViews.add({
    prefix: '#campaigns', view: 'campaigns-view', link: 'view-campaigns',
    enter(id) {
      if (!running) return;
      health();
      loadClients(true).catch(() => {});
      loadCampaigns(true).catch(() => {});
      if (id) openCampaign(id);
      else if ($('campaign').open) $('campaign').close();
    },
    leave() { if ($('campaign').open) $('campaign').close(); },
  });

  let wired = false;
  function wire() {
    if (wired) return;
    wired = true;
    const sel = $('campaign-status');
    for (const k of STATUSES) sel.append(new Option(k, k));
    sel.addEventListener('change', () => loadMessages(true).catch(() => {}));
    $('cl-search').addEventListener('submit', (e) => {
      e.preventDefault();
      clientQuery = $('cl-q').value.trim();
      loadClients(true).catch(() => {});
    });
    $('cl-clear').addEventListener('click', () => {
      $('cl-q').value = clientQuery = '';
      loadClients(true).catch(() => {});
    });
    $('cl-form').addEventListener('submit', saveClient);
    $('cl-import-form').addEventListener('submit', importClients);
    $('cl-cancel').addEventListener('click', () => editClient(null));
    $('cl-older').addEventListener('click', () => loadClients(false).catch(() => {}));
    $('cp-form').addEventListener('submit', saveCampaign);
    $('cp-form').addEventListener('input', (e) => {
      if (['cp-ops', 'cp-tags', 'cp-channel'].includes(e.target.id)) audienceSoon();
      if (e.target.id === 'cp-channel') channelFields();
    });
    $('cp-box').addEventListener('toggle', () => { if ($('cp-box').open) audience(); });
    $('cp-cancel').addEventListener('click', () => editCampaign(null));
    $('cp-older').addEventListener('click', () => loadCampaigns(false).catch(() => {}));
    $('campaign-older').addEventListener('click', () => loadMessages(false).catch(() => {}));
    $('campaign-close').addEventListener('click', () => $('campaign').close());
    $('campaign').addEventListener('close', () => {
      openId = null;
      if (location.hash.startsWith('#campaigns:')) history.pushState(null, '', '#campaigns');
    });
    document.addEventListener('click', (e) => {
      const b = e.target.closest('button');
      if (!b) return;
      const d = b.dataset;
      if (d.campaign) location.hash = '#campaigns:' + d.campaign;
      else if (d.editClient) editClient(b.closest('tr')._client);
      else if (d.deleteClient) deleteClient(d.deleteClient);
      else if (d.editCampaign) editCampaign(b.closest('tr')._campaign);
      else if (d.deleteCampaign) deleteCampaign(d.deleteCampaign);
    });
  }

  return {
    start(who) {
      running = true;
      // Admins may change campaigns; readers see them.
      canWrite = who.role === 'admin';
      $('cl-box').hidden = $('cp-box').hidden = $('cl-import-box').hidden = !canWrite;
      wire();
      timer = setInterval(poll, POLL_MS);
    },
    stop() {
      running = false;
      clearInterval(timer);
      for (const id of ['cl-body', 'cp-body', 'campaign-messages', 'campaign-counts']) $(id).textContent = '';
      if ($('campaign').open) $('campaign').close();
    },
    // A campaign message's change of state, from the relay.
    changed(f) {
      if (!running || typeof f.campaign_id !== 'number') return;
      if (openId === f.campaign_id || window.mailhooksViews.shown('#campaigns')) refreshSoon();
    },
  };
})();
