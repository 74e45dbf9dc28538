// mailhooks page: history from /api/events, live events from /ws, and a
// catch-up from /api/events?after=SEQ on every (re)connect, so that nothing
// is missed and nothing shows twice whatever order the two arrive in. When
// /ws cannot be reached (no relay, as on shared hosting), it polls
// /api/events?after=SEQ instead, and goes back to live when /ws returns.
// Every value from a webhook reaches the DOM through textContent only.
'use strict';

(function () {
  const HISTORY = 50;
  const MAX_ROWS = 500;
  const MAX_OPENS = 100;
  const MAX_TOASTS = 3;
  const POLL_MS = 3000;
  const FAILURES_BEFORE_POLLING = 2;

  const state = {
    lastSeq: 0,          // highest seq shown: the catch-up cursor
    seen: new Set(),     // seqs shown, so a replayed event is dropped
    ws: null,
    backoff: 500,
    failures: 0,         // WebSocket attempts in a row that did not open
    poller: null,
  };

  const $ = (id) => document.getElementById(id);

  function setStatus(kind, text) {
    $('status').dataset.state = kind;
    $('status-text').textContent = text;
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
    return date.toLocaleString();
  }

  function timeCell(ev) {
    const d = eventTime(ev);
    const t = el('time', 'rel', relative(d));
    if (!isNaN(d)) {
      t.dateTime = d.toISOString();
      t.title = d.toLocaleString();
    }
    return t;
  }

  function where(ev) {
    const parts = [];
    const loc = ev.location;
    if (loc && typeof loc === 'object') {
      const place = [loc.city, loc.country].filter((x) => typeof x === 'string' && x).join(', ');
      if (place) parts.push(place);
    }
    const ua = ev.ua;
    if (ua && typeof ua === 'object') {
      const client = [ua.ua_family, ua.os_family].filter((x) => typeof x === 'string' && x).join(' on ');
      if (client) parts.push(client);
    } else if (typeof ev.user_agent === 'string' && ev.user_agent) {
      parts.push(ev.user_agent.slice(0, 80));
    }
    return parts.join(' · ');
  }

  function addOpen(ev, fresh) {
    const li = el('li', 'open' + (fresh ? ' fresh' : ''));
    li.dataset.seq = ev.seq;
    const who = el('div', 'who', ev.email || '(unknown recipient)');
    const what = el('div', 'what', 'opened \u201c' + (ev.subject || '(no subject)') + '\u201d');
    const meta = el('div', 'meta');
    meta.append(timeCell(ev));
    const w = where(ev);
    if (w) meta.append(document.createTextNode(' \u00b7 ' + w));
    li.append(who, what, meta);
    insertBySeq($('opens'), li, ev.seq);
    while ($('opens').children.length > MAX_OPENS) $('opens').lastElementChild.remove();
    $('opens-empty').hidden = true;
  }

  function addRow(ev) {
    const tr = el('tr');
    tr.dataset.seq = ev.seq;
    const type = el('span', 'type type-' + String(ev.type).replace(/[^a-z_]/g, ''), ev.type);
    const cells = [timeCell(ev), type, document.createTextNode(ev.email || ''),
      document.createTextNode(ev.subject || ''), document.createTextNode(ev.message_id || '')];
    for (const c of cells) {
      const td = el('td');
      td.append(c);
      tr.append(td);
    }
    insertBySeq($('events-body'), tr, ev.seq);
    while ($('events-body').children.length > MAX_ROWS) $('events-body').lastElementChild.remove();
    $('events-empty').hidden = true;
  }

  // Keeps a list newest first by seq, whatever order events arrive in.
  function insertBySeq(list, node, seq) {
    for (const child of list.children) {
      if (Number(child.dataset.seq) < seq) {
        list.insertBefore(node, child);
        return;
      }
    }
    list.append(node);
  }

  function toast(ev) {
    const t = el('div', 'toast', (ev.email || 'someone') + ' opened \u201c' + (ev.subject || '(no subject)') + '\u201d');
    $('toasts').append(t);
    while ($('toasts').children.length > MAX_TOASTS) $('toasts').firstElementChild.remove();
    setTimeout(() => t.remove(), 6000);
  }

  // fresh: arrived while the page was open (live or catch-up), not history.
  function show(ev, fresh) {
    if (!ev || typeof ev.seq !== 'number' || state.seen.has(ev.seq)) return;
    state.seen.add(ev.seq);
    if (ev.seq > state.lastSeq) state.lastSeq = ev.seq;
    addRow(ev);
    if (ev.type === 'open') {
      addOpen(ev, fresh);
      if (fresh) toast(ev);
    }
  }

  async function getJSON(url) {
    const r = await fetch(url, { headers: { Accept: 'application/json' }, cache: 'no-store' });
    if (!r.ok) throw new Error(url + ': HTTP ' + r.status);
    return r.json();
  }

  async function loadHistory() {
    const page = await getJSON('api/events?limit=' + HISTORY);
    for (const ev of page.events.slice().reverse()) show(ev, false);
  }

  async function catchUp() {
    for (;;) {
      const page = await getJSON('api/events?limit=500&after=' + state.lastSeq);
      for (const ev of page.events) show(ev, true);
      if (!page.more) return;
    }
  }

  function wsURL() {
    const u = new URL('ws?types=all', document.baseURI);
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    return u.href;
  }

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

  function connect() {
    let ws;
    try {
      ws = new WebSocket(wsURL());
    } catch (e) {
      retry();
      return;
    }
    state.ws = ws;
    ws.onopen = async () => {
      state.backoff = 500;
      state.failures = 0;
      stopPolling();
      setStatus('live', 'live');
      try {
        await catchUp();
      } catch (e) {
        /* the next reconnect catches up */
      }
    };
    ws.onmessage = (m) => {
      let ev;
      try {
        ev = JSON.parse(m.data);
      } catch (e) {
        return;
      }
      show(ev, true);
    };
    ws.onclose = () => {
      if (state.ws !== ws) return;
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

  async function start() {
    try {
      await loadHistory();
    } catch (e) {
      setStatus('offline', 'cannot load history');
    }
    connect();
    setInterval(tick, 15000);
  }

  start();
})();
