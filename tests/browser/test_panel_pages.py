"""The citizen panel in headless Chromium against the real stack.

- The console page (/console/panel): a supervisor writes a survey in YAML (an invalid one shows
  the server's reason), schedules a wave and cancels it; an agent is refused; the page passes
  axe-core at 1280 and 320 px and Tab reaches every control.
- A survey over the web-chat widget: the visitor joins with PANEL and the "I agree" button, answers
  the profile with buttons, a supervisor schedules a wave through the API, the stack's sweep opens
  it, the widget shows the invitation (web chat does not push: the widget reads it from the
  transcript when it reconnects, so the page is reloaded), one answer by button, LATER pauses, the
  bot answers a normal question, SURVEY asks the same question again, and the survey ends with
  thanks; the stored answers are checked in the stack's database.
- Results and the public page: thirteen SMS members (seeded through bot.panel.citizen, as their
  messages would be) answer a wave; the console shows the counts with small groups marked
  suppressed and the redacted free texts, the CSV downloads, and the published "you said, we did"
  page shows markup as text, passes axe-core, and an unpublished wave is a 404.

The stack is shared by the whole test session: the console tests' waves are scheduled for later and
cancelled, so they never invite anybody.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from playwright.sync_api import Page, expect
from sqlalchemy import select

from bot.inbox.quiet_hours import QuietHours
from bot.panel.citizen import PanelCitizen
from bot.panel.profile import profile_questions
from bot.panel.sweep import WaveSweep
from bot.panel.waves import Waves
from bot.storage.audit import AuditLog
from bot.storage.db import Database
from bot.storage.models import PanelAnswer, PanelMember, PanelPlace
from connectors.capabilities import SMS
from tests.browser.test_console import log_in
from tests.browser.test_widget import (
    INPUT,
    RENEW_QUESTION,
    REPLIES,
    REPLY_TIMEOUT_MS,
    open_widget,
    send_and_wait_reply,
    wait_renew_answer,
)
from tests.conftest import RunningStack
from tests.support.a11y import axe_violations, sideways_overflow, tab_walk, tabbable
from tests.support.console import ConsoleClient, add_agent, tid
from tests.support.panel import PROFILE, SURVEY

pytestmark = [pytest.mark.browser, pytest.mark.stack]

PANEL_PAGE = "/console/panel"
MARKUP = "We moved renewals online <img src=x onerror=alert(1)> & <b>kept</b> the offices."
FAIT = "Nous avons gardé les bureaux ouverts."
SURVEY_YAML = yaml.safe_dump(SURVEY, allow_unicode=True, sort_keys=False)
NEVER_QUIET = QuietHours(0, 0)


# --------------------------------------------------------------------------- fixtures
@pytest.fixture
def db(stack: RunningStack) -> Iterator[Database]:
    """The running stack's own database."""
    if stack.settings is None:
        pytest.skip("needs the test stack's own database")
    database = Database(stack.settings.database_url)
    try:
        yield database
    finally:
        database.engine.dispose()


@pytest.fixture
def account(stack: RunningStack) -> Callable[..., str]:
    """A new console account (unique username); returns the username."""
    if stack.settings is None:
        pytest.skip("needs the test stack's own database to add accounts")
    database_url = stack.settings.database_url

    def make(role: str = "supervisor") -> str:
        username = f"panel-{uuid.uuid4().hex[:8]}"
        add_agent(database_url, username, role, f"Panel {role}")
        return username

    return make


# --------------------------------------------------------------------------- helpers
def open_panel(page: Page, base_url: str) -> None:
    page.goto(base_url + PANEL_PAGE)
    expect(page.locator('main#app[data-loaded="true"]')).to_be_attached()


def status(page: Page) -> Any:
    return page.locator(tid("status"))


def wave_item(page: Page, wave_id: str) -> Any:
    return page.locator(f'{tid("wave")}[data-id="{wave_id}"]')


def number_in_status(page: Page, word: str) -> str:
    expect(status(page)).to_contain_text(word)
    match = re.search(r"#(\d+)", status(page).inner_text())
    assert match, status(page).inner_text()
    return match[1]


def tomorrow_at_ten() -> str:
    """A datetime-local value for tomorrow 10:00 (the page's time zone is Toronto)."""
    return f"{dt.date.today() + dt.timedelta(days=2):%Y-%m-%d}T10:00"


def create_survey(page: Page) -> str:
    page.locator(tid("load-example")).click()
    page.locator(tid("create-survey")).click()
    return number_in_status(page, "created")


def schedule_later(page: Page, survey_id: str) -> str:
    page.locator(tid("wave-survey")).select_option(survey_id)
    page.locator(tid("wave-send-at")).fill(tomorrow_at_ten())
    page.locator(tid("schedule")).click()
    return number_in_status(page, "scheduled")


def nothing_injected(page: Page, scope: str = "main") -> None:
    page.wait_for_timeout(500)  # an injected onerror would have fired by now
    injected = page.evaluate(
        """(scope) => ({
            scripts: document.querySelectorAll(`${scope} script`).length,
            images: document.querySelectorAll(`${scope} img`).length,
            bold: document.querySelectorAll(`${scope} b`).length,
        })""",
        scope,
    )
    assert injected == {"scripts": 0, "images": 0, "bold": 0}, injected
    assert page.js_dialogs == [] and page.js_errors == []  # type: ignore[attr-defined]


def assert_accessible(page: Page, state: str) -> None:
    violations = axe_violations(page)
    assert violations == [], f"{state}: {violations}"
    width = page.viewport_size["width"] if page.viewport_size else 0
    assert sideways_overflow(page) == 0, f"{state}: scrolls sideways at {width} px"


# --------------------------------------------------------------------------- a: the console page
def test_a_supervisor_writes_a_survey_and_schedules_a_wave(
    stack: RunningStack, new_page: Callable[..., Page], account: Callable[..., str]
) -> None:
    page = new_page()
    log_in(page, stack.base_url, account())
    expect(page.locator('[data-nav="panel"]')).to_be_visible()  # in the navigation
    open_panel(page, stack.base_url)
    expect(page.locator('[data-nav="panel"]')).to_have_attribute("aria-current", "page")
    expect(page.locator(tid("panel-size"))).to_contain_text("active member")

    # Invalid YAML, then a valid YAML that is not a survey: the server's reason is shown.
    error = page.locator(tid("survey-error"))
    expect(error).to_have_attribute("aria-live", "polite")
    page.locator(tid("survey-text")).fill("title: [unclosed\nquestions: <")
    page.locator(tid("create-survey")).click()
    expect(error).to_contain_text("not valid YAML")
    expect(status(page)).to_have_attribute("data-kind", "error")
    page.locator(tid("survey-text")).fill("title: <b>No questions</b>\nquestions: []\n")
    page.locator(tid("create-survey")).click()
    expect(error).to_contain_text("questions")
    expect(page.locator(tid("survey-text"))).to_have_attribute("aria-invalid", "true")

    # The example, as written by the page, is a survey.
    page.locator(tid("survey-text")).fill(SURVEY_YAML)
    page.locator(tid("create-survey")).click()
    survey_id = number_in_status(page, "created")
    expect(error).to_be_empty()
    survey = page.locator(f'{tid("survey")}[data-id="{survey_id}"]')
    expect(survey).to_contain_text("Renewing a permit")
    expect(page.locator(tid("wave-survey"))).to_have_value(survey_id)

    # A reminder after the wave closes is refused by the server, and the page says why.
    page.locator(tid("wave-remind")).fill("400")
    page.locator(tid("schedule")).click()
    expect(page.locator(tid("wave-error"))).to_contain_text("reminder")
    page.locator(tid("wave-remind")).fill("72")

    # Scheduled for later, to a sample: it is listed, then cancelled.
    page.locator(tid("wave-sample")).fill("5")
    wave_id = schedule_later(page, survey_id)
    expect(page.locator(tid("wave-error"))).to_be_empty()
    row = wave_item(page, wave_id)
    expect(row.locator(tid("wave-state"))).to_have_text("Scheduled")
    expect(row).to_contain_text("To a sample of 5")
    expect(row.locator('[data-count="invited"] dd')).to_have_text("0")
    expect(row.locator('[data-count="done"] dd')).to_have_text("0")
    expect(row.locator('[data-count="unfinished"] dd')).to_have_text("0")
    row.locator(tid("cancel-wave")).click()
    expect(status(page)).to_contain_text(f"Wave #{wave_id} cancelled")
    expect(row.locator(tid("wave-state"))).to_have_text("Cancelled")
    expect(row.locator(tid("cancel-wave"))).to_have_count(0)
    expect(row.locator(tid("wave-h"))).to_be_focused()  # the button went away

    # The server agrees.
    listed = page.request.get(stack.base_url + "/console/api/panel").json()
    mine = next(w for w in listed["waves"] if str(w["id"]) == wave_id)
    assert mine["state"] == "cancelled" and mine["sample"] == 5
    nothing_injected(page)


def test_an_agent_is_refused(
    stack: RunningStack, new_page: Callable[..., Page], account: Callable[..., str]
) -> None:
    page = new_page()
    log_in(page, stack.base_url, account("agent"))
    expect(page.locator('[data-nav="panel"]')).to_be_hidden()
    response = page.goto(stack.base_url + PANEL_PAGE)
    assert response is not None and response.status == 403
    assert page.request.get(stack.base_url + "/console/api/panel").status == 403
    page.goto(stack.base_url + "/console")
    csrf = page.locator('meta[name="csrf-token"]').get_attribute("content") or ""
    refused = page.request.post(
        stack.base_url + "/console/api/panel/surveys",
        data={"text": SURVEY_YAML},
        headers={"X-CSRF-Token": csrf},
    )
    assert refused.status == 403


def panel_states(page: Page, base_url: str) -> Iterator[str]:
    """The page's states in turn; yields each one's name."""
    open_panel(page, base_url)
    yield "loaded"
    page.locator(tid("survey-text")).fill("title: [unclosed")
    page.locator(tid("create-survey")).click()
    expect(page.locator(tid("survey-error"))).to_contain_text("not valid YAML")
    yield "survey refused"
    survey_id = create_survey(page)
    wave_id = schedule_later(page, survey_id)
    expect(wave_item(page, wave_id).locator(tid("wave-state"))).to_have_text("Scheduled")
    yield "a scheduled wave"
    wave_item(page, wave_id).locator(tid("show-results")).click()
    expect(page.locator(tid("results-h"))).to_be_focused()
    expect(page.locator(tid("question-suppressed"))).to_have_count(3)
    yield "results of a wave nobody answered"
    wave_item(page, wave_id).locator(tid("cancel-wave")).click()
    expect(wave_item(page, wave_id).locator(tid("wave-state"))).to_have_text("Cancelled")


@pytest.mark.parametrize("width", [1280, 320])
def test_the_panel_page_passes_axe_core(
    stack: RunningStack, new_page: Callable[..., Page], account: Callable[..., str], width: int
) -> None:
    page = new_page(width)
    log_in(page, stack.base_url, account())
    for state in panel_states(page, stack.base_url):
        assert_accessible(page, state)
    assert page.js_errors == []  # type: ignore[attr-defined]


def test_the_panel_page_works_from_the_keyboard(
    stack: RunningStack, new_page: Callable[..., Page], account: Callable[..., str]
) -> None:
    page = new_page(1280)
    log_in(page, stack.base_url, account())
    for state in panel_states(page, stack.base_url):
        page.evaluate("document.activeElement && document.activeElement.blur()")
        controls = tabbable(page)
        walked = tab_walk(page, 2 * len(controls) + 10)  # a date field takes several stops
        missed = set(controls) - {f["key"] for f in walked}
        assert not missed, f"{state}: Tab never reaches {missed}"
        hidden = [f["key"] for f in walked if not f["visible"]]
        assert not hidden, f"{state}: no visible focus on {hidden}"

    # Without a mouse: create a survey with Enter on the button, then schedule with Enter.
    open_panel(page, stack.base_url)
    page.locator(tid("load-example")).focus()
    page.keyboard.press("Enter")
    expect(page.locator(tid("survey-text"))).to_be_focused()
    page.locator(tid("create-survey")).focus()
    page.keyboard.press("Enter")
    survey_id = number_in_status(page, "created")
    page.locator(tid("wave-send-at")).fill(tomorrow_at_ten())
    page.locator(tid("wave-open")).focus()
    page.keyboard.press("Enter")  # Enter in a field submits its form
    wave_id = number_in_status(page, "scheduled")
    row = wave_item(page, wave_id)
    expect(row).to_contain_text("Renewing a permit")
    assert page.locator(tid("wave-survey")).input_value() == survey_id
    row.locator(tid("cancel-wave")).focus()
    page.keyboard.press("Enter")
    expect(row.locator(tid("wave-state"))).to_have_text("Cancelled")
    expect(row.locator(tid("wave-h"))).to_be_focused()
    assert page.js_errors == []  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- b: over the widget
def bot_says(page: Page, text: str) -> Any:
    """The last bot message that contains `text` (waits for it)."""
    found = page.locator(REPLIES).filter(has_text=text).last
    expect(found).to_be_visible(timeout=REPLY_TIMEOUT_MS)
    return found


def click_choice(page: Page, message: Any, title: str) -> None:
    """Click the enabled button `title` under a bot message, and wait for the next reply."""
    before = page.locator(REPLIES).count()
    message.locator(".gbw-qr:not([disabled])").get_by_text(title, exact=True).click()
    expect(page.locator(REPLIES)).not_to_have_count(before, timeout=REPLY_TIMEOUT_MS)


def member_place(db: Database, address: str, wave_id: int) -> PanelPlace | None:
    with db.session() as session:
        return session.scalar(
            select(PanelPlace)
            .join(PanelMember, PanelMember.id == PanelPlace.member_id)
            .where(
                PanelMember.channel == "webchat",
                PanelMember.address == address,
                PanelPlace.wave_id == wave_id,
            )
        )


def test_b_a_survey_over_the_widget_paused_and_resumed(
    stack: RunningStack,
    new_page: Callable[..., Page],
    account: Callable[..., str],
    db: Database,
) -> None:
    page = new_page()
    open_widget(page, stack.base_url + "/")

    # Joining: the consent text with its button, then the profile with buttons.
    send_and_wait_reply(page, "PANEL")
    consent = bot_says(page, "citizen panel")
    expect(consent).to_contain_text("AGREE")
    click_choice(page, consent, "I agree")
    area = bot_says(page, "Where do you live?")
    expect(area).to_contain_text("Welcome to the panel")
    click_choice(page, area, "Montréal")
    age = bot_says(page, "Your age?")
    click_choice(page, age, "Skip")
    bot_says(page, "We will write here when a survey opens")
    token = page.evaluate("localStorage.getItem('gbw-session')")
    address = token.partition(".")[0]
    with db.session() as session:
        member = session.scalar(
            select(PanelMember).where(
                PanelMember.channel == "webchat", PanelMember.address == address
            )
        )
        assert member is not None
        assert (member.state, member.area, member.age_band, member.language) == (
            "active",
            "montreal",
            None,
            "en",
        )

    # A supervisor schedules a wave (now) through the API; the stack's sweep opens it.
    lead = ConsoleClient(stack.base_url)
    try:
        assert lead.login(account()).status_code == 303
        created = lead.post("/console/api/panel/surveys", {"text": SURVEY_YAML})
        assert created.status_code == 200, created.text
        wave = lead.post("/console/api/panel/waves", {"survey_id": created.json()["survey"]})
        assert wave.status_code == 200, wave.text
        wave_id = wave.json()["wave"]
        for _ in range(60):
            place = member_place(db, address, wave_id)
            if place is not None:
                break
            page.wait_for_timeout(500)
        else:
            pytest.fail(f"the sweep did not open wave {wave_id}")
        overview = lead.get("/console/api/panel").json()
        listed = next(w for w in overview["waves"] if w["id"] == wave_id)
        assert listed["state"] == "open" and listed["invited"] >= 1
    finally:
        lead.close()
    # The web chat cannot push, so quiet hours do not hold its invitation: it is open at once.
    assert place.asked_at.replace(tzinfo=dt.UTC) <= dt.datetime.now(dt.UTC)

    # Web chat does not push: the widget reads the invitation from the transcript on reload.
    page.reload()
    open_widget(page)
    invitation = bot_says(page, "How did you renew?")
    expect(invitation).to_contain_text("three questions on renewing a permit")
    expect(invitation.locator(".gbw-qr")).to_have_text(["Online", "At an office", "Not yet"])
    click_choice(page, invitation, "Online")
    ease = bot_says(page, "How easy was it?")
    expect(ease.locator(".gbw-qr")).to_have_text(["1", "2", "3", "4", "5"])

    # LATER pauses; the bot answers a normal question; SURVEY asks the same question again.
    send_and_wait_reply(page, "LATER")
    bot_says(page, "Paused. Text SURVEY when you want to go on.")
    paused = member_place(db, address, wave_id)
    assert paused is not None and (paused.state, paused.question) == ("paused", "ease")
    page.locator(INPUT).fill(RENEW_QUESTION)
    page.locator(INPUT).press("Enter")
    wait_renew_answer(page)
    assert page.locator(REPLIES).last.inner_text().count("How easy was it?") == 0
    send_and_wait_reply(page, "SURVEY")
    again = bot_says(page, "How easy was it?")
    expect(page.locator(REPLIES).filter(has_text="How easy was it?")).to_have_count(2)
    click_choice(page, again, "2")
    why = bot_says(page, "What made it hard?")
    expect(why).to_contain_text("SKIP to pass")  # free text: no buttons
    expect(why.locator(".gbw-qr")).to_have_count(0)
    send_and_wait_reply(page, "The form asked twice for my e-mail, jane.doe@example.com")
    bot_says(page, "Thank you, your answers are in.")
    assert page.js_errors == []  # type: ignore[attr-defined]

    # What was stored: the place is done, the answers are there, the free text redacted.
    done = member_place(db, address, wave_id)
    assert done is not None and done.state == "done"
    with db.session() as session:
        answers = {
            a.question: (a.choice, a.text)
            for a in session.scalars(select(PanelAnswer).where(PanelAnswer.place_id == done.id))
        }
    assert answers["how"] == ("online", None)
    assert answers["ease"] == ("2", None)
    choice, text = answers["why"]
    assert choice is None and text is not None
    assert text.startswith("The form asked twice for my e-mail")
    assert "jane.doe@example.com" not in text


# --------------------------------------------------------------------------- c: results, public
def seed_wave(db: Database, supervisor: str, service: str) -> tuple[int, int]:
    """A wave of SURVEY answered by thirteen new SMS members: 10 in Montréal, 2 rural, 1 in
    Québec City (age skipped); 12 renewed online and 1 at an office; 11 found it hard (2) and said
    why, 2 found it easy (5). The wave is scheduled for later and opened here, without quiet
    hours, so that the test does not depend on the time of day."""
    panel = PanelCitizen(db, profile_questions(PROFILE), service)
    prefix = f"+1514{uuid.uuid4().int % 10**5:05d}"
    numbers = [f"{prefix}{i:02d}" for i in range(13)]
    areas = ["1"] * 10 + ["4", "4", "2"]
    for number, area in zip(numbers, areas, strict=True):
        for text in ("PANEL", "AGREE", area, "SKIP"):
            assert panel.handle("sms", number, text, SMS) is not None
    waves = Waves(db, AuditLog(db), service)
    survey_id = waves.create_survey(SURVEY, supervisor)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    wave_id = waves.schedule(survey_id, supervisor, send_at=later)
    assert WaveSweep(db, service, "America/Toronto", NEVER_QUIET).open(wave_id) >= 13
    hard = [
        "The site kept logging me out",
        "Call me at 514-555-0199 about it",
        "<b>Bold</b> claim: the form <script>alert(1)</script> was long",
    ] + [f"Too many steps ({n})" for n in range(8)]
    for i, number in enumerate(numbers):
        how = "2" if i == 12 else "1"
        replies = [how, "2", hard[i]] if i < 11 else [how, "5"]
        for text in replies:
            assert panel.handle("sms", number, text, SMS) is not None
    return wave_id, survey_id


def test_c_results_and_the_public_page_of_a_published_wave(
    stack: RunningStack,
    new_page: Callable[..., Page],
    account: Callable[..., str],
    db: Database,
    artifacts_dir: Path,
) -> None:
    assert stack.settings is not None
    lead = account()
    wave, survey_id = seed_wave(db, lead, stack.settings.service_name)
    wave_id = str(wave)
    page = new_page()
    log_in(page, stack.base_url, lead)
    open_panel(page, stack.base_url)
    row = wave_item(page, wave_id)
    expect(row.locator(tid("wave-state"))).to_have_text("Open")
    expect(row.locator('[data-count="done"] dd')).to_have_text("13")
    expect(row.locator(tid("cancel-wave"))).to_have_count(0)  # open: no longer cancellable
    row.locator(tid("show-results")).click()
    expect(page.locator(tid("results-h"))).to_be_focused()
    expect(page.locator(tid("results-h"))).to_contain_text(f"wave #{wave_id}")

    how = page.locator(f'{tid("question")}[data-key="how"]')
    expect(how.locator(tid("respondents"))).to_have_text("13 respondents")
    online = how.locator(f'{tid("choices")} tr[data-choice="online"]')
    expect(online.locator("td")).to_have_text(["12", "92 %"])
    office = how.locator(f'{tid("choices")} tr[data-choice="office"]')
    expect(office.locator("td")).to_have_text(["1", "8 %"])
    areas = how.locator(tid("groups-area"))
    montreal = areas.locator('tr[data-group="montreal"]')
    expect(montreal).to_have_attribute("data-suppressed", "false")
    expect(montreal.locator("td").first).to_have_text("10")
    for small in ("rural", "quebec-city"):
        group = areas.locator(f'tr[data-group="{small}"]')
        expect(group.locator(tid("group-suppressed"))).to_have_text("fewer than 10: suppressed")
        expect(group).not_to_contain_text(re.compile(r"\d+ \("))
    english = how.locator(f'{tid("groups-language")} tr[data-group="en"]')
    expect(english).to_have_attribute("data-suppressed", "false")
    expect(english.locator("th")).to_have_text("English")

    ease = page.locator(f'{tid("question")}[data-key="ease"]')
    expect(ease.locator(tid("mean"))).to_have_text(re.compile(r"Average: 2\.4\d? out of 5\."))
    why = page.locator(f'{tid("question")}[data-key="why"]')
    expect(why.locator(tid("respondents"))).to_have_text("11 respondents")
    texts = why.locator(f"{tid('texts')} li")
    expect(texts).to_have_count(11)
    expect(texts.nth(0)).to_have_text("The site kept logging me out")
    expect(texts.nth(1)).not_to_contain_text("514-555-0199")  # redacted when stored
    expect(texts.nth(2)).to_contain_text("<b>Bold</b> claim: the form <script>")
    nothing_injected(page)
    assert_accessible(page, "results")
    page.screenshot(path=str(artifacts_dir / "panel-results.png"), full_page=True)

    # The CSV downloads as an attachment, suppressed groups without counts.
    href = page.locator(tid("csv")).get_attribute("href")
    assert href == f"/console/api/panel/waves/{wave_id}/results.csv"
    csv = page.request.get(stack.base_url + href)
    assert csv.status == 200
    assert "attachment" in csv.headers["content-disposition"]
    rows = csv.text()
    assert f"{wave_id},how,area,rural,,,,,yes" in rows
    assert f"{wave_id},how,all,,online,13,12," in rows

    # Publish "you said, we did" with markup in it.
    page.locator(tid("we-did-en")).fill(MARKUP)
    page.locator(tid("we-did-fr")).fill(FAIT)
    page.locator(tid("publish")).click()
    link = page.locator(tid("public-link"))
    expect(link).to_have_attribute("href", f"/panel/waves/{wave_id}")
    expect(status(page)).to_contain_text("published")
    expect(row.locator(tid("wave-published"))).to_be_visible()

    # The public page: results overall, the text as text, accessible.
    link.click()
    expect(page).to_have_url(re.compile(rf"/panel/waves/{wave_id}$"))
    main = page.locator("main")
    expect(page.locator("h1")).to_have_text("You said, we did: Renewing a permit")
    expect(main).to_contain_text("13 people answered.")
    expect(main.locator("table").first.locator("tbody tr").first).to_contain_text("92 %")
    expect(page.locator(".we-did")).to_have_text(MARKUP)
    expect(main).not_to_contain_text("What made it hard?")  # free text stays internal
    expect(main).not_to_contain_text("logging me out")
    nothing_injected(page)
    assert_accessible(page, "public page")
    page.screenshot(path=str(artifacts_dir / "panel-public.png"), full_page=True)
    page.set_viewport_size({"width": 320, "height": 640})
    assert_accessible(page, "public page at 320 px")
    page.get_by_role("link", name="Français").click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator(".we-did")).to_have_text(FAIT)
    expect(page.locator("main")).to_contain_text("Comment avez-vous renouvelé?")
    assert_accessible(page, "public page in French")

    # A wave that is not published, and one that does not exist, are 404 pages.
    waves = Waves(db, AuditLog(db), stack.settings.service_name)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=3)
    unpublished = waves.schedule(survey_id, lead, send_at=later)
    try:
        for missing in (unpublished, 2_000_000):
            response = page.goto(f"{stack.base_url}/panel/waves/{missing}")
            assert response is not None and response.status == 404
            expect(page.locator("main")).to_contain_text("There is no published summary here.")
    finally:
        waves.cancel(unpublished, lead)
