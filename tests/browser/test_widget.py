"""End-to-end tests of the embeddable web-chat widget in headless Chromium.

They drive the demo page served by the real stack (`live_app_url`, see tests/conftest.py)
and talk to the real backend over WebSocket / HTTP.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from connectors.webchat import TOKEN_PATTERN

pytestmark = [pytest.mark.browser, pytest.mark.stack]

REPLY_TIMEOUT_MS = 30_000
RENEW_QUESTION = "How do I renew my driver's licence?"
XSS = "<img src=x onerror=alert(1)>"

ROOT = ".gbw-root"
LAUNCHER = ".gbw-launcher"
PANEL = ".gbw-panel"
INPUT = ".gbw-input"
# Answers from the assistant or a human agent (the local greeting is excluded).
REPLIES = ".gbw-msg--bot:not(.gbw-msg--intro), .gbw-msg--agent"
USER_MSGS = ".gbw-msg--user"


# --------------------------------------------------------------------------- helpers
def open_widget(page: Page, url: str | None = None) -> None:
    if url is not None:
        page.goto(url)
    page.locator(LAUNCHER).click()
    expect(page.locator(PANEL)).to_be_visible()
    expect(page.locator(INPUT)).to_be_focused()


def bubble_texts(page: Page, selector: str) -> list[str]:
    """Visible message texts (screen-reader-only prefixes such as 'You: ' removed)."""
    return page.eval_on_selector_all(
        f"{ROOT} {selector}",
        """nodes => nodes.map(n => {
            const b = n.querySelector('.gbw-bubble').cloneNode(true);
            b.querySelectorAll('.gbw-sr-only').forEach(s => s.remove());
            return b.textContent;
        })""",
    )


def send_and_wait_reply(page: Page, text: str) -> int:
    """Type `text`, press Enter, wait until at least one new reply arrives; returns the
    old count."""
    replies = page.locator(REPLIES)
    before = replies.count()
    page.locator(INPUT).fill(text)
    page.locator(INPUT).press("Enter")
    expect(page.locator(USER_MSGS).filter(has_text=text).last).to_be_visible()
    expect(replies).not_to_have_count(before, timeout=REPLY_TIMEOUT_MS)
    return before


def watch_typing_indicator(page: Page) -> None:
    """Record (in the page) every accessible label the typing indicator shows."""
    page.evaluate(
        """() => {
            const el = document.querySelector('.gbw-typing');
            window.__gbwTyping = [];
            new MutationObserver(() => {
                if (el.classList.contains('gbw-typing--on')) {
                    window.__gbwTyping.push(el.getAttribute('aria-label'));
                }
            }).observe(el, {attributes: true, attributeFilter: ['class', 'aria-label']});
        }"""
    )


def wait_renew_answer(page: Page) -> None:
    answer = page.locator(REPLIES).filter(has_text=re.compile("renew", re.IGNORECASE))
    expect(answer.first).to_be_visible(timeout=REPLY_TIMEOUT_MS)


# --------------------------------------------------------------------------- tests
def test_answers_a_faq_question(page: Page, live_app_url: str, artifacts_dir):
    open_widget(page, live_app_url + "/")
    expect(page.locator(f"{ROOT} [role=dialog]")).to_have_attribute(
        "aria-labelledby", re.compile(r"gbw-title")
    )
    log = page.locator(f"{ROOT} [role=log]")
    expect(log).to_have_count(1)
    expect(log).to_have_attribute("aria-live", "polite")

    watch_typing_indicator(page)
    page.locator(INPUT).fill(RENEW_QUESTION)
    page.locator(INPUT).press("Enter")
    expect(page.locator(INPUT)).to_have_value("")
    wait_renew_answer(page)

    # The typing indicator was shown (with its accessible label) and is gone now.
    assert "Assistant is typing" in page.evaluate("window.__gbwTyping")
    expect(page.locator(".gbw-typing")).not_to_have_class(re.compile("gbw-typing--on"))
    # The question was acknowledged by the server.
    expect(page.locator(".gbw-msg--pending")).to_have_count(0)
    assert bubble_texts(page, USER_MSGS) == [RENEW_QUESTION]

    # Any link in an answer is a safe, external http(s) link.
    for a in page.locator(f"{ROOT} .gbw-msg a").all():
        assert re.match(r"^https?://", a.get_attribute("href") or ""), a.get_attribute("href")
        assert a.get_attribute("target") == "_blank"
        assert set((a.get_attribute("rel") or "").split()) >= {"noopener", "noreferrer"}

    page.screenshot(path=str(artifacts_dir / "widget-answer.png"))
    assert page.page_errors == []


def test_citizen_text_is_rendered_literally(page: Page, live_app_url: str):
    open_widget(page, live_app_url + "/")
    send_and_wait_reply(page, XSS)

    assert bubble_texts(page, USER_MSGS) == [XSS]
    assert page.locator(f"{ROOT} img").count() == 0
    expect(page.locator(".gbw-msg--pending")).to_have_count(0)

    # Same after the transcript comes back from the server.
    page.reload()
    open_widget(page)
    expect(page.locator(USER_MSGS)).to_have_count(1)
    assert bubble_texts(page, USER_MSGS) == [XSS]
    assert page.locator(f"{ROOT} img").count() == 0
    page.wait_for_timeout(500)
    assert page.dialogs == [], f"a JavaScript dialog fired: {page.dialogs}"
    assert page.page_errors == []


def test_transcript_survives_reload(page: Page, live_app_url: str):
    open_widget(page, live_app_url + "/")
    page.locator(INPUT).fill(RENEW_QUESTION)
    page.locator(INPUT).press("Enter")
    wait_renew_answer(page)
    expect(page.locator(".gbw-msg--pending")).to_have_count(0)
    page.wait_for_timeout(1000)  # let any trailing reply messages arrive
    session = page.evaluate("localStorage.getItem('gbw-session')")
    assert re.fullmatch(TOKEN_PATTERN, session), session  # issued by the server
    users, replies = bubble_texts(page, USER_MSGS), bubble_texts(page, REPLIES)

    page.reload()
    expect(page.locator(PANEL)).to_be_hidden()
    open_widget(page)
    wait_renew_answer(page)
    expect(page.locator(REPLIES)).to_have_count(len(replies))
    page.wait_for_timeout(1000)  # a resumed replay must not duplicate anything
    assert page.evaluate("localStorage.getItem('gbw-session')") == session
    assert bubble_texts(page, USER_MSGS) == users == [RENEW_QUESTION]
    assert bubble_texts(page, REPLIES) == replies


def test_keyboard_only(page: Page, live_app_url: str):
    page.goto(live_app_url + "/")
    launcher = page.locator(LAUNCHER)
    for _ in range(60):
        page.keyboard.press("Tab")
        if launcher.evaluate("el => el === document.activeElement"):
            break
    else:
        pytest.fail("the launcher cannot be reached with Tab")
    assert launcher.evaluate("el => el.tagName") == "BUTTON"
    expect(launcher).to_have_attribute("aria-expanded", "false")

    page.keyboard.press("Enter")
    panel = page.locator(PANEL)
    expect(panel).to_be_visible()
    expect(panel).to_have_attribute("role", "dialog")
    expect(launcher).to_have_attribute("aria-expanded", "true")
    expect(page.locator(INPUT)).to_be_focused()

    # Empty input does nothing.
    page.keyboard.press("Enter")
    expect(page.locator(USER_MSGS)).to_have_count(0)

    # Tab reaches the real <button> that sends; Shift+Tab comes back.
    page.keyboard.press("Tab")
    focused = page.evaluate("[document.activeElement.tagName, document.activeElement.className]")
    assert focused == ["BUTTON", "gbw-send"]
    page.keyboard.press("Shift+Tab")
    expect(page.locator(INPUT)).to_be_focused()

    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(launcher).to_be_focused()
    expect(launcher).to_have_attribute("aria-expanded", "false")

    # Reopen, move focus to the close button with the keyboard, close with it.
    page.keyboard.press("Enter")
    expect(page.locator(INPUT)).to_be_focused()
    close = page.locator(".gbw-close")
    for _ in range(10):
        page.keyboard.press("Shift+Tab")
        if close.evaluate("el => el === document.activeElement"):
            break
    else:
        pytest.fail("the close button cannot be reached with Shift+Tab")
    page.keyboard.press("Enter")
    expect(panel).to_be_hidden()
    expect(launcher).to_be_focused()


def test_quick_reply_buttons(page: Page, live_app_url: str):
    open_widget(page, live_app_url + "/")
    send_and_wait_reply(page, "licence")
    page.wait_for_timeout(1500)  # the suggestions may come in a second message
    buttons = page.locator(f"{ROOT} .gbw-qr:not([disabled])")
    if buttons.count() == 0:
        pytest.skip("the backend answered 'licence' without quick-reply buttons; nothing to click")

    first = buttons.first
    title = first.inner_text().strip()
    group = first.locator("xpath=..")
    replies_before = page.locator(REPLIES).count()
    first.click()

    expect(page.locator(USER_MSGS).last).to_contain_text(title)
    for b in group.locator(".gbw-qr").all():
        expect(b).to_be_disabled()
    expect(page.locator(REPLIES)).not_to_have_count(replies_before, timeout=REPLY_TIMEOUT_MS)
    expect(page.locator(INPUT)).to_be_focused()
    assert page.page_errors == []


def test_only_one_global_and_one_root(page: Page, live_app_url: str):
    page.goto(live_app_url + "/")
    expect(page.locator(LAUNCHER)).to_be_visible()
    added = page.evaluate(
        """() => {
            const f = document.createElement('iframe');
            document.body.appendChild(f);
            const base = new Set(Object.getOwnPropertyNames(f.contentWindow));
            const extra = Object.getOwnPropertyNames(window)
                .filter(k => !base.has(k) && !/^\\d+$/.test(k));
            f.remove();
            return extra;
        }"""
    )
    assert added == ["GovBotWidget"]
    assert (
        page.evaluate("typeof GovBotWidget.open + typeof GovBotWidget.close") == "functionfunction"
    )
    assert page.locator(".gbw-root").count() == 1
    # Every element the widget created is inside the root, and its classes are prefixed.
    bad = page.evaluate(
        """() => [...document.querySelectorAll('.gbw-root, .gbw-root *')]
              .flatMap(e => [...e.classList]).filter(c => !c.startsWith('gbw-'))"""
    )
    assert bad == []
    page.evaluate("GovBotWidget.open()")
    expect(page.locator(PANEL)).to_be_visible()
    expect(page.locator(INPUT)).to_be_focused()
    page.evaluate("GovBotWidget.close()")
    expect(page.locator(PANEL)).to_be_hidden()


def test_input_limit_and_counter(page: Page, live_app_url: str):
    open_widget(page, live_app_url + "/")
    box = page.locator(INPUT)
    expect(box).to_have_attribute("maxlength", "2000")
    counter = page.locator(".gbw-counter")
    box.fill("a" * 100)
    expect(counter).to_be_hidden()
    box.fill("a" * 1950)
    expect(counter).to_be_visible()
    expect(counter).to_contain_text("1950")
    box.fill("   ")
    box.press("Enter")
    expect(page.locator(USER_MSGS)).to_have_count(0)


def test_french_chrome(page: Page, live_app_url: str):
    """data-lang="fr" switches every piece of chrome to French."""
    # Serve the real demo page, but give its widget tag data-lang="fr" (and a French title)
    # before the deferred script runs.
    page.add_init_script(
        """new MutationObserver((records, obs) => {
            for (const r of records) for (const n of r.addedNodes) {
                if (n.tagName === 'SCRIPT' && /widget\\.js/.test(n.src || '')) {
                    n.setAttribute('data-lang', 'fr');
                    n.setAttribute('data-title', 'Services Northbridge');
                    obs.disconnect();
                }
            }
        }).observe(document, {childList: true, subtree: true});"""
    )
    page.goto(live_app_url + "/")
    expect(page.locator(ROOT)).to_have_attribute("lang", "fr")
    expect(page.locator(LAUNCHER)).to_have_accessible_name("Poser une question")
    open_widget(page)
    expect(page.locator(INPUT)).to_have_attribute("placeholder", "Écrivez votre question…")
    expect(page.locator(".gbw-send")).to_have_text("Envoyer")
    expect(page.locator(".gbw-close")).to_have_attribute("aria-label", "Fermer le clavardage")
    expect(page.locator(".gbw-title")).to_have_text("Services Northbridge")
    watch_typing_indicator(page)
    send_and_wait_reply(page, "Comment renouveler mon permis de conduire?")
    assert "L'assistant écrit…" in page.evaluate("window.__gbwTyping")


def test_messages_typed_while_disconnected_are_delivered(page: Page, live_app_url: str):
    """Drop the WebSocket, refuse reconnection for a while, type meanwhile: the message is
    queued, delivered exactly once when the connection is back, and answered."""
    blocked = {"on": False}
    live = []

    def handler(ws):
        if blocked["on"]:
            ws.close()
            return
        live.append((ws, ws.connect_to_server()))

    page.route_web_socket(re.compile(r".*/webchat/ws(\?.*)?$"), handler)
    open_widget(page, live_app_url + "/")
    expect(page.locator(ROOT)).to_have_attribute("data-state", "online")

    blocked["on"] = True
    for ws, server in live:
        server.close()
        ws.close()
    expect(page.locator(ROOT)).not_to_have_attribute("data-state", "online")

    page.locator(INPUT).fill(RENEW_QUESTION)
    page.locator(INPUT).press("Enter")
    expect(page.locator(USER_MSGS)).to_have_count(1)
    page.wait_for_timeout(1200)
    blocked["on"] = False

    wait_renew_answer(page)
    expect(page.locator(".gbw-msg--pending")).to_have_count(0)
    page.wait_for_timeout(1500)
    assert bubble_texts(page, USER_MSGS) == [RENEW_QUESTION]  # delivered exactly once


def test_http_fallback_without_websocket(page: Page, live_app_url: str):
    """With no usable WebSocket the widget talks HTTP (POST /webchat/messages + history)."""
    page.add_init_script("window.WebSocket = undefined;")
    open_widget(page, live_app_url + "/")
    expect(page.locator(ROOT)).to_have_attribute("data-state", "http")
    page.locator(INPUT).fill(RENEW_QUESTION)
    page.locator(INPUT).press("Enter")
    wait_renew_answer(page)
    expect(page.locator(".gbw-msg--pending")).to_have_count(0)
    replies = bubble_texts(page, REPLIES)

    page.reload()
    open_widget(page)
    wait_renew_answer(page)
    page.wait_for_timeout(1000)
    assert bubble_texts(page, USER_MSGS) == [RENEW_QUESTION]
    assert bubble_texts(page, REPLIES) == replies
