// The bell: the signed-in user's notifications. Its count comes with every
// frame of the user's own channel (/ws/notifications/USER), so it never
// drifts; the panel lists them newest first, older on demand; click or
// Enter marks one read and follows its link. On a reconnect it catches up
// with /api/notifications/USER?after=ID, and without a relay it asks so
// every few seconds. Every value reaches the page as text only.
'use strict';

window.mailhooksBell = (function () {
  const PAGE = 20;
  const NOTIFY_KEY = 'mailhooks.notifications';
  const $ = (id) => document.getElementById(id);
  let user = null, ws = null, backoff = 500, lastId = 0, older = null, running = false;
  const items = new Map();   // id -> its list item

  const api = (p) => 'api/notifications/' + encodeURIComponent(user) + p;

  async function json(url, init) {
    const r = await fetch(url, { cache: 'no-store', ...init,
      headers: { Accept: 'application/json', 'Content-Type': 'application/json' } });
    if (r.status === 401) window.mailhooksSession.ended('Your session ended: sign in again.');
    if (!r.ok) throw new Error(url + ': HTTP ' + r.status);
    return r.json();
  }

  function setCount(n) {
    $('bell-count').textContent = String(n);
    $('bell-count').hidden = n === 0;
    $('bell').setAttribute('aria-label', n === 1 ? 'Notifications: 1 unread' : 'Notifications: ' + n + ' unread');
  }

  function mark(li, read) {
    li.classList.toggle('unread', !read);
    li.querySelector('.state').textContent = read ? '' : 'unread';
  }

  // A link is followed when it is this site's path or an http(s) URL.
  function follow(link) {
    if (!link) return;
    if (/^\/[^/\\]/.test(link) || link === '/') location.assign(link);
    else if (/^https?:\/\//.test(link)) window.open(link, '_blank', 'noopener');
  }

  async function open(n) {
    try {
      if (!n.read_at) await json('api/notifications/' + n.id, { method: 'PUT', body: '{"read":true}' });
    } catch (e) { /* the link still opens */ }
    follow(n.link);
  }

  function item(n) {
    const li = document.createElement('li');
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'note';
    const title = document.createElement('span');
    title.className = 'note-title';
    title.textContent = n.title;
    const meta = document.createElement('span');
    meta.className = 'note-meta';
    meta.textContent = [KINDS[n.identifier] || n.identifier, n.created_at ? window.mailhooksUI.date(n.created_at) : '']
      .filter(Boolean).join(' · ');
    const state = document.createElement('span');
    state.className = 'state';
    b.append(title, meta, state);
    if (n.description) {
      const d = document.createElement('span');
      d.className = 'note-desc';
      d.textContent = n.description;
      b.append(d);
    }
    b.addEventListener('click', () => open(n));
    li.append(b);
    li.dataset.id = String(n.id);
    mark(li, !!n.read_at);
    return li;
  }

  // Adds a notification in its place (newest first), once.
  function add(n) {
    if (items.has(n.id)) return false;
    const li = item(n);
    items.set(n.id, li);
    const list = $('bell-list');
    const after = [...list.children].find((c) => Number(c.dataset.id) < n.id);
    list.insertBefore(li, after || null);
    lastId = Math.max(lastId, n.id);
    $('bell-empty').hidden = true;
    return true;
  }

  function desktop(n) {
    if (typeof Notification === 'undefined' || Notification.permission !== 'granted' ||
        localStorage.getItem(NOTIFY_KEY) !== 'on') return;
    try {
      new Notification(n.title, { body: n.description || '', tag: 'mailhooks-n-' + n.id });
    } catch (e) { /* some browsers only notify from a service worker */ }
  }

  function frame(f) {
    if (f.kind === 'notification') {
      if (add(f)) desktop(f);
    } else if (f.kind === 'read' && items.has(f.id)) {
      mark(items.get(f.id), !!f.read_at);
    } else if (f.kind === 'deleted' && items.has(f.id)) {
      items.get(f.id).remove();
      items.delete(f.id);
    } else if (f.kind === 'read_all') {
      for (const li of items.values()) mark(li, true);
    }
    if (typeof f.unread === 'number') setCount(f.unread);
  }

  async function page(before) {
    const p = await json(api('?limit=' + PAGE + (before ? '&before=' + before : '')));
    p.notifications.forEach(add);
    older = p.more ? p.next_before : null;
    $('bell-older').hidden = older === null;
    $('bell-empty').hidden = items.size > 0;
    return p;
  }

  async function catchUp() {
    for (let more = true; more && running;) {
      const p = await json(api('?after=' + lastId + '&limit=100'));
      p.notifications.forEach((n) => { if (add(n)) desktop(n); });
      setCount(p.unread);
      more = p.more;
    }
  }

  async function connect() {
    if (!running) return;
    try {
      const t = await json('api/ws-ticket');
      if (!running) return;
      const u = new URL('ws/notifications/' + encodeURIComponent(user) + '?ticket=' + encodeURIComponent(t.ticket), document.baseURI);
      u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
      const s = new WebSocket(u.href);
      ws = s;
      s.onopen = () => { backoff = 500; catchUp().catch(() => {}); };
      s.onmessage = (m) => { try { frame(JSON.parse(m.data)); } catch (e) { /* not ours */ } };
      s.onclose = () => { if (ws === s && running) retry(); };
    } catch (e) {
      if (running) retry();
    }
  }

  // While the channel cannot be had (no relay, as on shared hosting), each
  // try also asks what came: the count keeps up, every few seconds.
  function retry() {
    ws = null;
    catchUp().catch(() => {});
    setTimeout(connect, backoff * (0.8 + Math.random() * 0.4));
    backoff = Math.min(backoff * 2, 5000);
  }

  // The words of the identifiers mailhooks itself gives; a program's own
  // are shown as they are.
  const KINDS = { EMAIL_OPENED: 'Mail opened', EMAIL_CLICKED: 'Link clicked', TEST: 'Test' };

  function toggle(show) {
    $('bell-panel').hidden = !show;
    $('bell').setAttribute('aria-expanded', String(show));
    if (show) ($('bell-list').querySelector('button') || $('bell-readall')).focus();
  }

  let wired = false;
  function wire() {
    if (wired) return;
    wired = true;
    $('bell').addEventListener('click', () => toggle($('bell-panel').hidden));
    $('bell-panel').addEventListener('keydown', (e) => {
      if (e.key === 'Escape') { toggle(false); $('bell').focus(); }
    });
    // A tap or a click outside closes it, and so does going to a view.
    document.addEventListener('pointerdown', (e) => {
      if (!$('bell-panel').hidden && !$('bell-panel').contains(e.target) && !$('bell').contains(e.target))
        toggle(false);
    });
    window.addEventListener('hashchange', () => toggle(false));
    $('bell-older').addEventListener('click', () => page(older).catch(() => {}));
    $('bell-readall').addEventListener('click', () =>
      json(api('/read-all'), { method: 'POST', body: '' }).then((r) => {
        for (const li of items.values()) mark(li, true);
        setCount(r.unread);
      }).catch(() => {}));
  }

  async function start(who) {
    user = who.user;
    running = true;
    wire();
    $('bell').hidden = false;
    try {
      setCount((await page(null)).unread);
    } catch (e) { /* the channel's first frame brings the count */ }
    connect();
  }

  function stop() {
    running = false;
    const s = ws;
    ws = null;
    if (s) s.close();
    items.clear();
    lastId = 0;
    $('bell-list').textContent = '';
    toggle(false);
    setCount(0);
  }

  return { start, stop };
})();
