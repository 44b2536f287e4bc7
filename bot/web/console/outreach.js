/*!
 * Outreach: the console page where supervisors compose broadcasts (English and French), see how
 * each channel shows them and what they cost, approve another supervisor's broadcast
 * (maker-checker), cancel, and follow the results. Plain ES2020, no dependencies, no build step.
 *
 * Loaded by the shell page (bot/web/console/outreach.html) after console-common.js; it talks to
 * /console/api/outreach (bot/web/routes/outreach.py). The server decides: it refuses a supervisor's
 * approval of their own broadcast (409) and bad texts (422), and this page shows its message.
 *
 * Security rule for this file: every string from the server or the form (broadcast texts, the
 * previews, Telegram's HTML, names, error messages) is inserted with textContent / Element.append
 * of strings only. Nothing in this file parses markup; keep it that way.
 */
(() => {
  'use strict';

  const {
    h, fill, str, isoWithOffset, button, field, fmtDateTime, plural, focusItem, refill,
  } = window.GovConsole;
  const API = '/console/api/outreach';
  const PREVIEW_DEBOUNCE_MS = 400;
  const INFO_MS = 10000;
  const POLL_MS = 15000;
  const MAX_CHARS = 1000;

  const STATES = {
    awaiting_approval: 'Awaiting approval', approved: 'Approved', sent: 'Sent', cancelled: 'Cancelled',
  };
  const COUNTS = [
    ['active_subscribers', 'Active subscribers'], ['queued', 'Queued'], ['held_quiet_hours', 'Held (quiet hours)'],
    ['pending', 'Pending'], ['sent', 'Sent'], ['delivered', 'Delivered'], ['failed', 'Failed'],
    ['opted_out', 'Opted out'], ['skipped', 'Skipped'], ['unsubscribed', 'Unsubscribed'],
    ['in_doubt', 'In doubt'], ['replies', 'Replies'],
  ];
  const LANGS = { en: 'English', fr: 'French' };

  const app = document.getElementById('app');
  const { setStatus, showError } = window.GovConsole.statusArea(document.getElementById('status'), INFO_MS);
  const api = window.GovConsole.client(API, { problems: true });

  const me = () => document.body.dataset.username || '';

  function debounce(fn, ms) {
    let t = 0;
    return () => { clearTimeout(t); t = setTimeout(fn, ms); };
  }

  function money(amount) {
    const n = Number(amount) || 0;
    return `$${n.toFixed(n > 0 && n < 1 ? 4 : 2)}`;
  }

  /** Run an action with some controls disabled; errors go to the status area. Returns success. */
  async function busy(controls, fn) {
    for (const c of controls) c.disabled = true;
    try { await fn(); return true; } catch (e) { showError(e); return false; } finally {
      for (const c of controls) if (c.isConnected) c.disabled = false;
    }
  }

  // ---------------------------------------------------------------- the page
  const E = {};
  let previewSeq = 0;
  let listSeq = 0;
  let confirming = null; // the broadcast id whose cancel waits for a confirmation

  function build() {
    E.topic = h('select', { id: 'outreach-topic', class: 'select', 'data-testid': 'topic', required: true });
    E.textEn = h('textarea', {
      id: 'outreach-text-en', rows: '5', maxlength: String(MAX_CHARS), 'data-testid': 'text-en', required: true,
    });
    E.textFr = h('textarea', { id: 'outreach-text-fr', rows: '5', maxlength: String(MAX_CHARS), 'data-testid': 'text-fr', lang: 'fr' });
    E.urgent = h('input', { id: 'outreach-urgent', type: 'checkbox', 'data-testid': 'urgent', 'aria-describedby': 'outreach-urgent-hint' });
    E.sendAt = h('input', { id: 'outreach-send-at', type: 'datetime-local', 'data-testid': 'send-at' });
    const sid = (id, testid) => h('input', {
      id, type: 'text', 'data-testid': testid, pattern: 'HX[0-9a-f]{32}', maxlength: '34',
      autocomplete: 'off', spellcheck: 'false',
    });
    E.templateEn = sid('outreach-template-en', 'template-en');
    E.templateFr = sid('outreach-template-fr', 'template-fr');
    E.create = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'create' }, 'Create broadcast');
    const form = h('form', { class: 'outreach-form', novalidate: true, 'data-testid': 'compose-form' },
      field('outreach-topic', 'Topic', E.topic, 'Every active subscriber of the topic gets it, in their language.'),
      field('outreach-text-en', 'English text', E.textEn,
        'Required. At most 3 SMS segments. Links: [label](https://...). HTML is not allowed.'),
      field('outreach-text-fr', 'French text (optional)', E.textFr,
        'French subscribers get the English text when this is empty.'),
      h('div', { class: 'field check' }, E.urgent, h('label', { for: 'outreach-urgent' }, 'Urgent'),
        h('p', { id: 'outreach-urgent-hint', class: 'hint' }, 'Sent during quiet hours too (9 pm to 8 am).')),
      field('outreach-send-at', 'Start time (optional)', E.sendAt,
        'In your time zone. Empty: as soon as another supervisor approves it.'),
      field('outreach-template-en', 'WhatsApp template, English (optional)', E.templateEn,
        'An approved template\'s Content SID (HX...), whose variable {{1}} is the text. Without one, WhatsApp '
        + 'subscribers who have not written in 24 hours are skipped.'),
      field('outreach-template-fr', 'WhatsApp template, French (optional)', E.templateFr,
        'For French subscribers; the English template is used when empty.'),
      h('div', { class: 'row' }, E.create));
    form.addEventListener('submit', (e) => { e.preventDefault(); create(); });

    E.preview = h('div', { class: 'outreach-preview', 'data-testid': 'preview' });
    E.previewSummary = h('p', { class: 'meta', 'aria-live': 'polite', 'data-testid': 'preview-summary' });
    E.list = h('ul', { class: 'items broadcasts', 'data-testid': 'broadcast-list', 'aria-labelledby': 'broadcasts-h' });
    E.refresh = button('Refresh', 'btn-secondary btn-small', 'refresh', () => loadList());

    app.append(
      h('div', { class: 'layout outreach-layout' },
        h('section', { class: 'card', 'aria-labelledby': 'compose-h' },
          h('h2', { id: 'compose-h' }, 'New broadcast'), form),
        h('section', { class: 'card', 'aria-labelledby': 'preview-h' },
          h('h2', { id: 'preview-h' }, 'Preview and cost'), E.previewSummary, E.preview)),
      h('section', { class: 'card outreach-list', 'aria-labelledby': 'broadcasts-h' },
        h('div', { class: 'row' }, h('h2', { id: 'broadcasts-h' }, 'Broadcasts'), E.refresh),
        h('p', { class: 'hint' }, 'Newest first. A broadcast needs a second supervisor: approve the ones someone else wrote.'),
        E.list));

    const later = debounce(loadPreview, PREVIEW_DEBOUNCE_MS);
    for (const el of [E.textEn, E.textFr]) el.addEventListener('input', later);
    E.topic.addEventListener('change', loadPreview);
    showPreview(null);
  }

  // ---------------------------------------------------------------- preview
  function channelBlock(label, testid, text, extra) {
    return h('div', { class: 'channel' },
      h('h4', {}, label, extra ? h('span', { class: 'meta' }, ` ${extra}`) : null),
      h('pre', { class: 'channel-text', 'data-testid': testid }, str(text)));
  }

  function languageBlock(code, shown) {
    const name = LANGS[code];
    if (!shown) {
      const why = code === 'fr' ? 'No French text: French subscribers get the English one.' : 'Write the English text to see it here.';
      return h('section', { class: 'studio-section', 'aria-labelledby': `preview-${code}-h`, 'data-testid': `preview-${code}` },
        h('h3', { id: `preview-${code}-h` }, name), h('p', { class: 'empty' }, why));
    }
    const sms = shown.sms || {};
    const cost = shown.cost || {};
    const recipients = cost.recipients || {};
    const segments = Number(sms.segments) || 0;
    const people = (Number(recipients.sms) || 0) + (Number(recipients.whatsapp) || 0);
    return h('section', { class: 'studio-section', 'aria-labelledby': `preview-${code}-h`, 'data-testid': `preview-${code}` },
      h('h3', { id: `preview-${code}-h` }, name),
      shown.problem ? h('p', { class: 'from-gap', 'data-testid': `problem-${code}` }, str(shown.problem)) : null,
      h('p', {},
        h('span', { 'data-testid': `segments-${code}` }, plural(segments, 'SMS segment', 'SMS segments')), '. ',
        h('span', { 'data-testid': `cost-${code}` }, `Estimated cost ${money(cost.amount)}`),
        ` (${plural(Number(recipients.sms) || 0, 'SMS', 'SMS')} and ${Number(recipients.whatsapp) || 0} WhatsApp `
          + `${people === 1 ? 'subscriber' : 'subscribers'} × ${plural(segments, 'segment', 'segments')}).`),
      channelBlock('SMS, as sent', `sms-${code}`, sms.text),
      channelBlock('Messenger and WhatsApp', `plain-${code}`, (shown.plain || {}).text),
      channelBlock('Telegram', `telegram-${code}`, (shown.telegram || {}).html, '(HTML as sent)'));
  }

  function showPreview(d) {
    if (!d) {
      E.previewSummary.textContent = 'Choose a topic and write the text to see each channel and the cost.';
      fill(E.preview, languageBlock('en', null), languageBlock('fr', null));
      return;
    }
    const langs = d.languages || {};
    const parts = ['en', 'fr'].filter((c) => langs[c]).map((c) => {
      const segs = Number((langs[c].sms || {}).segments) || 0;
      return `${LANGS[c]}: ${plural(segs, 'segment', 'segments')}`;
    });
    E.previewSummary.textContent = `${parts.join('; ')}. Estimated total ${money(d.total_cost)} at ${money(d.price_per_segment)} a segment.`;
    fill(E.preview, languageBlock('en', langs.en), languageBlock('fr', langs.fr));
  }

  async function loadPreview() {
    const seq = ++previewSeq;
    if (!E.topic.value || (!E.textEn.value.trim() && !E.textFr.value.trim())) { showPreview(null); return; }
    try {
      const d = await api('POST', '/preview', { topic: E.topic.value, text_en: E.textEn.value, text_fr: E.textFr.value });
      if (seq === previewSeq) showPreview(d);
    } catch (e) { if (seq === previewSeq) showError(e); }
  }

  // ---------------------------------------------------------------- compose
  async function create() {
    if (!E.topic.value) { setStatus('Choose a topic.', 'error'); E.topic.focus(); return; }
    if (!E.textEn.value.trim()) { setStatus('Write the English text.', 'error'); E.textEn.focus(); return; }
    let sendAt = null;
    if (E.sendAt.value) {
      sendAt = isoWithOffset(E.sendAt.value);
      if (!sendAt) { setStatus('The start time is not a date and time.', 'error'); E.sendAt.focus(); return; }
    }
    const payload = {
      topic: E.topic.value, text_en: E.textEn.value, text_fr: E.textFr.value.trim() ? E.textFr.value : null,
      urgent: E.urgent.checked, send_at: sendAt,
      whatsapp_template_en: E.templateEn.value.trim() || null,
      whatsapp_template_fr: E.templateFr.value.trim() || null,
    };
    await busy([E.create], async () => {
      const d = await api('POST', '/broadcasts', payload);
      const b = d.broadcast || {};
      E.textEn.value = ''; E.textFr.value = ''; E.urgent.checked = false; E.sendAt.value = '';
      E.templateEn.value = ''; E.templateFr.value = '';
      showPreview(null);
      setStatus(`Broadcast #${str(b.id)} created. It waits for another supervisor's approval.`);
      await loadList();
    });
  }

  // ---------------------------------------------------------------- the list
  function counts(b) {
    return h('dl', { class: 'counts', 'data-testid': 'broadcast-counts' }, COUNTS.map(([key, label]) => (
      h('div', { class: 'count', 'data-count': key }, h('dt', {}, label), h('dd', {}, str(Number(b[key]) || 0)))
    )));
  }

  function actions(b) {
    const id = str(b.id);
    const out = [];
    const state = str(b.state);
    if (state === 'awaiting_approval') {
      if (str(b.created_by) !== me()) {
        out.push(button('Approve', 'btn-primary btn-small', 'approve', (e) => approve(id, e.currentTarget),
          { 'aria-label': `Approve broadcast #${id}` }));
      } else {
        out.push(h('p', { class: 'meta', 'data-testid': 'needs-second' }, 'You wrote it: another supervisor must approve it.'));
      }
    }
    if (state === 'awaiting_approval' || state === 'approved') {
      if (confirming === id) {
        const yes = button('Yes, cancel it', 'btn-danger btn-small', 'cancel-confirm', (e) => cancel(id, e.currentTarget));
        const no = button('Keep it', 'btn-small', 'cancel-keep', () => { confirming = null; rerender(); focusIn(id, 'cancel'); });
        out.push(h('div', { class: 'confirm', role: 'group', 'aria-labelledby': `cancel-q-${id}` },
          h('p', { id: `cancel-q-${id}`, class: 'confirm-text' }, `Cancel broadcast #${id}? What is already queued still goes.`),
          h('div', { class: 'row' }, yes, no)));
      } else {
        out.push(button('Cancel', 'btn-small', 'cancel', () => { confirming = id; rerender(); focusIn(id, 'cancel-confirm'); },
          { 'aria-label': `Cancel broadcast #${id}` }));
      }
    }
    return out.length ? h('div', { class: 'row actions' }, out) : null;
  }

  function item(b) {
    const id = str(b.id);
    const state = str(b.state);
    const who = [`Written by ${str(b.created_by)}, ${fmtDateTime(b.created_at)}`];
    if (b.approved_by) who.push(`approved by ${str(b.approved_by)}, ${fmtDateTime(b.approved_at)}`);
    const starts = b.send_at ? `Starts ${fmtDateTime(b.send_at)}.` : 'Starts when approved.';
    return h('li', { class: `item${b.urgent ? ' is-urgent' : ''}`, 'data-testid': 'broadcast', 'data-id': id, 'data-state': state },
      h('div', { class: 'item-top' },
        h('h3', { class: 'broadcast-h', tabindex: '-1', 'data-testid': 'broadcast-h' }, `#${id} `, h('span', { class: 'meta' }, `topic ${str(b.topic)}`)),
        h('span', { class: `badge badge-state state-${state}`, 'data-testid': 'broadcast-state' }, STATES[state] || state),
        b.urgent ? h('span', { class: 'badge badge-urgent' }, 'Urgent') : null),
      h('p', { class: 'question', 'data-testid': 'broadcast-text-en' }, str(b.text_en)),
      b.text_fr ? h('p', { class: 'question', lang: 'fr', 'data-testid': 'broadcast-text-fr' }, str(b.text_fr)) : null,
      h('p', { class: 'meta' }, `${who.join('; ')}. ${starts}`),
      counts(b),
      actions(b));
  }

  let shown = [];
  function rerender() {
    refill(E.list, 'broadcast', shown.length ? shown.map(item) : h('li', { class: 'empty' }, 'No broadcasts yet.'));
  }

  const focusIn = (id, testid) => focusItem(E.list, 'broadcast', id, testid);

  async function loadList() {
    const seq = ++listSeq;
    try {
      const d = await api('GET', '/broadcasts');
      if (seq !== listSeq) return;
      shown = Array.isArray(d.broadcasts) ? d.broadcasts : [];
      rerender();
    } catch (e) { showError(e); }
  }

  async function approve(id, control) {
    await busy([control], async () => {
      const d = await api('POST', `/broadcasts/${encodeURIComponent(id)}/approve`);
      const b = d.broadcast || {};
      setStatus(`Broadcast #${id} approved: it goes out ${b.send_at ? `from ${fmtDateTime(b.send_at)}` : 'now'}.`);
    });
    await loadList();
    if (!control.isConnected) focusIn(id, 'broadcast-h');
  }

  async function cancel(id, control) {
    await busy([control], async () => {
      await api('POST', `/broadcasts/${encodeURIComponent(id)}/cancel`);
      setStatus(`Broadcast #${id} cancelled.`);
    });
    confirming = null;
    await loadList();
    if (!control.isConnected) focusIn(id, 'broadcast-h');
  }

  // ---------------------------------------------------------------- start
  async function start() {
    build();
    try {
      const d = await api('GET', '/topics');
      const topics = Array.isArray(d.topics) ? d.topics : [];
      fill(E.topic, topics.map((t) => h('option', { value: str(t.slug) }, `${str(t.name_en)} / ${str(t.name_fr)} (${str(t.slug)})`)));
    } catch (e) { showError(e); }
    await loadList();
    app.setAttribute('aria-busy', 'false');
    app.dataset.loaded = 'true';
    setInterval(() => { if (document.visibilityState === 'visible' && confirming === null) loadList(); }, POLL_MS);
  }

  start();
})();
