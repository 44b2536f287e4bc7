"""Security headers on every HTTP answer, set in one place (a pure ASGI middleware, outermost).

A header that a route already set wins (the console's pages and API set their own strict policy
in bot/web/auth.py), so this only fills in what is missing: a Content-Security-Policy chosen by
path, `X-Content-Type-Options: nosniff`, `Referrer-Policy`, and HSTS when the public URL is https.
"""

from __future__ import annotations

import base64
import hashlib
import re
from functools import lru_cache
from pathlib import Path

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.web.auth import SECURITY_HEADERS

DEMO_PAGE = Path(__file__).resolve().parent / "pages" / "demo.html"
HSTS = "max-age=31536000; includeSubDomains"
# JSON, webhooks, health checks, the widget's script: nothing in them may load or frame anything.
NOTHING = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"


@lru_cache(maxsize=1)
def demo_policy() -> str:
    """The demo page's CSP: its own script and style only; its inline <style> blocks are allowed by
    their hashes (read from the page, so an edit of the page keeps them right), no inline script;
    it may not be framed."""
    page = DEMO_PAGE.read_text(encoding="utf-8")
    hashes = [
        "'sha256-" + base64.b64encode(hashlib.sha256(block.encode()).digest()).decode() + "'"
        for block in re.findall(r"<style[^>]*>(.*?)</style>", page, flags=re.DOTALL)
    ]
    styles = " ".join(["'self'", *hashes])
    return (
        "default-src 'self'; script-src 'self'; "
        f"style-src {styles}; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; "
        "form-action 'self'"
    )


def policy_for(path: str) -> str:
    """The Content-Security-Policy for a path (when its route set none)."""
    if path == "/console" or path.startswith("/console/"):
        return SECURITY_HEADERS["Content-Security-Policy"]
    if path == "/":
        return demo_policy()
    return NOTHING


class SecurityHeaders:
    """Adds the security headers that an HTTP answer lacks; `https` turns on HSTS."""

    def __init__(self, app: ASGIApp, https: bool) -> None:
        self.app = app
        self.https = https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; fill in the headers of its answer."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", policy_for(path))
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "no-referrer")
                if path == "/webchat/widget.js":
                    # Agency sites load the script from our origin; its CSP above governs only
                    # the script's own response, never the page that embeds it.
                    headers.setdefault("Cross-Origin-Resource-Policy", "cross-origin")
                if self.https:
                    headers.setdefault("Strict-Transport-Security", HSTS)
            await send(message)

        await self.app(scope, receive, send_with_headers)
