"""Browser fixtures for the web-chat widget tests (headless Debian Chromium via Playwright).

`live_app_url` normally comes from the root tests/conftest.py (the real running stack).
Only when GOVBOT_TEST_URL is set is it overridden here, e.g. to point the browser tests
at a stack started by hand:  GOVBOT_TEST_URL=http://127.0.0.1:8765 pytest tests/browser
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Dialog, Error, Page

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="Playwright for Python is not installed"
)

CHROMIUM = os.environ.get("GOVBOT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


if os.environ.get("GOVBOT_TEST_URL"):

    @pytest.fixture(scope="session")
    def live_app_url() -> str:
        return os.environ["GOVBOT_TEST_URL"].rstrip("/")


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium per test module."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not found at {CHROMIUM} (set GOVBOT_CHROMIUM)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def context(browser):
    """A fresh browser profile (empty localStorage) per test."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-CA")
    ctx.set_default_timeout(15_000)
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def page(context):
    """A page that records JavaScript dialogs (auto-dismissed) and uncaught page errors."""
    pg = context.new_page()
    pg.dialogs = []  # type: ignore[attr-defined]
    pg.page_errors = []  # type: ignore[attr-defined]

    def on_dialog(dialog):
        pg.dialogs.append(dialog.message)
        dialog.dismiss()

    pg.on("dialog", on_dialog)
    pg.on("pageerror", lambda exc: pg.page_errors.append(str(exc)))
    return pg


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def new_page(browser: Browser) -> Iterator[Callable[..., Page]]:
    """Console pages in separate browser profiles (one per account), recording dialogs and page
    errors. CSP is bypassed, so that axe-core can be added and so that markup in a text would run
    if the page ever inserted it as HTML."""
    contexts = []

    def make(width: int = 1280, timezone: str = "America/Toronto") -> Page:
        ctx = browser.new_context(
            viewport={"width": width, "height": 900 if width > 480 else 640},
            locale="en-CA",
            timezone_id=timezone,
            bypass_csp=True,
        )
        ctx.set_default_timeout(15_000)
        contexts.append(ctx)
        pg = ctx.new_page()
        dialogs: list[str] = []
        errors: list[str] = []

        def on_dialog(dialog: Dialog) -> None:
            dialogs.append(dialog.message)
            dialog.dismiss()

        def on_error(error: Error) -> None:
            errors.append(str(error))

        pg.on("dialog", on_dialog)
        pg.on("pageerror", on_error)
        pg.js_dialogs = dialogs  # type: ignore[attr-defined]
        pg.js_errors = errors  # type: ignore[attr-defined]
        return pg

    yield make
    for ctx in contexts:
        ctx.close()
