// The page's views, one shown at a time by the URL's hash: "Events" (no
// hash), "#outgoing", "#campaigns"; a view's item follows its name after
// a colon (#outgoing:12, #campaigns:3). Each view says what to do when
// it is entered (with its item or null) and left. And what the views
// build their parts with (mailhooksUI).
'use strict';

window.mailhooksUI = {
  // The API's answer as JSON; an error carries the API's detail and the
  // status. A 401 ends the session.
  async json(url, init) {
    const r = await fetch(url, { cache: 'no-store', ...init,
      headers: { Accept: 'application/json', 'Content-Type': 'application/json' } });
    if (r.status === 401) window.mailhooksSession.ended('Your session ended: sign in again.');
    const body = r.status === 204 ? null : await r.json().catch(() => null);
    if (!r.ok) {
      const e = new Error(body && body.detail ? body.detail : url + ': HTTP ' + r.status);
      e.status = r.status;
      throw e;
    }
    return body;
  },
  // An element, its class and its text (text, never HTML).
  el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  },
  // A state as a pill.
  pill(s) {
    return window.mailhooksUI.el('span', 'mail-status s-' + String(s).replace(/[^a-z_]/g, ''), s);
  },
  // On a phone a table's rows are cards: each cell says its column's name
  // (data-label, from the head), as rows come and go.
  cards(table) {
    const names = [...table.querySelectorAll('thead th')].map((th) => th.textContent.trim());
    const label = (tr) => [...tr.children].forEach((td, i) => {
      if (names[i]) td.dataset.label = names[i];
    });
    const body = table.tBodies[0];
    [...body.rows].forEach(label);
    new MutationObserver((changes) => {
      for (const c of changes) for (const n of c.addedNodes) if (n.nodeName === 'TR') label(n);
    }).observe(body, { childList: true });
  },
  // The page's one date format: the browser's locale and zone, named.
  FORMAT: new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric',
    hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'short' }),
  // A date (a Date, an ISO text or ms) in that format; '' when none.
  date(v) {
    const d = v instanceof Date ? v : new Date(v);
    return isNaN(d) ? '' : window.mailhooksUI.FORMAT.format(d);
  },
  // A time in the browser's zone, its ISO form in dateTime.
  when(iso) {
    const d = new Date(iso);
    const t = window.mailhooksUI.el('time', '', window.mailhooksUI.date(d));
    if (!isNaN(d)) t.dateTime = d.toISOString();
    return t;
  },
};

window.mailhooksViews = (function () {
  const views = [];   // { prefix, view, link, enter(item), leave() }
  let current = null, started = false;

  function pick(hash) {
    return views.find((v) => v.prefix && (hash === v.prefix || hash.startsWith(v.prefix + ':'))) ||
      views.find((v) => !v.prefix);
  }

  function route() {
    const h = location.hash;
    const next = pick(h);
    if (!next) return;
    for (const v of views) {
      document.getElementById(v.view).hidden = v !== next;
      const a = document.getElementById(v.link);
      if (v === next) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    if (current && current !== next && current.leave) current.leave();
    current = next;
    const item = next.prefix && h.startsWith(next.prefix + ':') ? decodeURIComponent(h.slice(next.prefix.length + 1)) : null;
    if (next.enter) next.enter(item);
  }

  return {
    add(v) { views.push(v); },
    route,
    start() {
      if (!started) window.addEventListener('hashchange', route);
      started = true;
      route();
    },
    // Whether the view of prefix is the one shown.
    shown(prefix) { return current !== null && current.prefix === prefix; },
  };
})();

// Every table that becomes cards on a phone.
for (const id of ['events', 'refused-table', 'mail-table', 'cl-table', 'cp-table'])
  if (document.getElementById(id)) window.mailhooksUI.cards(document.getElementById(id));
