"""The knowledge studio's page (/console/studio) in headless Chromium against the real stack: a
draft started from a knowledge gap is written, submitted, approved by a second person and answered
by the bot within seconds; an urgent publish is rolled back; an account without rights on an
agency is refused; an answer's markup stays text; the page passes axe-core and works from the
keyboard.

The stack is shared by the whole test session, and what is published here would be answered to
every later test: each test archives what it published, and uses topics (a fictional Northbridge
winter heating rebate, lighthouse tour permits) that no demo FAQ and no other test asks about.
"""

from __future__ import annotations

import datetime as dt
import re
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import numpy as np
import pytest
from playwright.sync_api import Page, expect

from bot.storage.db import Database
from bot.storage.models import GapCluster, KbFaq, Turn
from tests.browser.test_console import log_in
from tests.conftest import RunningStack
from tests.support.a11y import axe_violations, sideways_overflow, tab_walk, tabbable
from tests.support.console import ConsoleClient, add_agent, grant, tid
from tests.support.webchat import new_session

pytestmark = [pytest.mark.browser, pytest.mark.stack]

LIVE_WITHIN_S = 15.0  # KB_REFRESH_S is 2 s; the index encodes the new FAQ's texts
STUDIO = "/console/studio"


# --------------------------------------------------------------------------- fixtures
@pytest.fixture
def account(stack: RunningStack) -> Callable[..., str]:
    """A new console account (unique username) with studio rights: `edits` and `reviews` are
    agencies; returns the username."""
    if stack.settings is None:
        pytest.skip("needs the test stack's own database to add accounts")
    database_url = stack.settings.database_url

    def make(
        role: str = "agent", edits: tuple[str, ...] = (), reviews: tuple[str, ...] = ()
    ) -> str:
        username = f"studio-{uuid.uuid4().hex[:8]}"
        add_agent(database_url, username, role, f"Studio {role}")
        for agency in edits:
            grant(database_url, username, agency)
        for agency in reviews:
            grant(database_url, username, agency, review=True)
        return username

    return make


@pytest.fixture
def cleanup(stack: RunningStack, account: Callable[..., str]) -> Iterator[list[str]]:
    """FAQ ids to archive at the end of the test (by an admin, through the API), whatever
    happened: published FAQs would otherwise stay in the shared stack's bank."""
    ids: list[str] = []
    yield ids
    if not ids:
        return
    admin = ConsoleClient(stack.base_url)
    try:
        assert admin.login(account("admin")).status_code == 303
        for faq_id in ids:
            response = admin.post(f"/console/api/studio/faqs/{faq_id}/archive")
            assert response.status_code == 200, response.text
    finally:
        admin.close()


# --------------------------------------------------------------------------- helpers
def add_gap(database_url: str, language: str, questions: list[str]) -> int:
    """A knowledge-gap group, as the insight clustering leaves it: the group and its unanswered
    turns (the first question is its label, the others were asked in the order given, the newest
    first)."""
    db = Database(database_url)
    now = dt.datetime.now(dt.UTC)
    with db.session() as session:
        gap = GapCluster(
            language=language,
            label=questions[0],
            size=len(questions),
            centroid=np.zeros(384, np.float32).tobytes(),
            created_at=now,
            last_seen_at=now,
        )
        session.add(gap)
        session.flush()
        for n, question in enumerate(questions):
            session.add(
                Turn(
                    at=now - dt.timedelta(minutes=n),
                    conversation_id=f"webchat:gap-{uuid.uuid4().hex[:12]}",
                    channel="webchat",
                    language=language,
                    outcome="no_answer",
                    question=question,
                    cluster_id=gap.id,
                    clustered=True,
                )
            )
        session.commit()
        gap_id: int = gap.id
    db.engine.dispose()
    return gap_id


def gap_of(database_url: str, faq_id: str) -> int | None:
    db = Database(database_url)
    try:
        with db.session() as session:
            faq = session.get(KbFaq, faq_id)
            return faq.gap_id if faq is not None else None
    finally:
        db.engine.dispose()


def bot_answers(stack: RunningStack, question: str, phrase: str) -> str:
    """Ask the bot through the web-chat API (a new conversation each time) until a reply contains
    `phrase`; returns that reply, or fails after LIVE_WITHIN_S."""
    deadline = time.monotonic() + LIVE_WITHIN_S
    seen: list[str] = []
    while True:
        session = new_session(stack.base_url)
        response = httpx.post(
            f"{stack.base_url}/webchat/messages",
            json={"session": session, "text": question},
            timeout=30,
        )
        response.raise_for_status()
        texts = [str(m.get("text", "")) for m in response.json()["messages"]]
        for text in texts:
            if phrase in text:
                return text
        seen = texts
        if time.monotonic() > deadline:
            pytest.fail(f"the bot did not answer {question!r} with {phrase!r}; it said {seen}")
        time.sleep(1.0)


def open_studio(page: Page, base_url: str, query: str = "") -> None:
    page.goto(base_url + STUDIO + query)
    expect(page.locator('main#app[data-loaded="true"]')).to_be_attached()


def open_faq(page: Page, faq_id: str) -> None:
    expect(page.locator(tid("pane-heading"))).to_have_text(f"FAQ {faq_id}")


def opened_id(page: Page) -> str:
    """The id of the FAQ open in the editor (the page keeps it in its address)."""
    expect(page).to_have_url(re.compile(r"[?&]faq="))
    match = re.search(r"[?&]faq=([^&]+)", page.url)
    assert match
    return match[1]


def status(page: Page) -> Any:
    return page.locator(tid("status"))


# --------------------------------------------------------------------------- 1: gap to answer
GAP_QUESTIONS = [
    "How do I apply for the Northbridge winter heating rebate?",
    "winter heating rebate application",
    "where is the form for the heating rebate",
]
REBATE_PHRASE = "Form WHR-77 at any Northbridge library"
REBATE_ANSWER = (
    "Apply for the Northbridge winter heating rebate with " + REBATE_PHRASE + ", or online "
    "before January 31. Bring your latest heating bill."
)


def test_a_draft_from_a_knowledge_gap_is_approved_by_a_reviewer_and_the_bot_answers_it(
    stack: RunningStack,
    new_page: Callable[..., Page],
    account: Callable[..., str],
    cleanup: list[str],
) -> None:
    assert stack.settings is not None
    editor = account(edits=("benefits",))
    reviewer = account(reviews=("benefits",))
    gap_id = add_gap(stack.settings.database_url, "en", GAP_QUESTIONS)

    page = new_page()
    log_in(page, stack.base_url, editor)
    open_studio(page, stack.base_url, f"?gap={gap_id}")
    expect(page.locator(tid("pane-heading"))).to_have_text("New FAQ")
    expect(page.locator(tid("from-gap"))).to_contain_text(GAP_QUESTIONS[0])
    expect(page.locator(tid("faq-question"))).to_have_value(GAP_QUESTIONS[0])
    expect(page.locator(tid("faq-alternatives"))).to_have_value("\n".join(GAP_QUESTIONS[1:]))
    expect(page.locator(tid("new-language"))).to_have_value("en")
    expect(page.locator(tid("new-agency"))).to_have_value("benefits")
    page.locator(tid("faq-answer")).fill(REBATE_ANSWER)
    expect(page.locator(tid("answer-preview"))).to_have_text(REBATE_ANSWER)

    # How would the bot answer? (nothing is published by trying)
    page.locator(tid("preview-tests")).fill(GAP_QUESTIONS[0])
    page.locator(tid("preview-run")).click()
    result = page.locator(tid("preview-test")).first
    expect(result).to_contain_text("this draft")
    expect(page.locator(tid("preview-warnings"))).to_be_visible()

    page.locator(tid("create")).click()
    expect(status(page)).to_contain_text("created")
    faq_id = opened_id(page)
    cleanup.append(faq_id)
    open_faq(page, faq_id)
    assert gap_of(stack.settings.database_url, faq_id) == gap_id
    expect(page.locator(tid("faq-state"))).to_have_text("Draft")
    page.locator(tid("submit-review")).click()
    expect(status(page)).to_contain_text("waiting for review")
    expect(page.locator(tid("faq-head"))).to_have_text("1 (in review)")
    expect(page.locator(tid("approve"))).to_have_count(0)  # the editor may not review

    second = new_page()
    log_in(second, stack.base_url, reviewer)
    open_studio(second, stack.base_url)
    second.locator(tid("studio-filter")).select_option("in_review")
    second.locator(f'{tid("faq-item")}[data-faq-id="{faq_id}"]').click()
    open_faq(second, faq_id)
    expect(second.locator(tid("faq-question"))).to_have_value(GAP_QUESTIONS[0])
    second.locator(tid("approve")).click()
    expect(status(second)).to_contain_text("approved and live")
    expect(second.locator(tid("faq-state"))).to_have_text("Published")
    expect(second.locator(tid("faq-live"))).to_have_text("1")

    assert REBATE_PHRASE in bot_answers(stack, GAP_QUESTIONS[0], REBATE_PHRASE)
    assert page.js_errors == [] and second.js_errors == []  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- 2: rollback
PERMIT_QUESTION = "Do I need a permit for a Northbridge lighthouse tour?"
PERMIT_FIRST = "Lighthouse tour permits cost $12 at the harbour office (code LH-ALPHA)."
PERMIT_SECOND = "Lighthouse tours are suspended until spring (code LH-BRAVO)."


def test_an_urgent_change_is_rolled_back_and_the_bot_gives_the_old_answer_again(
    stack: RunningStack,
    new_page: Callable[..., Page],
    account: Callable[..., str],
    cleanup: list[str],
) -> None:
    editor = account(reviews=("benefits",))
    api = ConsoleClient(stack.base_url)
    try:
        assert api.login(editor).status_code == 303
        created = api.post(
            "/console/api/studio/faqs",
            {
                "agency": "benefits",
                "language": "en",
                "question": PERMIT_QUESTION,
                "alternatives": ["lighthouse tour permit", "visit the Northbridge lighthouse"],
                "answer": PERMIT_FIRST,
            },
        )
        assert created.status_code == 200, created.text
        faq_id = created.json()["id"]
        cleanup.append(faq_id)
        published = api.post(f"/console/api/studio/faqs/{faq_id}/publish-urgent")
        assert published.status_code == 200, published.text
    finally:
        api.close()
    bot_answers(stack, PERMIT_QUESTION, "LH-ALPHA")

    page = new_page(timezone="America/Toronto")
    log_in(page, stack.base_url, editor)
    open_studio(page, stack.base_url, f"?faq={faq_id}")
    open_faq(page, faq_id)
    expect(page.locator(tid("publish-urgent"))).to_have_count(0)  # the newest version is live
    page.locator(tid("faq-answer")).fill(PERMIT_SECOND)
    page.locator(tid("save")).click()
    expect(status(page)).to_contain_text("Saved as version 2")
    page.locator(tid("publish-urgent")).click()
    expect(page.locator(tid("publish-urgent-confirm"))).to_be_focused()
    page.locator(tid("publish-urgent-confirm")).click()
    expect(status(page)).to_contain_text("is live")
    expect(page.locator(tid("faq-live"))).to_have_text("2")
    bot_answers(stack, PERMIT_QUESTION, "LH-BRAVO")

    # The history: who and when, and what changed from version 1.
    newest = page.locator(f'{tid("version")}[data-version="2"]')
    expect(newest).to_contain_text("published urgently")
    newest.locator(tid("diff-previous")).click()
    diff = newest.locator(tid("diff"))
    expect(diff.locator(".diff-del")).to_contain_text(PERMIT_FIRST)
    expect(diff.locator(".diff-add")).to_contain_text(PERMIT_SECOND)

    first = page.locator(f'{tid("version")}[data-version="1"]')
    first.locator(tid("rollback")).click()
    page.locator(tid("rollback-confirm")).click()
    expect(status(page)).to_contain_text("back to version 1")
    expect(page.locator(tid("faq-live"))).to_have_text("3")
    expect(page.locator(tid("faq-answer"))).to_have_value(PERMIT_FIRST)
    bot_answers(stack, PERMIT_QUESTION, "LH-ALPHA")

    # An expiry typed in the browser's time zone reaches the server as that moment.
    page.locator(tid("expire-at")).fill("2031-01-15T09:30")
    page.locator(tid("expiry-set")).click()
    expect(status(page)).to_contain_text("ends on its own")
    expect(page.locator(tid("expire-at"))).to_have_value("2031-01-15T09:30")
    expires = page.request.get(f"{stack.base_url}/console/api/studio/faqs/{faq_id}").json()
    moment = dt.datetime.fromisoformat(expires["expire_at"])  # naive on SQLite: UTC
    assert moment.replace(tzinfo=moment.tzinfo or dt.UTC) == dt.datetime(
        2031, 1, 15, 14, 30, tzinfo=dt.UTC
    )
    page.locator(tid("expiry-clear")).click()
    expect(page.locator(tid("faq-expires"))).to_have_text("never")
    assert page.js_errors == []  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- 3: rights
def test_an_editor_of_another_agency_is_refused(
    stack: RunningStack, new_page: Callable[..., Page], account: Callable[..., str]
) -> None:
    outsider = account(edits=("revenue",))
    page = new_page()
    log_in(page, stack.base_url, outsider)
    open_studio(page, stack.base_url, "?faq=ben-income-assistance-en")
    expect(status(page)).to_have_attribute("data-kind", "error")
    expect(status(page)).to_contain_text("may not edit benefits")
    expect(page.locator(tid("faq-question"))).to_have_count(0)
    # The picker offers only the agency it has rights on.
    expect(page.locator(f"{tid('studio-agency')} option")).to_have_count(1)
    expect(page.locator(tid("studio-agency"))).to_have_value("revenue")
    expect(page.locator(tid("faq-item")).first).to_be_visible()

    api = ConsoleClient(stack.base_url)
    try:
        assert api.login(outsider).status_code == 303
        save = api.post(
            "/console/api/studio/faqs/ben-income-assistance-en/versions",
            {"question": "Hacked?", "answer": "Hacked.", "base_version": 1},
        )
        assert save.status_code == 403 and "may not edit benefits" in save.json()["error"]
        listed = api.get("/console/api/studio/faqs", params={"agency": "benefits"})
        assert listed.status_code == 403
        assert (
            api.post("/console/api/studio/faqs/ben-income-assistance-en/archive").status_code == 403
        )
    finally:
        api.close()


# --------------------------------------------------------------------------- 4: markup is text
MARKUP_ANSWER = (
    "<script>alert(1)</script> <img src=x onerror=alert(2)> "
    "Read [x](javascript:alert(3)) before you go."
)
MARKUP_QUESTION = "Northbridge lighthouse keeper <b>markup</b> test <img src=x onerror=alert(4)>"


def test_markup_in_an_answer_is_shown_as_text(
    stack: RunningStack,
    new_page: Callable[..., Page],
    account: Callable[..., str],
    cleanup: list[str],
) -> None:
    editor = account(edits=("benefits",))
    page = new_page()
    log_in(page, stack.base_url, editor)
    open_studio(page, stack.base_url)
    page.locator(tid("new-faq")).click()
    page.locator(tid("faq-question")).fill(MARKUP_QUESTION)
    page.locator(tid("faq-answer")).fill(MARKUP_ANSWER)
    expect(page.locator(tid("answer-preview"))).to_have_text(MARKUP_ANSWER)
    page.locator(tid("create")).click()
    expect(status(page)).to_contain_text("created")
    faq_id = opened_id(page)
    cleanup.append(faq_id)
    open_faq(page, faq_id)

    preview = page.locator(tid("answer-preview"))
    expect(preview).to_have_text(MARKUP_ANSWER)
    assert "<script>" in preview.inner_text()
    expect(page.locator(tid("faq-answer"))).to_have_value(MARKUP_ANSWER)
    item = page.locator(f'{tid("faq-item")}[data-faq-id="{faq_id}"]')
    expect(item).to_contain_text("<b>markup</b>")
    # Save a change so that the diff shows the markup too.
    page.locator(tid("faq-answer")).fill(MARKUP_ANSWER + " <script>alert(5)</script>")
    page.locator(tid("save")).click()
    expect(status(page)).to_contain_text("Saved as version 2")
    page.locator(f'{tid("version")}[data-version="2"] {tid("diff-previous")}').click()
    expect(page.locator(".diff-add")).to_contain_text("<script>alert(5)</script>")

    page.wait_for_timeout(500)  # an injected onerror would have fired by now
    injected = page.evaluate(
        """() => ({
            scripts: document.querySelectorAll('main script').length,
            images: document.querySelectorAll('main img').length,
            bold: document.querySelectorAll('main b').length,
            links: [...document.querySelectorAll('main a')].map((a) => a.getAttribute('href')),
        })"""
    )
    assert injected == {"scripts": 0, "images": 0, "bold": 0, "links": []}, injected
    assert page.js_dialogs == [] and page.js_errors == []  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- 5: accessibility
def assert_accessible(page: Page, state: str) -> None:
    violations = axe_violations(page)
    assert violations == [], f"{state}: {violations}"
    width = page.viewport_size["width"] if page.viewport_size else 0
    assert sideways_overflow(page) == 0, f"{state}: scrolls sideways at {width} px"


def studio_states(page: Page, base_url: str) -> Iterator[str]:
    """The page's states in turn: the list, an FAQ with its translation, a diff and a preview
    open, and the new-FAQ form; yields each one's name."""
    open_studio(page, base_url, "?agency=benefits")
    expect(page.locator(tid("faq-item")).first).to_be_visible()
    yield "list"
    page.locator(f'{tid("faq-item")}[data-faq-id="ben-income-assistance-en"]').click()
    open_faq(page, "ben-income-assistance-en")
    expect(page.locator(tid("translation-question"))).to_contain_text("aide au revenu")
    yield "editor with its translation"
    page.locator(tid("preview-tests")).fill("am I eligible for welfare")
    page.locator(tid("preview-run")).click()
    expect(page.locator(tid("preview-test"))).to_have_count(1)
    page.locator(tid("archive")).click()
    expect(page.locator(tid("archive-confirm"))).to_be_focused()
    yield "editor with a preview and a confirmation"
    page.locator(tid("archive-cancel")).click()
    page.locator(tid("new-faq")).click()
    expect(page.locator(tid("pane-heading"))).to_have_text("New FAQ")
    yield "new FAQ"


@pytest.mark.parametrize("width", [1280, 320])
def test_the_studio_passes_axe_core(
    stack: RunningStack, new_page: Callable[..., Page], account: Callable[..., str], width: int
) -> None:
    page = new_page(width)
    log_in(page, stack.base_url, account("admin"))
    for state in studio_states(page, stack.base_url):
        assert_accessible(page, state)
    assert page.js_errors == []  # type: ignore[attr-defined]


def test_the_studio_works_from_the_keyboard(
    stack: RunningStack, new_page: Callable[..., Page], account: Callable[..., str]
) -> None:
    page = new_page(1280)
    log_in(page, stack.base_url, account("admin"))
    for state in studio_states(page, stack.base_url):
        if state == "editor with a preview and a confirmation":
            continue  # its confirm step holds the focus
        page.evaluate("document.activeElement && document.activeElement.blur()")
        controls = tabbable(page)
        wanted = set(controls)
        walked = tab_walk(page, 2 * len(controls) + 10)  # a date field takes several stops
        missed = wanted - {f["key"] for f in walked}
        assert not missed, f"{state}: Tab never reaches {missed}"
        hidden = [f["key"] for f in walked if not f["visible"]]
        assert not hidden, f"{state}: no visible focus on {hidden}"

    # Without a mouse: search, open an FAQ with Enter, and land on its editor.
    open_studio(page, stack.base_url, "?agency=benefits")
    page.locator(tid("studio-search")).focus()
    page.keyboard.type("ben-ei-apply-fr")
    item = page.locator(tid("faq-item"))
    expect(item).to_have_count(1)
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(item).to_be_focused()
    page.keyboard.press("Enter")
    open_faq(page, "ben-ei-apply-fr")
    expect(page.locator(tid("pane-heading"))).to_be_focused()
    expect(page.locator(tid("translation"))).to_contain_text("Employment Insurance")
