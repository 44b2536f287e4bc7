"""The outreach page (/console/outreach) in headless Chromium against the real stack: one
supervisor composes a broadcast (markup in it stays text, in the preview and in the list), the
server refuses their own approval and the page says why, a second supervisor approves it and the
list shows its state; an agent is refused; the page passes axe-core at 1280 and 320 px and works
from the keyboard.

The stack is shared by the whole test session: each test writes to a topic of its own, which
nobody subscribes to, so an approved broadcast reaches nobody.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from bot.outreach.topics import Topics, validated
from bot.storage.audit import AuditLog
from bot.storage.db import Database
from tests.browser.test_console import log_in
from tests.conftest import RunningStack
from tests.support.a11y import axe_violations, sideways_overflow, tab_walk, tabbable
from tests.support.console import add_agent, tid

pytestmark = [pytest.mark.browser, pytest.mark.stack]

OUTREACH = "/console/outreach"
MARKUP = "Water notice <script>alert(1)</script> for Northbridge."
# No whole tag (HTML is refused in a broadcast), but what innerHTML would eat or decode.
KEPT = (
    'Northbridge water notice <script alert(1) & "&lt;b&gt;" stays text <img src=x onerror=alert(2)'
)
AVIS = "Avis : l'eau de Northbridge est potable."


# --------------------------------------------------------------------------- fixtures
@pytest.fixture
def account(stack: RunningStack) -> Callable[..., str]:
    """A new console account (unique username); returns the username."""
    if stack.settings is None:
        pytest.skip("needs the test stack's own database to add accounts")
    database_url = stack.settings.database_url

    def make(role: str = "supervisor") -> str:
        username = f"outreach-{uuid.uuid4().hex[:8]}"
        add_agent(database_url, username, role, f"Outreach {role}")
        return username

    return make


@pytest.fixture
def topic(stack: RunningStack) -> str:
    """A topic of this test's own, without subscribers."""
    assert stack.settings is not None
    slug = f"ui-{uuid.uuid4().hex[:8]}"
    db = Database(stack.settings.database_url)
    try:
        Topics(db, AuditLog(db)).add(validated(slug, f"Test {slug}", f"Essai {slug}", None), "test")
    finally:
        db.engine.dispose()
    return slug


# --------------------------------------------------------------------------- helpers
def open_outreach(page: Page, base_url: str) -> None:
    page.goto(base_url + OUTREACH)
    expect(page.locator('main#app[data-loaded="true"]')).to_be_attached()


def status(page: Page) -> Any:
    return page.locator(tid("status"))


def item(page: Page, broadcast_id: str) -> Any:
    return page.locator(f'{tid("broadcast")}[data-id="{broadcast_id}"]')


def compose(page: Page, topic: str, text_en: str, text_fr: str = "") -> None:
    page.locator(tid("topic")).select_option(topic)
    page.locator(tid("text-en")).fill(text_en)
    page.locator(tid("text-fr")).fill(text_fr)


def created_id(page: Page) -> str:
    expect(status(page)).to_contain_text("created")
    match = re.search(r"#(\d+)", status(page).inner_text())
    assert match, status(page).inner_text()
    return match[1]


def nothing_injected(page: Page) -> None:
    page.wait_for_timeout(500)  # an injected onerror would have fired by now
    injected = page.evaluate(
        """() => ({
            scripts: document.querySelectorAll('main script').length,
            images: document.querySelectorAll('main img').length,
            bold: document.querySelectorAll('main b').length,
        })"""
    )
    assert injected == {"scripts": 0, "images": 0, "bold": 0}, injected
    assert page.js_dialogs == [] and page.js_errors == []  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- 1: maker-checker
def test_one_supervisor_writes_a_second_approves_and_markup_stays_text(
    stack: RunningStack, new_page: Callable[..., Page], account: Callable[..., str], topic: str
) -> None:
    maker, checker = account(), account()
    page = new_page()
    log_in(page, stack.base_url, maker)
    expect(page.locator('[data-nav="outreach"]')).to_be_visible()  # in the navigation
    open_outreach(page, stack.base_url)

    # The preview shows markup as text on every channel, and why it may not be sent.
    compose(page, topic, MARKUP)
    expect(page.locator(tid("sms-en"))).to_have_text(MARKUP)
    expect(page.locator(tid("plain-en"))).to_have_text(MARKUP)
    expect(page.locator(tid("telegram-en"))).to_contain_text("&lt;script&gt;alert(1)")
    expect(page.locator(tid("problem-en"))).to_contain_text("<script> is shown as text")
    expect(page.locator(tid("segments-en"))).to_have_text("1 SMS segment")
    expect(page.locator(tid("cost-en"))).to_have_text("Estimated cost $0.00")  # no subscribers
    page.locator(tid("create")).click()
    expect(status(page)).to_have_attribute("data-kind", "error")
    expect(status(page)).to_contain_text("<script> is shown as text")

    # Text that innerHTML would change is kept as typed.
    compose(page, topic, KEPT, AVIS)
    expect(page.locator(tid("sms-en"))).to_have_text(KEPT)
    expect(page.locator(tid("segments-fr"))).to_have_text("1 SMS segment")
    page.locator(tid("create")).click()
    broadcast_id = created_id(page)
    mine = item(page, broadcast_id)
    expect(mine.locator(tid("broadcast-text-en"))).to_have_text(KEPT)
    expect(mine.locator(tid("broadcast-text-fr"))).to_have_text(AVIS)
    expect(mine.locator(tid("broadcast-state"))).to_have_text("Awaiting approval")
    expect(mine.locator(tid("approve"))).to_have_count(0)  # not offered for one's own
    expect(mine.locator(tid("needs-second"))).to_be_visible()
    nothing_injected(page)

    # Were it offered, the server would refuse it, and the page says why.
    page.evaluate("document.body.dataset.username = 'someone-else'")
    page.locator(tid("refresh")).click()
    mine.locator(tid("approve")).click()
    expect(status(page)).to_have_attribute("data-kind", "error")
    expect(status(page)).to_contain_text("needs a second supervisor")
    expect(mine.locator(tid("broadcast-state"))).to_have_text("Awaiting approval")
    page.evaluate(f"document.body.dataset.username = '{maker}'")

    second = new_page()
    log_in(second, stack.base_url, checker)
    open_outreach(second, stack.base_url)
    theirs = item(second, broadcast_id)
    expect(theirs.locator(tid("broadcast-state"))).to_have_text("Awaiting approval")
    expect(theirs.locator(tid("broadcast-text-en"))).to_have_text(KEPT)
    theirs.locator(tid("approve")).click()
    expect(status(second)).to_contain_text(f"Broadcast #{broadcast_id} approved")
    expect(theirs.locator(tid("broadcast-state"))).to_have_text(re.compile("^(Approved|Sent)$"))
    expect(theirs).to_contain_text(f"approved by {checker}")
    expect(theirs.locator(tid("broadcast-h"))).to_be_focused()  # the button went away

    page.locator(tid("refresh")).click()
    expect(mine.locator(tid("broadcast-state"))).to_have_text(re.compile("^(Approved|Sent)$"))
    expect(mine.locator('[data-count="active_subscribers"] dd')).to_have_text("0")
    nothing_injected(second)


def test_an_agent_is_refused(
    stack: RunningStack, new_page: Callable[..., Page], account: Callable[..., str]
) -> None:
    page = new_page()
    log_in(page, stack.base_url, account("agent"))
    expect(page.locator('[data-nav="outreach"]')).to_be_hidden()
    response = page.goto(stack.base_url + OUTREACH)
    assert response is not None and response.status == 403
    api = page.request.get(stack.base_url + "/console/api/outreach/broadcasts")
    assert api.status == 403


# --------------------------------------------------------------------------- accessibility
def outreach_states(page: Page, base_url: str, topic: str) -> Iterator[str]:
    """The page's states in turn: empty form and the list, a preview with a problem, a
    broadcast awaiting approval with its cancel confirmation open; yields each one's name."""
    open_outreach(page, base_url)
    yield "empty form"
    compose(page, topic, "Notice <b>bold</b> " + "word " * 40, AVIS)
    expect(page.locator(tid("problem-en"))).to_be_visible()
    expect(page.locator(tid("segments-fr"))).to_be_visible()
    yield "preview with a problem"
    compose(page, topic, "Northbridge pool closed Monday for repairs.", AVIS)
    expect(page.locator(tid("problem-en"))).to_have_count(0)
    page.locator(tid("create")).click()
    broadcast_id = created_id(page)
    item(page, broadcast_id).locator(tid("cancel")).click()
    expect(page.locator(tid("cancel-confirm"))).to_be_focused()
    yield "cancel confirmation"
    page.locator(tid("cancel-confirm")).click()
    expect(item(page, broadcast_id).locator(tid("broadcast-state"))).to_have_text("Cancelled")


def assert_accessible(page: Page, state: str) -> None:
    violations = axe_violations(page)
    assert violations == [], f"{state}: {violations}"
    width = page.viewport_size["width"] if page.viewport_size else 0
    assert sideways_overflow(page) == 0, f"{state}: scrolls sideways at {width} px"


@pytest.mark.parametrize("width", [1280, 320])
def test_the_outreach_page_passes_axe_core(
    stack: RunningStack,
    new_page: Callable[..., Page],
    account: Callable[..., str],
    topic: str,
    width: int,
) -> None:
    page = new_page(width)
    log_in(page, stack.base_url, account())
    for state in outreach_states(page, stack.base_url, topic):
        assert_accessible(page, state)
    assert page.js_errors == []  # type: ignore[attr-defined]


def test_the_outreach_page_works_from_the_keyboard(
    stack: RunningStack, new_page: Callable[..., Page], account: Callable[..., str], topic: str
) -> None:
    page = new_page(1280)
    log_in(page, stack.base_url, account())
    for state in outreach_states(page, stack.base_url, topic):
        if state == "cancel confirmation":
            continue  # its confirm step holds the focus
        page.evaluate("document.activeElement && document.activeElement.blur()")
        controls = tabbable(page)
        walked = tab_walk(page, 2 * len(controls) + 10)  # a date field takes several stops
        missed = set(controls) - {f["key"] for f in walked}
        assert not missed, f"{state}: Tab never reaches {missed}"
        hidden = [f["key"] for f in walked if not f["visible"]]
        assert not hidden, f"{state}: no visible focus on {hidden}"

    # Without a mouse: write, create with Enter, cancel and confirm with Enter.
    open_outreach(page, stack.base_url)
    page.locator(tid("topic")).select_option(topic)
    page.locator(tid("topic")).focus()
    page.keyboard.press("Tab")
    expect(page.locator(tid("text-en"))).to_be_focused()
    page.keyboard.type("Northbridge library closed Friday.")
    expect(page.locator(tid("sms-en"))).to_have_text("Northbridge library closed Friday.")
    page.locator(tid("urgent")).focus()
    page.keyboard.press("Space")
    expect(page.locator(tid("urgent"))).to_be_checked()
    page.locator(tid("create")).focus()
    page.keyboard.press("Enter")
    broadcast_id = created_id(page)
    row = item(page, broadcast_id)
    expect(row).to_contain_text("Urgent")
    row.locator(tid("cancel")).focus()
    page.keyboard.press("Enter")
    expect(page.locator(tid("cancel-confirm"))).to_be_focused()
    page.keyboard.press("Enter")
    expect(row.locator(tid("broadcast-state"))).to_have_text("Cancelled")
    expect(row.locator(tid("broadcast-h"))).to_be_focused()
    assert page.js_errors == []  # type: ignore[attr-defined]
