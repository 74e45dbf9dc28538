// The page's views, one shown at a time by the URL's hash: "Events" (no
// hash), "#outgoing", "#campaigns"; a view's item follows its name after
// a colon (#outgoing:12, #campaigns:3). Each view says what to do when
// it is entered (with its item or null) and left.
'use strict';

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
