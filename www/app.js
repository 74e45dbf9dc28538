// mailhooks page: history from /api/events, live events from /ws, and a
// catch-up from /api/events?after=SEQ on every (re)connect, so that nothing
// is missed and nothing shows twice whatever order the two arrive in. When
// /ws cannot be reached (no relay, as on shared hosting), it polls
// /api/events?after=SEQ instead, and goes back to live when /ws returns.
// The table's filters live in the URL, so a view can be bookmarked.
// Every value from a webhook reaches the DOM through textContent only.
// It starts once somebody is signed in (signin.js); each WebSocket
// connection takes a ticket of its own (/api/ws-ticket).
'use strict';

(function () {
  const PAGE = 50;
  const MAX_OPENS = 100;
  const MAX_TOASTS = 3;
  const POLL_MS = 3000;
  const FAILURES_BEFORE_POLLING = 2;
  const STATS_MS = 30000;
  const NOTIFY_KEY = 'mailhooks.notifications';

  const state = {
    lastSeq: 0,          // highest seq accounted for: the catch-up cursor
    rows: new Set(),     // seqs in the table
    opens: new Set(),    // seqs in the opens list
    filter: {},          // the table's filters: type, email, message_id, q,
                         // range (a preset, or custom with since, until)
    older: null,         // the table's next cursor ({seq, ts}: order=time), or null
    sort: { key: 'time', dir: -1 },  // the table's order: a column, and which way
    ws: null,
    backoff: 500,
    failures: 0,         // WebSocket attempts in a row that did not open
    poller: null,
    statsTimer: null,
    signedIn: false,     // the page runs: a session answers
    started: false,      // it ran once: a second sign-in reloads it
    who: null,
  };

  const $ = (id) => document.getElementById(id);

  function setStatus(kind, text) {
    $('status').dataset.state = kind;
    $('status-text').textContent = text;
  }

  // A value from a webhook, isolated for the bidirectional algorithm (FSI
  // ... PDI): a right-to-left override inside it cannot reorder the text
  // around it, in the page as in a notification.
  function iso(value) {
    return '\u2068' + String(value) + '\u2069';
  }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function eventTime(ev) {
    if (typeof ev.ts === 'number' && ev.ts > 0) return new Date(ev.ts * 1000);
    return new Date(ev.received_at);
  }

  function relative(date) {
    const s = Math.round((Date.now() - date.getTime()) / 1000);
    if (!isFinite(s)) return '';
    if (s < 5) return 'just now';
    if (s < 60) return s + ' s ago';
    if (s < 3600) return Math.floor(s / 60) + ' min ago';
    if (s < 86400) return Math.floor(s / 3600) + ' h ago';
    return window.mailhooksUI.date(date);
  }

  // The absolute time in the browser's zone (named), the relative one on
  // hover.
  function timeCell(ev) {
    const d = eventTime(ev);
    const t = el('time', 'abs', window.mailhooksUI.date(d));
    if (!isNaN(d)) {
      t.dateTime = d.toISOString();
      t.title = relative(d);
    }
    return t;
  }

  function where(ev) {
    const parts = [];
    const loc = ev.location;
    if (loc && typeof loc === 'object') {
      const place = [loc.city, loc.country].filter((x) => typeof x === 'string' && x).map(iso).join(', ');
      if (place) parts.push(place);
    }
    const ua = ev.ua;
    if (ua && typeof ua === 'object') {
      const client = [ua.ua_family, ua.os_family].filter((x) => typeof x === 'string' && x).map(iso).join(' on ');
      if (client) parts.push(client);
    } else if (typeof ev.user_agent === 'string' && ev.user_agent) {
      parts.push(iso(ev.user_agent.slice(0, 80)));
    }
    return parts.join(' \u00b7 ');
  }

  // The subject, or for Infobip the best it has: callbackData's
  // qj_subject when present, else the status.
  function subjectOf(ev) {
    if (ev.subject) return iso(ev.subject);
    const cb = ev.callback_data || ev.callbackData;
    if (cb && typeof cb === 'object' && typeof cb.qj_subject === 'string' && cb.qj_subject) return iso(cb.qj_subject);
    if (ev.provider === 'infobip' && typeof ev.status === 'string' && ev.status) return iso(ev.status);
    return '(no subject)';
  }

  function emailOf(ev, none) {
    return ev.email ? iso(ev.email) : none;
  }

  // Keeps a list newest first by seq, whatever order events arrive in.
  // The table's order: newest event time first (the server's, order=time),
  // or a column a person chose; a row comes in where the order puts it.
  const SORTS = {
    time: (a, b) => (Number(a.dataset.ts) - Number(b.dataset.ts)) || (Number(a.dataset.seq) - Number(b.dataset.seq)),
    type: (a, b) => a.dataset.type.localeCompare(b.dataset.type),
    email: (a, b) => a.dataset.email.localeCompare(b.dataset.email),
    subject: (a, b) => a.dataset.subject.localeCompare(b.dataset.subject),
  };
  function inOrder(a, b) {
    const by = SORTS[state.sort.key](a, b) || SORTS.time(a, b);
    return state.sort.dir * by;
  }
  function insertRow(list, tr) {
    for (const child of list.children)
      if (inOrder(tr, child) < 0) {
        list.insertBefore(tr, child);
        return;
      }
    list.append(tr);
  }
  function sortBy(key) {
    state.sort = { key, dir: state.sort.key === key ? -state.sort.dir : (key === 'time' ? -1 : 1) };
    for (const th of document.querySelectorAll('#events th[data-sort]'))
      th.setAttribute('aria-sort', th.dataset.sort !== key ? 'none' : state.sort.dir < 0 ? 'descending' : 'ascending');
    const rows = Array.from($('events-body').children).sort(inOrder);
    $('events-body').append(...rows);
  }

  function insertBySeq(list, node, seq) {
    for (const child of list.children) {
      if (Number(child.dataset.seq) < seq) {
        list.insertBefore(node, child);
        return;
      }
    }
    list.append(node);
  }

  function messageButton(id, short) {
    const s = String(id);
    const b = el('button', 'link' + (short ? ' msgid' : ''), short && s.length > 12 ? s.slice(0, 8) + '\u2026' : s);
    if (short) b.setAttribute('aria-label', 'Message ' + s);
    b.type = 'button';
    b.dataset.message = id;
    b.title = 'Show this message\u2019s timeline';
    return b;
  }

  // Who made an open or a click, in words: a machine's reason as a small
  // badge (its title says more); a mail service's proxy said too.
  const MACHINE_WORDS = {
    apple_mpp: ['Apple prefetch', 'Apple Mail Privacy Protection fetched the images at delivery: not a person opening it'],
    scanner: ['scanner', 'a security scanner followed it: not a person'],
    burst: ['burst', 'several links clicked within a second or two from one address: a machine'],
    prefetch: ['prefetch', 'moments after delivery, from an unusual address: a machine'],
  };
  function machineBadge(ev) {
    if (ev.machine && MACHINE_WORDS[ev.machine]) {
      const b = el('span', 'machine', 'machine: ' + MACHINE_WORDS[ev.machine][0]);
      b.title = MACHINE_WORDS[ev.machine][1];
      b.dataset.machine = ev.machine;
      return b;
    }
    if (ev.proxy) {
      const b = el('span', 'proxy', 'via ' + (ev.proxy === 'gmail' ? 'Gmail' : ev.proxy === 'yahoo' ? 'Yahoo' : ev.proxy));
      b.title = 'the mail service fetched the images for the person who opened it; where and on what is unknown';
      return b;
    }
    return null;
  }

  function addOpen(ev, fresh) {
    if (state.opens.has(ev.seq)) return;
    state.opens.add(ev.seq);
    const li = el('li', 'open' + (fresh ? ' fresh' : ''));
    li.dataset.seq = ev.seq;
    li.dataset.email = String(ev.email || '').toLowerCase();
    const who = el('div', 'who', emailOf(ev, '(unknown recipient)'));
    const what = el('div', 'what', 'opened \u201c' + subjectOf(ev) + '\u201d');
    const badge = machineBadge(ev);
    if (badge) what.append(' ', badge);
    const meta = el('div', 'meta');
    meta.append(timeCell(ev));
    const w = where(ev);
    if (w) meta.append(document.createTextNode(' \u00b7 ' + w));
    if (ev.message_id) {
      meta.append(document.createTextNode(' \u00b7 '));
      meta.append(messageButton(ev.message_id, true));
    }
    li.append(who, what, meta);
    insertBySeq($('opens'), li, ev.seq);
    while ($('opens').children.length > MAX_OPENS) {
      state.opens.delete(Number($('opens').lastElementChild.dataset.seq));
      $('opens').lastElementChild.remove();
    }
    $('opens-empty').hidden = true;
  }

  function addRow(ev) {
    if (state.rows.has(ev.seq)) return;
    state.rows.add(ev.seq);
    const tr = el('tr');
    tr.dataset.seq = ev.seq;
    tr.dataset.ts = typeof ev.ts === 'number' ? ev.ts : 0;
    tr.dataset.type = String(ev.type || '');
    tr.dataset.email = String(ev.email || '').toLowerCase();
    tr.dataset.subject = String(ev.subject || '');
    const type = el('span', 'type type-' + String(ev.type).replace(/[^a-z_]/g, ''), ev.type);
    const badge = machineBadge(ev);
    const details = el('span', 'detail-cell', [ev.provider, detail(ev)].filter(Boolean).join(' \u00b7 '));
    for (const tag of Array.isArray(ev.tags) ? ev.tags.slice(0, 5) : [])
      if (typeof tag === 'string') details.append(' ', el('span', 'tag', iso(tag)));
    const typeCell = document.createDocumentFragment();
    typeCell.append(type);
    if (badge) typeCell.append(' ', badge);
    const cells = [timeCell(ev), typeCell, document.createTextNode(ev.email || ''),
      document.createTextNode(ev.subject ? ev.subject : subjectOf(ev)), details,
      ev.message_id ? messageButton(ev.message_id, true) : document.createTextNode('')];
    for (const c of cells) {
      const td = el('td');
      td.append(c);
      tr.append(td);
    }
    insertRow($('events-body'), tr);
    $('events-empty').hidden = true;
    $('first-run').hidden = true;
  }

  function matches(ev) {
    const f = state.filter;
    const w = window.mailhooksActivity.window(f);
    if (f.type && ev.type !== f.type) return false;
    if (f.machine && (f.machine === '1') !== !!ev.machine) return false;
    if (f.email && String(ev.email || '').toLowerCase() !== f.email.toLowerCase()) return false;
    if (f.message_id && ev.message_id !== f.message_id) return false;
    if (f.q && !(String(ev.email || '') + '\n' + String(ev.subject || '')).toLowerCase().includes(f.q.toLowerCase())) return false;
    if (w.since !== undefined && !(ev.ts >= w.since)) return false;
    if (w.until !== undefined && !(ev.ts < w.until)) return false;
    return true;
  }

  // Rows of an erased recipient go from the table and the opens.
  function dropEmail(email) {
    const e = String(email).toLowerCase();
    for (const list of [$('events-body'), $('opens')])
      for (const node of Array.from(list.children))
        if (node.dataset.email === e) {
          (list === $('opens') ? state.opens : state.rows).delete(Number(node.dataset.seq));
          node.remove();
        }
    $('events-empty').hidden = state.rows.size > 0;
    $('opens-empty').hidden = state.opens.size > 0;
  }

  function toast(ev) {
    const t = el('div', 'toast', emailOf(ev, 'someone') + ' opened \u201c' + subjectOf(ev) + '\u201d');
    $('toasts').append(t);
    while ($('toasts').children.length > MAX_TOASTS) $('toasts').firstElementChild.remove();
    setTimeout(() => t.remove(), 6000);
  }

  function notificationsOn() {
    return typeof Notification !== 'undefined' && Notification.permission === 'granted' &&
      localStorage.getItem(NOTIFY_KEY) === 'on';
  }

  function desktopNotify(ev) {
    if (!notificationsOn()) return;
    try {
      new Notification(emailOf(ev, 'Someone') + ' opened an email', {
        body: subjectOf(ev) + (where(ev) ? '\n' + where(ev) : ''),
        tag: 'mailhooks-' + ev.seq,
      });
    } catch (e) {
      /* some browsers only notify from a service worker */
    }
  }

  // An event seen live or by catch-up (fresh), or from history.
  function show(ev, fresh) {
    if (!ev || typeof ev.seq !== 'number') return;
    const isNew = ev.seq > state.lastSeq;
    if (fresh && isNew) state.lastSeq = ev.seq;
    if (fresh && matches(ev)) addRow(ev);
    if (ev.type === 'open' && !state.opens.has(ev.seq)) {
      addOpen(ev, fresh);
      if (fresh && isNew) {
        toast(ev);
        desktopNotify(ev);
      }
    }
    if (fresh && isNew) scheduleStats(2000);
  }

  async function getJSON(url, init) {
    const r = await fetch(url, { headers: { Accept: 'application/json' }, cache: 'no-store', ...init });
    if (r.status === 401) window.mailhooksSession.ended('Your session ended: sign in again.');
    if (!r.ok) throw new Error(url + ': HTTP ' + r.status);
    return r.json();
  }

  function query(params) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
    return q.toString();
  }

  // The table: a page of events matching the filters, newest first. The
  // rows shown stay until the new ones have come: when the server cannot
  // be reached they stay, and a note says the list may be stale.
  async function loadTable(reset) {
    let page;
    try {
      page = await getJSON('api/events?' + query({ ...apiFilter(state.filter), order: 'time', limit: PAGE,
        before: reset || !state.older ? null : state.older.seq, before_time: reset || !state.older ? null : state.older.ts }));
    } catch (e) {
      $('events-stale').textContent = 'The server cannot be reached: these rows may be stale' +
        (reset ? ', and the filters are not applied yet.' : '.');
      $('events-stale').hidden = false;
      throw e;
    }
    $('events-stale').hidden = true;
    if (reset) {
      state.rows.clear();
      $('events-body').textContent = '';
      state.older = null;
    }
    for (const ev of page.events) addRow(ev);
    if (page.events.length) $('first-run').hidden = true;
    state.older = page.more ? { seq: page.next_before, ts: page.next_before_time } : null;
    $('older').hidden = !page.more;
    $('events-empty').hidden = state.rows.size > 0;
    $('events-empty').textContent = Object.keys(state.filter).length ? 'No events match these filters.' : 'No events stored yet.';
    if (reset) firstRun(!Object.keys(state.filter).length && state.rows.size === 0);
  }

  async function loadHistory() {
    const newest = await getJSON('api/events?limit=1');
    if (newest.events.length) state.lastSeq = newest.events[0].seq;
    const opens = await getJSON('api/events?type=open&limit=20');
    for (const ev of opens.events.slice().reverse()) show(ev, false);
    await loadTable(true);
  }

  async function catchUp() {
    for (;;) {
      const page = await getJSON('api/events?limit=500&after=' + state.lastSeq);
      for (const ev of page.events) show(ev, true);
      if (!page.more) return;
    }
  }

  // A catch-up now, or again once the one under way ends.
  let catching = null;
  let catchAgain = false;
  function catchUpSoon() {
    if (catching) {
      catchAgain = true;
      return;
    }
    catching = catchUp().catch(() => {}).finally(() => {
      catching = null;
      if (catchAgain) {
        catchAgain = false;
        catchUpSoon();
      }
    });
  }

  // --- the filters, in the URL.

  const FILTER_KEYS = ['type', 'machine', 'email', 'message_id', 'q', 'range', 'since', 'until'];

  // The API's filters of the table's: a range preset becomes since, from
  // now.
  function apiFilter(f) {
    const out = { ...f, ...window.mailhooksActivity.window(f) };
    delete out.range;
    return out;
  }

  function filterFromURL() {
    const u = new URLSearchParams(location.search);
    const f = {};
    for (const k of FILTER_KEYS) if (u.get(k)) f[k] = u.get(k);
    state.filter = f;
    exportLinks();
    $('f-type').value = f.type || '';
    $('f-machine').value = f.machine || '';
    $('f-q').value = f.q || '';
    $('f-message').value = f.message_id || '';
    window.mailhooksActivity.showRange(f);
  }

  function urlFor(filter, message) {
    const q = query({ ...filter, message });
    return location.pathname + (q ? '?' + q : '');
  }

  // The export links carry the table's filters.
  function exportLinks() {
    const q = query(apiFilter(state.filter));
    $('export-csv').href = 'api/events.csv' + (q ? '?' + q : '');
    $('export-ndjson').href = 'api/events.ndjson' + (q ? '?' + q : '');
  }

  function applyFilter(f) {
    state.filter = f;
    exportLinks();
    history.pushState(null, '', urlFor(f, new URLSearchParams(location.search).get('message')));
    loadTable(true).catch(() => setStatus('offline', 'cannot load events'));
    window.mailhooksActivity.filtered(f);
  }

  function setUpFilters() {
    $('filters').addEventListener('submit', (e) => {
      e.preventDefault();
      const f = {};
      if ($('f-type').value) f.type = $('f-type').value;
      if ($('f-machine').value) f.machine = $('f-machine').value;
      if (state.filter.email) f.email = state.filter.email;
      if ($('f-q').value.trim()) f.q = $('f-q').value.trim();
      if ($('f-message').value.trim()) f.message_id = $('f-message').value.trim();
      Object.assign(f, window.mailhooksActivity.readRange());
      if (f.q && f.q.length < 2) {
        $('f-q').setCustomValidity('Type at least 2 characters.');
        $('f-q').reportValidity();
        return;
      }
      $('f-q').setCustomValidity('');
      applyFilter(f);
    });
    $('stats').addEventListener('click', (e) => {
      const m = e.target.closest('button[data-stat-machine]');
      if (m) {
        const f = { ...state.filter };
        if (f.machine === '1') delete f.machine;
        else f.machine = '1';
        $('f-machine').value = f.machine || '';
        m.parentElement.toggleAttribute('aria-current', f.machine === '1');
        applyFilter(f);
        return;
      }
      const b = e.target.closest('button[data-stat-type]');
      if (!b) return;
      const f = { ...state.filter };
      if (f.type === b.dataset.statType) delete f.type;
      else f.type = b.dataset.statType;
      $('f-type').value = f.type || '';
      for (const li of $('stats').children)
        if (li.dataset.type === f.type) li.setAttribute('aria-current', 'true');
        else li.removeAttribute('aria-current');
      applyFilter(f);
    });
    $('skip').addEventListener('click', (e) => {
      e.preventDefault();
      $('events-title').focus();
    });
    $('f-clear').addEventListener('click', () => {
      $('filters').reset();
      window.mailhooksActivity.showRange({});
      applyFilter({});
    });
    $('older').addEventListener('click', () => {
      loadTable(false).catch(() => setStatus('offline', 'cannot load events'));
    });
    for (const th of document.querySelectorAll('#events th[data-sort]'))
      th.querySelector('button').addEventListener('click', () => sortBy(th.dataset.sort));
    window.addEventListener('popstate', () => {
      filterFromURL();
      loadTable(true).catch(() => {});
      window.mailhooksActivity.filtered(state.filter);
      syncMessageView();
    });
  }

  // --- the message view.

  function detail(ev) {
    const parts = [];
    for (const v of [ev.url, ev.bounce_description, ev.diag, ev.status_description,
      ev.error && typeof ev.error === 'object' ? ev.error.description : null]) {
      if (typeof v === 'string' && v) parts.push(iso(v));
    }
    const w = where(ev);
    if (w) parts.push(w);
    return parts.join(' \u00b7 ');
  }

  // An unknown message is said in the dialog, where the user looks.
  function unknownMessage(id, e) {
    $('message-title').textContent = /HTTP 404/.test(String(e)) ? 'Unknown message' : 'Message not loaded';
    $('message-meta').textContent = /HTTP 404/.test(String(e))
      ? 'No event of message ' + iso(id) + ' is stored (yet).'
      : 'Message ' + iso(id) + ' could not be loaded: ' + (e && e.message ? e.message : 'the server cannot be reached') + '.';
    $('message-counts').textContent = '';
    $('message-timeline').textContent = '';
    window.mailhooksActivity.messageShown(null);
    if (!$('message').open) $('message').showModal();
  }

  async function openMessage(id) {
    let m;
    try {
      m = await getJSON('api/messages/' + encodeURIComponent(id));
    } catch (e) {
      unknownMessage(id, e);
      return;
    }
    $('message-title').textContent = m.subject ? iso(m.subject) : 'Message ' + iso(m.message_id);
    $('message-meta').textContent = [m.email, m.provider, m.message_id].filter(Boolean).map(iso).join(' \u00b7 ');
    const counts = $('message-counts');
    counts.textContent = '';
    for (const [label, n] of [['state', m.state || '\u2013'], ['opens', m.opens], ['clicks', m.clicks], ['events', m.events]]) {
      const li = el('li');
      li.append(el('span', 'k', label), el('span', 'v', n));
      counts.append(li);
    }
    const tl = $('message-timeline');
    tl.textContent = '';
    for (const ev of m.timeline) {
      const li = el('li');
      li.append(timeCell(ev), ' ', el('span', 'type type-' + String(ev.type).replace(/[^a-z_]/g, ''), ev.type));
      const d = detail(ev);
      if (d) li.append(el('span', 'detail', d));
      window.mailhooksActivity.timelineItem(li, ev);
      tl.append(li);
    }
    window.mailhooksActivity.messageShown(m);
    if (!$('message').open) $('message').showModal();
  }

  function syncMessageView() {
    const id = new URLSearchParams(location.search).get('message');
    if (id) openMessage(id).catch(() => {});
    else if ($('message').open) $('message').close();
  }

  function setUpMessageView() {
    document.addEventListener('click', (e) => {
      // A message's button, or anywhere on an event's row but a link or
      // another button (a whole card is what a thumb taps on a phone).
      let b = e.target.closest('button[data-message]');
      const row = !b && !e.target.closest('a, button') && e.target.closest('#events-body tr');
      if (row) b = row.querySelector('button[data-message]');
      if (!b) return;
      history.pushState(null, '', urlFor(state.filter, b.dataset.message));
      openMessage(b.dataset.message).catch(() => {});
    });
    $('message-close').addEventListener('click', () => $('message').close());
    $('message').addEventListener('close', () => {
      if (new URLSearchParams(location.search).get('message'))
        history.pushState(null, '', urlFor(state.filter, null));
    });
  }

  // --- stats, notifications, the test event.

  // The type filter offers the types the server knows, in its order (its
  // one table of types, as /api/stats counts them).
  function showTypes(counts) {
    const sel = $('f-type');
    if (sel.options.length > 1) return;
    for (const type of Object.keys(counts)) sel.append(new Option(type, type));
  }

  async function loadStats() {
    const s = await getJSON('api/stats');
    showTypes(s.counts);
    const ul = $('stats');
    ul.textContent = '';
    for (const [type, n] of Object.entries(s.counts)) {
      if (!n && !['send', 'delivered', 'open', 'click'].includes(type)) continue;
      const li = el('li');
      li.dataset.type = type;
      if (state.filter.type === type) li.setAttribute('aria-current', 'true');
      // A count filters the table by its type (again: all types).
      const b = el('button');
      b.type = 'button';
      b.dataset.statType = type;
      b.title = 'Show only ' + type.replace('_', ' ') + ' events';
      b.append(el('span', 'k', type.replace('_', ' ')), el('span', 'v', n));
      li.append(b);
      ul.append(li);
    }
    // Opens and clicks above are people's; the machines' apart, a count
    // that shows them.
    const machines = (s.machine_opens || 0) + (s.machine_clicks || 0);
    if (machines) {
      const li = el('li');
      li.dataset.type = 'machines';
      if (state.filter.machine === '1') li.setAttribute('aria-current', 'true');
      const b = el('button');
      b.type = 'button';
      b.dataset.statMachine = '1';
      b.title = 'Show only the opens and clicks machines made (Apple\u2019s prefetch, scanners, bursts, prefetches)';
      b.append(el('span', 'k', 'by machines'), el('span', 'v', machines));
      li.append(b);
      ul.append(li);
    }
  }

  function scheduleStats(ms) {
    clearTimeout(state.statsTimer);
    state.statsTimer = setTimeout(() => {
      if (!state.signedIn) return;
      loadStats().catch(() => {}).finally(() => scheduleStats(STATS_MS));
    }, ms);
  }

  function showNotifyButton() {
    const on = notificationsOn();
    $('notify').textContent = 'Desktop notifications: ' + (on ? 'on' : 'off');
    $('notify').setAttribute('aria-pressed', String(on));
  }

  function setUpNotifications() {
    if (typeof Notification === 'undefined') {
      $('notify').hidden = true;
      return;
    }
    showNotifyButton();
    $('notify').addEventListener('click', async () => {
      if (notificationsOn()) {
        localStorage.setItem(NOTIFY_KEY, 'off');
      } else {
        // Asked only now, because the user asked for it.
        const p = Notification.permission === 'granted' ? 'granted' : await Notification.requestPermission();
        localStorage.setItem(NOTIFY_KEY, p === 'granted' ? 'on' : 'off');
      }
      showNotifyButton();
    });
  }

  // An empty store: the URLs to paste into the providers, with copy
  // buttons, and the test event when it is on.
  async function firstRun(empty) {
    if (!empty) {
      $('first-run').hidden = true;
      return;
    }
    try {
      const h = await getJSON('api/health');
      if (h.last_seq > 0 || !h.webhook_urls) return;
      $('url-mandrill').textContent = h.webhook_urls.mandrill;
      $('url-infobip').textContent = h.webhook_urls.infobip;
      $('first-run-test').hidden = !(h.test_events && state.who && state.who.role === 'admin');
      $('first-run').hidden = false;
    } catch (e) { /* the empty note says enough */ }
  }

  function setUpFirstRun() {
    for (const b of document.querySelectorAll('#first-run button.copy'))
      b.addEventListener('click', async () => {
        const text = $(b.dataset.copy).textContent;
        try {
          await navigator.clipboard.writeText(text);
          b.textContent = 'Copied';
        } catch (e) {
          // No clipboard (plain http): the URL selected, for Ctrl-C.
          const range = document.createRange();
          range.selectNodeContents($(b.dataset.copy));
          getSelection().removeAllRanges();
          getSelection().addRange(range);
          b.textContent = 'Selected: press Ctrl-C';
        }
        setTimeout(() => { b.textContent = 'Copy'; }, 2500);
      });
    $('first-run-send').addEventListener('click', () => $('test-event').click());
  }

  function setUpTestEvent(allowed) {
    $('test-event').hidden = !allowed;
    if (!allowed) return;
    $('test-event').addEventListener('click', async () => {
      $('test-event').disabled = true;
      try {
        await getJSON('api/test-event', { method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json' }, body: '{}' });
      } catch (e) {
        setStatus('offline', 'the test event was not accepted');
      } finally {
        $('test-event').disabled = false;
      }
    });
  }

  // --- the live feed.

  async function poll() {
    try {
      await catchUp();
      if (state.poller) setStatus('polling', 'polling every ' + POLL_MS / 1000 + ' s (no live feed)');
    } catch (e) {
      if (state.poller) setStatus('offline', 'offline: retrying');
    }
  }

  function startPolling() {
    if (state.poller) return;
    state.poller = setInterval(poll, POLL_MS);
    poll();
  }

  function stopPolling() {
    clearInterval(state.poller);
    state.poller = null;
  }

  function wsURL(ticket) {
    const u = new URL('ws?types=all&ticket=' + encodeURIComponent(ticket), document.baseURI);
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    return u.href;
  }

  async function connect() {
    let ws;
    if (!state.signedIn) return;
    try {
      const t = await getJSON('api/ws-ticket');
      if (!state.signedIn) return;
      ws = new WebSocket(wsURL(t.ticket));
    } catch (e) {
      if (state.signedIn) retry();
      return;
    }
    state.ws = ws;
    ws.onopen = async () => {
      state.backoff = 500;
      state.failures = 0;
      stopPolling();
      setStatus('live', 'live');
      catchUpSoon();
    };
    ws.onmessage = (m) => {
      let ev;
      try {
        ev = JSON.parse(m.data);
      } catch (e) {
        return;
      }
      // A campaign message's change of state is the Campaigns view's, an
      // outgoing mail's the Outgoing view's.
      if (ev && ev.kind === 'campaign') {
        window.mailhooksCampaigns.changed(ev);
        return;
      }
      if (ev && ev.kind === 'mail') {
        window.mailhooksOutgoing.changed(ev);
        return;
      }
      if (ev && ev.kind === 'erased') {
        dropEmail(ev.email);
        return;
      }
      // A stand-in for an event too large to send whole, or a seq past
      // the next one (a datagram the relay never got): what was missed is
      // fetched, this one with it, rather than stepped over for good.
      if (ev && typeof ev.seq === 'number' &&
          (ev.too_large || ev.seq > state.lastSeq + 1)) {
        catchUpSoon();
        return;
      }
      show(ev, true);
      // An open mail's dialog follows its recipients' events.
      window.mailhooksOutgoing.event(ev);
    };
    ws.onclose = () => {
      if (state.ws !== ws || !state.signedIn) return;
      state.ws = null;
      retry();
    };
  }

  function retry() {
    const wait = Math.min(state.backoff, 10000) * (0.8 + Math.random() * 0.4);
    state.backoff = Math.min(state.backoff * 2, 10000);
    if (++state.failures >= FAILURES_BEFORE_POLLING) startPolling();
    else setStatus('reconnecting', 'reconnecting in ' + Math.ceil(wait / 1000) + ' s');
    setTimeout(connect, wait);
  }

  function tick() {
    for (const t of document.querySelectorAll('time.rel')) {
      const d = new Date(t.dateTime);
      if (!isNaN(d)) t.textContent = relative(d);
    }
  }

  async function start(who) {
    state.signedIn = true;
    if (state.started) {
      // Signed in again after the session ended: the page afresh, with
      // the filters of its URL.
      location.reload();
      return;
    }
    state.started = true;
    state.who = who;
    await loadStats().catch(() => {});
    filterFromURL();
    setUpFilters();
    setUpMessageView();
    setUpFirstRun();
    setUpNotifications();
    window.mailhooksBell.start(who);
    window.mailhooksOutgoing.start(who);
    window.mailhooksCampaigns.start(who);
    const admin = who.role === 'admin';
    window.mailhooksActivity.start(who, { dropEmail, filter: () => state.filter });
    window.mailhooksViews.start();
    getJSON('api/health').then((h) => setUpTestEvent(admin && h.test_events === true)).catch(() => setUpTestEvent(false));
    try {
      await loadHistory();
    } catch (e) {
      setStatus('offline', 'cannot load history');
    }
    syncMessageView();
    scheduleStats(STATS_MS);
    connect();
    setInterval(tick, 15000);
  }

  // The session ended (signed out, or a 401): nothing more is asked for,
  // and nothing of what was shown is left on the page.
  function stop() {
    state.signedIn = false;
    window.mailhooksBell.stop();
    window.mailhooksOutgoing.stop();
    window.mailhooksCampaigns.stop();
    window.mailhooksActivity.stop();
    const ws = state.ws;
    state.ws = null;
    if (ws) ws.close();
    stopPolling();
    clearTimeout(state.statsTimer);
    for (const id of ['opens', 'events-body', 'stats', 'message-timeline', 'message-counts', 'toasts'])
      $(id).textContent = '';
    if ($('message').open) $('message').close();
  }

  window.mailhooksViews.add({ prefix: '', view: 'events-view', link: 'view-events' });
  window.mailhooksSession.start(start, stop);
})();
