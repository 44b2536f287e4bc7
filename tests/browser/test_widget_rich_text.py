"""The widget shows the answer format (connectors/rich_text.py) from the reply's "blocks": lists and
https links are real elements, and HTML or a javascript: link in a reply stays text. The app answers
with an echoing engine, so the reply is whatever the test types (redacted as citizen text is: no
phone numbers or addresses in it)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_widget import INPUT, REPLIES, open_widget
from tests.support.served import app_settings, served

pytestmark = [pytest.mark.browser]


@pytest.fixture(scope="module")
def echo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    var_dir: Path = tmp_path_factory.mktemp("widget-rich-text")
    with served(app_settings(var_dir)) as url:
        yield url


def test_a_reply_s_script_and_javascript_link_are_text_and_its_https_link_is_a_link(
    page: Page, echo_url: str
) -> None:
    typed = (
        "<script>window.__pwned = 1</script><img src=x onerror=alert(1)> "
        "[click me](javascript:alert(1)) and [the form](https://forms.example/renew)\n"
        "- [the guide](https://forms.example/guide)\n- [data](data:text/html,<b>x</b>)"
    )
    open_widget(page, echo_url + "/")
    page.locator(INPUT).fill(typed)
    page.locator(INPUT).press("Enter")
    reply = page.locator(REPLIES).filter(has_text="echo:")
    expect(reply).to_have_count(1, timeout=30_000)
    bubble = reply.locator(".gbw-bubble")
    expect(bubble.locator("p.gbw-p")).to_contain_text(
        "echo: <script>window.__pwned = 1</script><img src=x onerror=alert(1)> click me and "
    )
    links = bubble.locator("a")
    expect(links).to_have_count(2)
    expect(links.nth(0)).to_have_attribute("href", "https://forms.example/renew")
    expect(links.nth(0)).to_have_attribute("rel", "noopener noreferrer")
    expect(links.nth(0)).to_contain_text("the form")
    expect(links.nth(1)).to_have_attribute("href", "https://forms.example/guide")
    expect(bubble.locator("ul.gbw-list > li")).to_have_count(2)
    expect(bubble.locator("ul.gbw-list > li").nth(1)).to_have_text("data")
    assert bubble.locator("script, img, b").count() == 0
    assert page.evaluate("window.__pwned") is None
    assert page.dialogs == []  # type: ignore[attr-defined]
    assert page.page_errors == []  # type: ignore[attr-defined]
    # The citizen's own message is shown as typed, markup and all.
    expect(page.locator(".gbw-msg--user .gbw-bubble")).to_contain_text("[click me](javascript:")
