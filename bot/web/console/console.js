/*!
 * Contact-centre agent console. Plain ES2020, one file, no dependencies, no build step.
 *
 * Loaded by the shell page (bot/web/console/page.html), which carries
 *   <meta name="csrf-token" content="...">  and
 *   <body data-page="queue|supervisor|audit" data-role="agent|supervisor|admin" data-username="...">.
 * The API and WebSocket contract is in docs/console.md.
 *
 * Security rule for this file: every string that comes from the server (citizen text, questions,
 * names, FAQ text, audit details) is inserted with textContent / createTextNode only. Nothing in
 * this file parses markup; keep it that way.
 */
(() => {
  'use strict';

  // ---------------------------------------------------------------- page context & constants
  const API = '/console/api';
  const PING_MS = 10000;
  const DEBOUNCE_MS = 150;
  const QUEUE_POLL_MS = 20000; // safety net besides the WebSocket events
  const SUPERVISOR_POLL_MS = 5000;
  const AUDIT_PAGE_SIZE = 50;
  const BACKOFF_BASE_MS = 500;
  const BACKOFF_MAX_MS = 15000;
  const STABLE_MS = 5000; // a socket open this long resets the backoff
  const MAX_REPLY = 2000;

  const body = document.body;
  const PAGE = body.dataset.page || 'queue';
  const csrfMeta = document.querySelector('meta[name="csrf-token"]');
  const CSRF = csrfMeta ? csrfMeta.getAttribute('content') || '' : '';
  const app = document.getElementById('app') || body.appendChild(document.createElement('main'));

  // ---------------------------------------------------------------- small helpers
  // Shared with the other console pages (console-common.js, loaded first).
  const { h, str, goLogin, leaving, button } = window.GovConsole;

  const enc = encodeURIComponent;
  const pad2 = (n) => String(n).padStart(2, '0');

  /** Seconds as mm:ss (minutes keep growing past 59). */
  function mmss(seconds) {
    const s = Math.max(0, Math.floor(Number(seconds) || 0));
    return `${pad2(Math.floor(s / 60))}:${pad2(s % 60)}`;
  }

  /** ISO string or epoch seconds/ms -> Date (or null). */
  function toDate(v) {
    if (v == null || v === '') return null;
    const d = typeof v === 'number' ? new Date(v < 1e12 ? v * 1000 : v) : new Date(v);
    return Number.isNaN(d.getTime()) ? null : d;
  }
  const fmtWith = (opts) => (v) => (toDate(v) ? toDate(v).toLocaleString([], opts) : str(v));
  const fmtTime = fmtWith({ hour: '2-digit', minute: '2-digit' });
  const fmtDateTime = fmtWith({ dateStyle: 'short', timeStyle: 'medium' });

  const LANGS = { en: 'English', fr: 'French' };
  const langName = (code) => LANGS[str(code).toLowerCase()] || str(code);
  const STATUS_LABELS = { offered: 'Offered', assigned: 'Assigned', waiting: 'Waiting' };
  const statusLabel = (s) => STATUS_LABELS[s] || str(s);

  function safeHttpUrl(url) {
    try {
      const u = new URL(str(url), document.baseURI);
      return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : null;
    } catch { return null; }
  }

  function debounce(fn, ms) {
    let t = 0;
    return () => { clearTimeout(t); t = setTimeout(fn, ms); };
  }

  // Server clock skew from the Date header (offer deadlines are server times; 1 s resolution).
  let skewMs = 0;
  function noteServerClock(res) {
    const d = Date.parse(res.headers.get('Date') || '');
    if (!Number.isNaN(d)) skewMs = Math.abs(d + 500 - Date.now()) > 1500 ? d + 500 - Date.now() : 0;
  }
  const serverNow = () => Date.now() + skewMs;

  // ---------------------------------------------------------------- status area
  const statusEl = document.getElementById('status') || app.parentNode.insertBefore(
    h('div', { id: 'status', class: 'status', role: 'status', 'aria-live': 'polite', 'data-testid': 'status' }), app);
  const { setStatus, showError } = window.GovConsole.statusArea(statusEl, 6000);

  // ---------------------------------------------------------------- HTTP API
  /** Call the JSON API (console-common.js); every answer's Date header keeps the clock skew. */
  const api = window.GovConsole.client(API, { onResponse: noteServerClock });

  /** Run an action with some controls disabled; errors go to the status area. Returns success. */
  async function busy(controls, fn) {
    const list = controls.filter(Boolean);
    for (const c of list) c.disabled = true;
    try { await fn(); return true; } catch (e) { showError(e); return false; } finally {
      for (const c of list) c.disabled = false;
    }
  }

  // ---------------------------------------------------------------- header
  let me = null;
  const whoEl = document.getElementById('who');
  function showWho() {
    if (!whoEl) return;
    const username = (me && me.username) || body.dataset.username || '';
    const name = (me && me.display_name) || username;
    whoEl.textContent = name && username && name !== username ? `${name} (${username})` : name;
  }
  async function loadMe() {
    try { me = await api('GET', '/me'); } catch (e) { showError(e); }
    showWho();
  }

  function markNav() {
    // The server marks the current page's link (aria-current); the logout form carries the same
    // token as the meta tag.
    for (const input of document.querySelectorAll('form input[name="csrf"]')) if (CSRF) input.value = CSRF;
  }

  // ---------------------------------------------------------------- 1 s ticker
  // Elements with data-since (client epoch ms) show a growing mm:ss; data-deadline (server epoch ms)
  // shows the offer countdown.
  function tick() {
    const now = Date.now();
    for (const el of document.querySelectorAll('[data-since]')) {
      el.textContent = mmss((now - Number(el.dataset.since)) / 1000);
    }
    for (const el of document.querySelectorAll('[data-deadline]')) updateCountdown(el);
  }
  function sinceEl(seconds, cls) {
    const el = h('span', { class: cls || 'waited-time', 'data-since': Date.now() - (Number(seconds) || 0) * 1000 });
    el.textContent = mmss(seconds);
    return el;
  }

  // ---------------------------------------------------------------- WebSocket
  const wsStateEl = h('span', { class: 'ws-state', 'data-testid': 'ws-state', 'aria-live': 'polite' });
  document.querySelector('.topbar .session').prepend(wsStateEl);
  const WS = { sock: null, failures: 0, everOpen: false, retry: 0, stable: 0, ping: 0 };
  const wsHandlers = { queue() {}, message() {}, reconnected() {} }; // set by the page

  function setWsState(state) {
    const text = { connecting: 'connecting…', open: 'connected', reconnecting: 'reconnecting…' }[state];
    wsStateEl.dataset.state = state;
    if (wsStateEl.textContent !== text) wsStateEl.textContent = text;
  }

  function wsSend(obj) {
    const s = WS.sock;
    if (!s || s.readyState !== WebSocket.OPEN) return;
    try { s.send(JSON.stringify(obj)); } catch { /* the close handler reconnects */ }
  }

  function connect() {
    clearTimeout(WS.retry);
    if (WS.sock || leaving()) return;
    const url = `${window.location.protocol === 'https:' ? 'wss:' : 'ws:'}//${window.location.host}/console/ws`;
    let sock;
    try { sock = new WebSocket(url); } catch { connectionLost(); return; }
    WS.sock = sock;
    setWsState(WS.failures ? 'reconnecting' : 'connecting');
    sock.onopen = () => {
      if (WS.sock !== sock) return;
      setWsState('open');
      wsSend({ type: 'ping' });
      clearInterval(WS.ping);
      WS.ping = setInterval(() => wsSend({ type: 'ping' }), PING_MS);
      WS.stable = setTimeout(() => { WS.failures = 0; }, STABLE_MS);
      if (WS.everOpen) wsHandlers.reconnected(); // catch up on what we missed
      WS.everOpen = true;
    };
    sock.onmessage = (ev) => {
      if (WS.sock !== sock || typeof ev.data !== 'string') return;
      let frame;
      try { frame = JSON.parse(ev.data); } catch { return; }
      if (!frame || typeof frame !== 'object') return;
      if (frame.type === 'queue') wsHandlers.queue(frame);
      else if (frame.type === 'message') wsHandlers.message(frame);
    };
    sock.onerror = () => { /* a close event follows */ };
    sock.onclose = (ev) => {
      if (WS.sock !== sock) return;
      if (ev.code === 4401) { WS.sock = null; goLogin(); return; }
      connectionLost();
    };
  }

  function connectionLost() {
    WS.sock = null;
    clearInterval(WS.ping);
    clearTimeout(WS.stable);
    if (leaving()) return;
    WS.failures += 1;
    setWsState('reconnecting');
    const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(WS.failures - 1, 6));
    WS.retry = setTimeout(connect, Math.round(delay * (0.75 + Math.random() * 0.25)));
  }

  window.addEventListener('online', () => { if (!WS.sock) connect(); });

  // ================================================================ queue page
  const Q = {
    config: { queues: [], dispositions: [], canned: [] },
    data: null, // last GET /queue answer
    openId: null, // hand-off shown in the right pane
    openedAt: 0, // performance.now() when it was opened
    detail: null, // GET /handoffs/{id} answer for openId
    loading: false,
    pending: [], // WebSocket entries for openId that arrived while loading
    lines: new Map(), // seq -> {li, entry} of the open transcript
    mySeqs: new Set(), // "handoffId:seq" of replies sent from this page
    unread: new Set(),
    drafts: new Map(), // handoffId -> reply draft
    sending: false,
    els: {},
  };
  /** A <select> value back to the queue id as the server sent it (keeps numbers numbers). */
  const queueId = (value) => { const q = Q.config.queues.find((x) => str(x.id) === value); return q ? q.id : value; };
  const findMine = (id) => ((Q.data && Q.data.mine) || []).find((it) => str(it.id) === str(id)) || null;

  function queuePage() {
    document.title = 'Queue – Contact centre';
    const claimQueue = h('select', { id: 'claim-queue', class: 'select' }, h('option', { value: '' }, 'Any queue'));
    const takeBtn = button('Take next', 'btn-primary', 'take-next', takeNext);
    const mineList = h('ul', { class: 'items', 'data-testid': 'mine-list', 'aria-labelledby': 'mine-h' });
    const waitingList = h('div', { class: 'waiting', 'data-testid': 'waiting-list' });
    const pane = h('section', { class: 'pane card', 'aria-label': 'Open conversation' });
    app.append(h('div', { class: 'layout' },
      h('div', { class: 'col-left' },
        h('div', { class: 'card take' },
          h('label', { for: 'claim-queue' }, 'Queue to take from'), claimQueue, takeBtn),
        h('section', { class: 'card', 'aria-labelledby': 'mine-h' },
          h('h2', { id: 'mine-h' }, 'My conversations'), mineList),
        h('section', { class: 'card', 'aria-labelledby': 'waiting-h' },
          h('h2', { id: 'waiting-h' }, 'Waiting'), waitingList)),
      pane));
    Object.assign(Q.els, { claimQueue, takeBtn, mineList, waitingList, pane });
    closePane();

    const refreshSoon = debounce(refreshQueue, DEBOUNCE_MS);
    wsHandlers.queue = refreshSoon;
    wsHandlers.message = onMessageFrame;
    wsHandlers.reconnected = () => { refreshSoon(); if (Q.openId) openConversation(Q.openId); };
    Q.refreshSoon = refreshSoon;

    loadConfig();
    refreshQueue();
    setInterval(refreshQueue, QUEUE_POLL_MS);
  }

  async function loadConfig() {
    try {
      const c = await api('GET', '/config');
      Q.config = { queues: c.queues || [], dispositions: c.dispositions || [], canned: c.canned || [] };
    } catch (e) { showError(e); return; }
    const sel = Q.els.claimQueue;
    const keep = sel.value;
    sel.replaceChildren(h('option', { value: '' }, 'Any queue'),
      ...Q.config.queues.map((q) => h('option', { value: str(q.id) }, str(q.name || q.id))));
    sel.value = keep;
    if (Q.detail) renderPane(); // canned replies, queues and dispositions are now known
  }

  // ---------------------------------------------------------------- queue: lists
  let queueBusy = false;
  let queueAgain = false;
  async function refreshQueue() {
    if (queueBusy) { queueAgain = true; return; }
    queueBusy = true;
    const started = performance.now();
    try {
      Q.data = await api('GET', '/queue');
      renderWaiting();
      renderMine();
      checkOpenConversation(started);
    } catch (e) { showError(e); } finally {
      queueBusy = false;
      if (queueAgain) { queueAgain = false; Q.refreshSoon(); }
    }
  }

  function itemBadges(it) {
    return [
      it.urgent ? h('span', { class: 'badge badge-urgent' }, 'Urgent') : null,
      it.ticket ? h('span', { class: 'badge badge-ticket' }, 'Callback/ticket') : null,
    ];
  }
  function itemMeta(it, withQueue) {
    const parts = [str(it.channel), langName(it.language)];
    if (withQueue && it.queue_name) parts.push(str(it.queue_name));
    return h('span', { class: 'meta' }, parts.filter(Boolean).join(' · '));
  }
  function waitedEl(it) {
    return h('span', { class: 'waited' }, 'waited ', sinceEl(it.waited_s));
  }

  function renderWaiting() {
    const groups = new Map();
    for (const q of Q.data.queues || []) groups.set(str(q.id), { q, items: [] });
    for (const it of Q.data.waiting || []) {
      const k = str(it.queue_id);
      if (!groups.has(k)) groups.set(k, { q: { id: it.queue_id, name: it.queue_name, open: true }, items: [] });
      groups.get(k).items.push(it);
    }
    const sections = [];
    for (const { q, items } of groups.values()) {
      const count = Number.isFinite(q.waiting) ? q.waiting : items.length;
      const head = h('div', { class: 'queue-head' },
        h('h3', {}, str(q.name || q.id)),
        h('span', { class: `pill ${q.open ? 'pill-open' : 'pill-closed'}` }, q.open ? 'Open' : 'Closed'),
        h('span', { class: 'count' }, `${count} waiting`),
        !q.open && q.next_open ? h('span', { class: 'meta' }, `opens ${fmtDateTime(q.next_open)}`) : null);
      const ul = h('ul', { class: 'items' }, items.map((it) => h('li', {
        class: `item${it.urgent ? ' is-urgent' : ''}`, 'data-testid': 'waiting-item', 'data-handoff-id': str(it.id),
      },
      h('div', { class: 'item-top' }, itemBadges(it), itemMeta(it, false), waitedEl(it)),
      h('p', { class: 'question' }, str(it.question) || '(no question)'))));
      sections.push(h('section', { class: 'queue-group', 'data-queue-id': str(q.id) }, head, items.length ? ul : null));
    }
    if (!sections.length) sections.push(h('p', { class: 'empty' }, 'Nobody is waiting.'));
    Q.els.waitingList.replaceChildren(...sections);
  }

  function renderMine() {
    const list = Q.els.mineList;
    const focused = document.activeElement && list.contains(document.activeElement)
      ? document.activeElement.closest('[data-handoff-id]') : null;
    const refocus = focused ? focused.dataset.handoffId : null;
    const mine = (Q.data && Q.data.mine) || [];
    list.replaceChildren(...mine.map(mineItem));
    if (!mine.length) list.append(h('li', { class: 'empty' }, 'No conversations. Use “Take next”.'));
    if (refocus) {
      const b = list.querySelector(`[data-handoff-id="${CSS.escape(refocus)}"] button`);
      if (b) b.focus();
    }
    const n = mine.filter((it) => Q.unread.has(str(it.id))).length;
    document.title = `${n ? `(${n}) ` : ''}Queue – Contact centre`;
  }

  function mineItem(it) {
    const id = str(it.id);
    const unread = Q.unread.has(id);
    const btn = h('button', { type: 'button', class: 'item-btn', 'aria-current': id === Q.openId ? 'true' : null },
      h('span', { class: 'item-top' },
        h('span', { class: `badge badge-${it.status === 'offered' ? 'offered' : 'status'}` }, statusLabel(it.status)),
        itemBadges(it), itemMeta(it, true), waitedEl(it)),
      h('span', { class: 'question' }, str(it.question) || '(no question)'),
      unread ? h('span', { class: 'badge badge-new' }, 'New messages') : null);
    btn.addEventListener('click', async () => {
      await openConversation(id);
      if (window.matchMedia('(max-width: 900px)').matches) Q.els.pane.scrollIntoView({ block: 'start' }); // one column
    });
    return h('li', {
      class: `item${it.urgent ? ' is-urgent' : ''}${unread ? ' has-new' : ''}`,
      'data-testid': 'mine-item', 'data-handoff-id': id,
    }, btn);
  }

  /** The open conversation vanished from "mine" or changed status: close or reload it. */
  function checkOpenConversation(fetchStarted) {
    if (!Q.openId || Q.loading) return;
    const it = findMine(Q.openId);
    if (it && Q.detail && it.status !== Q.detail.handoff.status) openConversation(Q.openId);
    if (it || fetchStarted < Q.openedAt) return; // (an answer older than the pane proves nothing)
    closePane();
    setStatus('The open conversation is no longer assigned to you.');
  }

  // ---------------------------------------------------------------- queue: actions
  async function takeNext() {
    const qid = Q.els.claimQueue.value;
    await busy([Q.els.takeBtn], async () => {
      const r = await api('POST', '/claim', qid ? { queue_id: queueId(qid) } : {});
      if (r.handoff) {
        await openConversation(str(r.handoff.id));
        const accept = Q.els.pane.querySelector('[data-testid="accept"]');
        if (accept) accept.focus();
      }
      Q.refreshSoon();
    });
  }

  const DONE = {
    accept: 'Conversation accepted.',
    decline: 'Conversation declined; it went back to the queue.',
    transfer: 'Conversation transferred.',
    resolve: 'Conversation resolved.',
  };

  /** accept / decline / transfer / resolve. Except for accept, success clears the pane. */
  async function act(id, action, payload, controls) {
    const ok = await busy(controls, async () => {
      await api('POST', `/handoffs/${enc(id)}/${action}`, payload);
      setStatus(DONE[action]);
      if (action === 'accept') {
        await openConversation(id);
        if (Q.els.reply) Q.els.reply.focus();
        return;
      }
      Q.drafts.delete(id);
      Q.unread.delete(id);
      if (Q.openId === id) closePane();
    });
    if (!ok && Q.openId === id) openConversation(id); // e.g. 409: show the current state
    await refreshQueue();
  }

  /** Reflect the sending state on whatever reply box is on screen. */
  function setSending(on) {
    Q.sending = on;
    const { reply: ta, send } = Q.els;
    if (send) { send.disabled = on || !ta || ta.disabled; send.textContent = on ? 'Sending…' : 'Send'; }
    if (ta) { ta.readOnly = on; ta.setAttribute('aria-busy', String(on)); }
  }

  async function sendReply() {
    const ta = Q.els.reply;
    if (!ta || Q.sending || ta.disabled) return;
    const text = ta.value.trim();
    if (!text) { setStatus('Type a reply first.', 'error'); return; }
    if (text.length > MAX_REPLY) { setStatus(`A reply can be at most ${MAX_REPLY} characters.`, 'error'); return; }
    const id = Q.openId;
    setSending(true);
    try {
      const r = await api('POST', `/handoffs/${enc(id)}/reply`, { text });
      Q.mySeqs.add(`${id}:${r.seq}`);
      Q.drafts.delete(id);
      if (Q.openId === id) {
        if (Q.els.reply) Q.els.reply.value = '';
        upsertLine({ seq: r.seq, from: 'agent', text, at: new Date(serverNow()).toISOString(), status: r.status, local: true }, true);
      }
      if (statusEl.dataset.kind === 'error') setStatus('');
    } catch (e) {
      showError(e); // the text stays in the box
    } finally {
      setSending(false);
      if (Q.openId === id && Q.els.reply) Q.els.reply.focus();
    }
  }

  /** Insert text at the caret of the reply box (replacing any selection). */
  function insertIntoReply(text) {
    const ta = Q.els.reply;
    if (!ta || ta.disabled) return;
    ta.setRangeText(text, ta.selectionStart, ta.selectionEnd, 'end');
    Q.drafts.set(Q.openId, ta.value);
    ta.focus();
  }

  /** Canned text in the conversation's language (else English), with {agent} filled in. */
  function cannedText(c, language) {
    const t = c.text;
    const text = typeof t === 'string' ? t : (t && (t[str(language).toLowerCase()] || t.en)) || '';
    const name = (me && (me.display_name || me.username)) || body.dataset.username || '';
    return str(text).split('{agent}').join(name);
  }

  // ---------------------------------------------------------------- queue: WebSocket messages
  function onMessageFrame(frame) {
    const id = str(frame.handoff_id);
    if (!id || !frame.entry) return;
    if (id === Q.openId) { if (Q.loading) Q.pending.push(frame.entry); else upsertLine(frame.entry); return; }
    Q.unread.add(id); // another of mine: flag it
    if (findMine(id)) renderMine(); else Q.refreshSoon();
  }

  // ---------------------------------------------------------------- queue: right pane
  function closePane(message) {
    saveDraft();
    Q.openId = null;
    Q.detail = null;
    Q.lines = new Map();
    Q.els.reply = Q.els.send = Q.els.log = null;
    Q.els.pane.replaceChildren(h('h2', {}, 'Conversation'),
      h('p', { class: 'empty' }, message || 'Select one of your conversations, or use “Take next”.'));
    if (Q.data) renderMine();
  }

  function saveDraft() {
    if (Q.openId && Q.els.reply) Q.drafts.set(Q.openId, Q.els.reply.value);
  }

  async function openConversation(id) {
    id = str(id);
    if (id !== Q.openId) {
      saveDraft();
      Q.detail = null;
      Q.els.reply = Q.els.send = Q.els.log = null;
      Q.els.pane.replaceChildren(h('h2', {}, 'Conversation'), h('p', { class: 'empty' }, 'Loading…'));
    }
    Q.openId = id;
    Q.openedAt = performance.now();
    Q.loading = true;
    Q.pending = [];
    Q.unread.delete(id);
    if (Q.data) renderMine();
    try {
      const d = await api('GET', `/handoffs/${enc(id)}`);
      if (Q.openId !== id) return; // the agent moved on meanwhile
      Q.detail = { handoff: d.handoff || {}, transcript: d.transcript || [], suggestions: d.suggestions || [] };
      renderPane();
      for (const e of Q.pending) upsertLine(e);
    } catch (e) {
      if (Q.openId === id) closePane();
      showError(e);
    } finally {
      if (Q.openId === id) { Q.loading = false; Q.pending = []; }
    }
  }

  /** (Re)build the right pane from Q.detail, keeping the draft and the caret in the reply box. */
  function renderPane() {
    const { handoff: ho, transcript, suggestions } = Q.detail;
    const old = Q.els.reply;
    const caret = old && document.activeElement === old ? [old.selectionStart, old.selectionEnd] : null;
    saveDraft();
    const assigned = ho.status === 'assigned';
    // A list inside the log, not a list that is a log: role="log" on the <ol> would take away its
    // list semantics and leave its items orphaned (axe: listitem).
    const lines = h('ol', { class: 'transcript-lines' });
    const log = h('div', {
      class: 'transcript', role: 'log', 'aria-labelledby': 'transcript-h', tabindex: '0', 'data-testid': 'transcript',
    }, lines);
    Q.els.log = lines;
    Q.lines = new Map();
    for (const e of transcript) upsertLine(e);
    Q.els.pane.replaceChildren(...[
      paneHeader(ho),
      ho.status === 'offered' ? offerBox(ho) : null,
      h('h3', { id: 'transcript-h' }, 'Transcript'),
      log,
      composeBox(ho, assigned),
      suggestionsBox(suggestions, assigned),
      actionsBox(ho, assigned)].filter(Boolean));
    log.scrollTop = log.scrollHeight;
    if (Q.sending) setSending(true);
    if (caret && !Q.els.reply.disabled) {
      Q.els.reply.focus();
      Q.els.reply.setSelectionRange(caret[0], caret[1]);
    }
  }

  function paneHeader(ho) {
    const dl = h('dl', { class: 'facts' });
    const add = (label, value) => {
      if (value != null && value !== '') dl.append(h('div', {}, h('dt', {}, label), h('dd', {}, str(value))));
    };
    add('Status', statusLabel(ho.status));
    add('Channel', ho.channel);
    add('Language', langName(ho.language));
    add('Queue', ho.queue_name);
    add('Reason', ho.reason);
    add('Callback number', ho.callback_number);
    const labelled = (cls, label, value) => (value
      ? h('p', { class: cls }, h('span', { class: 'label' }, `${label}: `), str(value)) : null);
    return h('header', { class: 'pane-head' },
      h('div', { class: 'pane-title' }, h('h2', {}, 'Conversation'), itemBadges(ho)), dl,
      labelled('question big', 'Question', ho.question), labelled('ticket-msg', 'Ticket message', ho.ticket_message));
  }

  function offerBox(ho) {
    const id = str(ho.id);
    const accept = button('Accept', 'btn-primary', 'accept');
    const decline = button('Decline', 'btn-secondary', 'decline');
    accept.addEventListener('click', () => act(id, 'accept', {}, [accept, decline]));
    decline.addEventListener('click', () => act(id, 'decline', {}, [accept, decline]));
    const deadline = toDate(ho.offered_until);
    const countdown = deadline ? h('span', { class: 'countdown', 'data-deadline': deadline.getTime() }) : null;
    if (countdown) updateCountdown(countdown);
    return h('div', { class: 'offer', role: 'group', 'aria-label': 'Offer' },
      h('p', {}, 'This conversation is offered to you. ', countdown), h('div', { class: 'row' }, accept, decline));
  }

  function updateCountdown(el) {
    const left = (Number(el.dataset.deadline) - serverNow()) / 1000;
    const text = left > 0 ? `Accept within ${mmss(left)}.` : 'The offer has expired.';
    if (el.textContent !== text) el.textContent = text;
    if (left <= 0 && !el.dataset.expired) {
      el.dataset.expired = '1';
      if (Q.refreshSoon) setTimeout(Q.refreshSoon, 1000);
    }
  }

  /** Add a transcript line, or update it when the seq is already shown (dedupe). */
  function upsertLine(entry, mineHint) {
    const list = Q.els.log;
    if (!list || !entry || entry.seq == null) return;
    const log = list.parentElement; // the scrolling role="log" box
    const key = str(entry.seq);
    if (mineHint) Q.mySeqs.add(`${Q.openId}:${key}`);
    const known = Q.lines.get(key);
    const merged = Object.assign({}, known && known.entry);
    // A seq already shown keeps its text; only missing fields and the delivery status are updated.
    // Except the echo of a reply sent from this page: the server's line (redacted, as every
    // console shows it) replaces it whichever arrives first.
    const echo = known && known.entry.local && !entry.local;
    for (const [k, v] of Object.entries(entry)) {
      if (v != null && (merged[k] == null || k === 'status' || (echo && k === 'text'))) merged[k] = v;
    }
    if (echo) delete merged.local;
    const li = known ? known.li : h('li', {});
    fillLine(li, merged);
    Q.lines.set(key, { li, entry: merged });
    if (known) return;
    const stick = log.scrollHeight - log.scrollTop - log.clientHeight < 80;
    const next = [...list.children].find((c) => Number(c.dataset.seq) > Number(key)); // keep seq order
    list.insertBefore(li, next || null);
    if (stick || mineHint) log.scrollTop = log.scrollHeight;
  }

  function fillLine(li, e) {
    const from = ['user', 'bot', 'agent'].includes(e.from) ? e.from : 'other';
    const username = me && me.username;
    const mine = from === 'agent' && (Q.mySeqs.has(`${Q.openId}:${e.seq}`) ||
      (username && (e.agent === username || e.username === username)));
    const who = { user: 'Citizen', bot: 'Bot', agent: mine ? 'You' : 'Agent' }[from] || str(e.from);
    li.className = `line from-${from}${mine ? ' from-me' : ''}`;
    li.setAttribute('data-testid', 'transcript-line');
    li.setAttribute('data-from', str(e.from));
    li.setAttribute('data-seq', str(e.seq));
    const at = toDate(e.at);
    const head = h('div', { class: 'line-head' }, h('span', { class: 'who' }, who),
      h('time', { datetime: at ? at.toISOString() : null }, fmtTime(e.at)));
    if (from === 'agent' && e.status && e.status !== 'sent') {
      const kind = e.status === 'pending' ? 'pending' : 'problem';
      head.append(h('span', { class: `delivery delivery-${kind}` }, `Delivery: ${str(e.status)}`));
    }
    li.replaceChildren(head, h('p', { class: 'line-text' }, str(e.text)));
  }

  function composeBox(ho, enabled) {
    const id = str(ho.id);
    const canned = h('select', { id: 'canned-select', class: 'select', 'data-testid': 'canned-select' },
      h('option', { value: '' }, 'Choose a canned reply…'),
      Q.config.canned.map((c) => h('option', { value: str(c.id) }, str(c.title || c.id))));
    canned.addEventListener('change', () => {
      const c = Q.config.canned.find((x) => str(x.id) === canned.value);
      canned.value = '';
      if (c) insertIntoReply(cannedText(c, ho.language));
    });
    const ta = h('textarea', {
      id: 'reply-text', class: 'reply', rows: '4', maxlength: MAX_REPLY, 'data-testid': 'reply-text',
      'aria-describedby': 'reply-hint', enterkeyhint: 'send',
    });
    ta.value = Q.drafts.get(id) || '';
    ta.addEventListener('input', () => Q.drafts.set(id, ta.value));
    ta.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
        e.preventDefault();
        sendReply();
      }
    });
    const send = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'reply-send' }, 'Send');
    const form = h('form', { class: 'compose', novalidate: true },
      h('div', { class: 'field' }, h('label', { for: 'canned-select' }, 'Canned reply'), canned),
      h('div', { class: 'field' }, h('label', { for: 'reply-text' }, 'Reply'), ta),
      h('div', { class: 'row' }, send, h('p', { id: 'reply-hint', class: 'hint' },
        enabled ? 'Enter sends · Shift+Enter adds a new line' : 'Accept the conversation to reply.')));
    form.addEventListener('submit', (e) => { e.preventDefault(); sendReply(); });
    if (!enabled) for (const c of [canned, ta, send]) c.disabled = true;
    Q.els.reply = ta;
    Q.els.send = send;
    return form;
  }

  function suggestionsBox(list, enabled) {
    const sec = h('section', { class: 'suggestions', 'aria-labelledby': 'sugg-h' },
      h('h3', { id: 'sugg-h' }, 'Suggested answers'));
    if (!list.length) { sec.append(h('p', { class: 'empty' }, 'No suggestions for this question.')); return sec; }
    sec.append(h('ul', { class: 'sugg-list' }, list.map((s) => {
      const answer = str(s.answer);
      const text = s.source_url ? `${answer}\nSource: ${str(s.source_url)}` : answer;
      const insert = button('Insert', 'btn-small', 'suggestion-insert', () => insertIntoReply(text));
      insert.setAttribute('aria-label', `Insert answer: ${str(s.question)}`);
      insert.disabled = !enabled;
      const href = s.source_url ? safeHttpUrl(s.source_url) : null;
      const source = s.source_url ? h('p', { class: 'meta' }, 'Source: ', href
        ? h('a', { href, target: '_blank', rel: 'noopener noreferrer' }, str(s.source_url))
        : str(s.source_url)) : null;
      return h('li', { class: 'sugg' }, h('p', { class: 'sugg-q' }, str(s.question)),
        h('p', { class: 'sugg-a' }, answer), source, insert);
    })));
    return sec;
  }

  function actionsBox(ho, enabled) {
    const id = str(ho.id);
    const tsel = h('select', { id: 'transfer-select', class: 'select', 'data-testid': 'transfer-select' },
      h('option', { value: '' }, 'Choose a queue…'),
      Q.config.queues.filter((q) => str(q.id) !== str(ho.queue_id))
        .map((q) => h('option', { value: str(q.id) }, str(q.name || q.id))));
    const tbtn = button('Transfer', 'btn-secondary', 'transfer');
    tbtn.addEventListener('click', () => {
      if (!tsel.value) { setStatus('Choose a queue to transfer to.', 'error'); tsel.focus(); return; }
      act(id, 'transfer', { queue_id: queueId(tsel.value) }, [tsel, tbtn]);
    });
    const dsel = h('select', { id: 'disposition-select', class: 'select', 'data-testid': 'disposition-select' },
      h('option', { value: '' }, 'Choose an outcome…'),
      Q.config.dispositions.map((d) => h('option', { value: str(d.code) }, str(d.label || d.code))));
    const rbtn = button('Resolve', 'btn-primary', 'resolve');
    rbtn.addEventListener('click', () => {
      if (!dsel.value) { setStatus('Choose an outcome before resolving.', 'error'); dsel.focus(); return; }
      act(id, 'resolve', { disposition: dsel.value }, [dsel, rbtn]);
    });
    if (!enabled) for (const c of [tsel, tbtn, dsel, rbtn]) c.disabled = true;
    return h('section', { class: 'actions', 'aria-labelledby': 'actions-h' }, h('h3', { id: 'actions-h' }, 'Finish'),
      h('div', { class: 'field row' }, h('label', { for: 'transfer-select' }, 'Transfer to'), tsel, tbtn),
      h('div', { class: 'field row' }, h('label', { for: 'disposition-select' }, 'Outcome'), dsel, rbtn));
  }

  // ================================================================ supervisor page
  function dataTable(testid, caption, columns) {
    const tbody = h('tbody', {});
    const table = h('table', { class: 'data', 'data-testid': testid },
      h('caption', {}, caption),
      h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col' }, c)))), tbody);
    // Its scrolling box is focusable and named: at 320 px a keyboard user must be able to scroll it.
    const wrap = h('div', { class: 'card table-wrap', tabindex: '0', role: 'region', 'aria-label': caption }, table);
    return { table, tbody, wrap };
  }
  const emptyRow = (cols, text) => h('tr', {}, h('td', { colspan: cols, class: 'empty' }, text));

  function supervisorPage() {
    document.title = 'Supervisor – Contact centre';
    const queues = dataTable('supervisor-queues', 'Queues', ['Queue', 'Status', 'Waiting', 'Longest wait', 'Assigned']);
    const agents = dataTable('supervisor-agents', 'Agents', ['Agent', 'Role', 'Status', 'Conversations']);
    const updated = h('p', { class: 'meta' });
    app.append(h('h1', { class: 'page-title' }, 'Supervisor'),
      h('div', { class: 'grid-2' }, queues.wrap, agents.wrap), updated);

    let inFlight = false;
    async function refresh() {
      if (inFlight) return;
      inFlight = true;
      try {
        const d = await api('GET', '/supervisor');
        const qs = d.queues || [];
        queues.tbody.replaceChildren(...qs.map((q) => h('tr', {},
          h('th', { scope: 'row' }, str(q.name || q.id)),
          h('td', {}, h('span', { class: `pill ${q.open ? 'pill-open' : 'pill-closed'}` }, q.open ? 'Open' : 'Closed')),
          h('td', { class: 'num' }, str(q.waiting)),
          h('td', { class: 'num' }, q.waiting > 0 ? sinceEl(q.longest_wait_s) : '—'),
          h('td', { class: 'num' }, str(q.assigned)))));
        if (!qs.length) queues.tbody.append(emptyRow(5, 'No queues.'));
        const ags = d.agents || [];
        agents.tbody.replaceChildren(...ags.map((a) => h('tr', {},
          h('th', { scope: 'row' }, str(a.display_name || a.username),
            a.display_name && a.username ? h('span', { class: 'meta' }, ` (${str(a.username)})`) : null),
          h('td', {}, str(a.role)),
          h('td', { class: 'nowrap' }, h('span', { class: `dot ${a.online ? 'dot-on' : 'dot-off'}`, 'aria-hidden': 'true' }),
            a.online ? 'Online' : 'Offline'),
          h('td', { class: 'num' }, str(a.conversations)))));
        if (!ags.length) agents.tbody.append(emptyRow(4, 'No agents.'));
        updated.textContent = `Updated ${new Date().toLocaleTimeString()}`;
      } catch (e) { showError(e); } finally { inFlight = false; }
    }
    const refreshSoon = debounce(refresh, DEBOUNCE_MS);
    wsHandlers.queue = refreshSoon;
    wsHandlers.reconnected = refreshSoon;
    refresh();
    setInterval(() => { if (document.visibilityState !== 'hidden') refresh(); }, SUPERVISOR_POLL_MS);
    document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'visible') refreshSoon(); });
  }

  // ================================================================ audit page
  function auditPage() {
    document.title = 'Audit – Contact centre';
    const t = dataTable('audit-table', 'Audit log, newest first', ['Time', 'User', 'Action', 'Hand-off', 'IP', 'Detail']);
    const more = button('Load older', 'btn-secondary', 'audit-older');
    app.append(h('h1', { class: 'page-title' }, 'Audit log'), t.wrap,
      h('div', { class: 'row' }, more));
    const seen = new Set();
    let oldest = null;
    let done = false;

    function row(e) {
      const d = e.detail;
      const detail = d == null || d === '' ? '' : typeof d === 'string' ? d : JSON.stringify(d);
      const at = toDate(e.at);
      return h('tr', {},
        h('td', { class: 'nowrap' }, h('time', { datetime: at ? at.toISOString() : null }, fmtDateTime(e.at))),
        h('td', {}, str(e.username)), h('td', {}, str(e.action)),
        h('td', {}, e.handoff_id == null ? '—' : str(e.handoff_id)),
        h('td', { class: 'nowrap' }, str(e.ip)),
        h('td', { class: 'detail' }, h('code', {}, detail)));
    }

    async function load() {
      const qs = new URLSearchParams({ limit: String(AUDIT_PAGE_SIZE) });
      if (oldest != null) qs.set('before', str(oldest));
      await busy([more], async () => {
        const entries = (await api('GET', `/audit?${qs}`)).entries || [];
        for (const e of entries) {
          if (seen.has(str(e.id))) continue;
          seen.add(str(e.id));
          t.tbody.append(row(e));
          const n = Number(e.id);
          if (oldest == null || (Number.isFinite(n) ? n < Number(oldest) : true)) oldest = e.id;
        }
        if (entries.length < AUDIT_PAGE_SIZE) done = true;
        if (!seen.size) t.tbody.replaceChildren(emptyRow(6, 'No entries.'));
      });
      if (done) { more.disabled = true; more.textContent = 'No older entries'; }
    }
    more.addEventListener('click', load);
    load();
  }

  // ================================================================ start
  function start() {
    markNav();
    showWho();
    loadMe().then(() => { // "You" labels need my username
      for (const { li, entry } of Q.lines.values()) fillLine(li, entry);
    });
    if (PAGE === 'supervisor') supervisorPage();
    else if (PAGE === 'audit') auditPage();
    else queuePage();
    setInterval(tick, 1000);
    connect();
  }

  start();
})();
