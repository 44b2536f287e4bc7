/*!
 * The citizen panel: the console page where supervisors see the panel's size, write surveys (YAML),
 * schedule waves to the panel or a sample of it, cancel a wave before it opens, read a wave's
 * results (small groups suppressed by the server) and publish its "you said, we did" summary.
 * Plain ES2020, no dependencies, no build step.
 *
 * Loaded by the shell page (bot/web/console/panel.html) after console-common.js; it talks to
 * /console/api/panel (bot/web/routes/panel.py). The server decides: it refuses an invalid survey
 * (422, with the reason), a wave that cannot be scheduled (422) or cancelled (409), and this page
 * shows its message.
 *
 * Security rule for this file: every string from the server or the form (survey titles, question
 * texts, option labels, citizens' free text, what was done) is inserted with textContent /
 * Element.append of strings only. Nothing in this file parses markup; keep it that way.
 */
(() => {
  'use strict';

  const {
    h, fill, str, isoWithOffset, button, field, fmtDateTime, plural, focusItem, refill,
  } = window.GovConsole;
  const API = '/console/api/panel';
  const INFO_MS = 10000;
  const POLL_MS = 15000;
  const MAX_SURVEY_CHARS = 20000;
  const MAX_WE_DID = 2000;

  const EXAMPLE = [
    'title: Renewing a permit',
    'intro_en: three questions on renewing a permit',
    "intro_fr: trois questions sur le renouvellement d'un permis",
    'questions:',
    '  - key: how',
    '    kind: single',
    '    en: How did you renew?',
    '    fr: Comment avez-vous renouvelé?',
    '    options:',
    '      - {key: online, en: Online, fr: En ligne}',
    '      - {key: office, en: At an office, fr: Au bureau}',
    '      - {key: not-yet, en: Not yet, fr: Pas encore}',
    '    next: {not-yet: end}',
    '  - key: ease',
    '    kind: scale',
    '    en: How easy was it?',
    '    fr: Était-ce facile?',
    "    next: {'1': why, '2': why}",
    '    after: end',
    '  - key: why',
    '    kind: text',
    '    en: What made it hard?',
    "    fr: Qu'est-ce qui était difficile?",
    '    optional: true',
    '',
  ].join('\n');

  const STATES = { scheduled: 'Scheduled', open: 'Open', closed: 'Closed', cancelled: 'Cancelled' };
  const DIMENSIONS = [['area', 'By area'], ['age_band', 'By age band'], ['language', 'By language']];
  const LANGUAGES = { en: 'English', fr: 'French' };
  const SUPPRESSED = 'fewer than 10: suppressed';

  const app = document.getElementById('app');
  const { setStatus, showError } = window.GovConsole.statusArea(document.getElementById('status'), INFO_MS);
  const api = window.GovConsole.client(API);

  const percent = (share) => `${Math.round((Number(share) || 0) * 100)} %`;

  /** Show (or clear, with '') a form's error in its live region. */
  function tell(el, text) {
    el.textContent = str(text);
    el.className = text ? 'from-gap' : '';
  }

  /** Run an action with some controls disabled; errors go to `errorEl` (when given) and the
   * status area. Returns success. */
  async function busy(controls, fn, errorEl) {
    for (const c of controls) c.disabled = true;
    if (errorEl) tell(errorEl, '');
    try { await fn(); return true; } catch (e) {
      showError(e);
      if (errorEl && e && e.status !== 401) tell(errorEl, e.message);
      return false;
    } finally {
      for (const c of controls) if (c.isConnected) c.disabled = false;
    }
  }

  function numberInput(id, testid, value, min, max) {
    return h('input', {
      id, type: 'number', inputmode: 'numeric', min: String(min), max: String(max), step: '1',
      value: value == null ? null : String(value), 'data-testid': testid,
    });
  }

  // ---------------------------------------------------------------- the page
  const E = {};
  let overview = { members: {}, surveys: [], waves: [] };
  let openWave = null; // the wave whose results are shown
  let listSeq = 0;

  function build() {
    E.size = h('p', { 'data-testid': 'panel-size' }, 'Loading…');

    E.surveyText = h('textarea', {
      id: 'panel-survey-text', rows: '16', maxlength: String(MAX_SURVEY_CHARS), spellcheck: 'false',
      'data-testid': 'survey-text', required: true, class: 'code',
    });
    E.surveyText.value = EXAMPLE;
    E.surveyError = h('p', { id: 'panel-survey-error', 'aria-live': 'polite', 'data-testid': 'survey-error' });
    E.createSurvey = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'create-survey' }, 'Create survey');
    E.loadExample = button('Load example', 'btn-secondary', 'load-example', () => {
      E.surveyText.value = EXAMPLE;
      E.surveyText.focus();
    });
    const surveyForm = h('form', { class: 'panel-survey-form', novalidate: true, 'data-testid': 'survey-form' },
      field('panel-survey-text', 'Survey definition (YAML)', E.surveyText,
        'A title, optional intro_en / intro_fr, and questions (single, scale or text) in English and French. '
          + '"next" and "after" lead to a later question or to "end".'),
      E.surveyError,
      h('div', { class: 'row' }, E.createSurvey, E.loadExample));
    surveyForm.addEventListener('submit', (e) => { e.preventDefault(); createSurvey(); });

    E.surveys = h('ul', { class: 'items', 'data-testid': 'survey-list', 'aria-labelledby': 'panel-surveys-h' });

    E.waveSurvey = h('select', { id: 'panel-wave-survey', class: 'select', 'data-testid': 'wave-survey', required: true });
    E.sample = numberInput('panel-wave-sample', 'wave-sample', null, 1, 10000000);
    E.sendAt = h('input', { id: 'panel-wave-send-at', type: 'datetime-local', 'data-testid': 'wave-send-at' });
    E.remind = numberInput('panel-wave-remind', 'wave-remind', 72, 1, 2160);
    E.openFor = numberInput('panel-wave-open', 'wave-open', 336, 1, 2160);
    E.waveError = h('p', { id: 'panel-wave-error', 'aria-live': 'polite', 'data-testid': 'wave-error' });
    E.schedule = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'schedule' }, 'Schedule wave');
    const waveForm = h('form', { class: 'panel-wave-form', novalidate: true, 'data-testid': 'wave-form' },
      field('panel-wave-survey', 'Survey', E.waveSurvey),
      h('div', { class: 'grid-fields' },
        field('panel-wave-sample', 'Sample size (optional)', E.sample, 'Empty: every active member.'),
        field('panel-wave-send-at', 'Send time (optional)', E.sendAt, 'In your time zone. Empty: now.'),
        field('panel-wave-remind', 'Reminder after (hours)', E.remind, 'One reminder to those who have not finished.'),
        field('panel-wave-open', 'Open for (hours)', E.openFor, '336 hours is two weeks.')),
      E.waveError,
      h('div', { class: 'row' }, E.schedule));
    waveForm.addEventListener('submit', (e) => { e.preventDefault(); scheduleWave(); });

    E.waves = h('ul', { class: 'items', 'data-testid': 'wave-list', 'aria-labelledby': 'panel-waves-h' });
    E.refresh = button('Refresh', 'btn-secondary btn-small', 'refresh', () => loadOverview());
    E.results = h('section', { class: 'card panel-results', 'aria-labelledby': 'panel-results-h', 'data-testid': 'results' });
    E.results.hidden = true;

    app.append(
      h('section', { class: 'card', 'aria-labelledby': 'panel-size-h' },
        h('h2', { id: 'panel-size-h' }, 'Panel size'), E.size),
      h('div', { class: 'layout outreach-layout' },
        h('section', { class: 'card', 'aria-labelledby': 'panel-editor-h' },
          h('h2', { id: 'panel-editor-h' }, 'New survey'), surveyForm),
        h('div', { class: 'col-left' },
          h('section', { class: 'card', 'aria-labelledby': 'panel-surveys-h' },
            h('h2', { id: 'panel-surveys-h' }, 'Surveys'), E.surveys),
          h('section', { class: 'card', 'aria-labelledby': 'panel-schedule-h' },
            h('h2', { id: 'panel-schedule-h' }, 'Schedule a wave'), waveForm))),
      h('section', { class: 'card outreach-list', 'aria-labelledby': 'panel-waves-h' },
        h('div', { class: 'row' }, h('h2', { id: 'panel-waves-h' }, 'Waves'), E.refresh),
        h('p', { class: 'hint' }, 'Newest first. A wave can be cancelled until it opens.'),
        E.waves),
      E.results);
  }

  // ---------------------------------------------------------------- overview
  function renderOverview() {
    const m = overview.members || {};
    const active = Number(m.active) || 0;
    const invited = Number(m.invited) || 0;
    E.size.textContent = `${plural(active, 'active member', 'active members')}; `
      + `${plural(invited, 'person', 'people')} shown the consent text who have not agreed yet.`;

    const surveys = Array.isArray(overview.surveys) ? overview.surveys : [];
    fill(E.surveys, surveys.length ? surveys.map((s) => h('li', { class: 'item', 'data-testid': 'survey', 'data-id': str(s.id) },
      h('p', { class: 'question' }, h('strong', {}, `#${str(s.id)} `), str(s.title)),
      h('p', { class: 'meta' }, `Written by ${str(s.created_by)}, ${fmtDateTime(s.created_at)}`)))
      : h('li', { class: 'empty' }, 'No surveys yet.'));

    const chosen = E.waveSurvey.value;
    fill(E.waveSurvey, surveys.map((s) => h('option', { value: str(s.id) }, `#${str(s.id)} ${str(s.title)}`)));
    if (chosen && surveys.some((s) => str(s.id) === chosen)) E.waveSurvey.value = chosen;

    const waves = Array.isArray(overview.waves) ? overview.waves : [];
    refill(E.waves, 'wave', waves.length ? waves.map(waveItem) : h('li', { class: 'empty' }, 'No waves yet.'));
  }

  function waveItem(w) {
    const id = str(w.id);
    const state = str(w.state);
    const actions = [
      button('Results', 'btn-small', 'show-results', () => showResults(id), { 'aria-label': `Results of wave #${id}` }),
    ];
    if (state === 'scheduled') {
      actions.push(button('Cancel', 'btn-small', 'cancel-wave', (e) => cancelWave(id, e.currentTarget),
        { 'aria-label': `Cancel wave #${id}` }));
    }
    const to = w.sample ? `a sample of ${str(w.sample)}` : 'the whole panel';
    return h('li', { class: 'item', 'data-testid': 'wave', 'data-id': id },
      h('div', { class: 'item-top' },
        h('h3', { class: 'broadcast-h', id: `wave-h-${id}`, tabindex: '-1', 'data-testid': 'wave-h' },
          `Wave #${id}: ${str(w.title)}`),
        h('span', { class: `badge badge-state state-${state}`, 'data-testid': 'wave-state' }, STATES[state] || state),
        w.published ? h('span', { class: 'badge badge-live', 'data-testid': 'wave-published' }, 'Published') : null),
      h('p', { class: 'meta' }, `To ${to}. Sends ${fmtDateTime(w.send_at)}; closes ${fmtDateTime(w.closes_at)}.`),
      h('dl', { class: 'counts', 'data-testid': 'wave-counts' },
        [['invited', 'Invited'], ['done', 'Done'], ['unfinished', 'Unfinished']].map(([key, label]) => (
          h('div', { class: 'count', 'data-count': key }, h('dt', {}, label), h('dd', {}, str(Number(w[key]) || 0)))))),
      h('div', { class: 'row actions' }, actions));
  }

  const focusIn = (id, testid) => focusItem(E.waves, 'wave', id, testid);

  async function loadOverview() {
    const seq = ++listSeq;
    try {
      const d = await api('GET', '');
      if (seq !== listSeq) return;
      overview = d;
      renderOverview();
    } catch (e) { showError(e); }
  }

  // ---------------------------------------------------------------- surveys and waves
  async function createSurvey() {
    if (!E.surveyText.value.trim()) {
      tell(E.surveyError, 'Write the survey definition.');
      E.surveyText.focus();
      return;
    }
    const ok = await busy([E.createSurvey], async () => {
      const d = await api('POST', '/surveys', { text: E.surveyText.value });
      setStatus(`Survey #${str(d.survey)} created.`);
      await loadOverview();
      E.waveSurvey.value = str(d.survey);
    }, E.surveyError);
    if (!ok) E.surveyText.setAttribute('aria-invalid', 'true');
    else E.surveyText.removeAttribute('aria-invalid');
  }

  function wholeNumber(input, name) {
    const v = input.value.trim();
    if (!v) return { ok: true, value: null };
    if (!/^\d+$/.test(v) || Number(v) < 1) return { ok: false, message: `${name} must be a whole number from 1.` };
    return { ok: true, value: Number(v) };
  }

  async function scheduleWave() {
    tell(E.waveError, '');
    const refuse = (message, control) => {
      tell(E.waveError, message);
      setStatus(message, 'error');
      control.focus();
    };
    if (!E.waveSurvey.value) { refuse('Create a survey first.', E.waveSurvey); return; }
    const payload = { survey_id: Number(E.waveSurvey.value) };
    for (const [input, name, key] of [[E.sample, 'The sample size', 'sample'],
      [E.remind, 'The reminder', 'remind_after_h'], [E.openFor, 'The open time', 'open_for_h']]) {
      const n = wholeNumber(input, name);
      if (!n.ok) { refuse(n.message, input); return; }
      if (n.value != null) payload[key] = n.value;
    }
    if (E.sendAt.value) {
      const sendAt = isoWithOffset(E.sendAt.value);
      if (!sendAt) { refuse('The send time is not a date and time.', E.sendAt); return; }
      payload.send_at = sendAt;
    }
    await busy([E.schedule], async () => {
      const d = await api('POST', '/waves', payload);
      E.sample.value = ''; E.sendAt.value = '';
      setStatus(`Wave #${str(d.wave)} scheduled.`);
      await loadOverview();
    }, E.waveError);
  }

  async function cancelWave(id, control) {
    await busy([control], async () => {
      await api('POST', `/waves/${encodeURIComponent(id)}/cancel`);
      setStatus(`Wave #${id} cancelled.`);
    });
    await loadOverview();
    if (!control.isConnected) focusIn(id, 'wave-h');
  }

  // ---------------------------------------------------------------- results
  function groupName(dimension, group, label) {
    if (label) return str(label);
    const g = str(group);
    if (!g) return 'Not given';
    if (dimension === 'language') return LANGUAGES[g] || g;
    return g;
  }

  function choicesTable(q, cells, caption, testid) {
    return h('div', { class: 'table-wrap' },
      h('table', { class: 'data', 'data-testid': testid },
        h('caption', {}, caption),
        h('thead', {}, h('tr', {},
          h('th', { scope: 'col' }, 'Answer'), h('th', { scope: 'col', class: 'num' }, 'Count'),
          h('th', { scope: 'col', class: 'num' }, 'Share'))),
        h('tbody', {}, cells.map((c) => h('tr', { 'data-choice': str(c.choice) },
          h('th', { scope: 'row' }, str(c.label)),
          h('td', { class: 'num' }, str(Number(c.count) || 0)),
          h('td', { class: 'num' }, percent(c.share)))))));
  }

  function groupsTable(q, dimension, label, groups) {
    const choices = (q.cells || []).map((c) => ({ choice: str(c.choice), label: str(c.label) }));
    const width = 2 + choices.length + (q.kind === 'scale' ? 1 : 0);
    const rows = groups.map((g) => {
      const name = h('th', { scope: 'row' }, groupName(dimension, g.group, g.label));
      if (g.suppressed) {
        return h('tr', { 'data-testid': 'group', 'data-group': str(g.group), 'data-suppressed': 'true' }, name,
          h('td', { colspan: String(width - 1), class: 'suppressed', 'data-testid': 'group-suppressed' }, SUPPRESSED));
      }
      const byChoice = new Map((g.cells || []).map((c) => [str(c.choice), c]));
      return h('tr', { 'data-testid': 'group', 'data-group': str(g.group), 'data-suppressed': 'false' }, name,
        h('td', { class: 'num' }, str(Number(g.respondents) || 0)),
        choices.map((c) => {
          const cell = byChoice.get(c.choice) || {};
          return h('td', { class: 'num' }, `${Number(cell.count) || 0} (${percent(cell.share)})`);
        }),
        q.kind === 'scale' ? h('td', { class: 'num' }, g.mean == null ? '' : str(g.mean)) : null);
    });
    return h('div', { class: 'table-wrap' },
      h('table', { class: 'data', 'data-testid': `groups-${dimension}` },
        h('caption', {}, `${label}: ${str(q.text)}`),
        h('thead', {}, h('tr', {},
          h('th', { scope: 'col' }, 'Group'), h('th', { scope: 'col', class: 'num' }, 'Respondents'),
          choices.map((c) => h('th', { scope: 'col', class: 'num' }, c.label)),
          q.kind === 'scale' ? h('th', { scope: 'col', class: 'num' }, 'Average') : null)),
        h('tbody', {}, rows)));
  }

  function questionBlock(q, minGroup) {
    const key = str(q.key);
    const parts = [h('h3', { id: `panel-q-${key}` }, str(q.text))];
    if (q.suppressed) {
      parts.push(h('p', { class: 'from-gap', 'data-testid': 'question-suppressed' },
        `Fewer than ${minGroup} respondents: suppressed.`));
    } else {
      parts.push(h('p', { 'data-testid': 'respondents' }, plural(Number(q.respondents) || 0, 'respondent', 'respondents')));
      if (Array.isArray(q.cells) && q.cells.length) parts.push(choicesTable(q, q.cells, str(q.text), 'choices'));
      if (q.mean != null) parts.push(h('p', { 'data-testid': 'mean' }, `Average: ${str(q.mean)} out of 5.`));
    }
    const groups = q.groups || {};
    for (const [dimension, label] of DIMENSIONS) {
      const list = Array.isArray(groups[dimension]) ? groups[dimension] : [];
      if (!list.length) continue;
      parts.push(h('h4', {}, label), groupsTable(q, dimension, label, list));
    }
    const texts = Array.isArray(q.texts) ? q.texts : [];
    if (q.kind === 'text' && !q.suppressed) {
      parts.push(h('h4', {}, 'Answers (personal information removed)'));
      parts.push(texts.length
        ? h('ul', { class: 'panel-texts', 'data-testid': 'texts' }, texts.map((t) => h('li', { class: 'question' }, str(t))))
        : h('p', { class: 'empty' }, 'No written answers.'));
    }
    return h('section', { class: 'studio-section', 'data-testid': 'question', 'data-key': key, 'aria-labelledby': `panel-q-${key}` }, parts);
  }

  function publishForm(d) {
    const id = str(d.wave);
    const en = h('textarea', { id: 'panel-we-did-en', rows: '4', maxlength: String(MAX_WE_DID), 'data-testid': 'we-did-en', required: true });
    const fr = h('textarea', { id: 'panel-we-did-fr', rows: '4', maxlength: String(MAX_WE_DID), 'data-testid': 'we-did-fr', lang: 'fr' });
    en.value = str(d.we_did_en);
    fr.value = str(d.we_did_fr);
    const submit = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'publish' },
      d.published ? 'Update the summary' : 'Publish');
    const error = h('p', { id: 'panel-publish-error', 'aria-live': 'polite', 'data-testid': 'publish-error' });
    const link = h('p', { 'data-testid': 'public-link-line', 'aria-live': 'polite' });
    const showLink = (url) => fill(link, 'Public page: ', h('a', { href: url, 'data-testid': 'public-link' }, new URL(url, window.location.href).href));
    if (d.published) showLink(`/panel/waves/${encodeURIComponent(id)}`);
    const form = h('form', { class: 'panel-publish-form', novalidate: true, 'data-testid': 'publish-form' },
      field('panel-we-did-en', 'What we did (English)', en, 'Shown on the public page with the closed questions\' results.'),
      field('panel-we-did-fr', 'What we did (French, optional)', fr, 'The French page shows the English text when this is empty.'),
      error, h('div', { class: 'row' }, submit), link);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      if (!en.value.trim()) { tell(error, 'Say what was done, in English at least.'); en.focus(); return; }
      await busy([submit], async () => {
        const r = await api('POST', `/waves/${encodeURIComponent(id)}/publish`,
          { we_did_en: en.value, we_did_fr: fr.value.trim() ? fr.value : null });
        showLink(str(r.public_url));
        submit.textContent = 'Update the summary';
        setStatus(`Wave #${id}: summary published.`);
      }, error);
      loadOverview();
    });
    return h('section', { class: 'studio-section', 'aria-labelledby': 'panel-publish-h' },
      h('h3', { id: 'panel-publish-h' }, 'You said, we did'), form);
  }

  async function showResults(id, language) {
    const lang = language || (E.resultsLang ? E.resultsLang.value : 'en');
    let d;
    try {
      d = await api('GET', `/waves/${encodeURIComponent(id)}/results?lang=${encodeURIComponent(lang)}`);
    } catch (e) { showError(e); return; }
    openWave = id;
    const minGroup = Number(d.min_group) || 10;
    E.resultsLang = h('select', { id: 'panel-results-lang', class: 'select', 'data-testid': 'results-lang' },
      Object.entries(LANGUAGES).map(([code, name]) => h('option', { value: code }, name)));
    E.resultsLang.value = lang;
    E.resultsLang.addEventListener('change', () => showResults(openWave, E.resultsLang.value));
    const questions = Array.isArray(d.questions) ? d.questions : [];
    fill(E.results,
      h('h2', { id: 'panel-results-h', tabindex: '-1', 'data-testid': 'results-h' },
        `Results: ${str(d.title)} (wave #${str(d.wave)})`),
      h('p', { class: 'meta', 'data-testid': 'results-meta' },
        `${STATES[str(d.state)] || str(d.state)}. ${plural(Number(d.invited) || 0, 'member', 'members')} invited. `
          + `Groups of fewer than ${minGroup} respondents are suppressed.`),
      h('div', { class: 'row' },
        field('panel-results-lang', 'Labels in', E.resultsLang),
        h('a', { href: `${API}/waves/${encodeURIComponent(str(d.wave))}/results.csv`, download: '', 'data-testid': 'csv' },
          'Download the results (CSV)')),
      questions.map((q) => questionBlock(q, minGroup)),
      publishForm(d));
    E.results.hidden = false;
    if (language) E.resultsLang.focus();
    else document.getElementById('panel-results-h').focus();
  }

  // ---------------------------------------------------------------- start
  async function start() {
    build();
    await loadOverview();
    app.setAttribute('aria-busy', 'false');
    app.dataset.loaded = 'true';
    setInterval(() => { if (document.visibilityState === 'visible') loadOverview(); }, POLL_MS);
  }

  start();
})();
