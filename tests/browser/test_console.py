"""End-to-end tests of the agent console in headless Chromium, together with the citizen's side.

A citizen (the web-chat widget on the demo page, or a script on the web-chat API) asks for a person;
an agent logs in through the real login form, takes the conversation from the console, talks with
the citizen and resolves it; the bot then asks for a rating and answers questions again. Everything
runs against the real stack (`stack`, see tests/conftest.py). Other tests of the session may leave
citizens waiting in motor-vehicles, passports-id and city-services, so these tests only use the
revenue and benefits queues and always take from their own queue.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from websockets.sync.client import connect as ws_connect

from tests.conftest import RunningStack
from tests.support.console import PASSWORD, add_agent, tid
from tests.support.webchat import new_session, session_id

pytestmark = [pytest.mark.browser, pytest.mark.stack]

REPLY_TIMEOUT_MS = 30_000
REVENUE_QUESTION = "When are taxes due this year?"
RENEW_QUESTION = "How do I renew my driver's licence?"
XSS = "<img src=x onerror=alert(1)>"
# The SIN passes the checksum (046 454 286, the usual sample, starts with 0 and is no real SIN).
SIN, EMAIL = "130 692 544", "jo@example.com"
PII_MESSAGE = f"my SIN is {SIN} and email {EMAIL}"

# Widget (see test_widget.py).
ROOT = ".gbw-root"
LAUNCHER = ".gbw-launcher"
PANEL = ".gbw-panel"
INPUT = ".gbw-input"
REPLIES = ".gbw-msg--bot:not(.gbw-msg--intro), .gbw-msg--agent"
BOT_MSGS = ".gbw-msg--bot:not(.gbw-msg--intro)"
AGENT_MSGS = ".gbw-msg--agent"
USER_MSGS = ".gbw-msg--user"


# --------------------------------------------------------------------------- fixtures
@pytest.fixture
def new_page(browser: Browser) -> Iterator[Callable[[], Page]]:
    """Pages in separate browser profiles (citizen, agent), each recording dialogs and
    page errors."""
    contexts = []

    def make() -> Page:
        ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-CA")
        ctx.set_default_timeout(15_000)
        contexts.append(ctx)
        pg = ctx.new_page()
        pg.dialogs = []  # type: ignore[attr-defined]
        pg.page_errors = []  # type: ignore[attr-defined]

        def on_dialog(dialog: Any) -> None:
            pg.dialogs.append(dialog.message)  # type: ignore[attr-defined]
            dialog.dismiss()

        pg.on("dialog", on_dialog)
        pg.on("pageerror", lambda exc: pg.page_errors.append(str(exc)))  # type: ignore[attr-defined]
        return pg

    yield make
    for ctx in contexts:
        ctx.close()


@pytest.fixture
def agent_account(stack: RunningStack) -> Callable[[str], str]:
    """Create an agent account (unique username) with the real CLI; returns the username."""
    if stack.settings is None:
        pytest.skip("needs the test stack's own database to add accounts")

    def make(display_name: str) -> str:
        username = f"agent-{uuid.uuid4().hex[:8]}"
        add_agent(stack.settings.database_url, username, "agent", display_name)  # type: ignore[union-attr]
        return username

    return make


# --------------------------------------------------------------------------- citizen helpers
def open_widget(page: Page, url: str) -> None:
    page.goto(url)
    page.locator(LAUNCHER).click()
    expect(page.locator(PANEL)).to_be_visible()
    expect(page.locator(INPUT)).to_be_focused()


def citizen_says(page: Page, text: str) -> None:
    """Type and send `text`; wait until the server has acknowledged it."""
    page.locator(INPUT).fill(text)
    page.locator(INPUT).press("Enter")
    expect(page.locator(USER_MSGS).filter(has_text=text).last).to_be_visible()
    expect(page.locator(".gbw-msg--pending")).to_have_count(0, timeout=REPLY_TIMEOUT_MS)


def expect_reply(page: Page, text: str | re.Pattern[str], selector: str = REPLIES) -> None:
    expect(page.locator(selector).filter(has_text=text).last).to_be_visible(
        timeout=REPLY_TIMEOUT_MS
    )


def webchat(stack: RunningStack, session: str, text: str) -> list[dict[str, Any]]:
    response = httpx.post(
        f"{stack.base_url}/webchat/messages", json={"session": session, "text": text}, timeout=60
    )
    response.raise_for_status()
    return response.json()["messages"]  # type: ignore[no-any-return]


def webchat_send(stack: RunningStack, session: str, text: str) -> None:
    """Send one message over the widget's WebSocket and wait for its acknowledgement. (The HTTP
    fallback waits up to the engine timeout for replies, and a conversation held for a person
    gets none.)"""
    client_id = uuid.uuid4().hex
    url = stack.base_url.replace("http", "ws", 1) + f"/webchat/ws?session={session}&lang=en"
    with ws_connect(url, open_timeout=30) as ws:
        ws.send(json.dumps({"type": "message", "id": client_id, "text": text}))
        while True:
            frame = json.loads(ws.recv(timeout=30))
            if frame.get("type") == "ack" and frame.get("id") == client_id:
                return


# --------------------------------------------------------------------------- agent helpers
def log_in(page: Page, base_url: str, username: str) -> None:
    """Sign in through the real login form and wait for the live connection."""
    page.goto(base_url + "/console/login")
    page.locator("#username").fill(username)
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/console/?$"))
    expect(page.locator(tid("ws-state"))).to_have_text("connected", timeout=REPLY_TIMEOUT_MS)
    expect(page.locator("#who")).not_to_be_empty()


def waiting_handoff_id(page: Page, base_url: str, conversation_suffix: str, queue_id: str) -> str:
    """The id of the waiting hand-off of this conversation (API call with the agent's
    own session)."""

    def find() -> str | None:
        waiting = page.request.get(base_url + "/console/api/queue").json()["waiting"]
        mine = [
            w
            for w in waiting
            if w["conversation_id"].endswith(":" + conversation_suffix)
            and w["queue_id"] == queue_id
        ]
        return str(mine[0]["id"]) if mine else None

    for _ in range(60):
        found = find()
        if found:
            return found
        page.wait_for_timeout(500)
    pytest.fail(f"conversation {conversation_suffix} is not waiting in {queue_id}")


def take_from_queue(page: Page, queue_id: str, handoff_id: str) -> None:
    """Take next from `queue_id` until the offered conversation is `handoff_id`, then accept it.
    Anyone ahead of ours (not expected, the queue is ours) is accepted too and left with
    this agent."""
    page.locator("#claim-queue").select_option(queue_id)
    for _ in range(5):
        page.locator(tid("take-next")).click()
        expect(page.locator(tid("accept"))).to_be_visible(timeout=REPLY_TIMEOUT_MS)
        opened = page.locator(f'{tid("mine-item")} button[aria-current="true"]')
        expect(opened).to_have_count(1)
        opened_id = page.locator(tid("mine-item")).filter(
            has=page.locator('button[aria-current="true"]')
        )
        if opened_id.get_attribute("data-handoff-id") == handoff_id:
            break
        page.locator(tid("accept")).click()
        expect(page.locator(tid("reply-text"))).to_be_enabled()
    else:
        pytest.fail(f"hand-off {handoff_id} was never offered from {queue_id}")
    # Offered: replying and finishing are not possible before accepting.
    expect(page.locator(tid("reply-text"))).to_be_disabled()
    expect(page.locator(tid("resolve"))).to_be_disabled()
    page.locator(tid("accept")).click()
    expect(page.locator(tid("status"))).to_have_text("Conversation accepted.")
    expect(page.locator(tid("accept"))).to_have_count(0)
    expect(page.locator(tid("reply-text"))).to_be_enabled()
    expect(page.locator(f'{tid("mine-item")}[data-handoff-id="{handoff_id}"]')).to_contain_text(
        "Assigned"
    )


def transcript_lines(page: Page, source: str) -> Any:
    return page.locator(f'{tid("transcript")} {tid("transcript-line")}[data-from="{source}"]')


# --------------------------------------------------------------------------- tests
def test_citizen_in_widget_reaches_an_agent_in_the_console_and_back(
    stack: RunningStack,
    new_page: Callable[[], Page],
    agent_account: Callable[[str], str],
    artifacts_dir,
) -> None:
    citizen, agent = new_page(), new_page()

    # The citizen asks a Revenue question in the widget, then for a person.
    open_widget(citizen, stack.base_url + "/")
    citizen_says(citizen, REVENUE_QUESTION)
    expect_reply(citizen, "April 30")
    citizen_says(citizen, "I want to talk to a person")
    expect_reply(
        citizen,
        re.compile(
            r"connecting you with a person at Revenue Northbridge\. "
            r"You are number \d+ in line"
        ),
    )
    token = citizen.evaluate("localStorage.getItem('gbw-session')")
    assert token
    session = session_id(token)  # the conversation is "webchat:<id>"

    # The agent signs in through the form and sees the citizen waiting in Revenue Northbridge.
    username = agent_account("Riya")
    log_in(agent, stack.base_url, username)
    expect(agent.locator("#who")).to_have_text(f"Riya ({username})")
    handoff_id = waiting_handoff_id(agent, stack.base_url, session, "revenue")
    item = agent.locator(
        f'[data-queue-id="revenue"] {tid("waiting-item")}[data-handoff-id="{handoff_id}"]'
    )
    expect(item).to_be_visible(timeout=REPLY_TIMEOUT_MS)
    expect(item).to_contain_text(REVENUE_QUESTION)
    expect(item).to_contain_text("webchat")

    take_from_queue(agent, "revenue", handoff_id)
    expect(item).to_have_count(0)  # no longer waiting
    # The transcript shows what happened before: the question and the bot's answer.
    expect(transcript_lines(agent, "user").filter(has_text=REVENUE_QUESTION)).to_have_count(1)
    expect(transcript_lines(agent, "bot").filter(has_text="April 30").first).to_be_visible()
    expect(agent.locator("main")).to_contain_text("Revenue Northbridge")

    # The citizen is told who is with them.
    expect_reply(citizen, "Riya from Revenue Northbridge is now with you.")

    # Personal data reaches the agent live, redacted.
    citizen_says(citizen, PII_MESSAGE)
    pii_line = transcript_lines(agent, "user").filter(has_text="[email]")
    expect(pii_line).to_have_count(1, timeout=REPLY_TIMEOUT_MS)
    expect(pii_line).to_have_text(re.compile(r"my SIN is \[sin\] and email \[email\]"))
    assert EMAIL not in agent.content()
    assert SIN not in agent.content()

    # The agent starts from a suggested FAQ answer, replaces it with their own words and sends it.
    reply_box = agent.locator(tid("reply-text"))
    expect(reply_box).to_have_value("")
    expect(agent.locator(tid("suggestion-insert")).first).to_be_enabled()
    agent.locator(tid("suggestion-insert")).first.click()
    expect(reply_box).not_to_have_value("")
    assert len(reply_box.input_value().strip()) > 20
    kept = f"Returns are due April 30; I have noted your file ({uuid.uuid4().hex[:6]})."
    reply = f"Hello, this is Riya. {kept}"
    reply_box.fill(reply)
    bot_count = citizen.locator(BOT_MSGS).count()
    agent.locator(tid("reply-send")).click()
    expect(reply_box).to_have_value("")
    # The console shows the line as it is kept, names redacted (the citizen gets it whole).
    own_line = transcript_lines(agent, "agent").filter(has_text=kept)
    expect(own_line).to_have_count(1, timeout=REPLY_TIMEOUT_MS)
    expect(own_line).to_contain_text(f"Hello, this is [name]. {kept}", timeout=REPLY_TIMEOUT_MS)

    # The citizen sees it as an agent message, not a bot message.
    expect_reply(citizen, reply, AGENT_MSGS)
    assert citizen.locator(BOT_MSGS).filter(has_text=reply).count() == 0
    citizen.screenshot(path=str(artifacts_dir / "console-citizen.png"))

    # While the agent has the conversation, the bot stays silent.
    agent_count = citizen.locator(AGENT_MSGS).count()
    citizen_says(citizen, "thanks, one more thing")
    expect(transcript_lines(agent, "user").filter(has_text="thanks, one more thing")).to_have_count(
        1, timeout=REPLY_TIMEOUT_MS
    )
    citizen.wait_for_timeout(3000)
    assert citizen.locator(BOT_MSGS).count() == bot_count, (
        "the bot answered while an agent had the chat"
    )
    assert citizen.locator(AGENT_MSGS).count() == agent_count
    last_line = agent.locator(f"{tid('transcript')} {tid('transcript-line')}").last
    expect(last_line).to_have_attribute("data-from", "user")
    expect(last_line).to_contain_text("thanks, one more thing")
    agent.screenshot(path=str(artifacts_dir / "console-agent.png"), full_page=True)

    # Resolving needs an outcome; then the conversation leaves the agent's list.
    resolve = agent.locator(tid("resolve"))
    resolve.click()
    expect(agent.locator(tid("status"))).to_have_text("Choose an outcome before resolving.")
    expect(agent.locator(f'{tid("mine-item")}[data-handoff-id="{handoff_id}"]')).to_have_count(1)
    agent.locator(tid("disposition-select")).select_option("answered")
    resolve.click()
    expect(agent.locator(tid("status"))).to_have_text("Conversation resolved.")
    expect(agent.locator(f'{tid("mine-item")}[data-handoff-id="{handoff_id}"]')).to_have_count(0)
    expect(agent.locator(tid("transcript"))).to_have_count(0)

    # The bot is back: it asks for a rating, thanks for it, and answers questions again.
    rating = citizen.locator(BOT_MSGS).filter(has_text="How satisfied are you").last
    expect(rating).to_be_visible(timeout=REPLY_TIMEOUT_MS)
    expect(rating).to_contain_text("from 1 (not at all) to 5 (very)")
    expect(rating.locator("button.gbw-qr")).to_have_text(["1", "2", "3", "4", "5"])
    rating.get_by_role("button", name="5", exact=True).click()
    expect_reply(citizen, "Thank you for your rating", BOT_MSGS)
    before = citizen.locator(BOT_MSGS).count()
    citizen_says(citizen, RENEW_QUESTION)
    expect(citizen.locator(BOT_MSGS)).not_to_have_count(before, timeout=REPLY_TIMEOUT_MS)
    answer = citizen.locator(BOT_MSGS).filter(has_text=re.compile("renew", re.IGNORECASE)).last
    expect(answer).to_be_visible(timeout=REPLY_TIMEOUT_MS)
    expect(answer).to_contain_text("Source:")
    # ... and the agent, whose conversation is over, sees none of that.
    expect(agent.locator(f'{tid("mine-item")}[data-handoff-id="{handoff_id}"]')).to_have_count(0)

    citizen.screenshot(path=str(artifacts_dir / "console-citizen-after.png"))
    for pg in (citizen, agent):
        assert pg.dialogs == []  # type: ignore[attr-defined]
        assert pg.page_errors == []  # type: ignore[attr-defined]


def test_citizen_markup_is_shown_literally_in_the_console(
    stack: RunningStack, new_page: Callable[[], Page], agent_account: Callable[[str], str]
) -> None:
    token = new_session(stack.base_url)
    session = session_id(token)
    asked = webchat(stack, token, "I want to talk to a person")  # no topic yet: asked which service
    assert any(
        '/choose_queue{"queue_id": "benefits"}' in b["payload"]
        for m in asked
        for b in m.get("buttons") or []
    ), asked
    joined = webchat(stack, token, '/choose_queue{"queue_id":"benefits"}')
    assert any("Benefits Northbridge" in m["text"] and "in line" in m["text"] for m in joined), (
        joined
    )
    # While waiting the citizen writes markup (a message that would run script if parsed as HTML).
    webchat_send(stack, token, XSS)

    agent = new_page()
    log_in(agent, stack.base_url, agent_account("Sam"))
    handoff_id = waiting_handoff_id(agent, stack.base_url, session, "benefits")
    item = agent.locator(
        f'[data-queue-id="benefits"] {tid("waiting-item")}[data-handoff-id="{handoff_id}"]'
    )
    expect(item).to_be_visible(timeout=REPLY_TIMEOUT_MS)
    take_from_queue(agent, "benefits", handoff_id)

    # The markup sent before the agent came is shown as text; the same again, arriving live.
    transcript = agent.locator(tid("transcript"))
    expect(transcript_lines(agent, "user").filter(has_text=XSS)).to_have_count(1)
    webchat_send(stack, token, XSS + " again")
    expect(transcript_lines(agent, "user").filter(has_text=XSS + " again")).to_have_count(
        1, timeout=REPLY_TIMEOUT_MS
    )
    texts = transcript_lines(agent, "user").locator(".line-text").all_inner_texts()
    assert XSS in texts and XSS + " again" in texts, texts
    assert transcript.locator("img").count() == 0
    assert agent.locator("img").count() == 0
    agent.wait_for_timeout(500)
    assert agent.dialogs == [], f"a JavaScript dialog fired: {agent.dialogs}"  # type: ignore[attr-defined]
    assert agent.page_errors == []  # type: ignore[attr-defined]

    agent.locator(tid("disposition-select")).select_option("no-response")
    agent.locator(tid("resolve")).click()
    expect(agent.locator(tid("status"))).to_have_text("Conversation resolved.")
