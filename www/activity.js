// The events view as an activity tool, beside the live table of app.js:
// the time range of the filters (presets, or custom, kept in the URL),
// the chart of sends, deliveries, opens and clicks over that range
// (uPlot, from /api/stats/series), the rates by tag or template, and for
// admins the refused webhooks (a banner, and their view), a message's
// raw requests with their reprocessing, and erasing a recipient.
'use strict';

window.mailhooksActivity = (function () {
  const UI = window.mailhooksUI;
  const $ = (id) => document.getElementById(id);
  const PRESETS = { '1h': 3600, '24h': 86400, '7d': 7 * 86400, '30d': 30 * 86400 };
  // Told apart by the line's dash and its point shape, not its colour alone.
  const SERIES = [
    { type: 'send', label: 'sent', stroke: '#5b6b7f', dash: [], shape: 'circle' },
    { type: 'delivered', label: 'delivered', stroke: '#1a7f37', dash: [10, 5], shape: 'square' },
    { type: 'open', label: 'opened', stroke: '#0b63c5', dash: [2, 4], shape: 'triangle' },
    { type: 'click', label: 'clicked', stroke: '#b4530a', dash: [12, 4, 2, 4], shape: 'diamond' },
  ];
  const REFUSED_MS = 60000;
  let app = null, who = null, plot = null, refusedTimer = null, chartSeq = 0, byWatch = null;

  // --- the range: presets are relative to now, custom is two times.

  function toLocalInput(unix) {
    const d = new Date(unix * 1000);
    const pad = (n) => String(n).padStart(2, '0');
    return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) +
      'T' + pad(d.getHours()) + ':' + pad(d.getMinutes());
  }

  function fromLocalInput(v) {
    const t = new Date(v).getTime();
    return isNaN(t) ? undefined : Math.floor(t / 1000);
  }

  // The window [since, until) of a filter, in Unix seconds.
  function window_(f) {
    if (f.range && PRESETS[f.range]) return { since: Math.floor(Date.now() / 1000) - PRESETS[f.range] };
    const w = {};
    if (f.since && /^-?\d+$/.test(f.since)) w.since = Number(f.since);
    if (f.until && /^-?\d+$/.test(f.until)) w.until = Number(f.until);
    return w;
  }

  function showRange(f) {
    const custom = f.range === 'custom' || (!f.range && (f.since || f.until));
    $('f-range').value = custom ? 'custom' : (f.range && PRESETS[f.range] ? f.range : '');
    $('f-custom').hidden = !custom;
    const w = window_(f);
    $('f-since').value = custom && w.since !== undefined ? toLocalInput(w.since) : '';
    $('f-until').value = custom && w.until !== undefined ? toLocalInput(w.until) : '';
  }

  function readRange() {
    const r = $('f-range').value;
    if (PRESETS[r]) return { range: r };
    if (r !== 'custom') return {};
    const out = { range: 'custom' };
    const since = fromLocalInput($('f-since').value), until = fromLocalInput($('f-until').value);
    if (since !== undefined) out.since = String(since);
    if (until !== undefined) out.until = String(until);
    return out;
  }

  // --- the chart.

  function chartWindow(f) {
    const w = window_(f);
    const until = w.until !== undefined ? w.until : Math.floor(Date.now() / 1000);
    const since = w.since !== undefined ? w.since : until - 30 * 86400;
    const bucket = until - since <= 3 * 86400 ? 'hour' : 'day';
    return { since, until, bucket };
  }

  function pointShape(shape) {
    return (u, seriesIdx) => {
      const s = u.series[seriesIdx];
      const size = 6 * devicePixelRatio;
      const path = new Path2D();
      const xs = u.data[0], ys = u.data[seriesIdx];
      for (let i = 0; i < xs.length; i++) {
        if (ys[i] === null || ys[i] === undefined) continue;
        const x = u.valToPos(xs[i], 'x', true), y = u.valToPos(ys[i], s.scale, true);
        if (shape === 'square') path.rect(x - size / 2, y - size / 2, size, size);
        else if (shape === 'triangle') { path.moveTo(x, y - size / 2); path.lineTo(x + size / 2, y + size / 2); path.lineTo(x - size / 2, y + size / 2); path.closePath(); }
        else if (shape === 'diamond') { path.moveTo(x, y - size / 2); path.lineTo(x + size / 2, y); path.lineTo(x, y + size / 2); path.lineTo(x - size / 2, y); path.closePath(); }
        else { path.moveTo(x + size / 2, y); path.arc(x, y, size / 2, 0, 2 * Math.PI); }
      }
      return { stroke: path, fill: path };
    };
  }

  // The page's filters the chart and the rates follow: its type and its
  // search (the range is the chart's own window).
  function followed(f) {
    const out = {};
    if (f.type) out.type = f.type;
    if (f.q) out.q = f.q;
    return out;
  }
  // The axes' ink, read from the page's colours (dark mode included), so
  // that their labels keep the text's contrast.
  function axisInk() {
    return getComputedStyle(document.body).color || '#1f2328';
  }
  function gridInk() {
    return getComputedStyle(document.documentElement).getPropertyValue('--line').trim() || '#d0d7de';
  }

  async function drawChart() {
    const seq = ++chartSeq;
    const w = chartWindow(app.filter());
    let s;
    try {
      s = await UI.json('api/stats/series?' + new URLSearchParams({ since: w.since, until: w.until,
        bucket: w.bucket, ...followed(app.filter()) }));
    } catch (e) {
      $('chart-note').textContent = 'The chart could not be loaded: ' + e.message;
      return;
    }
    if (seq !== chartSeq) return;   // a newer range was asked for meanwhile
    const totals = SERIES.map((x) => (s.counts[x.type] || []).reduce((a, b) => a + b, 0));
    $('chart-note').textContent = 'Per ' + s.bucket + ', ' + UI.date(s.since * 1000) +
      ' to ' + UI.date(s.until * 1000) + ': ' +
      SERIES.map((x, i) => totals[i] + ' ' + x.label).join(', ') + '.';
    const data = [s.start].concat(SERIES.map((x) => s.counts[x.type] || s.start.map(() => 0)));
    const width = Math.max(280, $('chart').clientWidth || 600);
    // The time axis in the browser's own words (uPlot's are US-style):
    // by hour, the hour, with its date where the day changes; by day, one
    // label a day at most (ticks a whole number of days apart).
    const day = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });
    const hour = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });
    const label = (t, i, ticks) => {
      const d = new Date(t * 1000);
      if (s.bucket !== 'hour') return day.format(d);
      const first = i === 0 || new Date(ticks[i - 1] * 1000).toDateString() !== d.toDateString();
      return first ? day.format(d) + '\n' + hour.format(d) : hour.format(d);
    };
    const opts = {
      width, height: 220,
      scales: { x: { time: true } },
      axes: [{ values: (u, ticks) => {
        const labels = ticks.map((t, i) => label(t, i, ticks));
        $('chart').dataset.xLabels = labels.join('|');	// what was drawn, said
        return labels;
      }, size: 50,
        incrs: s.bucket === 'hour' ? [3600, 2 * 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400] :
          [86400, 2 * 86400, 7 * 86400, 14 * 86400, 30 * 86400, 91 * 86400, 365 * 86400],
        stroke: axisInk(), grid: { stroke: gridInk() } },
        { label: 'events', size: 50, stroke: axisInk(), grid: { stroke: gridInk() } }],
      series: [{ label: 'time' }].concat(SERIES.map((x) => ({
        label: x.label, stroke: x.stroke, width: 2, dash: x.dash,
        points: { show: true, paths: pointShape(x.shape), size: 6, fill: x.stroke },
      }))),
    };
    if (plot) plot.destroy();
    $('chart').textContent = '';
    plot = new window.uPlot(opts, data, $('chart'));
    $('chart').dataset.points = String(s.start.length);
    $('chart').dataset.axisInk = axisInk();
  }

  // --- rates by tag or template.

  function rate(v) {
    return v === null || v === undefined ? '\u2013' : (v * 100).toFixed(1) + '%';
  }

  async function loadBy() {
    const field = $('by-field').value;
    let b;
    try {
      b = await UI.json('api/stats/by?' + new URLSearchParams({ field, ...followed(app.filter()) }));
    } catch (e) {
      return;
    }
    $('by-head').textContent = field === 'tag' ? 'Tag' : 'Template';
    const body = $('by-body');
    body.textContent = '';
    for (const r of b.rows.slice(0, 50)) {
      const tr = UI.el('tr');
      for (const v of [r.value, r.sent, r.delivered, r.unique_opens, r.unique_clicks, rate(r.open_rate), rate(r.click_rate), r.bounces])
        tr.append(UI.el('td', '', v));
      body.append(tr);
    }
    $('by-empty').textContent = field === 'tag' ? 'No tagged messages yet.' : 'No messages from a template yet.';
    $('by-empty').hidden = b.rows.length > 0;
  }

  // --- refused webhooks (admins).

  async function checkRefused() {
    let r;
    try {
      r = await UI.json('api/refused?limit=200');
    } catch (e) {
      return;
    }
    const banner = $('refused-banner');
    if (r.last_hour > 0 && r.refused.length) {
      const last = r.refused[0];
      banner.textContent = '';
      banner.append(UI.el('strong', '', r.last_hour + (r.last_hour === 1 ? ' webhook' : ' webhooks') +
        ' refused in the last hour'), UI.el('span', 'why', ': ' + last.detail + ': ' + last.advice + '.'), ' ');
      const a = UI.el('a', '', 'See them');
      a.href = '#refused';
      banner.append(a);
      banner.hidden = false;
    } else {
      banner.hidden = true;
    }
    if (window.mailhooksViews.shown('#refused')) showRefused(r);
  }

  function showRefused(r) {
    const body = $('refused-body');
    body.textContent = '';
    for (const x of r.refused) {
      const tr = UI.el('tr');
      const body1 = UI.el('code', 'body-start', x.body.length > 160 ? x.body.slice(0, 160) + '\u2026' : x.body);
      const cells = [UI.when(x.at), UI.el('span', '', x.remote_addr + ' \u00b7 ' + x.provider),
        UI.el('span', '', x.status + ' ' + x.error + ': ' + x.detail), UI.el('span', '', x.advice), body1];
      for (const c of cells) {
        const td = UI.el('td');
        td.append(c);
        tr.append(td);
      }
      body.append(tr);
    }
    $('refused-empty').hidden = r.refused.length > 0;
  }

  // --- a message's raw requests, reprocessing, erasure (admins).

  let shownEmail = null;

  function timelineItem(li, ev) {
    if (!who || who.role !== 'admin' || !ev.receipt) return;
    const b = UI.el('button', 'raw-button', 'Raw request');
    b.type = 'button';
    b.addEventListener('click', () => showRaw(ev.receipt));
    li.append(' ', b);
  }

  async function showRaw(receipt) {
    const pre = $('message-raw');
    pre.hidden = false;
    try {
      const r = await UI.json('api/raw/' + encodeURIComponent(receipt));
      pre.textContent = r.provider + ' \u00b7 ' + r.received_at + ' \u00b7 from ' + r.remote_addr + ' \u00b7 ' +
        r.bytes + ' bytes\n\n' + (r.body !== null ? r.body : '(not text; base64)\n' + r.body_base64);
      const again = UI.el('button', 'reprocess', 'Reprocess');
      again.type = 'button';
      again.addEventListener('click', async () => {
        try {
          const x = await UI.json('api/raw/' + encodeURIComponent(receipt) + '/reprocess', { method: 'POST', body: '{}' });
          $('message-admin-note').textContent = 'Reprocessed: ' + x.stored + ' new event' + (x.stored === 1 ? '' : 's') + '.';
        } catch (e) {
          $('message-admin-note').textContent = 'Not reprocessed: ' + e.message;
        }
      });
      pre.prepend(again, document.createTextNode('\n'));
    } catch (e) {
      pre.textContent = e.status === 404 ? 'The raw request is no longer kept (past the retention of raw bodies).' : 'Not loaded: ' + e.message;
    }
  }

  // The clicks of each link of the message shown, most clicked first.
  async function showLinks(m) {
    const list = $('message-links');
    list.textContent = '';
    $('message-links-section').hidden = true;
    if (!m || !m.clicks) return;
    let r;
    try {
      r = await UI.json('api/stats/links?message_id=' + encodeURIComponent(m.message_id));
    } catch (e) {
      return;
    }
    for (const l of r.links) {
      const li = UI.el('li');
      li.append(UI.el('span', 'url', l.url), ' ', UI.el('span', 'n', l.clicks + (l.clicks === 1 ? ' click' : ' clicks')));
      list.append(li);
    }
    $('message-links-section').hidden = r.links.length === 0;
  }

  function messageShown(m) {
    const admin = who && who.role === 'admin';
    showLinks(m);
    shownEmail = m && m.email ? m.email : null;
    $('message-admin').hidden = !admin || !m;
    $('message-raw').hidden = true;
    $('message-raw').textContent = '';
    $('message-admin-note').textContent = '';
    $('message-erase').hidden = !shownEmail;
  }

  async function erase() {
    const email = shownEmail;
    if (!email || !window.confirm('Erase every event, summary and raw request of ' + email + '? This cannot be undone.')) return;
    try {
      const r = await UI.json('api/recipients/' + encodeURIComponent(email), { method: 'DELETE' });
      $('message-admin-note').textContent = 'Erased ' + r.erased.events + ' events, ' + r.erased.summaries +
        ' summaries and ' + r.erased.raw_bodies + ' raw requests of ' + email + '.';
      app.dropEmail(email);
    } catch (e) {
      $('message-admin-note').textContent = 'Not erased: ' + e.message;
    }
  }

  // --- life.

  function filtered() {
    drawChart().catch(() => {});
    if (!byWatch) loadBy().catch(() => {});	// once seen, they follow
  }

  function start(w, appApi) {
    who = w;
    app = appApi;
    $('f-range').addEventListener('change', () => {
      $('f-custom').hidden = $('f-range').value !== 'custom';
    });
    $('by-field').addEventListener('change', () => loadBy());
    // The chart's ink is drawn in: light or dark, it is drawn again.
    window.matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => drawChart().catch(() => {}));
    window.addEventListener('resize', () => {
      if (plot) plot.setSize({ width: Math.max(280, $('chart').clientWidth), height: 220 });
    });
    $('message-erase').addEventListener('click', () => erase());
    const admin = who.role === 'admin';
    $('view-refused').hidden = !admin;
    window.mailhooksViews.add({
      prefix: '#refused', view: 'refused-view', link: 'view-refused',
      enter() { checkRefused(); },
    });
    if (admin) {
      checkRefused();
      refusedTimer = setInterval(checkRefused, REFUSED_MS);
    }
    drawChart().catch(() => {});
    // The rates read every message's summary: only once they are seen.
    byWatch = new IntersectionObserver((seen) => {
      if (!seen.some((e) => e.isIntersecting)) return;
      byWatch.disconnect();
      byWatch = null;
      loadBy();
    });
    byWatch.observe($('by-table'));
  }

  function stop() {
    clearInterval(refusedTimer);
    if (byWatch) byWatch.disconnect();
    byWatch = null;
    if (plot) plot.destroy();
    plot = null;
    for (const id of ['by-body', 'refused-body', 'chart', 'message-raw']) $(id).textContent = '';
    $('refused-banner').hidden = true;
  }

  return { window: window_, showRange, readRange, filtered, start, stop, timelineItem, messageShown };
})();
