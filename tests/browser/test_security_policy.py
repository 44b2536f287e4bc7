"""The demo page under its Content-Security-Policy in headless Chromium: the widget still loads,
styles itself, talks over its socket and answers, and the browser reports no violation; an inline
script injected into the page would be blocked."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_widget import RENEW_QUESTION, open_widget, wait_renew_answer

pytestmark = [pytest.mark.browser, pytest.mark.stack]

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation',
  e => window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));
"""


def test_the_widget_works_under_the_demo_pages_policy(page: Page, live_app_url: str) -> None:
    page.add_init_script(RECORD_VIOLATIONS)
    response = page.goto(live_app_url + "/")
    assert response is not None
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    open_widget(page)
    page.locator(".gbw-input").fill(RENEW_QUESTION)
    page.locator(".gbw-input").press("Enter")
    wait_renew_answer(page)
    # the page's own inline style applies (a blocked one would leave the banner unstyled)
    banner = page.locator(".demo-banner")
    expect(banner).to_have_css("font-weight", "700")
    assert page.evaluate("window.__cspViolations") == []
    page.evaluate(
        """() => { const s = document.createElement('script');
                   s.textContent = 'window.__injected = true'; document.body.append(s); }"""
    )
    assert page.evaluate("window.__injected === undefined")
    assert any("script-src" in v for v in page.evaluate("window.__cspViolations"))
    assert page.page_errors == []  # type: ignore[attr-defined]
