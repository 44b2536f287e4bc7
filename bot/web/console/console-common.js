/*!
 * What every logged-in console page's script shares: building elements, the status live region,
 * and calls to the JSON API (session cookie, X-CSRF-Token on every change, the server's own
 * message on a refusal, the login page on 401). Plain ES2020, no dependencies, no build step.
 *
 * Loaded before each page's script (both `defer`, so in order) and served behind the login like
 * them. It defines one global, `GovConsole`, and nothing else.
 *
 * Security rule: nothing here parses markup. `h` and `fill` add strings as text nodes
 * (Element.append), and the status area is set with textContent.
 */
(() => {
  'use strict';

  const LOGIN_URL = '/console/login';
  const csrfMeta = document.querySelector('meta[name="csrf-token"]');
  const CSRF = csrfMeta ? csrfMeta.getAttribute('content') || '' : '';
  const str = (v) => (v == null ? '' : String(v));

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

  /** Replace a node's children; arrays are flattened, null and false left out. */
  function fill(node, ...children) {
    node.replaceChildren(...children.flat().filter((c) => c != null && c !== false));
    return node;
  }

  /** A refusal of the API (or no answer: status 0), with the message to show. */
  class ApiError extends Error {
    constructor(status, message) { super(message); this.status = status; }
  }

  let leaving = false;
  /** Go to the login page (once, however many calls found the session ended). */
  function goLogin() {
    if (leaving) return;
    leaving = true;
    window.location.assign(LOGIN_URL);
  }
  /** Whether the page is on its way to the login page. */
  const isLeaving = () => leaving;

  /** The status live region: `setStatus(text, kind)` (info messages fade after `infoMs`, errors
   * stay until replaced) and `showError(err)` (nothing for a 401: the login page is coming). */
  function statusArea(el, infoMs) {
    let timer = 0;
    function setStatus(text, kind = 'info') {
      clearTimeout(timer);
      el.textContent = str(text);
      el.dataset.kind = text ? kind : '';
      if (text && kind === 'info') timer = setTimeout(() => setStatus(''), infoMs);
    }
    function showError(err) {
      if (err && err.status === 401) return;
      setStatus((err && err.message) || 'Something went wrong.', 'error');
    }
    return { setStatus, showError };
  }

  /** A caller of the API under `base`: `api(method, path, payload)` resolves with the parsed
   * body, or rejects with ApiError carrying the server's message (with a 422's problems when
   * `problems` is set). `onResponse(res)` sees every answer (e.g. to read the server's clock). */
  function client(base, { problems = false, onResponse = null } = {}) {
    return async function api(method, path, payload) {
      const opts = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
      if (method !== 'GET') {
        opts.headers['Content-Type'] = 'application/json';
        opts.headers['X-CSRF-Token'] = CSRF;
        opts.body = JSON.stringify(payload || {});
      }
      let res;
      try { res = await fetch(base + path, opts); } catch {
        throw new ApiError(0, 'The server could not be reached. Check your connection.');
      }
      if (onResponse) onResponse(res);
      if (res.status === 401) { goLogin(); throw new ApiError(401, 'Your session has ended.'); }
      let data = null;
      try { data = await res.json(); } catch { /* empty or not JSON */ }
      if (!res.ok) {
        let msg = data && typeof data.error === 'string' && data.error ? data.error : `Request failed (${res.status}).`;
        if (problems && data && Array.isArray(data.problems) && data.problems.length) {
          msg += `: ${data.problems.map(str).join('; ')}`;
        }
        throw new ApiError(res.status, msg);
      }
      return data || {};
    };
  }

  const pad2 = (n) => String(n).padStart(2, '0');

  /** A datetime-local value ("2026-12-08T09:00") as an ISO time with the browser's offset at that
   * moment ("2026-12-08T09:00:00-05:00"); null when it is not a time. */
  function isoWithOffset(value) {
    const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?/.exec(str(value));
    if (!m) return null;
    const d = new Date(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] || 0));
    if (Number.isNaN(d.getTime())) return null;
    const offset = -d.getTimezoneOffset();
    const a = Math.abs(offset);
    const zone = `${offset >= 0 ? '+' : '-'}${pad2(Math.floor(a / 60))}:${pad2(a % 60)}`;
    return `${String(d.getFullYear()).padStart(4, '0')}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}`
      + `T${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}${zone}`;
  }

  /** A button with its class, test id and click handler (`extra`: more attributes). */
  function button(label, cls, testid, onClick, extra) {
    const b = h('button', { type: 'button', class: `btn ${cls || ''}`.trim(), 'data-testid': testid, ...(extra || {}) }, label);
    if (onClick) b.addEventListener('click', onClick);
    return b;
  }

  /** A labelled form field; the hint, when given, describes the control. */
  function field(id, label, control, hint) {
    const hintEl = hint ? h('p', { id: `${id}-hint`, class: 'hint' }, hint) : null;
    if (hint) control.setAttribute('aria-describedby', `${id}-hint`);
    return h('div', { class: 'field' }, h('label', { for: id }, label), hintEl, control);
  }

  /** A server time as the browser's local date and time ('' for none, as given when unreadable). */
  function fmtDateTime(v) {
    if (!v) return '';
    const d = new Date(str(v));
    return Number.isNaN(d.getTime()) ? str(v) : d.toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' });
  }

  const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;

  /** Focus the control `testid` of the item `[data-testid=itemTestid][data-id=id]` in `list`. */
  function focusItem(list, itemTestid, id, testid) {
    const item = list.querySelector(`[data-testid="${CSS.escape(itemTestid)}"][data-id="${CSS.escape(str(id))}"]`);
    const target = item && item.querySelector(`[data-testid="${CSS.escape(str(testid))}"]`);
    if (target) target.focus();
  }

  /** Replace `list`'s children, keeping the focus on the same control of the same item. */
  function refill(list, itemTestid, children) {
    const active = document.activeElement;
    const item = active && active.closest ? active.closest(`[data-testid="${CSS.escape(itemTestid)}"]`) : null;
    const keep = item && active.dataset ? [item.dataset.id, active.dataset.testid] : null;
    fill(list, children);
    if (keep) focusItem(list, itemTestid, keep[0], keep[1]);
  }

  window.GovConsole = Object.freeze({
    CSRF, LOGIN_URL, str, h, fill, ApiError, goLogin, leaving: isLeaving, statusArea, client,
    pad2, isoWithOffset, button, field, fmtDateTime, plural, focusItem, refill,
  });
})();
