/*!
 * GovBot web-chat widget. Plain ES2020, one file, no dependencies, no build step.
 *
 * Embed with one tag:
 *   <script src="https://HOST/webchat/widget.js" data-title="Northbridge Services" data-lang="en" defer></script>
 *
 * The server base URL is derived from this script's own src. All DOM lives under one
 * `.gbw-root` element, every class name starts with `gbw-`, and the only global is
 * `window.GovBotWidget` ({ open(), close() }).
 *
 * Security rule for this file: message content is only ever inserted with
 * textContent / createTextNode. Never use innerHTML & co. here (a test enforces it).
 */
(() => {
  'use strict';

  if (window.GovBotWidget) return; // included twice: keep the first instance

  // ---------------------------------------------------------------- configuration
  const script = document.currentScript || (() => {
    const all = document.querySelectorAll('script[src*="widget.js"]');
    return all[all.length - 1] || null;
  })();
  if (!script || !script.src) {
    console.warn('[GovBotWidget] cannot determine the script URL; widget disabled.');
    return;
  }
  const scriptUrl = new URL(script.src, document.baseURI);
  /** URL of a sibling endpoint of widget.js, e.g. endpoint('ws') -> https://HOST/webchat/ws */
  const endpoint = (name) => new URL(name, scriptUrl);

  const MAX_LEN = 2000;
  const COUNTER_FROM = 1800; // show the character counter from here on
  const BACKOFF_BASE_MS = 500;
  const BACKOFF_MAX_MS = 10000;
  const STABLE_MS = 5000; // a socket open this long resets the backoff
  const ACK_TIMEOUT_MS = 15000; // unacknowledged message over an open socket: reconnect
  const POLL_MS = 4000; // history polling while on the HTTP fallback
  const TYPING_TIMEOUT_MS = 60000;
  const KEY_SESSION = 'gbw-session';
  const KEY_OUTBOX = 'gbw-outbox';
  const KEY_SEEN = 'gbw-seen';

  const STRINGS = {
    en: {
      launcher: 'Ask a question',
      defaultTitle: 'Virtual assistant',
      subtitle: 'Automated assistant',
      close: 'Close chat',
      restart: 'Start over',
      restarted: 'New conversation started.',
      log: 'Conversation',
      inputLabel: 'Your question',
      placeholder: 'Type your question…',
      send: 'Send',
      typing: 'Assistant is typing',
      you: 'You',
      bot: 'Assistant',
      agent: 'Agent',
      said: ': ',
      suggestions: 'Suggested replies',
      newTab: '(opens in a new tab)',
      newMessage: 'New message',
      sending: 'Sending…',
      notSent: 'Not sent',
      counter: (n) => `${n} / ${MAX_LEN} characters`,
      reconnecting: 'Connection lost. Reconnecting… Your messages will be sent when the connection is back.',
      sendFailed: 'Your message could not be sent. Please try again or rephrase it.',
      intro: (t) => `Hello! I can answer common questions about ${t}. ` +
        'Please do not share personal information such as your health card or social insurance number.',
    },
    fr: {
      launcher: 'Poser une question',
      defaultTitle: 'Assistant virtuel',
      subtitle: 'Assistant automatisé',
      close: 'Fermer le clavardage',
      restart: 'Recommencer',
      restarted: 'Nouvelle conversation commencée.',
      log: 'Conversation',
      inputLabel: 'Votre question',
      placeholder: 'Écrivez votre question…',
      send: 'Envoyer',
      typing: "L'assistant écrit…",
      you: 'Vous',
      bot: 'Assistant',
      agent: 'Agent',
      said: ' : ',
      suggestions: 'Réponses suggérées',
      newTab: "(s'ouvre dans un nouvel onglet)",
      newMessage: 'Nouveau message',
      sending: 'Envoi…',
      notSent: 'Non envoyé',
      counter: (n) => `${n} / ${MAX_LEN} caractères`,
      reconnecting: 'Connexion perdue. Reconnexion… Vos messages seront envoyés dès le retour de la connexion.',
      sendFailed: "Votre message n'a pas pu être envoyé. Veuillez réessayer ou le reformuler.",
      intro: (t) => `Bonjour! Je peux répondre aux questions courantes sur ${t}. ` +
        "Veuillez ne pas communiquer de renseignements personnels, comme votre numéro de carte santé ou d'assurance sociale.",
    },
  };

  const lang = (script.dataset.lang || document.documentElement.lang || 'en').toLowerCase().startsWith('fr') ? 'fr' : 'en';
  const T = STRINGS[lang];
  const title = (script.dataset.title || '').trim().slice(0, 80) || T.defaultTitle;

  // ---------------------------------------------------------------- small helpers
  const storage = {
    get(key) { try { return window.localStorage.getItem(key); } catch { return null; } },
    set(key, value) { try { window.localStorage.setItem(key, value); } catch { /* storage disabled */ } },
  };

  function uuid() {
    if (window.crypto && typeof crypto.randomUUID === 'function') {
      try { return crypto.randomUUID(); } catch { /* insecure context: fall through */ }
    }
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }
  // A session token issued by the server (POST /webchat/sessions): "<id>.<signature>".
  const TOKEN_RE = /^[A-Za-z0-9_-]{8,64}\.[A-Za-z0-9_-]{16,64}$/;

  /** Build an element. Strings among children become text nodes (Element.append). */
  function h(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v == null || v === false) continue;
      if (k === 'class') node.className = v;
      else if (k === 'text') node.textContent = v;
      else node.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children) if (c != null) node.append(c);
    return node;
  }

  function icon() {
    const NS = 'http://www.w3.org/2000/svg';
    const svg = document.createElementNS(NS, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('width', '22');
    svg.setAttribute('height', '22');
    svg.setAttribute('aria-hidden', 'true');
    svg.setAttribute('focusable', 'false');
    svg.setAttribute('class', 'gbw-icon');
    const path = document.createElementNS(NS, 'path');
    path.setAttribute('fill', 'currentColor');
    path.setAttribute('d', 'M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2zm3 6.5a1.5 1.5 0 1 0 0 .01zm5 0a1.5 1.5 0 1 0 0 .01zm5 0a1.5 1.5 0 1 0 0 .01z');
    svg.append(path);
    return svg;
  }

  // URLs in bot messages become links; everything else stays plain text.
  const URL_RE = /\bhttps?:\/\/[^\s<>"'`]+/gi;

  function trimUrl(url) {
    for (;;) {
      const last = url.slice(-1);
      if ('.,;:!?\'"»'.includes(last)) { url = url.slice(0, -1); continue; }
      if (last === ')' && url.split('(').length < url.split(')').length) { url = url.slice(0, -1); continue; }
      if (last === ']' && url.split('[').length < url.split(']').length) { url = url.slice(0, -1); continue; }
      return url;
    }
  }

  function link(url) {
    const lower = url.toLowerCase();
    if (!(lower.startsWith('https://') || lower.startsWith('http://'))) return document.createTextNode(url);
    try { new URL(url); } catch { return document.createTextNode(url); }
    const a = h('a', { href: url, target: '_blank', rel: 'noopener noreferrer', class: 'gbw-link' }, url);
    a.append(h('span', { class: 'gbw-sr-only' }, ` ${T.newTab}`));
    return a;
  }

  function appendText(parent, text, linkify) {
    if (!linkify) { parent.append(document.createTextNode(text)); return; }
    let pos = 0;
    for (const m of text.matchAll(URL_RE)) {
      const url = trimUrl(m[0]);
      if (!url.replace(/^https?:\/\//i, '')) continue;
      if (m.index > pos) parent.append(document.createTextNode(text.slice(pos, m.index)));
      parent.append(link(url));
      pos = m.index + url.length;
    }
    if (pos < text.length) parent.append(document.createTextNode(text.slice(pos)));
  }

  // The answer format's blocks (connectors/rich_text.py, to_blocks): paragraphs and lists of text
  // and link spans. Built with createElement and text nodes only; a link's href is checked again
  // here (https with a host, tel:, mailto:), and anything else shows its label as text.
  const TEL_RE = /^tel:\+?[0-9][0-9().-]{2,30}$/i;
  const MAILTO_RE = /^mailto:[^@?#/\\,;:\s]+@[^@?#/\\,;:\s]+\.[^@?#/\\,;:\s]+$/i;
  const MAX_BLOCKS = 100;

  function safeHref(href) {
    if (typeof href !== 'string' || !href || /[\u0000-\u0020\u007f<>"`{}|\\^]/.test(href)) return null;
    if (TEL_RE.test(href) || MAILTO_RE.test(href)) return href;
    if (!/^https:\/\//i.test(href)) return null;
    try {
      const u = new URL(href);
      return u.protocol === 'https:' && u.hostname ? href : null;
    } catch { return null; }
  }

  function appendSpans(parent, spans) {
    if (!Array.isArray(spans)) return;
    for (const span of spans.slice(0, 1000)) {
      if (!span || typeof span.text !== 'string') continue;
      const href = span.type === 'link' ? safeHref(span.href) : null;
      if (!href) { appendText(parent, span.text, span.type !== 'link'); continue; }
      const a = h('a', { href, class: 'gbw-link' }, span.text);
      if (href.toLowerCase().startsWith('https:')) {
        a.setAttribute('target', '_blank');
        a.setAttribute('rel', 'noopener noreferrer');
        a.append(h('span', { class: 'gbw-sr-only' }, ` ${T.newTab}`));
      }
      parent.append(a);
    }
  }

  /** Render the blocks into `parent`; false (nothing added) when they are not usable. */
  function appendBlocks(parent, blocks) {
    if (!Array.isArray(blocks) || !blocks.length) return false;
    const nodes = [];
    for (const block of blocks.slice(0, MAX_BLOCKS)) {
      if (block && block.type === 'paragraph') {
        const p = h('p', { class: 'gbw-p' });
        appendSpans(p, block.spans);
        nodes.push(p);
      } else if (block && block.type === 'list' && Array.isArray(block.items)) {
        const list = h(block.ordered === true ? 'ol' : 'ul', { class: 'gbw-list' });
        if (block.ordered === true && Number.isInteger(block.start) && block.start !== 1) {
          list.setAttribute('start', String(block.start));
        }
        for (const item of block.items.slice(0, 1000)) {
          const li = h('li');
          appendSpans(li, item);
          list.append(li);
        }
        nodes.push(list);
      }
    }
    if (!nodes.length) return false;
    parent.append(...nodes);
    return true;
  }

  // ---------------------------------------------------------------- styles
  const CSS = `
.gbw-root{position:fixed;right:20px;bottom:20px;z-index:2147483000;font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;font-size:16px;line-height:1.45;color:#1b1b1b;text-align:left;direction:ltr;letter-spacing:normal;text-transform:none}
.gbw-root *,.gbw-root *::before,.gbw-root *::after{box-sizing:border-box}
.gbw-root [hidden]{display:none!important}
.gbw-root h2,.gbw-root p{margin:0;padding:0;font-family:inherit;color:inherit;letter-spacing:normal;text-transform:none}
.gbw-sr-only{position:absolute!important;width:1px!important;height:1px!important;padding:0!important;margin:-1px!important;overflow:hidden!important;clip:rect(0 0 0 0)!important;white-space:nowrap!important;border:0!important}
.gbw-root button{font:inherit;margin:0;text-transform:none;letter-spacing:normal;-webkit-appearance:none;appearance:none}
.gbw-root :focus{outline:none}
.gbw-root :focus-visible{outline:3px solid #ffbf47;outline-offset:0;box-shadow:0 0 0 6px #0b0c0c}
.gbw-launcher{display:inline-flex;align-items:center;gap:.5em;min-height:48px;padding:.6em 1.15em;border:2px solid #fff;border-radius:999px;background:#1a4f8b;color:#fff;font-weight:600;font-size:1rem;line-height:1.2;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.3)}
.gbw-launcher:hover{background:#123a66}
.gbw-icon{flex:none}
.gbw-badge{display:inline-block;width:12px;height:12px;border-radius:50%;background:#ffbf47;border:2px solid #fff}
.gbw-panel{position:absolute;right:0;bottom:calc(100% + 12px);width:min(390px,calc(100vw - 40px));height:min(620px,calc(100vh - 110px));display:flex;flex-direction:column;background:#fff;border:1px solid #8a949e;border-radius:12px;box-shadow:0 10px 34px rgba(0,0,0,.32);overflow:hidden}
.gbw-header{display:flex;align-items:center;gap:8px;padding:10px 10px 10px 16px;background:#1a4f8b;color:#fff}
.gbw-heading{flex:1;min-width:0}
.gbw-title{font-size:1.05rem;font-weight:700;line-height:1.25}
.gbw-subtitle{font-size:.8rem;color:#e4ecf5}
.gbw-hbtn{min-width:40px;min-height:40px;padding:0 .6em;border:1px solid #c9d6e6;border-radius:6px;background:transparent;color:#fff;font-size:.85rem;cursor:pointer}
.gbw-hbtn:hover{background:#123a66}
.gbw-close{font-size:1.4rem;line-height:1}
.gbw-status{background:#fff4e5;color:#5c3200;font-size:.85rem}
.gbw-status:not(:empty){padding:6px 14px;border-bottom:1px solid #e7b36b}
.gbw-log{flex:1;min-height:0;overflow-y:auto;padding:14px 12px;background:#f5f6f8;display:flex;flex-direction:column;gap:10px;overscroll-behavior:contain}
.gbw-msg{display:flex;flex-direction:column;max-width:88%}
.gbw-msg--bot,.gbw-msg--agent{align-self:flex-start}
.gbw-msg--user{align-self:flex-end;align-items:flex-end}
.gbw-who{font-size:.75rem;font-weight:600;color:#4a5560;margin:0 4px 2px}
.gbw-bubble{padding:.55em .8em;border-radius:14px;white-space:pre-wrap;overflow-wrap:anywhere;word-break:break-word}
.gbw-msg--bot .gbw-bubble{background:#fff;border:1px solid #cfd5dc;border-bottom-left-radius:4px}
.gbw-msg--agent .gbw-bubble{background:#fffbea;border:1px solid #c9a227;border-bottom-left-radius:4px}
.gbw-msg--user .gbw-bubble{background:#1a4f8b;color:#fff;border:1px solid #1a4f8b;border-bottom-right-radius:4px}
.gbw-msg--pending .gbw-bubble{background:#3d6a9e;border-color:#3d6a9e}
.gbw-msg--failed .gbw-bubble{background:#fff;color:#1b1b1b;border:2px dashed #a4001d}
.gbw-meta{font-size:.75rem;color:#4a5560;margin:2px 4px 0}
.gbw-msg--failed .gbw-meta{color:#a4001d;font-weight:600}
.gbw-p+.gbw-p,.gbw-p+.gbw-list,.gbw-list+.gbw-p,.gbw-list+.gbw-list{margin-top:.6em}
.gbw-list{margin:0;padding:0 0 0 1.4em;list-style:disc outside;white-space:normal}
ol.gbw-list{list-style-type:decimal}
.gbw-list li{white-space:pre-wrap}
.gbw-link{color:#0b4a99;text-decoration:underline;text-underline-offset:2px}
.gbw-link:hover{color:#06305f;text-decoration-thickness:2px}
.gbw-qr-group{display:flex;flex-wrap:wrap;gap:6px;margin-top:8px}
.gbw-qr{min-height:36px;padding:.35em .9em;border:2px solid #1a4f8b;border-radius:18px;background:#fff;color:#1a4f8b;font-size:.9rem;line-height:1.25;text-align:left;cursor:pointer}
.gbw-qr:hover:not(:disabled){background:#e6eef8}
.gbw-qr:disabled{border-color:#a3acb6;color:#5b6570;background:#f5f6f8;cursor:default}
.gbw-qr.gbw-qr--chosen{border-color:#1a4f8b;background:#1a4f8b;color:#fff}
.gbw-typing{display:flex;align-items:center;gap:4px;padding:0 18px;background:#f5f6f8}
.gbw-typing--on{padding:4px 18px 8px}
.gbw-dots{display:inline-flex;align-items:center;gap:5px;height:14px}
.gbw-dot{display:inline-block;width:8px;height:8px;border-radius:50%;background:#5b6570;animation:gbw-bounce 1.2s infinite ease-in-out}
.gbw-dot:nth-child(2){animation-delay:.15s}.gbw-dot:nth-child(3){animation-delay:.3s}
@keyframes gbw-bounce{0%,60%,100%{transform:translateY(0);opacity:.6}30%{transform:translateY(-4px);opacity:1}}
.gbw-form{display:flex;flex-wrap:wrap;align-items:flex-end;gap:8px;padding:10px;border-top:1px solid #cfd5dc;background:#fff}
.gbw-input{flex:1;min-width:0;min-height:44px;max-height:132px;margin:0;padding:.6em .7em;border:1px solid #6b7480;border-radius:8px;background:#fff;color:#1b1b1b;font:inherit;line-height:1.35;resize:none;overflow-y:auto}
.gbw-input::placeholder{color:#5b6570;opacity:1}
.gbw-send{min-height:44px;padding:0 1.1em;border:2px solid #1a4f8b;border-radius:8px;background:#1a4f8b;color:#fff;font-weight:600;cursor:pointer}
.gbw-send:hover{background:#123a66}
.gbw-counter{flex-basis:100%;order:3;text-align:right;font-size:.8rem;color:#4a5560}
.gbw-counter--max{color:#a4001d;font-weight:600}
@media (max-width:480px),(max-height:520px){
.gbw-root.gbw-root--open{right:0;bottom:0;left:0;top:0}
.gbw-root--open .gbw-launcher{display:none}
.gbw-root--open .gbw-panel{position:fixed;inset:0;width:100%;height:100%;border-radius:0;border:0}
}
@media (prefers-reduced-motion:reduce){.gbw-dot{animation:none;opacity:.8}}
@media (forced-colors:active){
.gbw-launcher,.gbw-send,.gbw-qr,.gbw-hbtn,.gbw-panel,.gbw-bubble,.gbw-input{border:2px solid ButtonText}
.gbw-dot,.gbw-badge{background:CanvasText;forced-color-adjust:none}
.gbw-root :focus-visible{outline:3px solid Highlight}
}
@media print{.gbw-root{display:none!important}}
`;

  function injectStyles() {
    // Constructable stylesheets need no DOM node and pass strict CSPs; fall back to <style>
    // (carrying the script's CSP nonce, if any).
    try {
      if ('adoptedStyleSheets' in Document.prototype && 'replaceSync' in CSSStyleSheet.prototype) {
        const sheet = new CSSStyleSheet();
        sheet.replaceSync(CSS);
        document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
        return;
      }
    } catch { /* fall back */ }
    const style = document.createElement('style');
    if (script.nonce) style.nonce = script.nonce;
    style.textContent = CSS;
    (document.head || document.documentElement).append(style);
  }

  // ---------------------------------------------------------------- DOM
  const uid = Math.random().toString(36).slice(2, 8);
  const ids = {
    panel: `gbw-panel-${uid}`,
    title: `gbw-title-${uid}`,
    input: `gbw-input-${uid}`,
    counter: `gbw-counter-${uid}`,
  };

  const badge = h('span', { class: 'gbw-badge', hidden: true },
    h('span', { class: 'gbw-sr-only' }, T.newMessage));
  const launcher = h('button', {
    type: 'button', class: 'gbw-launcher', 'aria-expanded': 'false',
    'aria-controls': ids.panel, 'aria-haspopup': 'dialog',
  }, icon(), h('span', { class: 'gbw-launcher-label' }, T.launcher), badge);

  // Its visible text is its name (WCAG 2.5.3): a voice user says what they see.
  const restartBtn = h('button', { type: 'button', class: 'gbw-hbtn gbw-restart' }, T.restart);
  const closeBtn = h('button', { type: 'button', class: 'gbw-hbtn gbw-close', 'aria-label': T.close },
    h('span', { 'aria-hidden': 'true' }, '×'));
  const statusEl = h('div', { class: 'gbw-status', role: 'status' });
  const log = h('div', {
    class: 'gbw-log', role: 'log', 'aria-live': 'polite', 'aria-relevant': 'additions',
    'aria-label': T.log, tabindex: '0',
  });
  const typingText = h('span', { class: 'gbw-sr-only' });
  const typingDots = h('span', { class: 'gbw-dots', 'aria-hidden': 'true', hidden: true },
    h('span', { class: 'gbw-dot' }), h('span', { class: 'gbw-dot' }), h('span', { class: 'gbw-dot' }));
  const typingEl = h('div', { class: 'gbw-typing', role: 'status' }, typingText, typingDots);
  const input = h('textarea', {
    id: ids.input, class: 'gbw-input', rows: '1', maxlength: String(MAX_LEN),
    placeholder: T.placeholder, 'aria-describedby': ids.counter, autocomplete: 'off',
    enterkeyhint: 'send', spellcheck: 'true',
  });
  const counter = h('div', { id: ids.counter, class: 'gbw-counter', hidden: true });
  const sendBtn = h('button', { type: 'submit', class: 'gbw-send' }, T.send);
  const form = h('form', { class: 'gbw-form', novalidate: true },
    h('label', { class: 'gbw-sr-only', for: ids.input }, T.inputLabel), input, sendBtn, counter);
  const panel = h('div', {
    id: ids.panel, class: 'gbw-panel', role: 'dialog', 'aria-labelledby': ids.title, hidden: true,
  },
  h('div', { class: 'gbw-header' },
    h('div', { class: 'gbw-heading' },
      h('h2', { id: ids.title, class: 'gbw-title' }, title),
      h('p', { class: 'gbw-subtitle' }, T.subtitle)),
    restartBtn, closeBtn),
  statusEl, log, typingEl, form);
  const root = h('div', { class: 'gbw-root', lang, 'data-state': 'idle' }, launcher, panel);

  // ---------------------------------------------------------------- state
  let session = null;
  let isOpen = false;
  let started = false;
  let lastSeq = 0; // highest server seq rendered
  const seenSeqs = new Set();
  let readSeq = Number(storage.get(KEY_SEEN)) || 0; // highest seq the citizen has had on screen
  const meta = new WeakMap(); // message element -> {from, seq, id, text, acked, pending, group}
  const localById = new Map(); // client id -> local user message element
  let outbox = []; // [{id, text, title, sentAt}] not yet acknowledged by the server
  let typingTimer = 0;

  function loadSession() {
    const stored = storage.get(KEY_SESSION);
    session = stored && TOKEN_RE.test(stored) ? stored : null; // an older made-up id is dropped
    try {
      const saved = JSON.parse(storage.get(KEY_OUTBOX) || 'null');
      if (saved && saved.session === session && Array.isArray(saved.items)) {
        outbox = saved.items.filter((i) => i && typeof i.id === 'string' && typeof i.text === 'string')
          .map((i) => ({ id: i.id, text: i.text, title: typeof i.title === 'string' ? i.title : null, sentAt: 0 }));
      }
    } catch { outbox = []; }
  }

  let asking = null; // the session request in flight, shared by everyone who needs one

  /** The session token, asked of the server the first time (null while it cannot be reached). */
  function ensureSession() {
    if (session) return Promise.resolve(session);
    if (!asking) {
      asking = fetch(endpoint('sessions').href, {
        method: 'POST', credentials: 'omit', cache: 'no-store', headers: { Accept: 'application/json' },
      })
        .then((res) => (res.ok ? res.json() : null))
        .then((data) => {
          const token = data && typeof data.session === 'string' && TOKEN_RE.test(data.session) ? data.session : null;
          if (token && !session) {
            session = token;
            storage.set(KEY_SESSION, token);
            saveOutbox(); // queued messages belong to the new session
          }
          return session;
        })
        .catch(() => null)
        .finally(() => { asking = null; });
    }
    return asking;
  }

  /** The server does not know our session (its secret changed): forget it; unsent messages stay
   *  queued and go out with the next one. */
  function sessionRefused(refused) {
    if (refused !== session) return; // already replaced by a newer one
    session = null;
    storage.set(KEY_SESSION, '');
    lastSeq = 0;
    seenSeqs.clear();
    for (const item of outbox) item.sentAt = 0;
  }

  function saveOutbox() {
    storage.set(KEY_OUTBOX, JSON.stringify({
      session, items: outbox.map(({ id, text, title: t }) => ({ id, text, title: t })),
    }));
  }

  function setState(s) { root.setAttribute('data-state', s); }
  function setStatus(text) { if (statusEl.textContent !== text) statusEl.textContent = text; }

  // ---------------------------------------------------------------- rendering
  function nearBottom() { return log.scrollHeight - log.scrollTop - log.clientHeight < 80; }
  function scrollToBottom() { log.scrollTop = log.scrollHeight; }

  function isPendingLocal(node) {
    const m = meta.get(node);
    return !!m && m.from === 'user' && m.seq == null && !m.acked && m.id != null;
  }

  /** Keep server messages ordered by seq; unconfirmed local messages stay last. A node already
   *  in its place is left alone: moving it would add it to the live log again, and a screen
   *  reader would read the citizen's own message twice (pending, then confirmed). */
  function place(node) {
    const m = meta.get(node);
    let before = null;
    if (m.seq != null) {
      for (const c of log.children) {
        const cm = meta.get(c);
        if (!cm || c === node) continue;
        if ((cm.seq != null && cm.seq > m.seq) || isPendingLocal(c)) { before = c; break; }
      }
    }
    if (node.parentNode === log) {
      let next = node.nextElementSibling;
      while (next && next !== before && !meta.get(next)) next = next.nextElementSibling;
      if (next === before) return;
    }
    log.insertBefore(node, before);
  }

  function messageNode(from, text, opts = {}) {
    const who = from === 'user' ? T.you : from === 'agent' ? T.agent : T.bot;
    const node = h('div', { class: `gbw-msg gbw-msg--${from}` });
    if (opts.intro) node.classList.add('gbw-msg--intro');
    if (from === 'agent') node.append(h('span', { class: 'gbw-who', 'aria-hidden': 'true' }, who));
    const bubble = h('div', { class: 'gbw-bubble' }, h('span', { class: 'gbw-sr-only' }, who + T.said));
    if (from === 'user' || !appendBlocks(bubble, opts.blocks)) appendText(bubble, text, from !== 'user');
    node.append(bubble);
    if (opts.seq != null) node.setAttribute('data-seq', String(opts.seq));
    meta.set(node, { from, seq: opts.seq ?? null, id: opts.id ?? null, text: opts.rawText ?? text, acked: false, group: null });
    return node;
  }

  function setMetaLine(node, text) {
    let line = node.querySelector(':scope > .gbw-meta');
    if (!text) { if (line) line.remove(); return; }
    if (!line) { line = h('span', { class: 'gbw-meta' }); node.append(line); }
    line.textContent = text;
  }

  function renderBot(from, text, buttons, seq, opts = {}) {
    const stick = nearBottom();
    const node = messageNode(from, text, { seq, intro: opts.intro, blocks: opts.blocks });
    if (buttons.length) {
      const group = h('div', { class: 'gbw-qr-group', role: 'group', 'aria-label': T.suggestions });
      for (const b of buttons) {
        const btn = h('button', { type: 'button', class: 'gbw-qr' }, b.title);
        btn.addEventListener('click', () => choose(group, btn, b));
        group.append(btn);
      }
      node.append(group);
      meta.get(node).group = group;
    }
    place(node);
    if (stick) scrollToBottom();
    return node;
  }

  function renderUser(text, opts) {
    const node = messageNode('user', opts.display ?? text, { seq: opts.seq, id: opts.id, rawText: text });
    if (opts.id) {
      localById.set(opts.id, node);
      node.classList.add('gbw-msg--pending');
      setMetaLine(node, T.sending);
    }
    place(node);
    return node;
  }

  function disableGroup(group) {
    if (group.getAttribute('data-used') === 'true') return;
    group.setAttribute('data-used', 'true');
    for (const b of group.querySelectorAll('button')) b.disabled = true;
  }

  /** A suggestion group is stale once the citizen has said anything after it. */
  function disableStaleGroups() {
    let userAfter = false;
    for (let c = log.lastElementChild; c; c = c.previousElementSibling) {
      const m = meta.get(c);
      if (!m) continue;
      if (m.from === 'user') userAfter = true;
      else if (m.group && userAfter) disableGroup(m.group);
    }
  }

  function choose(group, btn, button) {
    if (group.getAttribute('data-used') === 'true') return;
    btn.classList.add('gbw-qr--chosen');
    btn.setAttribute('aria-pressed', 'true');
    disableGroup(group);
    send(button.payload, button.title);
    input.focus();
  }

  function setTyping(on) {
    clearTimeout(typingTimer);
    const wasOn = typingEl.classList.contains('gbw-typing--on');
    if (on) {
      typingTimer = setTimeout(() => setTyping(false), TYPING_TIMEOUT_MS);
      if (wasOn) return;
      const stick = nearBottom();
      typingEl.classList.add('gbw-typing--on');
      typingEl.setAttribute('aria-label', T.typing);
      typingText.textContent = T.typing;
      typingDots.hidden = false;
      if (stick) scrollToBottom();
    } else if (wasOn) {
      typingEl.classList.remove('gbw-typing--on');
      typingEl.removeAttribute('aria-label');
      typingText.textContent = '';
      typingDots.hidden = true;
    }
  }

  function markRead() {
    if (lastSeq > readSeq) { readSeq = lastSeq; storage.set(KEY_SEEN, String(readSeq)); }
    badge.hidden = true;
  }

  // ---------------------------------------------------------------- incoming
  function markAcked(id) {
    if (typeof id !== 'string') return;
    const before = outbox.length;
    outbox = outbox.filter((i) => i.id !== id);
    if (outbox.length !== before) saveOutbox();
    const node = localById.get(id);
    if (node) {
      const m = meta.get(node);
      if (!m.acked) {
        m.acked = true;
        node.classList.remove('gbw-msg--pending');
        setMetaLine(node, '');
      }
    }
  }

  function findLocalEcho(frame) {
    if (typeof frame.client_id === 'string' && localById.has(frame.client_id)) return localById.get(frame.client_id);
    for (const node of localById.values()) { // oldest first (Map keeps insertion order)
      const m = meta.get(node);
      if (m.seq == null && m.text === frame.text) return node;
    }
    return null;
  }

  function cleanButtons(list) {
    if (!Array.isArray(list)) return [];
    return list.filter((b) => b && typeof b.title === 'string' && typeof b.payload === 'string' && b.title.trim())
      .slice(0, 12);
  }

  /** A message from the server (WebSocket frame, history entry or HTTP reply). */
  function receive(frame) {
    const seq = Number.isInteger(frame.seq) ? frame.seq : null;
    if (seq != null) {
      if (seenSeqs.has(seq)) return false;
      seenSeqs.add(seq);
      if (seq > lastSeq) lastSeq = seq;
    }
    const from = frame.from === 'user' || frame.from === 'agent' ? frame.from : 'bot';
    const text = typeof frame.text === 'string' ? frame.text : '';
    if (from === 'user') {
      const local = findLocalEcho(frame);
      if (local) {
        const m = meta.get(local);
        markAcked(m.id);
        localById.delete(m.id);
        if (seq != null) {
          m.seq = seq;
          local.setAttribute('data-seq', String(seq));
          place(local);
        }
      } else {
        const display = typeof frame.title === 'string' && frame.title ? frame.title : text;
        renderUser(text, { seq, display });
      }
      disableStaleGroups();
    } else {
      const buttons = cleanButtons(frame.buttons);
      if (!text && !buttons.length) return false;
      renderBot(from, text, buttons, seq, { blocks: frame.blocks });
      setTyping(false);
      disableStaleGroups();
      if (isOpen) markRead();
      else if (seq == null || seq > readSeq) badge.hidden = false;
    }
    return true;
  }

  // ---------------------------------------------------------------- transport
  let ws = null;
  let wsOpen = false;
  let failures = 0; // consecutive connection losses without a stable period
  let reconnectTimer = 0;
  let stableTimer = 0;
  let httpMode = false;
  let httpBusy = false;
  let pollTimer = 0;
  let connecting = false; // waiting for a session before opening the socket

  function wsUrl() {
    const u = endpoint('ws');
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    u.searchParams.set('session', session);
    u.searchParams.set('lang', lang);
    return u.href;
  }

  function wsSend(obj) {
    if (!ws || !wsOpen || ws.readyState !== 1) return false;
    try { ws.send(JSON.stringify(obj)); return true; } catch { return false; }
  }

  function flushWs() {
    for (const item of outbox) {
      if (item.sentAt) continue;
      const frame = { type: 'message', id: item.id, text: item.text };
      if (item.title && item.title !== item.text) frame.title = item.title;
      if (!wsSend(frame)) return;
      item.sentAt = Date.now();
    }
  }

  function connect() {
    clearTimeout(reconnectTimer);
    reconnectTimer = 0;
    if (ws) return; // already connecting or open
    if (typeof window.WebSocket !== 'function') { enterHttpMode(); return; }
    if (!session) {
      if (connecting) return;
      connecting = true;
      ensureSession().then((token) => {
        connecting = false;
        if (token) connect(); else connectionLost();
      });
      return;
    }
    let sock;
    const used = session;
    try { sock = new WebSocket(wsUrl()); } catch { connectionLost(); return; }
    ws = sock;
    if (!httpMode) setState(failures ? 'reconnecting' : 'connecting');
    sock.onopen = () => {
      if (ws !== sock) return;
      wsOpen = true;
      leaveHttpMode();
      setState('online');
      setStatus('');
      stableTimer = setTimeout(() => { failures = 0; }, STABLE_MS);
      wsSend({ type: 'resume', after: lastSeq });
      for (const item of outbox) item.sentAt = 0;
      flushWs();
    };
    sock.onmessage = (ev) => {
      if (ws !== sock || typeof ev.data !== 'string') return;
      let frame;
      try { frame = JSON.parse(ev.data); } catch { return; }
      if (!frame || typeof frame !== 'object') return;
      if (frame.type === 'ack') markAcked(frame.id);
      else if (frame.type === 'typing') setTyping(frame.on === true);
      else if (frame.type === 'message') receive(frame);
      else if (frame.type === 'notice') receive({ ...frame, seq: null, from: 'bot' });
      else if (frame.type === 'error') refused(frame);
    };
    sock.onerror = () => { /* a close event follows */ };
    sock.onclose = (ev) => {
      if (ws !== sock) return;
      if (ev.code === 1008 && ev.reason === 'unknown session') sessionRefused(used);
      connectionLost();
    };
  }

  /** The server did not take a message (too many at once): send it again after the wait it asked
   *  for; the polite "please slow down" comes as a notice. */
  function refused(frame) {
    if (typeof frame.id !== 'string') return;
    const item = outbox.find((i) => i.id === frame.id);
    if (!item) return;
    const wait = Math.min(60, Math.max(1, Number(frame.retry_after) || 5)) * 1000;
    setTimeout(() => { item.sentAt = 0; flushWs(); }, wait);
  }

  function connectionLost() {
    ws = null;
    wsOpen = false;
    clearTimeout(stableTimer);
    failures += 1;
    for (const item of outbox) item.sentAt = 0;
    if (failures >= 2) enterHttpMode(); // WebSocket keeps failing: talk HTTP meanwhile
    if (!httpMode) {
      setState('reconnecting');
      setStatus(T.reconnecting);
    }
    const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(failures - 1, 6));
    reconnectTimer = setTimeout(connect, Math.round(delay * (0.75 + Math.random() * 0.25)));
  }

  function reconnectNow() {
    if (!started || ws) return;
    connect();
  }

  function dropSocket() {
    const sock = ws;
    ws = null;
    wsOpen = false;
    clearTimeout(stableTimer);
    if (sock) { try { sock.close(); } catch { /* ignore */ } }
  }

  function enterHttpMode() {
    if (!httpMode) {
      httpMode = true;
      setState('http');
      setStatus('');
    }
    flushHttp();
    schedulePoll();
  }

  function leaveHttpMode() {
    httpMode = false;
    clearTimeout(pollTimer);
    pollTimer = 0;
  }

  function schedulePoll() {
    clearTimeout(pollTimer);
    pollTimer = setTimeout(async () => {
      if (!httpMode) return;
      if (document.visibilityState !== 'hidden') {
        await fetchHistory();
        flushHttp();
      }
      schedulePoll();
    }, POLL_MS);
  }

  async function fetchHistory() {
    if (!session) return false;
    const u = endpoint('history');
    const asked = session;
    u.searchParams.set('session', asked);
    u.searchParams.set('after', String(lastSeq));
    try {
      const res = await fetch(u.href, { credentials: 'omit', cache: 'no-store', headers: { Accept: 'application/json' } });
      if (res.status === 403) { sessionRefused(asked); return false; }
      if (!res.ok) return false;
      const data = await res.json();
      const list = data && Array.isArray(data.messages) ? data.messages : [];
      const stick = nearBottom();
      for (const m of list) if (m && typeof m === 'object') receive(m);
      if (stick) scrollToBottom();
      return true;
    } catch {
      return false;
    }
  }

  async function flushHttp() {
    if (httpBusy) return;
    httpBusy = true;
    let refusals = 0;
    try {
      while (httpMode && outbox.length) {
        if (!session && !(await ensureSession())) { setStatus(T.reconnecting); break; }
        const item = outbox[0];
        const body = { session, id: item.id, text: item.text, lang };
        if (item.title && item.title !== item.text) body.title = item.title;
        let res;
        try {
          res = await fetch(endpoint('messages').href, {
            method: 'POST',
            credentials: 'omit',
            headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
            body: JSON.stringify(body),
          });
        } catch {
          setStatus(T.reconnecting);
          break; // network trouble: keep it queued, retry on the next poll
        }
        if (res.status >= 500 || res.status === 408 || res.status === 429) { setStatus(T.reconnecting); break; }
        if (res.status === 403) { // a new session, then the same message; once, or we would spin
          sessionRefused(body.session);
          if (++refusals > 1) { setStatus(T.reconnecting); break; }
          continue;
        }
        if (statusEl.textContent === T.reconnecting) setStatus('');
        if (!res.ok) { sendFailed(item.id); continue; }
        let data = null;
        try { data = await res.json(); } catch { /* no body */ }
        const node = localById.get(item.id);
        markAcked(item.id);
        // Prefer the server's numbered history (keeps seq-based de-duplication working);
        // fall back to the replies in the POST response if the history lacks our message.
        await fetchHistory();
        const echoed = !node || meta.get(node).seq != null || !localById.has(item.id);
        if (!echoed && data && Array.isArray(data.messages)) {
          for (const m of data.messages) if (m && typeof m === 'object') receive({ ...m, seq: undefined, from: 'bot' });
          scrollToBottom();
        }
        setTyping(false);
      }
    } finally {
      httpBusy = false;
    }
  }

  function sendFailed(id) {
    outbox = outbox.filter((i) => i.id !== id);
    saveOutbox();
    const node = localById.get(id);
    if (node) {
      localById.delete(id);
      node.classList.remove('gbw-msg--pending');
      node.classList.add('gbw-msg--failed');
      setMetaLine(node, T.notSent);
    }
    setTyping(false);
    setStatus(T.sendFailed);
  }

  // An open socket that never acknowledges is as good as dead: reconnect (and resend).
  setInterval(() => {
    if (!wsOpen) return;
    const now = Date.now();
    if (outbox.some((i) => i.sentAt && now - i.sentAt > ACK_TIMEOUT_MS)) {
      const sock = ws;
      if (sock) try { sock.close(); } catch { /* ignore */ }
    }
  }, 5000);

  function start() {
    if (started) return;
    started = true;
    for (const item of outbox) { // messages queued before a reload
      renderUser(item.text, { id: item.id, display: item.title || item.text });
    }
    fetchHistory();
    connect();
  }

  // ---------------------------------------------------------------- outgoing
  function send(text, display) {
    if (typeof text !== 'string' || !text.trim()) return;
    text = text.trim().slice(0, MAX_LEN);
    start();
    const id = uuid();
    const item = { id, text, title: display && display !== text ? display : null, sentAt: 0 };
    outbox.push(item);
    saveOutbox();
    if (statusEl.textContent === T.sendFailed || statusEl.textContent === T.restarted) setStatus('');
    renderUser(text, { id, display: display || text });
    disableStaleGroups();
    setTyping(true);
    scrollToBottom();
    if (wsOpen) flushWs();
    else if (httpMode) flushHttp();
  }

  function sendFromInput() {
    const text = input.value;
    if (!text.trim()) return;
    input.value = '';
    updateInput();
    send(text);
  }

  function updateInput() {
    const n = input.value.length;
    if (n >= COUNTER_FROM) {
      counter.hidden = false;
      counter.textContent = T.counter(n);
      counter.classList.toggle('gbw-counter--max', n >= MAX_LEN);
    } else if (!counter.hidden) {
      counter.hidden = true;
      counter.textContent = '';
    }
    input.style.height = 'auto';
    input.style.height = `${Math.min(input.scrollHeight + 2, 132)}px`;
  }

  function restart() {
    dropSocket();
    leaveHttpMode();
    clearTimeout(reconnectTimer);
    failures = 0;
    session = null; // the next connection asks the server for a new one
    storage.set(KEY_SESSION, '');
    outbox = [];
    saveOutbox();
    lastSeq = 0;
    readSeq = 0;
    storage.set(KEY_SEEN, '0');
    seenSeqs.clear();
    localById.clear();
    setTyping(false);
    for (const c of [...log.children]) if (!c.classList.contains('gbw-msg--intro')) c.remove();
    setStatus(T.restarted);
    if (started) connect();
    input.focus();
  }

  // ---------------------------------------------------------------- covering the page
  // Where the open panel fills the screen (the media query of the CSS above), the page behind it
  // cannot be seen, so it must not take focus either (WCAG 2.4.11): the dialog becomes modal and
  // the rest of the page inert until it closes.
  const COVERS = typeof window.matchMedia === 'function' ? window.matchMedia('(max-width:480px),(max-height:520px)') : null;
  let inerted = []; // page elements this widget made inert (and only those)

  function updateModal() {
    const modal = isOpen && !!COVERS && COVERS.matches;
    for (const el of inerted) el.inert = false;
    inerted = [];
    if (modal) {
      for (const el of document.body.children) {
        if (el !== root && !el.inert && el.tagName !== 'SCRIPT') { el.inert = true; inerted.push(el); }
      }
      panel.setAttribute('aria-modal', 'true');
    } else {
      panel.removeAttribute('aria-modal');
    }
  }
  if (COVERS) {
    if (typeof COVERS.addEventListener === 'function') COVERS.addEventListener('change', updateModal);
    else if (typeof COVERS.addListener === 'function') COVERS.addListener(updateModal);
  }

  /** Tab from the last control of a modal panel goes to its first, Shift+Tab the other way. */
  function wrapFocus(e) {
    if (panel.getAttribute('aria-modal') !== 'true') return;
    const controls = [...panel.querySelectorAll('button, textarea, a[href], [tabindex="0"]')]
      .filter((el) => !el.disabled && el.getClientRects().length);
    if (!controls.length) return;
    const first = controls[0];
    const last = controls[controls.length - 1];
    if (e.shiftKey && document.activeElement === first) { e.preventDefault(); last.focus(); }
    else if (!e.shiftKey && document.activeElement === last) { e.preventDefault(); first.focus(); }
  }

  // ---------------------------------------------------------------- open / close
  function open() {
    if (!root.isConnected) mount();
    if (!isOpen) {
      isOpen = true;
      panel.hidden = false;
      root.classList.add('gbw-root--open');
      launcher.setAttribute('aria-expanded', 'true');
      updateModal();
      start();
      markRead();
      scrollToBottom();
    }
    input.focus();
  }

  function close() {
    if (!isOpen) return;
    const hadFocus = panel.contains(document.activeElement);
    isOpen = false;
    panel.hidden = true;
    root.classList.remove('gbw-root--open');
    launcher.setAttribute('aria-expanded', 'false');
    updateModal();
    if (hadFocus) launcher.focus();
  }

  // ---------------------------------------------------------------- events
  launcher.addEventListener('click', () => (isOpen ? close() : open()));
  closeBtn.addEventListener('click', () => { close(); launcher.focus(); });
  restartBtn.addEventListener('click', restart);
  panel.addEventListener('keydown', (e) => {
    if (e.key === 'Tab') wrapFocus(e);
    if (e.key === 'Escape' && !e.isComposing) {
      e.preventDefault();
      e.stopPropagation();
      close();
      launcher.focus();
    }
  });
  form.addEventListener('submit', (e) => { e.preventDefault(); sendFromInput(); input.focus(); });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.altKey && !e.ctrlKey && !e.metaKey && !e.isComposing) {
      e.preventDefault();
      sendFromInput();
    }
  });
  input.addEventListener('input', updateInput);
  window.addEventListener('online', reconnectNow);
  document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'visible') reconnectNow(); });

  function mount() {
    if (root.isConnected) return;
    injectStyles();
    document.body.append(root);
  }

  loadSession();
  renderBot('bot', T.intro(title), [], null, { intro: true });
  if (document.body) mount();
  else document.addEventListener('DOMContentLoaded', mount, { once: true });
  if (session && outbox.length) start(); // deliver messages still queued from a previous page

  Object.defineProperty(window, 'GovBotWidget', {
    value: Object.freeze({ open, close }),
    configurable: false,
    enumerable: false,
    writable: false,
  });
})();
