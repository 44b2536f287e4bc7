/*!
 * Knowledge studio: the console page where staff write, review, publish and roll back FAQs.
 * Plain ES2020, one file, no dependencies, no build step.
 *
 * Loaded by the shell page (bot/web/console/studio.html), which carries
 *   <meta name="csrf-token" content="...">  and  <body data-page="studio" data-username="...">.
 * It talks to the studio's JSON API, /console/api/studio (bot/web/routes/studio.py): the same session
 * cookie as the rest of the console, and the X-CSRF-Token header on every POST. The API decides what
 * an account may do (403 without rights on an agency, 409 for a stale or out-of-state move, 422 for
 * bad content); this page shows its message as it is.
 *
 * Security rule for this file: every string that comes from the server (questions, answers, ids,
 * names, notes, diff lines, warnings, error messages) is inserted with textContent / Element.append
 * of strings only. Nothing in this file parses markup; keep it that way. An answer is shown as the
 * text it is (a `<script>` in it is text, a `[label](javascript:...)` is text).
 */
(() => {
  'use strict';

  // ---------------------------------------------------------------- page context & constants
  const API = '/console/api/studio';
  const DEBOUNCE_MS = 200;
  const INFO_MS = 10000;
  const MAX_QUESTION = 500;
  const MAX_ANSWER = 4000;
  const MAX_URL = 500;
  const MAX_TESTS = 10;

  const FILTERS = [
    ['all', 'All FAQs'],
    ['stale', 'Stale (review overdue)'],
    ['least_helpful', 'Least helpful'],
    ['most_asked', 'Most asked'],
    ['missing_translation', 'Missing translation'],
    ['in_review', 'In review'],
  ];
  const LANGS = { en: 'English', fr: 'French' };
  const STATES = {
    draft: 'Draft', in_review: 'In review', published: 'Published', scheduled: 'Scheduled',
    expired: 'Expired', archived: 'Archived',
  };
  const REVIEWS = {
    draft: 'draft', in_review: 'in review', approved: 'approved', rejected: 'rejected',
    published_urgent: 'published urgently',
  };
  const OUTCOMES = { answer: 'Answers', clarify: 'Asks which one was meant', handoff: 'No answer: offers a person' };
  const FIELD_NAMES = { question: 'Question', answer: 'Answer', alternatives: 'Other phrasings', source_url: 'Source URL', tags: 'Tags' };

  const app = document.getElementById('app');

  // ---------------------------------------------------------------- small helpers
  // Shared with the other console pages (console-common.js, loaded first).
  const { h, fill, str, pad2, isoWithOffset, button } = window.GovConsole;

  const enc = encodeURIComponent;
  const langName = (code) => LANGS[str(code).toLowerCase()] || str(code);
  const stateName = (s) => STATES[s] || str(s);
  const reviewName = (r) => REVIEWS[r] || str(r);
  /** The non-empty lines of a textarea, trimmed. */
  const lines = (text) => str(text).split(/\r?\n/).map((l) => l.trim()).filter(Boolean);

  function debounce(fn, ms) {
    let t = 0;
    return () => { clearTimeout(t); t = setTimeout(fn, ms); };
  }

  /** A server time as a Date. The server keeps times in UTC; one without an offset (as SQLite
   * gives them back) is UTC too, not the browser's local time. */
  function toDate(v) {
    if (v == null || v === '') return null;
    let text = str(v);
    if (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(text)) text = `${text.replace(' ', 'T')}Z`;
    const d = new Date(text);
    return Number.isNaN(d.getTime()) ? null : d;
  }
  const fmtDateTime = (v) => (toDate(v) ? toDate(v).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' }) : str(v));

  /** An ISO time as the value of a datetime-local input, in the browser's time zone. */
  function localInputValue(iso) {
    const d = toDate(iso);
    if (!d) return '';
    return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}T${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
  }

  // ---------------------------------------------------------------- status area & HTTP API
  const { setStatus, showError } = window.GovConsole.statusArea(document.getElementById('status'), INFO_MS);
  /** Call the studio API (console-common.js): the server's own message on a refusal, with a
   * 422's problems. */
  const api = window.GovConsole.client(API, { problems: true });

  /** Run an action with some controls disabled; errors go to the status area. Returns success. */
  async function busy(controls, fn) {
    const list = controls.filter(Boolean);
    for (const c of list) c.disabled = true;
    try { await fn(); return true; } catch (e) { showError(e); return false; } finally {
      for (const c of list) if (c.isConnected) c.disabled = false;
    }
  }

  // ---------------------------------------------------------------- state
  const S = {
    agencies: [], // [{id, name, may_review, second_reviewer}]
    languages: ['en', 'fr'],
    agency: '',
    faq: null, // GET /faqs/{id} of the open FAQ
    translation: null, // GET /faqs/{id} of its translation, or {error}
    form: null, // the open form's controls
    listSeq: 0,
    openSeq: 0,
    els: {},
  };

  // ---------------------------------------------------------------- the page
  function studioPage() {
    const agency = h('select', { id: 'studio-agency', class: 'select', 'data-testid': 'studio-agency' });
    const search = h('input', {
      id: 'studio-search', type: 'search', 'data-testid': 'studio-search', maxlength: '200',
      autocomplete: 'off', 'aria-describedby': 'studio-search-hint',
    });
    const filter = h('select', { id: 'studio-filter', class: 'select', 'data-testid': 'studio-filter' },
      FILTERS.map(([value, label]) => h('option', { value }, label)));
    const count = h('p', { class: 'meta', 'data-testid': 'faq-count' });
    const list = h('ul', { class: 'items', 'data-testid': 'faq-list', 'aria-labelledby': 'faqs-h' });
    const newBtn = button('New FAQ', 'btn-primary', 'new-faq', () => openNew({}));
    const gapInput = h('input', {
      id: 'gap-id', type: 'text', inputmode: 'numeric', pattern: '[0-9]*', maxlength: '12',
      autocomplete: 'off', 'data-testid': 'gap-id', 'aria-describedby': 'gap-id-hint',
    });
    const gapBtn = h('button', { type: 'submit', class: 'btn btn-secondary', 'data-testid': 'gap-start' }, 'Start from this gap');
    const gapForm = h('form', { class: 'gap-form', novalidate: true },
      h('div', { class: 'field' }, h('label', { for: 'gap-id' }, 'Knowledge gap number'),
        h('p', { id: 'gap-id-hint', class: 'hint' }, 'From the dashboard’s list of unanswered questions.'),
        h('div', { class: 'row' }, gapInput, gapBtn)));
    gapForm.addEventListener('submit', (e) => {
      e.preventDefault();
      const id = gapInput.value.trim();
      if (!/^[1-9][0-9]{0,11}$/.test(id)) { setStatus('Enter the number of a knowledge gap.', 'error'); gapInput.focus(); return; }
      startFromGap(id, [gapBtn]);
    });
    const pane = h('section', { class: 'pane card studio-pane', 'aria-labelledby': 'pane-h', 'data-testid': 'studio-pane' });

    app.append(h('div', { class: 'layout' },
      h('div', { class: 'col-left' },
        h('section', { class: 'card', 'aria-labelledby': 'start-h' },
          h('h2', { id: 'start-h' }, 'Write a new FAQ'),
          h('div', { class: 'row' }, newBtn),
          h('h3', {}, 'Start from a knowledge gap'), gapForm),
        h('section', { class: 'card', 'aria-labelledby': 'faqs-h' },
          h('h2', { id: 'faqs-h' }, 'FAQs'),
          h('div', { class: 'field' }, h('label', { for: 'studio-agency' }, 'Agency'), agency),
          h('div', { class: 'field' }, h('label', { for: 'studio-search' }, 'Search'),
            h('p', { id: 'studio-search-hint', class: 'hint' }, 'Words of the question or the answer, or an FAQ id.'), search),
          h('div', { class: 'field' }, h('label', { for: 'studio-filter' }, 'Show'), filter),
          count, list)),
      pane));
    Object.assign(S.els, { agency, search, filter, count, list, pane, gapInput });
    showEmptyPane();

    agency.addEventListener('change', () => { S.agency = agency.value; loadList(); });
    filter.addEventListener('change', loadList);
    search.addEventListener('input', debounce(loadList, DEBOUNCE_MS));
    search.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); loadList(); } });

    start();
  }

  async function start() {
    const params = new URLSearchParams(window.location.search);
    try {
      const d = await api('GET', '/agencies');
      S.agencies = Array.isArray(d.agencies) ? d.agencies : [];
      if (Array.isArray(d.languages) && d.languages.length) S.languages = d.languages.map(str);
    } catch (e) { showError(e); }
    const wanted = params.get('agency') || '';
    S.agency = S.agencies.some((a) => str(a.id) === wanted) ? wanted : str(S.agencies[0] && S.agencies[0].id);
    fillAgencies();
    const loads = [loadList()];
    const faqId = params.get('faq');
    const gap = params.get('gap');
    if (faqId) loads.push(openFaq(faqId));
    else if (gap) {
      if (/^[1-9][0-9]{0,11}$/.test(gap)) { S.els.gapInput.value = gap; loads.push(startFromGap(gap, [])); }
      else setStatus('The knowledge gap in the address is not a number.', 'error');
    }
    await Promise.all(loads);
    app.setAttribute('aria-busy', 'false');
    app.dataset.loaded = 'true';
  }

  function fillAgencies() {
    const sel = S.els.agency;
    sel.replaceChildren(...S.agencies.map((a) => h('option', { value: str(a.id) }, str(a.name || a.id))));
    sel.disabled = !S.agencies.length;
    sel.value = S.agency;
  }

  function agencyName(id) {
    const a = S.agencies.find((x) => str(x.id) === str(id));
    return a ? str(a.name || a.id) : str(id);
  }

  // ---------------------------------------------------------------- the list
  async function loadList() {
    const seq = ++S.listSeq;
    const { list, count } = S.els;
    if (!S.agency) {
      list.replaceChildren(h('li', { class: 'empty' },
        'Your account may not edit any agency’s FAQs yet. An administrator gives rights with “govbot kb grant”.'));
      count.textContent = '';
      return;
    }
    const qs = new URLSearchParams({ agency: S.agency, q: S.els.search.value.trim(), filter: S.els.filter.value || 'all' });
    try {
      const d = await api('GET', `/faqs?${qs}`);
      if (seq !== S.listSeq) return; // a newer search answered first
      renderList(Array.isArray(d.faqs) ? d.faqs : []);
    } catch (e) { if (seq === S.listSeq) showError(e); }
  }

  function flagsOf(f) {
    const flags = [];
    if (f.stale) flags.push(['Stale', 'badge-warn']);
    if (f.missing_translation) flags.push(['Missing translation', 'badge-warn']);
    if (f.head_review === 'in_review') flags.push(['In review', 'badge-info']);
    if (f.needs_review) flags.push(['Needs review (urgent publish)', 'badge-urgent-review']);
    if (f.head_version && f.live_version && f.head_version !== f.live_version && f.head_review !== 'in_review') flags.push(['Unpublished changes', 'badge-info']);
    if (Number(f.asked) > 0) flags.push([`Asked ${Number(f.asked)}×`, 'badge-status']);
    if (Number(f.not_helpful) > 0) flags.push([`Not helpful ${Number(f.not_helpful)}×`, 'badge-warn']);
    return flags;
  }

  function renderList(faqs) {
    const { list, count } = S.els;
    count.textContent = faqs.length === 1 ? '1 FAQ' : `${faqs.length} FAQs`;
    if (!faqs.length) { list.replaceChildren(h('li', { class: 'empty' }, 'No FAQ matches.')); return; }
    const open = S.faq ? str(S.faq.id) : null;
    list.replaceChildren(...faqs.map((f) => {
      const id = str(f.id);
      const btn = h('button', {
        type: 'button', class: 'item-btn', 'data-testid': 'faq-item', 'data-faq-id': id,
        'aria-current': id === open ? 'true' : null,
      },
      h('span', { class: 'question', lang: str(f.language) || null }, str(f.question)),
      h('span', { class: 'item-top' },
        h('span', { class: 'meta faq-id' }, `${id} · ${langName(f.language)}`),
        h('span', { class: `badge badge-state state-${str(f.state)}` }, stateName(f.state)),
        flagsOf(f).map(([text, cls]) => h('span', { class: `badge ${cls}` }, text))));
      btn.addEventListener('click', () => openFaq(id));
      return h('li', { class: 'item' }, btn);
    }));
  }

  function markOpenInList() {
    const open = S.faq ? str(S.faq.id) : null;
    for (const b of S.els.list.querySelectorAll('[data-faq-id]')) {
      if (b.dataset.faqId === open) b.setAttribute('aria-current', 'true');
      else b.removeAttribute('aria-current');
    }
  }

  function setAddress(params) {
    const qs = new URLSearchParams(params).toString();
    window.history.replaceState(null, '', `${window.location.pathname}${qs ? `?${qs}` : ''}`);
  }

  // ---------------------------------------------------------------- the pane
  function paneHeading(text) {
    return h('h2', { id: 'pane-h', tabindex: '-1', 'data-testid': 'pane-heading' }, text);
  }

  function showEmptyPane() {
    S.faq = null;
    S.form = null;
    S.els.pane.replaceChildren(paneHeading('Editor'),
      h('p', { class: 'empty' }, 'Choose an FAQ from the list, write a new one, or start from a knowledge gap.'));
  }

  /** The content fields (question, other phrasings, answer, source, tags), filled with `v`. */
  function contentFields(v, language) {
    const question = h('input', { id: 'faq-question', type: 'text', maxlength: MAX_QUESTION, 'data-testid': 'faq-question', required: true });
    const alternatives = h('textarea', {
      id: 'faq-alternatives', rows: '4', 'data-testid': 'faq-alternatives', 'aria-describedby': 'faq-alternatives-hint',
    });
    const answer = h('textarea', { id: 'faq-answer', rows: '7', maxlength: MAX_ANSWER, 'data-testid': 'faq-answer', required: true });
    const source = h('input', { id: 'faq-source', type: 'url', maxlength: MAX_URL, 'data-testid': 'faq-source', placeholder: 'https://' });
    const tags = h('input', { id: 'faq-tags', type: 'text', 'data-testid': 'faq-tags', 'aria-describedby': 'faq-tags-hint' });
    question.value = str(v.question);
    alternatives.value = (v.alternatives || []).map(str).join('\n');
    answer.value = str(v.answer);
    source.value = str(v.source_url);
    tags.value = (v.tags || []).map(str).join(', ');
    for (const c of [question, alternatives, answer]) if (language) c.setAttribute('lang', language);
    const preview = h('div', { class: 'answer-preview', 'data-testid': 'answer-preview' });
    const showPreview = () => {
      preview.textContent = answer.value;
      if (!answer.value.trim()) preview.append(h('span', { class: 'empty' }, 'No answer yet.'));
    };
    answer.addEventListener('input', showPreview);
    showPreview();
    const nodes = [
      h('div', { class: 'field' }, h('label', { for: 'faq-question' }, 'Question'), question),
      h('div', { class: 'field' }, h('label', { for: 'faq-alternatives' }, 'Other phrasings'),
        h('p', { id: 'faq-alternatives-hint', class: 'hint' }, 'One per line: other ways citizens ask this.'), alternatives),
      h('div', { class: 'field' }, h('label', { for: 'faq-answer' }, 'Answer'), answer),
      h('div', { class: 'field' }, h('p', { class: 'label' }, 'The answer as citizens read it (text)'), preview),
      h('div', { class: 'field' }, h('label', { for: 'faq-source' }, 'Source URL (optional)'), source),
      h('div', { class: 'field' }, h('label', { for: 'faq-tags' }, 'Tags (optional)'),
        h('p', { id: 'faq-tags-hint', class: 'hint' }, 'Separated by commas.'), tags),
    ];
    const read = () => ({
      question: question.value.trim(),
      alternatives: lines(alternatives.value),
      answer: answer.value.trim(),
      source_url: source.value.trim() || null,
      tags: tags.value.split(',').map((t) => t.trim()).filter(Boolean),
    });
    return { controls: { question, alternatives, answer, source, tags }, nodes, read };
  }

  /** A problem with the content before it is sent (the server checks again), or ''. */
  function contentProblem(c) {
    if (!c.question) return 'Write the question.';
    if (!c.answer) return 'Write the answer.';
    if (c.question.length > MAX_QUESTION) return `The question is longer than ${MAX_QUESTION} characters.`;
    if (c.answer.length > MAX_ANSWER) return `The answer is longer than ${MAX_ANSWER} characters.`;
    return '';
  }

  function sameContent(a, b) {
    const norm = (c) => JSON.stringify([str(c.question).trim(), (c.alternatives || []).map((x) => str(x).trim()).filter(Boolean),
      str(c.answer).trim(), str(c.source_url || '').trim(), (c.tags || []).map((x) => str(x).trim()).filter(Boolean)]);
    return norm(a) === norm(b);
  }

  /** An inline "are you sure?" step inside `box`: focus goes to its confirm button; Cancel (or
   * Escape) puts focus back on `from`. */
  function askConfirm(box, from, text, yesLabel, testid, run) {
    const yes = button(yesLabel, 'btn-danger', `${testid}-confirm`);
    const no = button('Cancel', 'btn-secondary', `${testid}-cancel`);
    const msgId = `${testid}-question`;
    const close = () => { box.replaceChildren(); box.hidden = true; if (from && from.isConnected) from.focus(); };
    yes.addEventListener('click', async () => {
      const ok = await busy([yes, no], run);
      if (ok && box.isConnected) { box.replaceChildren(); box.hidden = true; }
    });
    no.addEventListener('click', close);
    box.onkeydown = (e) => { if (e.key === 'Escape') { e.preventDefault(); close(); } };
    box.replaceChildren(h('p', { id: msgId, class: 'confirm-text' }, text), h('div', { class: 'row' }, yes, no));
    box.setAttribute('role', 'group');
    box.setAttribute('aria-labelledby', msgId);
    box.hidden = false;
    yes.focus();
  }

  // ---------------------------------------------------------------- "how would the bot answer?"
  function previewSection(context) {
    const tests = h('textarea', { id: 'preview-tests', rows: '3', 'data-testid': 'preview-tests', 'aria-describedby': 'preview-tests-hint' });
    const run = button('How would the bot answer?', 'btn-secondary', 'preview-run');
    const results = h('div', { class: 'preview-results', 'data-testid': 'preview-results' });
    run.addEventListener('click', () => {
      const asked = lines(tests.value);
      const { content, language, faqId } = context();
      const problem = contentProblem(content);
      if (problem) { setStatus(`${problem} The preview tries the form as it is.`, 'error'); return; }
      if (!asked.length) { setStatus('Write at least one test question.', 'error'); tests.focus(); return; }
      if (asked.length > MAX_TESTS) { setStatus(`At most ${MAX_TESTS} test questions at a time.`, 'error'); tests.focus(); return; }
      busy([run], async () => {
        const d = await api('POST', '/preview', { ...content, language, faq_id: faqId || null, tests: asked });
        renderPreview(results, d);
        setStatus('Preview ready: nothing was published.');
      });
    });
    return h('section', { class: 'studio-section', 'aria-labelledby': 'preview-h' },
      h('h3', { id: 'preview-h' }, 'How would the bot answer?'),
      h('p', { class: 'hint' }, 'Tries the form as it is now against the published FAQs, without publishing anything.'),
      h('div', { class: 'field' }, h('label', { for: 'preview-tests' }, 'Test questions'),
        h('p', { id: 'preview-tests-hint', class: 'hint' }, `One per line, up to ${MAX_TESTS}.`), tests),
      h('div', { class: 'row' }, run), results);
  }

  function renderPreview(box, d) {
    const tests = Array.isArray(d.tests) ? d.tests : [];
    const warnings = Array.isArray(d.warnings) ? d.warnings : [];
    box.replaceChildren(
      h('h4', {}, 'Test questions'),
      tests.length ? h('ol', { class: 'preview-tests' }, tests.map((t) => {
        const outcome = OUTCOMES[t.outcome] || str(t.outcome);
        const top = Array.isArray(t.top) ? t.top.slice(0, 3) : [];
        return h('li', { 'data-testid': 'preview-test', 'data-outcome': str(t.outcome) },
          h('p', { class: 'preview-q' }, str(t.question)),
          h('p', {}, h('span', { class: `badge outcome-${str(t.outcome)}` }, outcome),
            t.answers_with ? ` with ${str(t.answers_with)}` : ''),
          top.length ? h('ol', { class: 'preview-top', 'aria-label': 'Closest FAQs' }, top.map((hit) => h('li', {},
            h('span', { class: 'faq-id' }, str(hit.faq_id)), ': ', str(hit.question),
            h('span', { class: 'meta' }, ` · similarity ${Number(hit.cosine).toFixed(2)}`),
            hit.is_draft ? h('span', { class: 'badge badge-info' }, 'this draft') : null))) : null);
      })) : h('p', { class: 'empty' }, 'No test question.'),
      h('h4', {}, 'Warnings'),
      warnings.length ? h('ul', { class: 'warnings', 'data-testid': 'preview-warnings' }, warnings.map((w) => h('li', {},
        h('span', { class: 'badge badge-warn' }, str(w.kind)), ' ', str(w.text))))
        : h('p', { class: 'empty', 'data-testid': 'preview-warnings' }, 'No warnings.'),
      channelViews(d.channels || {}));
  }

  // The answer as SMS (with its segment count), Messenger and Telegram show it: text only.
  function channelViews(c) {
    const sms = c.sms || {};
    const rows = [
      ['SMS', str(sms.text), `${Number(sms.segments) || 0} segment${Number(sms.segments) === 1 ? '' : 's'}`],
      ['Messenger', str((c.messenger || {}).text), ''],
      ['Telegram', str((c.telegram || {}).text), ''],
    ];
    return h('div', { 'data-testid': 'preview-channels' },
      h('h4', {}, 'The answer on each channel'),
      h('dl', { class: 'channel-views' }, rows.flatMap(([name, text, note]) => [
        h('dt', {}, name, note ? h('span', { class: 'meta' }, ` · ${note}`) : null),
        h('dd', { class: 'answer-preview', 'data-channel': name.toLowerCase() }, text),
      ])));
  }

  // ---------------------------------------------------------------- a new FAQ
  /** The new-FAQ form, prefilled with `v` ({language, question, alternatives, answer, gap,
   * parallel_id, agency}). */
  function openNew(v) {
    S.openSeq += 1;
    S.faq = null;
    S.translation = null;
    markOpenInList();
    const agencySel = h('select', { id: 'new-agency', class: 'select', 'data-testid': 'new-agency' },
      S.agencies.map((a) => h('option', { value: str(a.id) }, str(a.name || a.id))));
    agencySel.value = str(v.agency || S.agency);
    const langSel = h('select', { id: 'new-language', class: 'select', 'data-testid': 'new-language' },
      S.languages.map((l) => h('option', { value: l }, langName(l))));
    langSel.value = S.languages.includes(str(v.language)) ? str(v.language) : S.languages[0];
    const fields = contentFields(v, langSel.value);
    langSel.addEventListener('change', () => {
      for (const c of [fields.controls.question, fields.controls.alternatives, fields.controls.answer]) c.setAttribute('lang', langSel.value);
    });
    const create = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'create' }, 'Create draft');
    const cancel = button('Cancel', 'btn-secondary', 'create-cancel', () => { showEmptyPane(); setAddress({}); });
    const gap = v.gap || null;
    const form = h('form', { class: 'studio-form', novalidate: true, 'data-testid': 'new-form' },
      h('div', { class: 'grid-fields' },
        h('div', { class: 'field' }, h('label', { for: 'new-agency' }, 'Agency'), agencySel),
        h('div', { class: 'field' }, h('label', { for: 'new-language' }, 'Language'), langSel)),
      fields.nodes,
      h('div', { class: 'row' }, create, cancel));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const content = fields.read();
      const problem = contentProblem(content);
      if (problem) { setStatus(problem, 'error'); (content.question ? fields.controls.answer : fields.controls.question).focus(); return; }
      if (!agencySel.value) { setStatus('Choose an agency.', 'error'); agencySel.focus(); return; }
      const payload = { ...content, agency: agencySel.value, language: langSel.value };
      if (gap) payload.gap_id = Number(gap.id);
      if (v.parallel_id) payload.parallel_id = str(v.parallel_id);
      busy([create, cancel], async () => {
        const d = await api('POST', '/faqs', payload);
        const id = str(d.id);
        if (S.agency !== agencySel.value) { S.agency = agencySel.value; S.els.agency.value = S.agency; }
        await openFaq(id);
        loadList();
        setStatus(`Draft ${id} created. Submit it for review when it is ready.`);
      });
    });
    const intro = [];
    if (gap) {
      intro.push(h('p', { class: 'from-gap', 'data-testid': 'from-gap' },
        `From knowledge gap ${str(gap.id)}: “${str(gap.label)}” (asked ${Number(gap.size) || 0} times, ${langName(gap.language)}). `
        + 'Its questions are below: the first as the question, the others as other phrasings.'));
    }
    if (v.parallel_id) intro.push(h('p', { class: 'meta' }, `The translation of ${str(v.translation_of || v.parallel_id)}.`));
    S.form = fields;
    fill(S.els.pane, paneHeading('New FAQ'), intro, form,
      previewSection(() => ({ content: fields.read(), language: langSel.value, faqId: null })));
    setAddress(gap ? { gap: str(gap.id) } : {});
    S.els.pane.querySelector('#pane-h').focus();
  }

  async function startFromGap(id, controls) {
    await busy(controls, async () => {
      const gap = await api('GET', `/gaps/${enc(id)}`);
      const questions = (Array.isArray(gap.questions) ? gap.questions : []).map(str);
      openNew({ gap, language: gap.language, question: questions[0] || str(gap.label), alternatives: questions.slice(1), answer: '' });
      setStatus(`Draft started from knowledge gap ${str(gap.id)}: write the answer, then create it.`);
    });
  }

  // ---------------------------------------------------------------- an existing FAQ
  async function openFaq(id, keepFocus) {
    const seq = ++S.openSeq;
    let detail;
    try { detail = await api('GET', `/faqs/${enc(id)}`); } catch (e) {
      if (seq === S.openSeq) showError(e);
      return;
    }
    let translation = null;
    const other = (Array.isArray(detail.translations) ? detail.translations : [])[0];
    if (other) {
      try { translation = await api('GET', `/faqs/${enc(str(other.id))}`); } catch (e) {
        translation = { id: other.id, language: other.language, state: other.state, error: e.message };
      }
    }
    if (seq !== S.openSeq) return; // another FAQ was opened meanwhile
    S.faq = detail;
    S.translation = translation;
    if (S.agencies.some((a) => str(a.id) === str(detail.agency)) && S.agency !== str(detail.agency)) {
      S.agency = str(detail.agency);
      S.els.agency.value = S.agency;
      loadList();
    }
    renderEditor(keepFocus);
    markOpenInList();
    setAddress({ faq: str(detail.id) });
  }

  const headOf = (d) => (d.versions || []).find((v) => v.number === d.head_version) || (d.versions || [])[0] || {};

  function facts(d, head) {
    const dl = h('dl', { class: 'facts', 'data-testid': 'faq-facts' });
    const add = (label, value, testid) => {
      if (value != null && value !== '') dl.append(h('div', {}, h('dt', {}, label), h('dd', { 'data-testid': testid }, str(value))));
    };
    add('State', stateName(d.state), 'faq-state');
    add('Agency', agencyName(d.agency));
    add('Language', langName(d.language));
    add('Live version', d.live_version == null ? 'none' : d.live_version, 'faq-live');
    add('Newest version', `${str(d.head_version)} (${reviewName(head.review)})`, 'faq-head');
    if (d.scheduled_version != null) add('Scheduled', `version ${str(d.scheduled_version)} at ${fmtDateTime(d.publish_at)}`);
    if (d.needs_review) add('Review', 'needed after an urgent publish', 'faq-needs-review');
    add('Expires', d.expire_at ? fmtDateTime(d.expire_at) : 'never', 'faq-expires');
    add('Owner', d.owner);
    add('Last reviewed', d.last_reviewed);
    return dl;
  }

  function translationPanel(t) {
    const language = str(t.language);
    const heading = h('h3', { id: 'translation-h' }, `${langName(language)}: translation (read only)`);
    const open = button(`Open ${str(t.id)}`, 'btn-small btn-secondary', 'open-translation', () => openFaq(str(t.id)));
    if (t.error) {
      return h('section', { class: 'studio-col translation', 'aria-labelledby': 'translation-h', 'data-testid': 'translation' },
        heading, h('p', { class: 'meta' }, `${str(t.id)} · ${stateName(t.state)}`), h('p', {}, str(t.error)));
    }
    const v = headOf(t);
    const alts = (v.alternatives || []).map(str);
    const dl = h('dl', { class: 'readonly', lang: language || null },
      h('dt', {}, 'Question'), h('dd', { 'data-testid': 'translation-question' }, str(v.question)),
      h('dt', {}, 'Other phrasings'), h('dd', {}, alts.length ? h('ul', {}, alts.map((a) => h('li', {}, a))) : '—'),
      h('dt', {}, 'Answer'), h('dd', { class: 'answer-text', 'data-testid': 'translation-answer' }, str(v.answer)),
      h('dt', {}, 'Source URL'), h('dd', { class: 'faq-id' }, str(v.source_url) || '—'));
    return h('section', { class: 'studio-col translation', 'aria-labelledby': 'translation-h', 'data-testid': 'translation' },
      heading,
      h('p', { class: 'meta' }, `${str(t.id)} · ${stateName(t.state)} · version ${str(v.number)} (${reviewName(v.review)})`),
      dl, h('div', { class: 'row' }, open));
  }

  function renderEditor(keepFocus) {
    const d = S.faq;
    const head = headOf(d);
    const id = str(d.id);
    // After an action the editor is drawn again: focus goes back to the same control (of the
    // same version in the history), or to the editor's heading when that control is gone.
    const active = keepFocus ? document.activeElement : null;
    const focused = active && active.dataset ? active.dataset.testid : null;
    const inVersion = active && active.closest ? active.closest('[data-version]') : null;
    const fields = contentFields(head, str(d.language));
    S.form = fields;
    const dirty = () => !sameContent(fields.read(), head);
    const needSaved = () => {
      if (!dirty()) return false;
      setStatus('Save your changes first: this acts on the newest saved version.', 'error');
      return true;
    };
    const confirmBox = h('div', { class: 'confirm', hidden: true, 'data-testid': 'confirm' });
    const act = async (path, payload, message) => {
      await api('POST', `/faqs/${enc(id)}/${path}`, payload);
      await openFaq(id, true);
      loadList();
      setStatus(message);
    };

    // Save, submit, publish now, archive.
    const note = h('input', { id: 'faq-note', type: 'text', maxlength: '500', 'data-testid': 'faq-note' });
    const save = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'save' }, 'Save');
    const actions = [save];
    if (head.review === 'draft') {
      const submit = button('Submit for review', 'btn-secondary', 'submit-review');
      submit.addEventListener('click', () => {
        if (needSaved()) return;
        busy([submit], () => act('submit', {}, `Version ${str(d.head_version)} of ${id} is waiting for review.`));
      });
      actions.push(submit);
    }
    if (d.live_version !== d.head_version || d.state !== 'published') {
      const urgent = button('Publish now (urgent)…', 'btn-secondary', 'publish-urgent');
      urgent.addEventListener('click', () => {
        if (needSaved()) return;
        askConfirm(confirmBox, urgent,
          `Publish version ${str(d.head_version)} of ${id} now, without waiting for review? Citizens get it within seconds; a reviewer must approve it afterwards.`,
          'Yes, publish now', 'publish-urgent',
          () => act('publish-urgent', {}, `Version ${str(d.head_version)} of ${id} is live. It needs a review afterwards.`));
      });
      actions.push(urgent);
    }
    if (d.state !== 'archived') {
      const archive = button('Archive…', 'btn-secondary', 'archive');
      archive.addEventListener('click', () => askConfirm(confirmBox, archive,
        `Archive ${id}? Citizens no longer get it; its history stays.`, 'Yes, archive', 'archive',
        () => act('archive', {}, `${id} is archived.`)));
      actions.push(archive);
    }
    const form = h('form', { class: 'studio-form', novalidate: true, 'data-testid': 'edit-form' },
      fields.nodes,
      h('div', { class: 'field' }, h('label', { for: 'faq-note' }, 'Note on this change (optional)'), note),
      h('div', { class: 'row' }, actions), confirmBox);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const content = fields.read();
      const problem = contentProblem(content);
      if (problem) { setStatus(problem, 'error'); return; }
      if (!dirty()) { setStatus('Nothing to save: the form is the newest version.'); return; }
      busy([save], async () => {
        const r = await api('POST', `/faqs/${enc(id)}/versions`, { ...content, base_version: d.head_version, note: note.value.trim() });
        await openFaq(id, true);
        loadList();
        setStatus(`Saved as version ${str(r.version)} of ${id}. It is not live until it is published.`);
      });
    });

    // Review.
    let review = null;
    if (d.may_review && (head.review === 'in_review' || d.needs_review)) {
      const box = h('div', { class: 'confirm', hidden: true });
      if (head.review === 'in_review') {
        const at = h('input', { id: 'publish-at', type: 'datetime-local', 'data-testid': 'publish-at', 'aria-describedby': 'publish-at-hint' });
        const reason = h('input', { id: 'reject-note', type: 'text', maxlength: '200', 'data-testid': 'reject-note' });
        const approve = button('Approve', 'btn-primary', 'approve');
        const reject = button('Reject', 'btn-secondary', 'reject');
        approve.addEventListener('click', () => {
          const when = at.value ? isoWithOffset(at.value) : null;
          if (at.value && !when) { setStatus('The publishing time is not a date and time.', 'error'); at.focus(); return; }
          busy([approve, reject], () => act('approve', { version: d.head_version, publish_at: when },
            when ? `Version ${str(d.head_version)} of ${id} is approved and will be published ${fmtDateTime(when)}.`
              : `Version ${str(d.head_version)} of ${id} is approved and live.`));
        });
        reject.addEventListener('click', () => busy([approve, reject], () => act('reject',
          { version: d.head_version, note: reason.value.trim() }, `Version ${str(d.head_version)} of ${id} was sent back.`)));
        review = h('section', { class: 'studio-section review', 'aria-labelledby': 'review-h', 'data-testid': 'review' },
          h('h3', { id: 'review-h' }, `Review version ${str(d.head_version)}`),
          h('p', { class: 'meta' }, `Written by ${str(head.author)}${head.note ? ` · “${str(head.note)}”` : ''}`),
          h('div', { class: 'field' }, h('label', { for: 'publish-at' }, 'Publish at (optional)'),
            h('p', { id: 'publish-at-hint', class: 'hint' }, 'Leave empty to publish as soon as it is approved. Your time zone.'), at),
          h('div', { class: 'row' }, approve),
          h('div', { class: 'field' }, h('label', { for: 'reject-note' }, 'Reason for sending it back (optional)'), reason),
          h('div', { class: 'row' }, reject), box);
      } else {
        const approve = button('Approve the urgent publish', 'btn-primary', 'approve');
        approve.addEventListener('click', () => busy([approve], () => act('approve', { version: d.live_version },
          `The urgent publish of ${id} is reviewed.`)));
        review = h('section', { class: 'studio-section review', 'aria-labelledby': 'review-h', 'data-testid': 'review' },
          h('h3', { id: 'review-h' }, 'Review after an urgent publish'),
          h('p', {}, `Version ${str(d.live_version)} went live without review.`), h('div', { class: 'row' }, approve));
      }
    }

    // Expiry.
    let expiry = null;
    if (d.state !== 'archived') {
      const when = h('input', { id: 'expire-at', type: 'datetime-local', 'data-testid': 'expire-at', 'aria-describedby': 'expire-at-hint' });
      when.value = localInputValue(d.expire_at);
      const set = button('Set expiry', 'btn-secondary', 'expiry-set');
      const clear = button('Never expire', 'btn-secondary', 'expiry-clear');
      set.addEventListener('click', () => {
        const iso = isoWithOffset(when.value);
        if (!iso) { setStatus('Choose the date and time it should end.', 'error'); when.focus(); return; }
        busy([set, clear], () => act('expiry', { expire_at: iso }, `${id} ends on its own ${fmtDateTime(iso)}.`));
      });
      clear.addEventListener('click', () => busy([set, clear], () => act('expiry', { expire_at: null }, `${id} no longer expires.`)));
      expiry = h('section', { class: 'studio-section', 'aria-labelledby': 'expiry-h' },
        h('h3', { id: 'expiry-h' }, 'Expiry'),
        h('div', { class: 'field' }, h('label', { for: 'expire-at' }, 'Ends on'),
          h('p', { id: 'expire-at-hint', class: 'hint' }, 'For a temporary notice: citizens stop getting it then. Your time zone.'), when),
        h('div', { class: 'row' }, set, clear));
    }

    // Side by side: the FAQ being edited and its translation, English first.
    const editing = h('section', { class: 'studio-col', 'aria-labelledby': 'editing-h' },
      h('h3', { id: 'editing-h' }, `${langName(d.language)}: editing`), form);
    let pair;
    if (S.translation) {
      const other = translationPanel(S.translation);
      pair = h('div', { class: 'studio-pair' }, str(d.language) === 'fr' ? [other, editing] : [editing, other]);
    } else {
      const otherLang = S.languages.find((l) => l !== str(d.language));
      const translate = otherLang ? button(`Write the ${langName(otherLang)} translation`, 'btn-secondary', 'start-translation',
        () => openNew({
          agency: d.agency, language: otherLang, parallel_id: d.parallel_id, translation_of: d.id,
          question: '', alternatives: [], answer: '', source_url: head.source_url,
        })) : null;
      // A translation is linked through the FAQ's parallel_id: offered only when it has one.
      pair = h('div', { class: 'studio-pair' }, editing,
        h('section', { class: 'studio-col translation', 'aria-labelledby': 'translation-h', 'data-testid': 'translation' },
          h('h3', { id: 'translation-h' }, 'Translation'),
          h('p', { class: 'empty' }, 'No translation yet.'),
          d.parallel_id && translate ? h('div', { class: 'row' }, translate) : null));
    }

    fill(S.els.pane,
      paneHeading(`FAQ ${id}`),
      facts(d, head),
      pair,
      review,
      previewSection(() => ({ content: fields.read(), language: str(d.language), faqId: id })),
      suggestionsSection(id),
      expiry,
      historySection(d));
    const scope = inVersion ? `[data-testid="version"][data-version="${CSS.escape(inVersion.dataset.version)}"] ` : '';
    const again = focused && S.els.pane.querySelector(`${scope}[data-testid="${CSS.escape(focused)}"]`);
    if (again && !again.disabled) again.focus();
    else S.els.pane.querySelector('#pane-h').focus();
  }

  // ---------------------------------------------------------------- suggested phrasings
  /** Citizens' unanswered questions that may mean this FAQ (active learning): add one as a new
   * phrasing (a new version, in review) or dismiss it. Loaded after the editor is shown. */
  function suggestionsSection(id) {
    const box = h('div', { 'data-testid': 'suggestions' }, h('p', { class: 'empty' }, 'Looking for questions…'));
    api('GET', `/faqs/${enc(id)}/suggestions`).then((d) => {
      const groups = Array.isArray(d.groups) ? d.groups : [];
      if (!groups.length) { fill(box, h('p', { class: 'empty' }, 'No unanswered question close to this FAQ.')); return; }
      fill(box, h('ul', { class: 'suggestions' }, groups.flatMap((g) => (Array.isArray(g.questions) ? g.questions : []).map((q) => {
        const item = h('li', { 'data-testid': 'suggestion' }, h('span', { class: 'suggestion-text' }, str(q)), ' ');
        const add = button('Add as a phrasing', 'btn-secondary', 'suggestion-add');
        const no = button('Not this', 'btn-secondary', 'suggestion-dismiss');
        add.setAttribute('aria-label', `Add as a phrasing: ${str(q)}`); // the visible words first (axe)
        no.setAttribute('aria-label', `Not this: ${str(q)}`);
        add.addEventListener('click', () => busy([add, no], async () => {
          const r = await api('POST', `/faqs/${enc(id)}/phrasings`, { text: str(q) });
          setStatus(`Added as version ${Number(r.version)}, waiting for review.`);
          await openFaq(id, true);
        }));
        no.addEventListener('click', () => busy([add, no], async () => {
          await api('POST', `/faqs/${enc(id)}/phrasings/dismiss`, { text: str(q) });
          item.remove();
          setStatus('It will not be suggested again for this FAQ.');
        }));
        item.append(h('span', { class: 'row' }, add, no));
        return item;
      }))));
    }).catch((e) => fill(box, h('p', { class: 'empty' }, str(e.message))));
    return h('section', { class: 'studio-section', 'aria-labelledby': 'suggestions-h' },
      h('h3', { id: 'suggestions-h' }, 'Citizens’ questions that may mean this'), box);
  }

  // ---------------------------------------------------------------- history, diff, rollback
  function historySection(d) {
    const id = str(d.id);
    const versions = Array.isArray(d.versions) ? d.versions : [];
    const list = h('ol', { class: 'history', reversed: true, 'data-testid': 'history' });
    versions.forEach((v, i) => {
      const previous = versions[i + 1];
      const tags = [];
      if (v.number === d.live_version) tags.push(h('span', { class: 'badge badge-live' }, 'live'));
      if (v.number === d.head_version) tags.push(h('span', { class: 'badge badge-status' }, 'newest'));
      if (v.number === d.scheduled_version) tags.push(h('span', { class: 'badge badge-info' }, 'scheduled'));
      const who = [str(v.author), fmtDateTime(v.created_at), reviewName(v.review)
        + (v.reviewed_by ? ` by ${str(v.reviewed_by)}` : '')].filter(Boolean).join(' · ');
      const diffBox = h('div', { class: 'diff', id: `diff-${v.number}`, hidden: true, 'data-testid': 'diff' });
      const confirmBox = h('div', { class: 'confirm', hidden: true });
      const controls = [];
      if (previous) {
        const diffBtn = button('Diff with previous', 'btn-small btn-secondary', 'diff-previous');
        diffBtn.setAttribute('aria-expanded', 'false');
        diffBtn.setAttribute('aria-controls', diffBox.id);
        diffBtn.setAttribute('aria-label', `Diff version ${v.number} with version ${previous.number}`);
        diffBtn.addEventListener('click', () => {
          if (diffBtn.getAttribute('aria-expanded') === 'true') {
            diffBox.hidden = true;
            diffBtn.setAttribute('aria-expanded', 'false');
            return;
          }
          busy([diffBtn], async () => {
            const r = await api('GET', `/faqs/${enc(id)}/diff?old=${enc(previous.number)}&new=${enc(v.number)}`);
            renderDiff(diffBox, Array.isArray(r.fields) ? r.fields : [], previous.number, v.number);
            diffBox.hidden = false;
            diffBtn.setAttribute('aria-expanded', 'true');
          });
        });
        controls.push(diffBtn);
      }
      // Earlier content that was approved (or published urgently): not the live one, not one
      // waiting for its scheduled time, not one newer than the live one.
      const wasLive = v.review === 'approved' || v.review === 'published_urgent';
      const earlier = d.live_version == null || v.number < d.live_version;
      if (wasLive && earlier && v.number !== d.live_version && v.number !== d.scheduled_version) {
        const back = button(`Roll back to version ${v.number}…`, 'btn-small btn-secondary', 'rollback');
        back.dataset.version = str(v.number);
        back.addEventListener('click', () => askConfirm(confirmBox, back,
          `Publish version ${v.number}’s content again now, as a new version? Citizens get it within seconds.`,
          `Yes, roll back to version ${v.number}`, 'rollback',
          async () => {
            const r = await api('POST', `/faqs/${enc(id)}/rollback`, { version: v.number });
            await openFaq(id, false);
            loadList();
            setStatus(`${id} is back to version ${v.number}'s content, live as version ${str(r.version)}.`);
          }));
        controls.push(back);
      }
      list.append(h('li', { class: 'version', 'data-testid': 'version', 'data-version': str(v.number) },
        h('p', { class: 'version-head' }, h('strong', {}, `Version ${v.number}`), ' ', tags),
        h('p', { class: 'meta' }, who),
        v.note ? h('p', { class: 'meta' }, `Note: ${str(v.note)}`) : null,
        controls.length ? h('div', { class: 'row' }, controls) : null,
        confirmBox, diffBox));
    });
    return h('section', { class: 'studio-section', 'aria-labelledby': 'history-h' },
      h('h3', { id: 'history-h' }, 'History'), list);
  }

  function renderDiff(box, fields, from, to) {
    if (!fields.length) { box.replaceChildren(h('p', { class: 'empty' }, `No change between versions ${from} and ${to}.`)); return; }
    box.replaceChildren(h('p', { class: 'meta' }, `From version ${from} to ${to}:`), ...fields.map((f) => {
      const rows = (Array.isArray(f.lines) ? f.lines : []).map((line) => {
        const l = str(line);
        const kind = l.startsWith('@@') ? 'hunk' : l.startsWith('+') ? 'add' : l.startsWith('-') ? 'del' : 'same';
        const label = { add: 'added: ', del: 'removed: ', hunk: '', same: '' }[kind];
        return h('span', { class: `diff-line diff-${kind}` }, label ? h('span', { class: 'sr-only' }, label) : null, l);
      });
      return h('div', { class: 'diff-field', 'data-field': str(f.field) },
        h('h4', {}, FIELD_NAMES[f.field] || str(f.field)), h('pre', { class: 'diff-lines' }, rows));
    }));
  }

  // ---------------------------------------------------------------- start
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (a.dataset.nav === 'studio') a.setAttribute('aria-current', 'page');
  }
  studioPage();
})();
