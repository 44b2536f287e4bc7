"""The widget past the web-chat rate: the citizen sees the server's polite "please slow down" once,
and the message the server did not take stays pending and is sent again after the wait."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from bot.messages import say
from tests.browser.test_widget import INPUT, REPLIES, open_widget
from tests.support.served import app_settings, served

pytestmark = [pytest.mark.browser]


@pytest.fixture(scope="module")
def limited_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An app (echoing engine) that takes two web-chat messages per session a minute."""
    var_dir: Path = tmp_path_factory.mktemp("widget-limits")
    with served(app_settings(var_dir, rate_limit_chat_per_session="2/minute")) as url:
        yield url


def test_past_the_rate_the_widget_shows_one_slow_down_and_keeps_the_message(
    page: Page, limited_url: str
) -> None:
    open_widget(page, limited_url + "/")
    for n in range(3):
        page.locator(INPUT).fill(f"question {n}")
        page.locator(INPUT).press("Enter")
    slow_down = page.locator(REPLIES).filter(has_text=say("slow_down", "en"))
    expect(slow_down).to_have_count(1, timeout=30_000)
    expect(page.locator(REPLIES).filter(has_text="echo: question 1")).to_have_count(1)
    # Not taken by the server: still pending in the widget, not lost and not answered yet.
    third = page.locator(".gbw-msg--user.gbw-msg--pending").filter(has_text="question 2")
    expect(third).to_have_count(1)
    expect(page.locator(REPLIES).filter(has_text="echo: question 2")).to_have_count(0)
