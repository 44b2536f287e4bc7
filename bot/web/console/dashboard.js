/*!
 * Contact-centre dashboard. Plain ES2020, one file, no dependencies, no build step.
 *
 * Loaded by bot/web/console/dashboard.html. Reads the filters from the page's query string, asks
 * /console/api/dashboard with the same query, and fills in the tiles, the charts (SVG images drawn by the
 * server with the same query), the knowledge-gap to-do list, the stale FAQs, the alerts and every table,
 * each with its CSV export link.
 *
 * Security rule for this file: every string from the server (questions, labels, names) is inserted with
 * textContent / Element.append of strings only. Nothing in this file parses markup; keep it that way.
 */
(() => {
  'use strict';

  const API = '/console/api/dashboard';
  const CHART = '/console/dashboard/charts/';
  const EXPORT = '/console/dashboard/export/';
  const LOGIN_URL = '/console/login';
  const FILTERS = ['from', 'to', 'agency', 'channel', 'language', 'tz', 'min_n'];
  // Tables shown in their own sections rather than in the list of tables.
  const OWN_SECTION = new Set(['summary', 'knowledge-gaps', 'stale-faqs', 'stale-by-agency', 'alerts']);

  const app = document.getElementById('app');
  const statusEl = document.getElementById('status');
  const form = document.querySelector('form.dash-filters');

  // ---------------------------------------------------------------- helpers
  /** Build an element. Strings among children become text nodes (Element.append). */
  function h(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v == null || v === false) continue;
      if (k === 'class') node.className = v;
      else node.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat()) if (c != null && c !== false) node.append(c);
    return node;
  }

  const str = (v) => (v == null ? '' : String(v));
  const pad2 = (n) => String(n).padStart(2, '0');

  /** The page's filters, without empty values, as a query string ('' or '?...'). */
  function currentQuery() {
    const here = new URLSearchParams(window.location.search);
    const kept = new URLSearchParams();
    for (const name of FILTERS) {
      const value = (here.get(name) || '').trim();
      if (value) kept.set(name, value);
    }
    const text = kept.toString();
    return text ? `?${text}` : '';
  }

  function setStatus(kind, text) {
    statusEl.dataset.kind = kind || '';
    statusEl.textContent = text || '';
  }

  // ---------------------------------------------------------------- formatting
  function duration(seconds) {
    if (seconds == null) return '—';
    const s = Math.round(Number(seconds));
    if (s < 60) return `${s} s`;
    if (s < 3600) return `${Math.floor(s / 60)} min ${pad2(s % 60)} s`;
    return `${Math.floor(s / 3600)} h ${pad2(Math.floor((s % 3600) / 60))} min`;
  }

  const FORMATS = {
    int: (v) => (v == null ? '—' : Number(v).toLocaleString('en-CA')),
    rate: (v) => (v == null ? '—' : `${(Number(v) * 100).toFixed(1)} %`),
    mean: (v) => (v == null ? '—' : Number(v).toFixed(2)),
    seconds: duration,
    date: (v) => (v == null ? '—' : str(v)),
    datetime: (v) => (v == null ? '—' : str(v).replace('T', ' ').slice(0, 16)), // the zone is in the heading
    text: (v) => (v == null ? '' : str(v)),
  };
  const format = (kind, v) => (FORMATS[kind] || FORMATS.text)(v);
  const NUMERIC = new Set(['int', 'rate', 'mean', 'seconds']);
  const raw = (v) => (v == null ? '' : String(v));

  function csvLink(name, label) {
    return h('a', { class: 'csv', href: EXPORT + encodeURIComponent(name) + '.csv' + currentQuery(),
      'data-csv': name, download: '' }, label || 'CSV');
  }

  // ---------------------------------------------------------------- tables
  function table(name, spec, columns) {
    const shown = columns || spec.columns.map((_, i) => i);
    const head = h('tr', null, shown.map((i) => h('th', {
      scope: 'col', class: NUMERIC.has(spec.formats[i]) ? 'num' : null }, spec.columns[i])));
    const body = h('tbody');
    for (const row of spec.rows) {
      body.append(h('tr', null, shown.map((i) => h('td', {
        class: NUMERIC.has(spec.formats[i]) ? 'num' : null, 'data-value': raw(row[i]),
        'data-column': spec.columns[i] }, format(spec.formats[i], row[i])))));
    }
    if (!spec.rows.length) {
      body.append(h('tr', null, h('td', { class: 'empty', colspan: shown.length }, 'Nothing for these filters.')));
    }
    return h('table', { class: 'data', 'data-testid': `table-${name}` }, h('thead', null, head), body);
  }

  /** A table's scrolling box: focusable and named, so a keyboard user can scroll a wide table
   *  (axe: scrollable-region-focusable). */
  function scroller(label, tableEl) {
    return h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': label }, tableEl);
  }

  function tableCard(name, spec) {
    const size = `${spec.columns.length >= 6 ? ' wide' : ''}${spec.rows.length > 12 ? ' long' : ''}`;
    return h('section', { class: `card table-card${size}`, 'aria-label': spec.title },
      h('div', { class: 'table-head' }, h('h3', null, spec.title), csvLink(name)),
      spec.note ? h('p', { class: 'meta' }, spec.note) : null,
      scroller(spec.title, table(name, spec)));
  }

  // ---------------------------------------------------------------- sections
  function tile(id, value, shown, sub) {
    const el = document.querySelector(`[data-testid="tile-${id}"]`);
    el.dataset.value = raw(value);
    el.querySelector('.tile-value').textContent = shown;
    el.querySelector('.tile-sub').textContent = sub || '';
  }

  function renderTiles(s) {
    const int = FORMATS.int;
    tile('containment', s.containment_rate, FORMATS.rate(s.containment_rate),
      `${int(s.contained)} of ${int(s.conversations)} conversations`);
    tile('handoff', s.handoff_rate, FORMATS.rate(s.handoff_rate),
      `${int(s.handed_off)} conversations, ${int(s.handoffs)} hand-offs`);
    tile('helpfulness', s.helpfulness, FORMATS.rate(s.helpfulness), `n = ${int(s.helpful_votes)} votes`);
    tile('satisfaction', s.satisfaction, FORMATS.mean(s.satisfaction), `n = ${int(s.ratings)} ratings`);
    tile('wait', s.median_wait_s, duration(s.median_wait_s), `${int(s.waits)} taken by an agent`);
    tile('handling', s.median_handling_s, duration(s.median_handling_s), `${int(s.handled)} resolved`);
    tile('messages', s.messages, int(s.messages), `${int(s.turns)} questions, ${int(s.unanswered)} unanswered`);
  }

  const TREND = { up: ['↑', 'rising'], down: ['↓', 'falling'], flat: ['→', 'steady'] };

  // Whether the group was answered in the knowledge studio, and whether it shrank after; else a link
  // that opens a draft prefilled with the group's questions.
  function gapAnswer(g) {
    const a = g.answer;
    if (!a) {
      return h('a', { class: 'gap-answer', 'data-testid': 'gap-write', href: `/console/studio?gap=${encodeURIComponent(g.id)}` },
        'Write an FAQ for this');
    }
    if (a.state !== 'published') {
      return h('span', { class: 'gap-answer meta', 'data-testid': 'gap-answer' }, `FAQ ${a.faq_id} is being written (${a.state.replace('_', ' ')}).`);
    }
    const shrank = a.after_7 < a.before_7;
    return h('span', { class: 'gap-answer meta', 'data-testid': 'gap-answer', 'data-shrank': String(shrank) },
      `Answered by FAQ ${a.faq_id}: asked ${a.before_7} times in the 7 days before it went live, ${a.after_7} in the 7 days after`
      + (shrank ? ' (it shrank).' : '.'));
  }

  function renderGaps(gaps) {
    const unclustered = document.querySelector('[data-testid="gaps-unclustered"]');
    unclustered.dataset.value = String(gaps.unclustered);
    unclustered.textContent = `${FORMATS.int(gaps.unclustered)} unanswered question${gaps.unclustered === 1 ? '' : 's'}`
      + ' not grouped yet. ' + (gaps.count > gaps.groups.length
      ? `Showing the largest ${gaps.groups.length} of ${gaps.count} groups.` : '');
    const list = document.querySelector('[data-testid="gaps-todo"]');
    list.replaceChildren();
    for (const g of gaps.groups) {
      const [arrow, word] = TREND[g.trend] || TREND.flat;
      list.append(h('li', { class: 'gap card', 'data-testid': 'gap-item', 'data-cluster': g.id, 'data-size': g.size },
        h('div', { class: 'gap-head' },
          h('span', { class: 'gap-label' }, g.label),
          h('span', { class: 'gap-size', 'data-value': g.size },
            `${FORMATS.int(g.size)} question${g.size === 1 ? '' : 's'}`),
          h('span', { class: `gap-trend trend-${g.trend}`, 'data-last': g.last_7, 'data-previous': g.previous_7 },
            h('span', { 'aria-hidden': 'true' }, arrow),
            ` ${word}: ${g.last_7} in the last 7 days, ${g.previous_7} in the 7 before`)),
        g.language ? h('span', { class: 'meta' }, `Language: ${g.language}`) : null,
        g.examples.length ? h('ul', { class: 'gap-examples', 'aria-label': 'Example questions' },
          g.examples.map((q) => h('li', null, q))) : null,
        gapAnswer(g)));
    }
    if (!gaps.groups.length) list.append(h('li', { class: 'empty' }, 'No knowledge gaps for these filters.'));
  }

  function renderStale(stale) {
    document.getElementById('stale-intro').textContent =
      `FAQs not reviewed for over ${stale.after_days} days (or never), by owning agency.`;
    const box = document.querySelector('[data-testid="stale"]');
    box.replaceChildren();
    for (const a of stale.agencies) {
      const spec = { columns: ['faq', 'language', 'question', 'last reviewed', 'days since review'],
        formats: ['text', 'text', 'text', 'date', 'int'],
        rows: a.stale.map((s) => [s.faq, s.language, s.question, s.last_reviewed, s.days]) };
      box.append(h('details', { class: 'stale-agency', 'data-testid': 'stale-agency', 'data-agency': a.agency,
        'data-stale': a.stale.length, open: a.stale.length > 0 && stale.agencies.length <= 3 },
        h('summary', null, h('span', { class: 'label' }, a.name),
          ` — ${a.stale.length} of ${a.faqs} FAQs stale`),
        a.stale.length ? scroller(`Stale FAQs: ${a.name}`, table(`stale-${a.agency}`, spec)) : null));
    }
    if (!stale.agencies.length) box.append(h('p', { class: 'empty' }, 'No FAQs for these filters.'));
  }

  function renderForm(data) {
    const f = data.filters;
    const agency = document.getElementById('f-agency');
    agency.replaceChildren(h('option', { value: '' }, 'All agencies'),
      ...data.options.agencies.map((a) => h('option', { value: a.id }, a.name)));
    document.getElementById('f-channels')
      .replaceChildren(...data.options.channels.map((c) => h('option', { value: c })));
    document.getElementById('f-from').value = f.from;
    document.getElementById('f-to').value = f.to;
    agency.value = f.agency || '';
    document.getElementById('f-channel').value = f.channel || '';
    document.getElementById('f-language').value = f.language || '';
    document.getElementById('f-tz').value = f.tz === 'UTC' ? '' : f.tz;
  }

  /** Before the data arrives (or when it cannot), show the filters as asked. */
  function formFromQuery() {
    const here = new URLSearchParams(window.location.search);
    for (const name of ['from', 'to', 'channel', 'tz']) {
      const input = form.elements.namedItem(name);
      if (input && here.get(name)) input.value = here.get(name);
    }
    const language = here.get('language');
    if (language) form.elements.namedItem('language').value = language;
    const agency = here.get('agency');
    if (agency) {
      const select = form.elements.namedItem('agency');
      select.append(h('option', { value: agency }, agency));
      select.value = agency;
    }
  }

  function render(data) {
    const q = currentQuery();
    const p = data.period;
    document.getElementById('period').textContent =
      `${data.filters.from} to ${data.filters.to} (${data.filters.tz}, ${p.days} day${p.days === 1 ? '' : 's'})`
      + ` · figures as of ${str(data.generated_at).replace('T', ' ')}`;
    renderForm(data);
    renderTiles(data.summary);
    for (const img of document.querySelectorAll('img[data-chart]')) {
      img.src = CHART + encodeURIComponent(img.dataset.chart) + '.svg' + q;
    }
    for (const a of document.querySelectorAll('a.csv[data-csv]')) {
      a.href = EXPORT + encodeURIComponent(a.dataset.csv) + '.csv' + q;
    }
    renderGaps(data.gaps);
    renderStale(data.stale);
    const alerts = document.getElementById('alerts');
    alerts.replaceChildren(h('p', null, csvLink('alerts', 'Alerts as CSV')),
      scroller('Alerts', table('alerts', data.tables.alerts)));
    const list = document.getElementById('tables');
    list.replaceChildren();
    for (const [name, spec] of Object.entries(data.tables)) {
      if (!OWN_SECTION.has(name)) list.append(tableCard(name, spec));
    }
    app.setAttribute('aria-busy', 'false');
    app.dataset.loaded = 'true';
  }

  async function load() {
    formFromQuery();
    let response;
    try {
      response = await fetch(API + currentQuery(),
        { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    } catch (err) {
      setStatus('error', 'The dashboard could not be reached. Check your connection and reload.');
      return;
    }
    if (response.status === 401) {
      window.location.assign(LOGIN_URL);
      return;
    }
    let body = null;
    try { body = await response.json(); } catch (err) { body = null; }
    if (!response.ok || !body) {
      setStatus('error', (body && body.error) || `The dashboard failed (HTTP ${response.status}).`);
      document.getElementById('period').textContent = '';
      app.setAttribute('aria-busy', 'false');
      app.dataset.loaded = 'error';
      return;
    }
    setStatus('', '');
    render(body);
  }

  // Empty fields are left out of the address, so that links stay short and defaults stay defaults.
  form.addEventListener('submit', () => {
    for (const el of form.elements) {
      if (el.name && !el.value.trim()) el.disabled = true;
    }
    window.setTimeout(() => { for (const el of form.elements) el.disabled = false; }, 0);
  });

  load();
})();
